//! Rules are data: one TOML file per rule under `rules/<category>/<ID>-<name>.toml`.
//! This module holds the rule model, parses and validates rule files (rejecting a bad
//! file with `file:line:col` and the field's name), and loads the built-in pack that
//! is embedded in the binary at build time. The file format is described in
//! `docs/rules.md`.

pub mod check;
mod model;
mod pattern;
pub mod shapes;

pub use check::{check_examples, ExampleFailure};
pub use model::*;
pub use pattern::Pattern;

use crate::error::{line_col, Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// A validated, compiled set of rules, sorted by id.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// The log prefilter of these rules, built on first use and shared by clones
    /// (scan, doctor's log reads and the engine's gate all use the same one).
    prefilter: std::sync::Arc<std::sync::OnceLock<crate::scan::Prefilter>>,
}

impl RuleSet {
    /// The rule pack embedded in the binary.
    pub fn builtin() -> Result<Self> {
        let mut rules = Vec::new();
        for (path, text) in BUILTIN_RULES {
            rules.push(parse_rule(text, path)?);
        }
        Self::from_rules(rules)
    }

    /// Builds a set, rejecting duplicate ids.
    pub fn from_rules(mut rules: Vec<Rule>) -> Result<Self> {
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for r in &rules {
            if let Some(prev) = seen.insert(&r.id, &r.file) {
                return Err(Error::At {
                    file: r.file.clone(),
                    line: r.id_at.0,
                    col: r.id_at.1,
                    message: format!("rule id {} is already defined in {prev}", r.id),
                });
            }
        }
        Ok(Self {
            rules,
            prefilter: Default::default(),
        })
    }

    /// The prefilter over these rules' log patterns, built once.
    pub fn prefilter(&self) -> &crate::scan::Prefilter {
        self.prefilter
            .get_or_init(|| crate::scan::Prefilter::new(self))
    }

    /// Adds every rule found under `dir` (recursively, `*.toml`).
    pub fn extend_from_dir(&mut self, dir: &Path) -> Result<()> {
        let mut rules = std::mem::take(&mut self.rules);
        rules.extend(load_dir(dir)?);
        *self = Self::from_rules(rules)?;
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        let id = id.to_ascii_uppercase();
        self.rules
            .iter()
            .find(|r| r.id == id || r.name.eq_ignore_ascii_case(&id))
    }
}

/// Loads and validates every `*.toml` under `dir`, in path order.
pub fn load_dir(dir: &Path) -> Result<Vec<Rule>> {
    let mut files = Vec::new();
    collect_toml(dir, &mut files)?;
    if files.is_empty() {
        return Err(Error::Input {
            file: dir.display().to_string(),
            message: "no rule files (*.toml) found".into(),
        });
    }
    files.sort();
    let mut rules = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let name = path.display().to_string();
        let text = String::from_utf8(bytes).map_err(|e| {
            let upto = e.utf8_error().valid_up_to();
            let valid = std::str::from_utf8(&e.as_bytes()[..upto]).unwrap_or_default();
            let (line, col) = line_col(valid, upto);
            Error::At {
                file: name.clone(),
                line,
                col,
                message: "rule file is not valid UTF-8".into(),
            }
        })?;
        rules.push(parse_rule(&text, &name)?);
    }
    Ok(rules)
}

/// The `*.toml` files under `dir` (or `dir` itself), walked as lint walks a folder:
/// `.gitignore` is honoured, so a rule pack's ignored drafts are not loaded.
fn collect_toml(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    for entry in ignore::WalkBuilder::new(dir).require_git(false).build() {
        let entry = entry.map_err(|e| Error::Io {
            path: dir.to_path_buf(),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("cannot walk the folder")),
        })?;
        let path = entry.path();
        if entry.file_type().is_some_and(|t| t.is_file())
            && path.extension().is_some_and(|e| e == "toml")
        {
            out.push(entry.into_path());
        }
    }
    Ok(())
}

/// Parses and validates one rule file. `file` is used in error messages.
pub fn parse_rule(text: &str, file: &str) -> Result<Rule> {
    let raw: RawRule = toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        Error::At {
            file: file.into(),
            line,
            col,
            message: crate::error::join_lines(e.message()),
        }
    })?;
    Rule::compile(raw, text, file)
}
