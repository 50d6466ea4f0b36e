//! The snapshot: everything sickbay knows about one incident, as the project's own
//! serde types. Live collectors produce it, `--save` writes it, `--snapshot` reads it
//! back, and every fixture is one. Analysis only ever reads a `Snapshot`, which is why
//! any incident can be replayed offline.

mod load;
pub mod redact;
mod sealed;
mod startpath;

pub use load::{load_snapshot, parse_snapshot};
pub use sealed::Sealed;
pub use startpath::{
    AccountChange, AclEntry, FileSystemCheck, ImageCheck, LogGroupCheck, MountTarget, NatGateway,
    NetworkAcl, PermissionCheck, RoleCheck, SecretCheck, TrailRead, VpcEndpoint,
};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the snapshot format. Bumped on incompatible changes.
pub const SNAPSHOT_SCHEMA_VERSION: u32 = 1;

/// One recorded incident.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub schema_version: u32,
    /// When the snapshot was captured (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<DateTime<Utc>>,
    /// What the snapshot describes: cluster, region, services or families in scope.
    #[serde(default)]
    pub target: Target,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<Task>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub task_definitions: Vec<TaskDefinition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<LogLine>,
    /// Log streams that were looked up; `exists = false` is evidence that a task died
    /// before it could log.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_streams: Vec<LogStream>,
    /// How each log group was read (`doctor --logs`), and how much of the window it covered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_reads: Vec<LogRead>,
    /// Log groups the task definitions name, and whether each exists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_groups: Vec<LogGroupCheck>,
    /// Secrets and parameters the task definitions reference, and whether each exists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_refs: Vec<SecretCheck>,
    /// ECR images the task definitions name, and whether each exists (and for which
    /// platforms).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageCheck>,
    /// Execution and task roles the task definitions name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleCheck>,
    /// What the execution roles may do, simulated per task definition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<PermissionCheck>,
    /// EFS file systems the task definitions mount, and their mount targets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_systems: Vec<FileSystemCheck>,
    /// Write events of the window (CloudTrail) that touched the snapshot's resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub account_changes: Vec<AccountChange>,
    /// How CloudTrail was read; absent when it was not (`--cloudtrail off`, older snapshots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trail: Option<TrailRead>,
    #[serde(default, skip_serializing_if = "Network::is_empty")]
    pub network: Network,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancers: Vec<LoadBalancer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_health: Vec<TargetHealth>,
    /// Known dependency endpoints (databases, caches) with their security groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<Endpoint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub db_probes: Vec<DbProbe>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collect_errors: Vec<CollectError>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<String>,
    /// Start of the observation window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Free-form note on where this snapshot came from (for fixtures: the seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

// ---------------------------------------------------------------- ECS services

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// ACTIVE, DRAINING, INACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default)]
    pub desired_count: i32,
    #[serde(default)]
    pub running_count: i32,
    #[serde(default)]
    pub pending_count: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<String>,
    /// `family:revision` of the service's current task definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<ServiceEvent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<Deployment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<AwsVpcConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancers: Vec<ServiceLoadBalancer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_grace_period_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_registries: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_connect: Option<ServiceConnect>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    pub id: String,
    /// PRIMARY or ACTIVE.
    pub status: String,
    /// `family:revision`.
    pub task_definition: String,
    #[serde(default)]
    pub desired_count: i32,
    #[serde(default)]
    pub running_count: i32,
    #[serde(default)]
    pub failed_tasks: i32,
    /// IN_PROGRESS, COMPLETED, FAILED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_state_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// The deployment's own network configuration (it can differ from the service's
    /// current one while an older deployment drains).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<AwsVpcConfig>,
    /// FARGATE, EC2 or EXTERNAL, when set instead of a capacity provider strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<String>,
    /// `FARGATE_SPOT weight=1 base=0`, one per provider.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity_providers: Vec<String>,
    /// The Fargate platform version (`1.4.0`, `LATEST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_version: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AwsVpcConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    #[serde(default)]
    pub assign_public_ip: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceLoadBalancer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_port: Option<i32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceConnect {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

// ---------------------------------------------------------------- ECS tasks

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// The task id (last part of the ARN).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// `family:revision`.
    pub task_definition: String,
    /// `service:NAME`, `family:NAME` or whatever started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// `ecs-svc/...`, `events-rule/...` (EventBridge schedules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
    /// PROVISIONING, PENDING, RUNNING, STOPPED ...
    pub last_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private_ips: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<ContainerState>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContainerState {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_status: Option<String>,
}

// ---------------------------------------------------------------- task definitions

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TaskDefinition {
    pub family: String,
    pub revision: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<DateTime<Utc>>,
    /// ACTIVE or INACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_compatibilities: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_platform: Option<RuntimePlatform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<ContainerDefinition>,
    /// Volumes backed by EFS: (volume name, file system id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub efs_volumes: Vec<EfsVolume>,
}

/// A task-definition volume on an EFS file system.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EfsVolume {
    pub volume: String,
    pub file_system_id: String,
}

impl TaskDefinition {
    /// `family:revision`, the way ECS names a revision.
    pub fn key(&self) -> String {
        format!("{}:{}", self.family, self.revision)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuntimePlatform {
    /// X86_64 or ARM64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_family: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: String,
    #[serde(default = "default_true")]
    pub essential: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment: Vec<EnvVar>,
    /// Secret references (`valueFrom`), never their values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_mappings: Vec<PortMapping>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_configuration: Option<LogConfiguration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entry_point: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_reservation: Option<i32>,
    /// `links` (bridge network mode): `name` or `name:alias` of containers in the task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    pub name: String,
    pub value_from: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PortMapping {
    pub container_port: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<i32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogConfiguration {
    /// awslogs, awsfirelens, splunk, json-file ...
    pub log_driver: String,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub options: std::collections::BTreeMap<String, String>,
}

// ---------------------------------------------------------------- logs

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
    pub message: String,
    /// Task id the stream belongs to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// 1-based line number in the scanned input (for `scan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// How many identical lines this entry stands for (`scan` folds repeats; `doctor
    /// --logs window` folds a stream's repeats across the window).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u64,
    /// Time of the last of the `count` lines, when they span a period (`timestamp` is
    /// the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_timestamp: Option<DateTime<Utc>>,
}

/// How one log group's streams were read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct LogRead {
    pub group: String,
    /// `tail` (the last lines of each stream), `window` (every line of the window,
    /// keeping those some rule's log pattern matches, plus the tail), `insights` or
    /// `filter` (the window searched on the server, by Logs Insights or by filter
    /// patterns, for the rules' literals; the candidates tested here, plus the tail).
    pub mode: String,
    pub streams: usize,
    /// Lines fetched from CloudWatch.
    pub events: u64,
    /// Distinct lines kept because a rule's log pattern matches them (all but `tail`).
    pub matched: usize,
    /// False when a page, query or result limit stopped the read before the end of
    /// the window.
    pub complete: bool,
    /// Time of the last line read, when the read stopped early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_until: Option<DateTime<Utc>>,
    /// Records the server scanned (Logs Insights statistics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned: Option<u64>,
    /// Bytes the server scanned, which Logs Insights bills (its statistics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_scanned: Option<u64>,
    /// Why a preferred way was not used (`--logs auto`), with the denied action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// Log patterns the server-side search could not cover (tested on the tail only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub uncovered: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn one() -> u64 {
    1
}
fn is_one(n: &u64) -> bool {
    *n == 1
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogStream {
    pub group: String,
    pub stream: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub exists: bool,
    /// Why the stream could not be read (for example "logs not in CloudWatch").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

// ---------------------------------------------------------------- network

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Network {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<SecurityGroup>,
    /// Every private IP known to exist in the VPC (ENIs of tasks, load balancers,
    /// instances, databases).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<NetworkInterface>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<Subnet>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vpc_endpoints: Vec<VpcEndpoint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nat_gateways: Vec<NatGateway>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network_acls: Vec<NetworkAcl>,
}

impl Network {
    pub fn is_empty(&self) -> bool {
        self.vpc_id.is_none()
            && self.security_groups.is_empty()
            && self.interfaces.is_empty()
            && self.subnets.is_empty()
            && self.routes.is_empty()
            && self.vpc_endpoints.is_empty()
            && self.nat_gateways.is_empty()
            && self.network_acls.is_empty()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroup {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<SgRule>,
    /// `None` means not collected; AWS's default is allow-all egress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<Vec<SgRule>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SgRule {
    /// tcp, udp, icmp or -1 (all).
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_port: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cidrs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_groups: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NetworkInterface {
    pub id: String,
    pub private_ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// What owns it: `task/<id>`, `elb/<name>`, `rds/<id>`, `instance/<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    pub id: String,
    pub cidr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub route_table: String,
    pub destination: String,
    /// igw-..., nat-..., i-..., eni-..., local.
    pub target: String,
    /// active or blackhole.
    pub state: String,
    /// For routes through an instance: its state (running, stopped ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_state: Option<String>,
}

// ---------------------------------------------------------------- load balancing

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    pub name: String,
    /// application or network.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_groups: Vec<TargetGroup>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub port: i32,
    pub protocol: String,
    /// ip or instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_path: Option<String>,
    /// A number, or "traffic-port".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_port: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TargetHealth {
    pub target_group: String,
    pub target_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// healthy, unhealthy, initial, draining, unused, unavailable.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// A short name, e.g. the RDS instance identifier.
    pub name: String,
    /// rds, aurora, elasticache, service ...
    pub kind: String,
    pub address: String,
    pub port: i32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
}

// ---------------------------------------------------------------- DB probe

/// Result of probing one database endpoint: DNS → TCP → TLS → auth → schema.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DbProbe {
    /// host:port/db, never with a password.
    pub target: String,
    /// Where the endpoint came from (`DATABASE_URL` of `api:12/app`, the command line ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Whether the probe ran inside the task's VPC (a timeout from outside proves nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vantage: Option<String>,
    pub stages: Vec<ProbeStage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_recovery: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls_chain: Vec<CertInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_tables: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migration_tables: Vec<String>,
    /// Addresses the name resolved to (or the `hostaddr` given), as the probe saw them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// On a replica: how far replay lags behind, in milliseconds: 0 when everything
    /// received has been replayed, else `now() - pg_last_xact_replay_timestamp()`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_lag_ms: Option<u64>,
    /// Advice the probe derived from what it saw (e.g. the RDS CA bundle to trust).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProbeStage {
    /// dns, tcp, tls, auth, schema.
    pub stage: String,
    /// ok, fail, skipped, inconclusive.
    pub status: String,
    /// Machine-readable outcome: `not_found`, `refused`, `unknown_issuer`, `28P01` ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// End of the certificate's validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<DateTime<Utc>>,
    /// Subject alternative names (DNS names and IP addresses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sans: Vec<String>,
}

// ---------------------------------------------------------------- collection errors

/// An API call that could not be made; the check it fed is reported as not run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CollectError {
    /// IAM action, e.g. `ecs:DescribeTasks`.
    pub action: String,
    /// Error code, e.g. `AccessDeniedException`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
    /// The check that could not run because of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
}

/// Splits `family:revision` (or a task-definition ARN) into its parts.
pub fn split_td(td: &str) -> Option<(String, i64)> {
    let tail = td.rsplit('/').next().unwrap_or(td);
    let (family, rev) = tail.rsplit_once(':')?;
    Some((family.to_string(), rev.parse().ok()?))
}
