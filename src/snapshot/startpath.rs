//! What a task needs before its code runs, as collected: the VPC's ways out (interface
//! and gateway endpoints, NAT gateways, network ACLs) and the resources the task
//! definition names (log groups). Analysis turns these into verified start-path facts;
//! a resource that could not be looked up is absent here and named in `collect_errors`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A VPC endpoint (`DescribeVpcEndpoints`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VpcEndpoint {
    pub id: String,
    /// `com.amazonaws.us-east-1.ecr.dkr`.
    pub service_name: String,
    /// `Interface` or `Gateway`.
    pub kind: String,
    /// `available`, `pending`, ...
    pub state: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    /// Gateway endpoints: the route tables they are attached to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route_tables: Vec<String>,
    #[serde(default)]
    pub private_dns: bool,
}

/// A NAT gateway (`DescribeNatGateways`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NatGateway {
    pub id: String,
    /// `available`, `pending`, `failed`, `deleting`, `deleted`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
}

/// A network ACL and the subnets it guards (`DescribeNetworkAcls`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NetworkAcl {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<AclEntry>,
}

/// One numbered ACL rule; the lowest number that matches decides.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AclEntry {
    pub rule_number: i32,
    pub egress: bool,
    /// `-1` (all), `6` (tcp), `17` (udp) ...
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_port: Option<i32>,
    /// IPv4 or IPv6 CIDR.
    pub cidr: String,
    pub allow: bool,
}

/// Whether a log group a task definition names exists (`DescribeLogGroups`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogGroupCheck {
    pub group: String,
    pub exists: bool,
}

/// Whether a secret or parameter a task definition references exists (Secrets Manager
/// `DescribeSecret`, SSM `DescribeParameters`). Only metadata is read: never a value.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecretCheck {
    /// The `valueFrom` as the task definition gives it.
    pub reference: String,
    /// `secretsmanager` or `ssm`.
    pub store: String,
    pub exists: bool,
    /// A customer-managed KMS key that encrypts it (the execution role needs
    /// `kms:Decrypt` on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
}

/// What the registry says about an ECR image a task definition names (`DescribeImages`,
/// and `BatchGetImage` for the manifest's platforms).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ImageCheck {
    /// The image as the task definition gives it.
    pub image: String,
    /// False when the repository or the tag/digest does not exist.
    pub exists: bool,
    /// `linux/arm64`, `linux/amd64` ... from an image index; empty for a single-platform
    /// manifest (its architecture is in the config blob, which is not read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// Why it does not exist (`RepositoryNotFoundException`, `ImageNotFoundException`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An IAM role a task definition names (`GetRole`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoleCheck {
    pub arn: String,
    pub exists: bool,
    /// Whether its trust policy lets `ecs-tasks.amazonaws.com` assume it (`None`: the
    /// policy could not be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusts_ecs_tasks: Option<bool>,
}

/// One action the ECS agent performs with a task definition's execution role, simulated
/// against the role's policies (`SimulatePrincipalPolicy`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PermissionCheck {
    pub role: String,
    /// `family:revision`.
    pub task_definition: String,
    pub action: String,
    pub resource: String,
    /// `allowed`, `explicitDeny` or `implicitDeny`.
    pub decision: String,
}

/// An EFS file system a task definition mounts (`DescribeMountTargets`,
/// `DescribeMountTargetSecurityGroups`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileSystemCheck {
    pub file_system_id: String,
    pub exists: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mount_targets: Vec<MountTarget>,
}

/// One mount target of a file system.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MountTarget {
    pub id: String,
    pub subnet: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// `available`, `creating`, `deleting` ...
    pub state: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
}

/// A change made in the account during the window that touched a resource the snapshot
/// describes (CloudTrail `LookupEvents`, write events only): what was done, to what, by
/// whom and when, and the few request parameters that say what the change was.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccountChange {
    pub time: chrono::DateTime<chrono::Utc>,
    /// `DeleteRoute`, `UpdateService`, `PutImage` ...
    pub event: String,
    /// `ec2.amazonaws.com` ...
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The snapshot's resources it touched (ids, names or ARNs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// The request parameters that say what changed (`ipProtocol=tcp fromPort=5432
    /// cidrIp=10.0.0.0/16`), from a fixed list of names; never a value of a secret or
    /// parameter, and redacted with the rest of the snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// How the window's account changes were read, so that the report can tell "nothing
/// changed" from "not looked at".
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrailRead {
    /// LookupEvents calls made.
    pub calls: u32,
    /// Of which, queries for one resource by name (`ResourceName`).
    #[serde(default)]
    pub by_resource: u32,
    /// Write events read, before keeping those that touched the snapshot's resources.
    pub events: u32,
    /// A bound (pages, resources queried, time) stopped the read before the window's start.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}
