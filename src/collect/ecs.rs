//! ECS: the cluster, its services (DescribeServices, 10 per call), their running and
//! stopped tasks (ListTasks, then DescribeTasks 100 per call) and the task definitions in
//! use, seen in tasks, and the families' recent revisions (ListTaskDefinitions +
//! DescribeTaskDefinition), converted at once into snapshot types. The conversions are
//! in `convert`; every call stays here, where the registry test in [`super::ops`]
//! checks that it goes through [`Ctx`].

mod convert;

pub use convert::{convert_service, convert_task, convert_task_definition, task_enis};

use super::ctx::{Ctx, FailKind, Failure};
use super::ops::Op;
use super::tail;
use crate::snapshot::{Service, Task, TaskDefinition};
use aws_sdk_ecs::types::{self as ecs, DesiredStatus};
use aws_sdk_ecs::Client;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// `family:revision` from a task-definition ARN (or the value itself).
pub fn td_key(arn: &str) -> String {
    tail(arn).to_string()
}

/// What DescribeClusters said about the cluster.
pub enum ClusterLookup {
    Found { arn: Option<String> },
    Missing,
}

/// The first call of a run: its failure decides whether collection can go on at all.
pub async fn describe_cluster(
    ctx: &Ctx,
    ecs: &Client,
    cluster: &str,
) -> Result<ClusterLookup, Failure> {
    let out = ctx
        .call(
            Op::EcsDescribeClusters,
            ecs.describe_clusters().clusters(cluster).send(),
        )
        .await;
    match out {
        Ok(o) => {
            let found = o
                .clusters()
                .iter()
                .find(|c| c.status().is_none_or(|s| s != "INACTIVE"));
            Ok(match found {
                Some(c) => ClusterLookup::Found {
                    arn: c.cluster_arn().map(String::from),
                },
                None => ClusterLookup::Missing,
            })
        }
        Err(f) if f.code == "ClusterNotFoundException" => Ok(ClusterLookup::Missing),
        Err(f) => Err(f),
    }
}

/// Every service name in the cluster (ListServices, paginated).
pub async fn list_services(ctx: &Ctx, ecs: &Client, cluster: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let req = ecs
            .list_services()
            .cluster(cluster)
            .max_results(100)
            .set_next_token(token.clone());
        let Some(out) = ctx.get(Op::EcsListServices, req.send()).await else {
            break;
        };
        names.extend(out.service_arns().iter().map(|a| tail(a).to_string()));
        token = out.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    names.sort();
    names.dedup();
    names
}

/// DescribeServices, 10 names per call. Services that do not exist are reported as
/// collection errors.
pub async fn describe_services(
    ctx: &Ctx,
    ecs: &Client,
    cluster: &str,
    names: &[String],
    since: DateTime<Utc>,
) -> Vec<Service> {
    let batches: Vec<Vec<String>> = names.chunks(10).map(<[String]>::to_vec).collect();
    let results = ctx
        .each(batches, |batch| async move {
            let req = ecs
                .describe_services()
                .cluster(cluster)
                .set_services(Some(batch));
            ctx.get(Op::EcsDescribeServices, req.send()).await
        })
        .await;
    let mut out = Vec::new();
    for o in results.into_iter().flatten() {
        out.extend(o.services().iter().map(|s| convert_service(s, since)));
        for f in o.failures() {
            let name = f.arn().map(tail).unwrap_or("?");
            ctx.record(
                Op::EcsDescribeServices,
                &Failure {
                    code: f.reason().unwrap_or("MISSING").to_string(),
                    message: format!("service {name} not found in cluster {cluster}"),
                    kind: FailKind::Service,
                },
                Some(format!("diagnosing service {name}")),
            );
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Which tasks to list.
pub enum TaskQuery<'a> {
    Cluster,
    Service(&'a str),
    Family(&'a str),
}

/// Task ARNs matching the query, running and stopped (ListTasks, 100 per page).
pub async fn list_tasks(ctx: &Ctx, ecs: &Client, cluster: &str, q: TaskQuery<'_>) -> Vec<String> {
    let mut arns = Vec::new();
    for status in [DesiredStatus::Running, DesiredStatus::Stopped] {
        let mut token: Option<String> = None;
        loop {
            let mut req = ecs
                .list_tasks()
                .cluster(cluster)
                .desired_status(status.clone())
                .max_results(100)
                .set_next_token(token.clone());
            req = match q {
                TaskQuery::Cluster => req,
                TaskQuery::Service(s) => req.service_name(s),
                TaskQuery::Family(f) => req.family(f),
            };
            let Some(out) = ctx.get(Op::EcsListTasks, req.send()).await else {
                break;
            };
            arns.extend(out.task_arns().iter().cloned());
            token = out.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
    }
    arns
}

/// DescribeTasks, 100 per call. Also returns each task ENI's owner (`task/<id>`).
pub async fn describe_tasks(
    ctx: &Ctx,
    ecs: &Client,
    cluster: &str,
    arns: &[String],
) -> (Vec<Task>, HashMap<String, String>) {
    let unique: BTreeSet<&String> = arns.iter().collect();
    let unique: Vec<String> = unique.into_iter().cloned().collect();
    let batches: Vec<Vec<String>> = unique.chunks(100).map(<[String]>::to_vec).collect();
    let results = ctx
        .each(batches, |batch| async move {
            let req = ecs.describe_tasks().cluster(cluster).set_tasks(Some(batch));
            ctx.get(Op::EcsDescribeTasks, req.send()).await
        })
        .await;
    let mut out = Vec::new();
    let mut enis = HashMap::new();
    for o in results.into_iter().flatten() {
        for t in o.tasks() {
            let task = convert_task(t);
            for e in task_enis(t) {
                enis.insert(e, format!("task/{}", task.id));
            }
            out.push(task);
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    (out, enis)
}

/// Families from which on one account-wide ListTaskDefinitions listing is tried before
/// listing family by family.
const ACCOUNT_LISTING_MIN_FAMILIES: usize = 3;

/// Recent task-definition ARNs of each family, newest first, at most `keep` each
/// (ListTaskDefinitions lists ACTIVE revisions only).
///
/// For a few families: one listing per family. For more: one account-wide listing first,
/// 100 ARNs per call, within a page budget of a quarter of the family count, so that the
/// calls grow with the account's revisions / 100 rather than with the families. When the
/// budget runs out, the families the listing has moved past (it is ordered by family)
/// are complete and only the others are listed one by one.
pub async fn recent_revisions(
    ctx: &Ctx,
    ecs: &Client,
    families: &BTreeSet<String>,
    keep: usize,
) -> BTreeMap<String, Vec<String>> {
    let mut found: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    let mut rest: Vec<&String> = families.iter().collect();
    if families.len() >= ACCOUNT_LISTING_MIN_FAMILIES {
        let budget = (families.len() / 4).max(2);
        match list_account(ctx, ecs, families, budget).await {
            Some(listing) => {
                rest.retain(|f| !listing.complete.contains(*f));
                found = listing.revisions;
            }
            // Failed (recorded): listing family by family would fail the same way.
            None => rest.clear(),
        }
    }
    let per_family = ctx
        .each(rest, |f| async move {
            (f, list_family(ctx, ecs, f, keep).await)
        })
        .await;
    for (f, revs) in per_family {
        found.insert(f.clone(), revs);
    }
    found
        .into_iter()
        .map(|(f, mut revs)| {
            revs.sort_by_key(|r| std::cmp::Reverse(r.0));
            revs.dedup_by_key(|r| r.0);
            (f, revs.into_iter().take(keep).map(|(_, a)| a).collect())
        })
        .collect()
}

/// What an account-wide listing found.
struct AccountListing {
    /// Revisions of the wanted families, as (revision, ARN).
    revisions: BTreeMap<String, Vec<(i64, String)>>,
    /// Wanted families whose revisions are all in `revisions`.
    complete: BTreeSet<String>,
}

/// Lists every ACTIVE task definition of the account, at most `budget` pages, keeping
/// those of `families`. `None` when a call failed.
async fn list_account(
    ctx: &Ctx,
    ecs: &Client,
    families: &BTreeSet<String>,
    budget: usize,
) -> Option<AccountListing> {
    let mut revisions: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    // Families the listing has moved past, and whether each family's revisions came in
    // one run (the API lists by family name, then revision).
    let mut passed: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut contiguous = true;
    let mut token: Option<String> = None;
    for _page in 0..budget {
        let req = ecs
            .list_task_definitions()
            .max_results(100)
            .set_next_token(token.clone());
        let out = ctx.get(Op::EcsListTaskDefinitions, req.send()).await?;
        for a in out.task_definition_arns() {
            let Some((f, r)) = crate::snapshot::split_td(a) else {
                continue;
            };
            if current.as_deref() != Some(f.as_str()) {
                if passed.contains(&f) {
                    contiguous = false;
                }
                if let Some(prev) = current.replace(f.clone()) {
                    passed.insert(prev);
                }
            }
            if families.contains(&f) {
                revisions.entry(f).or_default().push((r, a.clone()));
            }
        }
        token = out.next_token().map(String::from);
        if token.is_none() {
            return Some(AccountListing {
                revisions,
                complete: families.clone(),
            });
        }
    }
    let complete = if contiguous {
        families.intersection(&passed).cloned().collect()
    } else {
        BTreeSet::new()
    };
    revisions.retain(|f, _| complete.contains(f));
    Some(AccountListing {
        revisions,
        complete,
    })
}

/// One family's ACTIVE revisions as (revision, ARN): newest first where the API
/// honours `sort=DESC` (then the first `keep` are enough), else every page (at most 10).
async fn list_family(ctx: &Ctx, ecs: &Client, family: &str, keep: usize) -> Vec<(i64, String)> {
    let mut arns: Vec<(i64, String)> = Vec::new();
    let mut token: Option<String> = None;
    for _page in 0..10 {
        let req = ecs
            .list_task_definitions()
            .family_prefix(family)
            .sort(ecs::SortOrder::Desc)
            .max_results(100)
            .set_next_token(token.clone());
        let Some(out) = ctx.get(Op::EcsListTaskDefinitions, req.send()).await else {
            break;
        };
        let page: Vec<(i64, String)> = out
            .task_definition_arns()
            .iter()
            .filter_map(|a| {
                let (f, r) = crate::snapshot::split_td(a)?;
                (f == family).then(|| (r, a.clone()))
            })
            .collect();
        let newest_first = page.windows(2).all(|w| w[0].0 > w[1].0);
        let last = arns.last().map(|l| l.0);
        let continues_down = last.is_none_or(|l| page.first().is_none_or(|p| p.0 < l));
        arns.extend(page);
        token = out.next_token().map(String::from);
        if token.is_none() || (newest_first && continues_down && arns.len() >= keep) {
            break;
        }
    }
    arns
}

/// DescribeTaskDefinition for each key (`family:revision` or ARN); one call each (the API
/// has no batch form).
pub async fn describe_task_definitions(
    ctx: &Ctx,
    ecs: &Client,
    keys: &BTreeSet<String>,
) -> Vec<TaskDefinition> {
    let results = ctx
        .each(keys.iter().cloned(), |k| async move {
            let req = ecs.describe_task_definition().task_definition(k);
            ctx.get(Op::EcsDescribeTaskDefinition, req.send()).await
        })
        .await;
    let mut out: Vec<TaskDefinition> = results
        .into_iter()
        .flatten()
        .filter_map(|o| o.task_definition().map(convert_task_definition))
        .collect();
    out.sort_by(|a, b| (&a.family, a.revision).cmp(&(&b.family, b.revision)));
    out.dedup_by(|a, b| a.family == b.family && a.revision == b.revision);
    out
}
