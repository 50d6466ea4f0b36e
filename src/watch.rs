//! `doctor --watch`: what one round of a watch means, from its report and the services'
//! rollouts. Each cause is matched with the round before by rule and title: it
//! appeared, persisted or cleared. A round is done when every service in scope is
//! stable, as `aws ecs wait services-stable` judges it (one deployment, and as many
//! tasks running as desired), no finding is at or above `--fail-on`, and nothing was
//! left uncollected. Rendering is in `render::watch`; the loop is the binary's.

use crate::report::Report;
use crate::rules::Severity;
use crate::snapshot::Snapshot;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// One service's rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    pub service: String,
    /// The primary deployment's rollout state, when ECS gives one.
    pub state: Option<String>,
    pub running: i32,
    pub desired: i32,
    pub deployments: usize,
}

impl Rollout {
    /// Stable: one deployment, and as many tasks running as desired.
    pub fn stable(&self) -> bool {
        self.deployments <= 1 && self.running == self.desired
    }
}

/// The services' rollouts in a snapshot, by name.
pub fn rollouts(snap: &Snapshot) -> Vec<Rollout> {
    let mut out: Vec<Rollout> = snap
        .services
        .iter()
        .map(|s| Rollout {
            service: s.name.clone(),
            state: s
                .deployments
                .iter()
                .find(|d| d.status == "PRIMARY")
                .and_then(|d| d.rollout_state.clone()),
            running: s.running_count,
            desired: s.desired_count,
            deployments: s.deployments.len(),
        })
        .collect();
    out.sort_by(|a, b| a.service.cmp(&b.service));
    out
}

/// How a cause compares with the round before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Appeared,
    Persisted,
    Cleared,
}

/// A cause of this round or the one before.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    pub change: Change,
    pub rule: String,
    pub severity: Severity,
    pub title: String,
}

/// One round, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    pub number: usize,
    pub at: DateTime<Utc>,
    pub rollouts: Vec<Rollout>,
    /// Appeared and persisted causes by rank, then cleared ones.
    pub causes: Vec<Cause>,
    /// The `--fail-on` severity, and how many current findings reach it.
    pub fail_on: Option<Severity>,
    pub blocking: usize,
    /// Checks left undone this round (the report is `incomplete`).
    pub incomplete: usize,
}

impl Round {
    /// Whether the watch can stop with success.
    pub fn done(&self) -> bool {
        self.incomplete == 0
            && self.blocking == 0
            && !self.rollouts.is_empty()
            && self.rollouts.iter().all(Rollout::stable)
    }
}

/// Judges a round's report against the previous round's.
pub fn judge(
    number: usize,
    at: DateTime<Utc>,
    prev: Option<&Report>,
    cur: &Report,
    rollouts: Vec<Rollout>,
    fail_on: Option<Severity>,
) -> Round {
    let key = |rule: &str, title: &str| (rule.to_string(), title.to_string());
    let before: BTreeMap<(String, String), Severity> = prev
        .map(|p| {
            p.findings
                .iter()
                .map(|f| (key(&f.rule, &f.title), f.severity))
                .collect()
        })
        .unwrap_or_default();
    let mut causes: Vec<Cause> = cur
        .findings
        .iter()
        .map(|f| Cause {
            change: if before.contains_key(&key(&f.rule, &f.title)) {
                Change::Persisted
            } else {
                Change::Appeared
            },
            rule: f.rule.clone(),
            severity: f.severity,
            title: f.title.clone(),
        })
        .collect();
    let now: Vec<(String, String)> = cur
        .findings
        .iter()
        .map(|f| key(&f.rule, &f.title))
        .collect();
    for ((rule, title), severity) in before {
        if !now.contains(&(rule.clone(), title.clone())) {
            causes.push(Cause {
                change: Change::Cleared,
                rule,
                severity,
                title,
            });
        }
    }
    Round {
        number,
        at,
        rollouts,
        causes,
        fail_on,
        blocking: fail_on.map_or(0, |s| {
            cur.findings.iter().filter(|f| f.severity >= s).count()
        }),
        incomplete: cur.incomplete.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real report (the start-path fixture's) cut down to findings with these rules
    /// and severities.
    fn report(findings: &[(&str, Severity)]) -> Report {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/start-path/snapshot.json"
        );
        let snap = crate::snapshot::load_snapshot(std::path::Path::new(path)).unwrap();
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let mut r = crate::engine::analyze(&snap, &rules);
        let template = r.findings[0].clone();
        r.findings = findings
            .iter()
            .map(|(rule, severity)| {
                let mut f = template.clone();
                f.rule = rule.to_string();
                f.title = format!("{rule} title");
                f.severity = *severity;
                f
            })
            .collect();
        r.incomplete.clear();
        r
    }

    fn stable(running: i32) -> Vec<Rollout> {
        vec![Rollout {
            service: "api".into(),
            state: Some("IN_PROGRESS".into()),
            running,
            desired: 1,
            deployments: 1,
        }]
    }

    #[test]
    fn causes_appear_persist_and_clear_and_the_round_is_done_when_stable_and_clean() {
        let at = Utc::now();
        let one = report(&[("NET004", Severity::High), ("CFG011", Severity::Medium)]);
        let r1 = judge(1, at, None, &one, stable(0), Some(Severity::High));
        assert!(r1.causes.iter().all(|c| c.change == Change::Appeared));
        assert_eq!(r1.blocking, 1);
        assert!(!r1.done());

        let two = report(&[("CFG011", Severity::Medium)]);
        let r2 = judge(2, at, Some(&one), &two, stable(1), Some(Severity::High));
        let changes: Vec<(&str, Change)> = r2
            .causes
            .iter()
            .map(|c| (c.rule.as_str(), c.change))
            .collect();
        assert_eq!(
            changes,
            [("CFG011", Change::Persisted), ("NET004", Change::Cleared)]
        );
        assert_eq!(r2.blocking, 0);
        assert!(r2.done(), "{r2:?}");

        // A medium finding blocks when --fail-on medium; nothing blocks with never; a
        // second deployment is not stable; no service at all is not done.
        assert!(!judge(2, at, None, &two, stable(1), Some(Severity::Medium)).done());
        assert!(judge(2, at, None, &two, stable(1), None).done());
        let mut rolling = stable(1);
        rolling[0].deployments = 2;
        assert!(!judge(2, at, None, &two, rolling, None).done());
        assert!(!judge(2, at, None, &two, Vec::new(), None).done());
    }
}
