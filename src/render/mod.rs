//! Renderers: table (comfy-table + colored), JSON, Markdown, SARIF and GitHub workflow
//! commands. They only read a [`Report`](crate::report::Report) (SARIF also the rule
//! pack's documentation); nothing here computes findings.

pub mod diff;
pub mod github;
pub mod json;
pub mod markdown;
pub mod probe;
pub mod rules;
pub mod sarif;
pub mod table;
pub mod watch;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
    /// SARIF 2.1.0, for code scanning (doctor, scan, lint)
    Sarif,
    /// GitHub Actions annotations (doctor, scan, lint)
    Github,
}

impl Format {
    /// True for the formats only finding reports have (not rules, probes or policies).
    pub fn findings_only(self) -> bool {
        matches!(self, Format::Sarif | Format::Github)
    }
}

/// Text for a count with a noun, e.g. "1 finding", "3 findings".
pub(crate) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Short UTC time for display.
pub(crate) fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// When a finding was seen, in words: `between 2025-11-03 09:50:59Z and 10:12:00Z` (the
/// date once when both fall on one day), `at ...` for a single time, `None` without times.
pub fn seen_span(f: &crate::report::Finding) -> Option<String> {
    let full = "%Y-%m-%d %H:%M:%SZ";
    match (f.first_seen, f.last_seen) {
        (Some(a), Some(b)) if a != b => {
            let end = if a.date_naive() == b.date_naive() {
                b.format("%H:%M:%SZ")
            } else {
                b.format(full)
            };
            Some(format!("between {} and {end}", a.format(full)))
        }
        (Some(a), _) => Some(format!("at {}", a.format(full))),
        _ => None,
    }
}

/// The heading line of a "what changed" entry: `api:12 fails; compared with api:11, the
/// last good revision (how it was decided)`.
/// One account change in words: `03:01:12Z DeleteRoute (ec2) on rtb-1 by alice`.
pub fn account_change_line(c: &crate::snapshot::AccountChange) -> String {
    let source = c.source.trim_end_matches(".amazonaws.com");
    let by = c
        .user
        .as_deref()
        .map(|u| format!(" by {u}"))
        .unwrap_or_default();
    let detail = c
        .detail
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    format!(
        "{} {} ({source}) on {}{by}{detail}",
        c.time.format("%Y-%m-%d %H:%M:%SZ"),
        c.event,
        c.resources.join(", ")
    )
}

/// The line under a comparison that lists no change: not compared, or no difference.
pub fn what_changed_none(w: &crate::report::WhatChanged) -> Option<String> {
    match &w.not_compared {
        Some(why) => Some(why.clone()),
        None if w.base.is_some() && w.changes.is_empty() => {
            Some("no difference in the task definitions".to_string())
        }
        None => None,
    }
}

pub fn what_changed_heading(w: &crate::report::WhatChanged) -> String {
    match &w.base {
        Some(b) if w.last_good => format!(
            "{} fails; compared with {b}, the last good revision ({})",
            w.failing, w.decided_by
        ),
        Some(b) => format!(
            "{} fails; compared with {b}, the previous revision that ran ({})",
            w.failing, w.decided_by
        ),
        None => format!("{} fails: {}", w.failing, w.decided_by),
    }
}
