//! Task-definition records: one per revision, container and field (`env`, `secret`,
//! `image`, `health-check`, `runtime-platform`, `log-driver`, `network-mode`, `command`,
//! `port`), placed at their file position under `lint`. [`task_definitions`] walks the
//! revisions; [`revision_loc`] places a revision, [`revision_fields`] pushes its
//! revision-wide fields and [`container_fields`] those of each container.

use super::{Index, Loc};
use crate::rules::Source;
use crate::snapshot::{ContainerDefinition, LintInputs, Origin, Snapshot, TaskDefinition};

pub(super) fn task_definitions(ix: &mut Index, snap: &Snapshot, lint: Option<&LintInputs>) {
    for td in &snap.task_definitions {
        let key = td.key();
        let base = revision_loc(ix, td, &key, lint);
        revision_fields(ix, td, &key, &base, lint);
        for c in &td.containers {
            container_fields(ix, c, &key, &base, lint);
        }
    }
}

/// Where a part is: its file position under `lint`, else a description.
fn place(
    lint: Option<&LintInputs>,
    key: &str,
    container: Option<&str>,
    what: Option<&str>,
    fallback: String,
) -> (String, Option<Origin>) {
    match lint.and_then(|l| l.origin_of(key, container, what)) {
        Some(o) => (o.locator(), Some(o.clone())),
        None => (fallback, None),
    }
}

/// The location of a revision as a whole, the base of its records.
fn revision_loc(ix: &Index, td: &TaskDefinition, key: &str, lint: Option<&LintInputs>) -> Loc {
    let service = ix.family_service.get(&td.family).cloned();
    let synthetic = lint.is_some_and(|l| l.synthetic_revisions.contains(key));
    let (locator, origin) = place(lint, key, None, None, format!("task definition {key}"));
    Loc {
        service: service.map(Into::into),
        family: Some(td.family.as_str().into()),
        revision: (!synthetic).then_some(td.revision),
        time: td.registered_at,
        locator: locator.into(),
        origin,
        ..Loc::default()
    }
}

/// Pushes the revision-wide `runtime-platform` and `network-mode` records.
fn revision_fields(
    ix: &mut Index,
    td: &TaskDefinition,
    key: &str,
    base: &Loc,
    lint: Option<&LintInputs>,
) {
    let platform = match &td.runtime_platform {
        Some(p) => format!(
            "{}/{}",
            p.cpu_architecture.as_deref().unwrap_or("unset"),
            p.os_family.as_deref().unwrap_or("unset")
        ),
        None => "unset".into(),
    };
    let at = |what: &str| {
        let exact = lint.and_then(|l| {
            l.origins
                .get(&crate::snapshot::part_key(key, None, Some(what)))
        });
        match exact {
            Some(o) => Loc {
                locator: o.locator().into(),
                origin: Some(o.clone()),
                ..base.clone()
            },
            // Not in the file: point at the task definition, naming what is missing.
            None if base.origin.is_some() => Loc {
                locator: format!("{} (no {what})", base.locator).into(),
                ..base.clone()
            },
            None => base.clone(),
        }
    };
    ix.push(
        Source::TaskDefinition,
        Some("runtime-platform"),
        platform,
        at("runtimePlatform"),
        1,
    );
    if let Some(m) = &td.network_mode {
        ix.push(
            Source::TaskDefinition,
            Some("network-mode"),
            m.clone(),
            at("networkMode"),
            1,
        );
    }
}

/// Pushes one container's records: image, env, secrets, health check, log driver,
/// command and ports, in that order.
fn container_fields(
    ix: &mut Index,
    c: &ContainerDefinition,
    key: &str,
    base: &Loc,
    lint: Option<&LintInputs>,
) {
    let (locator, origin) = place(
        lint,
        key,
        Some(&c.name),
        None,
        format!("task definition {key} container {}", c.name),
    );
    let loc = Loc {
        container: Some(c.name.as_str().into()),
        locator: locator.into(),
        origin,
        ..base.clone()
    };
    let mut push = |field: &'static str, text: String, what: &str, part: &str| {
        let l = field_loc(lint, key, &c.name, &loc, field, what, part);
        ix.push(Source::TaskDefinition, Some(field), text, l, 1);
    };
    push("image", c.image.clone(), "image", "image");
    for e in &c.environment {
        push(
            "env",
            format!("{}={}", e.name, e.value),
            &format!("env {}", e.name),
            &format!("env/{}", e.name),
        );
    }
    for s in &c.secrets {
        push(
            "secret",
            format!("{}={}", s.name, s.value_from),
            &format!("secret {}", s.name),
            &format!("secret/{}", s.name),
        );
    }
    if c.essential {
        let hc = c
            .health_check
            .as_ref()
            .map_or_else(|| "none".to_string(), |h| h.command.join(" "));
        push("health-check", hc, "health check", "health-check");
    }
    let driver = c
        .log_configuration
        .as_ref()
        .map_or_else(|| "none".to_string(), |l| l.log_driver.clone());
    push("log-driver", driver, "log configuration", "log-driver");
    let cmd: Vec<&str> = c
        .entry_point
        .iter()
        .chain(c.command.iter())
        .map(String::as_str)
        .collect();
    if !cmd.is_empty() {
        push("command", cmd.join(" "), "command", "command");
    }
    for (j, p) in c.port_mappings.iter().enumerate() {
        let proto = p.protocol.as_deref().unwrap_or("tcp");
        push(
            "port",
            format!("{}/{proto}", p.container_port),
            "port mapping",
            &format!("port/{j}"),
        );
    }
}

/// Where one field of a container is: its file position under `lint`, else the
/// container's location naming the field.
fn field_loc(
    lint: Option<&LintInputs>,
    key: &str,
    container: &str,
    loc: &Loc,
    field: &str,
    what: &str,
    part: &str,
) -> Loc {
    let mut l = loc.clone();
    match lint.and_then(|li| {
        li.origins
            .get(&crate::snapshot::part_key(key, Some(container), Some(part)))
    }) {
        Some(o) => {
            l.locator = o.locator().into();
            l.origin = Some(o.clone());
        }
        None if l.origin.is_some() => {
            // Missing in the file: point at the container, naming the field.
            let missing = match field {
                "health-check" => "no healthCheck",
                "log-driver" => "no logConfiguration",
                _ => what,
            };
            l.locator = format!("{} ({missing})", loc.locator).into();
        }
        None if !what.is_empty() => {
            l.locator = format!("{} {what}", loc.locator).into();
        }
        None => {}
    }
    l
}
