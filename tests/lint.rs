//! `sickbay lint`: the seed-derived fixtures in `fixtures/lint/` with golden outputs,
//! per-rule trigger/clean folders, live parity (the same checks on a replayed snapshot),
//! and bad files (file:line:col, exit 2, never a panic).

use sickbay::render;
use sickbay::{analyze, analyze_lint, Report, RuleSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn lint(paths: &[&str]) -> Report {
    let rules = RuleSet::builtin().unwrap();
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let (snap, inputs) = sickbay::lint::load(&paths).unwrap_or_else(|e| panic!("{e}"));
    analyze_lint(&snap, &inputs, &rules)
}

fn ids(r: &Report) -> Vec<String> {
    let mut v: Vec<String> = r
        .findings
        .iter()
        .flat_map(|f| {
            std::iter::once(f.rule.clone()).chain(f.explains.iter().map(|c| c.rule.clone()))
        })
        .collect();
    v.sort();
    v
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sickbay"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    c
}

#[test]
fn seed_fixtures_golden() {
    for dir in ["000-supabase-ecs", "004-supabase-instances", "clean"] {
        let path = format!("fixtures/lint/{dir}");
        let report = lint(&[&path]);
        insta::assert_snapshot!(
            format!("lint_{dir}.table"),
            render::table::render(&report, 120)
        );
        insta::assert_snapshot!(format!("lint_{dir}.json"), render::json::render(&report));
        insta::assert_snapshot!(format!("lint_{dir}.md"), render::markdown::render(&report));
    }
}

/// What CI sees: SARIF for code scanning and GitHub annotations, golden for seed 000.
#[test]
fn seed_000_sarif_and_github_golden() {
    let rules = RuleSet::builtin().unwrap();
    let report = lint(&["fixtures/lint/000-supabase-ecs"]);
    let sarif = render::sarif::render(&report, &rules);
    insta::assert_snapshot!("lint_000-supabase-ecs.sarif", sarif);
    insta::assert_snapshot!(
        "lint_000-supabase-ecs.github",
        render::github::render(&report)
    );
    // One result per finding and file position, each with a region and a fingerprint
    // that does not depend on the line.
    let v: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let placed: usize = report
        .findings
        .iter()
        .map(|f| f.evidence.iter().filter(|e| e.file.is_some()).count())
        .sum();
    assert_eq!(results.len(), placed);
    for r in results {
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1, "{r}");
        assert!(r["partialFingerprints"]["sickbay/v1"].is_string(), "{r}");
    }
}

/// GITHUB_ACTIONS=true makes lint print annotations unless --output says otherwise.
#[test]
fn github_actions_defaults_lint_to_annotations() {
    let out = bin()
        .env("GITHUB_ACTIONS", "true")
        .args(["lint", "fixtures/lint/000-supabase-ecs"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("::error file="), "{text}");
    let out = bin()
        .env("GITHUB_ACTIONS", "true")
        .args(["lint", "fixtures/lint/000-supabase-ecs", "-o", "json"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with('{'));
}

#[test]
fn seed_000_names_every_config_failure() {
    let r = lint(&["fixtures/lint/000-supabase-ecs"]);
    let got = ids(&r);
    for want in [
        "CFG001", "CFG002", "CFG003", "CFG004", "CFG005", "CFG006", "CFG010", "CFG011", "SEC002",
        "SEC003",
    ] {
        assert!(
            got.contains(&want.to_string()),
            "{want} missing from {got:?}"
        );
    }
    // The bind address HOSTNAME=0.0.0.0 is not a URL problem.
    assert!(!got.contains(&"CFG007".to_string()), "{got:?}");
    // Every piece of evidence points at a file position.
    for f in &r.findings {
        for e in &f.evidence {
            let file = e
                .file
                .as_deref()
                .unwrap_or_else(|| panic!("{} evidence without a file: {e:?}", f.rule));
            assert!(
                file.starts_with("fixtures/lint/000-supabase-ecs/"),
                "{file}"
            );
            assert!(e.line.unwrap() >= 1 && e.column.unwrap() >= 1);
            assert!(
                e.locator
                    .starts_with(&format!("{file}:{}:", e.line.unwrap())),
                "{}",
                e.locator
            );
        }
    }
    let cfg006 = r.findings.iter().find(|f| f.rule == "CFG006").unwrap();
    assert_eq!(
        cfg006.evidence[0].path.as_deref(),
        Some("containerDefinitions[0].environment[3] (LOGFLARE_URL)")
    );
    assert_eq!(
        (cfg006.evidence[0].line, cfg006.evidence[0].column),
        (Some(18), Some(44))
    );
}

#[test]
fn seed_004_names_shared_secrets_ports_and_variables() {
    let r = lint(&["fixtures/lint/004-supabase-instances"]);
    let got = ids(&r);
    for want in ["SEC001", "SEC003", "CFG007", "CFG008", "CFG009"] {
        assert!(
            got.contains(&want.to_string()),
            "{want} missing from {got:?}"
        );
    }
    let undefined = r.findings.iter().find(|f| f.rule == "CFG008").unwrap();
    assert!(
        undefined.message.contains("${STUDIO_PORT}"),
        "{}",
        undefined.message
    );
    let ports = r.findings.iter().find(|f| f.rule == "CFG009").unwrap();
    assert!(
        ports.message.contains("db and supavisor"),
        "{}",
        ports.message
    );
    let shared = r.findings.iter().find(|f| f.rule == "SEC001").unwrap();
    assert!(shared.message.contains("JWT_SECRET"), "{}", shared.message);
    for e in &shared.evidence {
        assert!(e.file.is_some() && e.line.is_some(), "{e:?}");
    }
}

#[test]
fn clean_fixture_has_no_findings_and_exits_0() {
    assert!(lint(&["fixtures/lint/clean"]).findings.is_empty());
    let out = bin()
        .args(["lint", "fixtures/lint/clean", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_env_file_next_to_a_compose_file_is_read_like_compose_does() {
    let r = lint(&["fixtures/lint/rules/CFG008/clean/compose.yml"]);
    assert_eq!(
        r.target.files,
        vec![
            "fixtures/lint/rules/CFG008/clean/.env".to_string(),
            "fixtures/lint/rules/CFG008/clean/compose.yml".to_string()
        ]
    );
    assert!(!ids(&r).contains(&"CFG008".to_string()), "{:?}", ids(&r));
}

#[test]
fn exit_codes_follow_fail_on() {
    let run = |args: &[&str]| bin().args(args).output().unwrap().status.code();
    assert_eq!(
        run(&["lint", "fixtures/lint/000-supabase-ecs", "-o", "json"]),
        Some(1)
    );
    assert_eq!(
        run(&[
            "lint",
            "fixtures/lint/000-supabase-ecs",
            "-o",
            "json",
            "--fail-on",
            "never"
        ]),
        Some(0)
    );
    // Only medium findings here: high does not trip, medium does.
    assert_eq!(
        run(&["lint", "fixtures/lint/rules/CFG007/trigger", "-o", "json"]),
        Some(0)
    );
    assert_eq!(
        run(&[
            "lint",
            "fixtures/lint/rules/CFG007/trigger",
            "-o",
            "json",
            "--fail-on",
            "medium"
        ]),
        Some(1)
    );
}

/// Every folder under `fixtures/lint/rules/<ID>/` named `trigger*` must produce the rule
/// (at top level or folded) and every `clean*` folder must not.
#[test]
fn per_rule_trigger_and_clean_folders() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lint/rules");
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut rules_seen = 0;
    for rule in std::fs::read_dir(&root).unwrap().flatten() {
        let id = rule.file_name().to_string_lossy().to_string();
        rules_seen += 1;
        for case in std::fs::read_dir(rule.path()).unwrap().flatten() {
            let name = case.file_name().to_string_lossy().to_string();
            let rel = format!("fixtures/lint/rules/{id}/{name}");
            let got = ids(&lint(&[&rel]));
            let want = name.starts_with("trigger");
            if got.contains(&id) != want {
                failures.push(format!(
                    "{rel}: expected {}; got {got:?}",
                    if want { id.as_str() } else { "no finding" }
                ));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        rules_seen >= 10 && checked >= 2 * rules_seen,
        "{rules_seen} rules, {checked} cases"
    );
}

/// The checks are rules on task-definition facts, so a snapshot replayed by `doctor`
/// (the shape live collection produces) gets them too.
#[test]
fn config_checks_also_run_on_snapshots() {
    let rules = RuleSet::builtin().unwrap();
    let (snap, _) =
        sickbay::lint::load(&[PathBuf::from("fixtures/lint/000-supabase-ecs")]).unwrap();
    let text = serde_json::to_string(&snap).unwrap();
    let replayed = sickbay::snapshot::parse_snapshot(&text, "replayed.json").unwrap();
    let got = ids(&analyze(&replayed, &rules));
    for want in [
        "CFG001", "CFG005", "CFG006", "CFG003", "SEC002", "SEC003", "CFG010",
    ] {
        assert!(
            got.contains(&want.to_string()),
            "{want} missing from {got:?}"
        );
    }
    // Nothing says whether a replayed family is a service, so no "no health check anywhere".
    assert!(!got.contains(&"CFG011".to_string()), "{got:?}");
}

#[test]
fn output_never_contains_secret_values() {
    let out = bin()
        .args([
            "lint",
            "fixtures/lint/000-supabase-ecs",
            "fixtures/lint/004-supabase-instances",
            "-o",
            "json",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("<redacted:"), "fingerprints are shown");
    for secret in [
        "Sup3rS3cret",
        "9f878Nhjk3TJyVKgyaGh83hh6Pu9j9yfxnZSuphb",
        "your-super-secret-and-long-postgres-password",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    ] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
}

#[test]
fn bad_files_get_file_line_col_and_exit_2() {
    let mut messages = String::new();
    let mut files: Vec<_> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lint/bad"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
    files.sort();
    for f in files {
        let rel = format!("fixtures/lint/bad/{f}");
        let out = bin().args(["lint", &rel]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{rel}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "one message: {err}");
        assert!(err.starts_with(&format!("error: {rel}:")), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        messages.push_str(&err);
    }
    // Paths that are not there, or that lint cannot read, are usage errors.
    for args in [
        vec!["lint", "no/such/file.json"],
        vec!["lint", "Cargo.toml"],
    ] {
        let out = bin().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        messages.push_str(&String::from_utf8(out.stderr).unwrap());
    }
    let out = bin().args(["lint"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("lint_bad_files", messages);
}

#[test]
fn folders_skip_json_that_is_not_a_task_definition() {
    let dir = std::env::temp_dir().join(format!("sickbay-lint-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("node_modules/x")).unwrap();
    std::fs::write(dir.join("package.json"), "{\"name\": \"web\"}").unwrap();
    std::fs::write(
        dir.join("tsconfig.json"),
        "{\n  // comments are fine here\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("node_modules/x/td.json"), "{ not json").unwrap();
    std::fs::write(dir.join("values.yml"), "replicas: 2\n").unwrap();
    std::fs::copy(
        "fixtures/lint/rules/CFG006/trigger/td.json",
        dir.join("td.json"),
    )
    .unwrap();
    // .gitignore is honoured (no git repository needed): an ignored draft is not linted.
    std::fs::create_dir_all(dir.join("drafts")).unwrap();
    std::fs::copy(
        "fixtures/lint/rules/CFG006/trigger/td.json",
        dir.join("drafts/td.json"),
    )
    .unwrap();
    std::fs::write(dir.join(".gitignore"), "drafts/\n").unwrap();
    let r = lint(&[dir.to_str().unwrap()]);
    assert_eq!(r.target.files.len(), 1, "{:?}", r.target.files);
    assert!(ids(&r).contains(&"CFG006".to_string()));
    // A JSON file that does not parse is skipped, and the report says so.
    assert!(
        r.notes
            .iter()
            .any(|n| n.starts_with("skipped ") && n.contains("tsconfig.json:2:3")),
        "{:?}",
        r.notes
    );
    // Named explicitly, a JSON file that is not a task definition is an error.
    let out = bin()
        .args(["lint", dir.join("package.json").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a task definition"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Truncated and mangled versions of every fixture file load or fail with a position;
/// none panics.
#[test]
fn mangled_files_never_panic() {
    let dir = std::env::temp_dir().join(format!("sickbay-mangle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut tried = 0;
    for sub in ["000-supabase-ecs", "004-supabase-instances", "clean"] {
        for entry in std::fs::read_dir(Path::new("fixtures/lint").join(sub))
            .unwrap()
            .flatten()
        {
            let name = entry.file_name();
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let target = dir.join(&name);
            let cuts = (0..text.len())
                .step_by(7)
                .filter(|&i| text.is_char_boundary(i));
            for cut in cuts {
                for variant in [
                    text[..cut].to_string(),
                    format!("{}{}", &text[..cut], "${é:-${"),
                    text[..cut].replace(':', "\t:"),
                ] {
                    std::fs::write(&target, &variant).unwrap();
                    match sickbay::lint::load(std::slice::from_ref(&target)) {
                        Ok(_) => {}
                        Err(sickbay::lint::LintFailure::Input(e)) => {
                            assert!(e.line >= 1 && e.column >= 1, "{e}");
                        }
                        Err(e) => panic!("{e}"),
                    }
                    tried += 1;
                }
            }
            std::fs::remove_file(&target).unwrap();
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(tried > 1000, "{tried}");
}
