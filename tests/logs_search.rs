//! Server-side log search against `aws-smithy-mocks` clients, for what the moto test
//! peer cannot produce: moto's Logs Insights ignores `filter` commands, never reports a
//! query as Running and returns no statistics (bytes and records scanned); its
//! FilterLogEvents treats an OR pattern (`?"a" ?"b"`) as "match everything"; and it
//! never denies StartQuery. These tests pin the query and pattern each mode sends, the
//! polling, the statistics, `auto`'s choice between reading the window and searching
//! it, the fallbacks from a denied Insights (named in the read's note, not a collection
//! error), and the bounds. End to end against moto:
//! `tests/live_moto.rs` (`window_finds_an_early_failure_that_the_tail_misses`).

use aws_sdk_cloudwatchlogs::operation::describe_log_streams::DescribeLogStreamsOutput;
use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsOutput;
use aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsOutput;
use aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_cloudwatchlogs::operation::start_query::StartQueryOutput;
use aws_sdk_cloudwatchlogs::types::{
    FilteredLogEvent, LogStream, OrderBy, OutputLogEvent, QueryStatistics, QueryStatus, ResultField,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use sickbay::collect::logs::{self, Mode, Wanted};
use sickbay::collect::Ctx;
use sickbay::scan::Prefilter;
use std::time::Duration;

const GROUP: &str = "/ecs/api";
const STREAM: &str = "ecs/api/0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const DENIED: &str = r#"{"__type":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/oncall/x is not authorized to perform: logs:StartQuery"}"#;
const REFUSED: &str = "Error: connect ECONNREFUSED 10.0.3.7:5432";

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn wanted() -> Vec<Wanted> {
    vec![Wanted {
        region: None,
        group: GROUP.into(),
        stream: STREAM.into(),
        task_id: "0f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
        container: "api".into(),
    }]
}

/// The last two lines of the stream: health checks.
fn tail_rule() -> Rule {
    mock!(aws_sdk_cloudwatchlogs::Client::get_log_events)
        .match_requests(|r| {
            r.log_stream_name() == Some(STREAM) && r.start_from_head() == Some(false)
        })
        .then_output(|| {
            let e = |i: i64| {
                OutputLogEvent::builder()
                    .timestamp(now_ms() - 60_000 + i)
                    .message("GET /health 200 1ms\n")
                    .build()
            };
            GetLogEventsOutput::builder()
                .events(e(0))
                .events(e(1))
                .build()
        })
}

fn row(fields: &[(&str, &str)]) -> Vec<ResultField> {
    fields
        .iter()
        .map(|(k, v)| ResultField::builder().field(*k).value(*v).build())
        .collect()
}

struct Run {
    read: sickbay::snapshot::LogRead,
    lines: Vec<sickbay::snapshot::LogLine>,
    errors: Vec<String>,
    calls: Vec<(&'static str, u64)>,
}

/// The group's streams by last event (how earlier tasks' streams are found): only the
/// task's own.
fn listing() -> Rule {
    mock!(aws_sdk_cloudwatchlogs::Client::describe_log_streams)
        .match_requests(|r| r.order_by() == Some(&OrderBy::LastEventTime))
        .then_output(|| {
            DescribeLogStreamsOutput::builder()
                .log_streams(
                    LogStream::builder()
                        .log_stream_name(STREAM)
                        .last_event_timestamp(now_ms() - 60_000)
                        .build(),
                )
                .build()
        })
}

fn run(mode: Mode, rules: &[&Rule]) -> Run {
    let listed = listing();
    let rules: Vec<&Rule> = rules.iter().copied().chain([&listed]).collect();
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, &rules);
    let pack = sickbay::rules::RuleSet::builtin().unwrap();
    let pre = Prefilter::new(&pack);
    let ctx = Ctx::new(Duration::from_secs(30), Duration::from_secs(10), 4, None);
    let since = chrono::Utc::now() - chrono::Duration::hours(2);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let got = rt.block_on(logs::collect(
        &ctx,
        |_| &client,
        &wanted(),
        since,
        200,
        (mode, Some(&pre)),
    ));
    assert_eq!(got.reads.len(), 1, "one read per group");
    Run {
        read: got.reads[0].clone(),
        lines: got.lines,
        errors: ctx
            .take_errors()
            .into_iter()
            .map(|e| format!("{} {}", e.action, e.code.unwrap_or_default()))
            .collect(),
        calls: ctx.counts().into_iter().filter(|(_, n)| *n > 0).collect(),
    }
}

/// Insights: the query names the stream and the rules' literals (case-insensitive
/// regex); a Running answer is polled again; rows of other streams are dropped, rows
/// no rule matches are counted as fetched but not kept; the statistics are reported.
#[test]
fn insights_searches_the_window_polls_and_reports_what_it_scanned() {
    // The pack's terms take a few queries; the first is answered with rows, the
    // others with none. Every query is recorded, to check what was asked.
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = asked.clone();
    let start = mock!(aws_sdk_cloudwatchlogs::Client::start_query)
        .match_requests(|r| r.log_group_name() == Some(GROUP))
        .then_compute_output(move |r| {
            let mut asked = log.lock().unwrap();
            asked.push(r.query_string().unwrap_or_default().to_string());
            let id = if asked.len() == 1 { "q-1" } else { "q-n" };
            StartQueryOutput::builder().query_id(id).build()
        });
    let empty = mock!(aws_sdk_cloudwatchlogs::Client::get_query_results)
        .match_requests(|r| r.query_id() == Some("q-n"))
        .then_output(|| {
            GetQueryResultsOutput::builder()
                .status(QueryStatus::Complete)
                .build()
        });
    let results = mock!(aws_sdk_cloudwatchlogs::Client::get_query_results)
        .match_requests(|r| r.query_id() == Some("q-1"))
        .sequence()
        .output(|| {
            GetQueryResultsOutput::builder()
                .status(QueryStatus::Running)
                .build()
        })
        .output(|| {
            let early = "2026-12-02 07:00:00.000";
            GetQueryResultsOutput::builder()
                .status(QueryStatus::Complete)
                .results(row(&[
                    ("@timestamp", early),
                    ("@logStream", STREAM),
                    ("@message", REFUSED),
                    ("@ptr", "p1"),
                ]))
                .results(row(&[
                    ("@timestamp", "2026-12-02 07:05:00.000"),
                    ("@logStream", STREAM),
                    ("@message", REFUSED),
                    ("@ptr", "p2"),
                ]))
                // A candidate (it holds a literal) that no pattern matches.
                .results(row(&[
                    ("@timestamp", "2026-12-02 07:06:00.000"),
                    ("@logStream", STREAM),
                    ("@message", "the migration guide was updated"),
                    ("@ptr", "p3"),
                ]))
                .results(row(&[
                    ("@timestamp", early),
                    ("@logStream", "ecs/other/1"),
                    ("@message", REFUSED),
                    ("@ptr", "p4"),
                ]))
                .statistics(
                    QueryStatistics::builder()
                        .records_scanned(120_000.0)
                        .bytes_scanned(31_500_000.0)
                        .records_matched(4.0)
                        .build(),
                )
                .build()
        })
        .build();
    let tail = tail_rule();
    let r = run(Mode::Insights, &[&start, &results, &empty, &tail]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let asked = asked.lock().unwrap().clone();
    assert!((2..=16).contains(&asked.len()), "{}", asked.len());
    for q in &asked {
        assert!(q.len() <= 10_000, "{}", q.len());
        assert!(
            q.starts_with(&format!(
                "fields @timestamp, @logStream, @message\n| filter @logStream in [\"{STREAM}\"]\n| filter "
            )),
            "{q}"
        );
        assert!(q.ends_with("\n| sort @timestamp asc\n| limit 10000"), "{q}");
    }
    assert!(asked.iter().any(|q| q.contains("connection\\srefused")));
    // A piece that alone would fetch every health check is sent with the failing
    // status it needs.
    assert!(asked.iter().any(|q| q.contains(
        "(@message like /(?i)elb\\-healthchecker\\// and @message like /(?i)\"\\s[45][0-9][0-9]/)"
    )));
    assert_eq!(r.read.mode, "insights");
    assert_eq!(r.read.scanned, Some(120_000));
    assert_eq!(r.read.bytes_scanned, Some(31_500_000));
    assert_eq!(
        r.read.events,
        3 + 2,
        "three rows of the stream and the tail"
    );
    assert!(r.read.complete && r.read.fallback.is_none());
    let refused: Vec<_> = r.lines.iter().filter(|l| l.message == REFUSED).collect();
    assert_eq!(refused.len(), 1, "{:#?}", r.lines);
    assert_eq!(refused[0].count, 2);
    assert_eq!(
        refused[0].timestamp.unwrap().to_rfc3339(),
        "2026-12-02T07:00:00+00:00"
    );
    assert_eq!(
        refused[0].last_timestamp.unwrap().to_rfc3339(),
        "2026-12-02T07:05:00+00:00"
    );
    assert_eq!(r.lines.len(), 3, "the folded match and the two tail lines");
    // q-1 polled twice (Running, then Complete), the others once.
    assert!(
        r.calls
            .contains(&("logs:GetQueryResults", asked.len() as u64 + 1)),
        "{:?}",
        r.calls
    );
}

/// `--logs filter`: the window is searched with filter patterns (each an OR of the
/// terms in three spellings, within 1,024 characters); only the pattern holding the
/// literal finds the line, as AWS would.
#[test]
fn filter_patterns_search_the_window() {
    let filtered =
        mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events).then_compute_output(|req| {
            let p = req.filter_pattern().unwrap_or_default();
            assert!(p.len() <= 1024, "{}", p.len());
            assert!(p.starts_with("?\""), "{p}");
            let mut out = FilterLogEventsOutput::builder();
            if p.contains("?\"ECONNREFUSED\"") {
                out = out.events(
                    FilteredLogEvent::builder()
                        .event_id("e1")
                        .log_stream_name(STREAM)
                        .timestamp(now_ms() - 3_600_000)
                        .message(REFUSED)
                        .build(),
                );
            }
            out.build()
        });
    let tail = tail_rule();
    let r = run(Mode::Filter, &[&filtered, &tail]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.read.mode, "filter");
    assert!(r.read.fallback.is_none());
    assert_eq!(r.read.matched, 1);
    assert!(r.lines.iter().any(|l| l.message == REFUSED));
    let passes = r
        .calls
        .iter()
        .find(|(a, _)| *a == "logs:FilterLogEvents")
        .unwrap()
        .1;
    assert!((2..=64).contains(&passes), "{passes} passes");
}

/// FilterLogEvents without a pattern (reading the window): one event per page, and a
/// next page while `pages` says so (`usize::MAX`: always).
fn window_pages(pages: usize) -> Rule {
    mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
        .match_requests(|r| r.filter_pattern().is_none())
        .then_compute_output(move |req| {
            // The page asked for, from the token of the one before.
            let n = req
                .next_token()
                .and_then(|t| t.strip_prefix('t'))
                .map_or(0, |t| t.parse::<usize>().unwrap() + 1);
            let msg = if n == 0 {
                REFUSED
            } else {
                "GET /health 200 1ms"
            };
            let out = FilterLogEventsOutput::builder().events(
                FilteredLogEvent::builder()
                    .event_id(format!("e{n}"))
                    .log_stream_name(STREAM)
                    .timestamp(now_ms() - 3_600_000 + n as i64)
                    .message(msg)
                    .build(),
            );
            if n + 1 < pages {
                out.next_token(format!("t{n}")).build()
            } else {
                out.build()
            }
        })
}

/// StartQuery answered AccessDeniedException, every time.
fn start_query_denied() -> Rule {
    mock!(aws_sdk_cloudwatchlogs::Client::start_query)
        .sequence()
        .http_status(400, Some(DENIED.into()))
        .repeatedly()
        .build()
}

fn call_count(r: &Run, action: &str) -> u64 {
    r.calls
        .iter()
        .find(|(a, _)| *a == action)
        .map_or(0, |c| c.1)
}

/// `--logs auto` (the default): a small window is read in full, with no query; past
/// 20 pages the window is left to Logs Insights.
#[test]
fn auto_reads_a_small_window_and_searches_a_large_one() {
    let small = window_pages(3);
    let r = run(Mode::Auto, &[&small]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.read.mode, "window");
    assert!(r.read.complete);
    assert_eq!(r.read.matched, 1);
    assert_eq!(call_count(&r, "logs:FilterLogEvents"), 3);
    assert_eq!(call_count(&r, "logs:StartQuery"), 0);

    let large = window_pages(usize::MAX);
    let start = mock!(aws_sdk_cloudwatchlogs::Client::start_query)
        .then_output(|| StartQueryOutput::builder().query_id("q").build());
    let found = mock!(aws_sdk_cloudwatchlogs::Client::get_query_results).then_output(|| {
        GetQueryResultsOutput::builder()
            .status(QueryStatus::Complete)
            .results(row(&[
                ("@timestamp", "2026-12-02 07:00:00.000"),
                ("@logStream", STREAM),
                ("@message", REFUSED),
                ("@ptr", "p1"),
            ]))
            .build()
    });
    let tail = tail_rule();
    let r = run(Mode::Auto, &[&large, &start, &found, &tail]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.read.mode, "insights");
    assert!(r.read.complete && r.read.fallback.is_none());
    assert_eq!(call_count(&r, "logs:FilterLogEvents"), 20);
    assert!(call_count(&r, "logs:StartQuery") >= 1);
    // The 20 lines read before the switch count as fetched, with the query's row and
    // the tail's two.
    assert_eq!(r.read.events, 20 + 1 + 2);
    assert!(r.lines.iter().any(|l| l.message == REFUSED));
}

/// `--logs auto` on a large window where StartQuery is denied: the built-in pack needs
/// more filter passes than one read of the window costs, so the window is read in full
/// after all (up to its page limit, then marked incomplete). The read names both
/// reasons, and the report is not incomplete for the denial: the window was still
/// searched.
#[test]
fn auto_with_insights_denied_reads_the_window() {
    let large = window_pages(usize::MAX);
    let denied = start_query_denied();
    let tail = tail_rule();
    let r = run(Mode::Auto, &[&large, &denied, &tail]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.read.mode, "window");
    let why = r.read.fallback.as_deref().unwrap();
    assert!(
        why.starts_with("logs:StartQuery failed (AccessDeniedException: User: "),
        "{why}"
    );
    assert!(
        why.contains("; logs:FilterLogEvents failed (TooManyPatterns: "),
        "{why}"
    );
    assert!(!r.read.complete && r.read.read_until.is_some());
    assert_eq!(call_count(&r, "logs:FilterLogEvents"), 20 + 100);
    assert_eq!(r.read.matched, 1);
}

/// `--logs insights` asked for explicitly and denied: a collection error naming
/// logs:StartQuery (the report is incomplete), and the tail is still read.
#[test]
fn denied_insights_when_asked_for_is_a_collection_error() {
    let denied = start_query_denied();
    let tail = tail_rule();
    let r = run(Mode::Insights, &[&denied, &tail]);
    assert_eq!(r.errors, vec!["logs:StartQuery AccessDeniedException"]);
    assert_eq!(r.read.mode, "tail");
    assert_eq!(r.lines.len(), 2);
}

/// A query that comes back full (10,000 rows) is continued from its last second, the
/// rows already seen skipped by their pointer; when the budget runs out the read says
/// where it stopped.
#[test]
fn a_full_insights_answer_is_continued_then_bounded() {
    let start = mock!(aws_sdk_cloudwatchlogs::Client::start_query)
        .then_output(|| StartQueryOutput::builder().query_id("q").build());
    let full = mock!(aws_sdk_cloudwatchlogs::Client::get_query_results).then_output(|| {
        let mut out = GetQueryResultsOutput::builder().status(QueryStatus::Complete);
        let base = now_ms() - 7_000_000;
        for i in 0..10_000i64 {
            // Each answer moves on by 10,000 s, so every continuation is new.
            let ts = base + i * 1_000;
            out = out.results(row(&[
                ("@timestamp", &ts.to_string()),
                ("@logStream", STREAM),
                ("@message", REFUSED),
                ("@ptr", &format!("p{i}")),
            ]));
        }
        out.build()
    });
    let tail = tail_rule();
    let r = run(Mode::Insights, &[&start, &full, &tail]);
    assert!(!r.read.complete);
    assert!(r.read.read_until.is_some());
    let starts = r
        .calls
        .iter()
        .find(|(a, _)| *a == "logs:StartQuery")
        .unwrap()
        .1;
    // The same rows come back each time (the mock does not move): the second answer
    // adds nothing new past its first second, so the read stops there.
    assert!((2..=16).contains(&starts), "{starts}");
}
