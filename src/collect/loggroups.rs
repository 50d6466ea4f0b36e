//! CloudWatch Logs: whether each log group the task definitions in use send `awslogs`
//! output to exists (DescribeLogGroups by name prefix, in the group's region). A task
//! whose group is missing, and that may not create it, fails with
//! ResourceInitializationError before its code runs.

use super::ctx::Ctx;
use super::ops::Op;
use crate::snapshot::{LogGroupCheck, TaskDefinition};
use std::collections::BTreeSet;

/// Pages of prefix matches read per group before giving up on finding the exact name.
const MAX_PAGES: usize = 5;

/// (region, group) for every awslogs container of `tds`.
pub fn wanted(tds: &[TaskDefinition]) -> BTreeSet<(Option<String>, String)> {
    tds.iter()
        .flat_map(|t| t.containers.iter())
        .filter_map(|c| c.log_configuration.as_ref())
        .filter(|l| l.log_driver == "awslogs")
        .filter_map(|l| {
            let g = l.options.get("awslogs-group")?;
            Some((l.options.get("awslogs-region").cloned(), g.clone()))
        })
        .collect()
}

/// Looks each group up; a group whose lookup failed is left out (the failure is in
/// `collect_errors`).
pub async fn check<'a, F>(
    ctx: &Ctx,
    client_for: F,
    groups: &BTreeSet<(Option<String>, String)>,
) -> Vec<LogGroupCheck>
where
    F: Fn(Option<&str>) -> &'a aws_sdk_cloudwatchlogs::Client + Copy,
{
    let found = ctx
        .each(groups.iter().cloned(), |(region, group)| async move {
            let client = client_for(region.as_deref());
            let exists = exists(ctx, client, &group).await?;
            Some(LogGroupCheck { group, exists })
        })
        .await;
    let mut out: Vec<LogGroupCheck> = found.into_iter().flatten().collect();
    out.sort_by(|a, b| a.group.cmp(&b.group));
    out.dedup();
    out
}

async fn exists(ctx: &Ctx, client: &aws_sdk_cloudwatchlogs::Client, group: &str) -> Option<bool> {
    let mut token: Option<String> = None;
    for _page in 0..MAX_PAGES {
        let req = client
            .describe_log_groups()
            .log_group_name_prefix(group)
            .set_next_token(token.clone());
        let o = ctx.get(Op::LogsDescribeLogGroups, req.send()).await?;
        if o.log_groups()
            .iter()
            .any(|g| g.log_group_name() == Some(group))
        {
            return Some(true);
        }
        token = o.next_token().map(String::from);
        if token.is_none() {
            return Some(false);
        }
    }
    // Too many groups share the prefix to be sure.
    None
}
