//! Cross-source rules are tested on minimal snapshots: `fixtures/rules/<ID>/trigger*.json`
//! must produce the rule (at top level or folded under a cause) and `clean*.json` must not.

use sickbay::{analyze, RuleSet};
use std::path::Path;

fn fired(report: &sickbay::Report, id: &str) -> bool {
    report
        .findings
        .iter()
        .any(|f| f.rule == id || f.explains.iter().any(|c| c.rule == id))
}

#[test]
fn rule_fixtures_trigger_and_stay_clean() {
    let rules = RuleSet::builtin().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules");
    let Ok(dirs) = std::fs::read_dir(&root) else {
        return;
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in dirs.flatten() {
        let id = dir.file_name().to_string_lossy().to_string();
        assert!(
            rules.get(&id).is_some(),
            "fixtures/rules/{id}: no such rule"
        );
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let name = file.file_name().to_string_lossy().to_string();
            if !name.ends_with(".json") {
                continue;
            }
            let snap =
                sickbay::snapshot::load_snapshot(&file.path()).unwrap_or_else(|e| panic!("{e}"));
            let report = analyze(&snap, &rules);
            let want = name.starts_with("trigger");
            if fired(&report, &id) != want {
                failures.push(format!(
                    "{id}/{name}: expected {}",
                    if want { "a finding" } else { "no finding" }
                ));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let _ = checked;
}
