//! The rule model: the TOML shape (`Raw*`, with spans for error positions) and the
//! compiled form the engine evaluates.
//!
//! This file holds the fields and sets a rule may name and the compiled types; the
//! severity and source vocabularies are in `kinds`, the TOML shape in `raw`, and the
//! validation that turns one into the other in `compile`. Everything is re-exported
//! here (and from `crate::rules`).

mod compile;
mod kinds;
mod raw;

pub use kinds::{Severity, Source};
pub use raw::Docs;
pub(crate) use raw::RawRule;

use super::pattern::Pattern;
use regex::Regex;

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
