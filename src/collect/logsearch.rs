//! Server-side log search: the window of a log group searched where the lines live, so
//! that only candidate lines travel. The candidates are the lines holding one of the
//! rule pack's literals ([`crate::scan::ServerTerms`]); the rules then test them here as
//! in every other mode. Logs Insights (`StartQuery`/`GetQueryResults`) runs one query
//! per chunk of streams and terms, case-insensitive; where it is denied or fails, filter
//! patterns (`FilterLogEvents`, case-sensitive, so each term is sent in three
//! spellings); then the window read in full. The tail of each stream (GetLogEvents) is
//! kept besides, for context and for the patterns no term covers, and its answer also
//! says which streams exist. Every path is bounded: queries, passes, pages, rows, time.

use super::ctx::{Ctx, FailKind, Failure};
use super::logs::{self, ChunkResult, Existence, Filtered, How, Matches, Mode, Wanted};
use super::ops::Op;
use crate::scan::ServerTerms;
use crate::snapshot::LogRead;
use aws_sdk_cloudwatchlogs::types::QueryStatus;
use aws_sdk_cloudwatchlogs::Client;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

/// Rows one Insights query returns at most (the service's maximum).
const QUERY_ROWS: usize = 10_000;
/// Longest query string Insights accepts.
const QUERY_MAX: usize = 10_000;
/// Part of a query given to the terms' regex, and to the stream list.
const REGEX_MAX: usize = 6_000;
const STREAMS_MAX: usize = 3_000;
/// Queries per log group at most (chunks, and continuations past a full result).
const MAX_QUERIES: usize = 16;
/// How long one query may run before it is given up.
const QUERY_WAIT: Duration = Duration::from_secs(120);
/// Longest filter pattern FilterLogEvents accepts.
const PATTERN_MAX: usize = 1024;
/// Filter patterns (passes over the window) per batch of streams at most (the pack's
/// terms, in three spellings, take about 40).
const MAX_PASSES: usize = 64;
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
    match logs::filter(ctx, client, group, existing, how).await {
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

/// Logs Insights over the streams: one query per chunk of streams and terms, each
/// continued from its last row's second when it came back full.
async fn insights(q: &Search<'_>) -> Result<Found, Failure> {
    let Search {
        ctx,
        client,
        group,
        names,
        how,
        terms,
        pre,
    } = *q;
    let queries = insights_queries(&terms.terms, names).ok_or_else(|| Failure {
        code: "TooManyQueries".into(),
        message: format!(
            "{} terms and {} streams need more than {MAX_QUERIES} queries",
            terms.terms.len(),
            names.len()
        ),
        kind: FailKind::Other,
    })?;
    let wanted: HashSet<&str> = names.iter().copied().collect();
    let end_s = chrono::Utc::now().timestamp() + 1;
    let mut found = Found {
        complete: true,
        ..Found::default()
    };
    let mut budget = MAX_QUERIES;
    // A line whose text holds terms of two chunks comes back from both queries: it is
    // counted once, by its pointer.
    let mut seen: HashSet<String> = HashSet::new();
    for q in &queries {
        let mut from_s = how.start_ms.div_euclid(1000);
        let mut mine: HashSet<String> = HashSet::new();
        let mut last: Option<i64> = None;
        loop {
            let mut moved = false;
            budget = budget.saturating_sub(1);
            let out = run_query(ctx, client, group, q, from_s, end_s).await?;
            if let Some(st) = out.statistics() {
                found.scanned = Some(found.scanned.unwrap_or(0) + st.records_scanned() as u64);
                found.bytes = Some(found.bytes.unwrap_or(0) + st.bytes_scanned() as u64);
            }
            let rows = out.results();
            for row in rows {
                let field = |k: &str| {
                    row.iter()
                        .find(|f| f.field() == Some(k))
                        .and_then(|f| f.value())
                };
                let ptr = field("@ptr").unwrap_or_default();
                if !ptr.is_empty() && !mine.insert(ptr.to_string()) {
                    // Already in this query's previous answer.
                    continue;
                }
                let (Some(stream), Some(ts)) = (field("@logStream"), field("@timestamp")) else {
                    continue;
                };
                let Some(ts) = insights_time(ts) else {
                    continue;
                };
                last = Some(last.map_or(ts, |l| l.max(ts)));
                moved = true;
                let counted = !ptr.is_empty() && !seen.insert(ptr.to_string());
                if counted || !wanted.contains(stream) {
                    continue;
                }
                found.fetched += 1;
                let msg = field("@message").unwrap_or_default().trim_end();
                if pre.matches(msg) {
                    found.matched.add(stream, ts, msg);
                }
            }
            if rows.len() < QUERY_ROWS {
                break;
            }
            // A full answer: continue from its last second (rows seen are skipped by
            // their pointer), while queries are left and time moves on.
            let next = last.map_or(from_s, |ms| ms.div_euclid(1000));
            if budget == 0 || !moved || next <= from_s {
                found.complete = false;
                found.read_until = last;
                break;
            }
            from_s = next;
        }
    }
    Ok(found)
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

/// An Insights `@timestamp` in ms: `2026-12-02 19:21:16.123` (UTC), or epoch ms.
fn insights_time(v: &str) -> Option<i64> {
    if let Ok(ms) = v.parse::<i64>() {
        return Some(ms);
    }
    chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

/// The queries that cover every term on every stream, each within [`QUERY_MAX`];
/// `None` when more than [`MAX_QUERIES`] would be needed.
fn insights_queries(terms: &[String], streams: &[&str]) -> Option<Vec<String>> {
    let quoted: Vec<String> = streams.iter().map(|s| json_string(s)).collect();
    let stream_chunks = chunk(&quoted, STREAMS_MAX, 2);
    let escaped: Vec<String> = terms.iter().map(|t| regex_escape(t)).collect();
    let term_chunks = chunk(&escaped, REGEX_MAX, 1);
    if stream_chunks.len() * term_chunks.len() > MAX_QUERIES {
        return None;
    }
    let mut out = Vec::new();
    for s in &stream_chunks {
        for t in &term_chunks {
            let q = format!(
                "fields @timestamp, @logStream, @message\n| filter @logStream in [{}]\n| filter @message like /(?i)({})/\n| sort @timestamp asc\n| limit {QUERY_ROWS}",
                s.join(", "),
                t.join("|")
            );
            if q.len() > QUERY_MAX {
                return None;
            }
            out.push(q);
        }
    }
    Some(out)
}

/// Items grouped so that each group's length (with `sep` between items) stays within
/// `max`; an item longer than `max` is a group of its own.
fn chunk(items: &[String], max: usize, sep: usize) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut len = 0;
    for it in items {
        match out.last_mut() {
            Some(cur) if len + sep + it.len() <= max => {
                len += sep + it.len();
                cur.push(it.clone());
            }
            _ => {
                len = it.len();
                out.push(vec![it.clone()]);
            }
        }
    }
    out
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// A term as an Insights regex literal: regex metacharacters and the `/` delimiter
/// escaped, and white space as `\s` (any white space: a superset, and a query whose
/// regex holds no blank cannot be misread by a tokenizer that splits on blanks).
fn regex_escape(t: &str) -> String {
    let mut out = String::new();
    for c in regex::escape(t).chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_whitespace() => out.push_str("\\s"),
            c => out.push(c),
        }
    }
    out
}

/// FilterLogEvents with filter patterns: each pattern an OR of quoted terms, in the
/// spellings logs use (filter patterns are case-sensitive), passes deduplicated by
/// event id.
async fn patterns(q: &Search<'_>) -> Result<Found, Failure> {
    let Search {
        ctx,
        client,
        group,
        names,
        how,
        terms,
        pre,
    } = *q;
    let pats = filter_patterns(&terms.terms);
    let batches: Vec<&[&str]> = names.chunks(STREAMS_PER_CALL).collect();
    if pats.len() * batches.len() > MAX_PASSES {
        return Err(Failure {
            code: "TooManyPatterns".into(),
            message: format!(
                "{} filter patterns over {} batches of streams exceed {MAX_PASSES} passes",
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
            let mut token: Option<String> = None;
            let mut pages = 0;
            loop {
                let req = client
                    .filter_log_events()
                    .log_group_name(group)
                    .set_log_stream_names(Some(streams.clone()))
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
                    break;
                }
                if pages == MAX_PAGES {
                    found.complete = false;
                    break;
                }
            }
        }
    }
    Ok(found)
}

/// Filter patterns (`?"a" ?"A" …`) within [`PATTERN_MAX`] that together hold every term
/// in its lower-case, capitalised and upper-case spellings. A double quote cannot be
/// sent inside a term, so a term keeps its longest run without one.
fn filter_patterns(terms: &[String]) -> Vec<String> {
    let mut spelled: Vec<String> = Vec::new();
    for t in terms {
        let Some(t) = t.split('"').max_by_key(|p| p.len()).map(str::trim) else {
            continue;
        };
        if t.len() < 3 {
            continue;
        }
        let mut cap = t.to_string();
        if let Some(f) = cap.get_mut(0..1) {
            f.make_ascii_uppercase();
        }
        for v in [t.to_string(), cap, t.to_ascii_uppercase()] {
            let v = format!("?\"{}\"", v.replace('\\', "\\\\"));
            if !spelled.contains(&v) {
                spelled.push(v);
            }
        }
    }
    chunk(&spelled, PATTERN_MAX, 1)
        .into_iter()
        .map(|c| c.join(" "))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insights_queries_are_bounded_and_escaped() {
        let terms = vec!["econnrefused".to_string(), "a/b (x)".to_string()];
        let q = insights_queries(&terms, &["ecs/api/1", "ecs/api/2"]).unwrap();
        assert_eq!(
            q,
            vec!["fields @timestamp, @logStream, @message\n| filter @logStream in [\"ecs/api/1\", \"ecs/api/2\"]\n| filter @message like /(?i)(econnrefused|a\\/b\\s\\(x\\))/\n| sort @timestamp asc\n| limit 10000".to_string()]
        );
        // Many terms are split over queries, each within the limit.
        let many: Vec<String> = (0..2000).map(|i| format!("term number {i}")).collect();
        let q = insights_queries(&many, &["s"]).unwrap();
        assert!(
            q.len() > 1 && q.iter().all(|q| q.len() <= QUERY_MAX),
            "{}",
            q.len()
        );
        let all = q.join("\n");
        assert!(many.iter().all(|t| all.contains(&regex_escape(t))));
        // Too many to search: refused, so the caller falls back.
        let huge: Vec<String> = (0..20000).map(|i| format!("term number {i}")).collect();
        assert!(insights_queries(&huge, &["s"]).is_none());
    }

    #[test]
    fn filter_patterns_spell_each_term_three_ways_within_the_limit() {
        let p = filter_patterns(&["connection refused".into(), "say \"hi\" now".into()]);
        assert_eq!(
            p,
            vec![
                "?\"connection refused\" ?\"Connection refused\" ?\"CONNECTION REFUSED\" ?\"now\" ?\"Now\" ?\"NOW\""
            ]
        );
        let many: Vec<String> = (0..300).map(|i| format!("term {i:04}")).collect();
        let p = filter_patterns(&many);
        assert!(p.len() > 1 && p.iter().all(|p| p.len() <= PATTERN_MAX));
    }

    #[test]
    fn insights_times_in_both_forms() {
        assert_eq!(insights_time("1700000000123"), Some(1_700_000_000_123));
        assert_eq!(
            insights_time("2023-11-14 22:13:20.123"),
            Some(1_700_000_000_123)
        );
        assert_eq!(insights_time("yesterday"), None);
    }

    #[test]
    fn chunks_respect_the_limit() {
        let items: Vec<String> = ["aaaa", "bb", "cccccc", "d"].map(String::from).to_vec();
        assert_eq!(
            chunk(&items, 8, 1),
            vec![vec!["aaaa", "bb"], vec!["cccccc", "d"]]
        );
    }
}
