//! Reading snapshots: one clear error with `file:line:col` and the JSON path of the
//! offending field, then redaction, so a snapshot is never held unredacted.

use super::{redact, Snapshot, SNAPSHOT_SCHEMA_VERSION};
use crate::error::{Error, Result};
use std::path::Path;

/// Reads and redacts a snapshot file.
pub fn load_snapshot(path: &Path) -> Result<Snapshot> {
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
pub fn parse_snapshot(text: &str, name: &str) -> Result<Snapshot> {
    if text.trim().is_empty() {
        return Err(Error::Input {
            file: name.into(),
            message: "snapshot is empty".into(),
        });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let mut snap: Snapshot = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        // serde_path_to_error marks an unknown position with `?`.
        let path = path
            .trim_end_matches(".?")
            .trim_end_matches('?')
            .to_string();
        let inner = e.into_inner();
        let message = if path.is_empty() || path == "." {
            strip_position(&inner.to_string())
        } else {
            format!("{path}: {}", strip_position(&inner.to_string()))
        };
        Error::At {
            file: name.into(),
            line: inner.line(),
            col: inner.column(),
            message,
        }
    })?;
    if snap.schema_version != SNAPSHOT_SCHEMA_VERSION {
        return Err(Error::Input {
            file: name.into(),
            message: format!(
                "schema_version {} is not supported (this sickbay reads version {})",
                snap.schema_version, SNAPSHOT_SCHEMA_VERSION
            ),
        });
    }
    redact::redact_snapshot(&mut snap);
    Ok(snap)
}

/// serde_json appends " at line L column C"; we print the position up front instead.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}
