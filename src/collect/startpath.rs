//! The start-path lookups for a set of task definitions, run concurrently: log groups,
//! secret and parameter references, ECR images, roles, EFS mount targets, and (unless
//! turned off) the execution roles' simulated permissions. `doctor` runs them for the task definitions in
//! use, `verify` for a task-definition file before it is deployed.

use super::ctx::Ctx;
use super::{ecr, efs, iam, loggroups, secrets, Clients};
use crate::snapshot::{
    FileSystemCheck, ImageCheck, LogGroupCheck, PermissionCheck, RoleCheck, SecretCheck, Snapshot,
    TaskDefinition,
};
use std::collections::{BTreeSet, HashMap};

/// What the lookups found.
#[derive(Debug, Default)]
pub struct StartPath {
    pub log_groups: Vec<LogGroupCheck>,
    pub secret_refs: Vec<SecretCheck>,
    pub images: Vec<ImageCheck>,
    pub roles: Vec<RoleCheck>,
    pub permissions: Vec<PermissionCheck>,
    pub file_systems: Vec<FileSystemCheck>,
}

impl StartPath {
    /// Security groups the checks found that the network collection may not have
    /// described (EFS mount targets').
    pub fn extra_groups(&self) -> BTreeSet<String> {
        self.file_systems
            .iter()
            .flat_map(|f| f.mount_targets.iter())
            .flat_map(|m| m.security_groups.iter().cloned())
            .collect()
    }

    /// Moves the results into a snapshot.
    pub fn apply(self, snap: &mut Snapshot) {
        snap.log_groups = self.log_groups;
        snap.secret_refs = self.secret_refs;
        snap.images = self.images;
        snap.roles = self.roles;
        snap.permissions = self.permissions;
        snap.file_systems = self.file_systems;
    }
}

/// Runs every lookup for `tds`. `regional` holds Logs clients for regions other than the
/// default one that awslogs options name.
pub async fn check(
    ctx: &Ctx,
    clients: &Clients,
    tds: &[TaskDefinition],
    simulate: bool,
    regional: &HashMap<String, aws_sdk_cloudwatchlogs::Client>,
) -> StartPath {
    let refs = secrets::wanted(tds, &clients.region);
    let role_arns = iam::wanted(tds);
    let images = ecr::wanted(tds, &clients.region);
    let groups = loggroups::wanted(tds);
    let file_systems = efs::wanted(tds);
    let (log_groups, images, (secret_refs, roles), file_systems) = tokio::join!(
        loggroups::check(
            ctx,
            |r| r.and_then(|r| regional.get(r)).unwrap_or(&clients.logs),
            &groups,
        ),
        ecr::check(ctx, &clients.ecr, &images),
        async {
            tokio::join!(
                secrets::check(ctx, &clients.secrets, &clients.ssm, &refs),
                iam::roles(ctx, &clients.iam, &role_arns)
            )
        },
        efs::check(ctx, &clients.efs, &file_systems)
    );
    // The simulation needs the secrets' KMS keys and which roles exist.
    let permissions = if simulate {
        iam::simulate(
            ctx,
            &clients.iam,
            tds,
            &clients.region,
            &secret_refs,
            &roles,
        )
        .await
    } else {
        Vec::new()
    };
    StartPath {
        log_groups,
        secret_refs,
        images,
        roles,
        permissions,
        file_systems,
    }
}
