//! Start-path facts: what a Fargate task needs before its code runs, checked against
//! what was collected. `aws-path` says, per service, whether every subnet it places
//! tasks in has a way to each AWS service the task definition needs (ECR API and
//! registry, S3 for image layers, Secrets Manager, SSM, CloudWatch Logs; the internet
//! for other registries): an internet gateway with a public IP, an available NAT
//! gateway or running NAT instance, or an interface endpoint with private DNS in the
//! subnet's zone that admits 443 from the task's groups (S3: a gateway endpoint on the
//! route table). Network ACLs and the task's egress rules are checked on the way.
//! The per-subnet check and the record it yields are the steps in `paths`. The other
//! start-path links are in [`super::resources`] and [`super::efs`].

use super::network::{cidr_contains, egress_allows, ingress_allows};
use super::{Index, Loc};
use crate::snapshot::{NetworkAcl, Service, Snapshot, Subnet, TaskDefinition, VpcEndpoint};
use std::collections::BTreeSet;

mod paths;

/// A public address standing for "the internet" in ACL and egress checks.
const INTERNET: &str = "52.94.0.1";

/// The AWS services (endpoint suffixes) a task definition needs before its code runs.
pub fn needed(td: &TaskDefinition) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for c in &td.containers {
        if is_ecr(&c.image) {
            out.extend(["ecr.api", "ecr.dkr", "s3"]);
        } else if !c.image.is_empty() {
            out.insert("internet");
        }
        for s in &c.secrets {
            if s.value_from.starts_with("arn:aws:secretsmanager:") {
                out.insert("secretsmanager");
            } else {
                out.insert("ssm");
            }
        }
        if c.log_configuration
            .as_ref()
            .is_some_and(|l| l.log_driver == "awslogs")
        {
            out.insert("logs");
        }
    }
    out
}

/// `123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag`.
pub fn is_ecr(image: &str) -> bool {
    let host = image.split('/').next().unwrap_or_default();
    host.contains(".dkr.ecr.") && host.contains(".amazonaws.com")
}

/// Services whose task definitions run on Fargate in awsvpc mode: their tasks pull and
/// fetch through their own network interface.
fn fargate_workloads(snap: &Snapshot) -> Vec<(&Service, &TaskDefinition)> {
    let mut out = Vec::new();
    for svc in &snap.services {
        let Some(td) = super::service_td(snap, svc) else {
            continue;
        };
        let fargate = svc.launch_type.as_deref() == Some("FARGATE")
            || (svc.launch_type.is_none()
                && td.requires_compatibilities.iter().any(|c| c == "FARGATE"));
        if fargate && svc.network.is_some() {
            out.push((svc, td));
        }
    }
    out
}

/// The facts a run could not verify the path without.
fn path_unverifiable(snap: &Snapshot) -> bool {
    snap.collect_errors.iter().any(|e| {
        matches!(
            e.action.as_str(),
            "ec2:DescribeRouteTables" | "ec2:DescribeVpcEndpoints" | "ec2:DescribeSubnets"
        )
    })
}

/// Pushes one `aws-path` record per Fargate service whose path can be judged.
pub(super) fn aws_paths(ix: &mut Index, snap: &Snapshot) {
    if snap.network.subnets.is_empty() || path_unverifiable(snap) {
        return;
    }
    let region = snap.target.region.as_deref();
    for (svc, td) in fargate_workloads(snap) {
        let Some(net) = &svc.network else { continue };
        let needs = needed(td);
        if needs.is_empty() {
            continue;
        }
        let subnets: Vec<&Subnet> = net
            .subnets
            .iter()
            .filter_map(|id| snap.network.subnets.iter().find(|s| &s.id == id))
            .collect();
        if subnets.is_empty() || subnets.iter().any(|s| s.route_table.is_none()) {
            continue;
        }
        let ctx = PathCtx {
            snap,
            region,
            sgs: &net.security_groups,
            public_ip: net.assign_public_ip,
        };
        let gaps = paths::Gaps::find(&ctx, &subnets, &needs);
        let rec = paths::record(snap, svc, net, &needs, &subnets, gaps);
        let loc = Loc {
            service: Some(svc.name.as_str().into()),
            family: Some(td.family.as_str().into()),
            revision: Some(td.revision),
            locator: format!("service {} subnets {}", svc.name, net.subnets.join(",")).into(),
            ..Loc::default()
        };
        ix.add(&rec, loc);
    }
}

fn or_dash(s: String) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s
    }
}

/// An available NAT gateway of the VPC, to route through.
fn available_nat(snap: &Snapshot) -> Option<String> {
    snap.network
        .nat_gateways
        .iter()
        .find(|n| n.state == "available")
        .map(|n| n.id.clone())
}

struct PathCtx<'a> {
    snap: &'a Snapshot,
    region: Option<&'a str>,
    sgs: &'a [String],
    public_ip: bool,
}

impl PathCtx<'_> {
    /// The subnet's way to the internet, described; or why there is none.
    fn internet(&self, s: &Subnet) -> Result<String, String> {
        let table = s.route_table.as_deref().unwrap_or_default();
        let route = self
            .snap
            .network
            .routes
            .iter()
            .find(|r| r.route_table == table && r.destination == "0.0.0.0/0");
        let Some(r) = route else {
            return Err("no default route".into());
        };
        if r.state == "blackhole" {
            return Err(format!("the default route to {} is a blackhole", r.target));
        }
        let way = if r.target.starts_with("igw-") {
            if !self.public_ip {
                return Err(format!(
                    "the default route goes to internet gateway {} but tasks get no public IP (assignPublicIp DISABLED)",
                    r.target
                ));
            }
            format!("internet gateway {} with a public IP", r.target)
        } else if r.target.starts_with("nat-") {
            let state = r.target_state.as_deref().unwrap_or("available");
            if state != "available" {
                return Err(format!("NAT gateway {} is {state}", r.target));
            }
            format!("NAT gateway {}", r.target)
        } else if r.target.starts_with("i-") {
            let state = r.target_state.as_deref().unwrap_or("unknown");
            if state != "running" {
                return Err(format!("NAT instance {} is {state}", r.target));
            }
            format!("NAT instance {}", r.target)
        } else {
            format!("{} (not verified)", r.target)
        };
        if let Some(why) = acl_blocks(self.snap, &s.id, INTERNET) {
            return Err(why);
        }
        if !egress_allows(self.snap, self.sgs, 443, &[], Some(INTERNET)) {
            return Err(format!(
                "egress of {} does not allow tcp/443 to the internet",
                self.sgs.join(",")
            ));
        }
        Ok(way)
    }

    /// Whether `need` is reachable from subnet `s`: `Err(Some(note))` names a broken
    /// endpoint; `Err(None)` means nothing offers the service.
    fn reach(
        &self,
        s: &Subnet,
        need: &str,
        internet: &Result<String, String>,
    ) -> Result<(), Option<String>> {
        if need == "s3" && self.s3_gateway(s) {
            return Ok(());
        }
        let mut note = None;
        if need != "s3" && need != "internet" {
            if let Some(e) = self.interface_endpoint(need) {
                match self.endpoint_works(s, e) {
                    Ok(()) => return Ok(()),
                    Err(why) => note = Some(format!("endpoint {} for {need}: {why}", e.id)),
                }
            }
        }
        match internet {
            Ok(_) => Ok(()),
            Err(_) => Err(note),
        }
    }

    fn service_name(&self, need: &str) -> String {
        format!("com.amazonaws.{}.{need}", self.region.unwrap_or("*"))
    }

    fn matches_service(&self, e: &VpcEndpoint, need: &str) -> bool {
        match self.region {
            Some(_) => e.service_name == self.service_name(need),
            None => e.service_name.ends_with(&format!(".{need}")),
        }
    }

    fn s3_gateway(&self, s: &Subnet) -> bool {
        self.snap.network.vpc_endpoints.iter().any(|e| {
            e.kind.eq_ignore_ascii_case("gateway")
                && e.state == "available"
                && self.matches_service(e, "s3")
                && s.route_table
                    .as_ref()
                    .is_some_and(|t| e.route_tables.contains(t))
        })
    }

    fn interface_endpoint(&self, need: &str) -> Option<&VpcEndpoint> {
        self.snap
            .network
            .vpc_endpoints
            .iter()
            .find(|e| e.kind.eq_ignore_ascii_case("interface") && self.matches_service(e, need))
    }

    fn endpoint_works(&self, s: &Subnet, e: &VpcEndpoint) -> Result<(), String> {
        if e.state != "available" {
            return Err(format!("state {}", e.state));
        }
        if !e.private_dns {
            return Err("private DNS is off, so the service's name does not resolve to it".into());
        }
        let zones: Vec<&Subnet> = e
            .subnets
            .iter()
            .filter_map(|id| self.snap.network.subnets.iter().find(|x| &x.id == id))
            .collect();
        let same_zone = zones
            .iter()
            .find(|z| z.availability_zone == s.availability_zone);
        let Some(z) = same_zone.or(zones.first()) else {
            return Err("it has no subnet".into());
        };
        let known = e
            .security_groups
            .iter()
            .any(|g| self.snap.network.security_groups.iter().any(|k| &k.id == g));
        if known
            && ingress_allows(
                self.snap,
                &e.security_groups,
                443,
                self.sgs,
                std::slice::from_ref(&s.cidr),
            )
            .is_none()
        {
            return Err(format!(
                "its groups {} do not admit tcp/443 from {}",
                e.security_groups.join(","),
                self.sgs.join(",")
            ));
        }
        let addr = first_address(&z.cidr);
        if !egress_allows(
            self.snap,
            self.sgs,
            443,
            &e.security_groups,
            addr.as_deref(),
        ) {
            return Err(format!(
                "egress of {} does not allow tcp/443 to it",
                self.sgs.join(",")
            ));
        }
        if let Some(a) = addr {
            if let Some(why) = acl_blocks(self.snap, &s.id, &a) {
                return Err(why);
            }
        }
        Ok(())
    }
}

fn first_address(cidr: &str) -> Option<String> {
    let net: ipnet::IpNet = cidr.parse().ok()?;
    net.hosts().nth(4).map(|a| a.to_string())
}

/// Why the subnet's network ACL stops HTTPS to `addr` or its replies, if it does.
fn acl_blocks(snap: &Snapshot, subnet: &str, addr: &str) -> Option<String> {
    let acl = snap
        .network
        .network_acls
        .iter()
        .find(|a| a.subnets.iter().any(|s| s == subnet))?;
    if !acl_allows(acl, true, 443, addr) {
        return Some(format!("network ACL {} denies outbound tcp/443", acl.id));
    }
    if !acl_allows(acl, false, 1024, addr) || !acl_allows(acl, false, 65535, addr) {
        return Some(format!(
            "network ACL {} denies the inbound replies (tcp/1024-65535)",
            acl.id
        ));
    }
    None
}

/// The first entry (by number) that matches decides; none matching denies.
fn acl_allows(acl: &NetworkAcl, egress: bool, port: i32, addr: &str) -> bool {
    let mut entries: Vec<_> = acl.entries.iter().filter(|e| e.egress == egress).collect();
    entries.sort_by_key(|e| e.rule_number);
    for e in entries {
        let proto = e.protocol == "-1" || e.protocol == "6" || e.protocol == "tcp";
        let ports = match (e.from_port, e.to_port) {
            (Some(a), Some(b)) => a <= port && port <= b,
            _ => true,
        };
        if proto && ports && cidr_contains(&e.cidr, addr) {
            return e.allow;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::AclEntry;

    fn entry(
        n: i32,
        egress: bool,
        proto: &str,
        ports: Option<(i32, i32)>,
        cidr: &str,
        allow: bool,
    ) -> AclEntry {
        AclEntry {
            rule_number: n,
            egress,
            protocol: proto.into(),
            from_port: ports.map(|p| p.0),
            to_port: ports.map(|p| p.1),
            cidr: cidr.into(),
            allow,
        }
    }

    #[test]
    fn acl_first_matching_rule_decides() {
        let acl = NetworkAcl {
            id: "acl-1".into(),
            subnets: vec!["subnet-1".into()],
            entries: vec![
                entry(100, true, "6", Some((443, 443)), "10.0.0.0/16", true),
                entry(200, true, "-1", None, "0.0.0.0/0", false),
                entry(32767, true, "-1", None, "0.0.0.0/0", true),
            ],
        };
        assert!(acl_allows(&acl, true, 443, "10.0.1.9"));
        assert!(!acl_allows(&acl, true, 443, INTERNET));
        // No inbound entry at all: the implicit deny.
        assert!(!acl_allows(&acl, false, 1024, INTERNET));
    }

    #[test]
    fn a_denied_endpoint_lookup_means_no_verdict() {
        let mut snap = Snapshot::default();
        assert!(!path_unverifiable(&snap));
        snap.collect_errors.push(crate::snapshot::CollectError {
            action: "ec2:DescribeVpcEndpoints".into(),
            message: "AccessDenied".into(),
            ..Default::default()
        });
        assert!(path_unverifiable(&snap));
    }

    #[test]
    fn needs_follow_the_task_definition() {
        let td: TaskDefinition = serde_json::from_value(serde_json::json!({
            "family": "api", "revision": 3,
            "containers": [{
                "name": "app",
                "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1",
                "secrets": [
                    {"name": "DB", "value_from": "arn:aws:secretsmanager:us-east-1:1:secret:db"},
                    {"name": "K", "value_from": "/prod/key"}
                ],
                "log_configuration": {"log_driver": "awslogs", "options": {"awslogs-group": "/ecs/api"}}
            }, {"name": "side", "image": "nginx:1.27"}]
        }))
        .unwrap();
        let n: Vec<_> = needed(&td).into_iter().collect();
        assert_eq!(
            n,
            [
                "ecr.api",
                "ecr.dkr",
                "internet",
                "logs",
                "s3",
                "secretsmanager",
                "ssm"
            ]
        );
    }
}
