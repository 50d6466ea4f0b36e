//! The `sickbay` binary: parse the command line, call the library, print, and map the
//! outcome to fixed exit codes (0 clean, 1 findings at or above `--fail-on`, 2 error).

use crate::cli::{Cli, ColorChoice, Command};
use anyhow::{bail, Context, Result};
use clap::{CommandFactory, Parser};
use sickbay::render::{self, Format};
use sickbay::rules::RuleSet;
use sickbay::Report;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

mod cli;
mod dbprobe;
mod doctor;
mod mcp;
mod rules_cmd;
mod watching;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Errors quote what they could not take, which may hold a secret.
            let message = sickbay::snapshot::redact::error_line(&format!("{e:#}"));
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Help and version go out as clap prints them; a usage error quotes the argument it
/// could not take, which may be a URL with a password, so it passes the redactor.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let text = sickbay::snapshot::redact::redact_message(&e.render().to_string());
    let _ = write!(std::io::stderr(), "{text}");
    ExitCode::from(2)
}

struct Out {
    format: Format,
    width: u16,
}

fn setup(cli: &Cli) -> Out {
    let tty = std::io::stdout().is_terminal();
    let color = match cli.global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    colored::control::set_override(color);
    let width = if tty {
        comfy_table::Table::new().width().unwrap_or(120).max(60)
    } else {
        120
    };
    // As ruff does, lint speaks in annotations inside GitHub Actions unless told otherwise.
    let in_actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    let format = cli.global.output.unwrap_or(match &cli.command {
        Command::Lint(_) if in_actions => Format::Github,
        _ if tty => Format::Table,
        _ => Format::Json,
    });
    Out { format, width }
}

fn rule_set(cli: &Cli) -> Result<RuleSet> {
    let mut set = RuleSet::builtin().context("built-in rule pack")?;
    for dir in &cli.global.rules {
        set.extend_from_dir(dir)?;
    }
    Ok(set)
}

fn print(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn render_report(report: &Report, rules: &RuleSet, out: &Out) -> String {
    match out.format {
        Format::Table => render::table::render(report, out.width),
        Format::Json => render::json::render(report),
        Format::Markdown => render::markdown::render(report),
        Format::Sarif => render::sarif::render(report, rules),
        Format::Github => render::github::render(report),
    }
}

fn finish(report: &Report, rules: &RuleSet, cli: &Cli, out: &Out) -> Result<ExitCode> {
    print(&render_report(report, rules, out))?;
    let failed = cli
        .global
        .fail_on
        .severity()
        .is_some_and(|s| report.has_at_least(s));
    Ok(ExitCode::from(if failed { 1 } else { 0 }))
}

fn run(cli: Cli) -> Result<ExitCode> {
    let out = setup(&cli);
    let reports = matches!(
        cli.command,
        Command::Doctor(_) | Command::Scan(_) | Command::Lint(_) | Command::Verify(_)
    );
    if out.format.findings_only() && !reports {
        bail!("--output sarif and --output github apply to doctor, scan and lint only");
    }
    match &cli.command {
        Command::Doctor(args) => doctor::doctor(args, &cli, &out),
        Command::Scan(args) => {
            let rules = rule_set(&cli)?;
            let scanned = sickbay::scan::scan_inputs(&args.files, args.source, &rules)?;
            // Imperfect input is read anyway; say so once per input, as grep would.
            for note in &scanned.input_notes {
                eprintln!("note: {note}");
            }
            finish(&scanned.report, &rules, &cli, &out)
        }
        Command::Lint(args) => {
            let rules = rule_set(&cli)?;
            let (snap, inputs) = sickbay::lint::load(&args.paths)?;
            let report = sickbay::analyze_lint(&snap, &inputs, &rules);
            finish(&report, &rules, &cli, &out)
        }
        Command::Rules(cmd) => rules_cmd::rules_command(cmd, &cli, &out),
        Command::Db(crate::cli::DbCommand::Probe(args)) => dbprobe::db_probe(args, &cli, &out),
        Command::Verify(args) => doctor::verify(args, &cli, &out),
        Command::Diff(args) => {
            let d = doctor::diff_command(args)?;
            print(&render::diff::render(&d, out.format, out.width))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::IamPolicy => {
            print(&sickbay::collect::iam_policy())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            // Into a buffer first: `generate` panics when it cannot write (a closed pipe).
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "sickbay", &mut buf);
            print(&String::from_utf8_lossy(&buf))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Mcp => {
            mcp::serve(rule_set(&cli)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut buf)
                .context("rendering the man page")?;
            print(&String::from_utf8_lossy(&buf))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { which } => {
            print(&sickbay::schema::schema_json(*which))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
