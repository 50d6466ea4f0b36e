//! The revision history read off the evidence: which finding was present in which
//! task-definition revision, and families redeployed many times while a failure stayed.

use super::*;

/// Revisions a finding was observed at: from its required evidence, counting
/// configuration-only evidence just for high and critical findings, so advisory
/// config rules do not crowd the timeline.
pub(super) fn revisions_of(f: &RawFinding, ix: &Index) -> BTreeSet<(String, i64)> {
    f.required_records
        .iter()
        .filter(|&&ri| {
            ix.records[ri].source.obs_class() != ObsClass::Config
                || f.rule.severity >= Severity::High
        })
        .filter_map(|&ri| {
            let l = &ix.records[ri].loc;
            Some((l.family.as_deref()?.to_string(), l.revision?))
        })
        .collect()
}

pub(super) fn timeline(snap: &Snapshot, ix: &Index, raws: &[RawFinding]) -> Vec<FamilyTimeline> {
    let mut revs: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for td in &snap.task_definitions {
        revs.entry(td.family.clone())
            .or_default()
            .insert(td.revision);
    }
    for t in &snap.tasks {
        if let Some((f, r)) = split_td(&t.task_definition) {
            revs.entry(f).or_default().insert(r);
        }
    }
    let mut at: BTreeMap<(String, i64), BTreeSet<String>> = BTreeMap::new();
    for f in raws {
        for key in revisions_of(f, ix) {
            at.entry(key).or_default().insert(f.rule.id.clone());
        }
    }
    let mut out = Vec::new();
    for (family, set) in revs {
        let has_findings = set.iter().any(|r| at.contains_key(&(family.clone(), *r)));
        if set.len() < 2 && !has_findings {
            continue;
        }
        let mut rows = Vec::new();
        let mut prev: Option<BTreeSet<String>> = None;
        for rev in set {
            let td = snap
                .task_definitions
                .iter()
                .find(|t| t.family == family && t.revision == rev);
            let tasks: Vec<_> = snap
                .tasks
                .iter()
                .filter(|t| split_td(&t.task_definition) == Some((family.clone(), rev)))
                .collect();
            let stopped = tasks.iter().filter(|t| t.last_status == "STOPPED").count();
            let has_logs = ix.observed.contains(&(ObsClass::Logs, family.clone(), rev));
            let findings = at.get(&(family.clone(), rev)).cloned().unwrap_or_default();
            let ran = has_logs || !tasks.is_empty();
            let cleared = match (&prev, ran) {
                (Some(p), true) if has_logs => p.difference(&findings).cloned().collect(),
                _ => Vec::new(),
            };
            rows.push(RevisionRow {
                revision: rev,
                registered_at: td.and_then(|t| t.registered_at),
                image: td.and_then(|t| {
                    t.containers
                        .iter()
                        .find(|c| c.essential)
                        .or(t.containers.first())
                        .map(|c| c.image.clone())
                }),
                running_tasks: tasks.len() - stopped,
                stopped_tasks: stopped,
                has_logs,
                findings: findings.iter().cloned().collect(),
                cleared,
            });
            if ran || !findings.is_empty() {
                prev = Some(findings);
            }
        }
        out.push(FamilyTimeline {
            family,
            revisions: rows,
        });
    }
    out
}

pub(super) fn churn(snap: &Snapshot, ix: &Index, raws: &[RawFinding]) -> Vec<Churn> {
    let mut out = Vec::new();
    let mut fams: BTreeMap<&str, Vec<(i64, chrono::DateTime<chrono::Utc>)>> = BTreeMap::new();
    for td in &snap.task_definitions {
        if let Some(t) = td.registered_at {
            fams.entry(&td.family).or_default().push((td.revision, t));
        }
    }
    for (family, mut list) in fams {
        list.sort();
        // Largest number of registrations inside any window.
        let mut best = (0usize, 0usize);
        for i in 0..list.len() {
            let mut j = i;
            while j + 1 < list.len()
                && (list[j + 1].1 - list[i].1).num_hours() <= CHURN_WINDOW_HOURS
            {
                j += 1;
            }
            if j + 1 - i > best.1 - best.0 {
                best = (i, j + 1);
            }
        }
        let n = best.1 - best.0;
        if n < CHURN_REVISIONS {
            continue;
        }
        let window = &list[best.0..best.1];
        let latest = list.last().map(|x| x.0).unwrap_or_default();
        let deployments = snap
            .services
            .iter()
            .flat_map(|s| s.deployments.iter())
            .filter(|d| split_td(&d.task_definition).is_some_and(|(f, _)| f == family))
            .count();
        let persisting: Vec<String> = raws
            .iter()
            .filter(|f| {
                let revs = revisions_of(f, ix);
                let here: Vec<i64> = revs
                    .iter()
                    .filter(|(fa, _)| fa == family)
                    .map(|(_, r)| *r)
                    .collect();
                here.contains(&latest) && here.iter().any(|&r| r < latest)
            })
            .map(|f| f.rule.id.clone())
            .collect();
        let hours = (window.last().unwrap().1 - window[0].1).num_hours().max(1);
        let message = if persisting.is_empty() {
            format!("{family}: {n} revisions registered in {hours} h")
        } else {
            format!(
                "{family}: {n} revisions registered in {hours} h and {} still present in {family}:{latest}; new revisions are not fixing the cause",
                persisting.join(", ")
            )
        };
        out.push(Churn {
            family: family.to_string(),
            revisions: n,
            deployments,
            window_hours: hours,
            first: Some(window[0].1),
            last: Some(window.last().unwrap().1),
            persisting,
            message,
        });
    }
    out
}
