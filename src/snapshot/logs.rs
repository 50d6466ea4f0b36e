//! Log evidence: the lines read (or scanned), the streams looked up, and how each log
//! group was read and how much of the window that covered. A stream that does not exist
//! is itself evidence that a task died before it could log.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
    pub message: String,
    /// Task id the stream belongs to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// 1-based line number in the scanned input (for `scan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// How many identical lines this entry stands for (`scan` folds repeats; `doctor
    /// --logs window` folds a stream's repeats across the window).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u64,
    /// Time of the last of the `count` lines, when they span a period (`timestamp` is
    /// the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_timestamp: Option<DateTime<Utc>>,
}

/// How one log group's streams were read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct LogRead {
    pub group: String,
    /// `tail` (the last lines of each stream), `window` (every line of the window,
    /// keeping those some rule's log pattern matches, plus the tail), `insights` or
    /// `filter` (the window searched on the server, by Logs Insights or by filter
    /// patterns, for the rules' literals; the candidates tested here, plus the tail).
    pub mode: String,
    pub streams: usize,
    /// Lines fetched from CloudWatch.
    pub events: u64,
    /// Distinct lines kept because a rule's log pattern matches them (all but `tail`).
    pub matched: usize,
    /// False when a page, query or result limit stopped the read before the end of
    /// the window.
    pub complete: bool,
    /// Time of the last line read, when the read stopped early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_until: Option<DateTime<Utc>>,
    /// Records the server scanned (Logs Insights statistics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned: Option<u64>,
    /// Bytes the server scanned, which Logs Insights bills (its statistics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_scanned: Option<u64>,
    /// Why a preferred way was not used (`--logs auto`), with the denied action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// Log patterns the server-side search could not cover (tested on the tail only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub uncovered: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn one() -> u64 {
    1
}
fn is_one(n: &u64) -> bool {
    *n == 1
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogStream {
    pub group: String,
    pub stream: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub exists: bool,
    /// Why the stream could not be read (for example "logs not in CloudWatch").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
