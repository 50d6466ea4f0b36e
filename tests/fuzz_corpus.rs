//! Replays every file of the fuzz corpora (`fuzz/corpus/<target>/`, seeds plus what
//! `cargo +nightly fuzz run` found and kept) through the same harness functions the fuzz
//! targets call, on the stable toolchain, so that every crash ever found stays fixed.
//! Each target's folder must exist and hold inputs: a missing folder fails the test.

use sickbay::harness::{self, LintKind};
use std::path::Path;

fn replay(target: &str, run: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{target}: only {} inputs", files.len());
    for f in files {
        let data = std::fs::read(&f).unwrap();
        // A panic names the input that caused it.
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} panicked", f.display());
    }
}

#[test]
fn snapshot_corpus() {
    replay("snapshot", harness::snapshot);
}

#[test]
fn rule_corpus() {
    replay("rule", harness::rule);
}

#[test]
fn lint_corpora() {
    replay("lint_compose", |d| harness::lint(LintKind::Compose, d));
    replay("lint_env", |d| harness::lint(LintKind::EnvFile, d));
    replay("lint_taskdef", |d| {
        harness::lint(LintKind::TaskDefinition, d)
    });
}

#[test]
fn scan_corpus() {
    replay("scan", harness::scan);
}
