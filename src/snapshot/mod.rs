//! The snapshot: everything sickbay knows about one incident, as the project's own
//! serde types. Live collectors produce it, `--save` writes it, `--snapshot` reads it
//! back, and every fixture is one. Analysis only ever reads a `Snapshot`, which is why
//! any incident can be replayed offline.
//!
//! This file holds the top-level [`Snapshot`] and its [`Target`]; the types it is made
//! of live in one submodule per area (ECS services and tasks, task definitions, logs,
//! network and load balancing, start-path checks, database probes) and are re-exported
//! here, so every one of them is `crate::snapshot::X`. Loading is in `load`, the
//! redacted wrapper in `sealed`, and what `lint` produces beside a snapshot (file
//! positions, config files, env-file variables) in `inputs`.

mod dbprobe;
mod ecs;
pub mod inputs;
mod jsonpath;
mod load;
mod logs;
mod network;
pub mod redact;
mod sealed;
mod startpath;
mod taskdef;

pub use dbprobe::{first_problem, outcome, CertInfo, DbProbe, Outcome, ProbeStage, Vantage};
pub use ecs::{
    AwsVpcConfig, ContainerState, Deployment, Service, ServiceConnect, ServiceEvent,
    ServiceLoadBalancer, Task,
};
pub use inputs::{
    part_key, ComposeService, ConfigEnv, ConfigFile, ConfigKind, LintInputs, Origin, Published,
    VarRef,
};
pub use load::{load_snapshot, parse_snapshot};
pub use logs::{LogLine, LogRead, LogStream};
pub use network::{
    Endpoint, LoadBalancer, Network, NetworkInterface, Route, SecurityGroup, SgRule, Subnet,
    TargetGroup, TargetHealth,
};
pub use sealed::Sealed;
pub use startpath::{
    AccountChange, AclEntry, FileSystemCheck, ImageCheck, LogGroupCheck, MountTarget, NatGateway,
    NetworkAcl, PermissionCheck, RoleCheck, SecretCheck, TrailRead, VpcEndpoint,
};
pub use taskdef::{
    ContainerDefinition, EfsVolume, EnvVar, HealthCheck, LogConfiguration, PortMapping,
    RuntimePlatform, SecretRef, TaskDefinition,
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
