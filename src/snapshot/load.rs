//! Reading snapshots: one clear error with `file:line:col` and the JSON path of the
//! offending field, then redaction, so a snapshot is never held unredacted. Error
//! messages never quote the offending value: it may be a secret.

use super::{Sealed, Snapshot, SNAPSHOT_SCHEMA_VERSION};
use crate::error::{Error, Result};
use regex::Regex;
use std::path::Path;
use std::sync::LazyLock;

/// Reads and redacts a snapshot file.
pub fn load_snapshot(path: &Path) -> Result<Sealed> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.display().to_string();
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let (line, col) = crate::error::line_col(
            &String::from_utf8_lossy(&bytes[..e.valid_up_to()]),
            e.valid_up_to(),
        );
        Error::At {
            file: name.clone(),
            line,
            col,
            message: "snapshot is not valid UTF-8".into(),
        }
    })?;
    parse_snapshot(text, &name)
}

/// Parses and redacts snapshot JSON; `name` is used in error messages.
pub fn parse_snapshot(text: &str, name: &str) -> Result<Sealed> {
    if text.trim().is_empty() {
        return Err(Error::Input {
            file: name.into(),
            message: "snapshot is empty".into(),
        });
    }
    let at = |e: &serde_json::Error, message: String| {
        let (line, col) = crate::error::json_position(text, e);
        Error::At {
            file: name.into(),
            line,
            col,
            message,
        }
    };
    let snap = serde_json::from_str::<Snapshot>(text).map_err(|e| {
        // The field's path (`services[0].name: ...`) is read back from the text at the
        // error's position; the message never echoes a value.
        let path = super::jsonpath::path_at(text, byte_offset(text, &e));
        let what = scrub(&strip_position(&e.to_string()));
        let message = if path.is_empty() {
            what
        } else {
            format!("{path}: {what}")
        };
        at(&e, message)
    })?;
    if snap.schema_version != SNAPSHOT_SCHEMA_VERSION {
        let (line, col) = top_level_value(text, "schema_version")
            .map_or((1, 1), |at| crate::error::line_col(text, at));
        return Err(Error::At {
            file: name.into(),
            line,
            col,
            message: format!(
                "schema_version {} is not supported (this sickbay reads version {})",
                snap.schema_version, SNAPSHOT_SCHEMA_VERSION
            ),
        });
    }
    Ok(Sealed::new(snap))
}

/// Byte offset just past where serde_json stopped (its column counts bytes from 1).
fn byte_offset(text: &str, e: &serde_json::Error) -> usize {
    if e.line() == 0 {
        return text.len();
    }
    let line_start: usize = text
        .split_inclusive('\n')
        .take(e.line() - 1)
        .map(str::len)
        .sum();
    (line_start + e.column()).min(text.len())
}

/// The input values that serde messages quote: `string "..."` (Debug-escaped),
/// `character `c``, `integer `1``, `floating point `1.5``, `boolean `true``,
/// `unknown variant `v``.
static ECHOED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b(string) "(?:[^"\\]|\\.)*"|\b(character|integer|floating point|boolean|unknown variant) `[^`]*`"#)
        .expect("static regex")
});

/// Drops input values from a serde message, so a secret in a mistyped field is never
/// printed: `invalid type: string "postgres://a:pw@h/x", expected i32` becomes
/// `invalid type: string, expected i32`. Field names are keys, not values, and stay.
fn scrub(msg: &str) -> String {
    ECHOED.replace_all(msg, "$1$2").into_owned()
}

/// Byte offset of the value of the top-level `"key":` in JSON `text`.
fn top_level_value(text: &str, key: &str) -> Option<usize> {
    let b = text.as_bytes();
    let needle = format!("\"{key}\"");
    let (mut depth, mut i) = (0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                // `i` is at an ASCII quote, so slicing there is safe.
                if depth == 1 && text[i..].starts_with(&needle) {
                    if let Some(v) = text[i + needle.len()..].trim_start().strip_prefix(':') {
                        return Some(text.len() - v.trim_start().len());
                    }
                }
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// serde_json appends " at line L column C"; we print the position up front instead.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}
