//! `sickbay db probe` against real PostgreSQL 15 servers on loopback with a generated
//! TLS chain: every stage outcome through the library, and the CLI end to end with
//! golden (insta) table and JSON output, normalised for ports, paths, versions and
//! elapsed times. Table goldens show findings whole; JSON goldens list each finding as
//! `rule severity`. `doctor --db on` is covered over a snapshot naming four endpoints.

#[path = "support/pg.rs"]
mod pg;

use pg::{pki, server, Setup, PASSWORD, TEST_NAME, USER};
use sickbay::probe::{
    discover, outcome, probe, read_ca_bundle, Outcome, ProbeOptions, ProbeTarget, Vantage,
};
use sickbay::snapshot::{
    ContainerDefinition, DbProbe, EnvVar, ProbeStage, Snapshot, TaskDefinition,
};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Every lookup in these tests is answered from this file, so no query leaves the
/// machine (the system resolver would ask a nameserver outside loopback for `db`).
fn hosts_file() -> std::path::PathBuf {
    static FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("sickbay-test-hosts-{}", std::process::id()));
        std::fs::write(
            &path,
            format!("127.0.0.1 localhost {TEST_NAME}\n::1 localhost\n"),
        )
        .expect("write hosts file");
        path
    })
    .clone()
}

fn opts() -> ProbeOptions {
    ProbeOptions {
        timeout: Duration::from_secs(10),
        hosts_file: Some(hosts_file()),
        ..ProbeOptions::default()
    }
}

fn trusted() -> ProbeOptions {
    ProbeOptions {
        extra_roots: read_ca_bundle(&pki().root_file).expect("root bundle"),
        ..opts()
    }
}

async fn run(url: &str, o: &ProbeOptions) -> DbProbe {
    let t = ProbeTarget::parse_url(url).expect("url");
    probe(&t, o).await
}

fn stage<'a>(p: &'a DbProbe, name: &str) -> &'a ProbeStage {
    p.stages
        .iter()
        .find(|s| s.stage == name)
        .unwrap_or_else(|| panic!("no {name} stage in {p:#?}"))
}

/// (status, code) of a stage.
fn sc(p: &DbProbe, name: &str) -> (String, String) {
    let s = stage(p, name);
    (s.status.clone(), s.code.clone().unwrap_or_default())
}

fn pair(status: &str, code: &str) -> (String, String) {
    (status.to_string(), code.to_string())
}

fn detail<'a>(p: &'a DbProbe, name: &str) -> &'a str {
    stage(p, name).detail.as_deref().unwrap_or("")
}

/// The test name resolved to loopback through libpq's `hostaddr`, so TLS verifies
/// `pg.sickbay.test` while the connection goes to 127.0.0.1.
fn named(setup: Setup, db: &str, extra: &str) -> String {
    let q = if extra.is_empty() {
        "hostaddr=127.0.0.1".to_string()
    } else {
        format!("hostaddr=127.0.0.1&{extra}")
    };
    server(setup).url(TEST_NAME, db, &q)
}

// ------------------------------------------------------------------ TLS

#[tokio::test]
async fn untrusted_chain_is_unknown_issuer_and_chain_is_recorded() {
    let p = run(&named(Setup::Tls, "app", ""), &opts()).await;
    assert_eq!(sc(&p, "dns"), pair("ok", ""));
    assert_eq!(sc(&p, "tcp"), pair("ok", ""));
    assert_eq!(sc(&p, "tls"), pair("fail", "unknown_issuer"), "{p:#?}");
    assert!(
        detail(&p, "tls").contains("issuer CN=Sickbay Test Root CA"),
        "{}",
        detail(&p, "tls")
    );
    assert_eq!(p.tls_chain.len(), 2);
    assert!(p.tls_chain[0].subject.contains(TEST_NAME));
    assert!(p.tls_chain[0]
        .issuer
        .contains("Sickbay Test Intermediate CA"));
    assert!(p.tls_chain[1]
        .subject
        .contains("Sickbay Test Intermediate CA"));
    assert!(p.tls_chain[1].issuer.contains("Sickbay Test Root CA"));
    assert!(p.tls_chain[0].sans.contains(&"127.0.0.1".to_string()));
    // sslmode=prefer does not verify: like libpq, the probe goes on and reports the rest.
    assert_eq!(sc(&p, "auth"), pair("ok", ""));
    assert!(detail(&p, "auth").contains("unverified"));
    assert_eq!(sc(&p, "schema"), pair("ok", ""));
    assert_eq!(outcome(&p), Outcome::Failed);
}

#[tokio::test]
async fn verify_full_stops_before_sending_credentials() {
    let p = run(&named(Setup::Tls, "app", "sslmode=verify-full"), &opts()).await;
    assert_eq!(sc(&p, "tls"), pair("fail", "unknown_issuer"));
    assert_eq!(sc(&p, "auth"), pair("skipped", ""));
    assert!(detail(&p, "auth").contains("verify-full"));
    assert_eq!(sc(&p, "schema"), pair("skipped", ""));
}

#[tokio::test]
async fn trusted_with_ca_bundle_every_stage_ok() {
    let o = ProbeOptions {
        expect_tables: vec!["users".into(), "public.orders".into()],
        ..trusted()
    };
    let p = run(&named(Setup::Tls, "app", "sslmode=verify-full"), &o).await;
    for s in ["dns", "tcp", "tls", "auth", "schema"] {
        assert_eq!(sc(&p, s), pair("ok", ""), "{p:#?}");
        assert!(stage(&p, s).elapsed_ms.is_some());
    }
    assert_eq!(outcome(&p), Outcome::Ok);
    assert!(
        p.server_version
            .as_deref()
            .is_some_and(|v| v.starts_with("15.")),
        "{:?}",
        p.server_version
    );
    assert_eq!(p.in_recovery, Some(false));
    assert_eq!(p.migration_tables, vec!["_prisma_migrations"]);
    assert!(p.missing_tables.is_empty());
    assert_eq!(p.addresses, vec!["127.0.0.1"]);
    assert!(detail(&p, "schema").contains("Prisma"));
}

#[tokio::test]
async fn trusted_by_localhost_and_by_ip() {
    for host in ["localhost", "127.0.0.1"] {
        let p = run(
            &server(Setup::Tls).url(host, "app", "sslmode=verify-full"),
            &trusted(),
        )
        .await;
        assert_eq!(outcome(&p), Outcome::Ok, "{host}: {p:#?}");
    }
}

#[tokio::test]
async fn sslrootcert_in_the_url_is_translated() {
    // tokio-postgres's own parser rejects sslrootcert= and sslmode=verify-full.
    let url = named(
        Setup::Tls,
        "app",
        &format!(
            "sslmode=verify-full&sslrootcert={}",
            pki().root_file.display()
        ),
    );
    let args = ["db", "probe", &url, "--color", "never", "-o", "json"];
    let (code, out, err) = cli(&args);
    assert_eq!(code, 0, "{out}\n{err}");
}

#[tokio::test]
async fn hostname_mismatch() {
    let url = server(Setup::Tls).url("wrong.sickbay.test", "app", "hostaddr=127.0.0.1");
    let p = run(&url, &trusted()).await;
    assert_eq!(sc(&p, "tls"), pair("fail", "hostname_mismatch"), "{p:#?}");
    let d = detail(&p, "tls");
    assert!(
        d.contains("wrong.sickbay.test") && d.contains(TEST_NAME),
        "{d}"
    );
    // verify-full stops there; verify-ca checks only the chain, so a client goes on.
    let p = run(&format!("{url}&sslmode=verify-full"), &trusted()).await;
    assert_eq!(sc(&p, "auth"), pair("skipped", ""));
    let p = run(&format!("{url}&sslmode=verify-ca"), &trusted()).await;
    assert_eq!(sc(&p, "tls"), pair("fail", "hostname_mismatch"));
    assert_eq!(sc(&p, "auth"), pair("ok", ""), "{p:#?}");
}

#[tokio::test]
async fn self_signed_root_in_chain() {
    let p = run(&named(Setup::TlsWithRoot, "app", ""), &opts()).await;
    assert_eq!(
        sc(&p, "tls"),
        pair("fail", "self_signed_in_chain"),
        "{p:#?}"
    );
    assert_eq!(p.tls_chain.len(), 3);
    assert!(detail(&p, "tls").contains("Sickbay Test Root CA"));
    // Trusting the root fixes it.
    let p = run(
        &named(Setup::TlsWithRoot, "app", "sslmode=verify-full"),
        &trusted(),
    )
    .await;
    assert_eq!(outcome(&p), Outcome::Ok, "{p:#?}");
}

#[tokio::test]
async fn a_non_verifying_sslmode_makes_an_untrusted_chain_inconclusive() {
    // libpq, psycopg, pgx and JDBC do not check certificates under sslmode=require.
    let p = run(
        &named(Setup::TlsWithRoot, "app", "sslmode=require"),
        &opts(),
    )
    .await;
    assert_eq!(
        sc(&p, "tls"),
        pair("inconclusive", "self_signed_in_chain"),
        "{p:#?}"
    );
    assert!(detail(&p, "tls").contains("depends on its driver"));
    // The login goes on, as such a client's would.
    assert_eq!(sc(&p, "auth"), pair("ok", ""), "{p:#?}");
    // node-postgres treats require as verify-full.
    let node = ProbeOptions {
        node_client: true,
        ..opts()
    };
    let p = run(&named(Setup::TlsWithRoot, "app", "sslmode=require"), &node).await;
    assert_eq!(
        sc(&p, "tls"),
        pair("fail", "self_signed_in_chain"),
        "{p:#?}"
    );
    // no-verify checks nothing, whatever the driver.
    let p = run(
        &named(Setup::TlsWithRoot, "app", "sslmode=no-verify"),
        &node,
    )
    .await;
    assert_eq!(
        sc(&p, "tls"),
        pair("inconclusive", "self_signed_in_chain"),
        "{p:#?}"
    );
}

#[test]
fn cli_inconclusive_chain_raises_no_tls_finding() {
    let url = named(Setup::TlsWithRoot, "app", "sslmode=require");
    let (code, out, err) = cli(&["db", "probe", &url, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["first_problem"], "tls:self_signed_in_chain", "{out}");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        !ids.iter().any(|r| r.starts_with("TLS")),
        "an inconclusive chain is no TLS finding: {ids:?}"
    );
}

#[test]
fn cli_sslrootcert_inside_the_image_gives_way_to_ca_bundle() {
    // The URL names a path that exists only in the app's image.
    let url = named(
        Setup::Tls,
        "app",
        "sslmode=verify-full&sslrootcert=/certs/not-here/rds-global-bundle.pem",
    );
    let (code, _, err) = cli(&["db", "probe", &url]);
    assert_eq!(
        code, 2,
        "without --ca-bundle the missing file is an error: {err}"
    );
    let root = pki().root_file.display().to_string();
    let (code, out, err) = cli(&["db", "probe", &url, "--ca-bundle", &root, "-o", "json"]);
    assert_eq!(code, 0, "{out}\n{err}");
}

#[tokio::test]
async fn the_maintenance_database_being_empty_is_no_proof() {
    let p = run(&named(Setup::Tls, "postgres", ""), &trusted()).await;
    assert_eq!(
        sc(&p, "schema"),
        pair("inconclusive", "no_migrations"),
        "{p:#?}"
    );
    assert!(detail(&p, "schema").contains("maintenance database"));
}

#[tokio::test]
async fn expired_certificate() {
    let p = run(
        &named(Setup::TlsExpired, "app", "sslmode=verify-full"),
        &trusted(),
    )
    .await;
    assert_eq!(sc(&p, "tls"), pair("fail", "expired"), "{p:#?}");
    assert!(
        detail(&p, "tls").contains("2021-01-01"),
        "{}",
        detail(&p, "tls")
    );
}

#[tokio::test]
async fn tls_off_is_not_offered() {
    let o = ProbeOptions {
        require_tls: true,
        ..opts()
    };
    let p = run(&server(Setup::Plain).url("127.0.0.1", "app", ""), &o).await;
    assert_eq!(sc(&p, "tls"), pair("fail", "not_offered"), "{p:#?}");
    assert_eq!(sc(&p, "auth"), pair("skipped", ""));
    // sslmode=require says the same without the flag.
    let p = run(
        &server(Setup::Plain).url("127.0.0.1", "app", "sslmode=require"),
        &opts(),
    )
    .await;
    assert_eq!(sc(&p, "tls"), pair("fail", "not_offered"));
    // Without a requirement the probe goes on in plaintext, and says so.
    let p = run(&server(Setup::Plain).url("127.0.0.1", "app", ""), &opts()).await;
    assert_eq!(sc(&p, "tls"), pair("skipped", "not_offered"));
    assert_eq!(sc(&p, "auth"), pair("ok", ""));
    assert!(detail(&p, "auth").contains("plaintext"));
    assert_eq!(outcome(&p), Outcome::Ok);
}

// ------------------------------------------------------------------ auth

#[tokio::test]
async fn plain_connection_rejected_by_hostssl() {
    let p = run(
        &server(Setup::Tls).url("127.0.0.1", "app", "sslmode=disable"),
        &opts(),
    )
    .await;
    assert_eq!(sc(&p, "tls"), pair("skipped", ""));
    // Refused in plain text, admitted over TLS on a second connection: proof.
    assert_eq!(sc(&p, "auth"), pair("fail", "requires_tls"), "{p:#?}");
    assert!(
        detail(&p, "auth").contains("admits the same user and database over TLS (logged in)"),
        "{}",
        detail(&p, "auth")
    );
    // Without the password the TLS attempt still proves it: the server asks for one.
    let url = server(Setup::Tls).url_no_password("127.0.0.1", "app", "sslmode=disable");
    let p = run(&url, &opts()).await;
    assert_eq!(sc(&p, "auth"), pair("fail", "requires_tls"), "{p:#?}");
    assert!(detail(&p, "auth").contains("(it asked for the password)"));
}

#[tokio::test]
async fn plain_rejection_without_tls_is_no_proof_of_hostssl() {
    // The plain server has no TLS and no pg_hba line for `nohba` over TCP.
    let url = format!(
        "postgres://nohba:{PASSWORD}@127.0.0.1:{}/app?sslmode=disable",
        server(Setup::Plain).port
    );
    let p = run(&url, &opts()).await;
    assert_eq!(sc(&p, "auth"), pair("fail", "28000"), "{p:#?}");
    assert!(detail(&p, "auth").contains("no line admitting"));
    // Over TLS, a 28000 is a pg_hba matter too.
    let url = format!(
        "postgres://nohba:{PASSWORD}@{TEST_NAME}:{}/app?hostaddr=127.0.0.1&sslmode=verify-full",
        server(Setup::Tls).port
    );
    let p = run(&url, &trusted()).await;
    assert_eq!(sc(&p, "auth"), pair("fail", "28000"), "{p:#?}");
    assert!(detail(&p, "auth").contains("pg_hba.conf has no line admitting this host"));
}

#[tokio::test]
async fn wrong_password() {
    let url = named(Setup::Tls, "app", "sslmode=verify-full").replace(PASSWORD, "not-the-password");
    let p = run(&url, &trusted()).await;
    assert_eq!(sc(&p, "auth"), pair("fail", "28P01"), "{p:#?}");
    assert!(!format!("{p:?}").contains("not-the-password"));
}

#[tokio::test]
async fn no_password_given() {
    let url = server(Setup::Tls).url_no_password(TEST_NAME, "app", "hostaddr=127.0.0.1");
    let p = run(&url, &trusted()).await;
    // The credentials were not tested: no proof either way.
    assert_eq!(
        sc(&p, "auth"),
        pair("inconclusive", "no_password"),
        "{p:#?}"
    );
    assert_eq!(outcome(&p), Outcome::Inconclusive);
}

#[tokio::test]
async fn missing_database() {
    let p = run(&named(Setup::Tls, "nosuchdb", ""), &trusted()).await;
    assert_eq!(sc(&p, "auth"), pair("fail", "3D000"), "{p:#?}");
    assert!(detail(&p, "auth").contains("nosuchdb"));
}

// ------------------------------------------------------------------ schema

#[tokio::test]
async fn missing_expected_table() {
    let o = ProbeOptions {
        expect_tables: vec!["users".into(), "tax_provider".into()],
        ..trusted()
    };
    let p = run(&named(Setup::Tls, "app", ""), &o).await;
    assert_eq!(sc(&p, "schema"), pair("fail", "missing_tables"), "{p:#?}");
    assert_eq!(p.missing_tables, vec!["tax_provider"]);
    assert_eq!(p.migration_tables, vec!["_prisma_migrations"]);
    assert!(detail(&p, "schema").contains("migrations ran"));
}

#[tokio::test]
async fn empty_database_means_migrations_never_ran() {
    let o = ProbeOptions {
        expect_tables: vec!["tax_provider".into()],
        ..trusted()
    };
    let p = run(&named(Setup::Tls, "empty", ""), &o).await;
    assert_eq!(sc(&p, "schema"), pair("fail", "no_migrations"), "{p:#?}");
    assert!(p.migration_tables.is_empty());
    assert_eq!(p.missing_tables, vec!["tax_provider"]);
}

#[tokio::test]
async fn app_tables_without_migration_table_are_ok() {
    let p = run(&named(Setup::Tls, "legacy", ""), &trusted()).await;
    assert_eq!(sc(&p, "schema"), pair("ok", ""), "{p:#?}");
    assert!(p.migration_tables.is_empty());
    assert!(detail(&p, "schema").contains("no known migration table"));
}

// ------------------------------------------------------------------ DNS and TCP

#[tokio::test]
async fn too_many_connections_for_the_role() {
    let url = format!(
        "postgres://capped:{PASSWORD}@{TEST_NAME}:{}/app?hostaddr=127.0.0.1&sslmode=verify-full",
        server(Setup::Tls).port
    );
    let p = run(&url, &trusted()).await;
    assert_eq!(sc(&p, "auth"), pair("fail", "53300"), "{p:#?}");
    assert!(detail(&p, "auth").contains("pooler"));
}

#[tokio::test]
async fn a_replica_is_recognised() {
    let s = server(Setup::Standby);
    let p = run(&s.url("127.0.0.1", "app", "sslmode=disable"), &opts()).await;
    assert_eq!(sc(&p, "schema"), pair("ok", ""), "{p:#?}");
    assert_eq!(p.in_recovery, Some(true), "{p:#?}");
    // Caught up with the primary: the lag is what is left to replay, not the time
    // since the last write.
    assert_eq!(p.replay_lag_ms, Some(0), "{p:#?}");
    assert!(detail(&p, "schema").contains("replica, replay lag 0 ms"));
    assert!(p
        .notes
        .iter()
        .any(|n| n.contains("read replica") && n.contains("25006")));
    // The primary says so too.
    let p = run(&server(Setup::Plain).url("127.0.0.1", "app", ""), &opts()).await;
    assert_eq!(p.in_recovery, Some(false));
    assert!(detail(&p, "schema").contains("primary"));
}

#[tokio::test]
async fn platform_migrations_do_not_count_as_the_apps() {
    // Only Supabase-style `auth.schema_migrations` and `auth.users`: the app's own
    // migrations never ran.
    let p = run(&named(Setup::Tls, "platform", ""), &trusted()).await;
    assert_eq!(sc(&p, "schema"), pair("fail", "no_migrations"), "{p:#?}");
    assert_eq!(p.migration_tables, vec!["auth.schema_migrations"]);
}

#[tokio::test]
async fn an_rds_chain_is_recognised_and_the_bundle_recommended() {
    let s = server(Setup::Rds);
    let url = format!(
        "postgres://{USER}:{PASSWORD}@{TEST_NAME}:{}/app?hostaddr=127.0.0.1&sslmode=verify-full",
        s.port
    );
    let p = run(&url, &opts()).await;
    assert_eq!(sc(&p, "tls"), pair("fail", "unknown_issuer"), "{p:#?}");
    assert!(p.tls_chain[0]
        .issuer
        .contains("Amazon RDS us-east-1 Root CA RSA2048 G1"));
    assert!(
        detail(&p, "tls").contains("truststore.pki.rds.amazonaws.com"),
        "{}",
        detail(&p, "tls")
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("Amazon RDS CA") && n.contains("global-bundle.pem")),
        "{:?}",
        p.notes
    );
    // Trusting the bundle fixes it.
    let o = ProbeOptions {
        extra_roots: read_ca_bundle(&pki().rds_root_file).unwrap(),
        ..opts()
    };
    let p = run(&url, &o).await;
    assert_eq!(outcome(&p), Outcome::Ok, "{p:#?}");
}

#[tokio::test]
async fn closed_port_is_refused() {
    let port = pg::free_port();
    let p = run(&format!("postgres://app@127.0.0.1:{port}/app"), &opts()).await;
    assert_eq!(sc(&p, "tcp"), pair("fail", "refused"), "{p:#?}");
    assert_eq!(sc(&p, "tls"), pair("skipped", ""));
}

#[tokio::test]
async fn compose_hostname_does_not_resolve() {
    let p = run("postgres://app@db:5432/app", &opts()).await;
    assert_eq!(sc(&p, "dns"), pair("fail", "not_found"), "{p:#?}");
    assert!(detail(&p, "dns").contains("docker-compose"));
    assert_eq!(sc(&p, "tcp"), pair("skipped", ""));
}

#[tokio::test]
async fn server_that_never_answers_times_out() {
    // Accepts, then says nothing: only a bound on the whole exchange catches this.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let o = ProbeOptions {
        timeout: Duration::from_secs(1),
        ..opts()
    };
    let p = run(&format!("postgres://app@127.0.0.1:{port}/app"), &o).await;
    hold.abort();
    assert_eq!(sc(&p, "tcp"), pair("ok", ""));
    assert_eq!(sc(&p, "tls"), pair("fail", "timeout"), "{p:#?}");
}

/// A loopback listener whose accept queue is full, so further SYNs go unanswered and
/// a connect times out, as it does against a security group that drops traffic.
async fn silent_port() -> (tokio::net::TcpListener, Vec<tokio::net::TcpStream>, u16) {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = sock.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    for _ in 0..16 {
        match tokio::time::timeout(
            Duration::from_millis(300),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(s)) => queued.push(s),
            _ => return (listener, queued, addr.port()),
        }
    }
    panic!("could not fill the accept queue of {addr}");
}

#[tokio::test]
async fn tcp_timeout_is_inconclusive_unless_inside_the_vpc() {
    let (_listener, _queued, port) = silent_port().await;
    let url = format!("postgres://app@127.0.0.1:{port}/app");
    let o = ProbeOptions {
        timeout: Duration::from_secs(1),
        ..opts()
    };
    let p = run(&url, &o).await;
    assert_eq!(sc(&p, "tcp"), pair("inconclusive", "timeout"), "{p:#?}");
    assert!(detail(&p, "tcp").contains("says nothing about whether the tasks can reach it"));
    assert_eq!(outcome(&p), Outcome::Inconclusive);
    let inside = ProbeOptions {
        vantage: Vantage::InsideVpc,
        ..o
    };
    let p = run(&url, &inside).await;
    assert_eq!(sc(&p, "tcp"), pair("fail", "timeout"), "{p:#?}");
    assert!(detail(&p, "tcp").contains("security groups"));
}

// ------------------------------------------------------------------ discovery

#[tokio::test]
async fn discovered_endpoint_with_redacted_password_probes() {
    let s = server(Setup::Tls);
    let url = format!(
        "postgres://app:<redacted:0123456789ab>@{TEST_NAME}:{}/app?hostaddr=127.0.0.1&sslmode=verify-full",
        s.port
    );
    let snap = Snapshot {
        schema_version: 1,
        task_definitions: vec![TaskDefinition {
            family: "api".into(),
            revision: 7,
            containers: vec![ContainerDefinition {
                name: "app".into(),
                image: "api:1".into(),
                essential: true,
                environment: vec![
                    EnvVar {
                        name: "DATABASE_URL".into(),
                        value: url,
                    },
                    EnvVar {
                        name: "DB_HOST".into(),
                        value: "db".into(),
                    },
                ],
                ..ContainerDefinition::default()
            }],
            ..TaskDefinition::default()
        }],
        ..Snapshot::default()
    };
    let found = discover(&snap);
    assert_eq!(found.len(), 2, "{found:#?}");
    let c = &found[0];
    assert!(
        c.notes.iter().any(|n| n.contains("DB_HOST")),
        "{:?}",
        c.notes
    );
    let mut t = c.target.clone().expect("target");
    assert_eq!(t.password, None, "a redacted password is unknown");
    let p = probe(&t, &trusted()).await;
    assert_eq!(sc(&p, "auth"), pair("inconclusive", "no_password"));
    assert_eq!(p.origin.as_deref(), Some("`DATABASE_URL` of `api:7/app`"));
    t.password = Some(PASSWORD.into());
    let p = probe(&t, &trusted()).await;
    assert_eq!(outcome(&p), Outcome::Ok, "{p:#?}");
    // The field group points at the compose name `db`.
    let other = found[1].target.clone().expect("target");
    let p = probe(&other, &opts()).await;
    assert_eq!(sc(&p, "dns"), pair("fail", "not_found"));
}

#[tokio::test]
async fn vantage_is_recorded() {
    let o = ProbeOptions {
        vantage: Vantage::OutsideVpc,
        ..opts()
    };
    let p = run("postgres://app@db:5432/app", &o).await;
    assert_eq!(p.vantage.as_deref(), Some("outside-vpc"));
}

// ------------------------------------------------------------------ CLI end to end

fn cli(args: &[&str]) -> (i32, String, String) {
    cli_env(args, Some(PASSWORD))
}

fn cli_env(args: &[&str], pgpassword: Option<&str>) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sickbay"));
    c.args(args)
        .env("SICKBAY_HOSTS_FILE", hosts_file())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .env_remove("PGPASSWORD")
        .stdin(Stdio::null());
    if let Some(pw) = pgpassword {
        c.env("PGPASSWORD", pw);
    }
    let out = c.output().expect("run sickbay");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Stable text: ports, temp paths, server versions and elapsed times replaced; the
/// findings block elided.
fn normalise(text: &str, port: Option<u16>) -> String {
    let re_ms = regex::Regex::new(r"[ \d]{6} ms").unwrap();
    let re_json_ms = regex::Regex::new(r#""elapsed_ms": \d+"#).unwrap();
    let re_ver = regex::Regex::new(r"\b15\.\d+\b").unwrap();
    let mut s = re_ms.replace_all(text, "     N ms").into_owned();
    s = re_json_ms
        .replace_all(&s, r#""elapsed_ms": 0"#)
        .into_owned();
    s = re_ver.replace_all(&s, "15.x").into_owned();
    if let Some(port) = port {
        s = s.replace(&port.to_string(), "PORT");
    }
    s = s.replace(&pki().dir.display().to_string(), "[PKI]");
    s
}

/// JSON output with each finding reduced to `rule severity` (the table goldens show
/// findings whole) and the summary to its counts.
fn normalise_json(text: &str, port: Option<u16>) -> String {
    let mut v: serde_json::Value = serde_json::from_str(text).expect("JSON output");
    let findings: Vec<serde_json::Value> = v["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("findings list missing: {text}"))
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["rule"].as_str().unwrap_or("?"),
                f["severity"].as_str().unwrap_or("?")
            )
            .into()
        })
        .collect();
    assert!(v["summary"].is_object(), "summary missing: {text}");
    v["findings"] = findings.into();
    normalise(&serde_json::to_string_pretty(&sorted(v)).unwrap(), port)
}

/// Object keys sorted at every level: serde_json keeps insertion order when a dependency
/// (the AWS SDK's HTTP client) turns on its `preserve_order` feature.
fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<(String, serde_json::Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

#[test]
fn cli_trusted_ok_table_and_json() {
    let s = server(Setup::Tls);
    let url = s.url_no_password(TEST_NAME, "app", "hostaddr=127.0.0.1&sslmode=verify-full");
    let root = pki().root_file.display().to_string();
    let base = [
        "db",
        "probe",
        url.as_str(),
        "--ca-bundle",
        root.as_str(),
        "--expect-table",
        "users",
        "--color",
        "never",
    ];
    let (code, out, err) = cli(&[&base[..], &["-o", "table"]].concat());
    assert_eq!(code, 0, "{out}\n{err}");
    insta::assert_snapshot!("trusted_ok_table", normalise(&out, Some(s.port)));
    let (code, out, err) = cli(&[&base[..], &["-o", "json"]].concat());
    assert_eq!(code, 0, "{out}\n{err}");
    insta::assert_snapshot!("trusted_ok_json", normalise_json(&out, Some(s.port)));
    let (code, out, _) = cli(&[&base[..], &["-o", "markdown"]].concat());
    assert_eq!(code, 0);
    assert!(out.contains("| tls | ok |"), "{out}");
    assert!(!out.contains(PASSWORD));
}

#[test]
fn cli_untrusted_chain_table_and_json() {
    let s = server(Setup::Tls);
    let url = s.url_no_password(TEST_NAME, "app", "hostaddr=127.0.0.1&sslmode=verify-full");
    let base = ["db", "probe", url.as_str(), "--color", "never"];
    let (code, out, err) = cli(&[&base[..], &["-o", "table"]].concat());
    assert_eq!(code, 1, "{out}\n{err}");
    insta::assert_snapshot!("untrusted_chain_table", normalise(&out, Some(s.port)));
    let (code, out, _) = cli(&[&base[..], &["-o", "json"]].concat());
    assert_eq!(code, 1);
    insta::assert_snapshot!("untrusted_chain_json", normalise_json(&out, Some(s.port)));
}

#[test]
fn cli_missing_tables_json() {
    let s = server(Setup::Tls);
    let url = s.url_no_password(TEST_NAME, "empty", "hostaddr=127.0.0.1");
    let root = pki().root_file.display().to_string();
    let (code, out, err) = cli(&[
        "db",
        "probe",
        &url,
        "--ca-bundle",
        &root,
        "--expect-table",
        "tax_provider",
        "--expect-table",
        "currency",
        "-o",
        "json",
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    insta::assert_snapshot!("empty_database_json", normalise_json(&out, Some(s.port)));
}

#[test]
fn cli_wrong_password_and_password_from_url_never_printed() {
    let s = server(Setup::Tls);
    let url = s
        .url(TEST_NAME, "app", "hostaddr=127.0.0.1")
        .replace(PASSWORD, "hunter2-wrong");
    let root = pki().root_file.display().to_string();
    let (code, out, err) = cli_env(
        &["db", "probe", &url, "--ca-bundle", &root, "-o", "json"],
        None,
    );
    assert_eq!(code, 1, "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["first_problem"], "auth:28P01");
    assert!(!out.contains("hunter2") && !err.contains("hunter2"));
}

#[test]
fn cli_closed_port_and_unresolvable_name() {
    let port = pg::free_port();
    let url = format!("postgres://app@127.0.0.1:{port}/app");
    let (code, out, err) = cli(&["db", "probe", &url, "-o", "json"]);
    assert_eq!(code, 1, "{out}\n{err}");
    insta::assert_snapshot!("closed_port_json", normalise_json(&out, Some(port)));
    let (code, out, _) = cli(&[
        "db",
        "probe",
        "postgres://app@db:5432/app",
        "--color",
        "never",
        "-o",
        "table",
    ]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("compose_name_table", normalise(&out, None));
}

#[test]
fn cli_timeout_is_inconclusive_and_exits_0_unless_fail_on_low() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_listener, _queued, port) = rt.block_on(silent_port());
    let url = format!("postgres://app@127.0.0.1:{port}/app");
    let (code, out, err) = cli(&[
        "db",
        "probe",
        &url,
        "--connect-timeout",
        "1",
        "--color",
        "never",
        "-o",
        "table",
    ]);
    // No proof: weighs as a low finding, below the default --fail-on high.
    assert_eq!(code, 0, "{out}\n{err}");
    insta::assert_snapshot!("tcp_timeout_table", normalise(&out, Some(port)));
    let (code, out, _) = cli(&[
        "db",
        "probe",
        &url,
        "--connect-timeout",
        "1",
        "--vantage",
        "outside-vpc",
        "-o",
        "json",
        "--fail-on",
        "low",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["outcome"], "inconclusive");
    assert_eq!(v["probe"]["vantage"], "outside-vpc");
}

#[test]
fn cli_usage_errors_exit_2_with_one_line() {
    let (code, out, err) = cli(&["db", "probe", "mysql://u@h/d"]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("bad database URL"), "{err}");
    let (code, _, err) = cli(&[
        "db",
        "probe",
        "postgres://u@h/d",
        "--ca-bundle",
        "/nonexistent/ca.pem",
    ]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    let not_pem = pki().dir.join("not-a-bundle.txt");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let (code, _, err) = cli(&[
        "db",
        "probe",
        "postgres://u@h/d",
        "--ca-bundle",
        not_pem.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no PEM certificate"), "{err}");
    let (code, _, err) = cli(&["db", "probe", "postgres://u:secret@h/d?sslmode=bogus"]);
    assert_eq!(code, 2);
    assert!(!err.contains("secret"), "{err}");
    // Every bad-URL message, as the user sees it: one line, no part of a password.
    let mut seen = String::new();
    for url in [
        "mysql://u@h/d",
        "db.example.com:5432",
        "postgres://h/d",
        "postgres://u@/d",
        "postgres://u@h:99999/d",
        "postgres://u@h/d?sslmode=sometimes",
        "postgres://u@h/d?ssl=maybe",
        "postgres://u:s3cr3t@h/d?hostaddr=nope",
        "postgres://u:s3c?r3t@h/d",
        "postgres://u:s3c@r/3t@h/d",
        "postgres://u@h/d?host=/var/run/postgresql",
        "postgres://u:s3%zzcr3t@h/d",
    ] {
        let (code, _, err) = cli(&["db", "probe", url]);
        assert_eq!(code, 2, "{url}: {err}");
        assert_eq!(err.lines().count(), 1, "{url}: {err}");
        assert!(!err.contains("s3c") && !err.contains("r3t"), "{url}: {err}");
        seen.push_str(&format!("{url}\n  {err}"));
    }
    insta::assert_snapshot!("bad_url_messages", seen);
}

#[test]
fn cli_rds_chain_names_tls001_and_the_bundle() {
    let s = server(Setup::Rds);
    let url = format!(
        "postgres://{USER}@{TEST_NAME}:{}/app?hostaddr=127.0.0.1&sslmode=verify-full",
        s.port
    );
    let (code, out, err) = cli(&["db", "probe", &url, "-o", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"][0]["rule"], "TLS001", "{out}");
    assert_eq!(v["first_problem"], "tls:unknown_issuer");
    let rds_root = pki().rds_root_file.display().to_string();
    let (code, _, err) = cli(&["db", "probe", &url, "--ca-bundle", &rds_root]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn cli_password_sources() {
    let s = server(Setup::Tls);
    let root = pki().root_file.display().to_string();
    let base = |url: &str| {
        vec![
            "db".to_string(),
            "probe".into(),
            url.to_string(),
            "--ca-bundle".into(),
            root.clone(),
            "-o".into(),
            "json".into(),
        ]
    };
    let auth = |out: &str| {
        let v: serde_json::Value = serde_json::from_str(out).unwrap();
        let st = v["probe"]["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == "auth")
            .cloned()
            .unwrap();
        (
            st["status"].as_str().unwrap().to_string(),
            st["code"].as_str().unwrap_or("").to_string(),
        )
    };
    let no_pw = s.url_no_password(TEST_NAME, "app", "hostaddr=127.0.0.1");
    // No password anywhere, no terminal to ask on: the login is not tested.
    let args = base(&no_pw);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = cli_env(&args, None);
    assert_eq!(code, 0, "inconclusive is below --fail-on high: {err}");
    assert_eq!(auth(&out), ("inconclusive".into(), "no_password".into()));
    assert!(err.is_empty(), "no prompt without a terminal: {err}");
    let (code, _, _) = cli_env(&[&args[..], &["--fail-on", "low"]].concat(), None);
    assert_eq!(code, 1);
    // A failed stage is high: --fail-on critical lets it pass unless a critical rule
    // names it, --fail-on never always does.
    let wrong = s
        .url(TEST_NAME, "app", "hostaddr=127.0.0.1")
        .replace(PASSWORD, "wrong-one");
    let wargs = base(&wrong);
    let wargs: Vec<&str> = wargs.iter().map(String::as_str).collect();
    let (code, _, _) = cli_env(&wargs, None);
    assert_eq!(code, 1);
    let (code, _, _) = cli_env(&[&wargs[..], &["--fail-on", "never"]].concat(), None);
    assert_eq!(code, 0);
    // PGPASSWORD is used when the URL has none.
    let (code, out, _) = cli_env(&args, Some(PASSWORD));
    assert_eq!((code, auth(&out).0.as_str()), (0, "ok"));
    // The URL's password wins over PGPASSWORD.
    let with_pw = s.url(TEST_NAME, "app", "hostaddr=127.0.0.1");
    let args = base(&with_pw);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, _) = cli_env(&args, Some("not-the-password"));
    assert_eq!((code, auth(&out).0.as_str()), (0, "ok"), "{out}");
    assert!(!out.contains(PASSWORD));
}

/// Drives `sickbay` on a pseudo-terminal (Python's `pty`, as `expect` would): answers
/// `answer` when the password prompt appears, and returns the exit code, what the
/// terminal showed, and whether a prompt appeared at all.
fn on_a_terminal(args: &[&str], answer: &str) -> (i32, String, bool) {
    // The driver holds the terminal's other side open, to see when the program has
    // turned echo off: a person types once the prompt is ready, and an answer written
    // before then would be echoed by the terminal, not by the program.
    const DRIVER: &str = r#"
import fcntl, os, pty, select, sys, termios, time
answer, argv = sys.argv[1], sys.argv[2:]
master, slave = pty.openpty()
pid = os.fork()
if pid == 0:
    os.close(master)
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for n in (0, 1, 2):
        os.dup2(slave, n)
    os.execv(argv[0], argv)
seen, prompted, status, end = b"", False, None, time.time() + 60
while time.time() < end:
    r, _, _ = select.select([master], [], [], 0.2)
    chunk = b""
    if r:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            pass
    if chunk:
        seen += chunk
        if not prompted and b"Password for " in seen:
            prompted = True
            ready = time.time() + 5
            while termios.tcgetattr(slave)[3] & termios.ECHO and time.time() < ready:
                time.sleep(0.01)
            os.write(master, answer.encode() + b"\n")
        continue
    if status is not None:
        break
    done, st = os.waitpid(pid, os.WNOHANG)
    if done == pid:
        status = st
sys.stdout.write("%d %d\n" % (os.waitstatus_to_exitcode(status), prompted))
sys.stdout.write(seen.decode("utf-8", "replace"))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(DRIVER)
        .arg(answer)
        .arg(env!("CARGO_BIN_EXE_sickbay"))
        .args(args)
        .env("SICKBAY_HOSTS_FILE", hosts_file())
        .env("NO_COLOR", "1")
        .env_remove("PGPASSWORD")
        .output()
        .expect("python3 runs the pty driver");
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    let (head, rest) = text
        .split_once('\n')
        .unwrap_or_else(|| panic!("driver: {text} {}", String::from_utf8_lossy(&out.stderr)));
    let mut it = head.split(' ');
    let code = it.next().unwrap().parse().unwrap();
    let prompted = it.next() == Some("1");
    (code, rest.to_string(), prompted)
}

#[test]
fn the_password_is_asked_on_a_terminal_only_when_the_server_wants_one() {
    let s = server(Setup::Tls);
    let root = pki().root_file.display().to_string();
    let url = s.url_no_password(TEST_NAME, "app", "hostaddr=127.0.0.1&sslmode=verify-full");
    let args = [
        "db",
        "probe",
        url.as_str(),
        "--ca-bundle",
        root.as_str(),
        "-o",
        "table",
        "--color",
        "never",
    ];
    let (code, screen, prompted) = on_a_terminal(&args, PASSWORD);
    assert!(prompted, "{screen}");
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("OK: every stage passed"), "{screen}");
    assert!(
        !screen.contains(PASSWORD),
        "the answer is not echoed: {screen}"
    );
    // A wrong answer is a wrong password.
    let (code, screen, _) = on_a_terminal(&args, "not-the-password");
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("FAILED at auth (28P01)"), "{screen}");
    // A server that never asks (the chain is refused first) gets no prompt.
    let args = [
        "db",
        "probe",
        url.as_str(),
        "-o",
        "table",
        "--color",
        "never",
    ];
    let (code, screen, prompted) = on_a_terminal(&args, PASSWORD);
    assert!(!prompted, "{screen}");
    assert_eq!(code, 1, "{screen}");
}

#[test]
fn cli_require_tls_fails_on_a_server_without_tls() {
    let s = server(Setup::Plain);
    let url = s.url_no_password("127.0.0.1", "app", "");
    let (code, out, _) = cli(&["db", "probe", &url, "-o", "json"]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = cli(&["db", "probe", &url, "--require-tls", "-o", "json"]);
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["first_problem"], "tls:not_offered", "{out}");
}

// ------------------------------------------------------------------ doctor --db on

/// A snapshot whose task definition names four endpoints: a URL with the password in
/// clear (redacted on load), Supabase's compose name `db`, a URL whose client trusts an
/// `sslrootcert` inside the image, and a URL held in Secrets Manager.
fn doctor_snapshot(dir: &std::path::Path) -> std::path::PathBuf {
    let s = server(Setup::Tls);
    let url = s.url(TEST_NAME, "app", "");
    let worker_url = format!(
        "postgres://app@{TEST_NAME}:{}/app?sslrootcert=/certs/rds-global-bundle.pem",
        s.port
    );
    let snap = serde_json::json!({
        "schema_version": 1,
        "target": {"cluster": "prod"},
        "task_definitions": [{
            "family": "api", "revision": 3,
            "containers": [{
                "name": "app", "image": "app:3",
                "environment": [
                    {"name": "DATABASE_URL", "value": url},
                    {"name": "PG_META_DB_HOST", "value": "db"},
                    {"name": "PG_META_DB_PORT", "value": "5432"},
                    {"name": "PG_META_DB_NAME", "value": "app"}
                ]
            }, {
                "name": "worker", "image": "worker:3",
                "environment": [{"name": "DATABASE_URL", "value": worker_url}]
            }, {
                "name": "sidecar-client", "image": "client:3",
                "environment": [{"name": "DATABASE_URL", "value": "postgres://app@localhost:5432/app"}]
            }, {
                "name": "reader", "image": "reader:3",
                "secrets": [{
                    "name": "READER_DATABASE_URL",
                    "value_from": "arn:aws:secretsmanager:us-east-1:123456789012:secret:reader-db-AbCdEf"
                }]
            }]
        }]
    });
    let path = dir.join("snap.json");
    std::fs::write(&path, serde_json::to_string(&snap).unwrap()).unwrap();
    path
}

fn stage_of(p: &serde_json::Value, name: &str) -> serde_json::Value {
    p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no {name} stage in {p:#}"))
}

fn probe_named<'a>(probes: &'a [serde_json::Value], origin: &str) -> &'a serde_json::Value {
    probes
        .iter()
        .find(|p| p["origin"].as_str().unwrap_or("").contains(origin))
        .unwrap_or_else(|| panic!("no probe from {origin}: {probes:#?}"))
}

fn rule_ids(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn doctor_db_on_probes_discovered_endpoints() {
    let s = server(Setup::Tls);
    let dir = tempfile::tempdir().unwrap();
    let path = doctor_snapshot(dir.path());
    let path = path.to_str().unwrap();
    // PGPASSWORD is set, and doctor must not send it to the hosts it discovered.
    let (code, out, err) = cli(&["doctor", "--snapshot", path, "--db", "on", "-o", "json"]);
    assert_eq!(code, 1, "{err}");
    assert!(!out.contains(PASSWORD), "password leaked");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let probes = v["db_probes"].as_array().expect("db_probes");
    assert_eq!(probes.len(), 5, "{out}");

    // The URL with a redacted password: TLS checked, the login not tested.
    let app = probe_named(probes, "`DATABASE_URL` of `api:3/app`");
    assert_eq!(stage_of(app, "tls")["code"], "unknown_issuer", "{app:#}");
    assert_eq!(stage_of(app, "tls")["status"], "fail");
    let auth = stage_of(app, "auth");
    assert_eq!(
        (auth["status"].as_str(), auth["code"].as_str()),
        (Some("inconclusive"), Some("no_password")),
        "{app:#}"
    );
    assert!(
        auth["detail"]
            .as_str()
            .unwrap()
            .contains("the snapshot redacts it"),
        "{auth:#}"
    );
    assert!(
        app["notes"].to_string().contains("PG_META_DB_HOST"),
        "the URL-vs-fields disagreement is reported: {app:#}"
    );
    // The compose name.
    let compose = probe_named(probes, "PG_META_DB_HOST");
    assert_eq!(stage_of(compose, "dns")["code"], "not_found");
    // sslrootcert inside the image: sickbay cannot tell, so no verdict on trust.
    let worker = probe_named(probes, "api:3/worker");
    let tls = stage_of(worker, "tls");
    assert_eq!(
        (tls["status"].as_str(), tls["code"].as_str()),
        (Some("inconclusive"), Some("unknown_issuer")),
        "{worker:#}"
    );
    assert!(tls["detail"]
        .as_str()
        .unwrap()
        .contains("sslrootcert=/certs/rds-global-bundle.pem"));
    // The secret: listed, not read, not probed.
    let reader = probe_named(probes, "READER_DATABASE_URL");
    assert!(reader["stages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "skipped"));
    assert!(
        reader["notes"]
            .to_string()
            .contains("secret:reader-db-AbCdEf"),
        "{reader:#}"
    );
    // localhost in a task is the task itself: not probed from here.
    let local = probe_named(probes, "api:3/sidecar-client");
    assert!(local["stages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "skipped"));
    assert!(stage_of(local, "dns")["detail"]
        .as_str()
        .unwrap()
        .contains("means the task itself"));

    let ids = rule_ids(&v);
    assert!(ids.contains(&"TLS001".to_string()), "{ids:?}");
    assert!(ids.contains(&"NET002".to_string()), "{ids:?}");
    assert!(
        !ids.contains(&"DB003".to_string()),
        "an untested login is no auth failure: {ids:?}"
    );

    // The table shows each probe's endpoint, origin, verdict and notes.
    let (_, table, _) = cli(&[
        "doctor",
        "--snapshot",
        path,
        "--db",
        "on",
        "-o",
        "table",
        "--color",
        "never",
    ]);
    insta::assert_snapshot!("doctor_db_on_table", normalise(&table, Some(s.port)));
    let (_, md, _) = cli(&["doctor", "--snapshot", path, "--db", "on", "-o", "markdown"]);
    assert!(
        md.contains("### (in a secret) (from `READER_DATABASE_URL`"),
        "{md}"
    );
    assert!(
        md.contains("NOT PROBED: the endpoint comes from a secret"),
        "{md}"
    );

    // With the CA bundle the app ships, the chain verifies.
    let root = pki().root_file.display().to_string();
    let (_, out, err) = cli(&[
        "doctor",
        "--snapshot",
        path,
        "--db",
        "on",
        "--ca-bundle",
        &root,
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
    let probes = v["db_probes"].as_array().unwrap();
    let app = probe_named(probes, "`DATABASE_URL` of `api:3/app`");
    assert_eq!(stage_of(app, "tls")["status"], "ok", "{app:#}");
    assert_eq!(
        stage_of(probe_named(probes, "api:3/worker"), "tls")["status"],
        "ok"
    );
    assert!(!rule_ids(&v).contains(&"TLS001".to_string()));
    // A bad bundle is a usage error.
    let (code, _, err) = cli(&[
        "doctor",
        "--snapshot",
        path,
        "--ca-bundle",
        "/nonexistent.pem",
    ]);
    assert_eq!(code, 2, "{err}");

    // A replay is probed only when asked: not with auto (the default) or off.
    for db in ["auto", "off"] {
        let (_, out, _) = cli(&["doctor", "--snapshot", path, "--db", db, "-o", "json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v["db_probes"].as_array().unwrap().is_empty(), "--db {db}");
    }
}
