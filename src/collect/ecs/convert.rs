//! Conversions of the ECS SDK's services, tasks and task definitions into snapshot
//! types, apart from the calls in [`super`] so that those read as the order of
//! collection. What each field becomes is tested through mock clients in
//! `tests/collect_mocks.rs`.

use super::td_key;
use crate::collect::{dt, tail};
use crate::snapshot::{
    AwsVpcConfig, ContainerDefinition, ContainerState, Deployment, EnvVar, HealthCheck,
    LogConfiguration, PortMapping, RuntimePlatform, SecretRef, Service, ServiceConnect,
    ServiceEvent, ServiceLoadBalancer, Task, TaskDefinition,
};
use aws_sdk_ecs::types as ecs;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Converts one ECS service; events older than `since` are dropped.
pub fn convert_service(s: &ecs::Service, since: DateTime<Utc>) -> Service {
    let events = service_events(s, since);
    let deployments = s.deployments().iter().map(convert_deployment).collect();
    let network = vpc(s.network_configuration());
    let service_connect = service_connect(s);
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

/// The service's events from `since` on, newest first.
fn service_events(s: &ecs::Service, since: DateTime<Utc>) -> Vec<ServiceEvent> {
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
    events
}

/// Converts one deployment of a service.
fn convert_deployment(d: &ecs::Deployment) -> Deployment {
    Deployment {
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
    }
}

/// The Service Connect configuration of the service's primary deployment.
fn service_connect(s: &ecs::Service) -> Option<ServiceConnect> {
    s.deployments()
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
        })
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
