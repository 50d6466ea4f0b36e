//! Logs Insights over a batch of streams: one query per chunk of streams and terms
//! (text from [`crate::collect::logquery`]), a few at a time, each continued past a full
//! answer while queries are left, and the answers merged in query order. The calls
//! (StartQuery, GetQueryResults) are made by [`super::run_query`], where the registry
//! test in [`crate::collect::ops`] checks them; this file is the fan-out, the
//! continuation and the merge around them.

use super::{run_query, Found, Search};
use crate::collect::ctx::{FailKind, Failure};
use crate::collect::logquery::{insights_queries, QUERY_ROWS};
use futures_util::stream::{self, StreamExt};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Queries per log group at most (chunks, and continuations past a full result).
const MAX_QUERIES: usize = 16;
/// Queries of one batch that run at once (the account's limit is 30 concurrent
/// queries, shared with everyone else's).
const CONCURRENT: usize = 4;

/// Logs Insights over the streams: one query per chunk of streams and terms, up to
/// [`CONCURRENT`] at a time, each continued from its last row's second when it came
/// back full. Answers are merged in query order, so the result does not depend on
/// which query finished first.
pub(super) async fn insights(q: &Search<'_>) -> Result<Found, Failure> {
    let Search {
        names, terms, pre, ..
    } = *q;
    let queries = insights_queries(terms, names, MAX_QUERIES).ok_or_else(|| Failure {
        code: "TooManyQueries".into(),
        message: format!(
            "{} terms, {} conjunctions and {} streams need more than {MAX_QUERIES} queries",
            terms.terms.len(),
            terms.all_of.len(),
            names.len()
        ),
        kind: FailKind::Other,
    })?;
    // Continuations share what is left after the first round of queries.
    let spare = AtomicUsize::new(MAX_QUERIES - queries.len());
    let answers: Vec<Result<Answer, Failure>> = stream::iter(&queries)
        .map(|text| answer(q, text, &spare))
        .buffered(CONCURRENT)
        .collect()
        .await;
    let wanted: HashSet<&str> = names.iter().copied().collect();
    let mut found = Found {
        complete: true,
        ..Found::default()
    };
    // A line whose text holds terms of two chunks comes back from both queries: it is
    // counted once, by its pointer.
    let mut seen: HashSet<String> = HashSet::new();
    for a in answers {
        let a = a?;
        if let Some((records, bytes)) = a.statistics {
            found.scanned = Some(found.scanned.unwrap_or(0) + records);
            found.bytes = Some(found.bytes.unwrap_or(0) + bytes);
        }
        if !a.complete {
            found.complete = false;
            found.read_until = match (found.read_until, a.read_until) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
        }
        for r in a.rows {
            if (!r.ptr.is_empty() && !seen.insert(r.ptr)) || !wanted.contains(r.stream.as_str()) {
                continue;
            }
            found.fetched += 1;
            if pre.matches(&r.message) {
                found.matched.add(&r.stream, r.ts, &r.message);
            }
        }
    }
    Ok(found)
}

/// One query's rows (continuations included, each row once), its statistics, and
/// whether it read to the end of the window.
struct Answer {
    rows: Vec<Row>,
    statistics: Option<(u64, u64)>,
    complete: bool,
    read_until: Option<i64>,
}

struct Row {
    ptr: String,
    stream: String,
    ts: i64,
    message: String,
}

/// Runs one query, continuing past full answers while `spare` queries are left.
async fn answer(q: &Search<'_>, text: &str, spare: &AtomicUsize) -> Result<Answer, Failure> {
    let end_s = chrono::Utc::now().timestamp() + 1;
    let mut from_s = q.how.start_ms.div_euclid(1000);
    let mut out = Answer {
        rows: Vec::new(),
        statistics: None,
        complete: true,
        read_until: None,
    };
    let mut mine: HashSet<String> = HashSet::new();
    let mut last: Option<i64> = None;
    loop {
        let res = run_query(q.ctx, q.client, q.group, text, from_s, end_s).await?;
        if let Some(st) = res.statistics() {
            let (r, b) = out.statistics.unwrap_or((0, 0));
            out.statistics = Some((
                r + st.records_scanned() as u64,
                b + st.bytes_scanned() as u64,
            ));
        }
        let mut moved = false;
        for row in res.results() {
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
            out.rows.push(Row {
                ptr: ptr.to_string(),
                stream: stream.to_string(),
                ts,
                message: field("@message").unwrap_or_default().trim_end().to_string(),
            });
        }
        if res.results().len() < QUERY_ROWS {
            return Ok(out);
        }
        // A full answer: continue from its last second (rows seen are skipped by their
        // pointer), while queries are left and time moves on.
        let next = last.map_or(from_s, |ms| ms.div_euclid(1000));
        let took = spare
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if !took || !moved || next <= from_s {
            out.complete = false;
            out.read_until = last;
            return Ok(out);
        }
        from_s = next;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insights_times_in_both_forms() {
        assert_eq!(insights_time("1700000000123"), Some(1_700_000_000_123));
        assert_eq!(
            insights_time("2023-11-14 22:13:20.123"),
            Some(1_700_000_000_123)
        );
        assert_eq!(insights_time("yesterday"), None);
    }
}
