//! Streams of earlier tasks: a service that has failed for six hours has replaced its
//! tasks many times, and ECS lists stopped tasks for only about an hour, so the streams
//! of the tasks before are not in the task list. They are still in the log group, and
//! their lines are the start of the incident. This finds them: the group's streams by
//! last event, newest first (DescribeLogStreams), those under a prefix and container of
//! the tasks in scope, with events in the window. Bounded in pages and streams.

use super::ctx::Ctx;
use super::logs::Wanted;
use super::ops::Op;
use aws_sdk_cloudwatchlogs::types::OrderBy;
use aws_sdk_cloudwatchlogs::Client;
use std::collections::{BTreeMap, BTreeSet};

/// A log group in a region (`None`: the default one).
type GroupKey = (Option<String>, String);

/// Pages of 50 streams listed per group at most.
const MAX_PAGES: usize = 10;
/// Streams of earlier tasks added per group at most.
const MAX_EARLIER: usize = 200;
/// How late a stream's last-event time may be: CloudWatch updates it eventually,
/// typically within an hour of ingestion.
const LAG_MS: i64 = 3_600_000;

/// Streams of the groups in `wanted` that belong to the same containers (by stream
/// prefix) and had events since `since_ms`, not already wanted.
pub(super) async fn earlier<'a, F>(
    ctx: &Ctx,
    client_for: F,
    wanted: &[Wanted],
    since_ms: i64,
) -> Vec<Wanted>
where
    F: Fn(Option<&str>) -> &'a Client,
{
    // Per group: the `prefix/container/` beginnings of its wanted streams.
    let mut groups: BTreeMap<GroupKey, BTreeSet<(String, String)>> = BTreeMap::new();
    for w in wanted {
        if let Some(head) = w.stream.strip_suffix(w.task_id.as_str()) {
            groups
                .entry((w.region.clone(), w.group.clone()))
                .or_default()
                .insert((head.to_string(), w.container.clone()));
        }
    }
    let known: BTreeSet<(&str, &str)> = wanted
        .iter()
        .map(|w| (w.group.as_str(), w.stream.as_str()))
        .collect();
    let known = &known;
    let found = ctx
        .each(groups, |((region, group), heads)| {
            let client = client_for(region.as_deref());
            async move {
                let names = listed(ctx, client, &group, since_ms).await;
                names
                    .into_iter()
                    .filter(|n| !known.contains(&(group.as_str(), n.as_str())))
                    .filter_map(|n| {
                        let (head, container) =
                            heads.iter().find(|(h, _)| n.starts_with(h.as_str()))?;
                        let task_id = n[head.len()..].to_string();
                        (!task_id.is_empty() && !task_id.contains('/')).then(|| Wanted {
                            region: region.clone(),
                            group: group.clone(),
                            stream: n.clone(),
                            task_id,
                            container: container.clone(),
                        })
                    })
                    .take(MAX_EARLIER)
                    .collect::<Vec<_>>()
            }
        })
        .await;
    found.into_iter().flatten().collect()
}

/// The group's stream names whose last event may be in the window, newest first.
async fn listed(ctx: &Ctx, client: &Client, group: &str, since_ms: i64) -> Vec<String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let req = client
            .describe_log_streams()
            .log_group_name(group)
            .order_by(OrderBy::LastEventTime)
            .descending(true)
            .limit(50)
            .set_next_token(token.clone());
        let page = match ctx.call(Op::LogsDescribeLogStreams, req.send()).await {
            Ok(p) => p,
            Err(f) => {
                ctx.record(Op::LogsDescribeLogStreams, &f, None);
                return out;
            }
        };
        for s in page.log_streams() {
            match (s.log_stream_name(), s.last_event_timestamp()) {
                (Some(n), Some(t)) if t + LAG_MS >= since_ms => out.push(n.to_string()),
                // Ordered by last event: the rest are older still.
                (_, Some(_)) => return out,
                // No event yet: nothing to read.
                _ => {}
            }
        }
        token = page.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    out
}
