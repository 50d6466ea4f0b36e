//! Server-side log search: the window of a log group searched where the lines live, so
//! that only candidate lines travel. The candidates are the lines holding one of the
//! rule pack's literals ([`crate::scan::ServerTerms`]); the rules then test them here as
//! in every other mode. Logs Insights (`StartQuery`/`GetQueryResults`) runs one query
//! per chunk of streams and terms (text from [`super::logquery`]), case-insensitive,
//! four at a time; where it is denied or fails, filter patterns (`FilterLogEvents`,
//! case-sensitive, so each term is sent in three spellings); then the window read in
//! full. The tail of each stream (GetLogEvents) is
//! kept besides, for context and for the patterns no term covers, and its answer also
//! says which streams exist. Every path is bounded: queries, passes, pages, rows, time.
//!
//! How the Insights queries fan out, continue and merge is in [`mod@insights`]; every
//! call stays here, where the registry test in [`super::ops`] checks that it goes
//! through [`Ctx`].

mod insights;

use super::ctx::{Ctx, FailKind, Failure};
use super::logquery::filter_patterns;
use super::logs::{self, ChunkResult, Existence, Filtered, How, Matches, Mode, Wanted};
use super::ops::Op;
use crate::scan::ServerTerms;
use crate::snapshot::LogRead;
use aws_sdk_cloudwatchlogs::types::QueryStatus;
use aws_sdk_cloudwatchlogs::Client;
use insights::insights;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

/// How long one query may run before it is given up.
const QUERY_WAIT: Duration = Duration::from_secs(120);
/// Filter patterns (passes over the window) per batch of streams at most (the built-in
/// pack's terms, in three spellings, take about 56).
const MAX_PASSES: usize = 64;
/// Passes `auto` accepts before it reads the window once instead: each pass makes the
/// service scan the whole window again, and the benchmark (README) shows that past a
/// few passes one full read is faster. A small custom pack still gets filtered.
const AUTO_PASSES: usize = 6;
/// Pages per pass.
const MAX_PAGES: usize = 100;
/// Stream names per FilterLogEvents call.
const STREAMS_PER_CALL: usize = 100;

/// One server-side search of a batch of streams: where, how, and for what.
#[derive(Clone, Copy)]
struct Search<'a> {
    ctx: &'a Ctx,
    client: &'a Client,
    group: &'a str,
    names: &'a [&'a str],
    how: &'a How<'a>,
    terms: &'a ServerTerms,
    pre: &'a crate::scan::Prefilter,
}

/// What a search found: the matched lines, and how much it read.
#[derive(Default)]
struct Found {
    matched: Matches,
    fetched: u64,
    scanned: Option<u64>,
    bytes: Option<u64>,
    complete: bool,
    read_until: Option<i64>,
}

/// Reads one batch of streams of a group: the tail of each, then the window searched
/// on the server (per `how.mode`, falling back as [`Mode::Auto`] says).
pub(super) async fn read(
    ctx: &Ctx,
    client: &Client,
    group: &str,
    chunk: &[&Wanted],
    how: &How<'_>,
) -> ChunkResult {
    let mut res = ChunkResult::default();
    let (tails, existing) = tails(ctx, client, chunk, how, &mut res).await;
    if existing.is_empty() {
        return res;
    }
    let names: Vec<&str> = existing.iter().map(|w| w.stream.as_str()).collect();
    let (found, mode, fallback) = search(ctx, client, group, &existing, &names, how).await;
    let tail_lines: u64 = tails.values().map(|t| t.len() as u64).sum();
    for w in &existing {
        let matched = found
            .as_ref()
            .and_then(|f| f.matched.by_stream.get(&w.stream));
        logs::emit(&mut res.lines, w, tails.get(&w.stream), matched);
    }
    let uncovered = how.terms.map_or(0, |t| t.uncovered);
    res.read = Some(match found {
        Some(f) => LogRead {
            group: group.to_string(),
            mode: mode.into(),
            streams: existing.len(),
            events: f.fetched + tail_lines,
            matched: f.matched.distinct,
            complete: f.complete,
            read_until: f
                .read_until
                .and_then(chrono::DateTime::from_timestamp_millis),
            scanned: f.scanned,
            bytes_scanned: f.bytes,
            fallback,
            uncovered,
        },
        // Nothing searched the window (recorded as a collection error): the tail only.
        None => LogRead {
            group: group.to_string(),
            mode: "tail".into(),
            streams: existing.len(),
            events: tail_lines,
            complete: true,
            fallback,
            ..LogRead::default()
        },
    });
    res
}

/// The window searched per `how.mode`: what was found, the way that found it, and why
/// the preferred ways were not used.
async fn search(
    ctx: &Ctx,
    client: &Client,
    group: &str,
    existing: &[&Wanted],
    names: &[&str],
    how: &How<'_>,
) -> (Option<Found>, &'static str, Option<String>) {
    let (Some(terms), Some(pre)) = (how.terms, how.window) else {
        return (None, "tail", None);
    };
    let q = Search {
        ctx,
        client,
        group,
        names,
        how,
        terms,
        pre,
    };
    let mut why: Vec<String> = Vec::new();
    if matches!(how.mode, Mode::Insights | Mode::Auto) {
        match insights(&q).await {
            Ok(f) => return (Some(f), "insights", None),
            Err(f) if how.mode == Mode::Auto => why.push(failed(Op::LogsStartQuery, &f)),
            Err(f) => {
                ctx.record(Op::LogsStartQuery, &f, None);
                return (None, "tail", None);
            }
        }
    }
    match patterns(&q).await {
        Ok(f) => return (Some(f), "filter", join(why)),
        Err(f) if how.mode == Mode::Auto => why.push(failed(Op::LogsFilterLogEvents, &f)),
        Err(f) => {
            ctx.record(Op::LogsFilterLogEvents, &f, None);
            return (None, "tail", None);
        }
    }
    // Last resort: every line of the window, tested here.
    let full = How {
        pages: logs::MAX_WINDOW_PAGES,
        ..*how
    };
    match logs::filter(ctx, client, group, existing, &full).await {
        Filtered::Read(r) => {
            let f = Found {
                fetched: r.events,
                complete: r.complete,
                read_until: (!r.complete).then_some(r.last_ms).flatten(),
                matched: r.matched,
                ..Found::default()
            };
            (Some(f), "window", join(why))
        }
        Filtered::NotFound(f) => {
            ctx.record(Op::LogsFilterLogEvents, &f, None);
            (None, "tail", join(why))
        }
        Filtered::Failed => (None, "tail", join(why)),
    }
}

fn failed(op: Op, f: &Failure) -> String {
    format!("{} failed ({}: {})", op.action(), f.code, f.message)
}

fn join(why: Vec<String>) -> Option<String> {
    (!why.is_empty()).then(|| why.join("; "))
}

/// The last `how.tail` lines of each stream in the window (GetLogEvents from the end),
/// and the streams that exist. A stream the service does not know is checked as the
/// window mode checks it, and recorded as missing.
async fn tails<'w>(
    ctx: &Ctx,
    client: &Client,
    chunk: &[&'w Wanted],
    how: &How<'_>,
    res: &mut ChunkResult,
) -> (HashMap<String, VecDeque<(i64, String)>>, Vec<&'w Wanted>) {
    let limit = how.tail.clamp(1, 10_000) as i32;
    let got = ctx
        .each(chunk.iter().copied(), |w| async move {
            let req = client
                .get_log_events()
                .log_group_name(&w.group)
                .log_stream_name(&w.stream)
                .start_time(how.start_ms)
                .start_from_head(false)
                .limit(limit);
            (w, ctx.call(Op::LogsGetLogEvents, req.send()).await)
        })
        .await;
    let mut out = HashMap::new();
    let mut existing = Vec::new();
    let mut unknown = Vec::new();
    for (w, r) in got {
        match r {
            Ok(o) => {
                let mut lines: VecDeque<(i64, String)> = o
                    .events()
                    .iter()
                    .map(|e| {
                        let msg = e.message().unwrap_or_default().trim_end().to_string();
                        (e.timestamp().unwrap_or_default(), msg)
                    })
                    .collect();
                lines.make_contiguous().sort_by_key(|(ts, _)| *ts);
                if how.tail == 0 {
                    lines.clear();
                }
                res.streams.push(logs::stream_entry(w, true, None));
                out.insert(w.stream.clone(), lines);
                existing.push(w);
            }
            Err(f) if f.code == "ResourceNotFoundException" => unknown.push(w),
            Err(f) => ctx.record(Op::LogsGetLogEvents, &f, None),
        }
    }
    for (w, e) in logs::existence(ctx, client, &unknown).await {
        match e {
            // Created since: read it like the others.
            Existence::Exists => existing.push(w),
            missing => res.streams.extend(missing.entry(w)),
        }
    }
    (out, existing)
}

/// Starts a query and waits for its answer (GetQueryResults, backing off), within
/// [`QUERY_WAIT`] and the overall deadline.
async fn run_query(
    ctx: &Ctx,
    client: &Client,
    group: &str,
    query: &str,
    from_s: i64,
    end_s: i64,
) -> Result<aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput, Failure> {
    let req = client
        .start_query()
        .log_group_name(group)
        .start_time(from_s)
        .end_time(end_s)
        .query_string(query);
    let started = ctx.call(Op::LogsStartQuery, req.send()).await?;
    let id = started.query_id().unwrap_or_default().to_string();
    let began = std::time::Instant::now();
    let mut wait = Duration::from_millis(250);
    loop {
        let req = client.get_query_results().query_id(&id);
        let out = ctx.call(Op::LogsGetQueryResults, req.send()).await?;
        match out.status() {
            Some(QueryStatus::Complete) => return Ok(out),
            Some(QueryStatus::Running | QueryStatus::Scheduled) | None => {}
            Some(other) => {
                return Err(Failure {
                    code: format!("Query{}", other.as_str()),
                    message: format!("the Logs Insights query ended {}", other.as_str()),
                    kind: FailKind::Service,
                })
            }
        }
        if began.elapsed() + wait > QUERY_WAIT || ctx.time_left() < wait * 2 {
            return Err(Failure {
                code: "Timeout".into(),
                message: format!(
                    "the Logs Insights query did not finish within {}s",
                    began.elapsed().as_secs()
                ),
                kind: FailKind::Timeout,
            });
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}

/// FilterLogEvents with filter patterns: each pattern an OR of quoted terms, in the
/// spellings logs use (filter patterns are case-sensitive), passes deduplicated by
/// event id.
async fn patterns(q: &Search<'_>) -> Result<Found, Failure> {
    let Search {
        names, how, terms, ..
    } = *q;
    let pats = filter_patterns(terms);
    let batches: Vec<&[&str]> = names.chunks(STREAMS_PER_CALL).collect();
    let max = if how.mode == Mode::Auto {
        AUTO_PASSES
    } else {
        MAX_PASSES
    };
    if pats.len() * batches.len() > max {
        return Err(Failure {
            code: "TooManyPatterns".into(),
            message: format!(
                "{} filter patterns over {} batches of streams exceed {max} passes",
                pats.len(),
                batches.len()
            ),
            kind: FailKind::Other,
        });
    }
    let mut found = Found {
        complete: true,
        ..Found::default()
    };
    let mut seen: HashSet<String> = HashSet::new();
    for batch in batches {
        let streams: Vec<String> = batch.iter().map(|s| s.to_string()).collect();
        for pat in &pats {
            pass(q, &streams, pat, &mut seen, &mut found).await?;
        }
    }
    Ok(found)
}

/// One pass: a filter pattern over a batch of streams, page by page (at most
/// [`MAX_PAGES`]), each event once (`seen` holds the event ids of every pass).
async fn pass(
    q: &Search<'_>,
    streams: &[String],
    pat: &str,
    seen: &mut HashSet<String>,
    found: &mut Found,
) -> Result<(), Failure> {
    let Search {
        ctx,
        client,
        group,
        how,
        pre,
        ..
    } = *q;
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let req = client
            .filter_log_events()
            .log_group_name(group)
            .set_log_stream_names(Some(streams.to_vec()))
            .start_time(how.start_ms)
            .filter_pattern(pat)
            .set_next_token(token.clone());
        let o = ctx.call(Op::LogsFilterLogEvents, req.send()).await?;
        for e in o.events() {
            let id = e.event_id().unwrap_or_default();
            if !id.is_empty() && !seen.insert(id.to_string()) {
                continue;
            }
            let (Some(s), Some(ts)) = (e.log_stream_name(), e.timestamp()) else {
                continue;
            };
            found.fetched += 1;
            let msg = e.message().unwrap_or_default().trim_end();
            if pre.matches(msg) {
                found.matched.add(s, ts, msg);
            }
        }
        token = o.next_token().map(String::from);
        pages += 1;
        if token.is_none() {
            return Ok(());
        }
        if pages == MAX_PAGES {
            found.complete = false;
            return Ok(());
        }
    }
}
