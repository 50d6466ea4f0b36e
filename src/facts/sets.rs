//! Named string sets conditions test captures against: task IPs by state, live
//! addresses, container ports and the hosts env values name.

use super::{host_of, Index};
use crate::snapshot::Snapshot;
use std::collections::HashSet;

pub(super) fn sets(ix: &mut Index, snap: &Snapshot) {
    let mut running = HashSet::new();
    let mut stopped = HashSet::new();
    for t in &snap.tasks {
        let target = if t.last_status == "STOPPED"
            || t.last_status == "DEPROVISIONING"
            || t.last_status == "STOPPING"
        {
            &mut stopped
        } else {
            &mut running
        };
        target.extend(t.private_ips.iter().cloned());
    }
    let stopped_owners: HashSet<String> = snap
        .tasks
        .iter()
        .filter(|t| t.last_status == "STOPPED")
        .map(|t| format!("task/{}", t.id))
        .collect();
    let mut live: HashSet<String> = running.clone();
    for i in &snap.network.interfaces {
        if !i.owner.as_ref().is_some_and(|o| stopped_owners.contains(o)) {
            live.insert(i.private_ip.clone());
        }
    }
    let all: HashSet<String> = running.union(&stopped).cloned().collect();
    let mut ports = HashSet::new();
    let mut hosts = HashSet::new();
    for td in &snap.task_definitions {
        for c in &td.containers {
            for p in &c.port_mappings {
                ports.insert(p.container_port.to_string());
            }
            for e in &c.environment {
                if let Some(h) = host_of(&e.value) {
                    hosts.insert(h.to_ascii_lowercase());
                } else if e.name.ends_with("HOST") && !e.value.is_empty() {
                    hosts.insert(e.value.to_ascii_lowercase());
                }
            }
        }
    }
    ix.sets.insert("running_task_ips", running);
    ix.sets.insert("stopped_task_ips", stopped);
    ix.sets.insert("task_ips", all);
    ix.sets.insert("live_ips", live);
    ix.sets.insert("container_ports", ports);
    ix.sets.insert("env_hosts", hosts);
}
