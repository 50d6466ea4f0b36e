//! The leak test: a table of secret shapes is planted in every input kind (snapshot
//! fields, a snapshot generated from the snapshot schema so that every field present or
//! future is filled, lint files, scan text, probe URLs, error paths). Every command runs
//! in every format, and `--save`; stdout, stderr and saved files are searched for every
//! 8-character window of every planted value. Each shape also carries a canary word next
//! to it that must reach the output, so the test fails if the text is simply dropped.

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};

struct Shape {
    canary: String,
    text: String,
    secret: &'static str,
}

/// The planted shapes; `text` holds `secret` in context.
fn shapes() -> Vec<Shape> {
    let table: &[(&str, &str)] = &[
        ("PGPASSWORD=Pg7wQz4LmR2s psql -h db.internal", "Pg7wQz4LmR2s"),
        ("DB_PASS=Dp3xVb8NtK1q", "Dp3xVb8NtK1q"),
        ("Authorization: Bearer Br5.yTq9-Wz2Hj6Kd", "Br5.yTq9-Wz2Hj6Kd"),
        ("Authorization: Basic QmFzaWNVc2VyOlBhc3M5Nw==", "QmFzaWNVc2VyOlBhc3M5Nw=="),
        ("secret wK9rTz2Lm/Q8xYb4Nc7Vd1Fg+Hj3Kp6Rs0Tu5Wy2 in use", "wK9rTz2Lm/Q8xYb4Nc7Vd1Fg+Hj3Kp6Rs0Tu5Wy2"),
        ("token ghp_Gh7kL2mN9pQ4rS8tV1wX5yZ3aB6cD0eF2gH4 set", "ghp_Gh7kL2mN9pQ4rS8tV1wX5yZ3aB6cD0eF2gH4"),
        ("github_pat_11AAAAAAA0bcdefGhijkLmnoPqrsTuvwXyz_0123456789abcDEF", "github_pat_11AAAAAAA0bcdefGhijkLmnoPqrsTuvwXyz_0123456789abcDEF"),
        ("charge sk_live_51Hx7Jk2Lm9Np4Qr8St failed", "sk_live_51Hx7Jk2Lm9Np4Qr8St"),
        ("slack xoxb-2048-4096-Sl4ckT0kenXyZ", "xoxb-2048-4096-Sl4ckT0kenXyZ"),
        ("post https://hooks.slack.com/services/T0AB12CD/B0EF34GH/Wh9kLm2Np4Qr8St1Vw", "T0AB12CD/B0EF34GH/Wh9kLm2Np4Qr8St1Vw"),
        ("key=-----BEGIN RSA PRIVATE KEY-----\\nMIIEpQIBAAKCAQEAPemB0dyL1ne\\n-----END RSA PRIVATE KEY-----", "MIIEpQIBAAKCAQEAPemB0dyL1ne"),
        ("pg_dump --password Fl4gPassW0rd9 db", "Fl4gPassW0rd9"),
        ("mysql -u root -pMyP4ssW0rdX shop", "MyP4ssW0rdX"),
        ("postgres://app:Ur1P@ss/w?rd#Zq@db.internal:5432/app", "Ur1P@ss/w?rd#Zq"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYWRtaW4ifQ.Jw7SignatureXq", "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYWRtaW4ifQ.Jw7SignatureXq"),
        ("AccessDenied for AKIAZ7Q3LEAKX9W2V4UT", "AKIAZ7Q3LEAKX9W2V4UT"),
        ("GET /cb?access_token=Qt8kLm2Np4Zx HTTP/1.1", "Qt8kLm2Np4Zx"),
        ("{\"password\": \"Js0nP4ss W0rd\"}", "Js0nP4ss W0rd"),
        ("redis://:R3d1sAuthPw@cache.internal:6379/0", "R3d1sAuthPw"),
        ("X-Amz-Security-Token: ?X-Amz-Security-Token=FwoGZXIvYXdzEKzToken9", "FwoGZXIvYXdzEKzToken9"),
        (r#"config={\"host\":\"db\",\"password\":\"Esc4pedJs0nPw\"}"#, "Esc4pedJs0nPw"),
        ("cfg: &{Host:db User:app Password:G0PlusVLeak9 DBName:app}", "G0PlusVLeak9"),
        ("DB_PASSWORD=k3J9,vP2mQ8xLr7TzW4nB", "vP2mQ8xLr7TzW4nB"),
        (r#"env=[{"name":"DB_PASSWORD","value":"NamedPa1rLeak"}]"#, "NamedPa1rLeak"),
    ];
    table
        .iter()
        .enumerate()
        .map(|(i, (text, secret))| Shape {
            canary: format!("CNRY{i:02}"),
            text: text.to_string(),
            secret,
        })
        .collect()
}

/// Secrets that only env and argv contexts catch (by name or by entropy).
const ENV_ONLY: [(&str, &str); 3] = [
    ("DB_PASS", "plain words"),
    ("PLAIN_SETTING", "q8Zr2LkP0vN5xT7mW3yB6cHd"),
    ("REDIS_AUTH", "Rd4uthLeakPw"),
];

fn secrets() -> Vec<&'static str> {
    let mut v: Vec<&str> = shapes().iter().map(|s| s.secret).collect();
    v.extend(ENV_ONLY.iter().map(|(_, s)| *s));
    v.push(MULTILINE_PEM_BODY);
    v
}

const MULTILINE_PEM_BODY: &str = "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh";

fn multiline_pem() -> String {
    format!("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n{MULTILINE_PEM_BODY}\n-----END PRIVATE KEY-----")
}

/// Fails when any 8-character window of any planted secret is in `text` (also after
/// dropping Markdown's backslash escapes).
fn assert_clean(what: &str, text: &str) {
    let unescaped = text.replace('\\', "");
    for secret in secrets() {
        let chars: Vec<char> = secret.chars().collect();
        for w in chars.windows(8) {
            let w: String = w.iter().collect();
            assert!(
                !text.contains(&w) && !unescaped.contains(&w),
                "{what} leaks {w:?} of {secret:?}:\n{text}"
            );
        }
    }
}

fn bin(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sickbay"));
    c.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "AKIDTESTTESTTEST")
        .env("AWS_SECRET_ACCESS_KEY", "testsecret")
        .env("AWS_REGION", "us-east-1")
        .env_remove("PGPASSWORD");
    c
}

/// Runs the binary; returns stdout + stderr, checked clean and free of panics.
fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut c = bin(dir);
    c.args(args);
    let out: Output = match stdin {
        Some(text) => {
            use std::io::Write;
            c.stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = c.spawn().unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        }
        None => c.output().unwrap(),
    };
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("panicked"), "{args:?}: {text}");
    assert_clean(&format!("{args:?}"), &text);
    text
}

const FORMATS: [&str; 5] = ["table", "json", "markdown", "sarif", "github"];

/// Seed 001 with every shape planted in free-text fields, environments and commands.
fn planted_snapshot() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/incidents/001-medusa-rds-ca-then-migrations/snapshot.json"
    ))
    .unwrap();
    let mut snap: Value = serde_json::from_str(&text).unwrap();
    let shapes = shapes();
    let trigger = "x509: certificate signed by unknown authority";
    let logs = snap["logs"].as_array_mut().unwrap();
    let proto = logs[0].clone();
    for s in &shapes {
        let mut line = proto.clone();
        line["message"] = json!(format!("{} {} {trigger}", s.canary, s.text));
        logs.push(line);
    }
    let mut multi = proto.clone();
    multi["message"] = json!(format!("{trigger} {}", multiline_pem()));
    logs.push(multi);
    let blob = |i: usize| format!("{} {}", shapes[i].canary, shapes[i].text);
    snap["services"][0]["events"]
        .as_array_mut()
        .unwrap()
        .push(json!({"created_at": "2025-10-12T15:00:00Z", "message": format!("(service x) has started 1 tasks: {}", blob(0))}));
    snap["tasks"][0]["stopped_reason"] =
        json!(format!("Essential container in task exited {}", blob(1)));
    snap["tasks"][0]["containers"][0]["reason"] =
        json!(format!("CannotPullContainerError: {}", blob(2)));
    let td = &mut snap["task_definitions"][0]["containers"][0];
    let env = td["environment"].as_array_mut().unwrap();
    for (name, value) in ENV_ONLY {
        env.push(json!({"name": name, "value": value}));
    }
    env.push(json!({"name": "TLS_KEY", "value": multiline_pem()}));
    for (i, s) in shapes.iter().enumerate() {
        env.push(json!({"name": format!("SETTING_{i}"), "value": s.text}));
    }
    td["command"] = json!(["sh", "-c", shapes[0].text, "--password", "Fl4gPassW0rd9"]);
    td["entry_point"] = json!(["mysql", "-pMyP4ssW0rdX"]);
    td["health_check"] = json!({"command": ["CMD-SHELL", shapes[3].text]});
    snap["target_health"] = json!([{"target_group": "tg", "target_id": "10.0.0.1", "state": "unhealthy", "reason": "Target.ResponseCodeMismatch", "description": format!("Health checks failed {}", blob(16))}]);
    snap["db_probes"] = json!([{"target": "db.internal:5432/app", "origin": format!("DATABASE_URL {}", blob(13)), "stages": [{"stage": "auth", "status": "fail", "code": "28P01", "detail": blob(17)}]}]);
    snap["collect_errors"] = json!([{"action": "ecs:DescribeTasks", "code": "AccessDeniedException", "message": format!("User is not authorized {}", blob(15))}]);
    snap
}

#[test]
fn planted_snapshot_never_leaks_in_doctor_or_save() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("s.json"), planted_snapshot().to_string()).unwrap();
    let mut seen = String::new();
    for f in FORMATS {
        seen += &run(p, &["doctor", "--snapshot", "s.json", "-o", f], None);
    }
    run(
        p,
        &[
            "doctor",
            "--snapshot",
            "s.json",
            "--db",
            "on",
            "--save",
            "saved.json",
            "-o",
            "json",
        ],
        None,
    );
    let saved = std::fs::read_to_string(p.join("saved.json")).unwrap();
    assert_clean("--save", &saved);
    assert!(saved.contains("<redacted:"), "fingerprints are kept");
    // Each shape's context reached some output, so the secrets were not just dropped.
    for s in shapes() {
        assert!(
            seen.contains(&s.canary) || saved.contains(&s.canary),
            "{} never reached an output",
            s.canary
        );
    }
}

/// A snapshot with every field of the snapshot schema filled, each string holding every
/// shape: a field added later is planted without anyone listing it.
#[test]
fn every_schema_field_is_redacted() {
    let schema: Value =
        serde_json::from_str(include_str!("../schema/snapshot.schema.json")).unwrap();
    let blob: String = shapes()
        .iter()
        .map(|s| s.text.clone())
        .chain([multiline_pem()])
        .collect::<Vec<_>>()
        .join(" ; ");
    let snap = fill(&schema, &schema, &blob, 0);
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("all.json"), snap.to_string()).unwrap();
    for f in FORMATS {
        run(p, &["doctor", "--snapshot", "all.json", "-o", f], None);
    }
    run(
        p,
        &["doctor", "--snapshot", "all.json", "--save", "saved.json"],
        None,
    );
    let saved = std::fs::read_to_string(p.join("saved.json")).unwrap();
    assert_clean("--save of the schema-filled snapshot", &saved);
    // Every string field of the input survived as a field of the saved snapshot.
    assert!(saved.matches("<redacted:").count() > 50, "{saved}");
}

/// A value for a schema node: objects get every property, arrays one element, strings
/// the blob (date-times a time), numbers 1.
fn fill(node: &Value, root: &Value, blob: &str, depth: usize) -> Value {
    assert!(depth < 32, "schema too deep");
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        return fill(&root["definitions"][name], root, blob, depth + 1);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(alts) = node.get(key).and_then(Value::as_array) {
            let alt = alts.iter().find(|a| a.get("type") != Some(&json!("null")));
            return fill(alt.unwrap(), root, blob, depth + 1);
        }
    }
    let ty = match node.get("type") {
        Some(Value::Array(types)) => types.iter().find(|t| *t != "null").cloned(),
        other => other.cloned(),
    };
    match ty.as_ref().and_then(Value::as_str) {
        Some("object") => {
            let mut out = serde_json::Map::new();
            if let Some(props) = node.get("properties").and_then(Value::as_object) {
                for (k, v) in props {
                    out.insert(k.clone(), fill(v, root, blob, depth + 1));
                }
            }
            if node
                .get("additionalProperties")
                .is_some_and(Value::is_object)
            {
                out.insert("some-option".into(), json!(blob));
            }
            Value::Object(out)
        }
        Some("array") => json!([fill(&node["items"], root, blob, depth + 1)]),
        Some("string") if node.get("format") == Some(&json!("date-time")) => {
            json!("2025-01-01T00:00:00Z")
        }
        Some("string") => json!(blob),
        Some("integer") | Some("number") => json!(1),
        Some("boolean") => json!(true),
        _ => json!(blob),
    }
}

fn scan_text() -> String {
    let trigger = "Error: connect ECONNREFUSED 10.0.1.5:5432";
    shapes()
        .iter()
        .map(|s| format!("{} {} {trigger}\n", s.canary, s.text))
        .collect()
}

#[test]
fn scan_never_leaks_in_any_source_or_format() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let text = scan_text();
    std::fs::write(p.join("app.log"), &text).unwrap();
    let mut seen = String::new();
    for f in FORMATS {
        seen += &run(p, &["scan", "app.log", "-o", f], None);
        seen += &run(p, &["scan", "-o", f], Some(&text));
        for source in ["stopped-reason", "service-event"] {
            run(p, &["scan", "--source", source, "-o", f], Some(&text));
        }
    }
    // Evidence is capped per finding, so each shape is also scanned alone.
    for s in shapes() {
        let line = format!(
            "{} {} Error: connect ECONNREFUSED 10.0.1.5:5432\n",
            s.canary, s.text
        );
        let out = run(p, &["scan", "-o", "json"], Some(&line));
        assert!(
            out.contains(&s.canary),
            "{} never reached scan output: {out}",
            s.canary
        );
    }
    assert!(seen.contains("CNRY00"), "{seen}");
}

#[test]
fn lint_files_never_leak() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let shapes = shapes();
    let mut env_file = String::new();
    for (name, value) in ENV_ONLY {
        env_file += &format!("{name}={value}\n");
    }
    for (i, s) in shapes.iter().enumerate() {
        env_file += &format!("SETTING_{i}='{}'\n", s.text.replace('\'', ""));
    }
    std::fs::write(p.join(".env"), env_file).unwrap();
    let compose = format!(
        "services:\n  api:\n    image: api:1\n    command: [\"app\", \"--password\", \"Fl4gPassW0rd9\"]\n    environment:\n      DB_PASS: Dp3xVb8NtK1q\n      DATABASE_URL: \"{}\"\n      PLAIN_SETTING: ${{PLAIN_SETTING}}\n",
        shapes[13].text
    );
    std::fs::write(p.join("docker-compose.yml"), compose).unwrap();
    let td = json!({"family": "api", "containerDefinitions": [{"name": "app", "image": "api:1",
        "command": ["sh", "-c", shapes[0].text],
        "entryPoint": ["mysql", "-pMyP4ssW0rdX"],
        "healthCheck": {"command": ["CMD-SHELL", shapes[3].text]},
        "environment": [{"name": "DB_PASS", "value": "Dp3xVb8NtK1q"}, {"name": "PLAIN_SETTING", "value": "q8Zr2LkP0vN5xT7mW3yB6cHd"}, {"name": "TLS_KEY", "value": multiline_pem()}]}]});
    std::fs::write(p.join("api.taskdef.json"), td.to_string()).unwrap();
    for f in FORMATS {
        let out = run(p, &["lint", ".", "-o", f], None);
        assert!(out.contains("SEC002") || out.contains("plaintext"), "{out}");
    }
}

#[test]
fn probe_urls_and_error_paths_never_leak() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    for url in [
        format!("postgres://app:Pr0bePassw0rd9@127.0.0.1:{port}/app"),
        format!("postgres://app:Ur1P@ss/w?rd#Zq@127.0.0.1:{port}/app"),
        "postgres://app:Pr0bePassw0rd9@/app".to_string(),
        "postgres://app:Pr0bePassw0rd9@127.0.0.1:notaport/app".to_string(),
    ] {
        // A usage error quotes the argument it could not take.
        let out = run(p, &["db", "probe", &url, &url], None);
        assert!(out.contains("unexpected argument"), "{out}");
        for f in FORMATS {
            let out = run(
                p,
                &["db", "probe", &url, "--connect-timeout", "2", "-o", f],
                None,
            );
            assert!(!out.contains("Pr0bePassw0rd9"), "{out}");
        }
    }
    // A snapshot whose bad value is a secret: the error names the path, not the value.
    let bad = r#"{"schema_version": 1, "tasks": [{"id": "t", "task_definition": "a:1", "last_status": "STOPPED", "containers": [{"name": "c", "exit_code": "postgres://a:Ur1P@ss/w?rd#Zq@h/x"}]}]}"#;
    std::fs::write(p.join("bad.json"), bad).unwrap();
    let err = run(p, &["doctor", "--snapshot", "bad.json"], None);
    assert!(err.contains("exit_code"), "{err}");
    // Cut off right after a secret.
    std::fs::write(
        p.join("cut.json"),
        r#"{"schema_version": 1, "logs": [{"message": "PGPASSWORD=Pg7wQz4LmR2s"#,
    )
    .unwrap();
    run(p, &["doctor", "--snapshot", "cut.json"], None);
    // A lint file that cannot be parsed, with a secret next to the fault.
    std::fs::write(p.join("x.env"), "DB_PASS=\"Dp3xVb8NtK1q\n").unwrap();
    run(p, &["lint", "x.env"], None);
}
