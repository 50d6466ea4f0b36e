//! EC2: the security groups of services, tasks, load balancers and endpoints
//! (DescribeSecurityGroups), and for their VPC every network interface (the live IPs,
//! with what owns each), the subnets with their route tables, and the routes, with the
//! state of instances that routes go through; and, through [`super::egress`], its ways
//! out to AWS services.

use super::ctx::Ctx;
use super::ops::Op;
use crate::snapshot::{Network, NetworkInterface, Route, SecurityGroup, SgRule, Subnet};
use aws_sdk_ec2::types::{self as ec2, Filter};
use aws_sdk_ec2::Client;
use std::collections::{BTreeSet, HashMap};

/// Security groups per DescribeSecurityGroups call.
const GROUPS_PER_CALL: usize = 200;

/// Collects the network picture. `eni_owner` maps ENI ids of tasks to `task/<id>`.
pub async fn collect(
    ctx: &Ctx,
    ec2: &Client,
    sg_ids: &BTreeSet<String>,
    subnet_ids: &BTreeSet<String>,
    eni_owner: &HashMap<String, String>,
) -> Network {
    let mut net = Network::default();
    let mut vpcs = describe_known_groups(ctx, ec2, sg_ids, &mut net).await;
    if vpcs.is_empty() && !subnet_ids.is_empty() {
        vpcs_of_subnets(ctx, ec2, subnet_ids, &mut vpcs).await;
    }
    net.vpc_id = vpcs.iter().next().cloned();
    let tables = collect_vpcs(ctx, ec2, &vpcs, eni_owner, &mut net).await;
    let missing = unlisted_groups(&net, sg_ids);
    add_groups(ctx, ec2, &mut net, missing).await;
    assign_route_tables(&mut net.subnets, &tables);
    net.routes = routes(&tables);
    route_target_states(ctx, ec2, &mut net).await;
    sort_network(&mut net);
    net
}

/// Describes the groups of `sg_ids` into `net`; returns the VPCs they belong to.
async fn describe_known_groups(
    ctx: &Ctx,
    ec2: &Client,
    sg_ids: &BTreeSet<String>,
    net: &mut Network,
) -> BTreeSet<String> {
    let ids: Vec<String> = sg_ids.iter().cloned().collect();
    let batches: Vec<Vec<String>> = ids
        .chunks(GROUPS_PER_CALL)
        .map(<[String]>::to_vec)
        .collect();
    let results = ctx
        .each(batches, |batch| async move {
            let req = ec2.describe_security_groups().set_group_ids(Some(batch));
            ctx.get(Op::Ec2DescribeSecurityGroups, req.send()).await
        })
        .await;
    let mut vpcs = BTreeSet::new();
    for o in results.into_iter().flatten() {
        for g in o.security_groups() {
            if let Some(v) = g.vpc_id() {
                vpcs.insert(v.to_string());
            }
            net.security_groups.push(convert_sg(g));
        }
    }
    vpcs
}

/// Adds the VPCs of `subnet_ids` to `vpcs` (when no group named one).
async fn vpcs_of_subnets(
    ctx: &Ctx,
    ec2: &Client,
    subnet_ids: &BTreeSet<String>,
    vpcs: &mut BTreeSet<String>,
) {
    let req = ec2
        .describe_subnets()
        .set_subnet_ids(Some(subnet_ids.iter().cloned().collect()));
    if let Some(o) = ctx.get(Op::Ec2DescribeSubnets, req.send()).await {
        vpcs.extend(
            o.subnets()
                .iter()
                .filter_map(|s| s.vpc_id().map(String::from)),
        );
    }
}

/// Collects each VPC's interfaces, subnets and ways out into `net` (VPCs concurrently,
/// their parts joined); returns their route tables.
async fn collect_vpcs(
    ctx: &Ctx,
    ec2: &Client,
    vpcs: &BTreeSet<String>,
    eni_owner: &HashMap<String, String>,
    net: &mut Network,
) -> Vec<ec2::RouteTable> {
    let per_vpc = ctx
        .each(vpcs.iter().cloned(), |vpc| async move {
            let (enis, subnets, tables, ways_out) = tokio::join!(
                interfaces(ctx, ec2, &vpc, eni_owner),
                subnets(ctx, ec2, &vpc),
                route_tables(ctx, ec2, &vpc),
                super::egress::collect(ctx, ec2, &vpc)
            );
            (enis, subnets, tables, ways_out)
        })
        .await;
    let mut tables = Vec::new();
    for (enis, subnets, t, (endpoints, nats, acls)) in per_vpc {
        net.interfaces.extend(enis);
        net.subnets.extend(subnets);
        tables.extend(t);
        net.vpc_endpoints.extend(endpoints);
        net.nat_gateways.extend(nats);
        net.network_acls.extend(acls);
    }
    tables
}

/// Groups used by standalone tasks' ENIs and by endpoints that `sg_ids` does not hold.
fn unlisted_groups(net: &Network, sg_ids: &BTreeSet<String>) -> BTreeSet<String> {
    // Standalone tasks' groups are known only from their ENIs, and endpoints' from the
    // endpoints: describe those too.
    net.interfaces
        .iter()
        .filter(|i| i.owner.as_deref().is_some_and(|o| o.starts_with("task/")))
        .flat_map(|i| i.security_groups.iter())
        // Interface endpoints' groups decide whether tasks reach them.
        .chain(
            net.vpc_endpoints
                .iter()
                .flat_map(|e| e.security_groups.iter()),
        )
        .filter(|g| !sg_ids.contains(*g))
        .cloned()
        .collect::<BTreeSet<String>>()
}

/// Sets the state of routes' target instances and NAT gateways.
async fn route_target_states(ctx: &Ctx, ec2: &Client, net: &mut Network) {
    let instances: BTreeSet<String> = net
        .routes
        .iter()
        .filter(|r| r.target.starts_with("i-"))
        .map(|r| r.target.clone())
        .collect();
    if !instances.is_empty() {
        let states = instance_states(ctx, ec2, instances).await;
        for r in &mut net.routes {
            if let Some(s) = states.get(&r.target) {
                r.target_state = Some(s.clone());
            }
        }
    }
    for r in &mut net.routes {
        if let Some(n) = net.nat_gateways.iter().find(|n| n.id == r.target) {
            r.target_state = Some(n.state.clone());
        }
    }
}

/// Sorts (and dedups groups in) `net` so its output is stable.
fn sort_network(net: &mut Network) {
    net.vpc_endpoints.sort_by(|a, b| a.id.cmp(&b.id));
    net.nat_gateways.sort_by(|a, b| a.id.cmp(&b.id));
    net.network_acls.sort_by(|a, b| a.id.cmp(&b.id));
    net.security_groups.sort_by(|a, b| a.id.cmp(&b.id));
    net.security_groups.dedup_by(|a, b| a.id == b.id);
    net.interfaces
        .sort_by(|a, b| (&a.private_ip, &a.id).cmp(&(&b.private_ip, &b.id)));
    net.subnets.sort_by(|a, b| a.id.cmp(&b.id));
    net.routes
        .sort_by(|a, b| (&a.route_table, &a.destination).cmp(&(&b.route_table, &b.destination)));
}

/// Describes the groups of `ids` that `net` does not hold yet (groups the start-path
/// checks found, such as EFS mount targets') and adds them.
pub async fn add_groups(ctx: &Ctx, ec2: &Client, net: &mut Network, ids: BTreeSet<String>) {
    let missing: Vec<String> = ids
        .into_iter()
        .filter(|id| !net.security_groups.iter().any(|g| &g.id == id))
        .collect();
    for batch in missing.chunks(GROUPS_PER_CALL) {
        let req = ec2
            .describe_security_groups()
            .set_group_ids(Some(batch.to_vec()));
        if let Some(o) = ctx.get(Op::Ec2DescribeSecurityGroups, req.send()).await {
            net.security_groups
                .extend(o.security_groups().iter().map(convert_sg));
        }
    }
    net.security_groups.sort_by(|a, b| a.id.cmp(&b.id));
}

/// Converts one security group.
pub fn convert_sg(g: &ec2::SecurityGroup) -> SecurityGroup {
    SecurityGroup {
        id: g.group_id().unwrap_or_default().to_string(),
        name: g.group_name().map(String::from),
        ingress: g.ip_permissions().iter().map(convert_rule).collect(),
        egress: Some(g.ip_permissions_egress().iter().map(convert_rule).collect()),
    }
}

fn convert_rule(p: &ec2::IpPermission) -> SgRule {
    let protocol = p.ip_protocol().unwrap_or("-1").to_string();
    let all = protocol == "-1";
    SgRule {
        protocol,
        from_port: p.from_port().filter(|_| !all),
        to_port: p.to_port().filter(|_| !all),
        cidrs: p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(String::from))
            .collect(),
        source_groups: p
            .user_id_group_pairs()
            .iter()
            .filter_map(|g| g.group_id().map(String::from))
            .collect(),
    }
}

fn vpc_filter(vpc: &str) -> Filter {
    Filter::builder().name("vpc-id").values(vpc).build()
}

async fn interfaces(
    ctx: &Ctx,
    ec2: &Client,
    vpc: &str,
    eni_owner: &HashMap<String, String>,
) -> Vec<NetworkInterface> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _page in 0..50 {
        let req = ec2
            .describe_network_interfaces()
            .filters(vpc_filter(vpc))
            .max_results(1000)
            .set_next_token(token.clone());
        let Some(o) = ctx.get(Op::Ec2DescribeNetworkInterfaces, req.send()).await else {
            break;
        };
        for n in o.network_interfaces() {
            out.extend(convert_eni(n, eni_owner));
        }
        token = o.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    out
}

/// One entry per private IP of the interface, with its owner.
pub fn convert_eni(
    n: &ec2::NetworkInterface,
    eni_owner: &HashMap<String, String>,
) -> Vec<NetworkInterface> {
    let id = n.network_interface_id().unwrap_or_default().to_string();
    let owner = eni_owner.get(&id).cloned().or_else(|| owner_of(n));
    let groups: Vec<String> = n
        .groups()
        .iter()
        .filter_map(|g| g.group_id().map(String::from))
        .collect();
    let mut ips: Vec<String> = n
        .private_ip_addresses()
        .iter()
        .filter_map(|p| p.private_ip_address().map(String::from))
        .collect();
    if let Some(p) = n.private_ip_address() {
        if !ips.iter().any(|i| i == p) {
            ips.insert(0, p.to_string());
        }
    }
    ips.into_iter()
        .map(|ip| NetworkInterface {
            id: id.clone(),
            private_ip: ip,
            subnet_id: n.subnet_id().map(String::from),
            owner: owner.clone(),
            security_groups: groups.clone(),
        })
        .collect()
}

/// What owns an interface, from its description, type and attachment.
fn owner_of(n: &ec2::NetworkInterface) -> Option<String> {
    let desc = n.description().unwrap_or_default();
    if let Some(rest) = desc.strip_prefix("ELB ") {
        // "ELB app/name/id" or "ELB net/name/id"; classic: "ELB name".
        let name = rest.split('/').nth(1).unwrap_or(rest);
        return Some(format!("elb/{name}"));
    }
    if desc == "RDSNetworkInterface" {
        return Some("rds".into());
    }
    if let Some(i) = n.attachment().and_then(|a| a.instance_id()) {
        return Some(format!("instance/{i}"));
    }
    if desc.starts_with("arn:aws:ecs:") {
        return Some("ecs-task".into());
    }
    match n.interface_type().map(|t| t.as_str()) {
        Some("interface") | None => n.requester_id().map(|r| format!("requester/{r}")),
        Some(t) => Some(t.to_string()),
    }
}

async fn subnets(ctx: &Ctx, ec2: &Client, vpc: &str) -> Vec<Subnet> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _page in 0..20 {
        let req = ec2
            .describe_subnets()
            .filters(vpc_filter(vpc))
            .max_results(1000)
            .set_next_token(token.clone());
        let Some(o) = ctx.get(Op::Ec2DescribeSubnets, req.send()).await else {
            break;
        };
        out.extend(o.subnets().iter().map(|s| Subnet {
            id: s.subnet_id().unwrap_or_default().to_string(),
            cidr: s.cidr_block().unwrap_or_default().to_string(),
            availability_zone: s.availability_zone().map(String::from),
            route_table: None,
        }));
        token = o.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    out
}

async fn route_tables(ctx: &Ctx, ec2: &Client, vpc: &str) -> Vec<ec2::RouteTable> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _page in 0..20 {
        let req = ec2
            .describe_route_tables()
            .filters(vpc_filter(vpc))
            .max_results(100)
            .set_next_token(token.clone());
        let Some(o) = ctx.get(Op::Ec2DescribeRouteTables, req.send()).await else {
            break;
        };
        out.extend(o.route_tables().iter().cloned());
        token = o.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    out
}

/// Each subnet's route table: its explicit association, else the VPC's main table.
fn assign_route_tables(subnets: &mut [Subnet], tables: &[ec2::RouteTable]) {
    let mut explicit = HashMap::new();
    let mut main = None;
    for t in tables {
        let id = t.route_table_id().unwrap_or_default().to_string();
        for a in t.associations() {
            if a.main() == Some(true) {
                main = Some(id.clone());
            }
            if let Some(s) = a.subnet_id() {
                explicit.insert(s.to_string(), id.clone());
            }
        }
    }
    for s in subnets {
        s.route_table = explicit.get(&s.id).cloned().or_else(|| main.clone());
    }
}

/// Routes of the tables, with their target and state.
pub fn routes(tables: &[ec2::RouteTable]) -> Vec<Route> {
    let mut out = Vec::new();
    for t in tables {
        let table = t.route_table_id().unwrap_or_default();
        for r in t.routes() {
            let destination = r
                .destination_cidr_block()
                .or(r.destination_prefix_list_id())
                .unwrap_or_default();
            let target = r
                .instance_id()
                .or(r.nat_gateway_id())
                .or(r.transit_gateway_id())
                .or(r.vpc_peering_connection_id())
                .or(r.egress_only_internet_gateway_id())
                .or(r.gateway_id())
                .or(r.network_interface_id())
                .or(r.local_gateway_id())
                .unwrap_or("unknown");
            out.push(Route {
                route_table: table.to_string(),
                destination: destination.to_string(),
                target: target.to_string(),
                state: r
                    .state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "active".into()),
                target_state: None,
            });
        }
    }
    out
}

async fn instance_states(
    ctx: &Ctx,
    ec2: &Client,
    ids: BTreeSet<String>,
) -> HashMap<String, String> {
    let ids: Vec<String> = ids.into_iter().collect();
    let batches: Vec<Vec<String>> = ids.chunks(100).map(<[String]>::to_vec).collect();
    let results = ctx
        .each(batches, |batch| async move {
            let req = ec2.describe_instances().set_instance_ids(Some(batch));
            ctx.get(Op::Ec2DescribeInstances, req.send()).await
        })
        .await;
    let mut out = HashMap::new();
    for o in results.into_iter().flatten() {
        for i in o.reservations().iter().flat_map(|r| r.instances()) {
            if let (Some(id), Some(state)) = (i.instance_id(), i.state().and_then(|s| s.name())) {
                out.insert(id.to_string(), state.as_str().to_string());
            }
        }
    }
    out
}
