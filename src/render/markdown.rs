//! Markdown output: a ticket body with a summary, ranked causes with evidence, a fix
//! checklist, the revision timeline and what could not be checked.

use super::{plural, when};
use crate::report::{Finding, Recency, Report, Status};
use std::fmt::Write;

/// Escapes text for a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Wraps text in a code span that survives backticks inside it.
fn code(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest > 0 {
        format!("{fence} {s} {fence}")
    } else {
        format!("`{s}`")
    }
}

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    header(&mut o, r);
    services(&mut o, r);
    lint_files(&mut o, r);
    root_causes(&mut o, r);
    timeline(&mut o, r);
    db_probes(&mut o, r);
    account_changes(&mut o, r);
    what_changed(&mut o, r);
    churn(&mut o, r);
    incomplete(&mut o, r);
    notes(&mut o, r);
    o
}

/// Writes the title, metadata line, severity counts, top root cause and target note.
fn header(o: &mut String, r: &Report) {
    let title = match &r.target.cluster {
        Some(c) => format!("sickbay report: {c}"),
        None if r.target.mode == "lint" => "sickbay lint".to_string(),
        None => "sickbay report".to_string(),
    };
    let _ = writeln!(o, "# {title}\n");
    let status = match r.status {
        Status::Complete => "complete",
        Status::Incomplete => "**incomplete**",
    };
    let mut meta = vec![
        format!("**Status:** {status}"),
        format!("**Mode:** {}", r.target.mode),
    ];
    if let Some(reg) = &r.target.region {
        meta.push(format!("**Region:** {reg}"));
    }
    if !r.target.files.is_empty() {
        meta.push(format!("**Files:** {}", r.target.files.len()));
    }
    if let Some(t) = &r.target.captured_at {
        meta.push(format!("**Captured:** {}", when(t)));
    }
    meta.push(format!("**sickbay:** {}", r.tool.version));
    let _ = writeln!(o, "{}\n", meta.join(" · "));
    let s = &r.summary;
    let _ = writeln!(
        o,
        "{}: {} critical, {} high, {} medium, {} low, {} info.",
        plural(s.findings, "finding"),
        s.critical,
        s.high,
        s.medium,
        s.low,
        s.info
    );
    if let Some(f) = r.findings.first() {
        let _ = writeln!(
            o,
            "\n**Most likely root cause:** {} ({}): {}",
            f.title, f.rule, f.message
        );
    }
    if let Some(n) = &r.target.note {
        let _ = writeln!(o, "\n> {}", n.replace('\n', " "));
    }
}

/// Writes the services table, if the target has services.
fn services(o: &mut String, r: &Report) {
    if !r.target.services.is_empty() {
        let _ = writeln!(o, "\n## Services\n\n| service | health | running/desired | task definition | rollout |\n|---|---|---|---|---|");
        for sv in &r.target.services {
            let _ = writeln!(
                o,
                "| {} | {} | {}/{} | {} | {} |",
                cell(&sv.name),
                sv.health,
                sv.running,
                sv.desired,
                cell(sv.task_definition.as_deref().unwrap_or("")),
                cell(sv.rollout_state.as_deref().unwrap_or(""))
            );
        }
    }
}

/// Writes the list of linted files in lint mode.
fn lint_files(o: &mut String, r: &Report) {
    if r.target.mode == "lint" {
        let _ = writeln!(o, "\n## Files\n");
        for f in &r.target.files {
            let _ = writeln!(o, "- `{f}`");
        }
    }
}

/// Writes the root-causes section: every finding, or a line saying none matched.
fn root_causes(o: &mut String, r: &Report) {
    let _ = writeln!(o, "\n## Root causes\n");
    if r.findings.is_empty() {
        if r.target.mode == "lint" {
            let _ = writeln!(o, "No problems found.");
        } else {
            let _ = writeln!(o, "No known failure signature matched.");
        }
    }
    for f in &r.findings {
        finding(o, f);
    }
}

/// Writes one ranked finding: heading, message, evidence, explained findings and fix.
fn finding(o: &mut String, f: &Finding) {
    let recency = match f.recency {
        Recency::Current => String::new(),
        Recency::Superseded => " (superseded)".to_string(),
    };
    let _ = writeln!(
        o,
        "### {}. {} `{}` {}{recency}\n",
        f.rank,
        f.severity.as_str().to_uppercase(),
        f.rule,
        f.title
    );
    if let Some(t) = &f.likely_trigger {
        let _ = writeln!(o, "**Likely trigger:** {t}\n");
    }
    let _ = writeln!(o, "{}\n", f.message);
    let _ = writeln!(
        o,
        "Confidence {:.2}, seen {} times in {}{}.",
        f.confidence,
        f.occurrences,
        f.sources.join(", "),
        super::seen_span(f)
            .map(|s| format!(", {s}"))
            .unwrap_or_default()
    );
    if let Some(n) = &f.superseded_note {
        let _ = writeln!(o, "\n_Superseded: {n}._");
    }
    let _ = writeln!(o, "\n**Evidence**\n");
    for e in &f.evidence {
        let mut m = vec![e.source.clone(), e.locator.clone()];
        if let Some(t) = &e.time {
            m.push(when(t));
        }
        let count = if e.count > 1 {
            format!(" ×{}", e.count)
        } else {
            String::new()
        };
        let _ = writeln!(o, "- {}: {}{count}", m.join(", "), code(&e.excerpt));
    }
    if f.more_evidence > 0 {
        let _ = writeln!(o, "- … and {} more", f.more_evidence);
    }
    if !f.explains.is_empty() {
        let _ = writeln!(o, "\n**Explains**\n");
        for c in &f.explains {
            let _ = writeln!(o, "- `{}` {} (seen {})", c.rule, c.title, c.occurrences);
        }
    }
    let _ = writeln!(o, "\n**Fix**\n");
    for step in &f.fix {
        let _ = writeln!(o, "- [ ] {step}");
    }
    if !f.verify.is_empty() {
        let _ = writeln!(o, "\n**Verify:** {}", f.verify);
    }
    if !f.references.is_empty() {
        let _ = writeln!(o, "\n**References:** {}", f.references.join(", "));
    }
    let _ = writeln!(o);
}

/// Writes the revision timeline table.
fn timeline(o: &mut String, r: &Report) {
    if !r.timeline.is_empty() {
        let _ = writeln!(o, "## Revision timeline\n");
        let _ = writeln!(o, "| revision | registered | image | tasks run/stop | logs | findings | cleared |\n|---|---|---|---|---|---|---|");
        for fam in &r.timeline {
            for row in &fam.revisions {
                let _ = writeln!(
                    o,
                    "| {}:{} | {} | {} | {}/{} | {} | {} | {} |",
                    cell(&fam.family),
                    row.revision,
                    row.registered_at.as_ref().map(when).unwrap_or_default(),
                    cell(row.image.as_deref().unwrap_or("")),
                    row.running_tasks,
                    row.stopped_tasks,
                    if row.has_logs { "yes" } else { "no" },
                    row.findings.join(" "),
                    row.cleared.join(" ")
                );
            }
        }
        let _ = writeln!(o);
    }
}

/// Writes the database probe results.
fn db_probes(o: &mut String, r: &Report) {
    if !r.db_probes.is_empty() {
        let _ = writeln!(o, "## Database probes\n");
        for p in &r.db_probes {
            let _ = writeln!(
                o,
                "### {}\n\n{}\n",
                cell(&super::probe::heading(p)),
                cell(&super::probe::verdict(p))
            );
            if super::probe::not_probed(p) {
                for n in &p.notes {
                    let _ = writeln!(o, "- {}", cell(n));
                }
                let _ = writeln!(o);
                continue;
            }
            let _ = writeln!(o, "| stage | status | code | detail |\n|---|---|---|---|");
            for s in &p.stages {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} |",
                    s.stage,
                    s.status,
                    cell(s.code.as_deref().unwrap_or("")),
                    cell(s.detail.as_deref().unwrap_or(""))
                );
            }
            let _ = writeln!(o);
            for n in &p.notes {
                let _ = writeln!(o, "- {}", cell(n));
            }
            if !p.notes.is_empty() {
                let _ = writeln!(o);
            }
        }
    }
}

/// Writes the CloudTrail account changes seen in the window.
fn account_changes(o: &mut String, r: &Report) {
    if !r.account_changes.is_empty() || r.account_changes_read.is_some() {
        let _ = writeln!(o, "## Account changes in the window (CloudTrail)\n");
        for c in &r.account_changes {
            let _ = writeln!(o, "- {}", cell(&super::account_change_line(c)));
        }
        if let Some(n) = &r.account_changes_read {
            let _ = writeln!(o, "\n_{}_", cell(n));
        }
        let _ = writeln!(o);
    }
}

/// Writes what changed between revisions of each family.
fn what_changed(o: &mut String, r: &Report) {
    if !r.what_changed.is_empty() {
        let _ = writeln!(o, "## What changed\n");
        for w in &r.what_changed {
            let _ = writeln!(o, "**{}**: {}\n", w.family, super::what_changed_heading(w));
            if !w.appeared.is_empty() || !w.cleared.is_empty() {
                let code = |v: &[String]| {
                    if v.is_empty() {
                        "none".to_string()
                    } else {
                        v.iter()
                            .map(|x| format!("`{x}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                };
                let _ = writeln!(
                    o,
                    "- findings appeared: {}; cleared: {}",
                    code(&w.appeared),
                    code(&w.cleared)
                );
            }
            for c in &w.changes {
                let _ = writeln!(o, "- {}", c.describe("→").replace('|', "\\|"));
            }
            if let Some(line) = super::what_changed_none(w) {
                let _ = writeln!(o, "- {}", cell(&line));
            }
            let _ = writeln!(o);
        }
    }
}

/// Writes the churn section.
fn churn(o: &mut String, r: &Report) {
    if !r.churn.is_empty() {
        let _ = writeln!(o, "## Churn\n");
        for c in &r.churn {
            let _ = writeln!(o, "- {}", c.message);
        }
        let _ = writeln!(o);
    }
}

/// Writes the checks that could not run and the permission each needs.
fn incomplete(o: &mut String, r: &Report) {
    if !r.incomplete.is_empty() {
        let _ = writeln!(o, "## Checks that could not run\n");
        for m in &r.incomplete {
            let _ = writeln!(
                o,
                "- {}: `{}` failed ({}). Allow `{}` to run it.",
                m.check,
                m.action,
                m.code.as_deref().unwrap_or("error"),
                m.action
            );
        }
        let _ = writeln!(o);
    }
}

/// Writes the free-form notes.
fn notes(o: &mut String, r: &Report) {
    if !r.notes.is_empty() {
        let _ = writeln!(o, "## Notes\n");
        for n in &r.notes {
            let _ = writeln!(o, "- {n}");
        }
    }
}
