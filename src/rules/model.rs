//! The rule model: the TOML shape (`Raw*`, with spans for error positions) and the
//! compiled form the engine evaluates.

use super::pattern::Pattern;
use crate::error::{line_col, Error, Result};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use toml::Spanned;

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Weight used in ranking.
    pub fn weight(self) -> f64 {
        match self {
            Severity::Info => 0.5,
            Severity::Low => 1.0,
            Severity::Medium => 2.0,
            Severity::High => 3.0,
            Severity::Critical => 4.0,
        }
    }
}

/// Where a signal looks. Every source is a stream of text records; see `docs/rules.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Log,
    ServiceEvent,
    StoppedReason,
    StopCode,
    ContainerReason,
    ExitCode,
    Task,
    Deployment,
    TaskDefinition,
    TargetHealth,
    LogStream,
    DbProbe,
    CollectError,
    Fact,
    /// docker-compose files given to `lint`.
    Compose,
    /// `.env` files and templates given to `lint`.
    EnvFile,
    /// Shorthand for every free-text source: log, service-event, stopped-reason,
    /// container-reason and deployment.
    Text,
    /// Shorthand for every configuration source: task-definition, compose and env-file.
    Config,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Log => "log",
            Source::ServiceEvent => "service-event",
            Source::StoppedReason => "stopped-reason",
            Source::StopCode => "stop-code",
            Source::ContainerReason => "container-reason",
            Source::ExitCode => "exit-code",
            Source::Task => "task",
            Source::Deployment => "deployment",
            Source::TaskDefinition => "task-definition",
            Source::TargetHealth => "target-health",
            Source::LogStream => "log-stream",
            Source::DbProbe => "db-probe",
            Source::CollectError => "collect-error",
            Source::Fact => "fact",
            Source::Compose => "compose",
            Source::EnvFile => "env-file",
            Source::Text => "text",
            Source::Config => "config",
        }
    }

    /// The concrete sources this one stands for.
    pub fn expand(self) -> &'static [Source] {
        match self {
            Source::Text => &[
                Source::Log,
                Source::ServiceEvent,
                Source::StoppedReason,
                Source::ContainerReason,
                Source::Deployment,
            ],
            Source::Log => &[Source::Log],
            Source::ServiceEvent => &[Source::ServiceEvent],
            Source::StoppedReason => &[Source::StoppedReason],
            Source::StopCode => &[Source::StopCode],
            Source::ContainerReason => &[Source::ContainerReason],
            Source::ExitCode => &[Source::ExitCode],
            Source::Task => &[Source::Task],
            Source::Deployment => &[Source::Deployment],
            Source::TaskDefinition => &[Source::TaskDefinition],
            Source::TargetHealth => &[Source::TargetHealth],
            Source::LogStream => &[Source::LogStream],
            Source::DbProbe => &[Source::DbProbe],
            Source::CollectError => &[Source::CollectError],
            Source::Fact => &[Source::Fact],
            Source::Compose => &[Source::Compose],
            Source::EnvFile => &[Source::EnvFile],
            Source::Config => &[Source::TaskDefinition, Source::Compose, Source::EnvFile],
        }
    }
}

/// Fields of a task definition a `task-definition` signal can look at.
pub const TD_FIELDS: &[&str] = &[
    "env",
    "secret",
    "image",
    "health-check",
    "runtime-platform",
    "log-driver",
    "network-mode",
    "command",
    "port",
];

/// Fields of a docker-compose file a `compose` signal can look at, besides the
/// structured ones in [`super::shapes`].
pub const COMPOSE_TEXT_FIELDS: &[&str] = &["env"];

/// Fields of an env file an `env-file` signal can look at.
pub const ENV_FILE_FIELDS: &[&str] = &["env"];

/// Fields a signal on `source` can name; `None` when the source takes no field. Fact and
/// compose record fields come from their shapes.
pub fn fields_of(source: Source) -> Option<Vec<&'static str>> {
    let shaped = || {
        super::shapes::SHAPES
            .iter()
            .filter(move |s| s.source == source)
            .filter_map(|s| s.field)
    };
    match source {
        Source::TaskDefinition => Some(TD_FIELDS.to_vec()),
        Source::Fact => Some(shaped().collect()),
        Source::Compose => Some(
            COMPOSE_TEXT_FIELDS
                .iter()
                .copied()
                .chain(shaped())
                .collect(),
        ),
        Source::EnvFile => Some(ENV_FILE_FIELDS.to_vec()),
        _ => None,
    }
}

/// Kinds of change a rule's `triggered_by` can name; each is the field of a revision diff
/// (task definition, deployment or image digest) (`env DB_HOST` is kind `env`, `health check` is `health-check`).
pub const TRIGGER_KINDS: &[&str] = &[
    "env",
    "secret",
    "image",
    "command",
    "entry-point",
    "ports",
    "health-check",
    "log-configuration",
    "memory",
    "cpu",
    "task-role",
    "execution-role",
    "runtime-platform",
    "network-mode",
    // how the revision ran (engine/ran.rs)
    "image-digest",
    "subnets",
    "security-groups",
    "public-ip",
    "launch-type",
    "capacity-provider",
    "platform-version",
];

/// Named string sets a condition can test a capture against.
pub const FACT_SETS: &[&str] = &[
    "running_task_ips",
    "stopped_task_ips",
    "task_ips",
    "live_ips",
    "container_ports",
    "env_hosts",
    "compose_hostnames",
    "service_connect_names",
];

// ------------------------------------------------------------------ TOML shape

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    id: Spanned<String>,
    name: Spanned<String>,
    /// Root-cause class (`dns_not_found`); optional to load, reported by `rules check`.
    #[serde(default)]
    class: Option<Spanned<String>>,
    title: String,
    severity: Severity,
    #[serde(default)]
    confidence: Option<Spanned<f64>>,
    message: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    explains: Vec<Spanned<String>>,
    #[serde(default)]
    triggered_by: Vec<Spanned<String>>,
    /// One finding per distinct value of this capture.
    #[serde(default)]
    per: Option<Spanned<String>>,
    #[serde(rename = "signal")]
    signals: Vec<RawSignal>,
    #[serde(default, rename = "condition")]
    conditions: Vec<RawCondition>,
    docs: Docs,
    #[serde(default, rename = "example")]
    examples: Vec<RawExample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignal {
    #[serde(default)]
    name: Option<String>,
    source: Spanned<OneOrMany<Source>>,
    #[serde(default)]
    field: Option<Spanned<String>>,
    pattern: Spanned<OneOrMany<String>>,
    #[serde(default)]
    unless: Option<Spanned<String>>,
    #[serde(default = "yes")]
    required: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    capture: Spanned<String>,
    #[serde(default)]
    in_set: Option<Spanned<String>>,
    #[serde(default)]
    not_in: Option<Spanned<String>>,
    #[serde(default)]
    matches: Option<Spanned<String>>,
    #[serde(default)]
    not_matches: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    #[serde(default)]
    source: Option<Source>,
    #[serde(default)]
    field: Option<String>,
    text: String,
    #[serde(rename = "match")]
    expect_match: bool,
}

/// Documentation in fixed sections, shown by `sickbay rules explain` and in reports.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Docs {
    pub why: String,
    /// Fix steps; `{cluster}`, `{service}`, `{family}`, `{revision}`, `{container}`,
    /// `{region}` and named captures are filled from the evidence.
    pub fix: Vec<String>,
    #[serde(default)]
    pub avoid: String,
    #[serde(default)]
    pub verify: String,
    #[serde(default)]
    pub references: Vec<String>,
}

// ------------------------------------------------------------------ compiled form

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: String,
    /// Root-cause class shared by rules that name the same failure (`dns_not_found`), used
    /// by reports and the corpus tests; `None` only in packs `rules check` complains about.
    pub class: Option<String>,
    pub title: String,
    pub severity: Severity,
    /// Specificity of the signature, 0..1.
    pub confidence: f64,
    pub message: String,
    pub tags: Vec<String>,
    pub explains: Vec<String>,
    /// Kinds of task-definition change that can start this failure (`env`, `image` ...,
    /// see [`TRIGGER_KINDS`]): a finding that appeared with such a change names it.
    pub triggered_by: Vec<String>,
    /// A capture of a required signal: the rule makes one finding per distinct value of
    /// it (each role, each image) instead of one finding for all.
    pub per: Option<String>,
    pub signals: Vec<Signal>,
    pub conditions: Vec<Condition>,
    pub docs: Docs,
    pub examples: Vec<Example>,
    /// Where the rule came from (path), for messages.
    pub file: String,
    /// Line and column of the `id` value in `file`, for messages.
    pub id_at: (usize, usize),
    /// The TOML text, for `rules explain --source`.
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Signal {
    pub name: String,
    pub sources: Vec<Source>,
    pub field: Option<String>,
    /// Alternatives; a record matches when any of them does.
    pub patterns: Vec<Pattern>,
    pub unless: Option<Pattern>,
    pub required: bool,
}

impl Signal {
    pub fn reads(&self, source: Source) -> bool {
        self.sources.contains(&source)
    }

    /// True when a record's text matches this signal (some pattern, and not `unless`).
    pub fn is_match(&self, text: &str) -> bool {
        self.patterns.iter().any(|p| p.is_match(text))
            && !self.unless.as_ref().is_some_and(|u| u.is_match(text))
    }
}

#[derive(Debug, Clone)]
pub struct Condition {
    pub capture: String,
    pub test: ConditionTest,
}

#[derive(Debug, Clone)]
pub enum ConditionTest {
    InSet(String),
    NotIn(String),
    Matches(Regex),
    NotMatches(Regex),
}

#[derive(Debug, Clone)]
pub struct Example {
    pub source: Source,
    pub field: Option<String>,
    pub text: String,
    pub expect_match: bool,
}

impl Rule {
    pub(crate) fn compile(raw: RawRule, text: &str, file: &str) -> Result<Rule> {
        let at = |span: std::ops::Range<usize>, message: String| {
            let (line, col) = line_col(text, span.start);
            Error::At {
                file: file.into(),
                line,
                col,
                message,
            }
        };
        let id_ok = {
            let id = raw.id.get_ref();
            let prefix: String = id.chars().take_while(|c| c.is_ascii_uppercase()).collect();
            let digits = &id[prefix.len()..];
            (2..=5).contains(&prefix.len())
                && digits.len() == 3
                && digits.chars().all(|c| c.is_ascii_digit())
        };
        if !id_ok {
            return Err(at(
                raw.id.span(),
                format!(
                    "field `id`: {:?} is not a rule code (2-5 capital letters and 3 digits, like NET001)",
                    raw.id.get_ref()
                ),
            ));
        }
        let name_ok = !raw.name.get_ref().is_empty()
            && raw
                .name
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            return Err(at(
                raw.name.span(),
                format!("field `name`: {:?} must be kebab-case", raw.name.get_ref()),
            ));
        }
        if let Some(c) = &raw.class {
            let ok = c.get_ref().starts_with(|ch: char| ch.is_ascii_lowercase())
                && c.get_ref()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            if !ok {
                return Err(at(
                    c.span(),
                    format!("field `class`: {:?} must be snake_case", c.get_ref()),
                ));
            }
        }
        let confidence = match &raw.confidence {
            Some(c) if !(0.0..=1.0).contains(c.get_ref()) => {
                return Err(at(
                    c.span(),
                    "field `confidence`: must be between 0 and 1".into(),
                ))
            }
            Some(c) => *c.get_ref(),
            None => 0.7,
        };
        if raw.signals.is_empty() {
            return Err(Error::Input {
                file: file.into(),
                message: "a rule needs at least one [[signal]]".into(),
            });
        }
        let mut signals = Vec::new();
        for (i, s) in raw.signals.into_iter().enumerate() {
            let sources: Vec<Source> = match s.source.get_ref() {
                OneOrMany::One(x) => x.expand().to_vec(),
                OneOrMany::Many(xs) => xs.iter().flat_map(|x| x.expand().iter().copied()).collect(),
            };
            let mut sources: Vec<Source> = sources;
            sources.sort();
            sources.dedup();
            if sources.is_empty() {
                return Err(at(s.source.span(), "field `source`: empty list".into()));
            }
            let needs_field = sources.iter().any(|x| fields_of(*x).is_some());
            let field = match (&s.field, needs_field) {
                (None, true) => {
                    return Err(at(
                        s.source.span(),
                        "field `field`: required for task-definition, compose, env-file and fact signals".into(),
                    ))
                }
                (Some(f), true) => {
                    // The field must exist in every source the signal reads.
                    for x in &sources {
                        let allowed = fields_of(*x).unwrap_or_default();
                        if !allowed.contains(&f.get_ref().as_str()) {
                            return Err(at(
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
                (Some(f), false) => {
                    return Err(at(
                        f.span(),
                        "field `field`: only task-definition, compose, env-file and fact signals take a field".into(),
                    ))
                }
                (None, false) => None,
            };
            let compile = |p: &Spanned<String>, what: &str| {
                Pattern::new(p.get_ref()).map_err(|e| {
                    at(
                        p.span(),
                        format!("field `{what}`: invalid regex: {}", one_line(&e)),
                    )
                })
            };
            let texts: Vec<String> = match s.pattern.get_ref() {
                OneOrMany::One(p) => vec![p.clone()],
                OneOrMany::Many(ps) => ps.clone(),
            };
            if texts.is_empty() {
                return Err(at(s.pattern.span(), "field `pattern`: empty list".into()));
            }
            let mut patterns = Vec::new();
            for t in texts {
                patterns.push(compile(&Spanned::new(s.pattern.span(), t), "pattern")?);
            }
            let unless = s
                .unless
                .as_ref()
                .map(|u| compile(u, "unless"))
                .transpose()?;
            signals.push(Signal {
                name: s.name.unwrap_or_else(|| format!("signal{}", i + 1)),
                sources,
                field,
                patterns,
                unless,
                required: s.required,
            });
        }
        if !signals.iter().any(|s| s.required) {
            return Err(Error::Input {
                file: file.into(),
                message: "at least one signal must be required".into(),
            });
        }
        let captures: BTreeSet<String> = signals
            .iter()
            .flat_map(|s| {
                s.patterns
                    .iter()
                    .flat_map(|p| p.capture_names().map(String::from))
            })
            .collect();
        let mut conditions = Vec::new();
        for c in raw.conditions {
            if !captures.contains(c.capture.get_ref()) {
                return Err(at(
                    c.capture.span(),
                    format!(
                        "field `capture`: no signal captures {:?} (named groups: {})",
                        c.capture.get_ref(),
                        captures.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let set = |s: &Spanned<String>| {
                if FACT_SETS.contains(&s.get_ref().as_str()) {
                    Ok(s.get_ref().clone())
                } else {
                    Err(at(
                        s.span(),
                        format!(
                            "unknown fact set {:?}, expected one of {}",
                            s.get_ref(),
                            FACT_SETS.join(", ")
                        ),
                    ))
                }
            };
            let re = |s: &Spanned<String>| {
                Regex::new(s.get_ref()).map_err(|e| {
                    at(
                        s.span(),
                        format!("invalid regex: {}", one_line(&e.to_string())),
                    )
                })
            };
            let test = match (&c.in_set, &c.not_in, &c.matches, &c.not_matches) {
                (Some(s), None, None, None) => ConditionTest::InSet(set(s)?),
                (None, Some(s), None, None) => ConditionTest::NotIn(set(s)?),
                (None, None, Some(s), None) => ConditionTest::Matches(re(s)?),
                (None, None, None, Some(s)) => ConditionTest::NotMatches(re(s)?),
                _ => {
                    return Err(at(
                        c.capture.span(),
                        "a [[condition]] takes exactly one of `in_set`, `not_in`, `matches`, `not_matches`".into(),
                    ))
                }
            };
            conditions.push(Condition {
                capture: c.capture.get_ref().clone(),
                test,
            });
        }
        let mut explains = Vec::new();
        for e in raw.explains {
            if e.get_ref() == raw.id.get_ref() {
                return Err(at(
                    e.span(),
                    "field `explains`: a rule cannot explain itself".into(),
                ));
            }
            explains.push(e.get_ref().clone());
        }
        let mut triggered_by = Vec::new();
        for k in raw.triggered_by {
            if !TRIGGER_KINDS.contains(&k.get_ref().as_str()) {
                return Err(at(
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
        let per = match raw.per {
            Some(p) => {
                let known = signals.iter().filter(|s| s.required).any(|s| {
                    s.patterns
                        .iter()
                        .any(|re| re.capture_names().any(|n| n == p.get_ref()))
                });
                if !known {
                    return Err(at(
                        p.span(),
                        format!(
                            "field `per`: {:?} is not a capture of a required signal",
                            p.get_ref()
                        ),
                    ));
                }
                Some(p.into_inner())
            }
            None => None,
        };
        if raw.docs.fix.is_empty() {
            return Err(Error::Input {
                file: file.into(),
                message: "field `docs.fix`: needs at least one step".into(),
            });
        }
        let first_source = signals[0].sources[0];
        let examples = raw
            .examples
            .into_iter()
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
            .collect();
        let id_at = crate::error::line_col(text, raw.id.span().start);
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

    /// The category prefix of the id (`NET` for `NET001`).
    pub fn category(&self) -> &str {
        let n = self
            .id
            .chars()
            .take_while(|c| c.is_ascii_uppercase())
            .count();
        &self.id[..n]
    }
}

/// The gist of a regex error: its last line (`error: unclosed group` → `unclosed group`).
fn one_line(s: &str) -> String {
    let last = s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(s);
    last.trim().trim_start_matches("error: ").to_string()
}
