//! Typed library errors. Each carries enough to print one clear line, with
//! `file:line:col` where the input has a position; the binary maps them to exit code 2.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed input with a position (snapshot JSON, rule TOML).
    #[error("{file}:{line}:{col}: {message}")]
    At {
        file: String,
        line: usize,
        col: usize,
        message: String,
    },
    /// Malformed input without a usable position.
    #[error("{file}: {message}")]
    Input { file: String, message: String },
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// 1-based line and column of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}
