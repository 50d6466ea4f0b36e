//! Network-path facts: which security-group paths are open from each workload to the
//! endpoints its environment names (`sg-path`), and from each load balancer to the tasks
//! it health-checks (`lb-path`). Address arithmetic is `ipnet`'s, for IPv4 and IPv6; a
//! malformed CIDR contains nothing rather than being read as a host.

use super::{Index, Loc};
use crate::rules::shapes::{LbPath, SgPath};
use crate::snapshot::{LoadBalancer, SgRule, Snapshot};
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A CIDR, or a bare address as its host network; `None` when malformed.
fn net_of(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// True when `cidr` contains the address `ip`.
pub fn cidr_contains(cidr: &str, ip: &str) -> bool {
    match (net_of(cidr), ip.parse::<IpAddr>()) {
        (Some(n), Ok(ip)) => n.contains(&ip),
        _ => false,
    }
}

/// True when `cidr` covers every address of `inner`.
pub fn cidr_covers(cidr: &str, inner: &str) -> bool {
    match (net_of(cidr), net_of(inner)) {
        (Some(n), Some(i)) => n.contains(&i),
        _ => false,
    }
}

fn rule_allows_port(r: &SgRule, port: i32) -> bool {
    if r.protocol == "-1" || r.protocol == "all" {
        return true;
    }
    if r.protocol != "tcp" && r.protocol != "6" {
        return false;
    }
    match (r.from_port, r.to_port) {
        (Some(a), Some(b)) => a <= port && port <= b,
        (Some(a), None) => a == port,
        _ => true,
    }
}

/// Does any of `dest_sgs` admit TCP `port` from a peer in `src_sgs` or at `src_ips`?
/// Returns the rule that allows it, described.
pub(super) fn ingress_allows(
    snap: &Snapshot,
    dest_sgs: &[String],
    port: i32,
    src_sgs: &[String],
    src_cidrs: &[String],
) -> Option<String> {
    for sg in snap
        .network
        .security_groups
        .iter()
        .filter(|g| dest_sgs.contains(&g.id))
    {
        for r in sg.ingress.iter().filter(|r| rule_allows_port(r, port)) {
            if let Some(g) = r.source_groups.iter().find(|g| src_sgs.contains(g)) {
                return Some(format!("{} ingress from {g}", sg.id));
            }
            if !src_cidrs.is_empty()
                && src_cidrs
                    .iter()
                    .all(|c| r.cidrs.iter().any(|rc| cidr_covers(rc, c)))
            {
                return Some(format!("{} ingress from {}", sg.id, r.cidrs.join(",")));
            }
        }
    }
    None
}

pub(super) fn egress_allows(
    snap: &Snapshot,
    src_sgs: &[String],
    port: i32,
    dest_sgs: &[String],
    dest_ip: Option<&str>,
) -> bool {
    let groups: Vec<_> = snap
        .network
        .security_groups
        .iter()
        .filter(|g| src_sgs.contains(&g.id))
        .collect();
    if groups.is_empty() {
        return true;
    }
    groups.iter().any(|g| match &g.egress {
        None => true,
        Some(rules) => rules.iter().filter(|r| rule_allows_port(r, port)).any(|r| {
            r.source_groups.iter().any(|s| dest_sgs.contains(s))
                || r.cidrs
                    .iter()
                    .any(|c| c == "0.0.0.0/0" || dest_ip.is_some_and(|ip| cidr_contains(c, ip)))
        }),
    })
}

fn known_sgs(snap: &Snapshot, sgs: &[String]) -> bool {
    sgs.iter()
        .any(|s| snap.network.security_groups.iter().any(|g| &g.id == s))
}

/// Flows from each service (and standalone family) to each known endpoint.
pub(super) fn sg_paths(ix: &mut Index, snap: &Snapshot) {
    if snap.network.security_groups.is_empty() {
        return;
    }
    let sources = sg_sources(snap);
    for (from, src_sgs) in &sources {
        if !known_sgs(snap, src_sgs) {
            continue;
        }
        let family = source_family(ix, from);
        for ep in &snap.endpoints {
            if !known_sgs(snap, &ep.security_groups) {
                continue;
            }
            // Only flows the workload is configured to use: its env names the endpoint.
            if !family.as_deref().is_some_and(|f| references(snap, f, ep)) {
                continue;
            }
            let ingress = ingress_allows(snap, &ep.security_groups, ep.port, src_sgs, &[]);
            let egress = egress_allows(snap, src_sgs, ep.port, &ep.security_groups, None);
            let allowed = ingress.is_some() && egress;
            let detail = match (&ingress, egress) {
                (Some(r), true) => r.clone(),
                (None, _) => format!(
                    "no ingress rule on {} admits tcp/{} from {}",
                    ep.security_groups.join(","),
                    ep.port,
                    src_sgs.join(",")
                ),
                (Some(_), false) => format!(
                    "egress of {} does not allow tcp/{}",
                    src_sgs.join(","),
                    ep.port
                ),
            };
            let rec = SgPath {
                from: from.clone(),
                to: format!("{}:{}", ep.kind, ep.name),
                address: ep.address.clone(),
                port: ep.port,
                allowed,
                detail,
            };
            let service = from.strip_prefix("service:").map(String::from);
            let family = from.strip_prefix("family:").map(String::from);
            let loc = Loc {
                service: service.map(Into::into),
                family: family.map(Into::into),
                locator: format!(
                    "security groups {} → {} tcp/{}",
                    src_sgs.join(","),
                    ep.name,
                    ep.port
                )
                .into(),
                ..Loc::default()
            };
            ix.add(&rec, loc);
        }
    }
}

/// The workloads to check, each with its security groups: services, then standalone
/// families (from their tasks).
fn sg_sources(snap: &Snapshot) -> BTreeMap<String, Vec<String>> {
    let mut sources: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for svc in &snap.services {
        if let Some(n) = &svc.network {
            sources.insert(format!("service:{}", svc.name), n.security_groups.clone());
        }
    }
    for t in &snap.tasks {
        if let Some(fam) = t.group.as_deref().and_then(|g| g.strip_prefix("family:")) {
            if !t.security_groups.is_empty() {
                sources
                    .entry(format!("family:{fam}"))
                    .or_insert_with(|| t.security_groups.clone());
            }
        }
    }
    sources
}

/// The task-definition family of a `service:` or `family:` source, if known.
fn source_family(ix: &Index, from: &str) -> Option<String> {
    match from.split_once(':') {
        Some(("service", svc)) => ix
            .family_service
            .iter()
            .find(|(_, s)| s.as_str() == svc)
            .map(|(f, _)| f.clone()),
        Some((_, fam)) => Some(fam.to_string()),
        None => None,
    }
}

/// True when some revision of `family` names the endpoint in its environment.
fn references(snap: &Snapshot, family: &str, ep: &crate::snapshot::Endpoint) -> bool {
    let addr = ep.address.to_ascii_lowercase();
    snap.task_definitions
        .iter()
        .filter(|t| t.family == family)
        .flat_map(|t| t.containers.iter())
        .flat_map(|c| c.environment.iter())
        .any(|e| e.value.to_ascii_lowercase().contains(&addr))
}

/// Flows from each load balancer to the tasks of the service it fronts, on the
/// health-check port. An NLB without security groups sends health checks from its own
/// subnet addresses, so those must be admitted by CIDR.
pub(super) fn lb_paths(ix: &mut Index, snap: &Snapshot) {
    for svc in &snap.services {
        let Some(net) = &svc.network else { continue };
        if !known_sgs(snap, &net.security_groups) {
            continue;
        }
        for slb in &svc.load_balancers {
            let Some(tg_arn) = &slb.target_group_arn else {
                continue;
            };
            let Some((lb, tg)) = snap.load_balancers.iter().find_map(|lb| {
                lb.target_groups
                    .iter()
                    .find(|t| &t.arn == tg_arn)
                    .map(|t| (lb, t))
            }) else {
                continue;
            };
            let port = match tg.health_check_port.as_deref() {
                Some(p) if p != "traffic-port" => p.parse().unwrap_or(tg.port),
                _ => slb.container_port.unwrap_or(tg.port),
            };
            let (allowed, detail) = if !lb.security_groups.is_empty() {
                lb_group_verdict(snap, &net.security_groups, port, lb)
            } else {
                let cidrs = lb_addresses(snap, lb);
                if cidrs.is_empty() {
                    continue;
                }
                lb_address_verdict(snap, &net.security_groups, port, &cidrs)
            };
            let rec = LbPath {
                from: format!("lb:{}", lb.name),
                kind: lb.kind.clone(),
                to: format!("service:{}", svc.name),
                target_group: tg.name.clone(),
                port,
                allowed,
                detail,
            };
            let loc = Loc {
                service: Some(svc.name.as_str().into()),
                locator: format!("{} {} → service {} tcp/{port}", lb.kind, lb.name, svc.name)
                    .into(),
                ..Loc::default()
            };
            ix.add(&rec, loc);
        }
    }
}

/// Whether the tasks' groups admit the health-check port from an LB's security groups.
fn lb_group_verdict(
    snap: &Snapshot,
    task_sgs: &[String],
    port: i32,
    lb: &LoadBalancer,
) -> (bool, String) {
    match ingress_allows(snap, task_sgs, port, &lb.security_groups, &[]) {
        Some(r) => (true, r),
        None => (
            false,
            format!(
                "no ingress rule on {} admits tcp/{port} from the load balancer's groups {}",
                task_sgs.join(","),
                lb.security_groups.join(",")
            ),
        ),
    }
}

/// The addresses an LB without security groups health-checks from: its interfaces,
/// else its subnets.
fn lb_addresses(snap: &Snapshot, lb: &LoadBalancer) -> Vec<String> {
    let mut cidrs: Vec<String> = snap
        .network
        .interfaces
        .iter()
        .filter(|i| i.owner.as_deref() == Some(&format!("elb/{}", lb.name)))
        .map(|i| format!("{}/32", i.private_ip))
        .collect();
    if cidrs.is_empty() {
        cidrs = snap
            .network
            .subnets
            .iter()
            .filter(|s| lb.subnets.contains(&s.id))
            .map(|s| s.cidr.clone())
            .collect();
    }
    cidrs
}

/// Whether the tasks' groups admit the health-check port from the LB's addresses.
fn lb_address_verdict(
    snap: &Snapshot,
    task_sgs: &[String],
    port: i32,
    cidrs: &[String],
) -> (bool, String) {
    match ingress_allows(snap, task_sgs, port, &[], cidrs) {
        Some(r) => (true, r),
        None => (
            false,
            format!(
                "no ingress rule on {} admits tcp/{port} from the load balancer's addresses {}",
                task_sgs.join(","),
                cidrs.join(",")
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_math() {
        assert!(cidr_contains("10.0.0.0/16", "10.0.100.6"));
        assert!(!cidr_contains("10.0.100.0/24", "10.0.101.6"));
        assert!(cidr_covers("10.0.0.0/16", "10.0.100.0/24"));
        assert!(!cidr_covers("10.0.100.0/24", "10.0.0.0/16"));
        assert!(cidr_contains("0.0.0.0/0", "1.2.3.4"));
        assert!(cidr_contains("10.0.1.5", "10.0.1.5"));
    }

    #[test]
    fn malformed_prefixes_contain_nothing() {
        // A bad prefix used to be read as /32.
        assert!(!cidr_contains("10.0.1.5/99", "10.0.1.5"));
        assert!(!cidr_covers("10.0.0.0/x", "10.0.0.0/24"));
        assert!(!cidr_contains("not-a-cidr", "10.0.0.1"));
    }

    #[test]
    fn ipv6() {
        assert!(cidr_contains("::/0", "2001:db8::1"));
        assert!(cidr_covers("2001:db8::/32", "2001:db8:1::/48"));
        assert!(!cidr_contains("0.0.0.0/0", "2001:db8::1"));
    }
}
