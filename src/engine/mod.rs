//! The engine: `analyze(&Snapshot, &RuleSet) -> Report`, pure and deterministic.
//!
//! For each rule, every signal is matched against the records of its sources; hits are
//! grouped by their named captures, required signals are joined on shared capture names
//! (the IP in a log line must equal the IP in an env value), conditions test captures
//! against fact sets, and optional signals add corroboration. Findings are then scored
//! (severity × confidence × recency), symptoms are folded under the causes that
//! `explains` them, and the revision timeline and churn are read off the evidence.

use crate::facts::{Index, Loc, ObsClass};
use crate::report::*;
use crate::rules::{ConditionTest, Rule, RuleSet, Severity, Source};
use crate::snapshot::{split_td, Sealed, Snapshot};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

mod changes;
mod eval;
mod findings;
mod fold;
mod gate;
mod header;
mod history;
mod ran;
mod score;
#[cfg(test)]
mod tests;

use changes::*;
use eval::*;
pub use findings::fill_template;
use findings::*;
use fold::*;
use header::*;
use history::*;
use score::*;

/// How a report came about, for its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Snapshot,
    Scan,
    Live,
    Lint,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Snapshot => "snapshot",
            Mode::Scan => "scan",
            Mode::Live => "live",
            Mode::Lint => "lint",
        }
    }
}

/// Evidence items shown per finding.
const MAX_EVIDENCE: usize = 6;
/// Records kept per capture group.
const MAX_RECORDS_PER_GROUP: usize = 8;
/// Bindings kept per rule, to bound joins.
const MAX_BINDINGS: usize = 256;
/// A family with at least this many revisions registered inside the window is churning.
const CHURN_REVISIONS: usize = 5;
const CHURN_WINDOW_HOURS: i64 = 72;
/// Score factor for findings only seen in revisions that were since replaced.
const SUPERSEDED_FACTOR: f64 = 0.3;

/// Analyses a snapshot with a rule set.
pub fn analyze(snap: &Sealed, rules: &RuleSet) -> Report {
    analyze_as(snap, rules, Mode::Snapshot)
}

/// As [`analyze`], recording how the snapshot came about.
pub fn analyze_as(snap: &Sealed, rules: &RuleSet, mode: Mode) -> Report {
    analyze_index(snap, Index::build(snap), rules, mode)
}

/// Analyses the files `lint` read: task definitions in `snap`, the rest in `inputs`.
pub fn analyze_lint(
    snap: &Sealed,
    inputs: &crate::snapshot::LintInputs,
    rules: &RuleSet,
) -> Report {
    let mut report = analyze_index(
        snap,
        Index::build_with(snap, Some(inputs)),
        rules,
        Mode::Lint,
    );
    report.target.files = inputs.files.clone();
    report.notes.extend(inputs.notes.iter().cloned());
    // Revision history means nothing for files.
    report.timeline.clear();
    report.churn.clear();
    report.what_changed.clear();
    report
}

fn analyze_index(snap: &Snapshot, ix: Index, rules: &RuleSet, mode: Mode) -> Report {
    let gate = gate::Gate::new(rules, &ix);
    let mut raws: Vec<RawFinding> = rules
        .rules
        .iter()
        .enumerate()
        .flat_map(|(i, r)| evaluate_gated(r, i, &ix, gate.as_ref()))
        .collect();
    for f in &mut raws {
        score(f, &ix);
    }
    let (top, folded_into) = fold(&raws, rules);
    let mut findings = build_findings(snap, &ix, &raws, &top, &folded_into);
    let timeline = timeline(snap, &ix, &raws);
    let churn = churn(snap, &ix, &raws);
    let what_changed = what_changed(snap, &findings, &timeline);
    triggers(snap, &mut findings, rules, &what_changed, &timeline);
    account_triggers(&mut findings, &snap.account_changes);
    let mut account_changes = snap.account_changes.clone();
    account_changes.sort_by_key(|c| std::cmp::Reverse(c.time));
    account_changes.truncate(20);
    let incomplete: Vec<MissingCheck> = snap
        .collect_errors
        .iter()
        .map(|e| MissingCheck {
            action: e.action.clone(),
            code: e.code.clone(),
            check: e
                .check
                .clone()
                .unwrap_or_else(|| format!("checks that need {}", e.action)),
            message: e.message.clone(),
        })
        .collect();
    let status = if incomplete.is_empty() {
        Status::Complete
    } else {
        Status::Incomplete
    };
    let summary = summarize(&findings);
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: Tool {
            name: "sickbay".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        status,
        target: target_summary(snap, mode),
        summary,
        findings,
        timeline,
        churn,
        what_changed,
        account_changes,
        account_changes_read: trail_note(snap),
        db_probes: snap.db_probes.clone(),
        incomplete,
        notes: notes(snap, mode),
    }
}
