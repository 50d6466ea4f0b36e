//! Facts about configuration: task definitions (from a snapshot or from files) and the
//! docker-compose and env files `lint` reads. Dependency hosts in env values, health
//! checks per task, secrets shared between places or equal to a published default,
//! `${VAR}` references nothing defines, and host ports published twice.

use super::{host_of, Index, Loc};
use crate::lint::{ConfigKind, LintInputs};
use crate::rules::shapes;
use crate::rules::Source;
use crate::snapshot::redact::{fingerprint, MARKER};
use crate::snapshot::Snapshot;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Location of something in a linted file; `scope` is the compose service.
fn file_loc(scope: Option<String>, origin: &crate::lint::Origin) -> Loc {
    Loc {
        container: scope,
        locator: origin.locator(),
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
    let mut groups: BTreeMap<(String, String), Vec<&crate::lint::Published>> = BTreeMap::new();
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
                container: Some(b.service.clone()),
                locator: format!(
                    "{} (also {} at {}:{})",
                    b.origin.locator(),
                    a.origin.path,
                    a.origin.file,
                    a.origin.line
                ),
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

fn default_port(scheme_or_name: &str) -> Option<u16> {
    let s = scheme_or_name.to_ascii_lowercase();
    let table: &[(&str, u16)] = &[
        ("postgres", 5432),
        ("pg", 5432),
        ("mysql", 3306),
        ("mariadb", 3306),
        ("redis", 6379),
        ("rediss", 6379),
        ("mongo", 27017),
        ("amqp", 5672),
        ("rabbit", 5672),
        ("memcache", 11211),
        ("kafka", 9092),
        ("elastic", 9200),
        ("opensearch", 9200),
        ("nats", 4222),
    ];
    if s == "http" || s == "ws" {
        return Some(80);
    }
    if s == "https" || s == "wss" {
        return Some(443);
    }
    table.iter().find(|(k, _)| s.contains(k)).map(|(_, p)| *p)
}

/// Variables that configure where the app itself listens, not where a dependency is.
fn is_bind_var(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    matches!(
        n.as_str(),
        "HOST" | "HOSTNAME" | "SERVER_HOST" | "APP_HOST" | "HTTP_HOST" | "LISTEN_HOST"
    ) || n.contains("BIND")
        || n.contains("LISTEN")
}

fn is_host_var(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n.ends_with("_HOST")
        || n.ends_with("HOSTNAME")
        || n.ends_with("_SERVER")
        || n.ends_with("_ADDR")
        || n.ends_with("_ADDRESS")
        || n.ends_with("_ENDPOINT")
        || n == "PGHOST"
}

fn classify(host: &str) -> &'static str {
    let h = host.to_ascii_lowercase();
    if h == "localhost" || h.starts_with("127.") || h == "::1" || h.ends_with(".localhost") {
        "loopback"
    } else if h == "0.0.0.0" || h == "::" {
        "any"
    } else if let Ok(ip) = h.parse::<std::net::Ipv4Addr>() {
        if ip.is_private() {
            "private-ip"
        } else {
            "public-ip"
        }
    } else if h.contains(':') {
        "ipv6"
    } else if h.contains('.') {
        "fqdn"
    } else {
        "single-label"
    }
}

/// Host and port a dependency variable names, if it names one.
fn dependency(
    name: &str,
    value: &str,
    env: &[crate::snapshot::EnvVar],
) -> Option<(String, Option<u16>)> {
    if value.starts_with(MARKER) || is_bind_var(name) {
        return None;
    }
    let v = value.trim();
    if let Some(host) = host_of(v) {
        let scheme = v
            .split("://")
            .next()
            .unwrap_or("")
            .trim_start_matches("jdbc:");
        let authority = v.split_once("://")?.1.split(['/', '?', '#']).next()?;
        let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let port = hostport
            .rsplit_once(':')
            .filter(|(h, _)| !h.ends_with(':') && (hostport.starts_with('[') || !h.contains(':')))
            .and_then(|(_, p)| p.parse().ok())
            .or_else(|| default_port(scheme));
        return Some((host, port));
    }
    if !is_host_var(name) || v.is_empty() || v.contains(char::is_whitespace) || v.contains('/') {
        return None;
    }
    let (host, port) = match v.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_string(), p.parse().ok()),
        _ => (v.to_string(), None),
    };
    let port = port.or_else(|| {
        // DB_HOST + DB_PORT, REDIS_HOST + REDIS_PORT ...
        let up = name.to_ascii_uppercase();
        let prefix = up
            .strip_suffix("HOSTNAME")
            .or_else(|| up.strip_suffix("HOST"))
            .or_else(|| up.strip_suffix("SERVER"))
            .or_else(|| up.strip_suffix("ADDR"))
            .unwrap_or(&up);
        env.iter()
            .find(|e| e.name.eq_ignore_ascii_case(&format!("{prefix}PORT")))
            .and_then(|e| e.value.trim().parse().ok())
            .or_else(|| default_port(name))
    });
    Some((host, port))
}

/// Where each task-definition env value points: host, port, kind of address, and
/// whether a container of the same task listens on that port.
pub fn env_hosts(ix: &mut Index, snap: &Snapshot, lint: Option<&LintInputs>) {
    for td in &snap.task_definitions {
        let fargate = td.requires_compatibilities.iter().any(|c| c == "FARGATE");
        let mode = td.network_mode.clone().unwrap_or_else(|| {
            if fargate {
                "awsvpc".into()
            } else {
                "unset".into()
            }
        });
        let ports: HashSet<u16> = td
            .containers
            .iter()
            .flat_map(|c| c.port_mappings.iter())
            .filter_map(|p| u16::try_from(p.container_port).ok())
            .collect();
        for c in &td.containers {
            for e in &c.environment {
                let Some((host, port)) = dependency(&e.name, &e.value, &c.environment) else {
                    continue;
                };
                // Containers of the same task reach each other by name through `links`
                // (bridge) or as the task's own names.
                let local = td.containers.iter().any(|o| {
                    o.name.eq_ignore_ascii_case(&host)
                        || o.links.iter().any(|l| {
                            l.rsplit(':')
                                .next()
                                .is_some_and(|a| a.eq_ignore_ascii_case(&host))
                        })
                });
                let kind = if local { "same-task" } else { classify(&host) };
                // In awsvpc and bridge tasks a sidecar may listen on localhost without
                // declaring a port mapping, so only a task whose other containers all
                // declare their ports can be said not to listen.
                let undeclared = td
                    .containers
                    .iter()
                    .any(|o| o.name != c.name && o.port_mappings.is_empty());
                let listening = match port {
                    Some(p) if ports.contains(&p) => "true",
                    Some(_) if undeclared => "unknown",
                    Some(_) => "false",
                    None => "unknown",
                };
                let rec = shapes::EnvHost {
                    var: e.name.clone(),
                    host: host.clone(),
                    port,
                    kind,
                    network_mode: mode.to_string(),
                    listening,
                };
                let loc = super::env_loc(ix, td, &c.name, &e.name, lint);
                ix.add(&rec, loc);
            }
        }
    }
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
            service: svc.map(|s| s.name.clone()),
            family: Some(td.family.clone()),
            revision: (!synthetic).then_some(td.revision),
            time: td.registered_at,
            locator: match &origin {
                Some(o) => format!("{} (no container has a healthCheck)", o.locator()),
                None => format!("task definition {key}"),
            },
            origin,
            ..Loc::default()
        };
        ix.add(&rec, loc);
    }
}

/// The "stack" a family belongs to: its name without the last `-part`
/// (`supabase-inst-a1b2-auth` → `supabase-inst-a1b2`).
fn stack_of(family: &str) -> &str {
    family.rsplit_once(['-', '_']).map_or(family, |(s, _)| s)
}

fn is_marker(v: &str) -> bool {
    v.starts_with(MARKER) && v.ends_with('>')
}

/// Secret fingerprints used in more than one place: task-definition families (newest
/// revision only, so history does not inflate the numbers) and linted files.
pub fn secret_reuse(ix: &mut Index) {
    // fingerprint → (variable names, places, stacks)
    type Uses = (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>);
    let mut uses: BTreeMap<String, Uses> = BTreeMap::new();
    // Under `lint`, the first file position of each fingerprint, so the finding points
    // at a file.
    let mut first_origin: BTreeMap<String, crate::lint::Origin> = BTreeMap::new();
    for r in &ix.records {
        if r.field != Some("env") {
            continue;
        }
        let Some((name, value)) = r.text.split_once('=') else {
            continue;
        };
        if !is_marker(value) {
            continue;
        }
        let (place, stack) = match (r.source, &r.loc.family, &r.loc.origin) {
            (Source::TaskDefinition, Some(f), _) => {
                if let Some(rev) = r.loc.revision {
                    if ix.latest_revision.get(f) != Some(&rev) {
                        continue;
                    }
                }
                (f.clone(), stack_of(f).to_string())
            }
            (Source::Compose | Source::EnvFile, _, Some(o)) => {
                // Values interpolated from an env file are that file's copy.
                if r.source == Source::Compose
                    && r.loc.container.is_some()
                    && is_interpolated(ix, r)
                {
                    continue;
                }
                (o.file.clone(), o.file.clone())
            }
            _ => continue,
        };
        if let Some(o) = &r.loc.origin {
            first_origin
                .entry(value.to_string())
                .or_insert_with(|| o.clone());
        }
        let u = uses.entry(value.to_string()).or_default();
        u.0.insert(name.to_string());
        u.1.insert(place);
        u.2.insert(stack);
    }
    let mut out = Vec::new();
    for (fp, (names, places, stacks)) in uses {
        if places.len() < 2 {
            continue;
        }
        let rec = shapes::SecretReuse {
            fingerprint: fp.clone(),
            names: names.iter().cloned().collect::<Vec<_>>().join(","),
            places: places.len(),
            stacks: stacks.len(),
            place_list: places.iter().cloned().collect::<Vec<_>>().join(","),
            stack_list: stacks.iter().cloned().collect::<Vec<_>>().join(","),
        };
        let name = names.iter().next().cloned().unwrap_or_default();
        let origin = first_origin.get(&fp).cloned();
        let locator = match &origin {
            Some(o) => format!("{} (and {} more places)", o.locator(), places.len() - 1),
            None => format!("env {name} in {} places", places.len()),
        };
        let loc = Loc {
            locator,
            origin,
            ..Loc::default()
        };
        out.push((rec, loc));
    }
    for (rec, loc) in out {
        ix.add(&rec, loc);
    }
}

/// Set by `files` through the index: compose env records whose value came from `${VAR}`.
fn is_interpolated(ix: &Index, r: &crate::facts::Record) -> bool {
    ix.interpolated.contains(
        &r.loc
            .origin
            .as_ref()
            .map(|o| (o.file.clone(), o.line, o.column))
            .unwrap_or_default(),
    )
}

/// Values that ship in public templates and documentation (rule data, next to SEC003):
/// `label value` lines, compared by fingerprint.
const PUBLIC_DEFAULTS: &str = include_str!("../../rules/sec/SEC003-public-default-secrets.txt");

/// Env values whose fingerprint is a published default.
pub fn public_defaults(ix: &mut Index) {
    let known: BTreeMap<String, &str> = data_lines(PUBLIC_DEFAULTS)
        .filter_map(|l| l.split_once(char::is_whitespace))
        .map(|(label, value)| (fingerprint(value.trim()), label))
        .collect();
    let mut out = Vec::new();
    for r in &ix.records {
        if r.field != Some("env") {
            continue;
        }
        let Some((name, value)) = r.text.split_once('=') else {
            continue;
        };
        // A compose value interpolated from an env file is reported at the env file.
        if r.source == Source::Compose && is_interpolated(ix, r) {
            continue;
        }
        if let Some(label) = known.get(value) {
            let rec = shapes::PublicDefault {
                var: name.to_string(),
                known: label.to_string(),
                fingerprint: value.to_string(),
            };
            out.push((rec, r.loc.clone()));
        }
    }
    for (rec, loc) in out {
        ix.add(&rec, loc);
    }
}

#[cfg(test)]
mod data_tests {
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
