//! RDS: the database instances and Aurora clusters whose endpoint the task definitions'
//! environment names, as endpoints with their VPC security groups (for the sg-path facts).

use super::ctx::Ctx;
use super::ops::Op;
use crate::snapshot::Endpoint;
use aws_sdk_rds::Client;

/// Endpoints whose address occurs (case-insensitively) in one of `env_values`.
pub async fn collect(ctx: &Ctx, client: &Client, env_values: &[String]) -> Vec<Endpoint> {
    let named = |addr: &str| {
        let a = addr.to_ascii_lowercase();
        !a.is_empty() && env_values.iter().any(|v| v.contains(&a))
    };
    let (instances, clusters) = tokio::join!(instances(ctx, client), clusters(ctx, client));
    let mut out: Vec<Endpoint> = instances
        .into_iter()
        .chain(clusters)
        .filter(|e| named(&e.address))
        .collect();
    out.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
    out.dedup_by(|a, b| a.address == b.address);
    out
}

async fn instances(ctx: &Ctx, client: &Client) -> Vec<Endpoint> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    for _page in 0..20 {
        let req = client
            .describe_db_instances()
            .max_records(100)
            .set_marker(marker.clone());
        let Some(o) = ctx.get(Op::RdsDescribeDbInstances, req.send()).await else {
            break;
        };
        for i in o.db_instances() {
            let Some(ep) = i.endpoint() else { continue };
            out.push(Endpoint {
                name: i.db_instance_identifier().unwrap_or_default().to_string(),
                kind: "rds".into(),
                address: ep.address().unwrap_or_default().to_string(),
                port: ep.port().unwrap_or(5432),
                security_groups: i
                    .vpc_security_groups()
                    .iter()
                    .filter_map(|g| g.vpc_security_group_id().map(String::from))
                    .collect(),
            });
        }
        marker = o.marker().map(String::from);
        if marker.is_none() {
            break;
        }
    }
    out
}

async fn clusters(ctx: &Ctx, client: &Client) -> Vec<Endpoint> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    for _page in 0..20 {
        let req = client
            .describe_db_clusters()
            .max_records(100)
            .set_marker(marker.clone());
        let Some(o) = ctx.get(Op::RdsDescribeDbClusters, req.send()).await else {
            break;
        };
        for c in o.db_clusters() {
            let sgs: Vec<String> = c
                .vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id().map(String::from))
                .collect();
            let name = c.db_cluster_identifier().unwrap_or_default();
            for (suffix, addr) in [("", c.endpoint()), ("-ro", c.reader_endpoint())] {
                let Some(addr) = addr else { continue };
                out.push(Endpoint {
                    name: format!("{name}{suffix}"),
                    kind: "aurora".into(),
                    address: addr.to_string(),
                    port: c.port().unwrap_or(5432),
                    security_groups: sgs.clone(),
                });
            }
        }
        marker = o.marker().map(String::from);
        if marker.is_none() {
            break;
        }
    }
    out
}
