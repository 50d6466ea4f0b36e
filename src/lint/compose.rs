//! docker-compose files. YAML is read through yaml-rust2's event parser so every node
//! keeps its line and column; anchors, aliases and `<<` merge keys are resolved. Values
//! are interpolated the way compose does (`${VAR}`, `${VAR:-default}` ...) against the
//! variables of the env files linted together. The positioned YAML tree is built in
//! `yaml`; this file reads services, environment, ports and `${VAR}` references from it.

mod yaml;

pub use yaml::{parse_yaml, Node};

use super::interp::interpolate;
use super::{
    ComposeService, ConfigEnv, ConfigFile, ConfigKind, LintError, Origin, Published, VarRef,
};
use crate::snapshot::redact::redact_env_value;
use std::collections::HashMap;

fn scalar_text(n: &Node) -> Option<String> {
    match n {
        Node::Scalar { text, .. } if !n.is_null() => Some(text.clone()),
        _ => None,
    }
}

/// Parses a compose file. Returns `None` when the YAML has no `services` mapping.
pub fn parse(
    file: &str,
    text: &str,
    vars: &HashMap<String, String>,
) -> Result<Option<ConfigFile>, LintError> {
    let Some(root) = parse_yaml(file, text)? else {
        return Ok(None);
    };
    let Some(services @ Node::Map { .. }) = root.get("services") else {
        return Ok(None);
    };
    let lookup = |n: &str| vars.get(n).cloned();
    let mut cf = ConfigFile {
        path: file.to_string(),
        kind: ConfigKind::Compose,
        env: Vec::new(),
        ports: Vec::new(),
        services: Vec::new(),
        refs: Vec::new(),
        defines: Vec::new(),
    };
    // Every undefined reference anywhere in the file (compose interpolates all values).
    collect_refs(file, &root, "", None, vars, &mut cf.refs);

    for (k, svc) in services.entries() {
        let Some(name) = k.as_str().map(String::from) else {
            continue;
        };
        let base = format!("services.{name}");
        let healthcheck = svc.get("healthcheck").is_some_and(|h| {
            !h.is_null() && h.get("disable").and_then(Node::as_str) != Some("true")
        });
        cf.services.push(ComposeService {
            name: name.clone(),
            container_name: svc.get("container_name").and_then(scalar_text),
            image: svc
                .get("image")
                .and_then(scalar_text)
                .map(|i| interpolate(&i, &lookup).0),
            healthcheck,
            origin: origin(file, k, base.clone()),
        });
        service_env(
            &mut cf.env,
            (file, &name, &base),
            svc.get("environment"),
            vars,
        );
        service_ports(&mut cf.ports, (file, &name, &base), svc.get("ports"), vars);
    }
    Ok(Some(cf))
}

/// Where `node` starts in `file`, with its path in the document.
fn origin(file: &str, node: &Node, path: String) -> Origin {
    let (line, column) = node.pos();
    Origin {
        file: file.to_string(),
        line,
        column,
        path,
    }
}

/// A service's `environment`, as a mapping or a list of `NAME=value`, interpolated and
/// redacted. The tuple is the file, the service name and its path (`services.NAME`).
fn service_env(
    out: &mut Vec<ConfigEnv>,
    (file, name, base): (&str, &str, &str),
    env: Option<&Node>,
    vars: &HashMap<String, String>,
) {
    let lookup = |n: &str| vars.get(n).cloned();
    match env {
        Some(env @ Node::Map { .. }) => {
            for (ek, ev) in env.entries() {
                let Some(var) = ek.as_str() else { continue };
                let raw = scalar_text(ev).unwrap_or_default();
                let (value, refs) = interpolate(&raw, &lookup);
                out.push(ConfigEnv {
                    scope: Some(name.to_string()),
                    name: var.to_string(),
                    value: redact_env_value(var, &value),
                    from_variable: from_env_file(&refs, vars),
                    origin: origin(file, ek, format!("{base}.environment.{var}")),
                });
            }
        }
        Some(Node::Seq { items, .. }) => {
            for (i, item) in items.iter().enumerate() {
                let Some(raw) = item.as_str() else { continue };
                let (var, val) = raw.split_once('=').unwrap_or((raw, ""));
                let (value, refs) = interpolate(val, &lookup);
                out.push(ConfigEnv {
                    scope: Some(name.to_string()),
                    name: var.trim().to_string(),
                    value: redact_env_value(var.trim(), &value),
                    from_variable: from_env_file(&refs, vars),
                    origin: origin(file, item, format!("{base}.environment[{i}]")),
                });
            }
        }
        _ => {}
    }
}

/// A service's published `ports`, short (`"8080:80"`) or long (`published:`) syntax.
/// The tuple is the file, the service name and its path (`services.NAME`).
fn service_ports(
    out: &mut Vec<Published>,
    (file, name, base): (&str, &str, &str),
    ports: Option<&Node>,
    vars: &HashMap<String, String>,
) {
    let Some(Node::Seq { items, .. }) = ports else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let o = origin(file, item, format!("{base}.ports[{i}]"));
        let p = match item {
            Node::Scalar { text, .. } => short_port(text, vars),
            Node::Map { .. } => {
                let f = |k: &str| item.get(k).and_then(scalar_text).map(|v| resolve(&v, vars));
                f("published").map(|host| PortParts {
                    host_ip: f("host_ip").unwrap_or_default(),
                    host_port: host,
                    container_port: f("target").unwrap_or_default(),
                    protocol: f("protocol").unwrap_or_else(|| "tcp".into()),
                })
            }
            _ => None,
        };
        if let Some(p) = p {
            out.push(Published {
                service: name.to_string(),
                host_ip: p.host_ip,
                host_port: p.host_port,
                container_port: p.container_port,
                protocol: p.protocol,
                origin: o,
            });
        }
    }
}

/// True when a value came from variables the env files define (so it is their copy,
/// not a value of the compose file's own, such as a `${VAR:-default}`).
fn from_env_file(refs: &[super::interp::Ref], vars: &HashMap<String, String>) -> bool {
    !refs.is_empty() && refs.iter().all(|r| vars.contains_key(&r.name))
}

/// Interpolates; when a variable is undefined (and has no default) the `${VAR}` text is
/// kept, so two services publishing the same unset `${PORT}` still collide.
fn resolve(raw: &str, vars: &HashMap<String, String>) -> String {
    let (v, refs) = interpolate(raw, &|n| vars.get(n).cloned());
    if refs
        .iter()
        .any(|r| !r.has_default && !vars.contains_key(&r.name))
    {
        interpolate(raw, &|n| {
            Some(vars.get(n).cloned().unwrap_or_else(|| format!("${{{n}}}")))
        })
        .0
    } else {
        v
    }
}

struct PortParts {
    host_ip: String,
    host_port: String,
    container_port: String,
    protocol: String,
}

/// `[[ip:]host:]container[/proto]`; `None` when no host port is published.
fn short_port(raw: &str, vars: &HashMap<String, String>) -> Option<PortParts> {
    let s = resolve(raw.trim(), vars);
    let (spec, protocol) = match s.rsplit_once('/') {
        Some((a, p)) if !p.contains(':') && !p.contains('}') => (a.to_string(), p.to_string()),
        _ => (s.clone(), "tcp".to_string()),
    };
    // Split on colons outside `${...}` and `[...]`.
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in spec.chars() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
        if c == ':' && depth == 0 {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    let (ip, host, container) = match parts.as_slice() {
        [_] => return None,
        [h, c] => (String::new(), h.clone(), c.clone()),
        [ip, h, c] => (
            ip.trim_matches(['[', ']']).to_string(),
            h.clone(),
            c.clone(),
        ),
        _ => return None,
    };
    if host.is_empty() {
        return None;
    }
    Some(PortParts {
        host_ip: ip,
        host_port: host,
        container_port: container,
        protocol,
    })
}

fn collect_refs(
    file: &str,
    node: &Node,
    path: &str,
    scope: Option<&str>,
    vars: &HashMap<String, String>,
    out: &mut Vec<VarRef>,
) {
    match node {
        Node::Scalar {
            text,
            quoted,
            line,
            col,
        } => {
            let (_, refs) = interpolate(text, &|n| vars.get(n).cloned());
            for r in refs {
                if r.has_default || vars.contains_key(&r.name) {
                    continue;
                }
                // Columns are exact for single-line plain scalars, close otherwise.
                let off =
                    text.get(..r.offset).map_or(0, |t| t.chars().count()) + usize::from(*quoted);
                out.push(VarRef {
                    name: r.name,
                    scope: scope.map(String::from),
                    origin: Origin {
                        file: file.to_string(),
                        line: *line,
                        column: col + off,
                        path: path.to_string(),
                    },
                });
            }
        }
        Node::Seq { items, .. } => {
            for (i, n) in items.iter().enumerate() {
                collect_refs(file, n, &format!("{path}[{i}]"), scope, vars, out);
            }
        }
        Node::Map { entries, .. } => {
            for (k, v) in entries {
                let key = k.as_str().unwrap_or("?");
                let p = if path.is_empty() {
                    key.to_string()
                } else {
                    format!("{path}.{key}")
                };
                let sc = match (scope, path) {
                    (None, "services") => Some(key),
                    _ => scope,
                };
                collect_refs(file, v, &p, sc, vars, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_env_ports_and_refs() {
        let yaml = "x-common: &common\n  restart: always\n  environment:\n    SHARED: one\nservices:\n  db:\n    <<: *common\n    image: postgres:15\n    ports:\n      - \"${POSTGRES_PORT}:5432\"\n  supavisor:\n    image: supabase/supavisor\n    ports:\n      - ${POSTGRES_PORT}:5432\n      - target: 6543\n        published: \"6543\"\n    environment:\n      - DATABASE_URL=postgres://u:pw@db:5432/x\n      - STUDIO_PORT=${STUDIO_PORT}\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n";
        let vars = HashMap::new();
        let f = parse("dc.yml", yaml, &vars).unwrap().unwrap();
        assert_eq!(f.services.len(), 2);
        assert!(!f.services[0].healthcheck && f.services[1].healthcheck);
        let env: Vec<_> = f
            .env
            .iter()
            .map(|e| (e.scope.as_deref().unwrap(), e.name.as_str()))
            .collect();
        assert_eq!(
            env,
            vec![
                ("db", "SHARED"),
                ("supavisor", "DATABASE_URL"),
                ("supavisor", "STUDIO_PORT")
            ]
        );
        assert!(!f.env[1].value.contains("pw"));
        assert_eq!(f.ports.len(), 3);
        assert_eq!(f.ports[0].host_port, "${POSTGRES_PORT}");
        assert_eq!(f.ports[1].host_port, "${POSTGRES_PORT}");
        assert_eq!(f.ports[2].host_port, "6543");
        assert_eq!((f.ports[1].origin.line, f.ports[1].origin.column), (14, 9));
        let names: Vec<_> = f
            .refs
            .iter()
            .map(|r| (r.name.as_str(), r.origin.line))
            .collect();
        assert_eq!(
            names,
            vec![
                ("POSTGRES_PORT", 10),
                ("POSTGRES_PORT", 14),
                ("STUDIO_PORT", 19)
            ]
        );
    }

    #[test]
    fn yaml_errors_have_positions() {
        let e = parse(
            "dc.yml",
            "services:\n  db:\n    image: [unclosed\n",
            &HashMap::new(),
        )
        .unwrap_err();
        assert_eq!(e.file, "dc.yml");
        assert!(e.line >= 3, "{e}");
        assert!(parse("x.yml", "just: a map\n", &HashMap::new())
            .unwrap()
            .is_none());
        // A "billion laughs" file is rejected instead of exhausting memory.
        let mut bomb = String::from("x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 9].join(", ");
            bomb.push_str(&format!("x{i}: &a{i} [{refs}]\n"));
        }
        bomb.push_str("services:\n  a:\n    image: x\n");
        let e = parse("bomb.yml", &bomb, &HashMap::new()).unwrap_err();
        assert!(e.message.contains("excessive aliasing"), "{e}");
    }
}
