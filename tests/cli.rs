//! The binary end to end: exit codes, colour switches and every bad-input message
//! (golden). Bad input never panics: one clear line and exit code 2.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn sickbay(dir: &std::path::Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sickbay"))
        .args(args)
        .current_dir(dir)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sickbay");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a case that must fail with exit 2 and one line on stderr, without a panic.
fn bad(dir: &std::path::Path, args: &[&str], stdin: &[u8]) -> String {
    let o = sickbay(dir, args, stdin);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "args {args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    err
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn malformed_snapshot_syntax() {
    let d = tmp();
    std::fs::write(
        d.path().join("snap.json"),
        "{\n  \"schema_version\": 1,\n  \"tasks\": [\n    {\"id\": \"a\",}\n  ]\n}\n",
    )
    .unwrap();
    insta::assert_snapshot!(bad(d.path(), &["doctor", "--snapshot", "snap.json"], b""));
}

#[test]
fn malformed_snapshot_wrong_type_names_the_path() {
    let d = tmp();
    std::fs::write(
        d.path().join("snap.json"),
        "{\"schema_version\": 1, \"tasks\": [{\"id\": \"a\", \"task_definition\": \"x:1\", \"last_status\": \"STOPPED\",\n \"containers\": [{\"name\": \"c\", \"exit_code\": \"one\"}]}]}",
    )
    .unwrap();
    insta::assert_snapshot!(bad(d.path(), &["doctor", "--snapshot", "snap.json"], b""));
}

#[test]
fn snapshot_unknown_field_and_version() {
    let d = tmp();
    std::fs::write(
        d.path().join("a.json"),
        "{\"schema_version\": 1, \"servces\": []}",
    )
    .unwrap();
    std::fs::write(d.path().join("b.json"), "{\"schema_version\": 9}").unwrap();
    insta::assert_snapshot!(bad(d.path(), &["doctor", "--snapshot", "a.json"], b""));
    insta::assert_snapshot!(bad(d.path(), &["doctor", "--snapshot", "b.json"], b""));
}

#[test]
fn missing_snapshot_file() {
    let d = tmp();
    insta::assert_snapshot!(bad(d.path(), &["doctor", "--snapshot", "nope.json"], b""));
}

const GOOD_RULE: &str = r#"id = "USR001"
name = "custom-thing"
title = "Custom thing"
severity = "high"
message = "custom"
[[signal]]
source = "log"
pattern = 'widget exploded'
[docs]
why = "because"
fix = ["fix it"]
[[example]]
text = "the widget exploded"
match = true
[[example]]
text = "the widget is fine"
match = false
"#;

#[test]
fn bad_rule_toml_unknown_field() {
    let d = tmp();
    std::fs::create_dir(d.path().join("rules")).unwrap();
    std::fs::write(
        d.path().join("rules/USR001-custom-thing.toml"),
        GOOD_RULE.replace("severity =", "severty ="),
    )
    .unwrap();
    insta::assert_snapshot!(bad(d.path(), &["--rules", "rules", "scan"], b"x\n"));
}

#[test]
fn bad_rule_invalid_regex() {
    let d = tmp();
    std::fs::create_dir(d.path().join("rules")).unwrap();
    std::fs::write(
        d.path().join("rules/USR001-custom-thing.toml"),
        GOOD_RULE.replace("'widget exploded'", "'widget (exploded'"),
    )
    .unwrap();
    insta::assert_snapshot!(bad(d.path(), &["rules", "check", "rules"], b""));
}

#[test]
fn bad_rule_syntax_and_duplicate_id() {
    let d = tmp();
    std::fs::create_dir(d.path().join("rules")).unwrap();
    std::fs::write(
        d.path().join("rules/USR001-custom-thing.toml"),
        GOOD_RULE.replace("title = \"Custom thing\"", "title = \"Custom thing"),
    )
    .unwrap();
    insta::assert_snapshot!(bad(d.path(), &["rules", "check", "rules"], b""));
    std::fs::write(
        d.path().join("rules/USR001-custom-thing.toml"),
        GOOD_RULE.replace("USR001", "NET001"),
    )
    .unwrap();
    insta::assert_snapshot!(bad(d.path(), &["--rules", "rules", "rules", "list"], b""));
}

#[test]
fn user_rules_extend_the_pack() {
    let d = tmp();
    std::fs::create_dir(d.path().join("rules")).unwrap();
    std::fs::write(d.path().join("rules/USR001-custom-thing.toml"), GOOD_RULE).unwrap();
    let o = sickbay(
        d.path(),
        &["--rules", "rules", "scan", "-o", "json"],
        b"boot\nthe widget exploded\n",
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"][0]["rule"], "USR001");
    let o = sickbay(d.path(), &["rules", "check", "rules"], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!(String::from_utf8_lossy(&o.stdout));
}

#[test]
fn rule_example_failure_exits_1() {
    let d = tmp();
    std::fs::create_dir(d.path().join("rules")).unwrap();
    std::fs::write(
        d.path().join("rules/USR001-custom-thing.toml"),
        GOOD_RULE.replace("the widget is fine", "the widget exploded again"),
    )
    .unwrap();
    let o = sickbay(d.path(), &["rules", "check", "rules"], b"");
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!(format!(
        "{}{}",
        stderr(&o),
        String::from_utf8_lossy(&o.stdout)
    ));
}

#[test]
fn scan_non_utf8() {
    let d = tmp();
    insta::assert_snapshot!(bad(d.path(), &["scan"], b"fine line\nbad \xff\xfe byte\n"));
}

#[test]
fn scan_empty_input() {
    let d = tmp();
    insta::assert_snapshot!(bad(d.path(), &["scan"], b""));
    insta::assert_snapshot!(bad(
        d.path(),
        &["scan", "--source", "stopped-reason"],
        b"  \n"
    ));
}

#[test]
fn scan_ten_megabyte_single_line() {
    let d = tmp();
    let line = vec![b'a'; 10 << 20];
    insta::assert_snapshot!(bad(d.path(), &["scan"], &line));
}

#[test]
fn scan_missing_file() {
    let d = tmp();
    insta::assert_snapshot!(bad(d.path(), &["scan", "missing.log"], b""));
}

#[test]
fn unknown_rule_and_usage_errors() {
    let d = tmp();
    insta::assert_snapshot!(bad(d.path(), &["rules", "explain", "XYZ999"], b""));
    let o = sickbay(d.path(), &["scan", "--frobnicate"], b"");
    assert_eq!(o.status.code(), Some(2));
    let o = sickbay(d.path(), &["scan", "--fail-on", "extreme"], b"");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn doctor_without_target() {
    let d = tmp();
    insta::assert_snapshot!(bad(d.path(), &["doctor"], b""));
}

#[test]
fn exit_codes_follow_fail_on() {
    let d = tmp();
    let line = b"exec /usr/local/bin/uvicorn: exec format error\n";
    assert_eq!(
        sickbay(d.path(), &["scan", "-o", "json"], line)
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        sickbay(
            d.path(),
            &["scan", "-o", "json", "--fail-on", "never"],
            line
        )
        .status
        .code(),
        Some(0)
    );
    let clean = b"INFO: Uvicorn running on http://0.0.0.0:8000\n";
    assert_eq!(
        sickbay(d.path(), &["scan", "-o", "json"], clean)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        sickbay(
            d.path(),
            &["scan", "-o", "json", "--fail-on", "info"],
            clean
        )
        .status
        .code(),
        Some(0)
    );
}

#[test]
fn colour_switches() {
    let d = tmp();
    let line = b"exec /usr/local/bin/uvicorn: exec format error\n";
    let always = sickbay(
        d.path(),
        &["scan", "-o", "table", "--color", "always"],
        line,
    );
    assert!(String::from_utf8_lossy(&always.stdout).contains("\u{1b}["));
    let never = sickbay(d.path(), &["scan", "-o", "table", "--color", "never"], line);
    assert!(!String::from_utf8_lossy(&never.stdout).contains("\u{1b}["));
    // auto + not a terminal: no colour.
    let auto = sickbay(d.path(), &["scan", "-o", "table"], line);
    assert!(!String::from_utf8_lossy(&auto.stdout).contains("\u{1b}["));
}

#[test]
fn piped_output_defaults_to_json() {
    let d = tmp();
    let o = sickbay(d.path(), &["scan"], b"exec /app/run: exec format error\n");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json when piped");
    assert_eq!(v["schema_version"], 1);
}
