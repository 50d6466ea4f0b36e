//! Where task-definition env values point: the host and port a dependency variable
//! names (`DATABASE_URL`, `REDIS_HOST` + `REDIS_PORT`, ...), what kind of address that
//! is, and whether a container of the same task listens there. Apart from the file
//! facts because it reads only task definitions and has its own variable-name rules.

use crate::facts::{host_of, Index};
use crate::rules::shapes;
use crate::snapshot::redact::MARKER;
use crate::snapshot::{LintInputs, Snapshot};
use std::collections::HashSet;

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
                let loc = crate::facts::env_loc(ix, td, &c.name, &e.name, lint);
                ix.add(&rec, loc);
            }
        }
    }
}
