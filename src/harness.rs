//! Entry points for the fuzz targets (`fuzz/`) and for the stable test that replays
//! their corpora (`tests/fuzz_corpus.rs`). Each takes arbitrary bytes and runs one kind
//! of input through everything a user's input goes through: parse, seal (redact),
//! analyse and render in every format. The only acceptable outcomes are a report or an
//! error value; a panic is a bug. Not an API: hidden from the docs.

use crate::rules::RuleSet;
use crate::scan::ScanSource;
use crate::{render, Report};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The built-in pack, compiled once per process.
fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::builtin().expect("the built-in pack compiles"))
}

fn render_all(report: &Report) {
    let _ = render::table::render(report, 100);
    let _ = render::json::render(report);
    let _ = render::markdown::render(report);
}

/// A snapshot file's bytes: load, analyse, render.
pub fn snapshot(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(snap) = crate::snapshot::parse_snapshot(text, "fuzz.json") {
        render_all(&crate::analyze(&snap, rules()));
    }
}

/// A rule file's bytes: parse, validate, compile, run its examples.
pub fn rule(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rule) = crate::rules::parse_rule(text, "USR001-fuzz.toml") {
        let _ = crate::rules::check_examples(&rule);
    }
}

/// The kinds of file `lint` reads.
#[derive(Debug, Clone, Copy)]
pub enum LintKind {
    Compose,
    EnvFile,
    TaskDefinition,
}

/// A lint input's bytes, as a file of that kind: load, analyse, render.
pub fn lint(kind: LintKind, data: &[u8]) {
    let name = match kind {
        LintKind::Compose => "docker-compose.yml",
        LintKind::EnvFile => ".env",
        LintKind::TaskDefinition => "fuzz.taskdef.json",
    };
    let Some(path) = scratch(name, data) else {
        return;
    };
    if let Ok((snap, inputs)) = crate::lint::load(std::slice::from_ref(&path)) {
        render_all(&crate::analyze_lint(&snap, &inputs, rules()));
    }
}

/// Text given to `scan`, as a file, in every source.
pub fn scan(data: &[u8]) {
    let Some(path) = scratch("fuzz.log", data) else {
        return;
    };
    for source in [
        ScanSource::Log,
        ScanSource::StoppedReason,
        ScanSource::ServiceEvent,
    ] {
        if let Ok(scanned) = crate::scan::scan_inputs(std::slice::from_ref(&path), source, rules())
        {
            render_all(&scanned.report);
        }
    }
}

/// Writes `data` to `name` in a scratch folder of this process's own, one per name, so
/// that a compose file never picks up an env file written for another input.
fn scratch(name: &str, data: &[u8]) -> Option<PathBuf> {
    let dir = std::env::temp_dir()
        .join(format!("sickbay-harness-{}", std::process::id()))
        .join(name.trim_start_matches('.'));
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(name);
    std::fs::write(&path, data).ok()?;
    Some(path)
}
