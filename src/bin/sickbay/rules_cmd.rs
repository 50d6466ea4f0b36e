//! `rules list`, `rules explain` and `rules check`: the rule pack as the user sees it,
//! and the checks a rule author runs before shipping a folder of rules.

use crate::cli::{Cli, RulesCommand};
use crate::{print, rule_set, Out};
use anyhow::{bail, Context, Result};
use sickbay::render::{self, Format};
use sickbay::rules::{check_examples, RuleSet};
use std::process::ExitCode;

pub(crate) fn rules_command(cmd: &RulesCommand, cli: &Cli, out: &Out) -> Result<ExitCode> {
    match cmd {
        RulesCommand::List => {
            let rules = rule_set(cli)?;
            print(&render::rules::list(&rules, out.format, out.width))?;
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Explain { id } => {
            let rules = rule_set(cli)?;
            let Some(rule) = rules.get(id) else {
                bail!("unknown rule {id:?}; `sickbay rules list` shows every rule");
            };
            // Explanations are prose: JSON only when asked for.
            let format = if cli.global.output == Some(Format::Json) {
                Format::Json
            } else {
                Format::Markdown
            };
            print(&render::rules::explain(rule, format))?;
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Check { dir } => rules_check(dir.as_deref(), cli),
    }
}

/// One problem `rules check` found.
#[derive(serde::Serialize)]
struct Problem {
    file: String,
    rule: String,
    message: String,
}

/// What `rules check -o json` prints.
#[derive(serde::Serialize)]
struct Checked {
    rules: usize,
    examples: usize,
    problems: Vec<Problem>,
    ok: bool,
}

/// `sickbay rules check [DIR]`: a folder is checked the way `--rules DIR` loads it: its own
/// rules and examples, with `explains` and duplicate ids resolved against the built-in
/// pack and the other `--rules` folders too.
fn rules_check(dir: Option<&std::path::Path>, cli: &Cli) -> Result<ExitCode> {
    let (rules, known) = load_for_check(dir, cli)?;
    let problems = find_problems(&rules, &known);
    let checked = Checked {
        rules: rules.rules.len(),
        examples: rules.rules.iter().map(|r| r.examples.len()).sum(),
        ok: problems.is_empty(),
        problems,
    };
    let code = ExitCode::from(if checked.ok { 0 } else { 1 });
    print_checked(&checked, cli)?;
    Ok(code)
}

/// The rules to check (the folder's own, or all loaded) and every rule they may refer to.
fn load_for_check(dir: Option<&std::path::Path>, cli: &Cli) -> Result<(RuleSet, RuleSet)> {
    let (rules, known) = match dir {
        Some(d) => {
            let own = sickbay::rules::load_dir(d)?;
            let mut all = RuleSet::builtin().context("built-in rule pack")?;
            for other in cli.global.rules.iter().filter(|o| o.as_path() != d) {
                all.extend_from_dir(other)?;
            }
            let mut all = all.rules;
            all.extend(own.iter().cloned());
            (RuleSet::from_rules(own)?, RuleSet::from_rules(all)?)
        }
        None => {
            let all = rule_set(cli)?;
            (all.clone(), all)
        }
    };
    Ok((rules, known))
}

/// The problems in `rules`: failing examples, a missing `class`, unknown `explains` ids.
fn find_problems(rules: &RuleSet, known: &RuleSet) -> Vec<Problem> {
    let mut problems: Vec<Problem> = rules
        .rules
        .iter()
        .flat_map(check_examples)
        .map(|f| Problem {
            // An example's text is the rule author's, but it may hold a pasted secret.
            message: sickbay::snapshot::redact::redact_message(&f.message()),
            file: f.file,
            rule: f.rule,
        })
        .collect();
    for r in rules.rules.iter().filter(|r| r.class.is_none()) {
        problems.push(Problem {
            file: r.file.clone(),
            rule: r.id.clone(),
            message: "has no `class` (the root-cause class reports and the corpus tests use)"
                .into(),
        });
    }
    for r in &rules.rules {
        for e in r.explains.iter().filter(|e| known.get(e).is_none()) {
            problems.push(Problem {
                file: r.file.clone(),
                rule: r.id.clone(),
                message: format!("explains unknown rule {e}"),
            });
        }
    }
    problems
}

/// Prints the check: JSON when asked for, else each problem and a summary line.
fn print_checked(checked: &Checked, cli: &Cli) -> Result<()> {
    // A summary line is prose: JSON only when asked for, as with `rules explain`.
    if cli.global.output == Some(Format::Json) {
        let mut s = serde_json::to_string_pretty(checked).context("serialising the check")?;
        s.push('\n');
        print(&s)?;
        return Ok(());
    }
    for p in &checked.problems {
        eprintln!("{}: {} {}", p.file, p.rule, p.message);
    }
    let noun = |n: usize, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    let verdict = if checked.ok {
        "ok".to_string()
    } else {
        noun(checked.problems.len(), "problem")
    };
    print(&format!(
        "checked {} and {}: {verdict}\n",
        noun(checked.rules, "rule"),
        noun(checked.examples, "example"),
    ))?;
    Ok(())
}
