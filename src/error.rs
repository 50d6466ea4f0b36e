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

/// Joins a dependency's multi-line message into one line (`a\nb` -> `a; b`).
pub fn join_lines(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// 1-based line and character column of a serde_json error. serde_json counts columns in
/// bytes, and at the end of the input points past the final line break (column 0), so an
/// error at the end is put on the last non-blank character instead.
pub fn json_position(text: &str, e: &serde_json::Error) -> (usize, usize) {
    if e.classify() == serde_json::error::Category::Eof {
        let end = text.trim_end();
        let last = end.char_indices().last().map_or(0, |(i, _)| i);
        return line_col(text, last);
    }
    let line = e.line().max(1);
    let line_text = text.split('\n').nth(line - 1).unwrap_or("");
    let upto = &line_text.as_bytes()[..e.column().min(line_text.len())];
    (line, String::from_utf8_lossy(upto).chars().count().max(1))
}
