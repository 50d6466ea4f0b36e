//! EC2: a VPC's ways out to AWS services and the internet, for the start-path check:
//! interface and gateway endpoints (DescribeVpcEndpoints), NAT gateways
//! (DescribeNatGateways) and network ACLs (DescribeNetworkAcls). Each is one paged,
//! read-only call per VPC; a denied call leaves its list empty and is named in
//! `collect_errors`, and analysis then says the path was not verified.

use super::ctx::Ctx;
use super::ops::Op;
use crate::snapshot::{AclEntry, NatGateway, NetworkAcl, VpcEndpoint};
use aws_sdk_ec2::types::{self as ec2, Filter};
use aws_sdk_ec2::Client;

/// Pages per call; a VPC with more than this many pages is cut short.
const MAX_PAGES: usize = 20;

fn vpc_filter(vpc: &str) -> Filter {
    Filter::builder().name("vpc-id").values(vpc).build()
}

/// Endpoints, NAT gateways and ACLs of one VPC, fetched concurrently.
pub async fn collect(
    ctx: &Ctx,
    ec2: &Client,
    vpc: &str,
) -> (Vec<VpcEndpoint>, Vec<NatGateway>, Vec<NetworkAcl>) {
    tokio::join!(
        endpoints(ctx, ec2, vpc),
        nat_gateways(ctx, ec2, vpc),
        acls(ctx, ec2, vpc)
    )
}

async fn endpoints(ctx: &Ctx, ec2: &Client, vpc: &str) -> Vec<VpcEndpoint> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _page in 0..MAX_PAGES {
        let req = ec2
            .describe_vpc_endpoints()
            .filters(vpc_filter(vpc))
            .set_next_token(token.clone());
        let Some(o) = ctx.get(Op::Ec2DescribeVpcEndpoints, req.send()).await else {
            break;
        };
        out.extend(o.vpc_endpoints().iter().map(convert_endpoint));
        token = o.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    out
}

pub fn convert_endpoint(e: &ec2::VpcEndpoint) -> VpcEndpoint {
    VpcEndpoint {
        id: e.vpc_endpoint_id().unwrap_or_default().to_string(),
        service_name: e.service_name().unwrap_or_default().to_string(),
        kind: e
            .vpc_endpoint_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        state: e
            .state()
            .map(|s| s.as_str().to_ascii_lowercase())
            .unwrap_or_default(),
        subnets: e.subnet_ids().to_vec(),
        security_groups: e
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(String::from))
            .collect(),
        route_tables: e.route_table_ids().to_vec(),
        private_dns: e.private_dns_enabled().unwrap_or(false),
    }
}

async fn nat_gateways(ctx: &Ctx, ec2: &Client, vpc: &str) -> Vec<NatGateway> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _page in 0..MAX_PAGES {
        let req = ec2
            .describe_nat_gateways()
            .filter(vpc_filter(vpc))
            .set_next_token(token.clone());
        let Some(o) = ctx.get(Op::Ec2DescribeNatGateways, req.send()).await else {
            break;
        };
        out.extend(o.nat_gateways().iter().map(|n| {
            NatGateway {
                id: n.nat_gateway_id().unwrap_or_default().to_string(),
                state: n
                    .state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                subnet: n.subnet_id().map(String::from),
            }
        }));
        token = o.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    out
}

async fn acls(ctx: &Ctx, ec2: &Client, vpc: &str) -> Vec<NetworkAcl> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _page in 0..MAX_PAGES {
        let req = ec2
            .describe_network_acls()
            .filters(vpc_filter(vpc))
            .set_next_token(token.clone());
        let Some(o) = ctx.get(Op::Ec2DescribeNetworkAcls, req.send()).await else {
            break;
        };
        out.extend(o.network_acls().iter().map(convert_acl));
        token = o.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    out
}

pub fn convert_acl(a: &ec2::NetworkAcl) -> NetworkAcl {
    NetworkAcl {
        id: a.network_acl_id().unwrap_or_default().to_string(),
        subnets: a
            .associations()
            .iter()
            .filter_map(|s| s.subnet_id().map(String::from))
            .collect(),
        entries: a
            .entries()
            .iter()
            .map(|e| AclEntry {
                rule_number: e.rule_number().unwrap_or(32767),
                egress: e.egress().unwrap_or(false),
                protocol: e.protocol().unwrap_or("-1").to_string(),
                from_port: e.port_range().and_then(|p| p.from()),
                to_port: e.port_range().and_then(|p| p.to()),
                cidr: e
                    .cidr_block()
                    .or(e.ipv6_cidr_block())
                    .unwrap_or_default()
                    .to_string(),
                allow: e.rule_action().is_some_and(|r| r.as_str() == "allow"),
            })
            .collect(),
    }
}
