//! Discovery: candidate PostgreSQL endpoints read from a snapshot's task definitions.
//!
//! Per container, three kinds of configuration are recognised: URL-valued variables
//! (`DATABASE_URL`, or any variable whose value is a `postgres://` URL), groups of
//! per-field variables sharing a database-ish prefix (`DB_HOST`/`DB_PORT`/`DB_NAME`,
//! `PGHOST`..., `POSTGRES_*`, `DATABASE_*`, `RDS_*`, `*_DB_*` such as Supabase's
//! `PG_META_DB_HOST`), and Secrets Manager / SSM references under those names, which
//! are listed, never read. When a URL and a field group in the same container point
//! at different endpoints, both candidates say so. Passwords redacted in the snapshot
//! (`<redacted:...>`) count as unknown.

use super::target::{ProbeTarget, SslMode};
use crate::dbenv::{db_field, is_pg_url, DbField};
use crate::snapshot::redact::MARKER;
use crate::snapshot::{ContainerDefinition, Snapshot, TaskDefinition};
use std::collections::BTreeMap;

/// Where a candidate's password stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordState {
    /// In the environment in clear (only in snapshots that were not redacted).
    Known,
    /// In the environment, redacted in the snapshot: the value is unknown here.
    Redacted,
    /// From a secret (`valueFrom`), which sickbay does not read.
    Secret { name: String, value_from: String },
    /// No password anywhere in the container's configuration.
    Missing,
}

/// One database endpoint a container is configured to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Ready to probe when the host is known (the password may still be `None`).
    pub target: Option<ProbeTarget>,
    /// `host:port/db`, or what is known of it.
    pub endpoint: String,
    /// E.g. "`DATABASE_URL` of `api:12/app`".
    pub origin: String,
    /// `family:revision` of the task definition.
    pub task_definition: String,
    pub container: String,
    /// The variables this candidate was built from.
    pub variables: Vec<String>,
    pub password: PasswordState,
    /// Secret references that look database-related (name and `valueFrom`), not read.
    pub secrets: Vec<(String, String)>,
    /// Disagreements and caveats, in words.
    pub notes: Vec<String>,
    /// Other task definitions / containers configured with the same endpoint.
    pub also_in: Vec<String>,
    /// Extra CAs the container trusts, in words (`sslrootcert=/certs/rds.pem`,
    /// `NODE_EXTRA_CA_CERTS=...`): files inside the image that sickbay cannot read.
    pub client_roots: Option<String>,
    /// The container looks like a Node.js app (`NODE_*` variables, a `node` image):
    /// node-postgres verifies certificates under `sslmode=prefer|require`.
    pub node_client: bool,
}

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

fn from_container(td: &TaskDefinition, c: &ContainerDefinition) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let not_postgres = c.environment.iter().any(|e| {
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
    });
    // URL-valued variables.
    for e in &c.environment {
        if !is_pg_url(&e.value) {
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
            continue;
        }
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
        out.push(cand);
    }
    // Secrets under database-ish names: listed, never read.
    for s in &c.secrets {
        let url_like = s.name.to_ascii_uppercase().ends_with("_URL")
            || s.name.to_ascii_uppercase().ends_with("_URI");
        if let Some((key, field)) = db_field(&s.name) {
            if field == DbField::Url || url_like {
                out.push(Candidate {
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
                });
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
        let host_from_secret = g.secrets.iter().any(|(_, _, f)| *f == DbField::Host);
        let Some(host) = g.host.clone().filter(|h| !h.is_empty()) else {
            if host_from_secret || (!g.secrets.is_empty() && !g.vars.is_empty()) {
                let (n, vf, _) = &g.secrets[0];
                out.push(Candidate {
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
                });
            }
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
        let dbname = g.name.clone().filter(|s| !s.is_empty());
        let user = g.user.clone().filter(|s| !s.is_empty());
        let mut notes = Vec::new();
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
            host: host.clone(),
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
        let first_var = g
            .vars
            .iter()
            .find(|v| db_field(v).is_some_and(|(_, f)| f == DbField::Host))
            .cloned()
            .unwrap_or_else(|| format!("{key}HOST"));
        let org = origin(&first_var, td, c);
        // Same container, URL pointing elsewhere?
        let mut merged = false;
        for (i, ut) in &url_targets {
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
                    endpoint_of(&target),
                    target.user
                );
                out[*i].notes.push(msg.clone());
                notes.push(msg);
            }
        }
        if merged {
            continue;
        }
        let mut t = target;
        t.origin = Some(org.clone());
        out.push(Candidate {
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
        });
    }
    // Extra CAs the client trusts: the URL's sslrootcert, else the environment's.
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
    // URL candidates whose password comes from a secret under a field name.
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
    out
}

/// Candidate endpoints from every container of every task definition in the snapshot.
///
/// Newer revisions come first within a family; a candidate whose endpoint, user and
/// variable already appeared (an older revision, another container) is folded into
/// the first one's `also_in` instead of being repeated.
pub fn discover(snap: &Snapshot) -> Vec<Candidate> {
    let mut tds: Vec<&TaskDefinition> = snap.task_definitions.iter().collect();
    tds.sort_by(|a, b| a.family.cmp(&b.family).then(b.revision.cmp(&a.revision)));
    let mut out: Vec<Candidate> = Vec::new();
    for td in tds {
        for c in &td.containers {
            for cand in from_container(td, c) {
                let key = |x: &Candidate| {
                    (
                        x.endpoint.clone(),
                        x.target.as_ref().map(|t| t.user.clone()),
                        x.variables.first().cloned(),
                        x.notes.clone(),
                    )
                };
                if let Some(prev) = out.iter_mut().find(|p| key(p) == key(&cand)) {
                    prev.also_in
                        .push(format!("{}/{}", cand.task_definition, cand.container));
                } else {
                    out.push(cand);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{EnvVar, SecretRef};

    fn td(rev: i64, env: &[(&str, &str)], secrets: &[(&str, &str)]) -> TaskDefinition {
        TaskDefinition {
            family: "api".into(),
            revision: rev,
            containers: vec![ContainerDefinition {
                name: "app".into(),
                image: "x".into(),
                essential: true,
                environment: env
                    .iter()
                    .map(|(n, v)| EnvVar {
                        name: n.to_string(),
                        value: v.to_string(),
                    })
                    .collect(),
                secrets: secrets
                    .iter()
                    .map(|(n, v)| SecretRef {
                        name: n.to_string(),
                        value_from: v.to_string(),
                    })
                    .collect(),
                ..ContainerDefinition::default()
            }],
            ..TaskDefinition::default()
        }
    }

    fn snap(tds: Vec<TaskDefinition>) -> Snapshot {
        Snapshot {
            schema_version: 1,
            task_definitions: tds,
            ..Snapshot::default()
        }
    }

    #[test]
    fn client_trust_and_node_hints() {
        let mut t = td(
            1,
            &[
                (
                    "DATABASE_URL",
                    "postgres://app@db.x.rds.amazonaws.com/shop?sslmode=require",
                ),
                ("NODE_EXTRA_CA_CERTS", "/app/certs/rds-global-bundle.pem"),
            ],
            &[],
        );
        let c = &discover(&snap(vec![t.clone()]))[0];
        assert_eq!(
            c.client_roots.as_deref(),
            Some("NODE_EXTRA_CA_CERTS=/app/certs/rds-global-bundle.pem")
        );
        assert!(c.node_client);
        assert!(c.target.as_ref().unwrap().sslmode_explicit);
        // The URL's own sslrootcert comes first.
        t.containers[0].environment[0].value =
            "postgres://app@db.x.rds.amazonaws.com/shop?sslrootcert=/etc/rds.pem".into();
        t.containers[0].environment[1].name = "PGSSLROOTCERT".into();
        let c = &discover(&snap(vec![t.clone()]))[0];
        assert_eq!(c.client_roots.as_deref(), Some("sslrootcert=/etc/rds.pem"));
        assert!(!c.node_client);
        assert!(!c.target.as_ref().unwrap().sslmode_explicit);
        // A database nobody named is the driver's default.
        let c = &discover(&snap(vec![td(
            1,
            &[("DB_HOST", "db.internal"), ("DB_USER", "app")],
            &[],
        )]))[0];
        let t = c.target.as_ref().unwrap();
        assert_eq!((t.dbname.as_str(), t.dbname_defaulted), ("app", true));
    }

    #[test]
    fn url_with_redacted_password() {
        let s = snap(vec![td(
            3,
            &[("DATABASE_URL", "postgres://app:<redacted:0123456789ab>@db.x.rds.amazonaws.com:5432/shop?sslmode=verify-full")],
            &[],
        )]);
        let c = discover(&s);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].endpoint, "db.x.rds.amazonaws.com:5432/shop");
        assert_eq!(c[0].password, PasswordState::Redacted);
        let t = c[0].target.as_ref().unwrap();
        assert_eq!(t.password, None);
        assert_eq!(t.sslmode, SslMode::VerifyFull);
        assert_eq!(c[0].origin, "`DATABASE_URL` of `api:3/app`");
    }

    #[test]
    fn url_and_fields_disagree() {
        let s = snap(vec![td(
            4,
            &[
                ("DATABASE_URL", "postgres://app@db:5432/app"),
                ("DB_HOST", "prod.cluster-abc.us-east-1.rds.amazonaws.com"),
                ("DB_PORT", "5432"),
                ("DB_NAME", "app"),
                ("DB_USER", "app"),
            ],
            &[(
                "DB_PASSWORD",
                "arn:aws:secretsmanager:us-east-1:1:secret:db-pw",
            )],
        )]);
        let c = discover(&s);
        assert_eq!(c.len(), 2, "{c:#?}");
        assert!(
            c[0].notes
                .iter()
                .any(|n| n.contains("DATABASE_URL points at db:5432/app")),
            "{:?}",
            c[0].notes
        );
        assert!(c[1].notes.iter().any(|n| n.contains("prod.cluster-abc")));
        assert!(matches!(c[1].password, PasswordState::Secret { .. }));
        assert_eq!(c[1].secrets.len(), 1);
    }

    #[test]
    fn agreeing_fields_fold_into_the_url() {
        let s = snap(vec![td(
            1,
            &[
                ("DATABASE_URL", "postgres://app@h.example:5432/app"),
                ("PGHOST", "h.example"),
                ("PGDATABASE", "app"),
            ],
            &[],
        )]);
        let c = discover(&s);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].variables, vec!["DATABASE_URL", "PGHOST", "PGDATABASE"]);
    }

    #[test]
    fn supabase_meta_and_secret_urls() {
        let s = snap(vec![td(
            2,
            &[
                ("PG_META_DB_HOST", "db"),
                ("PG_META_DB_PORT", "5432"),
                ("PG_META_DB_NAME", "postgres"),
                ("PG_META_DB_USER", "supabase_admin"),
                ("PG_META_DB_PASSWORD", "<redacted:aaaaaaaaaaaa>"),
            ],
            &[(
                "DATABASE_URL",
                "arn:aws:secretsmanager:us-east-1:1:secret:url",
            )],
        )]);
        let c = discover(&s);
        assert_eq!(c.len(), 2, "{c:#?}");
        let url = c.iter().find(|x| x.endpoint == "(in a secret)").unwrap();
        assert!(url.target.is_none());
        let meta = c.iter().find(|x| x.endpoint == "db:5432/postgres").unwrap();
        assert_eq!(meta.password, PasswordState::Redacted);
        assert_eq!(meta.target.as_ref().unwrap().user, "supabase_admin");
    }

    #[test]
    fn older_revisions_fold_and_mysql_is_ignored() {
        let s = snap(vec![
            td(1, &[("DATABASE_URL", "postgres://u@h.example/d")], &[]),
            td(2, &[("DATABASE_URL", "postgres://u@h.example/d")], &[]),
            td(
                3,
                &[("DB_HOST", "m.example"), ("DB_CONNECTION", "mysql")],
                &[],
            ),
        ]);
        let c = discover(&s);
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(c[0].task_definition, "api:2");
        assert_eq!(c[0].also_in, vec!["api:1/app"]);
    }
}
