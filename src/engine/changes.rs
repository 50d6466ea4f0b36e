//! What changed: per family, the newest failing revision against the last good one
//! (or, when none was good, the previous revision that ran), read off the revision
//! timeline and diffed field by field. A revision fails when it ran and shows a failure
//! finding: high or critical, with evidence from what ran (logs, tasks, events, probes),
//! not only from configuration or facts derived from it. It is good when it ran (tasks or
//! logs) without one, or when a service deployment of it completed. Beside the task
//! definitions, the deployments and image digests of the two revisions are compared
//! (engine/ran.rs).

use super::*;
use crate::diff::diff;

/// Evidence sources that show something ran (facts and files only describe configuration).
const RUNTIME_SOURCES: &[&str] = &[
    "log",
    "service-event",
    "stopped-reason",
    "stop-code",
    "container-reason",
    "exit-code",
    "task",
    "deployment",
    "target-health",
    "log-stream",
    "db-probe",
];

/// Rule ids whose findings are failures: high or critical, seen in what ran.
fn failure_rules(findings: &[Finding]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in findings {
        let runtime =
            |source: &str| RUNTIME_SOURCES.contains(&source.split(':').next().unwrap_or(source));
        if f.severity >= Severity::High && f.sources.iter().any(|s| runtime(s)) {
            out.insert(f.rule.clone());
        }
        // A folded symptom counts by the same test, on its own evidence.
        for c in &f.explains {
            if c.severity >= Severity::High && c.evidence.iter().any(|e| runtime(&e.source)) {
                out.insert(c.rule.clone());
            }
        }
    }
    out
}

pub(super) fn what_changed(
    snap: &Snapshot,
    findings: &[Finding],
    timeline: &[FamilyTimeline],
) -> Vec<WhatChanged> {
    let failures = failure_rules(findings);
    let fails = |r: &RevisionRow| r.findings.iter().any(|id| failures.contains(id));
    let ran = |r: &RevisionRow| r.running_tasks + r.stopped_tasks > 0 || r.has_logs;
    let completed = |fam: &str, rev: i64| {
        snap.services.iter().flat_map(|s| &s.deployments).any(|d| {
            d.rollout_state.as_deref() == Some("COMPLETED")
                && split_td(&d.task_definition).is_some_and(|(f, r)| f == fam && r == rev)
        })
    };
    let mut out = Vec::new();
    // A family seen at one revision has nothing to compare.
    for fam in timeline.iter().filter(|f| f.revisions.len() > 1) {
        let Some(failing) = fam.revisions.iter().rev().find(|r| ran(r) && fails(r)) else {
            continue;
        };
        let (good, base, decided_by) = choose_base(fam, failing, &ran, &fails, &completed);
        out.push(compare(
            snap,
            fam,
            failing,
            good.is_some(),
            base,
            decided_by,
        ));
    }
    out
}

/// Picks the last good revision, the base to compare `failing` against, and why.
fn choose_base<'a>(
    fam: &'a FamilyTimeline,
    failing: &RevisionRow,
    ran: &impl Fn(&RevisionRow) -> bool,
    fails: &impl Fn(&RevisionRow) -> bool,
    completed: &impl Fn(&str, i64) -> bool,
) -> (Option<&'a RevisionRow>, Option<&'a RevisionRow>, String) {
    let older = fam
        .revisions
        .iter()
        .rev()
        .filter(|r| r.revision < failing.revision);
    let good = older
        .clone()
        .find(|r| completed(&fam.family, r.revision) || (ran(r) && !fails(r)));
    let (base, decided_by) = match good {
        Some(g) if completed(&fam.family, g.revision) => {
            (Some(g), "its service deployment completed".to_string())
        }
        Some(g) => (
            Some(g),
            format!(
                "it ran ({} running, {} stopped tasks{}) without a failure finding",
                g.running_tasks,
                g.stopped_tasks,
                if g.has_logs { ", with logs" } else { "" }
            ),
        ),
        None => match older.clone().find(|r| ran(r)) {
            Some(r) => (Some(r), "no last good revision in the window".to_string()),
            None => (
                None,
                "no last good revision in the window, and no earlier revision ran".to_string(),
            ),
        },
    };
    (good, base, decided_by)
}

/// Diffs `base` against `failing` and builds the family's what-changed entry.
fn compare(
    snap: &Snapshot,
    fam: &FamilyTimeline,
    failing: &RevisionRow,
    last_good: bool,
    base: Option<&RevisionRow>,
    decided_by: String,
) -> WhatChanged {
    let td = |rev: i64| {
        snap.task_definitions
            .iter()
            .find(|t| t.family == fam.family && t.revision == rev)
    };
    let name = |rev: i64| format!("{}:{rev}", fam.family);
    let not_compared = base.and_then(|b| {
        let missing: Vec<String> = [b.revision, failing.revision]
            .into_iter()
            .filter(|r| td(*r).is_none())
            .map(name)
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "{} not in the snapshot, so the task definitions were not compared",
                missing.join(" and ")
            )
        })
    });
    let mut changes = match base.map(|b| (td(b.revision), td(failing.revision))) {
        Some((Some(a), Some(b))) => diff(a, b, &name(a.revision), &name(b.revision)).changes,
        _ => Vec::new(),
    };
    if let Some(b) = base {
        changes.extend(super::ran::ran_changes(
            snap,
            &fam.family,
            b.revision,
            failing.revision,
        ));
    }
    let set = |r: Option<&RevisionRow>| -> BTreeSet<String> {
        r.map(|r| r.findings.iter().cloned().collect())
            .unwrap_or_default()
    };
    let (now, before) = (set(Some(failing)), set(base));
    WhatChanged {
        family: fam.family.clone(),
        failing: name(failing.revision),
        base: base.map(|b| name(b.revision)),
        last_good,
        decided_by,
        appeared: now.difference(&before).cloned().collect(),
        cleared: before.difference(&now).cloned().collect(),
        changes,
        not_compared,
    }
}

/// The kind of a diff field, as rules name it in `triggered_by` (`env DB_HOST` → `env`).
fn kind_of(field: &str) -> String {
    let head = field.split(' ').next().unwrap_or(field);
    match head {
        "env" | "secret" => head.to_string(),
        _ => field.replace(' ', "-"),
    }
}

/// Names, on each finding that appeared after the base revision, the change its rule
/// says it can be triggered by, from the first revision where it appeared (which may be
/// older than the newest failing one; changes made after it appeared are not its
/// trigger). A change whose name or values occur in the finding's message or evidence
/// is preferred (the `DATABASE_URL` of a DNS failure for that host), else the first
/// change of a listed kind.
pub(super) fn triggers(
    snap: &Snapshot,
    findings: &mut [Finding],
    rules: &RuleSet,
    changed: &[WhatChanged],
    timeline: &[FamilyTimeline],
) {
    for f in findings.iter_mut() {
        let Some(rule) = rules.get(&f.rule) else {
            continue;
        };
        if rule.triggered_by.is_empty() {
            continue;
        }
        let text: String = std::iter::once(f.message.as_str())
            .chain(f.evidence.iter().map(|e| e.excerpt.as_str()))
            .collect::<Vec<_>>()
            .join("\n");
        for w in changed {
            if !w.appeared.contains(&f.rule) || !f.revisions.contains(&w.failing) {
                continue;
            }
            let Some((first, changes)) = changes_until_first(snap, w, timeline, &f.rule) else {
                continue;
            };
            let candidates: Vec<&crate::diff::Change> = changes
                .iter()
                .filter(|c| rule.triggered_by.contains(&kind_of(&c.field)))
                .collect();
            let mentioned = |c: &&crate::diff::Change| {
                let name = c.field.split(' ').nth(1).unwrap_or("");
                (!name.is_empty() && text.contains(name))
                    || [&c.before, &c.after]
                        .iter()
                        .filter_map(|v| v.as_deref())
                        .any(|v| v.len() >= 4 && text.contains(v))
            };
            let pick = candidates
                .iter()
                .find(|c| mentioned(c))
                .or(candidates.first());
            if let Some(c) = pick {
                f.likely_trigger = Some(format!(
                    "began with {first}, which changed {}",
                    c.describe("->")
                ));
                break;
            }
        }
    }
}

/// The first revision after `w`'s base where `rule` was seen, and the changes from the
/// base to it: `w`'s own changes when that is the failing revision.
fn changes_until_first(
    snap: &Snapshot,
    w: &WhatChanged,
    timeline: &[FamilyTimeline],
    rule: &str,
) -> Option<(String, Vec<crate::diff::Change>)> {
    let rev = |key: &str| split_td(key).map(|(_, r)| r);
    let (base, failing) = (rev(w.base.as_deref()?)?, rev(&w.failing)?);
    let fam = timeline.iter().find(|t| t.family == w.family)?;
    let first = fam
        .revisions
        .iter()
        .filter(|r| r.revision > base && r.revision <= failing)
        .find(|r| r.findings.iter().any(|id| id == rule))
        .map_or(failing, |r| r.revision);
    let name = format!("{}:{first}", w.family);
    if first == failing {
        return Some((name, w.changes.clone()));
    }
    let td = |r: i64| {
        snap.task_definitions
            .iter()
            .find(|t| t.family == w.family && t.revision == r)
    };
    let mut changes = match (td(base), td(first)) {
        (Some(a), Some(b)) => diff(a, b, "", "").changes,
        _ => Vec::new(),
    };
    changes.extend(super::ran::ran_changes(snap, &w.family, base, first));
    Some((name, changes))
}

/// For findings no task-definition change explains, the account change (CloudTrail) that
/// touched a resource the finding names, made before the finding was first seen: the
/// newest such change.
pub(super) fn account_triggers(
    findings: &mut [Finding],
    changes: &[crate::snapshot::AccountChange],
) {
    if changes.is_empty() {
        return;
    }
    for f in findings.iter_mut().filter(|f| f.likely_trigger.is_none()) {
        let mut text = f.message.clone();
        for e in &f.evidence {
            text.push(' ');
            text.push_str(&e.excerpt);
        }
        let pick = changes
            .iter()
            .filter(|c| f.first_seen.is_none_or(|t| c.time <= t))
            .filter(|c| {
                c.resources
                    .iter()
                    .any(|r| specific(r) && text.contains(r.as_str()))
            })
            .max_by_key(|c| c.time);
        if let Some(c) = pick {
            let by = c
                .user
                .as_deref()
                .map(|u| format!(" by {u}"))
                .unwrap_or_default();
            let on: Vec<&str> = c
                .resources
                .iter()
                .filter(|r| specific(r) && text.contains(r.as_str()))
                .map(String::as_str)
                .collect();
            let detail = c
                .detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            f.likely_trigger = Some(format!(
                "began after {} on {}{detail}{by} at {}",
                c.event,
                on.join(", "),
                c.time.format("%Y-%m-%d %H:%M:%SZ")
            ));
        }
    }
}

/// How CloudTrail was read, for the account-changes section: denied, nothing found, or
/// what was read. `None` when it was not read at all.
pub(super) fn trail_note(snap: &Snapshot) -> Option<String> {
    let action = "cloudtrail:LookupEvents";
    if let Some(e) = snap.collect_errors.iter().find(|e| e.action == action) {
        let code = e.code.as_deref().unwrap_or("error");
        return Some(if code == "DeadlineExceeded" || code == "Timeout" {
            format!(
                "CloudTrail was read only in part ({action}: {code}): older changes in the \
                 window are unknown; the revision diff stands on its own"
            )
        } else {
            format!(
                "CloudTrail could not be read ({action}: {code}): changes made in the \
                 account are unknown; the revision diff stands on its own"
            )
        });
    }
    let t = snap.trail.as_ref()?;
    let read = format!(
        "{} LookupEvents call{} ({} by resource), {} write event{} read{}",
        t.calls,
        if t.calls == 1 { "" } else { "s" },
        t.by_resource,
        t.events,
        if t.events == 1 { "" } else { "s" },
        if t.truncated {
            "; the read's bounds stopped it before the window's start"
        } else {
            ""
        }
    );
    Some(if snap.account_changes.is_empty() {
        format!("CloudTrail: no write event in the window touched the resources in scope ({read})")
    } else {
        format!("CloudTrail: {read}")
    })
}

/// A resource named specifically enough to tie a finding to a change: an AWS id
/// (`rtb-0abc…`, `sg-…`), an ARN, or a path-like name (log group, repository). Service
/// and cluster names appear in every finding about them, so a deployment touching the
/// service would otherwise claim every finding.
pub(super) fn specific(r: &str) -> bool {
    if r.contains(':') || r.contains('/') {
        return r.len() >= 6;
    }
    match r.split_once('-') {
        Some((prefix, id)) => {
            (1..=6).contains(&prefix.len())
                && prefix.bytes().all(|b| b.is_ascii_lowercase())
                && id.len() >= 8
                && id.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}
