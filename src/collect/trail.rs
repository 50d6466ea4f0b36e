//! CloudTrail: the account's write events in the window (LookupEvents, `ReadOnly=false`,
//! newest first, at most `MAX_PAGES` pages of 50) that touched a resource the snapshot
//! describes: the cluster, services, task-definition families, roles, secrets, log
//! groups, repositories, file systems, and the network's ids. Only the event's name,
//! source, user, time and the matching resources are kept; request parameters (which can
//! hold anything) are read to match ids and then dropped.

use super::ctx::Ctx;
use super::ops::Op;
use crate::snapshot::{AccountChange, Snapshot};
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// Pages read at most (LookupEvents allows 2 calls a second per account).
const MAX_PAGES: usize = 10;

/// What to look for: names matched exactly against an event's resources, and ids or
/// ARNs also matched inside its request.
#[derive(Debug, Default)]
pub struct Wanted {
    pub names: BTreeSet<String>,
    pub ids: BTreeSet<String>,
}

/// The resources of a snapshot worth a change record.
pub fn wanted(snap: &Snapshot) -> Wanted {
    let mut w = Wanted::default();
    w.names.extend(snap.target.cluster.clone());
    for s in &snap.services {
        w.names.insert(s.name.clone());
    }
    for td in &snap.task_definitions {
        w.names.insert(td.family.clone());
        w.ids.extend(td.execution_role_arn.clone());
        w.ids.extend(td.task_role_arn.clone());
    }
    let net = &snap.network;
    w.ids
        .extend(net.security_groups.iter().map(|g| g.id.clone()));
    w.ids.extend(net.subnets.iter().map(|s| s.id.clone()));
    w.ids
        .extend(net.subnets.iter().filter_map(|s| s.route_table.clone()));
    w.ids.extend(net.nat_gateways.iter().map(|n| n.id.clone()));
    w.ids.extend(net.vpc_endpoints.iter().map(|e| e.id.clone()));
    w.ids.extend(net.network_acls.iter().map(|a| a.id.clone()));
    w.ids
        .extend(snap.secret_refs.iter().map(|r| r.reference.clone()));
    w.names
        .extend(snap.log_groups.iter().map(|g| g.group.clone()));
    w.ids
        .extend(snap.file_systems.iter().map(|f| f.file_system_id.clone()));
    w.names.extend(
        snap.roles
            .iter()
            .map(|r| r.arn.rsplit('/').next().unwrap_or_default().to_string()),
    );
    w.names.extend(snap.images.iter().filter_map(|i| {
        i.image
            .split_once('/')
            .map(|(_, r)| r.split([':', '@']).next().unwrap_or(r).to_string())
    }));
    w.names.retain(|n| !n.is_empty());
    w.ids.retain(|i| i.len() > 4);
    w
}

/// The matching write events since `since`, oldest first.
pub async fn changes(
    ctx: &Ctx,
    client: &aws_sdk_cloudtrail::Client,
    since: DateTime<Utc>,
    wanted: &Wanted,
) -> Vec<AccountChange> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let writes = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::ReadOnly)
        .attribute_value("false")
        .build();
    let Ok(writes) = writes else { return out };
    for _page in 0..MAX_PAGES {
        let req = client
            .lookup_events()
            .lookup_attributes(writes.clone())
            .start_time(aws_sdk_cloudtrail::primitives::DateTime::from_secs(
                since.timestamp(),
            ))
            .max_results(50)
            .set_next_token(token.clone());
        let Some(o) = ctx.get(Op::CloudTrailLookupEvents, req.send()).await else {
            break;
        };
        for e in o.events() {
            let named: Vec<String> = e
                .resources()
                .iter()
                .filter_map(|r| r.resource_name())
                .map(String::from)
                .collect();
            let raw = e.cloud_trail_event().unwrap_or_default();
            let mut hit: BTreeSet<String> = named
                .iter()
                .filter(|n| wanted.names.contains(*n) || wanted.ids.contains(*n))
                .cloned()
                .collect();
            hit.extend(
                wanted
                    .ids
                    .iter()
                    .filter(|id| raw.contains(id.as_str()))
                    .cloned(),
            );
            if hit.is_empty() {
                continue;
            }
            let Some(time) = e
                .event_time()
                .and_then(|t| DateTime::from_timestamp(t.secs(), 0))
            else {
                continue;
            };
            out.push(AccountChange {
                time,
                event: e.event_name().unwrap_or_default().to_string(),
                source: e.event_source().unwrap_or_default().to_string(),
                user: e.username().map(String::from),
                resources: hit.into_iter().collect(),
            });
        }
        token = o.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    out.sort_by(|a, b| (a.time, &a.event).cmp(&(b.time, &b.event)));
    out
}
