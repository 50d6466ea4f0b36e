//! ECS: the cluster, its services (DescribeServices, 10 per call), their running and
//! stopped tasks (ListTasks, then DescribeTasks 100 per call) and the task definitions in
//! use, seen in tasks, and the families' recent revisions (ListTaskDefinitions +
//! DescribeTaskDefinition), converted at once into snapshot types.

use super::ctx::{Ctx, FailKind, Failure};
use super::ops::Op;
use super::{dt, tail};
use crate::snapshot::{
    AwsVpcConfig, ContainerDefinition, ContainerState, Deployment, EnvVar, HealthCheck,
    LogConfiguration, PortMapping, RuntimePlatform, SecretRef, Service, ServiceConnect,
    ServiceEvent, ServiceLoadBalancer, Task, TaskDefinition,
};
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

/// Converts one ECS service; events older than `since` are dropped.
pub fn convert_service(s: &ecs::Service, since: DateTime<Utc>) -> Service {
    let mut events: Vec<ServiceEvent> = s
        .events()
        .iter()
        .filter_map(|e| {
            Some(ServiceEvent {
                id: e.id().map(String::from),
                created_at: dt(e.created_at())?,
                message: e.message().unwrap_or_default().to_string(),
            })
        })
        .filter(|e| e.created_at >= since)
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.created_at));
    let deployments = s
        .deployments()
        .iter()
        .map(|d| Deployment {
            id: d.id().unwrap_or_default().to_string(),
            status: d.status().unwrap_or_default().to_string(),
            task_definition: td_key(d.task_definition().unwrap_or_default()),
            desired_count: d.desired_count(),
            running_count: d.running_count(),
            failed_tasks: d.failed_tasks(),
            rollout_state: d.rollout_state().map(|r| r.as_str().to_string()),
            rollout_state_reason: d.rollout_state_reason().map(String::from),
            created_at: dt(d.created_at()),
            updated_at: dt(d.updated_at()),
            network: vpc(d.network_configuration()),
            launch_type: d.launch_type().map(|l| l.as_str().to_string()),
            capacity_providers: d
                .capacity_provider_strategy()
                .iter()
                .map(|c| {
                    format!(
                        "{} weight={} base={}",
                        c.capacity_provider(),
                        c.weight(),
                        c.base()
                    )
                })
                .collect(),
            platform_version: d.platform_version().map(String::from),
        })
        .collect();
    let network = vpc(s.network_configuration());
    let service_connect = s
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .and_then(|d| d.service_connect_configuration())
        .map(|c| ServiceConnect {
            enabled: c.enabled(),
            namespace: c.namespace().map(String::from),
            aliases: c
                .services()
                .iter()
                .flat_map(|s| s.client_aliases())
                .filter_map(|a| a.dns_name().map(|d| format!("{d}:{}", a.port())))
                .collect(),
        });
    Service {
        name: s.service_name().unwrap_or_default().to_string(),
        arn: s.service_arn().map(String::from),
        status: s.status().map(String::from),
        desired_count: s.desired_count(),
        running_count: s.running_count(),
        pending_count: s.pending_count(),
        launch_type: s.launch_type().map(|l| l.as_str().to_string()),
        task_definition: s.task_definition().map(td_key),
        events,
        deployments,
        network,
        load_balancers: s
            .load_balancers()
            .iter()
            .map(|l| ServiceLoadBalancer {
                target_group_arn: l.target_group_arn().map(String::from),
                container_name: l.container_name().map(String::from),
                container_port: l.container_port(),
            })
            .collect(),
        health_check_grace_period_seconds: s.health_check_grace_period_seconds(),
        service_registries: s
            .service_registries()
            .iter()
            .filter_map(|r| r.registry_arn().map(String::from))
            .collect(),
        service_connect,
    }
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

/// The ENI ids of a task (from its attachments), for matching network interfaces.
pub fn task_enis(t: &ecs::Task) -> Vec<String> {
    t.attachments()
        .iter()
        .flat_map(|a| a.details())
        .filter(|d| d.name() == Some("networkInterfaceId"))
        .filter_map(|d| d.value().map(String::from))
        .collect()
}

/// Converts one ECS task. Security groups are not part of DescribeTasks; the caller
/// fills them from the ENI or the service's network configuration.
pub fn convert_task(t: &ecs::Task) -> Task {
    let mut ips: Vec<String> = t
        .attachments()
        .iter()
        .flat_map(|a| a.details())
        .filter(|d| d.name() == Some("privateIPv4Address"))
        .filter_map(|d| d.value().map(String::from))
        .collect();
    for c in t.containers() {
        for n in c.network_interfaces() {
            if let Some(ip) = n.private_ipv4_address() {
                ips.push(ip.to_string());
            }
        }
    }
    ips.sort();
    ips.dedup();
    let arn = t.task_arn().unwrap_or_default();
    Task {
        id: tail(arn).to_string(),
        arn: t.task_arn().map(String::from),
        task_definition: td_key(t.task_definition_arn().unwrap_or_default()),
        group: t.group().map(String::from),
        started_by: t.started_by().map(String::from),
        last_status: t.last_status().unwrap_or("UNKNOWN").to_string(),
        desired_status: t.desired_status().map(String::from),
        launch_type: t.launch_type().map(|l| l.as_str().to_string()),
        availability_zone: t.availability_zone().map(String::from),
        stop_code: t.stop_code().map(|c| c.as_str().to_string()),
        stopped_reason: t.stopped_reason().map(String::from),
        health_status: t.health_status().map(|h| h.as_str().to_string()),
        private_ips: ips,
        security_groups: Vec::new(),
        created_at: dt(t.created_at()),
        started_at: dt(t.started_at()),
        stopped_at: dt(t.stopped_at()),
        containers: t
            .containers()
            .iter()
            .map(|c| ContainerState {
                name: c.name().unwrap_or_default().to_string(),
                image: c.image().map(String::from),
                image_digest: c.image_digest().map(String::from),
                last_status: c.last_status().map(String::from),
                exit_code: c.exit_code(),
                reason: c.reason().map(String::from),
                health_status: c.health_status().map(|h| h.as_str().to_string()),
            })
            .collect(),
    }
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

/// Converts one task definition.
pub fn convert_task_definition(td: &ecs::TaskDefinition) -> TaskDefinition {
    TaskDefinition {
        family: td.family().unwrap_or_default().to_string(),
        revision: i64::from(td.revision()),
        arn: td.task_definition_arn().map(String::from),
        registered_at: dt(td.registered_at()),
        status: td.status().map(|s| s.as_str().to_string()),
        network_mode: td.network_mode().map(|m| m.as_str().to_string()),
        requires_compatibilities: td
            .requires_compatibilities()
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        runtime_platform: td.runtime_platform().map(|p| RuntimePlatform {
            cpu_architecture: p.cpu_architecture().map(|c| c.as_str().to_string()),
            os_family: p.operating_system_family().map(|o| o.as_str().to_string()),
        }),
        cpu: td.cpu().map(String::from),
        memory: td.memory().map(String::from),
        execution_role_arn: td.execution_role_arn().map(String::from),
        task_role_arn: td.task_role_arn().map(String::from),
        containers: td
            .container_definitions()
            .iter()
            .map(convert_container)
            .collect(),
        efs_volumes: td
            .volumes()
            .iter()
            .filter_map(|v| {
                let efs = v.efs_volume_configuration()?;
                Some(crate::snapshot::EfsVolume {
                    volume: v.name().unwrap_or_default().to_string(),
                    file_system_id: efs.file_system_id().to_string(),
                })
            })
            .collect(),
    }
}

fn convert_container(c: &ecs::ContainerDefinition) -> ContainerDefinition {
    ContainerDefinition {
        name: c.name().unwrap_or_default().to_string(),
        image: c.image().unwrap_or_default().to_string(),
        essential: c.essential().unwrap_or(true),
        environment: c
            .environment()
            .iter()
            .map(|e| EnvVar {
                name: e.name().unwrap_or_default().to_string(),
                value: e.value().unwrap_or_default().to_string(),
            })
            .collect(),
        secrets: c
            .secrets()
            .iter()
            .map(|s| SecretRef {
                name: s.name().to_string(),
                value_from: s.value_from().to_string(),
            })
            .collect(),
        port_mappings: c
            .port_mappings()
            .iter()
            .filter_map(|p| {
                Some(PortMapping {
                    container_port: p.container_port()?,
                    host_port: p.host_port(),
                    protocol: p.protocol().map(|x| x.as_str().to_string()),
                })
            })
            .collect(),
        health_check: c.health_check().map(|h| HealthCheck {
            command: h.command().to_vec(),
            interval: h.interval(),
            timeout: h.timeout(),
            retries: h.retries(),
            start_period: h.start_period(),
        }),
        log_configuration: c.log_configuration().map(|l| LogConfiguration {
            log_driver: l.log_driver().as_str().to_string(),
            options: l
                .options()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect::<BTreeMap<_, _>>()
                })
                .unwrap_or_default(),
        }),
        command: c.command().to_vec(),
        entry_point: c.entry_point().to_vec(),
        memory: c.memory(),
        memory_reservation: c.memory_reservation(),
        links: c.links().to_vec(),
    }
}

/// The awsvpc part of a network configuration.
fn vpc(n: Option<&aws_sdk_ecs::types::NetworkConfiguration>) -> Option<AwsVpcConfig> {
    n.and_then(|n| n.awsvpc_configuration())
        .map(|v| AwsVpcConfig {
            subnets: v.subnets().to_vec(),
            security_groups: v.security_groups().to_vec(),
            assign_public_ip: v
                .assign_public_ip()
                .is_some_and(|a| a.as_str() == "ENABLED"),
        })
}
