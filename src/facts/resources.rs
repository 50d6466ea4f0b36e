//! Facts about the resources a task definition in use names, from the start-path
//! lookups: `log-group` (does the awslogs group exist), `secret-ref` (does each referenced
//! secret or parameter), `image` (does each ECR image exist and offer the task's
//! platform), `role` and `role-permission` (do the roles exist, trust ECS tasks, and may
//! the execution role do what the agent does).

use super::{Index, Loc};
use crate::rules::shapes::{Image, LogGroup, Role, RolePermission, SecretRef};
use crate::snapshot::{Snapshot, TaskDefinition};
use std::collections::BTreeSet;

/// One `log-group` fact per awslogs group a task definition in use names.
pub(super) fn log_groups(ix: &mut Index, snap: &Snapshot) {
    if snap.log_groups.is_empty() {
        return;
    }
    let mut seen = BTreeSet::new();
    for td in in_use(snap) {
        for c in &td.containers {
            let Some(l) = c
                .log_configuration
                .as_ref()
                .filter(|l| l.log_driver == "awslogs")
            else {
                continue;
            };
            let Some(group) = l.options.get("awslogs-group") else {
                continue;
            };
            let Some(check) = snap.log_groups.iter().find(|g| &g.group == group) else {
                continue;
            };
            if !seen.insert((td.key(), group.clone())) {
                continue;
            }
            let create = l
                .options
                .get("awslogs-create-group")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            let rec = LogGroup {
                group: group.clone(),
                exists: check.exists,
                create_group: create,
                task_definition: td.key(),
            };
            let loc = Loc {
                log_group: Some(group.as_str().into()),
                ..part_loc(ix, td, Some(&c.name), &format!("log group {group}"))
            };
            ix.add(&rec, loc);
        }
    }
}

/// One `secret-ref` fact per secret reference of a task definition in use that was
/// looked up.
pub(super) fn secret_refs(ix: &mut Index, snap: &Snapshot) {
    if snap.secret_refs.is_empty() {
        return;
    }
    for td in in_use(snap) {
        for c in &td.containers {
            for s in &c.secrets {
                let Some(check) = snap
                    .secret_refs
                    .iter()
                    .find(|r| r.reference == s.value_from)
                else {
                    continue;
                };
                let rec = SecretRef {
                    var: s.name.clone(),
                    store: check.store.clone(),
                    reference: s.value_from.clone(),
                    exists: check.exists,
                    task_definition: td.key(),
                };
                let loc = part_loc(ix, td, Some(&c.name), &format!("secret {}", s.name));
                ix.add(&rec, loc);
            }
        }
    }
}

/// One `image` fact per ECR image of a task definition in use that was looked up.
pub(super) fn images(ix: &mut Index, snap: &Snapshot) {
    if snap.images.is_empty() {
        return;
    }
    for td in in_use(snap) {
        let wanted = wanted_platform(snap, td);
        for c in &td.containers {
            let Some(check) = snap.images.iter().find(|i| i.image == c.image) else {
                continue;
            };
            let platform_ok = match (&wanted, check.platforms.is_empty()) {
                (None, _) | (_, true) => "unknown",
                (Some(w), false) => {
                    if check
                        .platforms
                        .iter()
                        .any(|p| p == w || p.starts_with(&format!("{w}/")))
                    {
                        "yes"
                    } else {
                        "no"
                    }
                }
            };
            let rec = Image {
                image: c.image.clone(),
                exists: check.exists,
                platforms: if check.platforms.is_empty() {
                    "-".into()
                } else {
                    check.platforms.join(",")
                },
                wanted: wanted.clone().unwrap_or_else(|| "unknown".into()),
                platform_ok,
                task_definition: td.key(),
                note: check.note.clone().unwrap_or_default(),
            };
            ix.add(&rec, part_loc(ix, td, Some(&c.name), "image"));
        }
    }
}

/// The platform a Fargate task of `td` runs on (`linux/amd64` unless its runtime platform
/// says ARM64); `None` when it may run on EC2, whose instances decide.
fn wanted_platform(snap: &Snapshot, td: &TaskDefinition) -> Option<String> {
    let key = td.key();
    let by_service = snap
        .services
        .iter()
        .filter(|s| s.task_definition.as_deref() == Some(key.as_str()))
        .any(|s| s.launch_type.as_deref() == Some("FARGATE"));
    let fargate_only = td.requires_compatibilities.iter().any(|c| c == "FARGATE")
        && !td.requires_compatibilities.iter().any(|c| c == "EC2");
    if !by_service && !fargate_only {
        return None;
    }
    let arm = td
        .runtime_platform
        .as_ref()
        .and_then(|p| p.cpu_architecture.as_deref())
        .is_some_and(|a| a.eq_ignore_ascii_case("ARM64"));
    Some(if arm { "linux/arm64" } else { "linux/amd64" }.to_string())
}

/// One `role` fact per role of a task definition in use that was looked up, and one
/// `role-permission` fact per task definition whose execution role was denied something.
pub(super) fn roles(ix: &mut Index, snap: &Snapshot) {
    for td in in_use(snap) {
        for (kind, arn) in [
            ("execution", &td.execution_role_arn),
            ("task", &td.task_role_arn),
        ] {
            let Some(check) = arn
                .as_ref()
                .and_then(|a| snap.roles.iter().find(|r| &r.arn == a))
            else {
                continue;
            };
            let rec = Role {
                role: check.arn.clone(),
                role_name: check.arn.rsplit('/').next().unwrap_or_default().to_string(),
                kind,
                exists: check.exists,
                trusts_ecs_tasks: match check.trusts_ecs_tasks {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "unknown",
                },
                task_definition: td.key(),
            };
            ix.add(&rec, part_loc(ix, td, None, &format!("{kind} role")));
        }
        let key = td.key();
        let denied: Vec<_> = snap
            .permissions
            .iter()
            .filter(|p| p.task_definition == key && p.decision != "allowed")
            .collect();
        let Some(first) = denied.first() else {
            continue;
        };
        let mut by_resource: std::collections::BTreeMap<&str, BTreeSet<&str>> = Default::default();
        for p in &denied {
            by_resource
                .entry(p.resource.as_str())
                .or_default()
                .insert(p.action.as_str());
        }
        let statements: Vec<serde_json::Value> = by_resource
            .iter()
            .map(|(r, a)| serde_json::json!({"Effect": "Allow", "Action": a, "Resource": r}))
            .collect();
        let policy = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
        let actions: BTreeSet<&str> = denied.iter().map(|p| p.action.as_str()).collect();
        let rec = RolePermission {
            role: first.role.clone(),
            role_name: first
                .role
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string(),
            task_definition: key.clone(),
            actions: actions.into_iter().collect::<Vec<_>>().join(","),
            resources: by_resource.keys().copied().collect::<Vec<_>>().join(","),
            denied: denied.len(),
            policy: policy.to_string(),
        };
        ix.add(&rec, part_loc(ix, td, None, "execution role"));
    }
}

/// Where a fact about a part of `td` is: its service, revision and container, and a
/// locator `task definition api:7 container app <what>`.
fn part_loc(ix: &Index, td: &TaskDefinition, container: Option<&str>, what: &str) -> Loc {
    let locator = match container {
        Some(c) => format!("task definition {} container {c} {what}", td.key()),
        None => format!("task definition {} {what}", td.key()),
    };
    Loc {
        service: ix.family_service.get(&td.family).cloned().map(Into::into),
        family: Some(td.family.as_str().into()),
        revision: Some(td.revision),
        container: container.map(String::from).map(Into::into),
        locator: locator.into(),
        ..Loc::default()
    }
}

/// The task definitions services and tasks run.
fn in_use(snap: &Snapshot) -> impl Iterator<Item = &TaskDefinition> {
    let keys: BTreeSet<String> = snap
        .services
        .iter()
        .filter_map(|s| s.task_definition.clone())
        .chain(snap.tasks.iter().map(|t| t.task_definition.clone()))
        .collect();
    snap.task_definitions
        .iter()
        .filter(move |t| keys.contains(&t.key()))
}
