//! CloudTrail: the write events of the window that touched a resource the snapshot
//! describes. Ids and ARNs that CloudTrail records as resource names (security groups,
//! route tables, NAT gateways, ACLs, endpoints, file systems, secrets) are each queried by
//! name (`ResourceName`, up to `MAX_BY_RESOURCE`), so a busy account cannot push them out;
//! the account's write stream (`ReadOnly=false`, newest first, up to `MAX_PAGES` pages of
//! 50) covers the rest: the cluster, services, families, roles, log groups, repositories
//! and database instances. Calls are paced to LookupEvents' 2 a second. Of each event only
//! its name, source, user, time, the matching resources and the request parameters that
//! say what changed (collect/trailparams.rs) are kept; a secret's value is never among them.

use super::ctx::Ctx;
use super::ops::Op;
use super::trailparams;
use crate::snapshot::{AccountChange, Snapshot, TrailRead};
use aws_sdk_cloudtrail::types::{Event, LookupAttribute, LookupAttributeKey};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::time::Duration;

/// Pages of the account's write stream read at most.
const MAX_PAGES: usize = 6;
/// Resources queried by name at most (one call each).
const MAX_BY_RESOURCE: usize = 8;
/// Pause between calls: LookupEvents allows 2 calls a second per account and region.
const PACE: Duration = Duration::from_millis(500);
/// Time left of the collection under which no further call is started.
const MARGIN: Duration = Duration::from_secs(3);

/// What to look for: names matched exactly against an event's resources, ids or ARNs
/// also matched inside its request, and the ids to query by name, most telling first.
#[derive(Debug, Default)]
pub struct Wanted {
    pub names: BTreeSet<String>,
    pub ids: BTreeSet<String>,
    pub by_resource: Vec<String>,
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
    w.ids.extend(
        snap.endpoints
            .iter()
            .filter(|e| matches!(e.kind.as_str(), "rds" | "aurora"))
            .map(|e| e.name.clone()),
    );
    w.names.retain(|n| !n.is_empty());
    w.ids.retain(|i| i.len() > 4);
    w.by_resource = by_resource_order(net, snap);
    w
}

/// The ids to query by name: the network's (security groups first, as most incidents of
/// reachability are one rule), then file systems and secrets.
fn by_resource_order(net: &crate::snapshot::Network, snap: &Snapshot) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |id: &str| {
        if id.len() > 4 && !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
    };
    net.security_groups.iter().for_each(|g| add(&g.id));
    net.subnets
        .iter()
        .filter_map(|s| s.route_table.as_deref())
        .for_each(&mut add);
    net.nat_gateways.iter().for_each(|n| add(&n.id));
    net.network_acls.iter().for_each(|a| add(&a.id));
    net.vpc_endpoints.iter().for_each(|e| add(&e.id));
    snap.file_systems
        .iter()
        .for_each(|f| add(&f.file_system_id));
    snap.secret_refs
        .iter()
        .filter(|r| r.reference.starts_with("arn:aws:secretsmanager:"))
        .for_each(|r| add(&r.reference));
    out
}

/// The matching write events since `since`, oldest first, and how they were read.
pub async fn changes(
    ctx: &Ctx,
    client: &aws_sdk_cloudtrail::Client,
    since: DateTime<Utc>,
    wanted: &Wanted,
) -> (Vec<AccountChange>, TrailRead) {
    let mut read = Reader {
        ctx,
        client,
        since,
        wanted,
        out: Vec::new(),
        seen: BTreeSet::new(),
        stats: TrailRead::default(),
    };
    read.stats.truncated = wanted.by_resource.len() > MAX_BY_RESOURCE;
    for id in wanted.by_resource.iter().take(MAX_BY_RESOURCE) {
        let by = attribute(LookupAttributeKey::ResourceName, id);
        // One page per resource: 50 writes to one resource in the window is a lot.
        if read.pages(by, 1, true).await.is_err() {
            break;
        }
    }
    let writes = attribute(LookupAttributeKey::ReadOnly, "false");
    let _ = read.pages(writes, MAX_PAGES, false).await;
    let mut out = read.out;
    out.sort_by(|a, b| (a.time, &a.event).cmp(&(b.time, &b.event)));
    (out, read.stats)
}

fn attribute(key: LookupAttributeKey, value: &str) -> Option<LookupAttribute> {
    LookupAttribute::builder()
        .attribute_key(key)
        .attribute_value(value)
        .build()
        .ok()
}

/// One read of the window: the calls made, the events kept, and what was seen.
struct Reader<'a> {
    ctx: &'a Ctx,
    client: &'a aws_sdk_cloudtrail::Client,
    since: DateTime<Utc>,
    wanted: &'a Wanted,
    out: Vec<AccountChange>,
    /// Event ids already read (a change can answer two queries).
    seen: BTreeSet<String>,
    stats: TrailRead,
}

impl Reader<'_> {
    /// Reads up to `max` pages of one query; `Err` when a call failed or time ran short,
    /// so that no further query is started.
    async fn pages(
        &mut self,
        attr: Option<LookupAttribute>,
        max: usize,
        by_resource: bool,
    ) -> Result<(), ()> {
        let Some(attr) = attr else { return Ok(()) };
        let mut token: Option<String> = None;
        for _page in 0..max {
            if self.ctx.time_left() < MARGIN {
                // Out of time: the report is incomplete and says which action was cut.
                self.stats.truncated = true;
                let f = super::ctx::Failure {
                    code: "DeadlineExceeded".into(),
                    message: format!(
                        "the collection's --timeout ran out after {} LookupEvents calls",
                        self.stats.calls
                    ),
                    kind: super::ctx::FailKind::Timeout,
                };
                self.ctx.record(Op::CloudTrailLookupEvents, &f, None);
                return Err(());
            }
            if self.stats.calls > 0 {
                tokio::time::sleep(PACE).await;
            }
            let req = self
                .client
                .lookup_events()
                .lookup_attributes(attr.clone())
                .start_time(aws_sdk_cloudtrail::primitives::DateTime::from_secs(
                    self.since.timestamp(),
                ))
                .max_results(50)
                .set_next_token(token.clone());
            self.stats.calls += 1;
            self.stats.by_resource += u32::from(by_resource);
            let Some(o) = self.ctx.get(Op::CloudTrailLookupEvents, req.send()).await else {
                return Err(());
            };
            for e in o.events() {
                self.keep(e);
            }
            token = o.next_token().map(String::from);
            if token.is_none() {
                return Ok(());
            }
        }
        self.stats.truncated = true;
        Ok(())
    }

    /// Keeps a write event that touched a wanted resource.
    fn keep(&mut self, e: &Event) {
        let raw = e.cloud_trail_event().unwrap_or_default();
        if trailparams::read_only(raw) || e.read_only() == Some("true") {
            return;
        }
        let id = e.event_id().unwrap_or_default().to_string();
        if !id.is_empty() && !self.seen.insert(id) {
            return;
        }
        self.stats.events += 1;
        let w = self.wanted;
        let mut hit: BTreeSet<String> = e
            .resources()
            .iter()
            .filter_map(|r| r.resource_name())
            .filter(|n| w.names.contains(*n) || w.ids.contains(*n) || w.names.contains(tail(n)))
            .map(String::from)
            .collect();
        hit.extend(w.ids.iter().filter(|i| raw.contains(i.as_str())).cloned());
        let Some(time) = e
            .event_time()
            .and_then(|t| DateTime::from_timestamp(t.secs(), 0))
        else {
            return;
        };
        if hit.is_empty() {
            return;
        }
        self.out.push(AccountChange {
            time,
            event: e.event_name().unwrap_or_default().to_string(),
            source: e.event_source().unwrap_or_default().to_string(),
            user: e.username().map(String::from),
            resources: hit.into_iter().collect(),
            detail: trailparams::detail(raw),
        });
    }
}

/// The name at the end of an ARN (`…:repository/app` → `app`, `…:service/prod/api` →
/// `api`), or the whole string.
fn tail(name: &str) -> &str {
    if name.starts_with("arn:") {
        name.rsplit(['/', ':']).next().unwrap_or(name)
    } else {
        name
    }
}
