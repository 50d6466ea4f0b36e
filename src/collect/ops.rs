//! The registry of every AWS operation the live collectors call. Every call site goes
//! through [`crate::collect::Ctx::call`] with an [`Op`], which counts it and names its IAM
//! action in collection errors; `sickbay iam-policy` prints exactly these actions, and a
//! test checks that each SDK call in `src/collect/` has its entry here and that all of
//! them are read-only (Describe, List, Get, Filter, BatchGet, Simulate, Lookup, and
//! `logs:StartQuery`, which IAM classes as Read: a Logs Insights query changes nothing).

use serde_json::json;

/// One AWS API operation used by the collectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    EcsDescribeClusters,
    EcsListServices,
    EcsDescribeServices,
    EcsListTasks,
    EcsDescribeTasks,
    EcsListTaskDefinitions,
    EcsDescribeTaskDefinition,
    LogsFilterLogEvents,
    LogsDescribeLogStreams,
    LogsGetLogEvents,
    LogsStartQuery,
    LogsGetQueryResults,
    Ec2DescribeSecurityGroups,
    Ec2DescribeNetworkInterfaces,
    Ec2DescribeSubnets,
    Ec2DescribeRouteTables,
    Ec2DescribeInstances,
    Ec2DescribeVpcEndpoints,
    Ec2DescribeNatGateways,
    Ec2DescribeNetworkAcls,
    LogsDescribeLogGroups,
    SecretsDescribeSecret,
    SsmDescribeParameters,
    EcrDescribeImages,
    EcrBatchGetImage,
    IamGetRole,
    IamSimulatePrincipalPolicy,
    EfsDescribeMountTargets,
    EfsDescribeMountTargetSecurityGroups,
    CloudTrailLookupEvents,
    ElbDescribeTargetGroups,
    ElbDescribeLoadBalancers,
    ElbDescribeTargetHealth,
    RdsDescribeDbInstances,
    RdsDescribeDbClusters,
}

/// Number of operations in the registry.
pub const OP_COUNT: usize = 35;

impl Op {
    /// Every operation, in registry order.
    pub const ALL: [Op; OP_COUNT] = [
        Op::EcsDescribeClusters,
        Op::EcsListServices,
        Op::EcsDescribeServices,
        Op::EcsListTasks,
        Op::EcsDescribeTasks,
        Op::EcsListTaskDefinitions,
        Op::EcsDescribeTaskDefinition,
        Op::LogsFilterLogEvents,
        Op::LogsDescribeLogStreams,
        Op::LogsGetLogEvents,
        Op::LogsStartQuery,
        Op::LogsGetQueryResults,
        Op::Ec2DescribeSecurityGroups,
        Op::Ec2DescribeNetworkInterfaces,
        Op::Ec2DescribeSubnets,
        Op::Ec2DescribeRouteTables,
        Op::Ec2DescribeInstances,
        Op::Ec2DescribeVpcEndpoints,
        Op::Ec2DescribeNatGateways,
        Op::Ec2DescribeNetworkAcls,
        Op::LogsDescribeLogGroups,
        Op::SecretsDescribeSecret,
        Op::SsmDescribeParameters,
        Op::EcrDescribeImages,
        Op::EcrBatchGetImage,
        Op::IamGetRole,
        Op::IamSimulatePrincipalPolicy,
        Op::EfsDescribeMountTargets,
        Op::EfsDescribeMountTargetSecurityGroups,
        Op::CloudTrailLookupEvents,
        Op::ElbDescribeTargetGroups,
        Op::ElbDescribeLoadBalancers,
        Op::ElbDescribeTargetHealth,
        Op::RdsDescribeDbInstances,
        Op::RdsDescribeDbClusters,
    ];

    /// Position in [`Op::ALL`] (for counters).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The IAM action that allows the call, e.g. `ecs:DescribeTasks`.
    pub fn action(self) -> &'static str {
        match self {
            Op::EcsDescribeClusters => "ecs:DescribeClusters",
            Op::EcsListServices => "ecs:ListServices",
            Op::EcsDescribeServices => "ecs:DescribeServices",
            Op::EcsListTasks => "ecs:ListTasks",
            Op::EcsDescribeTasks => "ecs:DescribeTasks",
            Op::EcsListTaskDefinitions => "ecs:ListTaskDefinitions",
            Op::EcsDescribeTaskDefinition => "ecs:DescribeTaskDefinition",
            Op::LogsFilterLogEvents => "logs:FilterLogEvents",
            Op::LogsDescribeLogStreams => "logs:DescribeLogStreams",
            Op::LogsGetLogEvents => "logs:GetLogEvents",
            Op::LogsStartQuery => "logs:StartQuery",
            Op::LogsGetQueryResults => "logs:GetQueryResults",
            Op::Ec2DescribeSecurityGroups => "ec2:DescribeSecurityGroups",
            Op::Ec2DescribeNetworkInterfaces => "ec2:DescribeNetworkInterfaces",
            Op::Ec2DescribeSubnets => "ec2:DescribeSubnets",
            Op::Ec2DescribeRouteTables => "ec2:DescribeRouteTables",
            Op::Ec2DescribeInstances => "ec2:DescribeInstances",
            Op::Ec2DescribeVpcEndpoints => "ec2:DescribeVpcEndpoints",
            Op::Ec2DescribeNatGateways => "ec2:DescribeNatGateways",
            Op::Ec2DescribeNetworkAcls => "ec2:DescribeNetworkAcls",
            Op::LogsDescribeLogGroups => "logs:DescribeLogGroups",
            Op::SecretsDescribeSecret => "secretsmanager:DescribeSecret",
            Op::SsmDescribeParameters => "ssm:DescribeParameters",
            Op::EcrDescribeImages => "ecr:DescribeImages",
            Op::EcrBatchGetImage => "ecr:BatchGetImage",
            Op::IamGetRole => "iam:GetRole",
            Op::IamSimulatePrincipalPolicy => "iam:SimulatePrincipalPolicy",
            Op::EfsDescribeMountTargets => "elasticfilesystem:DescribeMountTargets",
            Op::CloudTrailLookupEvents => "cloudtrail:LookupEvents",
            Op::EfsDescribeMountTargetSecurityGroups => {
                "elasticfilesystem:DescribeMountTargetSecurityGroups"
            }
            Op::ElbDescribeTargetGroups => "elasticloadbalancing:DescribeTargetGroups",
            Op::ElbDescribeLoadBalancers => "elasticloadbalancing:DescribeLoadBalancers",
            Op::ElbDescribeTargetHealth => "elasticloadbalancing:DescribeTargetHealth",
            Op::RdsDescribeDbInstances => "rds:DescribeDBInstances",
            Op::RdsDescribeDbClusters => "rds:DescribeDBClusters",
        }
    }

    /// The check that cannot run when the call fails.
    pub fn check(self) -> &'static str {
        match self {
            Op::EcsDescribeClusters => "cluster lookup",
            Op::EcsListServices => "listing the cluster's services",
            Op::EcsDescribeServices => "service events, deployments and network configuration",
            Op::EcsListTasks => "finding running and stopped tasks",
            Op::EcsDescribeTasks => "stopped reasons, exit codes and task IPs",
            Op::EcsListTaskDefinitions => "revision timeline and churn detection",
            Op::EcsDescribeTaskDefinition => {
                "task-definition checks (env, image, platform, logging)"
            }
            Op::LogsFilterLogEvents => "log signatures",
            Op::LogsDescribeLogStreams => "whether tasks ever created their log streams",
            Op::LogsGetLogEvents => "the last log lines of each task",
            Op::LogsStartQuery => "log signatures searched with Logs Insights",
            Op::LogsGetQueryResults => "log signatures searched with Logs Insights",
            Op::Ec2DescribeSecurityGroups => "security-group paths to databases and load balancers",
            Op::Ec2DescribeNetworkInterfaces => "which IPs are live in the VPC",
            Op::Ec2DescribeSubnets => "subnet addresses and route tables",
            Op::Ec2DescribeRouteTables => "blackhole routes and routes through stopped instances",
            Op::Ec2DescribeInstances => "state of instances that routes go through",
            Op::Ec2DescribeVpcEndpoints => "VPC endpoints on the tasks' path to AWS services",
            Op::Ec2DescribeNatGateways => "NAT gateways on the tasks' path to AWS services",
            Op::Ec2DescribeNetworkAcls => "network ACLs on the tasks' path to AWS services",
            Op::LogsDescribeLogGroups => "whether the task definitions' log groups exist",
            Op::SecretsDescribeSecret => "whether referenced Secrets Manager secrets exist",
            Op::SsmDescribeParameters => "whether referenced SSM parameters exist",
            Op::EcrDescribeImages => "whether ECR images and tags exist",
            Op::EcrBatchGetImage => "which platforms an ECR image index offers",
            Op::IamGetRole => "whether the task definitions' roles exist and trust ECS tasks",
            Op::IamSimulatePrincipalPolicy => {
                "whether the execution roles may pull, log and read the secrets they need"
            }
            Op::EfsDescribeMountTargets => {
                "whether EFS volumes have mount targets in the tasks' zones"
            }
            Op::EfsDescribeMountTargetSecurityGroups => {
                "whether EFS mount targets admit NFS from the tasks"
            }
            Op::CloudTrailLookupEvents => "changes made in the account during the window",
            Op::ElbDescribeTargetGroups => "target-group health-check settings",
            Op::ElbDescribeLoadBalancers => "load-balancer security groups and subnets",
            Op::ElbDescribeTargetHealth => "load-balancer target health",
            Op::RdsDescribeDbInstances => "database endpoints and their security groups",
            Op::RdsDescribeDbClusters => "Aurora endpoints and their security groups",
        }
    }
}

/// The least-privilege read-only IAM policy for live collection, as pretty JSON: exactly
/// the actions in [`Op::ALL`], sorted.
pub fn iam_policy() -> String {
    let mut actions: Vec<&str> = Op::ALL.iter().map(|o| o.action()).collect();
    actions.sort_unstable();
    actions.dedup();
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "SickbayReadOnlyCollection",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*",
        }],
    });
    let mut s = serde_json::to_string_pretty(&policy).expect("policy serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_complete_and_read_only() {
        for (i, op) in Op::ALL.iter().enumerate() {
            assert_eq!(op.index(), i, "{op:?} out of order");
            let verb = op.action().split_once(':').expect("service:Action").1;
            assert!(
                ["Describe", "List", "Get", "Filter", "BatchGet", "Simulate", "Lookup"]
                    .iter()
                    .any(|p| verb.starts_with(p))
                    || op.action() == "logs:StartQuery",
                "{} is not read-only",
                op.action()
            );
            assert!(iam_policy().contains(&format!("\"{}\"", op.action())));
        }
    }

    /// Every SDK call in the collectors goes through `ctx.get`/`ctx.call` with an `Op`,
    /// and every operation they build is a read-only one in the registry.
    #[test]
    fn every_call_site_uses_the_registry() {
        let sources = [
            ("ecs", include_str!("ecs.rs")),
            ("logs", include_str!("logs.rs")),
            ("logsearch", include_str!("logsearch.rs")),
            ("loggroups", include_str!("loggroups.rs")),
            ("secrets", include_str!("secrets.rs")),
            ("ecr", include_str!("ecr.rs")),
            ("iam", include_str!("iam.rs")),
            ("efs", include_str!("efs.rs")),
            ("trail", include_str!("trail.rs")),
            ("ec2", include_str!("ec2.rs")),
            ("egress", include_str!("egress.rs")),
            ("elb", include_str!("elb.rs")),
            ("rds", include_str!("rds.rs")),
        ];
        let call = regex::Regex::new(r"\b(?:ecs|ec2|client)\s*\.\s*([a-z][a-z0-9_]*)\(\)").unwrap();
        let through = regex::Regex::new(r"ctx\s*\.\s*(?:get|call)\(\s*Op::").unwrap();
        let norm = |s: &str| s.replace('_', "").to_ascii_lowercase();
        let mut used = std::collections::BTreeSet::new();
        for (name, src) in sources {
            let sends = src.matches(".send()").count();
            assert_eq!(
                sends,
                through.find_iter(src).count(),
                "{name}.rs: every .send() must be wrapped in ctx.get/ctx.call(Op::...)"
            );
            for m in call.captures_iter(src) {
                let method = &m[1];
                let op = Op::ALL
                    .iter()
                    .find(|o| norm(o.action().split_once(':').unwrap().1) == norm(method))
                    .unwrap_or_else(|| {
                        panic!("{name}.rs calls {method}, which is not in the registry")
                    });
                assert!(
                    [
                        "describe_",
                        "list_",
                        "get_",
                        "filter_",
                        "batch_get_",
                        "simulate_",
                        "lookup_"
                    ]
                    .iter()
                    .any(|p| method.starts_with(p))
                        || method == "start_query",
                    "{method} is not read-only"
                );
                used.insert(*op);
            }
        }
        // A secret's value is never requested.
        for op in Op::ALL {
            for never in ["GetSecretValue", "GetParameter", "BatchGetSecretValue"] {
                assert!(
                    !op.action().contains(never),
                    "{} reads a secret value",
                    op.action()
                );
            }
        }
        // And the registry holds nothing the collectors do not call.
        assert_eq!(used.len(), OP_COUNT, "unused operations in the registry");
    }
}
