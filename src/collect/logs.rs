//! CloudWatch Logs: from each container's `awslogs` options (group, stream prefix,
//! region) derive the stream names of the tasks in scope (`prefix/container/task-id`),
//! read them with FilterLogEvents (up to 100 stream names per call, from the window's
//! start, paginated) keeping a bounded tail per stream, and record which streams do not
//! exist: a stopped task without a stream died before it could log. In window mode every
//! line of the window is also tested against the rule pack's log patterns (the same
//! prefilter `scan` uses), and the lines that match are kept wherever they are, folded
//! per stream with their count and first and last time: a failure that came early in a
//! busy stream is not lost behind the last lines.
//!
//! The calls themselves (FilterLogEvents, DescribeLogStreams) stay here, where the
//! registry test in [`super::ops`] checks them; what a batch read makes of their answers
//! is in `batch`, the order and budget of the existence checks in `existence`, and the
//! server-side searches in `super::logsearch`.

mod batch;
mod existence;

pub(super) use batch::{emit, Filtered, Matches};
pub(super) use existence::{existence, Existence};

use super::ctx::Ctx;
use super::ops::Op;
use super::{logsearch, logstreams};
use crate::scan::Prefilter;
use crate::snapshot::{LogLine, LogRead, LogStream, Task, TaskDefinition};
use aws_sdk_cloudwatchlogs::Client;
use batch::{read_chunk, Read};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// Pages of FilterLogEvents read per batch of streams at most (bounds time and memory
/// on very chatty streams; the tail kept is from the pages read).
const MAX_PAGES: usize = 20;
/// Pages read per batch of streams in window mode (a page holds up to 10,000 lines).
pub(super) const MAX_WINDOW_PAGES: usize = 100;
/// Pages `auto` reads before it leaves the window to the server instead (about 20 MB
/// or 200,000 lines: a few seconds to fetch, and no query to pay for).
const AUTO_READ_PAGES: usize = 20;
/// Distinct matched lines kept per batch of streams in window mode.
const MAX_MATCHED: usize = 5_000;
/// Streams without events whose existence is checked one by one, at most.
const MAX_EXISTENCE_CHECKS: usize = 60;
/// Stream names per FilterLogEvents call (the API maximum).
const STREAMS_PER_CALL: usize = 100;

/// How logs are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The last lines of each stream only.
    #[default]
    Tail,
    /// Every line of the window fetched and tested here, plus the tail.
    Window,
    /// The window searched with FilterLogEvents filter patterns built from the rules'
    /// literals, plus the tail of each stream (GetLogEvents).
    Filter,
    /// The window searched with Logs Insights queries built from the same literals, plus
    /// the tail of each stream.
    Insights,
    /// The window read in full while it is small (up to [`AUTO_READ_PAGES`] pages per
    /// batch of streams); past that, Insights; where it is denied or fails, filter
    /// patterns; then the window read in full after all.
    Auto,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Tail => "tail",
            Mode::Window => "window",
            Mode::Filter => "filter",
            Mode::Insights => "insights",
            Mode::Auto => "auto",
        }
    }

    /// Whether the window is searched on the server.
    fn server(self) -> bool {
        matches!(self, Mode::Filter | Mode::Insights | Mode::Auto)
    }
}

/// One stream to read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Wanted {
    pub region: Option<String>,
    pub group: String,
    pub stream: String,
    pub task_id: String,
    pub container: String,
}

/// Streams to read for the tasks, and notes for containers whose logs are not in
/// CloudWatch.
pub fn plan(tasks: &[Task], tds: &[TaskDefinition]) -> (Vec<Wanted>, Vec<LogStream>) {
    let by_key: HashMap<String, &TaskDefinition> = tds.iter().map(|t| (t.key(), t)).collect();
    let mut wanted = Vec::new();
    let mut notes = Vec::new();
    for t in tasks {
        let Some(td) = by_key.get(&t.task_definition) else {
            continue;
        };
        for c in &td.containers {
            match &c.log_configuration {
                Some(l) if l.log_driver == "awslogs" => {
                    let (Some(group), Some(prefix)) = (
                        l.options.get("awslogs-group"),
                        l.options.get("awslogs-stream-prefix"),
                    ) else {
                        // Without a prefix the stream is named after the Docker container
                        // id, which ECS does not report: nothing to look up.
                        continue;
                    };
                    wanted.push(Wanted {
                        region: l.options.get("awslogs-region").cloned(),
                        group: group.clone(),
                        stream: format!("{prefix}/{}/{}", c.name, t.id),
                        task_id: t.id.clone(),
                        container: c.name.clone(),
                    });
                }
                Some(l) => notes.push(LogStream {
                    group: format!("({})", l.log_driver),
                    stream: format!("{}/{}", c.name, t.id),
                    task_id: Some(t.id.clone()),
                    container: Some(c.name.clone()),
                    exists: false,
                    note: Some(format!(
                        "logs not in CloudWatch (log driver {})",
                        l.log_driver
                    )),
                }),
                None => {}
            }
        }
    }
    wanted.sort();
    wanted.dedup();
    (wanted, notes)
}

/// What was read.
#[derive(Default)]
pub struct Collected {
    pub lines: Vec<LogLine>,
    pub streams: Vec<LogStream>,
    pub reads: Vec<LogRead>,
}

/// Reads the wanted streams. `client_for` gives the Logs client for a region (`None`: the
/// default region).
/// `pre` tests lines in every mode but tail (which ignores it); without it, every mode
/// reads the tail only.
pub async fn collect<'a, F>(
    ctx: &Ctx,
    client_for: F,
    wanted: &[Wanted],
    since: DateTime<Utc>,
    tail: usize,
    reading: (Mode, Option<&Prefilter>),
) -> Collected
where
    F: Fn(Option<&str>) -> &'a Client,
{
    let (mode, pre) = match reading {
        (Mode::Tail, _) | (_, None) => (Mode::Tail, None),
        (m, Some(p)) => (m, Some(p)),
    };
    // The window is searched in the streams of earlier tasks too.
    let mut all = wanted.to_vec();
    if mode != Mode::Tail {
        let since_ms = since.timestamp_millis();
        all.extend(logstreams::earlier(ctx, &client_for, wanted, since_ms).await);
    }
    let jobs = batches(&client_for, &all);
    let terms = pre.filter(|_| mode.server()).map(Prefilter::server_terms);
    let how = How {
        start_ms: since.timestamp_millis(),
        tail,
        window: pre,
        mode,
        terms: terms.as_ref(),
        pages: match mode {
            Mode::Tail => MAX_PAGES,
            Mode::Auto => AUTO_READ_PAGES,
            _ => MAX_WINDOW_PAGES,
        },
    };
    let how = &how;
    let results = ctx
        .each(jobs, |(client, group, chunk)| {
            read_batch(ctx, client, group, chunk, how)
        })
        .await;
    let (mut out, silent) = merge(results);
    // A stream with no events in the window may still exist (a quiet running task) or
    // may never have been created (a task that died first): ask, for a bounded number.
    let checks = silent.into_iter().take(MAX_EXISTENCE_CHECKS);
    let checked = ctx
        .each(checks, |(client, w)| async move {
            let exists = stream_exists(ctx, client, &w).await;
            (w, exists)
        })
        .await;
    out.streams
        .extend(checked.into_iter().filter_map(|(w, e)| e.entry(&w)));
    out.lines.sort_by(|a, b| {
        (&a.group, &a.stream, a.timestamp).cmp(&(&b.group, &b.stream, b.timestamp))
    });
    out.streams
        .sort_by(|a, b| (&a.group, &a.stream).cmp(&(&b.group, &b.stream)));
    out
}

/// The streams by region and group, in batches of [`STREAMS_PER_CALL`], each with the
/// Logs client of its region.
fn batches<'a, 'w, F>(
    client_for: &F,
    all: &'w [Wanted],
) -> Vec<(&'a Client, String, Vec<&'w Wanted>)>
where
    F: Fn(Option<&str>) -> &'a Client,
{
    let mut groups: BTreeMap<(Option<String>, String), Vec<&Wanted>> = BTreeMap::new();
    for w in all {
        groups
            .entry((w.region.clone(), w.group.clone()))
            .or_default()
            .push(w);
    }
    let mut jobs = Vec::new();
    for ((region, group), ws) in &groups {
        for chunk in ws.chunks(STREAMS_PER_CALL) {
            jobs.push((client_for(region.as_deref()), group.clone(), chunk.to_vec()));
        }
    }
    jobs
}

/// Reads one batch of streams as `how.mode` says.
async fn read_batch<'c>(
    ctx: &Ctx,
    client: &'c Client,
    group: String,
    chunk: Vec<&Wanted>,
    how: &How<'_>,
) -> (&'c Client, ChunkResult) {
    if how.mode == Mode::Auto {
        let (client, first) = read_chunk(ctx, client, &group, &chunk, how).await;
        if first.read.as_ref().is_none_or(|r| r.complete) {
            return (client, first);
        }
        // More than a small window: searched on the server instead. The lines
        // read first still count as fetched.
        let skimmed = first.read.map_or(0, |r| r.events);
        let mut found = logsearch::read(ctx, client, &group, &chunk, how).await;
        if let Some(r) = found.read.as_mut() {
            r.events += skimmed;
        }
        return (client, found);
    }
    if how.mode.server() {
        (
            client,
            logsearch::read(ctx, client, &group, &chunk, how).await,
        )
    } else {
        read_chunk(ctx, client, &group, &chunk, how).await
    }
}

/// The batches' lines, streams and reads (one per group), and the streams that had no
/// events in the window, each with the client to ask about it.
fn merge(results: Vec<(&Client, ChunkResult)>) -> (Collected, Vec<(&Client, Wanted)>) {
    let mut out = Collected::default();
    let mut silent: Vec<(&Client, Wanted)> = Vec::new();
    let mut reads: BTreeMap<String, LogRead> = BTreeMap::new();
    for (client, r) in results {
        out.lines.extend(r.lines);
        out.streams.extend(r.streams);
        if let Some(s) = r.read {
            add_read(&mut reads, s);
        }
        silent.extend(r.silent.into_iter().map(|w| (client, w)));
    }
    out.reads = reads.into_values().collect();
    (out, silent)
}

/// A batch's read added to its group's.
fn add_read(reads: &mut BTreeMap<String, LogRead>, s: LogRead) {
    let e = reads.entry(s.group.clone()).or_insert_with(|| LogRead {
        group: s.group.clone(),
        mode: s.mode.clone(),
        complete: true,
        ..LogRead::default()
    });
    e.streams += s.streams;
    e.events += s.events;
    e.matched += s.matched;
    e.complete &= s.complete;
    e.scanned = add_opt(e.scanned, s.scanned);
    e.bytes_scanned = add_opt(e.bytes_scanned, s.bytes_scanned);
    e.fallback = e.fallback.take().or(s.fallback);
    e.uncovered = e.uncovered.max(s.uncovered);
    e.read_until = match (e.read_until, s.read_until) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
}

/// Sum of two optional counts (`None` only when both are).
fn add_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

/// How streams are read: from when, how many last lines, the window's line test, the
/// mode, the terms a server-side search looks for, and the pages a read of the window
/// takes at most.
#[derive(Clone, Copy)]
pub(super) struct How<'p> {
    pub start_ms: i64,
    pub tail: usize,
    pub window: Option<&'p Prefilter>,
    pub mode: Mode,
    pub terms: Option<&'p crate::scan::ServerTerms>,
    pub pages: usize,
}

#[derive(Default)]
pub(super) struct ChunkResult {
    pub lines: Vec<LogLine>,
    pub streams: Vec<LogStream>,
    pub silent: Vec<Wanted>,
    pub read: Option<LogRead>,
}

/// A stream as a [`LogStream`] entry.
pub(super) fn stream_entry(w: &Wanted, exists: bool, note: Option<String>) -> LogStream {
    LogStream {
        group: w.group.clone(),
        stream: w.stream.clone(),
        task_id: Some(w.task_id.clone()),
        container: Some(w.container.clone()),
        exists,
        note,
    }
}

/// FilterLogEvents over the named streams of one group from the window's start, every
/// line through [`Read::add`].
pub(super) async fn filter(
    ctx: &Ctx,
    client: &Client,
    group: &str,
    names: &[&Wanted],
    how: &How<'_>,
) -> Filtered {
    let stream_names: Vec<String> = names.iter().map(|w| w.stream.clone()).collect();
    let mut read = Read::default();
    let mut token: Option<String> = None;
    for _page in 0..how.pages {
        let req = client
            .filter_log_events()
            .log_group_name(group)
            .set_log_stream_names(Some(stream_names.clone()))
            .start_time(how.start_ms)
            .set_next_token(token.clone());
        match ctx.call(Op::LogsFilterLogEvents, req.send()).await {
            Ok(o) => {
                for e in o.events() {
                    let Some(s) = e.log_stream_name() else {
                        continue;
                    };
                    let msg = e.message().unwrap_or_default().trim_end().to_string();
                    read.add(s, e.timestamp().unwrap_or_default(), msg, how);
                }
                token = o.next_token().map(String::from);
                if token.is_none() {
                    read.complete = true;
                    break;
                }
            }
            Err(f) if f.code == "ResourceNotFoundException" => return Filtered::NotFound(f),
            Err(f) => {
                ctx.record(Op::LogsFilterLogEvents, &f, None);
                if read.tails.is_empty() {
                    return Filtered::Failed;
                }
                break;
            }
        }
    }
    Filtered::Read(read)
}

/// Whether a stream exists (DescribeLogStreams with its name as the prefix).
async fn stream_exists(ctx: &Ctx, client: &Client, w: &Wanted) -> Existence {
    let req = client
        .describe_log_streams()
        .log_group_name(&w.group)
        .log_stream_name_prefix(&w.stream)
        .limit(5);
    match ctx.call(Op::LogsDescribeLogStreams, req.send()).await {
        Ok(o)
            if o.log_streams()
                .iter()
                .any(|s| s.log_stream_name() == Some(w.stream.as_str())) =>
        {
            Existence::Exists
        }
        Ok(_) => Existence::StreamMissing,
        Err(f) if f.code == "ResourceNotFoundException" => Existence::GroupMissing,
        Err(f) => {
            ctx.record(Op::LogsDescribeLogStreams, &f, None);
            Existence::Unknown
        }
    }
}
