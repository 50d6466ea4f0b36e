//! `sickbay lint`: pre-deploy checks over task-definition JSON, docker-compose files
//! and `.env` templates. The files are parsed (with source positions) into a snapshot
//! of task definitions plus [`LintInputs`] for what a snapshot has no place for
//! (compose services, env files, positions); the same engine and rules then run on
//! them, so every check also applies to task definitions collected live by `doctor`.

pub mod compose;
pub mod envfile;
pub mod interp;
pub mod json;
pub mod taskdef;

pub use crate::snapshot::inputs::{
    part_key, ComposeService, ConfigEnv, ConfigFile, ConfigKind, LintInputs, Origin, Published,
    VarRef,
};

use crate::snapshot::{Sealed, Snapshot};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// A bad input file: one message with file:line:col.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct LintError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl LintError {
    pub fn at(file: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        LintError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// What kind of file a path is, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    TaskDefinition,
    Compose,
    Env,
}

fn kind_by_name(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".json") {
        return Some(FileKind::TaskDefinition);
    }
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        return Some(FileKind::Compose);
    }
    if name == ".env"
        || name.starts_with(".env.")
        || name.starts_with(".env-")
        || name.starts_with(".env_")
        || name.ends_with(".env")
        || name.ends_with(".env.template")
        || name.ends_with(".env.example")
        || name.ends_with(".env.sample")
    {
        return Some(FileKind::Env);
    }
    None
}

/// Compose files found while walking a folder: only names compose itself looks for.
fn is_compose_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    (name.starts_with("docker-compose")
        || name.starts_with("compose")
        || name.contains(".compose."))
        && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

const SKIP_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    "vendor",
    ".venv",
    "venv",
    "__pycache__",
    ".terraform",
    "dist",
    "build",
];

/// Expands the command-line paths into files to lint. Named files are linted whatever
/// their name (an unknown kind is an error); folders are walked for task definitions
/// (`*.json` whose content is one), compose files and env files.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<(PathBuf, FileKind, bool)>, String> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).map_err(|e| format!("{}: {e}", p.display()))?;
            found.sort();
            for f in found {
                match kind_by_name(&f) {
                    Some(FileKind::Compose) if !is_compose_name(&f) => {}
                    Some(k) => out.push((f, k, false)),
                    None => {}
                }
            }
        } else {
            let k = kind_by_name(p).ok_or_else(|| {
                format!(
                    "{}: cannot tell what kind of file this is; lint takes task definitions (*.json), docker-compose files (*.yml, *.yaml) and env files (.env, *.env, .env.*)",
                    p.display()
                )
            })?;
            out.push((p.clone(), k, true));
        }
    }
    // docker compose reads the `.env` next to a compose file by itself; so does lint.
    let siblings: Vec<PathBuf> = out
        .iter()
        .filter(|(_, k, _)| *k == FileKind::Compose)
        .filter_map(|(p, _, _)| Some(p.parent()?.join(".env")))
        .filter(|e| e.is_file())
        .collect();
    for e in siblings {
        if !out.iter().any(|(p, _, _)| same_file(p, &e)) {
            out.push((e, FileKind::Env, false));
        }
    }
    let mut seen = HashSet::new();
    out.retain(|(p, _, _)| seen.insert(p.clone()));
    Ok(out)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The files under `dir`, as git would see them: `.gitignore`, `.ignore` and the global
/// git excludes are honoured (the `ignore` crate, as ripgrep walks), hidden files such as
/// `.env` are kept, and vendored or generated folders are skipped by name.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ignore::Error> {
    let walker = ignore::WalkBuilder::new(dir)
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            !(e.file_type().is_some_and(|t| t.is_dir())
                && e.depth() > 0
                && (SKIP_DIRS.contains(&name.as_ref()) || name.starts_with(".venv")))
        })
        .build();
    for entry in walker {
        let entry = entry?;
        if entry.file_type().is_some_and(|t| t.is_file()) {
            out.push(entry.into_path());
        }
    }
    Ok(())
}

/// Display form of a path: relative paths as given, without a leading `./`.
fn display(p: &Path) -> String {
    let s = p.display().to_string();
    s.strip_prefix("./").map(String::from).unwrap_or(s)
}

/// Reads and parses every file. Env files are read first so compose interpolation
/// knows their variables.
pub fn load(paths: &[PathBuf]) -> Result<(Sealed, LintInputs), LintFailure> {
    let files = discover(paths).map_err(LintFailure::Usage)?;
    let mut inputs = LintInputs::default();
    let mut snap = Snapshot {
        schema_version: crate::snapshot::SNAPSHOT_SCHEMA_VERSION,
        ..Snapshot::default()
    };
    let texts = read_texts(files, &mut inputs)?;
    load_env_files(&texts, &mut inputs)?;
    load_compose_and_task_definitions(&texts, &mut inputs, &mut snap)?;
    inputs.files.sort();
    inputs.files.dedup();
    inputs.redact();
    Ok((Sealed::new(snap), inputs))
}

/// A file read for linting: display name, kind, whether it was named explicitly, text.
type LoadedText = (String, FileKind, bool, String);

/// Reads the discovered files as text; one that is not UTF-8 is an error when named
/// explicitly, otherwise skipped with a note.
fn read_texts(
    files: Vec<(PathBuf, FileKind, bool)>,
    inputs: &mut LintInputs,
) -> Result<Vec<LoadedText>, LintFailure> {
    let mut texts = Vec::new();
    for (path, kind, explicit) in files {
        let name = display(&path);
        let bytes = std::fs::read(&path).map_err(|e| LintFailure::Usage(format!("{name}: {e}")))?;
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
                let col = upto.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
                let err = LintError::at(&name, line, col, "not valid UTF-8 text");
                if explicit {
                    return Err(LintFailure::Input(err));
                }
                inputs.notes.push(format!("skipped {err}"));
                continue;
            }
        };
        texts.push((name, kind, explicit, text));
    }
    Ok(texts)
}

/// Parses the env files into `inputs` (configs and variables).
fn load_env_files(texts: &[LoadedText], inputs: &mut LintInputs) -> Result<(), LintFailure> {
    for (name, kind, explicit, text) in texts {
        if *kind == FileKind::Env {
            let f = match envfile::parse(name, text) {
                Ok(f) => f,
                Err(e) if !*explicit => {
                    inputs.notes.push(format!("skipped {e}"));
                    continue;
                }
                Err(e) => return Err(LintFailure::Input(e)),
            };
            inputs.files.push(name.clone());
            for e in &f.env {
                inputs.variables.insert(e.name.clone(), e.value.clone());
            }
            inputs.configs.push(f);
        }
    }
    Ok(())
}

/// Parses the compose files (interpolated against their project's env files) into
/// `inputs` and the task-definition files into `snap`.
fn load_compose_and_task_definitions(
    texts: &[LoadedText],
    inputs: &mut LintInputs,
    snap: &mut Snapshot,
) -> Result<(), LintFailure> {
    // Like docker compose, a compose file sees the env files of its own folder (its
    // project), plus any env file named on the command line.
    let parent = |n: &str| {
        Path::new(n)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    };
    let vars_for = |compose: &str| {
        let dir = parent(compose);
        envfile::raw_variables(
            texts
                .iter()
                .filter(|(n, k, explicit, _)| {
                    *k == FileKind::Env && (*explicit || parent(n) == dir)
                })
                .map(|(_, _, _, t)| t.as_str()),
        )
    };
    for (name, kind, explicit, text) in texts {
        match kind {
            FileKind::Env => {}
            FileKind::Compose => {
                let vars = vars_for(name);
                let parsed = compose::parse(name, text, &vars);
                let what = "not a docker-compose file: no top-level `services` mapping";
                if let Some(f) = accept(parsed, name, *explicit, what, &mut inputs.notes)? {
                    inputs.files.push(name.clone());
                    inputs.configs.push(f);
                }
            }
            FileKind::TaskDefinition => {
                let parsed = taskdef::parse(name, text, inputs);
                let what = "not a task definition: expected `family` and `containerDefinitions` (register-task-definition input), `taskDefinition` (describe-task-definition output) or an array of container definitions";
                if let Some(tds) = accept(parsed, name, *explicit, what, &mut inputs.notes)? {
                    inputs.files.push(name.clone());
                    snap.task_definitions.extend(tds);
                }
            }
        }
    }
    Ok(())
}

/// What to do with a parsed file: a file named on the command line must parse and be of
/// its kind; one found in a folder (tsconfig.json, values.yml ...) is skipped, with a
/// note when it could not be parsed.
fn accept<T>(
    parsed: Result<Option<T>, LintError>,
    name: &str,
    explicit: bool,
    not_kind: &str,
    notes: &mut Vec<String>,
) -> Result<Option<T>, LintFailure> {
    match parsed {
        Ok(Some(v)) => Ok(Some(v)),
        Ok(None) if explicit => Err(LintFailure::Input(LintError::at(name, 1, 1, not_kind))),
        Ok(None) => Ok(None),
        Err(e) if explicit => Err(LintFailure::Input(e)),
        Err(e) => {
            notes.push(format!("skipped {e}"));
            Ok(None)
        }
    }
}

/// Why lint could not run.
#[derive(Debug, thiserror::Error)]
pub enum LintFailure {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Input(LintError),
}
