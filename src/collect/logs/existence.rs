//! Whether log streams exist (DescribeLogStreams, asked in [`super`]): a stream with no
//! events in the window may belong to a quiet running task or may never have been
//! created (a task that died before it could log), and FilterLogEvents rejects a batch
//! that names a missing stream. The checks are bounded, and a missing group answers for
//! all its streams.

use super::{stream_entry, stream_exists, Wanted, MAX_EXISTENCE_CHECKS};
use crate::collect::ctx::Ctx;
use crate::snapshot::LogStream;
use aws_sdk_cloudwatchlogs::Client;

/// Whether each stream exists: the first stream alone, then (unless its group is
/// missing, which answers for all) the others, at most [`MAX_EXISTENCE_CHECKS`] in all.
pub(in crate::collect) async fn existence<'w>(
    ctx: &Ctx,
    client: &Client,
    names: &[&'w Wanted],
) -> Vec<(&'w Wanted, Existence)> {
    let Some((first, rest)) = names.split_first() else {
        return Vec::new();
    };
    let first_check = stream_exists(ctx, client, first).await;
    let mut out = vec![(*first, first_check)];
    if first_check == Existence::GroupMissing {
        out.extend(rest.iter().map(|w| (*w, Existence::GroupMissing)));
        return out;
    }
    let budget = MAX_EXISTENCE_CHECKS.saturating_sub(1);
    let checked = ctx
        .each(rest.iter().take(budget), |w| async move {
            (*w, stream_exists(ctx, client, w).await)
        })
        .await;
    out.extend(checked);
    out.extend(rest.iter().skip(budget).map(|w| (*w, Existence::Unknown)));
    out
}

/// What DescribeLogStreams said about a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::collect) enum Existence {
    Exists,
    StreamMissing,
    GroupMissing,
    /// The check failed (recorded as a collection error) or was not made.
    Unknown,
}

impl Existence {
    /// The stream's entry, or `None` when unknown.
    pub(in crate::collect) fn entry(self, w: &Wanted) -> Option<LogStream> {
        match self {
            Existence::Exists => Some(stream_entry(w, true, None)),
            Existence::StreamMissing => Some(stream_entry(
                w,
                false,
                Some("The specified log stream does not exist.".into()),
            )),
            Existence::GroupMissing => Some(stream_entry(
                w,
                false,
                Some(format!("the log group {} does not exist", w.group)),
            )),
            Existence::Unknown => None,
        }
    }
}
