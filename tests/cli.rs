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
        .env_remove("GITHUB_ACTIONS")
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
class = "widget_failure"
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

/// A rule without a root-cause class still loads (a user's pack keeps working), but
/// `rules check` reports it; a class that is not snake_case is a load error with a position.
#[test]
fn rules_check_reports_a_rule_without_class() {
    let d = tmp();
    std::fs::create_dir(d.path().join("rules")).unwrap();
    let no_class = GOOD_RULE.replace("class = \"widget_failure\"\n", "");
    assert!(!no_class.contains("class"));
    std::fs::write(d.path().join("rules/USR001-custom-thing.toml"), &no_class).unwrap();
    let o = sickbay(
        d.path(),
        &["--rules", "rules", "scan"],
        b"the widget exploded\n",
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = sickbay(d.path(), &["rules", "check", "rules"], b"");
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!(format!(
        "{}{}",
        stderr(&o),
        String::from_utf8_lossy(&o.stdout)
    ));
    std::fs::write(
        d.path().join("rules/USR001-custom-thing.toml"),
        GOOD_RULE.replace("widget_failure", "Widget Failure"),
    )
    .unwrap();
    insta::assert_snapshot!(bad(d.path(), &["rules", "check", "rules"], b""));
}

/// A fact example whose keys are not those sickbay builds (here `to` before `from`) fails
/// `rules check` even though the rule's own pattern matches it: the example would prove
/// nothing about real records.
#[test]
fn rules_check_rejects_a_misshapen_fact_example() {
    let d = tmp();
    std::fs::create_dir(d.path().join("rules")).unwrap();
    let rule = r#"id = "USR002"
name = "blocked"
class = "blocked_path"
title = "Blocked"
severity = "high"
message = "{to} blocked"

[[signal]]
name = "path"
source = "fact"
field = "sg-path"
pattern = '''to=(?P<to>\S+) .*allowed=false'''

[docs]
why = "Because."
fix = ["Open it."]

[[example]]
source = "fact"
field = "sg-path"
text = "to=rds:main from=service:api address=a port=5432 allowed=false detail=x"
match = true

[[example]]
source = "fact"
field = "sg-path"
text = "from=service:api to=rds:main address=a port=5432 allowed=true detail=x"
match = false
"#;
    std::fs::write(d.path().join("rules/USR002-blocked.toml"), rule).unwrap();
    let o = sickbay(d.path(), &["rules", "check", "rules"], b"");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = format!("{}{}", stderr(&o), String::from_utf8_lossy(&o.stdout));
    assert!(
        out.contains("USR002 example 1 does not have the keys of a sg-path record, in order: from= to= address= port= allowed= detail="),
        "{out}"
    );
    assert!(!out.contains("example 2"), "{out}");
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
    // Read anyway, as grep would: one note on stderr, the report on stdout.
    let o = sickbay(
        d.path(),
        &["scan", "-o", "table", "--color", "never"],
        b"fine line\nbad \xff\xfe byte: connect ECONNREFUSED 10.0.0.7:5432\n",
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    insta::assert_snapshot!(format!(
        "stderr: {}stdout:\n{}",
        stderr(&o),
        String::from_utf8_lossy(&o.stdout)
    ));
}

/// Empty input is a valid, empty report (exit 0), in every source.
#[test]
fn scan_empty_input() {
    let d = tmp();
    for (args, input) in [
        (&["scan", "-o", "json"][..], &b""[..]),
        (
            &["scan", "-o", "json", "--source", "stopped-reason"][..],
            &b"  \n"[..],
        ),
        (
            &["scan", "-o", "json", "--source", "service-event"][..],
            &b""[..],
        ),
    ] {
        let o = sickbay(d.path(), args, input);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(o.stderr.is_empty(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["findings"].as_array().map(Vec::len), Some(0), "{v}");
    }
    let o = sickbay(d.path(), &["scan", "-o", "table", "--color", "never"], b"");
    insta::assert_snapshot!(String::from_utf8_lossy(&o.stdout));
}

#[test]
fn scan_ten_megabyte_single_line() {
    let d = tmp();
    let mut line = b"Error: connect ECONNREFUSED 10.0.0.7:5432 ".to_vec();
    line.extend(vec![b'a'; 10 << 20]);
    line.extend(b"\nnext: getaddrinfo ENOTFOUND db\n");
    let o = sickbay(d.path(), &["scan", "-o", "json"], &line);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    insta::assert_snapshot!(stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    // The refusal at the start of the long line, and the line after it.
    assert!(
        rules.contains(&"NET004") && rules.contains(&"NET002"),
        "{rules:?}"
    );
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

/// Regression (issue: nothing panics): a task id with a multi-byte character across the
/// 12th byte was cut at a byte offset in the facts code (exit 101).
#[test]
fn multibyte_task_id_does_not_panic() {
    let d = tmp();
    std::fs::write(
        d.path().join("s.json"),
        r#"{"schema_version": 1, "tasks": [{"id": "abcdefghijkéé-ü", "task_definition": "api:1", "last_status": "STOPPED", "stopped_reason": "CannotPullContainerError: pull access denied", "containers": [{"name": "app", "exit_code": 1}]}]}"#,
    )
    .unwrap();
    let o = sickbay(
        d.path(),
        &["doctor", "--snapshot", "s.json", "-o", "table"],
        b"",
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(out.contains("abcdefghijké"), "{out}");
}

/// A flag that only applies to live collection is a usage error with --snapshot.
#[test]
fn live_only_flags_with_snapshot_are_usage_errors() {
    let d = tmp();
    for flag in [
        &["--cluster", "prod"][..],
        &["--service", "api"],
        &["--region", "us-east-1"],
        &["--since", "1h"],
        &["--endpoint-url", "http://127.0.0.1:1"],
    ] {
        let mut args = vec!["doctor", "--snapshot", "s.json"];
        args.extend_from_slice(flag);
        let o = sickbay(d.path(), &args, b"");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
    }
}

/// An empty --region is named as such, not reported as missing credentials.
#[test]
fn empty_region_is_named() {
    let d = tmp();
    insta::assert_snapshot!(bad(
        d.path(),
        &[
            "doctor",
            "--cluster",
            "prod",
            "--region",
            "",
            "--endpoint-url",
            "http://127.0.0.1:1"
        ],
        b""
    ));
}

/// `rules check -o json` prints JSON; a user rule may explain a built-in rule.
#[test]
fn rules_check_json_and_builtin_explains() {
    let d = tmp();
    let rules = d.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let rule = GOOD_RULE.replace(
        "message = \"custom\"",
        "message = \"custom\"\nexplains = [\"NET001\"]",
    );
    assert!(rule.contains("explains"));
    std::fs::write(rules.join("USR001-custom-thing.toml"), rule).unwrap();
    let o = sickbay(d.path(), &["rules", "check", "rules", "-o", "json"], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["rules"], 1, "{v}");
    insta::assert_snapshot!(String::from_utf8_lossy(&o.stdout));
}

/// Positions on every input error: a snapshot cut off at the end points at its last
/// character (not column 0), text after the snapshot is an error, a rule file that is
/// not UTF-8 points at the bad byte, and a TOML message is one line.
#[test]
fn input_errors_carry_positions_on_one_line() {
    let d = tmp();
    std::fs::write(
        d.path().join("cut.json"),
        "{\n  \"schema_version\": 1,\n  \"tasks\": [\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("twice.json"),
        "{\"schema_version\": 1}\n{\"schema_version\": 1}\n",
    )
    .unwrap();
    std::fs::create_dir(d.path().join("latin1")).unwrap();
    let mut bytes = GOOD_RULE.replace("custom", "caf\u{0}").into_bytes();
    let at = bytes.iter().position(|&b| b == 0).unwrap();
    bytes[at] = 0xe9;
    std::fs::write(d.path().join("latin1/USR001-custom-thing.toml"), bytes).unwrap();
    std::fs::create_dir(d.path().join("unclosed")).unwrap();
    std::fs::write(
        d.path().join("unclosed/USR001-custom-thing.toml"),
        GOOD_RULE.replace("fix = [\"fix it\"]", "fix = [\"fix it\""),
    )
    .unwrap();
    let lines = [
        bad(d.path(), &["doctor", "--snapshot", "cut.json"], b""),
        bad(d.path(), &["doctor", "--snapshot", "twice.json"], b""),
        bad(d.path(), &["rules", "check", "latin1"], b""),
        bad(d.path(), &["rules", "check", "unclosed"], b""),
    ];
    insta::assert_snapshot!(lines.concat());
}

/// Completion scripts for every shell, and the bash one parses (`bash -n`).
#[test]
fn completions_for_every_shell() {
    let d = tmp();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = sickbay(d.path(), &["completions", shell], b"");
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = String::from_utf8_lossy(&o.stdout);
        assert!(
            script.contains("doctor") && script.contains("fail-on"),
            "{shell}"
        );
    }
    let o = sickbay(d.path(), &["completions", "bash"], b"");
    std::fs::write(d.path().join("sickbay.bash"), &o.stdout).unwrap();
    let check = std::process::Command::new("bash")
        .args(["-n", "sickbay.bash"])
        .current_dir(d.path())
        .output()
        .expect("bash is installed");
    assert!(check.status.success(), "{}", stderr(&check));
}

/// The man page is roff that `man -l` renders (where man is installed).
#[test]
fn man_page_renders() {
    let d = tmp();
    let o = sickbay(d.path(), &["man"], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let roff = String::from_utf8_lossy(&o.stdout);
    assert!(roff.contains(".TH sickbay"), "{roff}");
    std::fs::write(d.path().join("sickbay.1"), &o.stdout).unwrap();
    if let Ok(out) = std::process::Command::new("man")
        .args(["-l", "sickbay.1"])
        .current_dir(d.path())
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
    {
        let page = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && page.contains("NAME"), "{page}");
        assert!(page.contains("doctor"), "{page}");
    }
}

/// `sickbay diff`: every changed field of two task-definition files, in table, JSON and
/// Markdown; unchanged fields are not listed, and no secret value (the passwords inside
/// the URLs, the signing key, the same in both files) appears in any format, only
/// fingerprints, while the host change next to the redacted password stays visible.
#[test]
fn diff_two_task_definitions_in_every_format_without_secrets() {
    let d = tmp();
    for f in ["api-4.json", "api-5.json"] {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/diff")
            .join(f);
        std::fs::copy(src, d.path().join(f)).unwrap();
    }
    let mut all = String::new();
    for format in ["table", "json", "markdown"] {
        let o = sickbay(
            d.path(),
            &["diff", "api-4.json", "api-5.json", "-o", format],
            b"",
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        insta::assert_snapshot!(format!("diff_{format}"), out);
        all.push_str(&out);
        all.push_str(&stderr(&o));
    }
    for secret in [
        "Wint3r-Is-Coming-42",
        "Summer-Is-Here-77",
        "f3Kq9Zr2Lm8Xv4Np7Ty1Bw6Hd0Js5Gc",
    ] {
        for w in secret.as_bytes().windows(8) {
            let w = std::str::from_utf8(w).unwrap();
            assert!(!all.contains(w), "{w:?} of a secret leaked");
        }
    }
    assert!(all.contains("db-b.cluster-abc"), "the host change is shown");
    assert!(
        !all.contains("SESSION_SIGNING_KEY"),
        "an unchanged secret is not listed"
    );
    let o = sickbay(
        d.path(),
        &["diff", "api-4.json", "api-4.json", "-o", "table"],
        b"",
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("No differences."));
    insta::assert_snapshot!(bad(d.path(), &["diff", "api-4.json", "missing.json"], b""));
}
