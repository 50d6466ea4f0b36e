//! Secrets planted in a snapshot never appear in any output format, and the same secret
//! gets the same fingerprint wherever it appears.

use sickbay::render;
use sickbay::scan::{scan_text, ScanSource};
use sickbay::snapshot::parse_snapshot;
use sickbay::{analyze, RuleSet};

const PASSWORD: &str = "S3cr3t-Pa55w0rd!";
const JWT: &str =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLXNlY3JldA";
const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SIG: &str = "b2f1a9c3d4e5f60718293a4b5c6d7e8f";
const JWT_SECRET: &str = "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";

fn planted() -> String {
    format!(
        r#"{{
  "schema_version": 1,
  "target": {{ "cluster": "prod", "region": "us-east-1" }},
  "services": [{{ "name": "api", "desired_count": 1, "running_count": 0, "task_definition": "api:2",
    "events": [{{ "created_at": "2025-01-01T00:00:00Z",
      "message": "(service api) failed: password={PASSWORD}" }}] }}],
  "tasks": [{{ "id": "t1", "task_definition": "api:2", "last_status": "STOPPED", "group": "service:api",
    "stopped_reason": "CannotPullContainerError: pull https://bucket.s3.amazonaws.com/layer?X-Amz-Signature={SIG}&X-Amz-Date=1: i/o timeout",
    "containers": [{{ "name": "app", "exit_code": 1 }}] }}],
  "task_definitions": [
    {{ "family": "api", "revision": 2, "containers": [{{ "name": "app", "image": "app:2",
      "environment": [
        {{ "name": "DATABASE_URL", "value": "postgres://app:{PASSWORD}@db.internal:5432/app" }},
        {{ "name": "DB_PASSWORD", "value": "{PASSWORD}" }},
        {{ "name": "JWT_SECRET", "value": "{JWT_SECRET}" }},
        {{ "name": "SERVICE_ROLE_KEY", "value": "{JWT}" }},
        {{ "name": "AWS_ACCESS_KEY_ID", "value": "{AKID}" }}
      ] }}] }},
    {{ "family": "worker", "revision": 1, "containers": [{{ "name": "w", "image": "w:1",
      "environment": [ {{ "name": "GOTRUE_JWT_SECRET", "value": "{JWT_SECRET}" }} ] }}] }}
  ],
  "logs": [
    {{ "task_id": "t1", "message": "Error: connect ECONNREFUSED 127.0.0.1:5432 using postgres://app:{PASSWORD}@localhost:5432/app" }},
    {{ "task_id": "t1", "message": "self signed certificate in certificate chain token={JWT}" }},
    {{ "task_id": "t1", "message": "AccessDenied for {AKID} calling s3" }}
  ]
}}"#
    )
}

fn assert_clean(what: &str, text: &str) {
    for secret in [PASSWORD, JWT, AKID, SIG, JWT_SECRET, "S3cr3t"] {
        assert!(!text.contains(secret), "{what} leaks {secret}:\n{text}");
    }
}

#[test]
fn no_secret_in_any_output() {
    let snap = parse_snapshot(&planted(), "planted.json").unwrap();
    assert_clean("loaded snapshot", &serde_json::to_string(&snap).unwrap());
    let rules = RuleSet::builtin().unwrap();
    let report = analyze(&snap, &rules);
    assert!(
        !report.findings.is_empty(),
        "planted snapshot should produce findings"
    );
    colored::control::set_override(false);
    let json = render::json::render(&report);
    assert!(
        json.contains("<redacted:"),
        "evidence should show fingerprints:\n{json}"
    );
    assert_clean("json", &json);
    assert_clean("table", &render::table::render(&report, 120));
    assert_clean("markdown", &render::markdown::render(&report));
}

#[test]
fn scan_input_is_redacted() {
    let rules = RuleSet::builtin().unwrap();
    let text = format!("x509: certificate signed by unknown authority connecting to postgres://u:{PASSWORD}@h/db with {JWT}\n");
    let report = scan_text(&text, ScanSource::Log, &rules);
    assert!(!report.findings.is_empty());
    assert_clean("scan json", &render::json::render(&report));
}

#[test]
fn same_secret_same_fingerprint_across_places() {
    let snap = parse_snapshot(&planted(), "planted.json").unwrap();
    let env = |fam: &str, name: &str| {
        snap.task_definitions
            .iter()
            .find(|t| t.family == fam)
            .unwrap()
            .containers[0]
            .environment
            .iter()
            .find(|e| e.name == name)
            .unwrap()
            .value
            .clone()
    };
    assert_eq!(env("api", "JWT_SECRET"), env("worker", "GOTRUE_JWT_SECRET"));
    assert!(env("api", "JWT_SECRET").starts_with("<redacted:"));
    // The host stays readable; only the password is replaced.
    assert!(env("api", "DATABASE_URL").contains("@db.internal:5432/app"));
}
