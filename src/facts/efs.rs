//! The `efs-path` fact: for each service whose task definition mounts an EFS file system,
//! whether the file system exists, has an available mount target in the zone of every
//! subnet the service uses, and whether those mount targets' groups admit NFS
//! (tcp/2049) from the tasks (and the tasks' groups let it out).

use super::network::{egress_allows, ingress_allows};
use super::{Index, Loc};
use crate::rules::shapes::EfsPath;
use crate::snapshot::{FileSystemCheck, MountTarget, Snapshot, Subnet};

pub(super) fn efs_paths(ix: &mut Index, snap: &Snapshot) {
    if snap.file_systems.is_empty() {
        return;
    }
    for svc in &snap.services {
        let Some(net) = &svc.network else { continue };
        let Some(td) = super::service_td(snap, svc) else {
            continue;
        };
        for vol in &td.efs_volumes {
            let Some(fs) = snap
                .file_systems
                .iter()
                .find(|f| f.file_system_id == vol.file_system_id)
            else {
                continue;
            };
            let subnets: Vec<&Subnet> = net
                .subnets
                .iter()
                .filter_map(|id| snap.network.subnets.iter().find(|s| &s.id == id))
                .collect();
            let rec = judge(
                snap,
                fs,
                &subnets,
                &net.security_groups,
                &svc.name,
                &td.key(),
            );
            let loc = Loc {
                service: Some(svc.name.as_str().into()),
                family: Some(td.family.as_str().into()),
                revision: Some(td.revision),
                locator: format!(
                    "service {} volume {} ({})",
                    svc.name, vol.volume, vol.file_system_id
                )
                .into(),
                ..Loc::default()
            };
            ix.add(&rec, loc);
        }
    }
}

/// The verdict for one service and file system.
fn judge(
    snap: &Snapshot,
    fs: &FileSystemCheck,
    subnets: &[&Subnet],
    task_sgs: &[String],
    service: &str,
    td: &str,
) -> EfsPath {
    let mount_sgs = mount_target_sgs(fs);
    let mut lacking = Vec::new();
    let mut zones = Vec::new();
    let mut blocked = Vec::new();
    for s in subnets {
        let Some(mt) = usable_mount_target(fs, s) else {
            lacking.push(s.id.clone());
            zones.push(s.availability_zone.clone().unwrap_or_else(|| "?".into()));
            continue;
        };
        if let Some(why) = nfs_blocked(snap, mt, s, task_sgs) {
            blocked.push(why);
        }
    }
    zones.dedup();
    let mut detail = Vec::new();
    if !fs.exists {
        detail.push(format!("file system {} does not exist", fs.file_system_id));
    }
    if !lacking.is_empty() {
        detail.push(format!(
            "no available mount target in {} ({})",
            zones.join(","),
            lacking.join(",")
        ));
    }
    detail.extend(blocked.iter().cloned());
    let reachable = fs.exists && lacking.is_empty() && blocked.is_empty();
    EfsPath {
        from: format!("service:{service}"),
        file_system: fs.file_system_id.clone(),
        task_definition: td.to_string(),
        exists: fs.exists,
        subnets: or_dash(lacking.join(",")),
        mount_sg: mount_sgs.first().cloned().unwrap_or_default(),
        task_sg: task_sgs.first().cloned().unwrap_or_default(),
        nfs_allowed: blocked.is_empty(),
        reachable,
        detail: if reachable {
            "a usable mount target in every zone the service uses".into()
        } else {
            detail.join("; ")
        },
    }
}

/// The security groups of all the file system's mount targets, sorted and deduplicated.
fn mount_target_sgs(fs: &FileSystemCheck) -> Vec<String> {
    fs.mount_targets
        .iter()
        .flat_map(|m| m.security_groups.iter().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// An available mount target in subnet `s` or in its zone.
fn usable_mount_target<'a>(fs: &'a FileSystemCheck, s: &Subnet) -> Option<&'a MountTarget> {
    fs.mount_targets.iter().find(|m| {
        m.state == "available"
            && (m.subnet == s.id
                || (m.availability_zone.is_some() && m.availability_zone == s.availability_zone))
    })
}

/// Why NFS (tcp/2049) from the tasks in subnet `s` to mount target `mt` is blocked, if it is.
fn nfs_blocked(
    snap: &Snapshot,
    mt: &MountTarget,
    s: &Subnet,
    task_sgs: &[String],
) -> Option<String> {
    let known = mt
        .security_groups
        .iter()
        .any(|g| snap.network.security_groups.iter().any(|k| &k.id == g));
    let cidr = [s.cidr.clone()];
    let ingress =
        !known || ingress_allows(snap, &mt.security_groups, 2049, task_sgs, &cidr).is_some();
    let egress = egress_allows(snap, task_sgs, 2049, &mt.security_groups, None);
    if !ingress || !egress {
        return Some(format!(
            "{} in {}: {}",
            mt.id,
            s.id,
            if ingress {
                format!("egress of {} does not allow tcp/2049", task_sgs.join(","))
            } else {
                format!(
                    "its groups {} do not admit tcp/2049 from {}",
                    mt.security_groups.join(","),
                    task_sgs.join(",")
                )
            }
        ));
    }
    None
}

fn or_dash(s: String) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s
    }
}
