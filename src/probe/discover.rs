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

mod container;

use super::target::ProbeTarget;
use crate::snapshot::{Snapshot, TaskDefinition};
use container::from_container;

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
    use crate::probe::target::SslMode;
    use crate::snapshot::{ContainerDefinition, EnvVar, SecretRef};

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
