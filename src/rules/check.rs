//! Running a rule's own examples. An example is checked at signal level: the text is
//! turned into records the way `scan` would (one record per line for logs, one record
//! per paragraph for AWS messages), and it matches when any signal that reads the
//! example's source matches a record without its `unless` pattern matching too.

use super::{Rule, Source};

/// An example whose outcome differs from what the rule file says.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleFailure {
    pub rule: String,
    pub file: String,
    pub index: usize,
    pub expected_match: bool,
    pub text: String,
    /// Set when the example's text does not have the shape of its source's records
    /// (see [`super::shapes`]): such an example proves nothing about real records.
    pub misfit: Option<String>,
}

impl ExampleFailure {
    /// The problem without file and rule: `example 2 should match but does not: "..."`.
    pub fn message(&self) -> String {
        if let Some(m) = &self.misfit {
            return format!(
                "example {} {m}: {:?}",
                self.index + 1,
                crate::engine_excerpt(&self.text)
            );
        }
        let want = if self.expected_match {
            "should match but does not"
        } else {
            "should not match but does"
        };
        format!(
            "example {} {want}: {:?}",
            self.index + 1,
            crate::engine_excerpt(&self.text)
        )
    }
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} {}", self.file, self.rule, self.message())
    }
}

/// Splits example or scanned text into records for a source.
pub fn records_for(source: Source, text: &str) -> Vec<String> {
    match source {
        Source::Log
        | Source::TaskDefinition
        | Source::Compose
        | Source::EnvFile
        | Source::Fact
        | Source::DbProbe
        | Source::CollectError => text.lines().map(str::to_string).collect(),
        _ => text
            .split("\n\n")
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect(),
    }
}

/// True when some signal of `rule` reading `source` matches `text`.
pub fn signal_matches(rule: &Rule, source: Source, field: Option<&str>, text: &str) -> bool {
    let records = records_for(source, text);
    rule.signals
        .iter()
        .filter(|s| s.reads(source) && (field.is_none() || s.field.as_deref() == field))
        .any(|s| records.iter().any(|r| s.is_match(r)))
}

/// Checks every example of `rule`: its outcome, and that a structured example has the
/// shape real records of its source have.
pub fn check_examples(rule: &Rule) -> Vec<ExampleFailure> {
    rule.examples
        .iter()
        .enumerate()
        .filter_map(|(i, ex)| {
            let misfit = super::shapes::misfit(ex.source, ex.field.as_deref(), &ex.text);
            let wrong =
                signal_matches(rule, ex.source, ex.field.as_deref(), &ex.text) != ex.expect_match;
            (wrong || misfit.is_some()).then(|| ExampleFailure {
                rule: rule.id.clone(),
                file: rule.file.clone(),
                index: i,
                expected_match: ex.expect_match,
                text: ex.text.clone(),
                misfit,
            })
        })
        .collect()
}
