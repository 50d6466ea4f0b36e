//! EFS: the mount targets of each file system the task definitions mount
//! (DescribeMountTargets) and their security groups (DescribeMountTargetSecurityGroups),
//! so analysis can say whether every subnet a service uses has a mount target in its zone
//! that admits NFS (tcp/2049) from the tasks.

use super::ctx::Ctx;
use super::ops::Op;
use crate::snapshot::{FileSystemCheck, MountTarget, TaskDefinition};
use std::collections::BTreeSet;

/// The file systems `tds` mount.
pub fn wanted(tds: &[TaskDefinition]) -> BTreeSet<String> {
    tds.iter()
        .flat_map(|t| t.efs_volumes.iter())
        .map(|v| v.file_system_id.clone())
        .filter(|id| !id.is_empty())
        .collect()
}

/// Looks every file system up; a failed lookup leaves it out (named in `collect_errors`).
pub async fn check(
    ctx: &Ctx,
    client: &aws_sdk_efs::Client,
    ids: &BTreeSet<String>,
) -> Vec<FileSystemCheck> {
    let out = ctx
        .each(ids.iter().cloned(), |id| async move {
            one(ctx, client, id).await
        })
        .await;
    out.into_iter().flatten().collect()
}

async fn one(ctx: &Ctx, client: &aws_sdk_efs::Client, id: String) -> Option<FileSystemCheck> {
    let req = client.describe_mount_targets().file_system_id(&id);
    let targets = match ctx.call(Op::EfsDescribeMountTargets, req.send()).await {
        Ok(o) => o.mount_targets().to_vec(),
        Err(f) if f.code == "FileSystemNotFound" => {
            return Some(FileSystemCheck {
                file_system_id: id,
                exists: false,
                mount_targets: Vec::new(),
            })
        }
        Err(f) => {
            ctx.record(Op::EfsDescribeMountTargets, &f, None);
            return None;
        }
    };
    let mut mount_targets = Vec::new();
    for t in targets {
        let mid = t.mount_target_id().to_string();
        let req = client
            .describe_mount_target_security_groups()
            .mount_target_id(&mid);
        let security_groups = ctx
            .get(Op::EfsDescribeMountTargetSecurityGroups, req.send())
            .await
            .map(|o| o.security_groups().to_vec())
            .unwrap_or_default();
        mount_targets.push(MountTarget {
            id: mid,
            subnet: t.subnet_id().to_string(),
            availability_zone: t.availability_zone_name().map(String::from),
            state: t.life_cycle_state().as_str().to_string(),
            security_groups,
        });
    }
    Some(FileSystemCheck {
        file_system_id: id,
        exists: true,
        mount_targets,
    })
}
