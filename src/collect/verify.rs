//! `sickbay verify`: the start-path checks for a task-definition file before it is
//! deployed. The network configuration comes from the service it will run as (or from
//! `--subnets`/`--security-groups`/`--assign-public-ip`, which override it); then the
//! same lookups `doctor` makes for task definitions in use run for this one, and the
//! result is a snapshot holding the file's task definition as that service's.

use super::ctx::Ctx;
use super::{ecs, elb, fatal_of, network, startpath, Clients, Collected, Fatal, Options};
use crate::snapshot::SNAPSHOT_SCHEMA_VERSION;
use crate::snapshot::{AwsVpcConfig, Sealed, Service, Snapshot, Target, TaskDefinition};
use std::collections::HashMap;

/// Where the task definition will run.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    pub service: Option<String>,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: Option<bool>,
}

/// Collects what the checks need for `td` placed as `placement` in `opts.cluster`.
pub async fn verify(
    clients: &Clients,
    td: TaskDefinition,
    placement: &Placement,
    opts: &Options,
) -> Result<Collected, Fatal> {
    let ctx = Ctx::new(opts.timeout, opts.call_timeout, opts.concurrency, None);
    let result = run(&ctx, clients, td, placement, opts).await;
    let mut snapshot = result?;
    snapshot.collect_errors = ctx.take_errors();
    Ok(Collected {
        snapshot: Sealed::new(snapshot),
        calls: ctx.counts(),
    })
}

async fn run(
    ctx: &Ctx,
    clients: &Clients,
    td: TaskDefinition,
    placement: &Placement,
    opts: &Options,
) -> Result<Snapshot, Fatal> {
    let cluster = opts.cluster.as_str();
    match ecs::describe_cluster(ctx, &clients.ecs, cluster).await {
        Ok(ecs::ClusterLookup::Found { .. }) => {}
        Ok(ecs::ClusterLookup::Missing) => {
            return Err(Fatal::ClusterNotFound {
                cluster: cluster.to_string(),
                region: clients.region.clone(),
            })
        }
        Err(f) => {
            if let Some(fatal) = fatal_of(f.clone(), clients) {
                return Err(fatal);
            }
            ctx.record(super::ops::Op::EcsDescribeClusters, &f, None);
        }
    }
    let existing = match &placement.service {
        Some(name) => ecs::describe_services(
            ctx,
            &clients.ecs,
            cluster,
            std::slice::from_ref(name),
            opts.since,
        )
        .await
        .into_iter()
        .next(),
        None => None,
    };
    let service = place(&td, placement, existing);
    let no_lb = elb::Collected {
        load_balancers: Vec::new(),
        target_health: Vec::new(),
    };
    let services = [service];
    let (owners, regional) = (HashMap::new(), HashMap::new());
    let (net, start) = tokio::join!(
        network(ctx, clients, &services, &[], &no_lb, &[], &owners),
        startpath::check(
            ctx,
            clients,
            std::slice::from_ref(&td),
            opts.simulate_iam,
            &regional
        )
    );
    let [service] = services;
    let mut net = net;
    super::ec2::add_groups(ctx, &clients.ec2, &mut net, start.extra_groups()).await;
    let mut snap = Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        captured_at: Some(chrono::Utc::now()),
        target: Target {
            cluster: Some(cluster.to_string()),
            region: Some(clients.region.clone()),
            services: vec![service.name.clone()],
            note: Some("sickbay verify: a task-definition file checked before deploy".into()),
            ..Target::default()
        },
        services: vec![service],
        task_definitions: vec![td],
        network: net,
        ..Snapshot::default()
    };
    start.apply(&mut snap);
    Ok(snap)
}

/// The service the task definition will run as: the existing one with the file's task
/// definition in place, or one made from the flags. Flags override the service's network.
fn place(td: &TaskDefinition, p: &Placement, existing: Option<Service>) -> Service {
    let mut svc = existing.unwrap_or_else(|| Service {
        name: p.service.clone().unwrap_or_else(|| td.family.clone()),
        ..Service::default()
    });
    svc.task_definition = Some(td.key());
    // Events and deployments belong to what runs now, not to this file.
    svc.events.clear();
    svc.deployments.clear();
    if svc.launch_type.is_none() && td.requires_compatibilities.iter().any(|c| c == "FARGATE") {
        svc.launch_type = Some("FARGATE".into());
    }
    let mut net = svc.network.take().unwrap_or_default();
    if !p.subnets.is_empty() {
        net.subnets = p.subnets.clone();
    }
    if !p.security_groups.is_empty() {
        net.security_groups = p.security_groups.clone();
    }
    if let Some(ip) = p.assign_public_ip {
        net.assign_public_ip = ip;
    }
    svc.network = (!net.subnets.is_empty()).then_some(AwsVpcConfig { ..net });
    svc
}
