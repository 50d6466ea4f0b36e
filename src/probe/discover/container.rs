//! Reading one container's configuration into candidates: URL-valued variables,
//! per-field variable groups, and secret references under database-ish names. Kept
//! apart from [`super::discover`], which walks the snapshot and folds repeats, because
//! this is where the per-variable rules live.

use super::{Candidate, PasswordState};
use crate::dbenv::{db_field, is_pg_url, DbField};
use crate::probe::target::{ProbeTarget, SslMode};
use crate::snapshot::redact::MARKER;
use crate::snapshot::{ContainerDefinition, EnvVar, SecretRef, TaskDefinition};
use std::collections::BTreeMap;

fn is_redacted(v: &str) -> bool {
    v.contains(MARKER)
}

#[derive(Debug, Default)]
struct Group {
    vars: Vec<String>,
    host: Option<String>,
    hostaddr: Option<String>,
    port: Option<String>,
    name: Option<String>,
    user: Option<String>,
    password: Option<String>,
    password_var: Option<String>,
    sslmode: Option<String>,
    secrets: Vec<(String, String, DbField)>,
}

fn origin(var: &str, td: &TaskDefinition, c: &ContainerDefinition) -> String {
    format!("`{var}` of `{}/{}`", td.key(), c.name)
}

fn endpoint_of(t: &ProbeTarget) -> String {
    t.to_string()
}

pub(super) fn from_container(td: &TaskDefinition, c: &ContainerDefinition) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let not_postgres = names_other_engine(c);
    // URL-valued variables.
    for e in &c.environment {
        if is_pg_url(&e.value) {
            out.push(url_candidate(td, c, e));
        } else {
            group_field(&mut groups, e);
        }
    }
    // Secrets under database-ish names: listed, never read.
    for s in &c.secrets {
        let url_like = s.name.to_ascii_uppercase().ends_with("_URL")
            || s.name.to_ascii_uppercase().ends_with("_URI");
        if let Some((key, field)) = db_field(&s.name) {
            if field == DbField::Url || url_like {
                out.push(secret_url_candidate(td, c, s));
            } else {
                groups.entry(key).or_default().secrets.push((
                    s.name.clone(),
                    s.value_from.clone(),
                    field,
                ));
            }
        }
    }
    // Per-field groups.
    let url_targets: Vec<(usize, ProbeTarget)> = out
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.target.clone().map(|t| (i, t)))
        .collect();
    for (key, g) in groups {
        let Some(host) = g.host.clone().filter(|h| !h.is_empty()) else {
            out.extend(secret_host_candidate(td, c, &g));
            continue;
        };
        if not_postgres || g.port.as_deref() == Some("3306") {
            continue;
        }
        let port = match g.port.as_deref().map(str::parse::<u16>) {
            None => 5432,
            Some(Ok(p)) if p > 0 => p,
            Some(_) => continue,
        };
        let (target, mut notes) = group_target(&g, host, port);
        if reconcile(&mut out, &url_targets, &g, &target, &mut notes) {
            continue;
        }
        out.push(group_candidate(td, c, &key, &g, target, notes));
    }
    client_hints(c, &mut out);
    secret_passwords(c, &mut out);
    out
}

/// The container names another database engine (`DB_CONNECTION=mysql`, ...): its
/// field groups are not PostgreSQL endpoints.
fn names_other_engine(c: &ContainerDefinition) -> bool {
    c.environment.iter().any(|e| {
        let n = e.name.to_ascii_uppercase();
        (n.ends_with("_CONNECTION")
            || n.ends_with("_ENGINE")
            || n.ends_with("_DIALECT")
            || n.ends_with("_CLIENT")
            || n.ends_with("_DRIVER"))
            && {
                let v = e.value.to_ascii_lowercase();
                [
                    "mysql",
                    "mariadb",
                    "sqlite",
                    "mssql",
                    "sqlserver",
                    "oracle",
                    "mongo",
                ]
                .iter()
                .any(|k| v.contains(k))
            }
    })
}

/// Files a per-field variable (`DB_HOST`, `PGPORT`, ...) under its group's prefix.
fn group_field(groups: &mut BTreeMap<String, Group>, e: &EnvVar) {
    if let Some((key, field)) = db_field(&e.name) {
        let g = groups.entry(key).or_default();
        g.vars.push(e.name.clone());
        let v = Some(e.value.clone());
        match field {
            DbField::Host => g.host = v,
            DbField::HostAddr => g.hostaddr = v,
            DbField::Port => g.port = v,
            DbField::Name => g.name = v,
            DbField::User => g.user = v,
            DbField::Password => {
                g.password = v;
                g.password_var = Some(e.name.clone());
            }
            DbField::SslMode => g.sslmode = v,
            DbField::Url => {}
        }
    }
}

/// The candidate of a `postgres://` URL variable.
fn url_candidate(td: &TaskDefinition, c: &ContainerDefinition, e: &EnvVar) -> Candidate {
    let org = origin(&e.name, td, c);
    let mut cand = Candidate {
        target: None,
        endpoint: String::new(),
        origin: org.clone(),
        task_definition: td.key(),
        container: c.name.clone(),
        variables: vec![e.name.clone()],
        password: PasswordState::Missing,
        secrets: Vec::new(),
        notes: Vec::new(),
        also_in: Vec::new(),
        client_roots: None,
        node_client: false,
    };
    match ProbeTarget::parse_url(&e.value) {
        Ok(mut t) => {
            cand.password = match &t.password {
                Some(p) if is_redacted(p) => PasswordState::Redacted,
                Some(_) => PasswordState::Known,
                None => PasswordState::Missing,
            };
            if t.password.as_deref().is_some_and(is_redacted) {
                t.password = None;
            }
            if let Some(root) = &t.sslrootcert {
                cand.notes.push(format!(
                    "sslrootcert={root} is a path inside the container; probe with --ca-bundle pointing at a local copy"
                ));
            }
            t.origin = Some(org);
            cand.endpoint = endpoint_of(&t);
            cand.target = Some(t);
        }
        Err(err) => {
            cand.endpoint = "(unparsable URL)".to_string();
            cand.notes.push(format!("{}: {err}", e.name));
        }
    }
    cand
}

/// The candidate of a whole URL kept in a secret: listed, not read.
fn secret_url_candidate(td: &TaskDefinition, c: &ContainerDefinition, s: &SecretRef) -> Candidate {
    Candidate {
        target: None,
        endpoint: "(in a secret)".to_string(),
        origin: origin(&s.name, td, c),
        task_definition: td.key(),
        container: c.name.clone(),
        variables: vec![s.name.clone()],
        password: PasswordState::Secret {
            name: s.name.clone(),
            value_from: s.value_from.clone(),
        },
        secrets: vec![(s.name.clone(), s.value_from.clone())],
        notes: vec![format!(
            "{} comes from {}; sickbay does not read secrets: probe it with `sickbay db probe` and the URL",
            s.name, s.value_from
        )],
        also_in: Vec::new(),
        client_roots: None,
        node_client: false,
    }
}

/// A group without a host variable whose host (or other fields) come from secrets.
fn secret_host_candidate(
    td: &TaskDefinition,
    c: &ContainerDefinition,
    g: &Group,
) -> Option<Candidate> {
    let host_from_secret = g.secrets.iter().any(|(_, _, f)| *f == DbField::Host);
    if !(host_from_secret || (!g.secrets.is_empty() && !g.vars.is_empty())) {
        return None;
    }
    let (n, vf, _) = &g.secrets[0];
    Some(Candidate {
        target: None,
        endpoint: "(in a secret)".to_string(),
        origin: origin(n, td, c),
        task_definition: td.key(),
        container: c.name.clone(),
        variables: g.vars.clone(),
        password: PasswordState::Missing,
        secrets: g
            .secrets
            .iter()
            .map(|(a, b, _)| (a.clone(), b.clone()))
            .collect(),
        notes: vec![format!(
            "the host comes from {vf}, which sickbay does not read"
        )],
        also_in: Vec::new(),
        client_roots: None,
        node_client: false,
    })
}

/// The target a field group describes, and the caveats about its user.
fn group_target(g: &Group, host: String, port: u16) -> (ProbeTarget, Vec<String>) {
    let dbname = g.name.clone().filter(|s| !s.is_empty());
    let user = g.user.clone().filter(|s| !s.is_empty());
    let mut notes = Vec::new();
    let user_known = user.clone().or_else(|| {
        g.secrets
            .iter()
            .any(|(_, _, f)| *f == DbField::User)
            .then(|| "<from secret>".to_string())
    });
    if user.is_none() {
        notes.push(if user_known.is_some() {
            "the user name comes from a secret; give it on the command line".to_string()
        } else {
            "no user variable: the driver's default (often the OS user or `postgres`) applies"
                .to_string()
        });
    }
    let target = ProbeTarget {
        host,
        hostaddr: g.hostaddr.as_deref().and_then(|a| a.parse().ok()),
        port,
        dbname: dbname
            .clone()
            .or_else(|| user.clone())
            .unwrap_or_else(|| "postgres".to_string()),
        dbname_defaulted: dbname.is_none(),
        user: user.clone().unwrap_or_else(|| "postgres".to_string()),
        password: g
            .password
            .clone()
            .filter(|p| !p.is_empty() && !is_redacted(p)),
        sslmode: g
            .sslmode
            .as_deref()
            .and_then(SslMode::parse)
            .unwrap_or_default(),
        sslmode_explicit: g.sslmode.as_deref().and_then(SslMode::parse).is_some(),
        sslrootcert: None,
        origin: None,
    };
    (target, notes)
}

/// Same container, URL pointing elsewhere? A group that agrees with a URL folds into
/// its candidate (returns true); one that disagrees leaves a note on both.
fn reconcile(
    out: &mut [Candidate],
    url_targets: &[(usize, ProbeTarget)],
    g: &Group,
    target: &ProbeTarget,
    notes: &mut Vec<String>,
) -> bool {
    let dbname = g.name.clone().filter(|s| !s.is_empty());
    let user = g.user.clone().filter(|s| !s.is_empty());
    let mut merged = false;
    for (i, ut) in url_targets {
        let same_place = ut.host.eq_ignore_ascii_case(&target.host) && ut.port == target.port;
        let same_db = dbname.as_ref().is_none_or(|d| *d == ut.dbname);
        let same_user = user.as_ref().is_none_or(|u| *u == ut.user);
        let url_var = out[*i].variables[0].clone();
        if same_place && same_db && same_user {
            out[*i].variables.extend(g.vars.iter().cloned());
            merged = true;
        } else {
            let fields = g.vars.join("/");
            let msg = format!(
                "{url_var} points at {} as {} but {fields} point at {} as {}: the app uses whichever its driver reads first",
                endpoint_of(ut),
                ut.user,
                endpoint_of(target),
                target.user
            );
            out[*i].notes.push(msg.clone());
            notes.push(msg);
        }
    }
    merged
}

/// The candidate of a field group that no URL in the container already stands for.
fn group_candidate(
    td: &TaskDefinition,
    c: &ContainerDefinition,
    key: &str,
    g: &Group,
    target: ProbeTarget,
    notes: Vec<String>,
) -> Candidate {
    let pw_secret = g.secrets.iter().find(|(_, _, f)| *f == DbField::Password);
    let password = match (&g.password, pw_secret) {
        (Some(p), _) if is_redacted(p) => PasswordState::Redacted,
        (Some(p), _) if !p.is_empty() => PasswordState::Known,
        (_, Some((n, vf, _))) => PasswordState::Secret {
            name: n.clone(),
            value_from: vf.clone(),
        },
        _ => PasswordState::Missing,
    };
    let first_var = g
        .vars
        .iter()
        .find(|v| db_field(v).is_some_and(|(_, f)| f == DbField::Host))
        .cloned()
        .unwrap_or_else(|| format!("{key}HOST"));
    let org = origin(&first_var, td, c);
    let mut t = target;
    t.origin = Some(org.clone());
    Candidate {
        endpoint: endpoint_of(&t),
        target: Some(t),
        origin: org,
        task_definition: td.key(),
        container: c.name.clone(),
        variables: g.vars.clone(),
        password,
        secrets: g
            .secrets
            .iter()
            .map(|(a, b, _)| (a.clone(), b.clone()))
            .collect(),
        notes,
        also_in: Vec::new(),
        client_roots: None,
        node_client: false,
    }
}

/// Extra CAs the client trusts: the URL's sslrootcert, else the environment's; and
/// whether the container looks like a Node.js app.
fn client_hints(c: &ContainerDefinition, out: &mut [Candidate]) {
    let env_roots = c
        .environment
        .iter()
        .find(|e| {
            matches!(
                e.name.as_str(),
                "PGSSLROOTCERT" | "NODE_EXTRA_CA_CERTS" | "SSL_CERT_FILE" | "REQUESTS_CA_BUNDLE"
            ) && !e.value.trim().is_empty()
        })
        .map(|e| format!("{}={}", e.name, e.value.trim()));
    let node_client = c.image.to_ascii_lowercase().contains("node")
        || c.environment.iter().any(|e| e.name.starts_with("NODE_"));
    for cand in out.iter_mut() {
        cand.node_client = node_client;
        cand.client_roots = cand
            .target
            .as_ref()
            .and_then(|t| t.sslrootcert.as_ref())
            .filter(|r| r.as_str() != "system")
            .map(|r| format!("sslrootcert={r}"))
            .or_else(|| env_roots.clone());
    }
}

/// URL candidates whose password comes from a secret under a field name.
fn secret_passwords(c: &ContainerDefinition, out: &mut [Candidate]) {
    for cand in out.iter_mut() {
        if cand.password == PasswordState::Missing && cand.target.is_some() {
            if let Some(s) = c
                .secrets
                .iter()
                .find(|s| db_field(&s.name).is_some_and(|(_, f)| f == DbField::Password))
            {
                cand.password = PasswordState::Secret {
                    name: s.name.clone(),
                    value_from: s.value_from.clone(),
                };
                cand.secrets.push((s.name.clone(), s.value_from.clone()));
            }
        }
    }
}
