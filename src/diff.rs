//! What changed between two task-definition revisions, field by field: image, environment
//! (added, removed, changed), secret references, command and entry point, ports, CPU and
//! memory, roles, health check, runtime platform and log configuration. Pure: it reads
//! two sealed task definitions, so a secret's value is never here to compare or show; a
//! redacted value is compared and shown by its fingerprint marker only.

use crate::snapshot::redact::MARKER;
use crate::snapshot::{ContainerDefinition, TaskDefinition};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// How a field changed.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One changed field. A secret's `before`/`after` are its redaction markers, which carry
/// only a fingerprint, and `secret` says so.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Change {
    /// `task` or the container's name.
    pub scope: String,
    /// `image`, `env DATABASE_URL`, `cpu` ...
    pub field: String,
    pub kind: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// The value is a secret: only whether it changed is known.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

impl Change {
    /// The change as a line: `app env DB_HOST: db-a -> db-b`, `added`/`removed` for one
    /// side; shared by the renderers and the likely-trigger text.
    pub fn describe(&self, arrow: &str) -> String {
        let secret = if self.secret {
            " (secret: fingerprints)"
        } else {
            ""
        };
        let (s, f) = (&self.scope, &self.field);
        match (&self.before, &self.after) {
            (Some(a), Some(b)) => format!("{s} {f}{secret}: {a} {arrow} {b}"),
            (None, Some(b)) => format!("{s} {f} added{secret}: {b}"),
            (Some(a), None) => format!("{s} {f} removed{secret} (was {a})"),
            (None, None) => format!("{s} {f}"),
        }
    }
}

/// The changes from one revision to another.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct RevisionDiff {
    /// `family:revision` (or the file name) of each side.
    pub from: String,
    pub to: String,
    pub changes: Vec<Change>,
}

/// Field-by-field changes from `a` to `b`. Containers are matched by name.
pub fn diff(a: &TaskDefinition, b: &TaskDefinition, from: &str, to: &str) -> RevisionDiff {
    let mut out = Vec::new();
    let mut put = |scope: &str, field: &str, x: Option<String>, y: Option<String>| {
        if let Some(c) = change(scope, field, x, y) {
            out.push(c);
        }
    };
    let platform = |t: &TaskDefinition| {
        t.runtime_platform.as_ref().map(|p| {
            format!(
                "{}/{}",
                p.cpu_architecture.as_deref().unwrap_or("-"),
                p.os_family.as_deref().unwrap_or("-")
            )
        })
    };
    put("task", "cpu", a.cpu.clone(), b.cpu.clone());
    put("task", "memory", a.memory.clone(), b.memory.clone());
    put(
        "task",
        "task role",
        a.task_role_arn.clone(),
        b.task_role_arn.clone(),
    );
    put(
        "task",
        "execution role",
        a.execution_role_arn.clone(),
        b.execution_role_arn.clone(),
    );
    put("task", "runtime platform", platform(a), platform(b));
    put(
        "task",
        "network mode",
        a.network_mode.clone(),
        b.network_mode.clone(),
    );
    let by_name = |t: &TaskDefinition| -> BTreeMap<String, ContainerDefinition> {
        t.containers
            .iter()
            .map(|c| (c.name.clone(), c.clone()))
            .collect()
    };
    let (ca, cb) = (by_name(a), by_name(b));
    let mut per_container = Vec::new();
    for name in ca.keys().chain(cb.keys().filter(|k| !ca.contains_key(*k))) {
        match (ca.get(name), cb.get(name)) {
            (Some(x), Some(y)) => per_container.extend(containers(name, x, y)),
            (x, y) => put(
                name,
                "container",
                x.map(|c| c.image.clone()),
                y.map(|c| c.image.clone()),
            ),
        }
    }
    out.extend(per_container);
    RevisionDiff {
        from: from.into(),
        to: to.into(),
        changes: out,
    }
}

fn containers(name: &str, a: &ContainerDefinition, b: &ContainerDefinition) -> Vec<Change> {
    let mut out = Vec::new();
    let mut put = |field: &str, x: Option<String>, y: Option<String>| {
        if let Some(c) = change(name, field, x, y) {
            out.push(c);
        }
    };
    let join = |v: &[String]| (!v.is_empty()).then(|| v.join(" "));
    put("image", Some(a.image.clone()), Some(b.image.clone()));
    put("command", join(&a.command), join(&b.command));
    put("entry point", join(&a.entry_point), join(&b.entry_point));
    put(
        "essential",
        Some(a.essential.to_string()),
        Some(b.essential.to_string()),
    );
    let mem = |c: &ContainerDefinition| c.memory.map(|m| m.to_string());
    put("memory", mem(a), mem(b));
    let ports = |c: &ContainerDefinition| {
        let v: Vec<String> = c
            .port_mappings
            .iter()
            .map(|p| match p.host_port {
                Some(h) if h != p.container_port => format!("{h}:{}", p.container_port),
                _ => p.container_port.to_string(),
            })
            .collect();
        join(&v)
    };
    put("ports", ports(a), ports(b));
    let health = |c: &ContainerDefinition| {
        c.health_check.as_ref().map(|h| {
            format!(
                "{} (interval {}s, retries {}, start period {}s)",
                h.command.join(" "),
                h.interval.unwrap_or(30),
                h.retries.unwrap_or(3),
                h.start_period.unwrap_or(0)
            )
        })
    };
    put("health check", health(a), health(b));
    let logs = |c: &ContainerDefinition| {
        c.log_configuration.as_ref().map(|l| {
            let opts: Vec<String> = l.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{} {}", l.log_driver, opts.join(" "))
                .trim()
                .to_string()
        })
    };
    put("log configuration", logs(a), logs(b));
    let env = |c: &ContainerDefinition| -> BTreeMap<String, String> {
        c.environment
            .iter()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect()
    };
    keyed(&mut put, "env", env(a), env(b));
    let secrets = |c: &ContainerDefinition| -> BTreeMap<String, String> {
        c.secrets
            .iter()
            .map(|s| (s.name.clone(), s.value_from.clone()))
            .collect()
    };
    keyed(&mut put, "secret", secrets(a), secrets(b));
    out
}

/// Changes of a name → value map, one per name.
fn keyed(
    put: &mut impl FnMut(&str, Option<String>, Option<String>),
    what: &str,
    a: BTreeMap<String, String>,
    b: BTreeMap<String, String>,
) {
    let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for n in names {
        put(&format!("{what} {n}"), a.get(n).cloned(), b.get(n).cloned());
    }
}

/// One field's change, `None` when both sides are the same; a side that carries a
/// redaction marker makes it a secret's change.
pub fn change(scope: &str, field: &str, x: Option<String>, y: Option<String>) -> Option<Change> {
    let kind = match (&x, &y) {
        (None, None) => return None,
        (Some(p), Some(q)) if p == q => return None,
        (None, Some(_)) => ChangeKind::Added,
        (Some(_), None) => ChangeKind::Removed,
        _ => ChangeKind::Changed,
    };
    let secret = [&x, &y]
        .iter()
        .any(|v| v.as_deref().is_some_and(|s| s.contains(MARKER)));
    Some(Change {
        scope: scope.into(),
        field: field.into(),
        kind,
        before: x,
        after: y,
        secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::EnvVar;

    fn td(image: &str, env: &[(&str, &str)], cpu: &str) -> TaskDefinition {
        TaskDefinition {
            family: "api".into(),
            cpu: Some(cpu.into()),
            containers: vec![ContainerDefinition {
                name: "app".into(),
                image: image.into(),
                essential: true,
                environment: env
                    .iter()
                    .map(|(n, v)| EnvVar {
                        name: n.to_string(),
                        value: v.to_string(),
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn reports_each_changed_field_once_and_hides_secret_values() {
        let secret_a = format!("{MARKER}0123456789ab>");
        let secret_b = format!("{MARKER}ba9876543210>");
        let a = td(
            "api:1.4",
            &[
                ("DB_HOST", "db-a"),
                ("OLD", "x"),
                ("TOKEN", &secret_a),
                ("SAME", "s"),
            ],
            "256",
        );
        let b = td(
            "api:1.5",
            &[
                ("DB_HOST", "db-b"),
                ("NEW", "y"),
                ("TOKEN", &secret_b),
                ("SAME", "s"),
            ],
            "512",
        );
        let d = diff(&a, &b, "api:4", "api:5");
        let got: Vec<(String, ChangeKind, Option<String>, Option<String>)> = d
            .changes
            .iter()
            .map(|c| (c.field.clone(), c.kind, c.before.clone(), c.after.clone()))
            .collect();
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            got,
            vec![
                ("cpu".into(), ChangeKind::Changed, s("256"), s("512")),
                (
                    "image".into(),
                    ChangeKind::Changed,
                    s("api:1.4"),
                    s("api:1.5")
                ),
                (
                    "env DB_HOST".into(),
                    ChangeKind::Changed,
                    s("db-a"),
                    s("db-b")
                ),
                ("env NEW".into(), ChangeKind::Added, None, s("y")),
                ("env OLD".into(), ChangeKind::Removed, s("x"), None),
                (
                    "env TOKEN".into(),
                    ChangeKind::Changed,
                    s(&secret_a),
                    s(&secret_b)
                ),
            ]
        );
        assert!(d.changes.last().unwrap().secret);
        assert!(diff(&a, &a, "a", "a").changes.is_empty());
    }
}
