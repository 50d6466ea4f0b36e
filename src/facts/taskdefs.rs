//! Task-definition records: one per revision, container and field (`env`, `secret`,
//! `image`, `health-check`, `runtime-platform`, `log-driver`, `network-mode`, `command`,
//! `port`), placed at their file position under `lint`.

use super::{Index, Loc};
use crate::rules::Source;
use crate::snapshot::Snapshot;

pub(super) fn task_definitions(
    ix: &mut Index,
    snap: &Snapshot,
    lint: Option<&crate::snapshot::LintInputs>,
) {
    for td in &snap.task_definitions {
        let service = ix.family_service.get(&td.family).cloned();
        let key = td.key();
        let synthetic = lint.is_some_and(|l| l.synthetic_revisions.contains(&key));
        // Where a part is: its file position under `lint`, else a description.
        let place = |container: Option<&str>, what: Option<&str>, fallback: String| match lint
            .and_then(|l| l.origin_of(&key, container, what))
        {
            Some(o) => (o.locator(), Some(o.clone())),
            None => (fallback, None),
        };
        let (locator, origin) = place(None, None, format!("task definition {key}"));
        let base = Loc {
            service,
            family: Some(td.family.clone()),
            revision: (!synthetic).then_some(td.revision),
            time: td.registered_at,
            locator,
            origin,
            ..Loc::default()
        };
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
                    .get(&crate::snapshot::part_key(&key, None, Some(what)))
            });
            match exact {
                Some(o) => Loc {
                    locator: o.locator(),
                    origin: Some(o.clone()),
                    ..base.clone()
                },
                // Not in the file: point at the task definition, naming what is missing.
                None if base.origin.is_some() => Loc {
                    locator: format!("{} (no {what})", base.locator),
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
        for c in &td.containers {
            let (locator, origin) = place(
                Some(&c.name),
                None,
                format!("task definition {key} container {}", c.name),
            );
            let loc = Loc {
                container: Some(c.name.clone()),
                locator,
                origin,
                ..base.clone()
            };
            let mut push = |field: &'static str, text: String, what: &str, part: &str| {
                let mut l = loc.clone();
                match lint.and_then(|li| {
                    li.origins
                        .get(&crate::snapshot::part_key(&key, Some(&c.name), Some(part)))
                }) {
                    Some(o) => {
                        l.locator = o.locator();
                        l.origin = Some(o.clone());
                    }
                    None if l.origin.is_some() => {
                        // Missing in the file: point at the container, naming the field.
                        let missing = match field {
                            "health-check" => "no healthCheck",
                            "log-driver" => "no logConfiguration",
                            _ => what,
                        };
                        l.locator = format!("{} ({missing})", loc.locator);
                    }
                    None if !what.is_empty() => {
                        l.locator = format!("{} {what}", loc.locator);
                    }
                    None => {}
                }
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
    }
}
