//! The auth and schema stages, over the connection the earlier stages opened (plain,
//! or the TLS stream of the TLS stage), with tokio-postgres's `connect_raw`. Failures
//! are classified by SQLSTATE (`28P01`, `28000`, `3D000`, `53300` ...). The schema
//! stage reads the system catalogs only (`pg_class`, `pg_namespace`, settings and
//! recovery functions): never a row of application data.

use super::net::Failure;
use super::target::ProbeTarget;
use super::CODE_TIMEOUT;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// A byte stream the driver can run on: plain TCP or the probe's TLS stream.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// Migration bookkeeping tables of common frameworks, and who writes them.
pub const MIGRATION_TABLES: &[(&str, &str)] = &[
    ("_prisma_migrations", "Prisma"),
    ("django_migrations", "Django"),
    ("alembic_version", "Alembic"),
    ("schema_migrations", "Rails, golang-migrate, Ecto or dbmate"),
    ("knex_migrations", "Knex"),
    ("mikro_orm_migrations", "MikroORM (Medusa v2)"),
    ("flyway_schema_history", "Flyway"),
    ("schema_version", "Flyway (before 5)"),
    ("databasechangelog", "Liquibase"),
    ("__EFMigrationsHistory", "Entity Framework"),
    ("typeorm_migrations", "TypeORM"),
    ("migrations", "TypeORM (Medusa v1) or Laravel"),
    ("SequelizeMeta", "Sequelize"),
    ("goose_db_version", "goose"),
    ("_sqlx_migrations", "sqlx"),
    ("__diesel_schema_migrations", "Diesel"),
    ("refinery_schema_history", "Refinery"),
    ("seaql_migrations", "SeaORM"),
    ("__drizzle_migrations", "Drizzle"),
    ("pgmigrations", "node-pg-migrate"),
    ("kysely_migration", "Kysely"),
    ("payload_migrations", "Payload"),
    ("atlas_schema_revisions", "Atlas"),
    ("gorp_migrations", "sql-migrate"),
];

/// Schemas that platforms and extensions create, whose tables are not the app's.
const PLATFORM_SCHEMAS: &[&str] = &[
    "auth",
    "storage",
    "realtime",
    "_realtime",
    "_analytics",
    "supabase_functions",
    "supabase_migrations",
    "extensions",
    "graphql",
    "graphql_public",
    "pgbouncer",
    "vault",
    "pgsodium",
    "pgsodium_masks",
    "net",
    "cron",
    "topology",
    "tiger",
    "tiger_data",
    "aws_commons",
    "aws_s3",
    "aws_lambda",
];

/// Tables extensions put into the app's schemas.
const EXTENSION_TABLES: &[&str] = &["spatial_ref_sys"];

/// Logs in. `encrypted` says whether `stream` is TLS (for the wording of 28000).
pub async fn login(
    stream: Box<dyn Io>,
    target: &ProbeTarget,
    encrypted: bool,
    timeout: Duration,
) -> Result<Client, Failure> {
    let mut cfg = tokio_postgres::Config::new();
    cfg.user(&target.user)
        .dbname(&target.dbname)
        .application_name("sickbay-probe")
        .ssl_mode(tokio_postgres::config::SslMode::Disable);
    if let Some(pw) = &target.password {
        cfg.password(pw.as_bytes());
    }
    let attempt = tokio::time::timeout(timeout, cfg.connect_raw(stream, NoTls)).await;
    match attempt {
        Err(_) => Err(Failure::fail(
            CODE_TIMEOUT,
            format!(
                "the server did not finish the login within {} s",
                timeout.as_secs()
            ),
        )),
        Ok(Ok((client, connection))) => {
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok(client)
        }
        Ok(Err(e)) => Err(classify_login_error(&e, target, encrypted)),
    }
}

fn has_io_source(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<std::io::Error>() {
            return true;
        }
        cur = err.source();
    }
    false
}

fn classify_login_error(
    e: &tokio_postgres::Error,
    target: &ProbeTarget,
    encrypted: bool,
) -> Failure {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let msg = db.message();
        let hint = match code {
            "28P01" => format!(
                "wrong password for user {:?}, or no such user (the server does not say which)",
                target.user
            ),
            "28000" if !encrypted => "pg_hba.conf has no line admitting this host, user and database over an unencrypted connection".to_string(),
            "28000" => "pg_hba.conf has no line admitting this host, user and database".to_string(),
            "3D000" => format!(
                "database {:?} does not exist on this server: create it, or fix the database name in the URL",
                target.dbname
            ),
            "53300" => "the server has no free connection slots: lower the pool size per task, or add a pooler (RDS Proxy, PgBouncer)".to_string(),
            "57P03" => "the server is starting up, shutting down or in recovery and not accepting connections yet".to_string(),
            _ => String::new(),
        };
        let detail = if hint.is_empty() {
            msg.to_string()
        } else {
            format!("{msg}: {hint}")
        };
        return Failure::fail(code, detail);
    }
    if target.password.is_none() && !has_io_source(e) {
        // The server asked for a password that sickbay does not have: the credentials
        // were not tested, which is no proof either way.
        return Failure::inconclusive(
            "no_password",
            "the server asks for a password and none was given (URL, PGPASSWORD or the prompt), so the credentials were not tested",
        );
    }
    let mut detail = e.to_string();
    if let Some(src) = std::error::Error::source(e) {
        detail = format!("{detail}: {src}");
    }
    Failure::fail("other", detail)
}

/// What the schema stage learns from the catalogs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaFacts {
    pub server_version: String,
    pub in_recovery: bool,
    pub replay_lag_ms: Option<u64>,
    /// Known migration tables present, schema-qualified unless in `public`.
    pub migration_tables: Vec<String>,
    /// How many of those are the app's (outside platform schemas such as Supabase's
    /// `auth` or `supabase_migrations`, whose migrations say nothing about the app's).
    pub app_migration_tables: usize,
    /// `--expect-table` names not found.
    pub missing_tables: Vec<String>,
    /// Tables (and views) of the app: outside platform schemas, not migration tables.
    pub app_tables: usize,
}

fn rows(msgs: Vec<SimpleQueryMessage>) -> Vec<tokio_postgres::SimpleQueryRow> {
    msgs.into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .collect()
}

const VERSION_SQL: &str = "SELECT current_setting('server_version'), pg_catalog.pg_is_in_recovery()::text, \
     CASE WHEN pg_catalog.pg_is_in_recovery() THEN \
     CASE WHEN pg_catalog.pg_last_wal_receive_lsn() IS NULL THEN NULL \
     WHEN pg_catalog.pg_last_wal_receive_lsn() = pg_catalog.pg_last_wal_replay_lsn() THEN '0' \
     ELSE (EXTRACT(EPOCH FROM (now() - pg_catalog.pg_last_xact_replay_timestamp())) * 1000)::bigint::text END END";

const TABLES_SQL: &str = "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') \
     AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' \
     ORDER BY 1, 2";

/// Reads version, recovery state and the table list, and checks `expect`.
pub async fn schema(
    client: &Client,
    expect: &[String],
    timeout: Duration,
) -> Result<SchemaFacts, Failure> {
    let (v, t) = catalog_rows(client, timeout).await?;
    let mut facts = SchemaFacts::default();
    if let Some(r) = v.first() {
        read_version_row(&mut facts, r)?;
    }
    let tables = table_list(&t)?;
    classify_tables(&mut facts, &tables, expect);
    Ok(facts)
}

/// Runs the version and table-list catalog queries within `timeout`.
async fn catalog_rows(
    client: &Client,
    timeout: Duration,
) -> Result<
    (
        Vec<tokio_postgres::SimpleQueryRow>,
        Vec<tokio_postgres::SimpleQueryRow>,
    ),
    Failure,
> {
    let work = async {
        let v = rows(client.simple_query(VERSION_SQL).await?);
        let t = rows(client.simple_query(TABLES_SQL).await?);
        Ok::<_, tokio_postgres::Error>((v, t))
    };
    let (v, t) = match tokio::time::timeout(timeout, work).await {
        Err(_) => {
            return Err(Failure::fail(
                CODE_TIMEOUT,
                format!(
                    "catalog queries did not answer within {} s",
                    timeout.as_secs()
                ),
            ))
        }
        Ok(Err(e)) => {
            let code = e
                .as_db_error()
                .map(|d| d.code().code().to_string())
                .unwrap_or_else(|| "other".into());
            let detail = e
                .as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string());
            return Err(Failure::fail(
                &code,
                format!("catalog query failed: {detail}"),
            ));
        }
        Ok(Ok(x)) => x,
    };
    Ok((v, t))
}

/// Reads server version, recovery state and replay lag from the version query's row.
fn read_version_row(
    facts: &mut SchemaFacts,
    r: &tokio_postgres::SimpleQueryRow,
) -> Result<(), Failure> {
    facts.server_version = col(r, 0, "version")?
        .unwrap_or("")
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    facts.in_recovery = col(r, 1, "version")? == Some("true");
    facts.replay_lag_ms = col(r, 2, "version")?
        .and_then(|s| s.parse::<i64>().ok())
        .map(|ms| ms.max(0) as u64);
    Ok(())
}

/// The table-list query's rows as `(schema, table)` pairs.
fn table_list(t: &[tokio_postgres::SimpleQueryRow]) -> Result<Vec<(String, String)>, Failure> {
    t.iter()
        .map(|r| {
            Ok::<_, Failure>((
                col(r, 0, "table list")?.unwrap_or("").to_string(),
                col(r, 1, "table list")?.unwrap_or("").to_string(),
            ))
        })
        .collect::<Result<_, Failure>>()
}

/// Sorts the tables into migration, application and missing expected tables.
fn classify_tables(facts: &mut SchemaFacts, tables: &[(String, String)], expect: &[String]) {
    facts.migration_tables = tables
        .iter()
        .filter(|(_, name)| {
            MIGRATION_TABLES
                .iter()
                .any(|(m, _)| m.eq_ignore_ascii_case(name))
        })
        .map(|(ns, name)| qualified(ns, name))
        .collect();
    facts.app_migration_tables = tables
        .iter()
        .filter(|(ns, name)| {
            !PLATFORM_SCHEMAS.contains(&ns.as_str())
                && MIGRATION_TABLES
                    .iter()
                    .any(|(m, _)| m.eq_ignore_ascii_case(name))
        })
        .count();
    facts.app_tables = tables
        .iter()
        .filter(|(ns, name)| {
            !PLATFORM_SCHEMAS.contains(&ns.as_str())
                && !EXTENSION_TABLES.contains(&name.as_str())
                && !MIGRATION_TABLES
                    .iter()
                    .any(|(m, _)| m.eq_ignore_ascii_case(name))
        })
        .count();
    facts.missing_tables = expect
        .iter()
        .filter(|want| {
            !tables
                .iter()
                .any(|(ns, name)| table_matches(want, ns, name))
        })
        .cloned()
        .collect();
}

fn qualified(ns: &str, name: &str) -> String {
    if ns == "public" {
        name.to_string()
    } else {
        format!("{ns}.{name}")
    }
}

/// `want` is `table` or `schema.table`; unquoted names fold to lower case, so a
/// case-insensitive match is accepted too.
fn table_matches(want: &str, ns: &str, name: &str) -> bool {
    let want = want.trim().trim_matches('"');
    match want.split_once('.') {
        Some((s, t)) => {
            let (s, t) = (s.trim_matches('"'), t.trim_matches('"'));
            (s == ns || s.eq_ignore_ascii_case(ns)) && (t == name || t.eq_ignore_ascii_case(name))
        }
        None => want == name || want.eq_ignore_ascii_case(name),
    }
}

/// The framework that writes a migration table, for messages.
pub fn framework_of(table: &str) -> Option<&'static str> {
    let bare = table.rsplit('.').next().unwrap_or(table);
    MIGRATION_TABLES
        .iter()
        .find(|(m, _)| m.eq_ignore_ascii_case(bare))
        .map(|(_, f)| *f)
}

/// Column `i` of a catalog row. A server (a proxy, a PostgreSQL look-alike) that answers
/// with another shape makes the stage inconclusive, never a panic.
fn col<'r>(
    r: &'r tokio_postgres::SimpleQueryRow,
    i: usize,
    query: &str,
) -> Result<Option<&'r str>, Failure> {
    r.try_get(i).map_err(|e| {
        Failure::inconclusive(
            "unexpected_answer",
            format!("the server's answer to the {query} query has an unexpected shape ({e}), so the schema was not read"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_match_like_postgres_identifiers() {
        assert!(table_matches("users", "public", "users"));
        assert!(table_matches("Users", "public", "users"));
        assert!(table_matches("auth.users", "auth", "users"));
        assert!(!table_matches("auth.users", "public", "users"));
        assert!(table_matches(
            "\"SequelizeMeta\"",
            "public",
            "SequelizeMeta"
        ));
    }

    #[test]
    fn frameworks() {
        assert_eq!(framework_of("_prisma_migrations"), Some("Prisma"));
        assert_eq!(
            framework_of("auth.schema_migrations"),
            Some("Rails, golang-migrate, Ecto or dbmate")
        );
        assert_eq!(framework_of("orders"), None);
    }
}
