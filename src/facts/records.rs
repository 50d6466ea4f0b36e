//! Records of what was observed: service events and deployments, tasks and their
//! containers, log lines and log streams, target health, database probe stages,
//! collection errors and routes. Structured ones are built from their typed shapes in
//! [`crate::rules::shapes`].

use super::{short, td_loc, Index, Loc};
use crate::rules::shapes;
use crate::rules::Source;
use crate::snapshot::{LogLine, Snapshot};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) fn services(ix: &mut Index, snap: &Snapshot) {
    for svc in &snap.services {
        for ev in &svc.events {
            let loc = Loc {
                service: Some(svc.name.as_str().into()),
                time: Some(ev.created_at),
                locator: format!("service {} event", svc.name).into(),
                ..Loc::default()
            };
            ix.push(Source::ServiceEvent, None, ev.message.clone(), loc, 1);
        }
        for d in &svc.deployments {
            let (family, revision, _) = td_loc(ix, &d.task_definition);
            let rec = shapes::Deployment {
                status: d.status.clone(),
                rollout: d.rollout_state.clone().unwrap_or_else(|| "unknown".into()),
                failed_tasks: d.failed_tasks,
                desired: d.desired_count,
                running: d.running_count,
                task_definition: d.task_definition.clone(),
                reason: d.rollout_state_reason.clone().unwrap_or_default(),
            };
            let loc = Loc {
                service: Some(svc.name.as_str().into()),
                family: family.map(Into::into),
                revision,
                time: d.updated_at.or(d.created_at),
                locator: format!("service {} deployment {}", svc.name, d.id).into(),
                ..Loc::default()
            };
            ix.add(&rec, loc);
        }
    }
}

/// Pushes task records; returns task id → its location (for log lines).
pub(super) fn tasks(ix: &mut Index, snap: &Snapshot) -> HashMap<String, Loc> {
    let mut by_id = HashMap::new();
    for t in &snap.tasks {
        let (family, revision, fam_svc) = td_loc(ix, &t.task_definition);
        let service = t
            .group
            .as_deref()
            .and_then(|g| g.strip_prefix("service:"))
            .map(String::from)
            .or(fam_svc);
        let base = Loc {
            service: service.map(Into::into),
            task_id: Some(t.id.as_str().into()),
            family: family.map(Into::into),
            revision,
            time: t.stopped_at.or(t.started_at).or(t.created_at),
            locator: format!("task {} ({})", short(&t.id), t.task_definition).into(),
            ..Loc::default()
        };
        by_id.insert(t.id.clone(), base.clone());
        if let Some(r) = &t.stopped_reason {
            // A batch or one-off task ends with "Essential container in task exited" too;
            // say so when every container exited 0, so rules can tell completion from failure.
            let completed =
                !t.containers.is_empty() && t.containers.iter().all(|c| c.exit_code == Some(0));
            let text = if completed {
                format!("{r} (every container exited 0)")
            } else {
                r.clone()
            };
            ix.push(Source::StoppedReason, None, text, base.clone(), 1);
        }
        if let Some(c) = &t.stop_code {
            ix.push(Source::StopCode, None, c.clone(), base.clone(), 1);
        }
        let exits: Vec<String> = t
            .containers
            .iter()
            .filter_map(|c| c.exit_code.map(|x| format!("{}:{x}", c.name)))
            .collect();
        let rec = shapes::Task {
            status: t.last_status.clone(),
            desired: t.desired_status.clone().unwrap_or_default(),
            stop_code: t.stop_code.clone().unwrap_or_default(),
            group: t.group.clone().unwrap_or_default(),
            started_by: t.started_by.clone().unwrap_or_default(),
            launch_type: t.launch_type.clone().unwrap_or_default(),
            exit: exits.join(","),
        };
        ix.add(&rec, base.clone());
        for c in &t.containers {
            let loc = Loc {
                container: Some(c.name.as_str().into()),
                locator: format!("{} container {}", base.locator, c.name).into(),
                ..base.clone()
            };
            if let Some(r) = &c.reason {
                ix.push(Source::ContainerReason, None, r.clone(), loc.clone(), 1);
            }
            if let Some(x) = c.exit_code {
                ix.push(Source::ExitCode, None, x.to_string(), loc, 1);
            }
        }
    }
    by_id
}

pub(super) fn logs(ix: &mut Index, snap: &Snapshot, tasks: &HashMap<String, Loc>) {
    // A stream's lines share every name; the place is built once per run of lines.
    let mut run: Option<(&LogLine, Loc)> = None;
    for l in &snap.logs {
        let base = match run.take() {
            Some((prev, base)) if l.line.is_none() && same_stream(prev, l) => base,
            _ => log_place(l, tasks),
        };
        let loc = Loc {
            time: l.timestamp,
            last_time: l.last_timestamp,
            ..base.clone()
        };
        run = Some((l, base));
        ix.push(Source::Log, None, l.message.clone(), loc, l.count.max(1));
    }
    for s in &snap.log_streams {
        let task = s.task_id.as_ref().and_then(|t| tasks.get(t));
        let rec = shapes::LogStreamState {
            state: if s.exists { "exists" } else { "missing" },
            stream: s.stream.clone(),
            group: s.group.clone(),
            note: s.note.clone().unwrap_or_default(),
        };
        let loc = Loc {
            service: task.and_then(|t| t.service.clone()),
            task_id: s.task_id.as_deref().map(Into::into),
            family: task.and_then(|t| t.family.clone()),
            revision: task.and_then(|t| t.revision),
            container: s.container.as_deref().map(Into::into),
            log_group: Some(s.group.as_str().into()),
            time: task.and_then(|t| t.time),
            locator: format!("{} {}", s.group, s.stream).into(),
            ..Loc::default()
        };
        ix.add(&rec, loc);
    }
}

/// Whether two log lines come from the same stream of the same task and container.
fn same_stream(a: &LogLine, b: &LogLine) -> bool {
    (
        &a.group,
        &a.stream,
        &a.task_id,
        &a.container,
        a.line.is_some(),
    ) == (
        &b.group,
        &b.stream,
        &b.task_id,
        &b.container,
        b.line.is_some(),
    )
}

/// Where a log line was read: its stream and task, without its time.
fn log_place(l: &LogLine, tasks: &HashMap<String, Loc>) -> Loc {
    let task = l.task_id.as_ref().and_then(|t| tasks.get(t));
    let locator: Arc<str> = match (&l.group, &l.stream, l.line) {
        (None, Some(s), Some(_)) => s.as_str().into(),
        (Some(g), Some(s), _) => [g.as_str(), " ", s].concat().into(),
        (Some(g), None, _) => g.as_str().into(),
        (None, Some(s), _) => s.as_str().into(),
        (None, None, Some(n)) => format!("line {n}").into(),
        (None, None, None) => "log".into(),
    };
    Loc {
        service: task.and_then(|t| t.service.clone()),
        task_id: l.task_id.as_deref().map(Into::into),
        family: task.and_then(|t| t.family.clone()),
        revision: task.and_then(|t| t.revision),
        container: l.container.as_deref().map(Into::into),
        log_group: l.group.as_deref().map(Into::into),
        locator,
        ..Loc::default()
    }
}

/// Pushes the remaining records: target health, database probes, collection errors and
/// routes, in that order.
pub(super) fn misc(ix: &mut Index, snap: &Snapshot) {
    target_health(ix, snap);
    db_probes(ix, snap);
    collect_errors(ix, snap);
    routes(ix, snap);
}

/// Target-health records, named by target group and placed at the service it fronts.
fn target_health(ix: &mut Index, snap: &Snapshot) {
    let mut tg_service: HashMap<&str, &str> = HashMap::new();
    for svc in &snap.services {
        for lb in &svc.load_balancers {
            if let Some(arn) = &lb.target_group_arn {
                tg_service.insert(arn, &svc.name);
            }
        }
    }
    let tg_name: HashMap<&str, &str> = snap
        .load_balancers
        .iter()
        .flat_map(|lb| lb.target_groups.iter())
        .map(|tg| (tg.arn.as_str(), tg.name.as_str()))
        .collect();
    for th in &snap.target_health {
        let name = tg_name
            .get(th.target_group.as_str())
            .copied()
            .unwrap_or(&th.target_group);
        let rec = shapes::TargetHealth {
            state: th.state.clone(),
            reason: th.reason.clone().unwrap_or_default(),
            description: th.description.clone().unwrap_or_default(),
            target: th.target_id.clone(),
            port: th.port,
            target_group: name.to_string(),
        };
        let loc = Loc {
            service: (tg_service
                .get(th.target_group.as_str())
                .map(|s| s.to_string()))
            .map(Into::into),
            locator: format!("target group {name} target {}", th.target_id).into(),
            ..Loc::default()
        };
        ix.add(&rec, loc);
    }
}

/// Database probe records: each stage, missing table, recovery state and certificate.
fn db_probes(ix: &mut Index, snap: &Snapshot) {
    for p in &snap.db_probes {
        let base = Loc {
            locator: format!("db probe {}", p.target).into(),
            ..Loc::default()
        };
        for s in &p.stages {
            // Only a failed stage carries its detail: the words of an inconclusive one
            // ("self-signed certificate", "timed out") are no proof, and log patterns
            // must not read them as such.
            let detail = if s.status == "fail" {
                s.detail.as_deref().unwrap_or("")
            } else {
                ""
            };
            let rec = shapes::ProbeStage {
                stage: s.stage.to_string(),
                status: s.status.to_string(),
                code: s.code.clone().unwrap_or_default(),
                target: p.target.clone(),
                vantage: p.vantage.clone().unwrap_or_default(),
                detail: detail.to_string(),
            };
            ix.add(&rec, base.clone());
        }
        for t in &p.missing_tables {
            ix.add(
                &shapes::ProbeMissingTable {
                    missing_table: t.clone(),
                    target: p.target.clone(),
                },
                base.clone(),
            );
        }
        if p.in_recovery == Some(true) {
            ix.add(
                &shapes::ProbeInRecovery {
                    in_recovery: true,
                    target: p.target.clone(),
                },
                base.clone(),
            );
        }
        for c in &p.tls_chain {
            ix.add(
                &shapes::ProbeCert {
                    cert_subject: c.subject.clone(),
                    issuer: c.issuer.clone(),
                    target: p.target.clone(),
                },
                base.clone(),
            );
        }
    }
}

/// Records of the calls collection could not make.
fn collect_errors(ix: &mut Index, snap: &Snapshot) {
    for e in &snap.collect_errors {
        let rec = shapes::CollectError {
            action: e.action.clone(),
            code: e.code.clone().unwrap_or_default(),
            check: e.check.clone().unwrap_or_default(),
            message: e.message.clone(),
        };
        let loc = Loc {
            locator: format!("collection of {}", e.action).into(),
            ..Loc::default()
        };
        ix.add(&rec, loc);
    }
}

/// Route records, one per route-table entry.
fn routes(ix: &mut Index, snap: &Snapshot) {
    for r in &snap.network.routes {
        let rec = shapes::Route {
            table: r.route_table.clone(),
            destination: r.destination.clone(),
            target: r.target.clone(),
            state: r.state.clone(),
            target_state: r.target_state.clone().unwrap_or_default(),
        };
        let loc = Loc {
            locator: format!("route table {} route {}", r.route_table, r.destination).into(),
            ..Loc::default()
        };
        ix.add(&rec, loc);
    }
}
