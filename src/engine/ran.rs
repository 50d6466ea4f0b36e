//! What differs in how two revisions ran, beside their task definitions: the fields of
//! the service deployments that ran them (network configuration, launch type, capacity
//! provider strategy, platform version) and the image digests their tasks actually
//! pulled, which show a tag moved to a new image between revisions. ECS's deployment
//! record carries no load balancers, so those are not compared per revision.

use crate::diff::{change, Change};
use crate::snapshot::{split_td, Deployment, Snapshot};
use std::collections::BTreeMap;

/// Deployment and image-digest changes from revision `a` to `b` of `family`.
pub fn ran_changes(snap: &Snapshot, family: &str, a: i64, b: i64) -> Vec<Change> {
    let mut out = deployment_changes(snap, family, a, b);
    out.extend(digest_changes(snap, family, a, b));
    out
}

/// Per service that deployed both revisions, its deployments' changed fields.
fn deployment_changes(snap: &Snapshot, family: &str, a: i64, b: i64) -> Vec<Change> {
    let of = |deps: &'_ [Deployment], rev: i64| -> Option<Deployment> {
        deps.iter()
            .filter(|d| split_td(&d.task_definition).is_some_and(|(f, r)| f == family && r == rev))
            .max_by_key(|d| d.created_at)
            .cloned()
    };
    let mut out = Vec::new();
    for s in &snap.services {
        let (Some(x), Some(y)) = (of(&s.deployments, a), of(&s.deployments, b)) else {
            continue;
        };
        let scope = format!("service {}", s.name);
        let net = |d: &Deployment, f: fn(&crate::snapshot::AwsVpcConfig) -> String| {
            d.network.as_ref().map(f)
        };
        let mut put = |field: &str, p: Option<String>, q: Option<String>| {
            if let Some(c) = change(&scope, field, p, q) {
                out.push(c);
            }
        };
        put(
            "subnets",
            net(&x, |n| n.subnets.join(", ")),
            net(&y, |n| n.subnets.join(", ")),
        );
        put(
            "security groups",
            net(&x, |n| n.security_groups.join(", ")),
            net(&y, |n| n.security_groups.join(", ")),
        );
        put(
            "public ip",
            net(&x, |n| on_off(n.assign_public_ip)),
            net(&y, |n| on_off(n.assign_public_ip)),
        );
        put("launch type", x.launch_type.clone(), y.launch_type.clone());
        let joined = |d: &Deployment| {
            (!d.capacity_providers.is_empty()).then(|| d.capacity_providers.join("; "))
        };
        put("capacity provider", joined(&x), joined(&y));
        put(
            "platform version",
            x.platform_version.clone(),
            y.platform_version.clone(),
        );
    }
    out
}

fn on_off(b: bool) -> String {
    if b { "ENABLED" } else { "DISABLED" }.to_string()
}

/// Per container, the digests the revision's tasks ran, when both revisions' tasks
/// report one and they differ.
fn digest_changes(snap: &Snapshot, family: &str, a: i64, b: i64) -> Vec<Change> {
    let digests = |rev: i64| -> BTreeMap<String, Vec<String>> {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let tasks = snap
            .tasks
            .iter()
            .filter(|t| split_td(&t.task_definition).is_some_and(|(f, r)| f == family && r == rev));
        for t in tasks {
            for c in &t.containers {
                if let Some(d) = c.image_digest.as_deref().filter(|d| !d.is_empty()) {
                    let v = m.entry(c.name.clone()).or_default();
                    if !v.iter().any(|x| x == d) {
                        v.push(d.to_string());
                    }
                }
            }
        }
        m
    };
    let (da, db) = (digests(a), digests(b));
    let mut out = Vec::new();
    for (name, before) in &da {
        let Some(after) = db.get(name) else { continue };
        if before != after {
            out.extend(change(
                name,
                "image digest",
                Some(before.join(", ")),
                Some(after.join(", ")),
            ));
        }
    }
    out
}
