//! The collection run behind [`super::collect`]: the cluster looked up first (its
//! failure decides whether collection can go on at all), then the stages, pipelined so
//! that each starts as soon as what it needs is known, and the snapshot assembled from
//! what they gathered. Kept apart from the public entry points in [`super`]: this file
//! is the order of the stages and what waits for what.

use super::ctx::Ctx;
use super::ops::Op;
use super::{ec2, ecs, elb, fatal_of, logs, rds, startpath, trail, Clients, Fatal, Options};
use crate::snapshot::{
    Endpoint, Network, Service, Snapshot, Target, Task, TaskDefinition, SNAPSHOT_SCHEMA_VERSION,
};
use chrono::Utc;
use std::collections::{BTreeSet, HashMap};
use tokio::sync::oneshot;

/// The tasks in scope and the task definitions around them.
struct InUse {
    tasks: Vec<Task>,
    /// Each task ENI's owner (`task/<id>`).
    eni_owner: HashMap<String, String>,
    /// The task definitions the services and the tasks use.
    in_use: Vec<TaskDefinition>,
    /// The keys of the families' recent revisions not in use.
    history: BTreeSet<String>,
}

/// What the stages after the tasks gathered.
struct Gathered {
    tasks: Vec<Task>,
    task_definitions: Vec<TaskDefinition>,
    log_data: logs::Collected,
    start: startpath::StartPath,
    lb: elb::Collected,
    endpoints: Vec<Endpoint>,
    network: Network,
}

pub(super) async fn run(ctx: &Ctx, clients: &Clients, opts: &Options) -> Result<Snapshot, Fatal> {
    let cluster = opts.cluster.as_str();
    ctx.set_stage("ECS");
    // The first call tells whether AWS can be reached at all.
    let account = cluster_account(ctx, clients, cluster).await?;
    let all_services = opts.services.is_empty() && opts.families.is_empty();
    let names = if opts.services.is_empty() && all_services {
        ecs::list_services(ctx, &clients.ecs, cluster).await
    } else {
        opts.services.clone()
    };
    let services = ecs::describe_services(ctx, &clients.ecs, cluster, &names, opts.since).await;
    let in_scope: BTreeSet<String> = names.iter().cloned().collect();

    // From here on the stages are pipelined: each starts as soon as what it needs is
    // known, so the calls of independent stages are in flight together (bounded by
    // `--concurrency` in [`Ctx::call`]).
    // Load balancers need only the services.
    let (lb_tx, lb_rx) = oneshot::channel();
    let lb_fut = async {
        let _ = lb_tx.send(load_balancers(ctx, clients, &services).await);
    };
    let main_fut = async {
        let found = in_use(ctx, clients, opts, &services, &in_scope, all_services).await;
        gather(ctx, clients, opts, &services, found, lb_rx).await
    };
    let ((), gathered) = tokio::join!(lb_fut, main_fut);
    Ok(assemble(ctx, clients, opts, (account, names), services, gathered).await)
}

/// The cluster's account (from its ARN). DescribeClusters is the run's first call: a
/// failure that means nothing can work is fatal, any other is recorded.
async fn cluster_account(
    ctx: &Ctx,
    clients: &Clients,
    cluster: &str,
) -> Result<Option<String>, Fatal> {
    match ecs::describe_cluster(ctx, &clients.ecs, cluster).await {
        Ok(ecs::ClusterLookup::Found { arn }) => Ok(arn.as_deref().and_then(account_of)),
        Ok(ecs::ClusterLookup::Missing) => Err(Fatal::ClusterNotFound {
            cluster: cluster.to_string(),
            region: clients.region.clone(),
        }),
        Err(f) => match fatal_of(f.clone(), clients) {
            Some(fatal) => Err(fatal),
            None => {
                ctx.record(Op::EcsDescribeClusters, &f, None);
                Ok(None)
            }
        },
    }
}

/// The tasks in scope, the task definitions the services and tasks use, and the keys
/// of the families' recent revisions besides.
async fn in_use(
    ctx: &Ctx,
    clients: &Clients,
    opts: &Options,
    services: &[Service],
    in_scope: &BTreeSet<String>,
    all_services: bool,
) -> InUse {
    // Task definitions in use by the services, and each family's recent revisions, while
    // the tasks are listed.
    let svc_keys = service_td_keys(services);
    let mut fams = families_of(&svc_keys);
    fams.extend(opts.families.iter().cloned());
    let ((tasks, eni_owner), svc_tds, recent) = tokio::join!(
        tasks(ctx, clients, opts, services, in_scope, all_services),
        ecs::describe_task_definitions(ctx, &clients.ecs, &svc_keys),
        ecs::recent_revisions(ctx, &clients.ecs, &fams, opts.revisions),
    );
    // Task definitions seen only in tasks (and their families' recent revisions).
    let mut task_keys: BTreeSet<String> = tasks.iter().map(|t| t.task_definition.clone()).collect();
    task_keys.retain(|k| !k.is_empty() && !svc_keys.contains(k));
    let mut new_fams = families_of(&task_keys);
    new_fams.retain(|f| !fams.contains(f));
    let (task_tds, more_recent) = tokio::join!(
        ecs::describe_task_definitions(ctx, &clients.ecs, &task_keys),
        ecs::recent_revisions(ctx, &clients.ecs, &new_fams, opts.revisions),
    );
    let mut history: BTreeSet<String> = recent
        .into_values()
        .chain(more_recent.into_values())
        .flatten()
        .map(|a| ecs::td_key(&a))
        .collect();
    history.retain(|k| !svc_keys.contains(k) && !task_keys.contains(k));
    InUse {
        tasks,
        eni_owner,
        in_use: merge_tds(svc_tds, task_tds),
        history,
    }
}

/// The tasks of the services in scope and of the families, running and stopped, with
/// their services' security groups, and each task ENI's owner.
async fn tasks(
    ctx: &Ctx,
    clients: &Clients,
    opts: &Options,
    services: &[Service],
    in_scope: &BTreeSet<String>,
    all_services: bool,
) -> (Vec<Task>, HashMap<String, String>) {
    let cluster = opts.cluster.as_str();
    // The whole cluster at once when every service is in scope (calls grow with
    // tasks/100, not with services), else per service and family.
    let mut queries = Vec::new();
    if all_services {
        queries.push(ecs::TaskQuery::Cluster);
    } else {
        queries.extend(opts.services.iter().map(|s| ecs::TaskQuery::Service(s)));
        queries.extend(opts.families.iter().map(|f| ecs::TaskQuery::Family(f)));
    }
    let arns: Vec<String> = ctx
        .each(queries, |q| ecs::list_tasks(ctx, &clients.ecs, cluster, q))
        .await
        .into_iter()
        .flatten()
        .collect();
    let (mut tasks, eni_owner) = ecs::describe_tasks(ctx, &clients.ecs, cluster, &arns).await;
    let families: BTreeSet<&str> = opts.families.iter().map(String::as_str).collect();
    tasks.retain(|t| {
        let svc = t.group.as_deref().and_then(|g| g.strip_prefix("service:"));
        let fam = crate::snapshot::split_td(&t.task_definition).map(|(f, _)| f);
        svc.is_some_and(|s| in_scope.contains(s))
            || fam.is_some_and(|f| families.contains(f.as_str()))
    });
    fill_task_sgs(&mut tasks, services);
    (tasks, eni_owner)
}

/// The stages that need the tasks and their task definitions, run together, and what the
/// tasks still lack once the network is known.
async fn gather(
    ctx: &Ctx,
    clients: &Clients,
    opts: &Options,
    services: &[Service],
    mut found: InUse,
    lb_rx: oneshot::Receiver<elb::Collected>,
) -> Gathered {
    // Logs need only the tasks and their task definitions; the older revisions, the
    // endpoints and the network are collected meanwhile.
    ctx.set_stage("logs, load balancers and network");
    let (wanted, notes) = logs::plan(&found.tasks, &found.in_use);
    let regions: BTreeSet<String> = wanted.iter().filter_map(|w| w.region.clone()).collect();
    let regional = clients.regional_logs(&regions);
    let logs_fut = logs::collect(
        ctx,
        |r| r.and_then(|r| regional.get(r)).unwrap_or(&clients.logs),
        &wanted,
        opts.since,
        opts.log_lines,
        (opts.logs, opts.prefilter.as_ref().map(|r| r.prefilter())),
    );
    let start_fut = startpath::check(ctx, clients, &found.in_use, opts.simulate_iam, &regional);
    let rest_fut = older_and_network(ctx, clients, services, &found, lb_rx);
    let (mut log_data, start, (task_definitions, lb, endpoints, network)) =
        tokio::join!(logs_fut, start_fut, rest_fut);
    log_data.streams.extend(notes);
    log_data
        .streams
        .sort_by(|a, b| (&a.group, &a.stream).cmp(&(&b.group, &b.stream)));
    fill_standalone_sgs(&mut found.tasks, &network);
    Gathered {
        tasks: found.tasks,
        task_definitions,
        log_data,
        start,
        lb,
        endpoints,
        network,
    }
}

/// The families' older revisions (merged with those in use), the database endpoints
/// and, once the load balancers are known, the network around it all.
async fn older_and_network(
    ctx: &Ctx,
    clients: &Clients,
    services: &[Service],
    found: &InUse,
    lb_rx: oneshot::Receiver<elb::Collected>,
) -> (Vec<TaskDefinition>, elb::Collected, Vec<Endpoint>, Network) {
    let older = ecs::describe_task_definitions(ctx, &clients.ecs, &found.history).await;
    let task_definitions = merge_tds(found.in_use.clone(), older);
    let endpoints = endpoints(ctx, clients, &task_definitions).await;
    let lb = lb_rx.await.unwrap_or_else(|_| elb::Collected {
        load_balancers: Vec::new(),
        target_health: Vec::new(),
    });
    let network = network(
        ctx,
        clients,
        services,
        &found.tasks,
        &lb,
        &endpoints,
        &found.eni_owner,
    )
    .await;
    (task_definitions, lb, endpoints, network)
}

/// Standalone tasks have no service to take security groups from: use their ENI's.
fn fill_standalone_sgs(tasks: &mut [Task], network: &Network) {
    for t in tasks.iter_mut().filter(|t| t.security_groups.is_empty()) {
        let owner = format!("task/{}", t.id);
        if let Some(i) = network
            .interfaces
            .iter()
            .find(|i| i.owner.as_deref() == Some(owner.as_str()))
        {
            t.security_groups = i.security_groups.clone();
        }
    }
}

/// The snapshot of what the stages gathered (`scope`: the cluster's account and the
/// services named), with the security groups the start-path checks found described as
/// well, and the window's account changes.
async fn assemble(
    ctx: &Ctx,
    clients: &Clients,
    opts: &Options,
    scope: (Option<String>, Vec<String>),
    services: Vec<Service>,
    gathered: Gathered,
) -> Snapshot {
    let (account, names) = scope;
    let Gathered {
        tasks,
        task_definitions,
        log_data,
        start,
        lb,
        endpoints,
        mut network,
    } = gathered;
    ec2::add_groups(ctx, &clients.ec2, &mut network, start.extra_groups()).await;
    let mut services_sorted = services;
    services_sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut snap = Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        captured_at: Some(Utc::now()),
        target: Target {
            cluster: Some(opts.cluster.clone()),
            region: Some(clients.region.clone()),
            account,
            services: names,
            families: opts.families.clone(),
            since: Some(opts.since),
            note: Some("collected live by sickbay".into()),
        },
        services: services_sorted,
        tasks,
        task_definitions,
        logs: log_data.lines,
        log_streams: log_data.streams,
        log_reads: log_data.reads,
        network,
        load_balancers: lb.load_balancers,
        target_health: lb.target_health,
        endpoints,
        db_probes: Vec::new(),
        collect_errors: Vec::new(),
        ..Snapshot::default()
    };
    start.apply(&mut snap);
    if opts.cloudtrail {
        ctx.set_stage("CloudTrail");
        let wanted = trail::wanted(&snap);
        let (changes, read) = trail::changes(ctx, &clients.cloudtrail, opts.since, &wanted).await;
        snap.account_changes = changes;
        snap.trail = Some(read);
    }
    snap
}

/// The task definitions the services name (in use and in their deployments).
fn service_td_keys(services: &[Service]) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for s in services {
        keys.extend(s.task_definition.iter().cloned());
        keys.extend(s.deployments.iter().map(|d| d.task_definition.clone()));
    }
    keys.retain(|k| !k.is_empty());
    keys
}

/// The families of task-definition keys.
fn families_of(keys: &BTreeSet<String>) -> BTreeSet<String> {
    keys.iter()
        .filter_map(|k| crate::snapshot::split_td(k).map(|(f, _)| f))
        .collect()
}

/// Two lists of task definitions as one, sorted by family and revision, without repeats.
fn merge_tds(mut a: Vec<TaskDefinition>, b: Vec<TaskDefinition>) -> Vec<TaskDefinition> {
    a.extend(b);
    a.sort_by(|x, y| (&x.family, x.revision).cmp(&(&y.family, y.revision)));
    a.dedup_by(|x, y| x.family == y.family && x.revision == y.revision);
    a
}

/// The target groups of the services, their load balancers and target health.
async fn load_balancers(ctx: &Ctx, clients: &Clients, services: &[Service]) -> elb::Collected {
    let tg_arns: BTreeSet<String> = services
        .iter()
        .flat_map(|s| s.load_balancers.iter())
        .filter_map(|l| l.target_group_arn.clone())
        .collect();
    if tg_arns.is_empty() {
        elb::Collected {
            load_balancers: Vec::new(),
            target_health: Vec::new(),
        }
    } else {
        elb::collect(ctx, &clients.elb, &tg_arns).await
    }
}

/// The database endpoints the task definitions' environment names.
async fn endpoints(ctx: &Ctx, clients: &Clients, tds: &[TaskDefinition]) -> Vec<Endpoint> {
    let env_values: Vec<String> = tds
        .iter()
        .flat_map(|t| t.containers.iter())
        .flat_map(|c| c.environment.iter())
        .map(|e| e.value.to_ascii_lowercase())
        .collect();
    if env_values.iter().any(|v| v.contains(".rds.amazonaws.com")) {
        rds::collect(ctx, &clients.rds, &env_values).await
    } else {
        Vec::new()
    }
}

/// The network around the services, tasks, load balancers and endpoints (which give the
/// security groups and subnets to start from).
pub(super) async fn network(
    ctx: &Ctx,
    clients: &Clients,
    services: &[Service],
    tasks: &[Task],
    lb: &elb::Collected,
    endpoints: &[Endpoint],
    eni_owner: &HashMap<String, String>,
) -> Network {
    let mut sgs: BTreeSet<String> = BTreeSet::new();
    let mut subnets: BTreeSet<String> = BTreeSet::new();
    for s in services {
        if let Some(n) = &s.network {
            sgs.extend(n.security_groups.iter().cloned());
            subnets.extend(n.subnets.iter().cloned());
        }
    }
    for t in tasks {
        sgs.extend(t.security_groups.iter().cloned());
    }
    for e in endpoints {
        sgs.extend(e.security_groups.iter().cloned());
    }
    for l in &lb.load_balancers {
        sgs.extend(l.security_groups.iter().cloned());
        subnets.extend(l.subnets.iter().cloned());
    }
    if sgs.is_empty() && subnets.is_empty() {
        Network::default()
    } else {
        ec2::collect(ctx, &clients.ec2, &sgs, &subnets, eni_owner).await
    }
}

/// A service's tasks carry the service's security groups (DescribeTasks does not return
/// them; the ENI, when it still exists, is matched by IP in the network facts).
fn fill_task_sgs(tasks: &mut [Task], services: &[Service]) {
    let by_name: HashMap<&str, &Service> = services.iter().map(|s| (s.name.as_str(), s)).collect();
    for t in tasks {
        let svc = t
            .group
            .as_deref()
            .and_then(|g| g.strip_prefix("service:"))
            .and_then(|s| by_name.get(s));
        if let Some(n) = svc.and_then(|s| s.network.as_ref()) {
            if t.security_groups.is_empty() {
                t.security_groups = n.security_groups.clone();
            }
        }
    }
}

/// Account id from an ARN.
fn account_of(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(String::from)
}
