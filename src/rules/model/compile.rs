//! Validation and compilation: turns the TOML shape ([`RawRule`]) into a [`Rule`],
//! rejecting the first bad value with an error that names the field and, when the value
//! has a span, its `file:line:col`. The checks run in a fixed order (id, name, class,
//! confidence, signals, conditions, explains, triggered_by, per, docs, examples), so a
//! file with several mistakes always reports the same one first; each step is a helper
//! below so that the order stays readable in [`Rule::compile`].

use super::raw::{OneOrMany, RawCondition, RawExample, RawRule, RawSignal};
use super::{
    fields_of, Condition, ConditionTest, Example, Rule, Signal, Source, FACT_SETS, TRIGGER_KINDS,
};
use crate::error::{line_col, Error, Result};
use crate::rules::pattern::Pattern;
use regex::Regex;
use std::collections::BTreeSet;
use std::ops::Range;
use toml::Spanned;

impl Rule {
    pub(crate) fn compile(raw: RawRule, text: &str, file: &str) -> Result<Rule> {
        let o = Origin { text, file };
        check_id(&o, &raw.id)?;
        check_name(&o, &raw.name)?;
        if let Some(c) = &raw.class {
            check_class(&o, c)?;
        }
        let confidence = match &raw.confidence {
            Some(c) if !(0.0..=1.0).contains(c.get_ref()) => {
                return Err(o.at(
                    c.span(),
                    "field `confidence`: must be between 0 and 1".into(),
                ))
            }
            Some(c) => *c.get_ref(),
            None => 0.7,
        };
        if raw.signals.is_empty() {
            return Err(o.input("a rule needs at least one [[signal]]"));
        }
        let mut signals = Vec::new();
        for (i, s) in raw.signals.into_iter().enumerate() {
            signals.push(compile_signal(&o, i, s)?);
        }
        if !signals.iter().any(|s| s.required) {
            return Err(o.input("at least one signal must be required"));
        }
        let conditions = compile_conditions(&o, raw.conditions, &signals)?;
        let explains = check_explains(&o, raw.explains, raw.id.get_ref())?;
        let triggered_by = check_triggers(&o, raw.triggered_by)?;
        let per = raw.per.map(|p| check_per(&o, p, &signals)).transpose()?;
        if raw.docs.fix.is_empty() {
            return Err(o.input("field `docs.fix`: needs at least one step"));
        }
        let examples = compile_examples(raw.examples, &signals);
        let id_at = line_col(text, raw.id.span().start);
        Ok(Rule {
            id_at,
            id: raw.id.into_inner(),
            name: raw.name.into_inner(),
            class: raw.class.map(Spanned::into_inner),
            title: raw.title,
            severity: raw.severity,
            confidence,
            message: raw.message,
            tags: raw.tags,
            explains,
            triggered_by,
            per,
            signals,
            conditions,
            docs: raw.docs,
            examples,
            file: file.into(),
            text: text.into(),
        })
    }
}

/// The rule file being compiled, to turn a span or a message into an error.
struct Origin<'a> {
    text: &'a str,
    file: &'a str,
}

impl Origin<'_> {
    /// An error at the start of `span`.
    fn at(&self, span: Range<usize>, message: String) -> Error {
        let (line, col) = line_col(self.text, span.start);
        Error::At {
            file: self.file.into(),
            line,
            col,
            message,
        }
    }

    /// An error about the file as a whole.
    fn input(&self, message: &str) -> Error {
        Error::Input {
            file: self.file.into(),
            message: message.into(),
        }
    }
}

fn check_id(o: &Origin, id: &Spanned<String>) -> Result<()> {
    let id_ok = {
        let id = id.get_ref();
        let prefix: String = id.chars().take_while(|c| c.is_ascii_uppercase()).collect();
        let digits = &id[prefix.len()..];
        (2..=5).contains(&prefix.len())
            && digits.len() == 3
            && digits.chars().all(|c| c.is_ascii_digit())
    };
    if !id_ok {
        return Err(o.at(
            id.span(),
            format!(
                "field `id`: {:?} is not a rule code (2-5 capital letters and 3 digits, like NET001)",
                id.get_ref()
            ),
        ));
    }
    Ok(())
}

fn check_name(o: &Origin, name: &Spanned<String>) -> Result<()> {
    let name_ok = !name.get_ref().is_empty()
        && name
            .get_ref()
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !name_ok {
        return Err(o.at(
            name.span(),
            format!("field `name`: {:?} must be kebab-case", name.get_ref()),
        ));
    }
    Ok(())
}

fn check_class(o: &Origin, c: &Spanned<String>) -> Result<()> {
    let ok = c.get_ref().starts_with(|ch: char| ch.is_ascii_lowercase())
        && c.get_ref()
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
    if !ok {
        return Err(o.at(
            c.span(),
            format!("field `class`: {:?} must be snake_case", c.get_ref()),
        ));
    }
    Ok(())
}

/// The `i`th `[[signal]]` (0-based), with its sources expanded and its patterns compiled.
fn compile_signal(o: &Origin, i: usize, s: RawSignal) -> Result<Signal> {
    let sources = signal_sources(o, &s.source)?;
    let field = signal_field(o, &s, &sources)?;
    let texts: Vec<String> = match s.pattern.get_ref() {
        OneOrMany::One(p) => vec![p.clone()],
        OneOrMany::Many(ps) => ps.clone(),
    };
    if texts.is_empty() {
        return Err(o.at(s.pattern.span(), "field `pattern`: empty list".into()));
    }
    let mut patterns = Vec::new();
    for t in texts {
        patterns.push(compile_pattern(
            o,
            &Spanned::new(s.pattern.span(), t),
            "pattern",
        )?);
    }
    let unless = s
        .unless
        .as_ref()
        .map(|u| compile_pattern(o, u, "unless"))
        .transpose()?;
    Ok(Signal {
        name: s.name.unwrap_or_else(|| format!("signal{}", i + 1)),
        sources,
        field,
        patterns,
        unless,
        required: s.required,
    })
}

/// A signal's `source`, shorthands expanded, sorted and deduplicated.
fn signal_sources(o: &Origin, source: &Spanned<OneOrMany<Source>>) -> Result<Vec<Source>> {
    let sources: Vec<Source> = match source.get_ref() {
        OneOrMany::One(x) => x.expand().to_vec(),
        OneOrMany::Many(xs) => xs.iter().flat_map(|x| x.expand().iter().copied()).collect(),
    };
    let mut sources: Vec<Source> = sources;
    sources.sort();
    sources.dedup();
    if sources.is_empty() {
        return Err(o.at(source.span(), "field `source`: empty list".into()));
    }
    Ok(sources)
}

/// A signal's `field`: required by the sources that have fields, refused by the others.
fn signal_field(o: &Origin, s: &RawSignal, sources: &[Source]) -> Result<Option<String>> {
    let needs_field = sources.iter().any(|x| fields_of(*x).is_some());
    let field = match (&s.field, needs_field) {
        (None, true) => {
            return Err(o.at(
                s.source.span(),
                "field `field`: required for task-definition, compose, env-file and fact signals"
                    .into(),
            ))
        }
        (Some(f), true) => {
            // The field must exist in every source the signal reads.
            for x in sources {
                let allowed = fields_of(*x).unwrap_or_default();
                if !allowed.contains(&f.get_ref().as_str()) {
                    return Err(o.at(
                        f.span(),
                        format!(
                            "field `field`: unknown {:?} for source {}, expected one of {}",
                            f.get_ref(),
                            x.as_str(),
                            allowed.join(", ")
                        ),
                    ));
                }
            }
            Some(f.get_ref().clone())
        }
        (Some(f), false) => return Err(o.at(
            f.span(),
            "field `field`: only task-definition, compose, env-file and fact signals take a field"
                .into(),
        )),
        (None, false) => None,
    };
    Ok(field)
}

/// One `pattern` or `unless` of a signal; `what` names the field in the error.
fn compile_pattern(o: &Origin, p: &Spanned<String>, what: &str) -> Result<Pattern> {
    Pattern::new(p.get_ref()).map_err(|e| {
        o.at(
            p.span(),
            format!("field `{what}`: invalid regex: {}", one_line(&e)),
        )
    })
}

/// The `[[condition]]`s, each on a capture some signal names.
fn compile_conditions(
    o: &Origin,
    raw: Vec<RawCondition>,
    signals: &[Signal],
) -> Result<Vec<Condition>> {
    let captures: BTreeSet<String> = signals
        .iter()
        .flat_map(|s| {
            s.patterns
                .iter()
                .flat_map(|p| p.capture_names().map(String::from))
        })
        .collect();
    let mut conditions = Vec::new();
    for c in raw {
        if !captures.contains(c.capture.get_ref()) {
            return Err(o.at(
                c.capture.span(),
                format!(
                    "field `capture`: no signal captures {:?} (named groups: {})",
                    c.capture.get_ref(),
                    captures.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let test = match (&c.in_set, &c.not_in, &c.matches, &c.not_matches) {
            (Some(s), None, None, None) => ConditionTest::InSet(fact_set(o, s)?),
            (None, Some(s), None, None) => ConditionTest::NotIn(fact_set(o, s)?),
            (None, None, Some(s), None) => ConditionTest::Matches(condition_regex(o, s)?),
            (None, None, None, Some(s)) => ConditionTest::NotMatches(condition_regex(o, s)?),
            _ => return Err(o.at(
                c.capture.span(),
                "a [[condition]] takes exactly one of `in_set`, `not_in`, `matches`, `not_matches`"
                    .into(),
            )),
        };
        conditions.push(Condition {
            capture: c.capture.get_ref().clone(),
            test,
        });
    }
    Ok(conditions)
}

/// The name of one of the [`FACT_SETS`].
fn fact_set(o: &Origin, s: &Spanned<String>) -> Result<String> {
    if FACT_SETS.contains(&s.get_ref().as_str()) {
        Ok(s.get_ref().clone())
    } else {
        Err(o.at(
            s.span(),
            format!(
                "unknown fact set {:?}, expected one of {}",
                s.get_ref(),
                FACT_SETS.join(", ")
            ),
        ))
    }
}

/// The regex of a `matches` or `not_matches` condition.
fn condition_regex(o: &Origin, s: &Spanned<String>) -> Result<Regex> {
    Regex::new(s.get_ref()).map_err(|e| {
        o.at(
            s.span(),
            format!("invalid regex: {}", one_line(&e.to_string())),
        )
    })
}

/// The ids in `explains`, none of them the rule's own.
fn check_explains(o: &Origin, raw: Vec<Spanned<String>>, id: &str) -> Result<Vec<String>> {
    let mut explains = Vec::new();
    for e in raw {
        if e.get_ref() == id {
            return Err(o.at(
                e.span(),
                "field `explains`: a rule cannot explain itself".into(),
            ));
        }
        explains.push(e.get_ref().clone());
    }
    Ok(explains)
}

/// The kinds in `triggered_by`, each one of the [`TRIGGER_KINDS`].
fn check_triggers(o: &Origin, raw: Vec<Spanned<String>>) -> Result<Vec<String>> {
    let mut triggered_by = Vec::new();
    for k in raw {
        if !TRIGGER_KINDS.contains(&k.get_ref().as_str()) {
            return Err(o.at(
                k.span(),
                format!(
                    "field `triggered_by`: unknown {:?}, expected one of {}",
                    k.get_ref(),
                    TRIGGER_KINDS.join(", ")
                ),
            ));
        }
        triggered_by.push(k.into_inner());
    }
    Ok(triggered_by)
}

/// `per`, which must be a capture of a required signal.
fn check_per(o: &Origin, p: Spanned<String>, signals: &[Signal]) -> Result<String> {
    let known = signals.iter().filter(|s| s.required).any(|s| {
        s.patterns
            .iter()
            .any(|re| re.capture_names().any(|n| n == p.get_ref()))
    });
    if !known {
        return Err(o.at(
            p.span(),
            format!(
                "field `per`: {:?} is not a capture of a required signal",
                p.get_ref()
            ),
        ));
    }
    Ok(p.into_inner())
}

/// The `[[example]]`s, with the source and field they default to filled in.
fn compile_examples(raw: Vec<RawExample>, signals: &[Signal]) -> Vec<Example> {
    let first_source = signals[0].sources[0];
    raw.into_iter()
        .map(|e| {
            let source = e.source.unwrap_or(first_source);
            // The field of the first signal that reads the example's source.
            let field = e.field.clone().or_else(|| {
                signals
                    .iter()
                    .find(|s| s.reads(source))
                    .and_then(|s| s.field.clone())
            });
            (e, source, field)
        })
        .map(|(e, source, field)| Example {
            source,
            field,
            text: e.text,
            expect_match: e.expect_match,
        })
        .collect()
}

/// The gist of a regex error: its last line (`error: unclosed group` → `unclosed group`).
fn one_line(s: &str) -> String {
    let last = s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(s);
    last.trim().trim_start_matches("error: ").to_string()
}
