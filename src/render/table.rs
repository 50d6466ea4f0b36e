//! Terminal output: a header with the target and its health, a ranked table of root
//! causes, then one block per cause with evidence, folded symptoms and fix commands.
//! Colour is decided by the caller through `colored`'s global switch.

use super::{plural, when};
use crate::report::{Finding, Recency, Report, Status};
use crate::rules::Severity;
use colored::{ColoredString, Colorize};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use std::fmt::Write;

pub fn severity_label(s: Severity) -> ColoredString {
    let t = s.as_str().to_uppercase();
    match s {
        Severity::Critical => t.red().bold(),
        Severity::High => t.red(),
        Severity::Medium => t.yellow(),
        Severity::Low => t.blue(),
        Severity::Info => t.dimmed(),
    }
}

pub(crate) fn new_table(width: u16) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width);
    t
}

/// Renders the report for a terminal `width` columns wide.
pub fn render(report: &Report, width: u16) -> String {
    let mut out = String::new();
    header(&mut out, report, width);
    root_causes(&mut out, report, width);
    timeline(&mut out, report, width);
    db_probes(&mut out, report, width);
    churn(&mut out, report);
    what_changed(&mut out, report);
    account_changes(&mut out, report);
    incomplete(&mut out, report);
    notes(&mut out, report);
    out
}

/// Writes the ranked root-cause table and one block per finding, or says none matched.
fn root_causes(out: &mut String, report: &Report, width: u16) {
    if report.findings.is_empty() {
        let msg = if report.target.mode == "lint" {
            "No problems found."
        } else {
            "No known failure signature matched."
        };
        let _ = writeln!(out, "\n{}", msg.green());
    } else {
        let mut t = new_table(width);
        t.set_header(vec![
            "#",
            "severity",
            "rule",
            "root cause",
            "confidence",
            "seen",
            "recency",
        ]);
        for f in &report.findings {
            t.add_row(vec![
                f.rank.to_string(),
                severity_label(f.severity).to_string(),
                f.rule.clone(),
                f.title.clone(),
                format!("{:.2}", f.confidence),
                f.occurrences.to_string(),
                match f.recency {
                    Recency::Current => "current".to_string(),
                    Recency::Superseded => "superseded".to_string(),
                },
            ]);
        }
        let _ = writeln!(out, "\n{}\n{t}", "Root causes, most likely first".bold());
        for f in &report.findings {
            finding(out, f);
        }
    }
}

/// Writes one stage table per database probe, or its notes when it was not probed.
fn db_probes(out: &mut String, report: &Report, width: u16) {
    for p in &report.db_probes {
        let _ = writeln!(
            out,
            "\n{} {}\n{}",
            "Database probe:".bold(),
            super::probe::heading(p),
            super::probe::verdict(p)
        );
        if super::probe::not_probed(p) {
            for n in &p.notes {
                let _ = writeln!(out, "  - {n}");
            }
            continue;
        }
        let mut t = new_table(width);
        t.set_header(vec!["stage", "status", "code", "detail"]);
        for s in &p.stages {
            t.add_row(vec![
                s.stage.clone(),
                s.status.clone(),
                s.code.clone().unwrap_or_default(),
                s.detail.clone().unwrap_or_default(),
            ]);
        }
        let _ = writeln!(out, "{t}");
        for n in &p.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
}

/// Writes one line per churn warning.
fn churn(out: &mut String, report: &Report) {
    for c in &report.churn {
        let _ = writeln!(out, "\n{} {}", "Churn:".yellow().bold(), c.message);
    }
}

/// Writes what changed between revisions of each family.
fn what_changed(out: &mut String, report: &Report) {
    for w in &report.what_changed {
        let _ = writeln!(
            out,
            "\n{} {}",
            "What changed:".bold(),
            super::what_changed_heading(w)
        );
        if !w.appeared.is_empty() || !w.cleared.is_empty() {
            let list = |v: &[String]| {
                if v.is_empty() {
                    "-".to_string()
                } else {
                    v.join(", ")
                }
            };
            let _ = writeln!(
                out,
                "  findings appeared: {}; cleared: {}",
                list(&w.appeared),
                list(&w.cleared)
            );
        }
        for c in &w.changes {
            let _ = writeln!(out, "  - {}", c.describe("->"));
        }
        if let Some(line) = super::what_changed_none(w) {
            let _ = writeln!(out, "  - {line}");
        }
    }
}

/// Writes the CloudTrail account changes seen in the window.
fn account_changes(out: &mut String, report: &Report) {
    if !report.account_changes.is_empty() || report.account_changes_read.is_some() {
        let _ = writeln!(
            out,
            "\n{}",
            "Account changes in the window (CloudTrail)".bold()
        );
        for c in &report.account_changes {
            let _ = writeln!(out, "  - {}", super::account_change_line(c));
        }
        if let Some(n) = &report.account_changes_read {
            let _ = writeln!(out, "  {}", n.dimmed());
        }
    }
}

/// Writes the checks that could not run and the permission each needs.
fn incomplete(out: &mut String, report: &Report) {
    if !report.incomplete.is_empty() {
        let _ = writeln!(out, "\n{}", "Checks that could not run".yellow().bold());
        for m in &report.incomplete {
            let _ = writeln!(
                out,
                "  - {}: {} denied or failed ({}); allow {} to run it",
                m.check,
                m.action,
                m.code.as_deref().unwrap_or("error"),
                m.action
            );
        }
    }
}

/// Writes the free-form notes.
fn notes(out: &mut String, report: &Report) {
    for n in &report.notes {
        let _ = writeln!(out, "\n{} {n}", "Note:".dimmed());
    }
}

fn header(out: &mut String, r: &Report, width: u16) {
    let mut parts = vec![format!("sickbay {}", r.tool.version)];
    if let Some(c) = &r.target.cluster {
        let region = r
            .target
            .region
            .as_deref()
            .map(|x| format!(" ({x})"))
            .unwrap_or_default();
        parts.push(format!("cluster {c}{region}"));
    }
    parts.push(r.target.mode.clone());
    if !r.target.files.is_empty() {
        parts.push(plural(r.target.files.len(), "file"));
    }
    if let Some(t) = &r.target.captured_at {
        parts.push(format!("captured {}", when(t)));
    }
    let status = match r.status {
        Status::Complete => "complete".green(),
        Status::Incomplete => "INCOMPLETE".yellow().bold(),
    };
    parts.push(format!("status {status}"));
    let _ = writeln!(out, "{}", parts.join(" · "));
    let s = &r.summary;
    let _ = writeln!(
        out,
        "{}: {} critical, {} high, {} medium, {} low, {} info",
        plural(s.findings, "finding"),
        s.critical,
        s.high,
        s.medium,
        s.low,
        s.info
    );
    if let Some(n) = &r.target.note {
        let _ = writeln!(out, "{}", n.dimmed());
    }
    if !r.target.services.is_empty() {
        let mut t = new_table(width);
        t.set_header(vec![
            "service",
            "health",
            "running/desired",
            "pending",
            "task definition",
            "rollout",
        ]);
        for s in &r.target.services {
            let health = match s.health.as_str() {
                "healthy" => s.health.green(),
                "degraded" => s.health.yellow(),
                _ => s.health.red().bold(),
            };
            t.add_row(vec![
                s.name.clone(),
                health.to_string(),
                format!("{}/{}", s.running, s.desired),
                s.pending.to_string(),
                s.task_definition.clone().unwrap_or_default(),
                s.rollout_state.clone().unwrap_or_default(),
            ]);
        }
        let _ = writeln!(out, "{t}");
    }
}

fn finding(out: &mut String, f: &Finding) {
    let _ = writeln!(
        out,
        "\n{} {} {} {}  (confidence {:.2})",
        format!("#{}", f.rank).bold(),
        severity_label(f.severity),
        f.rule.bold(),
        f.title,
        f.confidence
    );
    let _ = writeln!(out, "   {}", f.message);
    if let Some(t) = &f.likely_trigger {
        let _ = writeln!(out, "   {} {t}", "likely trigger:".bold());
    }
    if let Some(span) = super::seen_span(f) {
        let times = if f.occurrences == 1 { "once" } else { "times" };
        let n = if f.occurrences == 1 {
            String::new()
        } else {
            format!("{} ", f.occurrences)
        };
        let _ = writeln!(out, "   {} {n}{times} {span}", "seen".dimmed());
    }
    if let Some(n) = &f.superseded_note {
        let _ = writeln!(out, "   {} {n}", "superseded:".dimmed());
    }
    let _ = writeln!(out, "   {}", "Evidence".bold());
    for e in &f.evidence {
        let mut meta = vec![e.source.clone(), e.locator.clone()];
        if let Some(r) = &e.revision {
            if !e.locator.contains(r.as_str()) {
                meta.push(r.clone());
            }
        }
        if let Some(t) = &e.time {
            meta.push(when(t));
        }
        let count = if e.count > 1 {
            format!(" (x{})", e.count)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "     - [{}] {}{count}",
            meta.join(" | ").dimmed(),
            e.excerpt
        );
    }
    if f.more_evidence > 0 {
        let _ = writeln!(out, "     ... and {} more", f.more_evidence);
    }
    if !f.explains.is_empty() {
        let _ = writeln!(out, "   {}", "Explains".bold());
        for c in &f.explains {
            let _ = writeln!(
                out,
                "     - {} {} ({}, seen {})",
                c.rule,
                c.title,
                c.severity.as_str(),
                c.occurrences
            );
        }
    }
    let _ = writeln!(out, "   {}", "Fix".bold());
    for (i, step) in f.fix.iter().enumerate() {
        let _ = writeln!(out, "     {}. {step}", i + 1);
    }
    if !f.verify.is_empty() {
        let _ = writeln!(out, "   {} {}", "Verify:".bold(), f.verify);
    }
}

fn timeline(out: &mut String, r: &Report, width: u16) {
    for fam in &r.timeline {
        let mut t = new_table(width);
        t.set_header(vec![
            "revision",
            "registered",
            "image",
            "tasks run/stop",
            "logs",
            "findings",
            "cleared",
        ]);
        for row in &fam.revisions {
            t.add_row(vec![
                format!("{}:{}", fam.family, row.revision),
                row.registered_at.as_ref().map(when).unwrap_or_default(),
                row.image.clone().unwrap_or_default(),
                format!("{}/{}", row.running_tasks, row.stopped_tasks),
                if row.has_logs { "yes" } else { "no" }.to_string(),
                row.findings.join(" "),
                row.cleared.join(" "),
            ]);
        }
        let _ = writeln!(out, "\n{} {}\n{t}", "Revision timeline:".bold(), fam.family);
    }
}
