//! Elastic Load Balancing v2: the target groups of the services in scope (with their
//! health-check settings), the load balancers in front of them (type, security groups,
//! subnets) and each target's health with its reason and description.

use super::ctx::Ctx;
use super::ops::Op;
use crate::snapshot::{LoadBalancer, TargetGroup, TargetHealth};
use aws_sdk_elasticloadbalancingv2::types as elb;
use aws_sdk_elasticloadbalancingv2::Client;
use std::collections::BTreeSet;

/// ARNs per DescribeTargetGroups / DescribeLoadBalancers call.
const ARNS_PER_CALL: usize = 20;

pub struct Collected {
    pub load_balancers: Vec<LoadBalancer>,
    pub target_health: Vec<TargetHealth>,
}

pub async fn collect(ctx: &Ctx, client: &Client, tg_arns: &BTreeSet<String>) -> Collected {
    let arns: Vec<String> = tg_arns.iter().cloned().collect();
    let batches: Vec<Vec<String>> = arns.chunks(ARNS_PER_CALL).map(<[String]>::to_vec).collect();
    let tgs: Vec<elb::TargetGroup> = ctx
        .each(batches, |b| async move {
            let req = client
                .describe_target_groups()
                .set_target_group_arns(Some(b));
            ctx.get(Op::ElbDescribeTargetGroups, req.send()).await
        })
        .await
        .into_iter()
        .flatten()
        .flat_map(|o| o.target_groups().to_vec())
        .collect();
    let lb_arns: BTreeSet<String> = tgs
        .iter()
        .flat_map(|t| t.load_balancer_arns().iter().cloned())
        .collect();
    let lb_arns: Vec<String> = lb_arns.into_iter().collect();
    let lb_batches: Vec<Vec<String>> = lb_arns
        .chunks(ARNS_PER_CALL)
        .map(<[String]>::to_vec)
        .collect();
    let health_fut = ctx.each(tgs.iter(), |t| async move {
        let arn = t.target_group_arn().unwrap_or_default().to_string();
        let req = client.describe_target_health().target_group_arn(&arn);
        let out = ctx.get(Op::ElbDescribeTargetHealth, req.send()).await;
        out.map(|o| {
            o.target_health_descriptions()
                .iter()
                .map(|d| convert_health(&arn, d))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    });
    let lbs_fut = ctx.each(lb_batches, |b| async move {
        let req = client
            .describe_load_balancers()
            .set_load_balancer_arns(Some(b));
        ctx.get(Op::ElbDescribeLoadBalancers, req.send()).await
    });
    let (health, lbs) = tokio::join!(health_fut, lbs_fut);
    let mut load_balancers: Vec<LoadBalancer> = lbs
        .into_iter()
        .flatten()
        .flat_map(|o| {
            o.load_balancers()
                .iter()
                .map(|lb| convert_lb(lb, &tgs))
                .collect::<Vec<_>>()
        })
        .collect();
    load_balancers.sort_by(|a, b| a.name.cmp(&b.name));
    let mut target_health: Vec<TargetHealth> = health.into_iter().flatten().collect();
    target_health.sort_by(|a, b| {
        (&a.target_group, &a.target_id, a.port).cmp(&(&b.target_group, &b.target_id, b.port))
    });
    Collected {
        load_balancers,
        target_health,
    }
}

/// Converts a load balancer with the target groups (of `tgs`) attached to it.
pub fn convert_lb(lb: &elb::LoadBalancer, tgs: &[elb::TargetGroup]) -> LoadBalancer {
    let arn = lb.load_balancer_arn().unwrap_or_default();
    LoadBalancer {
        name: lb.load_balancer_name().unwrap_or_default().to_string(),
        kind: lb
            .r#type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_else(|| "application".into()),
        dns_name: lb.dns_name().map(String::from),
        security_groups: lb.security_groups().to_vec(),
        subnets: lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id().map(String::from))
            .collect(),
        target_groups: tgs
            .iter()
            .filter(|t| t.load_balancer_arns().iter().any(|a| a == arn))
            .map(convert_tg)
            .collect(),
    }
}

pub fn convert_tg(t: &elb::TargetGroup) -> TargetGroup {
    TargetGroup {
        arn: t.target_group_arn().unwrap_or_default().to_string(),
        name: t.target_group_name().unwrap_or_default().to_string(),
        port: t.port().unwrap_or_default(),
        protocol: t
            .protocol()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        target_type: t.target_type().map(|x| x.as_str().to_string()),
        health_check_protocol: t.health_check_protocol().map(|p| p.as_str().to_string()),
        health_check_path: t.health_check_path().map(String::from),
        health_check_port: t.health_check_port().map(String::from),
    }
}

pub fn convert_health(tg_arn: &str, d: &elb::TargetHealthDescription) -> TargetHealth {
    let h = d.target_health();
    TargetHealth {
        target_group: tg_arn.to_string(),
        target_id: d
            .target()
            .and_then(|t| t.id())
            .unwrap_or_default()
            .to_string(),
        port: d.target().and_then(|t| t.port()),
        state: h
            .and_then(|h| h.state())
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "unknown".into()),
        reason: h.and_then(|h| h.reason()).map(|r| r.as_str().to_string()),
        description: h.and_then(|h| h.description()).map(String::from),
    }
}
