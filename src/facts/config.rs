//! Facts about configuration: task definitions (from a snapshot or from files) and the
//! docker-compose and env files `lint` reads. Dependency hosts in env values, health
//! checks per task, secrets shared between places or equal to a published default,
//! `${VAR}` references nothing defines, and host ports published twice.
//!
//! The file records, port conflicts, name sets and health checks are here; dependency
//! hosts are in `hosts`, the secret fingerprint facts in `secrets`.

mod hosts;
mod secrets;

pub use hosts::env_hosts;
pub use secrets::{public_defaults, secret_reuse};

use super::{Index, Loc};
use crate::rules::shapes;
use crate::rules::Source;
use crate::snapshot::{ConfigKind, LintInputs, Snapshot};
use std::collections::{BTreeMap, HashSet};

/// Location of something in a linted file; `scope` is the compose service.
fn file_loc(scope: Option<String>, origin: &crate::snapshot::Origin) -> Loc {
    Loc {
        container: scope.map(Into::into),
        locator: origin.locator().into(),
        origin: Some(origin.clone()),
        ..Loc::default()
    }
}

/// Records for the compose and env files, and the undefined-variable and port-conflict
/// facts that only exist across files.
pub fn files(ix: &mut Index, lint: &LintInputs) {
    for f in &lint.configs {
        let source = match f.kind {
            ConfigKind::Compose => Source::Compose,
            ConfigKind::Env => Source::EnvFile,
        };
        for e in &f.env {
            if e.from_variable {
                ix.interpolated
                    .insert((e.origin.file.clone(), e.origin.line, e.origin.column));
            }
            let loc = file_loc(e.scope.clone(), &e.origin);
            ix.push(
                source,
                Some("env"),
                format!("{}={}", e.name, e.value),
                loc,
                1,
            );
        }
        for s in &f.services {
            let loc = file_loc(Some(s.name.clone()), &s.origin);
            let rec = shapes::ComposeService {
                name: s.name.clone(),
                image: s.image.clone().unwrap_or_default(),
                healthcheck: if s.healthcheck { "yes" } else { "none" },
            };
            ix.add(&rec, loc);
        }
        for p in &f.ports {
            let loc = file_loc(Some(p.service.clone()), &p.origin);
            let rec = shapes::ComposePort {
                service: p.service.clone(),
                host_ip: p.host_ip.clone(),
                host_port: p.host_port.clone(),
                container_port: p.container_port.clone(),
                protocol: p.protocol.clone(),
            };
            ix.add(&rec, loc);
        }
        for r in &f.refs {
            // Compose references were checked against the compose file's own env
            // files when it was read; an env file's may be defined by another one.
            if f.kind == ConfigKind::Env && lint.variables.contains_key(&r.name) {
                continue;
            }
            let kind = match f.kind {
                ConfigKind::Compose => "compose",
                ConfigKind::Env => "env-file",
            };
            let rec = shapes::UndefinedVar {
                var: r.name.clone(),
                file: f.path.clone(),
                kind,
                scope: r.scope.clone().unwrap_or_else(|| "-".into()),
            };
            let loc = file_loc(r.scope.clone(), &r.origin);
            ix.add(&rec, loc);
        }
    }
    port_conflicts(ix, lint);
}

fn port_conflicts(ix: &mut Index, lint: &LintInputs) {
    let wildcard = |ip: &str| matches!(ip, "" | "0.0.0.0" | "::" | "*");
    let mut groups: BTreeMap<(String, String), Vec<&crate::snapshot::Published>> = BTreeMap::new();
    for f in lint
        .configs
        .iter()
        .filter(|f| f.kind == ConfigKind::Compose)
    {
        for p in &f.ports {
            groups
                .entry((p.host_port.clone(), p.protocol.to_ascii_lowercase()))
                .or_default()
                .push(p);
        }
    }
    for ((port, proto), list) in groups {
        // Every later publication that overlaps an earlier one from another service.
        for (i, b) in list.iter().enumerate() {
            let Some(a) = list[..i].iter().find(|a| {
                // The same service in an override or variant file is one service.
                a.service != b.service
                    && (wildcard(&a.host_ip) || wildcard(&b.host_ip) || a.host_ip == b.host_ip)
            }) else {
                continue;
            };
            let rec = shapes::PortConflict {
                host_port: port.clone(),
                protocol: proto.clone(),
                services: format!("{},{}", a.service, b.service),
                first: format!("{}:{}", a.origin.file, a.origin.line),
            };
            let loc = Loc {
                container: Some(b.service.as_str().into()),
                locator: format!(
                    "{} (also {} at {}:{})",
                    b.origin.locator(),
                    a.origin.path,
                    a.origin.file,
                    a.origin.line
                )
                .into(),
                origin: Some(b.origin.clone()),
                ..Loc::default()
            };
            ix.add(&rec, loc);
        }
    }
}

/// Names docker-compose stacks commonly give their services (rule data, next to CFG005).
/// Used when no compose file is linted alongside; with one, exactly its service names are
/// used.
const COMPOSE_NAMES: &str = include_str!("../../rules/cfg/CFG005-compose-service-names.txt");

/// The lines of a data file that are not blank or comments.
fn data_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

pub fn sets(ix: &mut Index, snap: &Snapshot, lint: Option<&LintInputs>) {
    let mut compose: HashSet<String> = HashSet::new();
    if let Some(l) = lint {
        for f in l.configs.iter().filter(|f| f.kind == ConfigKind::Compose) {
            for s in &f.services {
                compose.insert(s.name.to_ascii_lowercase());
                if let Some(c) = &s.container_name {
                    compose.insert(c.to_ascii_lowercase());
                }
            }
        }
    }
    if compose.is_empty() {
        compose.extend(data_lines(COMPOSE_NAMES).map(str::to_ascii_lowercase));
    }
    let mut sc = HashSet::new();
    for svc in &snap.services {
        if let Some(c) = &svc.service_connect {
            for a in &c.aliases {
                let name = a.rsplit_once(':').map_or(a.as_str(), |(h, _)| h);
                sc.insert(name.to_ascii_lowercase());
            }
        }
    }
    ix.sets.insert("compose_hostnames", compose);
    ix.sets.insert("service_connect_names", sc);
}

/// Per task definition: how many containers have a health check, and whether a load
/// balancer checks the service instead.
pub fn task_health(ix: &mut Index, snap: &Snapshot, lint: Option<&LintInputs>) {
    for td in &snap.task_definitions {
        let key = td.key();
        let synthetic = lint.is_some_and(|l| l.synthetic_revisions.contains(&key));
        let svc = snap
            .services
            .iter()
            .find(|s| ix.family_service.get(&td.family) == Some(&s.name));
        let (service, lb) = match svc {
            Some(s) => (
                "yes",
                if s.load_balancers.is_empty() {
                    "no"
                } else {
                    "yes"
                },
            ),
            None if lint.is_some() => ("unknown", "unknown"),
            None => ("no", "no"),
        };
        let with = td
            .containers
            .iter()
            .filter(|c| c.health_check.is_some())
            .count();
        let rec = shapes::TaskHealth {
            containers: td.containers.len(),
            with_health_check: with,
            service,
            load_balancer: lb,
        };
        let origin = lint.and_then(|l| l.origin_of(&key, None, None)).cloned();
        let loc = Loc {
            service: svc.map(|s| s.name.clone()).map(Into::into),
            family: Some(td.family.as_str().into()),
            revision: (!synthetic).then_some(td.revision),
            time: td.registered_at,
            locator: match &origin {
                Some(o) => format!("{} (no container has a healthCheck)", o.locator()).into(),
                None => format!("task definition {key}").into(),
            },
            origin,
            ..Loc::default()
        };
        ix.add(&rec, loc);
    }
}

#[cfg(test)]
mod data_tests {
    use super::secrets::PUBLIC_DEFAULTS;
    use super::*;

    #[test]
    fn rule_data_files_parse() {
        let names: Vec<&str> = data_lines(COMPOSE_NAMES).collect();
        assert!(names.len() > 40 && names.contains(&"postgres"), "{names:?}");
        assert!(names.iter().all(|n| !n.contains(char::is_whitespace)));
        let defaults: Vec<(&str, &str)> = data_lines(PUBLIC_DEFAULTS)
            .filter_map(|l| l.split_once(char::is_whitespace))
            .collect();
        assert_eq!(defaults.len(), data_lines(PUBLIC_DEFAULTS).count());
        assert!(defaults.len() >= 20, "{}", defaults.len());
        assert!(defaults.contains(&("placeholder", "changeme")));
    }
}
