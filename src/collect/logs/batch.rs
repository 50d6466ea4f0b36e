//! One batch of streams of a group read with FilterLogEvents (tail and window modes):
//! what a read keeps (a bounded tail per stream and, in window mode, the lines the rule
//! pack's log patterns match, folded by text), and the batch read again without the
//! streams that turn out not to exist when the call is rejected. The server-side
//! searches in [`crate::collect::logsearch`] reuse the folding and the full read.

use super::existence::{existence, Existence};
use super::{filter, stream_entry, ChunkResult, How, Wanted, MAX_MATCHED};
use crate::collect::ctx::{Ctx, Failure};
use crate::collect::ops::Op;
use crate::snapshot::{LogLine, LogRead};
use aws_sdk_cloudwatchlogs::Client;
use chrono::DateTime;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// FilterLogEvents over up to 100 streams of one group, keeping the last `tail` lines
/// of each stream.
///
/// AWS rejects the whole call with ResourceNotFoundException when one named stream does
/// not exist ("The specified log stream does not exist.") or the group does not. Then
/// the streams' existence is checked with DescribeLogStreams (the first stream alone:
/// when the group is missing, every stream is, and no more checks are made; then at
/// most [`MAX_EXISTENCE_CHECKS`](super::MAX_EXISTENCE_CHECKS) streams): missing ones are
/// recorded as such, and the batch is read again without them. Streams whose check
/// failed or was not made are read too; if the batch is rejected again (or no stream
/// was found missing), only the streams known to exist are read. A rejection that
/// cannot be worked around is a collection error, so the report says that logs are
/// missing.
pub(super) async fn read_chunk<'c>(
    ctx: &Ctx,
    client: &'c Client,
    group: &str,
    chunk: &[&Wanted],
    how: &How<'_>,
) -> (&'c Client, ChunkResult) {
    let mut res = ChunkResult {
        lines: Vec::new(),
        streams: Vec::new(),
        silent: Vec::new(),
        read: None,
    };
    let mut names: Vec<&Wanted> = chunk.to_vec();
    // Streams a check found (a silent one needs no second check).
    let mut known: Vec<&Wanted> = Vec::new();
    for attempt in 0.. {
        let rejected = match filter(ctx, client, group, &names, how).await {
            Filtered::Read(read) => {
                res.read = Some(read.summary(group, how, names.len()));
                for w in names {
                    let tail = read.tails.get(&w.stream);
                    let matched = read.matched.by_stream.get(&w.stream);
                    if tail.is_none() && matched.is_none() {
                        if known.contains(&w) {
                            res.streams.push(stream_entry(w, true, None));
                        } else {
                            res.silent.push((*w).clone());
                        }
                        continue;
                    }
                    res.streams.push(stream_entry(w, true, None));
                    emit(&mut res.lines, w, tail, matched);
                }
                return (client, res);
            }
            Filtered::NotFound(f) => f,
            Filtered::Failed => return (client, res),
        };
        if attempt == 0 {
            let mut unknown = Vec::new();
            for (w, e) in existence(ctx, client, &names).await {
                match e {
                    Existence::Exists => known.push(w),
                    Existence::Unknown => unknown.push(w),
                    missing => res.streams.extend(missing.entry(w)),
                }
            }
            if known.is_empty() && unknown.is_empty() {
                // Every stream is accounted for as missing.
                return (client, res);
            }
            if known.len() + unknown.len() < names.len() {
                names = known.iter().chain(&unknown).copied().collect();
            } else if !known.is_empty() && !unknown.is_empty() {
                // The missing stream is one that could not be checked.
                names = known.clone();
            } else {
                // The same batch would be rejected again.
                ctx.record(Op::LogsFilterLogEvents, &rejected, None);
                return (client, res);
            }
        } else if names.len() > known.len() && !known.is_empty() {
            // A stream that could not be checked is missing: read those known to exist.
            names = known.clone();
        } else {
            // Rejected although the streams left exist (or none is known to): the
            // report must say that logs are missing.
            ctx.record(Op::LogsFilterLogEvents, &rejected, None);
            return (client, res);
        }
    }
    (client, res)
}

/// A read stream's lines: those matched anywhere in the window, folded, and the tail's
/// other lines, for context.
pub(in crate::collect) fn emit(
    out: &mut Vec<LogLine>,
    w: &Wanted,
    tail: Option<&VecDeque<(i64, String)>>,
    matched: Option<&BTreeMap<String, Fold>>,
) {
    let line = |first: i64, last: i64, count: u64, msg: &str| LogLine {
        group: Some(w.group.clone()),
        stream: Some(w.stream.clone()),
        timestamp: DateTime::from_timestamp_millis(first),
        message: msg.to_string(),
        task_id: Some(w.task_id.clone()),
        container: Some(w.container.clone()),
        line: None,
        count,
        last_timestamp: (last > first)
            .then(|| DateTime::from_timestamp_millis(last))
            .flatten(),
    };
    for (msg, f) in matched.into_iter().flatten() {
        out.push(line(f.first, f.last, f.count, msg));
    }
    for (ts, msg) in tail.into_iter().flatten() {
        if !matched.is_some_and(|m| m.contains_key(msg)) {
            out.push(line(*ts, *ts, 1, msg));
        }
    }
}

pub(in crate::collect) enum Filtered {
    Read(Read),
    /// ResourceNotFoundException: a named stream, or the group, does not exist.
    NotFound(Failure),
    Failed,
}

/// First and last time (ms) and count of one distinct line.
#[derive(Debug, Clone, Copy)]
pub(in crate::collect) struct Fold {
    first: i64,
    last: i64,
    count: u64,
}

/// Lines a rule's log pattern matches, per stream, folded by text: at most
/// [`MAX_MATCHED`] distinct lines (repeats of kept lines are still counted).
#[derive(Default)]
pub(in crate::collect) struct Matches {
    pub by_stream: HashMap<String, BTreeMap<String, Fold>>,
    pub distinct: usize,
}

impl Matches {
    pub fn add(&mut self, stream: &str, ts: i64, msg: &str) {
        let m = self.by_stream.entry(stream.to_string()).or_default();
        if let Some(f) = m.get_mut(msg) {
            f.first = f.first.min(ts);
            f.last = f.last.max(ts);
            f.count += 1;
        } else if self.distinct < MAX_MATCHED {
            self.distinct += 1;
            m.insert(
                msg.to_string(),
                Fold {
                    first: ts,
                    last: ts,
                    count: 1,
                },
            );
        }
    }
}

/// What one FilterLogEvents pass over a batch of streams gave.
#[derive(Default)]
pub(in crate::collect) struct Read {
    /// Stream name → its last lines (timestamp in ms, message).
    pub tails: HashMap<String, VecDeque<(i64, String)>>,
    /// Lines a rule's log pattern matches, anywhere in the window.
    pub matched: Matches,
    pub events: u64,
    pub complete: bool,
    pub last_ms: Option<i64>,
}

impl Read {
    pub(super) fn add(&mut self, stream: &str, ts: i64, msg: String, how: &How<'_>) {
        self.events += 1;
        self.last_ms = Some(self.last_ms.map_or(ts, |l| l.max(ts)));
        if how.window.is_some_and(|pre| pre.matches(&msg)) {
            self.matched.add(stream, ts, &msg);
        }
        let q = self.tails.entry(stream.to_string()).or_default();
        q.push_back((ts, msg));
        if q.len() > how.tail {
            q.pop_front();
        }
    }

    fn summary(&self, group: &str, how: &How<'_>, streams: usize) -> LogRead {
        LogRead {
            group: group.to_string(),
            mode: if how.window.is_some() {
                "window"
            } else {
                "tail"
            }
            .into(),
            streams,
            events: self.events,
            matched: self.matched.distinct,
            complete: self.complete,
            read_until: (!self.complete)
                .then(|| self.last_ms.and_then(DateTime::from_timestamp_millis))
                .flatten(),
            ..LogRead::default()
        }
    }
}
