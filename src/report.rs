//! The report: what `analyze` returns and every renderer reads. It is versioned
//! (`schema_version`) and its JSON Schema lives in `schema/report.schema.json`, kept in
//! sync by a test.

use crate::rules::Severity;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

/// Version of the report format.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    /// `complete`, or `incomplete` when some checks could not run.
    pub status: Status,
    pub target: TargetSummary,
    pub summary: Summary,
    /// Ranked root causes; symptoms they explain are nested under `explains`.
    pub findings: Vec<Finding>,
    /// Per task-definition revision, which findings were present.
    pub timeline: Vec<FamilyTimeline>,
    /// Families redeployed many times in a short window while the same failure stayed.
    pub churn: Vec<Churn>,
    /// Per family: the failing revision against the last good one, field by field.
    #[serde(default)]
    pub what_changed: Vec<WhatChanged>,
    /// Changes made in the account during the window that touched the snapshot's
    /// resources (CloudTrail), newest first.
    #[serde(default)]
    pub account_changes: Vec<crate::snapshot::AccountChange>,
    /// How CloudTrail was read, or why it could not be: says "nothing changed" apart from
    /// "not looked at". Absent when it was not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_changes_read: Option<String>,
    /// Database reachability probes: DNS → TCP → TLS → auth → schema.
    pub db_probes: Vec<crate::snapshot::DbProbe>,
    /// Checks that could not run, and the IAM action that would allow them.
    pub incomplete: Vec<MissingCheck>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Complete,
    Incomplete,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema, PartialEq)]
pub struct TargetSummary {
    /// `snapshot`, `scan` or `live`.
    pub mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub services: Vec<ServiceSummary>,
    pub families: Vec<String>,
    /// Files read by `lint`. (`default` tells the schema it may be absent.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct ServiceSummary {
    pub name: String,
    pub status: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout_state: Option<String>,
    /// `healthy`, `degraded` or `down`.
    pub health: String,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema, PartialEq)]
pub struct Summary {
    pub findings: usize,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
    /// Top-ranked finding's rule id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<String>,
    /// Highest severity among findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_severity: Option<Severity>,
}

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Finding {
    pub rank: usize,
    pub rule: String,
    pub name: String,
    /// Root-cause class (`dns_not_found`): rules that name the same failure share it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    pub title: String,
    pub severity: Severity,
    /// 0..1: the signature's specificity plus corroboration from independent sources.
    pub confidence: f64,
    pub score: f64,
    /// `current`, or `superseded` when only older revisions show it.
    pub recency: Recency,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_note: Option<String>,
    pub message: String,
    /// The task-definition change this failure most likely began with, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub likely_trigger: Option<String>,
    pub services: Vec<String>,
    /// `family:revision` values the evidence comes from.
    pub revisions: Vec<String>,
    /// Distinct evidence sources (log, service-event ...).
    pub sources: Vec<String>,
    pub occurrences: u64,
    /// Earliest and latest time of the evidence (log lines, stopped tasks, events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<DateTime<Utc>>,
    pub evidence: Vec<Evidence>,
    /// Evidence items not shown.
    pub more_evidence: usize,
    /// Fix steps with names filled in from the snapshot.
    pub fix: Vec<String>,
    pub verify: String,
    pub references: Vec<String>,
    /// Symptoms this cause accounts for, folded under it.
    pub explains: Vec<Folded>,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Recency {
    Current,
    Superseded,
}

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Folded {
    pub rule: String,
    pub name: String,
    pub title: String,
    pub severity: Severity,
    pub occurrences: u64,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Evidence {
    pub source: String,
    pub locator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    pub excerpt: String,
    pub count: u64,
    /// For evidence read from a file by `lint`: where it is (1-based line and column,
    /// and the JSON path or YAML key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct FamilyTimeline {
    pub family: String,
    pub revisions: Vec<RevisionRow>,
}

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct RevisionRow {
    pub revision: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub running_tasks: usize,
    pub stopped_tasks: usize,
    pub has_logs: bool,
    /// Rule ids seen at this revision (root causes and folded symptoms).
    pub findings: Vec<String>,
    /// Rule ids seen at the previous revision and not at this one, where this one ran.
    pub cleared: Vec<String>,
}

/// What changed between a family's last good revision (or the previous one that ran)
/// and its newest failing revision.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct WhatChanged {
    pub family: String,
    /// `family:revision` of the newest revision with a failure finding.
    pub failing: String,
    /// The revision compared against; `None` when no earlier revision ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// True when `base` is a last good revision, false when it only ran before.
    pub last_good: bool,
    /// How `base` was chosen, in words.
    pub decided_by: String,
    /// Rule ids seen at the failing revision and not at the base, and the reverse.
    pub appeared: Vec<String>,
    pub cleared: Vec<String>,
    /// Field-by-field changes from the base to the failing revision (secrets as
    /// fingerprints).
    pub changes: Vec<crate::diff::Change>,
    /// Why the task definitions could not be compared (one is not in the snapshot), so
    /// that no change is not mistaken for no difference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_compared: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Churn {
    pub family: String,
    pub revisions: usize,
    pub deployments: usize,
    pub window_hours: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<DateTime<Utc>>,
    /// Findings present at the newest revision that were also present before.
    pub persisting: Vec<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct MissingCheck {
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub check: String,
    pub message: String,
}

impl Report {
    /// True when some finding is at or above `level`.
    pub fn has_at_least(&self, level: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= level)
    }
}
