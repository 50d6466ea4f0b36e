//! The steps of an `aws-path` verdict for one service: which of its subnets lack a way to
//! which needed services ([`Gaps::find`]), and the record that sums them up
//! ([`record`]).

use super::{available_nat, or_dash, PathCtx};
use crate::rules::shapes::AwsPath;
use crate::snapshot::{AwsVpcConfig, Service, Snapshot, Subnet};
use std::collections::BTreeSet;

/// What a service's subnets lack: the subnets and route tables without a way, the
/// services missing, and one detail line per such subnet.
pub(super) struct Gaps {
    bad_subnets: Vec<String>,
    tables: BTreeSet<String>,
    missing: BTreeSet<&'static str>,
    details: Vec<String>,
}

impl Gaps {
    /// Checks every subnet for a way to every needed service.
    pub(super) fn find(
        ctx: &PathCtx<'_>,
        subnets: &[&Subnet],
        needs: &BTreeSet<&'static str>,
    ) -> Gaps {
        let mut bad_subnets = Vec::new();
        let mut tables = BTreeSet::new();
        let mut missing: BTreeSet<&'static str> = BTreeSet::new();
        let mut details = Vec::new();
        for s in subnets {
            let table = s.route_table.clone().unwrap_or_default();
            let out = ctx.internet(s);
            let mut lacking = Vec::new();
            let mut notes = Vec::new();
            for &need in needs {
                match ctx.reach(s, need, &out) {
                    Ok(()) => {}
                    Err(why) => {
                        lacking.push(need);
                        if let Some(w) = why {
                            notes.push(w);
                        }
                    }
                }
            }
            if lacking.is_empty() {
                continue;
            }
            bad_subnets.push(s.id.clone());
            tables.insert(table.clone());
            missing.extend(lacking.iter().copied());
            let way = out.as_ref().err().cloned().unwrap_or_default();
            let mut d = format!("{} ({table}): {way}", s.id);
            notes.dedup();
            for n in notes {
                d.push_str("; ");
                d.push_str(&n);
            }
            details.push(d);
        }
        Gaps {
            bad_subnets,
            tables,
            missing,
            details,
        }
    }
}

/// The `aws-path` record for one service, from its subnets and what they lack.
pub(super) fn record(
    snap: &Snapshot,
    svc: &Service,
    net: &AwsVpcConfig,
    needs: &BTreeSet<&'static str>,
    subnets: &[&Subnet],
    gaps: Gaps,
) -> AwsPath {
    let Gaps {
        bad_subnets,
        tables,
        missing,
        details,
    } = gaps;
    let reachable = bad_subnets.is_empty();
    let all_subnets: Vec<String> = subnets.iter().map(|s| s.id.clone()).collect();
    let all_tables: BTreeSet<String> = subnets
        .iter()
        .filter_map(|s| s.route_table.clone())
        .collect();
    let interface: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|m| *m != "s3" && *m != "internet")
        .collect();
    AwsPath {
        from: format!("service:{}", svc.name),
        vpc: snap.network.vpc_id.clone().unwrap_or_default(),
        subnets: if reachable { all_subnets } else { bad_subnets }.join(","),
        route_tables: if reachable { all_tables } else { tables }
            .into_iter()
            .collect::<Vec<_>>()
            .join(","),
        security_groups: net.security_groups.join(","),
        public_ip: net.assign_public_ip,
        nat: available_nat(snap).unwrap_or_default(),
        needs: needs.iter().copied().collect::<Vec<_>>().join(","),
        no_path: or_dash(missing.iter().copied().collect::<Vec<_>>().join(",")),
        interface: or_dash(interface.join(",")),
        reachable,
        detail: if reachable {
            "every subnet has a way to every service needed".into()
        } else {
            details.join(" | ")
        },
    }
}
