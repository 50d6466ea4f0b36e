//! The TOML shape of a rule file, as serde reads it: `Raw*` types that keep the spans
//! of the values validation may reject, so an error can point at `file:line:col`. Of
//! these types only [`Docs`] is kept as it is in the compiled [`Rule`](super::Rule); the
//! others are checked and turned into the compiled form by `compile`.

use super::{Severity, Source};
use serde::{Deserialize, Serialize};
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub(super) id: Spanned<String>,
    pub(super) name: Spanned<String>,
    /// Root-cause class (`dns_not_found`); optional to load, reported by `rules check`.
    #[serde(default)]
    pub(super) class: Option<Spanned<String>>,
    pub(super) title: String,
    pub(super) severity: Severity,
    #[serde(default)]
    pub(super) confidence: Option<Spanned<f64>>,
    pub(super) message: String,
    #[serde(default)]
    pub(super) tags: Vec<String>,
    #[serde(default)]
    pub(super) explains: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) triggered_by: Vec<Spanned<String>>,
    /// One finding per distinct value of this capture.
    #[serde(default)]
    pub(super) per: Option<Spanned<String>>,
    #[serde(rename = "signal")]
    pub(super) signals: Vec<RawSignal>,
    #[serde(default, rename = "condition")]
    pub(super) conditions: Vec<RawCondition>,
    pub(super) docs: Docs,
    #[serde(default, rename = "example")]
    pub(super) examples: Vec<RawExample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSignal {
    #[serde(default)]
    pub(super) name: Option<String>,
    pub(super) source: Spanned<OneOrMany<Source>>,
    #[serde(default)]
    pub(super) field: Option<Spanned<String>>,
    pub(super) pattern: Spanned<OneOrMany<String>>,
    #[serde(default)]
    pub(super) unless: Option<Spanned<String>>,
    #[serde(default = "yes")]
    pub(super) required: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCondition {
    pub(super) capture: Spanned<String>,
    #[serde(default)]
    pub(super) in_set: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) not_in: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) matches: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) not_matches: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExample {
    #[serde(default)]
    pub(super) source: Option<Source>,
    #[serde(default)]
    pub(super) field: Option<String>,
    pub(super) text: String,
    #[serde(rename = "match")]
    pub(super) expect_match: bool,
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
