//! Golden tests of everything a user sees for the bundled incidents: the table (no
//! colour), the JSON and the Markdown, plus `rules list` and every rule explanation.
//! Update with `INSTA_UPDATE=always cargo test --test golden` and review the diff.

use sickbay::render::{self, Format};
use sickbay::{analyze, RuleSet};
use std::path::Path;

fn incidents() -> Vec<(String, std::path::PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/incidents");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                e.path().join("snapshot.json"),
            )
        })
        .filter(|(_, p)| p.exists())
        .collect();
    v.sort();
    v
}

#[test]
fn incident_reports() {
    colored::control::set_override(false);
    let rules = RuleSet::builtin().unwrap();
    for (name, path) in incidents() {
        let snap = sickbay::snapshot::load_snapshot(&path).unwrap();
        let report = analyze(&snap, &rules);
        insta::assert_snapshot!(format!("{name}.table"), render::table::render(&report, 120));
        insta::assert_snapshot!(format!("{name}.json"), render::json::render(&report));
        insta::assert_snapshot!(format!("{name}.md"), render::markdown::render(&report));
    }
}

/// The start-path fixture (fixtures/start-path/make.py): every verified link broken at
/// once, with a stopped task whose reason folds under the network path.
#[test]
fn start_path_report() {
    colored::control::set_override(false);
    let rules = RuleSet::builtin().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/start-path/snapshot.json");
    let snap = sickbay::snapshot::load_snapshot(&path).unwrap();
    let report = analyze(&snap, &rules);
    insta::assert_snapshot!("start-path.table", render::table::render(&report, 120));
    insta::assert_snapshot!("start-path.json", render::json::render(&report));
    insta::assert_snapshot!("start-path.md", render::markdown::render(&report));
}

#[test]
fn rule_list_and_explanations() {
    colored::control::set_override(false);
    let rules = RuleSet::builtin().unwrap();
    insta::assert_snapshot!(
        "rules_list",
        render::rules::list(&rules, Format::Table, 120)
    );
    for r in &rules.rules {
        insta::assert_snapshot!(
            format!("explain_{}", r.id),
            render::rules::explain(r, Format::Markdown)
        );
    }
}
