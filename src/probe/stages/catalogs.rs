//! The schema stage: what the system catalogs say about the database once logged in
//! (server version, primary or replica, app and migration tables), and the verdict on
//! whether migrations ran. Apart from the connection stages because it judges content,
//! not reachability.

use super::*;

/// Schema: the catalogs, read only.
pub(super) async fn schema_run(
    p: &mut DbProbe,
    client: &tokio_postgres::Client,
    target: &ProbeTarget,
    opts: &ProbeOptions,
) {
    let timeout = opts.timeout;
    let t = Instant::now();
    match pg::schema(client, &opts.expect_tables, timeout).await {
        Err(f) => p.stages.push(failed("schema", f, t)),
        Ok(facts) => {
            p.server_version = Some(facts.server_version.clone());
            p.in_recovery = Some(facts.in_recovery);
            p.replay_lag_ms = facts.replay_lag_ms;
            p.migration_tables = facts.migration_tables.clone();
            p.missing_tables = facts.missing_tables.clone();
            if facts.in_recovery {
                p.notes.push(format!(
                    "{} is a read replica (pg_is_in_recovery() = true): writes fail with SQLSTATE 25006; point the app at the writer endpoint",
                    p.target
                ));
            }
            p.stages.push(schema_stage(&facts, target, t));
        }
    }
}

fn schema_stage(f: &pg::SchemaFacts, target: &ProbeTarget, t: Instant) -> ProbeStage {
    let facts = schema_summary(f);
    let (status, code, detail) = schema_verdict(f, target, facts);
    ProbeStage {
        stage: "schema".into(),
        status: status.into(),
        code: code.map(str::to_string),
        detail: Some(detail),
        elapsed_ms: ms(t),
    }
}

/// `PostgreSQL 16.2, primary; 12 app table(s); migration tables: ...`.
fn schema_summary(f: &pg::SchemaFacts) -> String {
    let role = if f.in_recovery {
        match f.replay_lag_ms {
            Some(l) => format!("replica, replay lag {l} ms"),
            None => "replica, nothing replayed yet".to_string(),
        }
    } else {
        "primary".to_string()
    };
    let migrations = if f.migration_tables.is_empty() {
        "no known migration table".to_string()
    } else {
        let named: Vec<String> = f
            .migration_tables
            .iter()
            .map(|m| match pg::framework_of(m) {
                Some(fw) => format!("{m} ({fw})"),
                None => m.clone(),
            })
            .collect();
        format!("migration tables: {}", named.join(", "))
    };
    format!(
        "PostgreSQL {}, {role}; {} app table(s); {migrations}",
        f.server_version, f.app_tables
    )
}

/// Status, code and detail of the schema stage: no tables at all, expected tables
/// missing, or fine.
fn schema_verdict(
    f: &pg::SchemaFacts,
    target: &ProbeTarget,
    facts: String,
) -> (&'static str, Option<&'static str>, String) {
    let dbname = target.dbname.as_str();
    let missing = f.missing_tables.join(", ");
    if f.app_tables == 0 && f.app_migration_tables == 0 {
        let mut d = format!(
            "database {dbname} has no tables and no migration table: migrations never ran (run the framework's migrate command as a one-off task or before the app starts)"
        );
        if !missing.is_empty() {
            d.push_str(&format!("; missing: {missing}"));
        }
        // The maintenance database, or one nobody named, may not be where the app's
        // tables are meant to live: no proof that its migrations never ran.
        if target.dbname_defaulted || dbname == "postgres" {
            let why = if target.dbname_defaulted {
                format!("the configuration names no database, so the driver's default {dbname} was probed")
            } else {
                "postgres is the maintenance database, which apps and platforms (pg-meta) often use without tables of their own".to_string()
            };
            (
                "inconclusive",
                Some("no_migrations"),
                format!("database {dbname} has no app tables and no migration table, but {why}; {facts}"),
            )
        } else {
            ("fail", Some("no_migrations"), format!("{d}; {facts}"))
        }
    } else if !f.missing_tables.is_empty() {
        let why = if f.app_migration_tables == 0 {
            "no known migration table either: are migrations run at all?"
        } else {
            "migrations ran but did not create them: pending migrations, or the app points at another database or schema"
        };
        (
            "fail",
            Some("missing_tables"),
            format!("missing: {missing}; {why}; {facts}"),
        )
    } else {
        ("ok", None, facts)
    }
}
