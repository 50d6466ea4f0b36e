//! Facts derived once per snapshot. Every source a rule can look at is flattened into
//! text [`Record`]s with a [`Loc`] (service, task, revision, container, time), and the
//! structural questions that are awkward as regexes — which IPs are live, which
//! security-group paths are open, whether a URI and per-field DB variables disagree,
//! which secret fingerprints are reused — are computed here in code and exposed to rules
//! as `fact` records and named string sets.

use crate::rules::Source;
use crate::snapshot::{split_td, SgRule, Snapshot};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Where a record came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loc {
    pub service: Option<String>,
    pub task_id: Option<String>,
    pub family: Option<String>,
    pub revision: Option<i64>,
    pub container: Option<String>,
    pub log_group: Option<String>,
    pub time: Option<DateTime<Utc>>,
    /// Last time, for a record that folds lines spanning a period (`time` is the first).
    pub last_time: Option<DateTime<Utc>>,
    /// Human-readable locator, e.g. `/ecs/api ecs/app/3f9c…` or `stdin:12`.
    pub locator: String,
    /// File position, for records read from files by `lint`.
    pub origin: Option<crate::lint::Origin>,
}

/// Which kind of observation a record is, for recency ("was it fixed in a newer revision?").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObsClass {
    Logs,
    Tasks,
    Config,
    Other,
}

impl Source {
    pub fn obs_class(self) -> ObsClass {
        match self {
            Source::Log => ObsClass::Logs,
            Source::StoppedReason
            | Source::StopCode
            | Source::ContainerReason
            | Source::ExitCode
            | Source::Task
            | Source::LogStream => ObsClass::Tasks,
            Source::TaskDefinition | Source::Compose | Source::EnvFile => ObsClass::Config,
            _ => ObsClass::Other,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Record {
    pub source: Source,
    /// For task-definition and fact records: which field.
    pub field: Option<&'static str>,
    pub text: String,
    pub loc: Loc,
    /// How many identical occurrences this record stands for.
    pub count: u64,
}

/// All records and fact sets of one snapshot.
#[derive(Debug, Default)]
pub struct Index {
    pub records: Vec<Record>,
    by_source: HashMap<(Source, Option<&'static str>), Vec<usize>>,
    pub sets: HashMap<&'static str, HashSet<String>>,
    /// Newest revision per family present in the snapshot.
    pub latest_revision: BTreeMap<String, i64>,
    /// (class, family, revision) combinations that have records.
    pub observed: HashSet<(ObsClass, String, i64)>,
    /// family → service running it.
    pub family_service: HashMap<String, String>,
    /// (file, line, column) of compose env values that came from `${VAR}`.
    pub interpolated: HashSet<(String, usize, usize)>,
}

impl Index {
    pub fn records_of(
        &self,
        source: Source,
        field: Option<&str>,
    ) -> impl Iterator<Item = usize> + '_ {
        let key = self
            .by_source
            .keys()
            .find(|(s, f)| *s == source && *f == field)
            .copied();
        key.and_then(|k| self.by_source.get(&k))
            .into_iter()
            .flatten()
            .copied()
    }

    pub fn set(&self, name: &str) -> Option<&HashSet<String>> {
        self.sets.get(name)
    }

    pub(crate) fn push(
        &mut self,
        source: Source,
        field: Option<&'static str>,
        text: String,
        loc: Loc,
        count: u64,
    ) {
        if let (Some(f), Some(r)) = (&loc.family, loc.revision) {
            self.observed.insert((source.obs_class(), f.clone(), r));
        }
        let i = self.records.len();
        self.records.push(Record {
            source,
            field,
            text,
            loc,
            count,
        });
        self.by_source.entry((source, field)).or_default().push(i);
    }

    /// Builds the index for a snapshot.
    pub fn build(snap: &Snapshot) -> Index {
        Index::build_with(snap, None)
    }

    /// Builds the index for a snapshot plus the files `lint` read (positions, compose
    /// services, env files).
    pub fn build_with(snap: &Snapshot, lint: Option<&crate::lint::LintInputs>) -> Index {
        let mut ix = Index::default();
        for td in &snap.task_definitions {
            let e = ix
                .latest_revision
                .entry(td.family.clone())
                .or_insert(td.revision);
            *e = (*e).max(td.revision);
        }
        for svc in &snap.services {
            if let Some((fam, _)) = svc.task_definition.as_deref().and_then(split_td) {
                ix.family_service.insert(fam, svc.name.clone());
            }
            for d in &svc.deployments {
                if let Some((fam, _)) = split_td(&d.task_definition) {
                    ix.family_service
                        .entry(fam)
                        .or_insert_with(|| svc.name.clone());
                }
            }
        }
        services(&mut ix, snap);
        let task_loc = tasks(&mut ix, snap);
        task_definitions(&mut ix, snap, lint);
        if let Some(l) = lint {
            crate::config_facts::files(&mut ix, l);
        }
        logs(&mut ix, snap, &task_loc);
        misc(&mut ix, snap);
        sets(&mut ix, snap);
        crate::config_facts::sets(&mut ix, snap, lint);
        sg_paths(&mut ix, snap);
        lb_paths(&mut ix, snap);
        db_config(&mut ix, snap, lint);
        crate::config_facts::env_hosts(&mut ix, snap, lint);
        crate::config_facts::task_health(&mut ix, snap, lint);
        crate::config_facts::secret_reuse(&mut ix);
        crate::config_facts::public_defaults(&mut ix);
        ix
    }
}

fn td_loc(ix: &Index, td: &str) -> (Option<String>, Option<i64>, Option<String>) {
    match split_td(td) {
        Some((f, r)) => {
            let svc = ix.family_service.get(&f).cloned();
            (Some(f), Some(r), svc)
        }
        None => (None, None, None),
    }
}

fn services(ix: &mut Index, snap: &Snapshot) {
    for svc in &snap.services {
        for ev in &svc.events {
            let loc = Loc {
                service: Some(svc.name.clone()),
                time: Some(ev.created_at),
                locator: format!("service {} event", svc.name),
                ..Loc::default()
            };
            ix.push(Source::ServiceEvent, None, ev.message.clone(), loc, 1);
        }
        for d in &svc.deployments {
            let (family, revision, _) = td_loc(ix, &d.task_definition);
            let text = format!(
                "status={} rollout={} failed_tasks={} desired={} running={} task_definition={} reason={}",
                d.status,
                d.rollout_state.as_deref().unwrap_or("unknown"),
                d.failed_tasks,
                d.desired_count,
                d.running_count,
                d.task_definition,
                d.rollout_state_reason.as_deref().unwrap_or("")
            );
            let loc = Loc {
                service: Some(svc.name.clone()),
                family,
                revision,
                time: d.updated_at.or(d.created_at),
                locator: format!("service {} deployment {}", svc.name, d.id),
                ..Loc::default()
            };
            ix.push(Source::Deployment, None, text, loc, 1);
        }
    }
}

/// Pushes task records; returns task id → its location (for log lines).
fn tasks(ix: &mut Index, snap: &Snapshot) -> HashMap<String, Loc> {
    let mut by_id = HashMap::new();
    for t in &snap.tasks {
        let (family, revision, fam_svc) = td_loc(ix, &t.task_definition);
        let service = t
            .group
            .as_deref()
            .and_then(|g| g.strip_prefix("service:"))
            .map(String::from)
            .or(fam_svc);
        let base = Loc {
            service,
            task_id: Some(t.id.clone()),
            family,
            revision,
            time: t.stopped_at.or(t.started_at).or(t.created_at),
            locator: format!("task {} ({})", short(&t.id), t.task_definition),
            ..Loc::default()
        };
        by_id.insert(t.id.clone(), base.clone());
        if let Some(r) = &t.stopped_reason {
            // A batch or one-off task ends with "Essential container in task exited" too;
            // say so when every container exited 0, so rules can tell completion from failure.
            let completed =
                !t.containers.is_empty() && t.containers.iter().all(|c| c.exit_code == Some(0));
            let text = if completed {
                format!("{r} (every container exited 0)")
            } else {
                r.clone()
            };
            ix.push(Source::StoppedReason, None, text, base.clone(), 1);
        }
        if let Some(c) = &t.stop_code {
            ix.push(Source::StopCode, None, c.clone(), base.clone(), 1);
        }
        let exits: Vec<String> = t
            .containers
            .iter()
            .filter_map(|c| c.exit_code.map(|x| format!("{}:{x}", c.name)))
            .collect();
        let text = format!(
            "status={} desired={} stop_code={} group={} started_by={} launch_type={} exit={}",
            t.last_status,
            t.desired_status.as_deref().unwrap_or(""),
            t.stop_code.as_deref().unwrap_or(""),
            t.group.as_deref().unwrap_or(""),
            t.started_by.as_deref().unwrap_or(""),
            t.launch_type.as_deref().unwrap_or(""),
            exits.join(",")
        );
        ix.push(Source::Task, None, text, base.clone(), 1);
        for c in &t.containers {
            let loc = Loc {
                container: Some(c.name.clone()),
                locator: format!("{} container {}", base.locator, c.name),
                ..base.clone()
            };
            if let Some(r) = &c.reason {
                ix.push(Source::ContainerReason, None, r.clone(), loc.clone(), 1);
            }
            if let Some(x) = c.exit_code {
                ix.push(Source::ExitCode, None, x.to_string(), loc, 1);
            }
        }
    }
    by_id
}

fn task_definitions(ix: &mut Index, snap: &Snapshot, lint: Option<&crate::lint::LintInputs>) {
    for td in &snap.task_definitions {
        let service = ix.family_service.get(&td.family).cloned();
        let key = td.key();
        let synthetic = lint.is_some_and(|l| l.synthetic_revisions.contains(&key));
        // Where a part is: its file position under `lint`, else a description.
        let place = |container: Option<&str>, what: Option<&str>, fallback: String| match lint
            .and_then(|l| l.origin_of(&key, container, what))
        {
            Some(o) => (o.locator(), Some(o.clone())),
            None => (fallback, None),
        };
        let (locator, origin) = place(None, None, format!("task definition {key}"));
        let base = Loc {
            service,
            family: Some(td.family.clone()),
            revision: (!synthetic).then_some(td.revision),
            time: td.registered_at,
            locator,
            origin,
            ..Loc::default()
        };
        let platform = match &td.runtime_platform {
            Some(p) => format!(
                "{}/{}",
                p.cpu_architecture.as_deref().unwrap_or("unset"),
                p.os_family.as_deref().unwrap_or("unset")
            ),
            None => "unset".into(),
        };
        let at = |what: &str| {
            let exact = lint.and_then(|l| {
                l.origins
                    .get(&crate::lint::part_key(&key, None, Some(what)))
            });
            match exact {
                Some(o) => Loc {
                    locator: o.locator(),
                    origin: Some(o.clone()),
                    ..base.clone()
                },
                // Not in the file: point at the task definition, naming what is missing.
                None if base.origin.is_some() => Loc {
                    locator: format!("{} (no {what})", base.locator),
                    ..base.clone()
                },
                None => base.clone(),
            }
        };
        ix.push(
            Source::TaskDefinition,
            Some("runtime-platform"),
            platform,
            at("runtimePlatform"),
            1,
        );
        if let Some(m) = &td.network_mode {
            ix.push(
                Source::TaskDefinition,
                Some("network-mode"),
                m.clone(),
                at("networkMode"),
                1,
            );
        }
        for c in &td.containers {
            let (locator, origin) = place(
                Some(&c.name),
                None,
                format!("task definition {key} container {}", c.name),
            );
            let loc = Loc {
                container: Some(c.name.clone()),
                locator,
                origin,
                ..base.clone()
            };
            let mut push = |field: &'static str, text: String, what: &str, part: &str| {
                let mut l = loc.clone();
                match lint.and_then(|li| {
                    li.origins
                        .get(&crate::lint::part_key(&key, Some(&c.name), Some(part)))
                }) {
                    Some(o) => {
                        l.locator = o.locator();
                        l.origin = Some(o.clone());
                    }
                    None if l.origin.is_some() => {
                        // Missing in the file: point at the container, naming the field.
                        let missing = match field {
                            "health-check" => "no healthCheck",
                            "log-driver" => "no logConfiguration",
                            _ => what,
                        };
                        l.locator = format!("{} ({missing})", loc.locator);
                    }
                    None if !what.is_empty() => {
                        l.locator = format!("{} {what}", loc.locator);
                    }
                    None => {}
                }
                ix.push(Source::TaskDefinition, Some(field), text, l, 1);
            };
            push("image", c.image.clone(), "image", "image");
            for e in &c.environment {
                push(
                    "env",
                    format!("{}={}", e.name, e.value),
                    &format!("env {}", e.name),
                    &format!("env/{}", e.name),
                );
            }
            for s in &c.secrets {
                push(
                    "secret",
                    format!("{}={}", s.name, s.value_from),
                    &format!("secret {}", s.name),
                    &format!("secret/{}", s.name),
                );
            }
            if c.essential {
                let hc = c
                    .health_check
                    .as_ref()
                    .map_or_else(|| "none".to_string(), |h| h.command.join(" "));
                push("health-check", hc, "health check", "health-check");
            }
            let driver = c
                .log_configuration
                .as_ref()
                .map_or_else(|| "none".to_string(), |l| l.log_driver.clone());
            push("log-driver", driver, "log configuration", "log-driver");
            let cmd: Vec<&str> = c
                .entry_point
                .iter()
                .chain(c.command.iter())
                .map(String::as_str)
                .collect();
            if !cmd.is_empty() {
                push("command", cmd.join(" "), "command", "command");
            }
            for (j, p) in c.port_mappings.iter().enumerate() {
                let proto = p.protocol.as_deref().unwrap_or("tcp");
                push(
                    "port",
                    format!("{}/{proto}", p.container_port),
                    "port mapping",
                    &format!("port/{j}"),
                );
            }
        }
    }
}

fn logs(ix: &mut Index, snap: &Snapshot, tasks: &HashMap<String, Loc>) {
    for l in &snap.logs {
        let task = l.task_id.as_ref().and_then(|t| tasks.get(t));
        let locator = match (&l.group, &l.stream, l.line) {
            (None, Some(s), Some(_)) => s.clone(),
            (Some(g), Some(s), _) => format!("{g} {s}"),
            (Some(g), None, _) => g.clone(),
            (None, Some(s), _) => s.clone(),
            (None, None, Some(n)) => format!("line {n}"),
            (None, None, None) => "log".into(),
        };
        let loc = Loc {
            service: task.and_then(|t| t.service.clone()),
            task_id: l.task_id.clone(),
            family: task.and_then(|t| t.family.clone()),
            revision: task.and_then(|t| t.revision),
            container: l.container.clone(),
            log_group: l.group.clone(),
            time: l.timestamp,
            last_time: l.last_timestamp,
            locator,
            origin: None,
        };
        ix.push(Source::Log, None, l.message.clone(), loc, l.count.max(1));
    }
    for s in &snap.log_streams {
        let task = s.task_id.as_ref().and_then(|t| tasks.get(t));
        let text = if s.exists {
            format!(
                "exists stream={} group={} note={}",
                s.stream,
                s.group,
                s.note.as_deref().unwrap_or("")
            )
        } else {
            format!(
                "missing stream={} group={} note={}",
                s.stream,
                s.group,
                s.note.as_deref().unwrap_or("")
            )
        };
        let loc = Loc {
            service: task.and_then(|t| t.service.clone()),
            task_id: s.task_id.clone(),
            family: task.and_then(|t| t.family.clone()),
            revision: task.and_then(|t| t.revision),
            container: s.container.clone(),
            log_group: Some(s.group.clone()),
            time: task.and_then(|t| t.time),
            locator: format!("{} {}", s.group, s.stream),
            ..Loc::default()
        };
        ix.push(Source::LogStream, None, text, loc, 1);
    }
}

fn misc(ix: &mut Index, snap: &Snapshot) {
    let mut tg_service: HashMap<&str, &str> = HashMap::new();
    for svc in &snap.services {
        for lb in &svc.load_balancers {
            if let Some(arn) = &lb.target_group_arn {
                tg_service.insert(arn, &svc.name);
            }
        }
    }
    let tg_name: HashMap<&str, &str> = snap
        .load_balancers
        .iter()
        .flat_map(|lb| lb.target_groups.iter())
        .map(|tg| (tg.arn.as_str(), tg.name.as_str()))
        .collect();
    for th in &snap.target_health {
        let name = tg_name
            .get(th.target_group.as_str())
            .copied()
            .unwrap_or(&th.target_group);
        let text = format!(
            "state={} reason={} description={} target={} port={} target_group={}",
            th.state,
            th.reason.as_deref().unwrap_or(""),
            th.description.as_deref().unwrap_or(""),
            th.target_id,
            th.port.map(|p| p.to_string()).unwrap_or_default(),
            name
        );
        let loc = Loc {
            service: tg_service
                .get(th.target_group.as_str())
                .map(|s| s.to_string()),
            locator: format!("target group {name} target {}", th.target_id),
            ..Loc::default()
        };
        ix.push(Source::TargetHealth, None, text, loc, 1);
    }
    for p in &snap.db_probes {
        let base = Loc {
            locator: format!("db probe {}", p.target),
            ..Loc::default()
        };
        for s in &p.stages {
            // Only a failed stage carries its detail: the words of an inconclusive one
            // ("self-signed certificate", "timed out") are no proof, and log patterns
            // must not read them as such.
            let detail = if s.status == "fail" {
                s.detail.as_deref().unwrap_or("")
            } else {
                ""
            };
            let text = format!(
                "stage={} status={} code={} target={} vantage={} detail={detail}",
                s.stage,
                s.status,
                s.code.as_deref().unwrap_or(""),
                p.target,
                p.vantage.as_deref().unwrap_or(""),
            );
            ix.push(Source::DbProbe, None, text, base.clone(), 1);
        }
        for t in &p.missing_tables {
            ix.push(
                Source::DbProbe,
                None,
                format!("missing_table={t} target={}", p.target),
                base.clone(),
                1,
            );
        }
        if p.in_recovery == Some(true) {
            ix.push(
                Source::DbProbe,
                None,
                format!("in_recovery=true target={}", p.target),
                base.clone(),
                1,
            );
        }
        for c in &p.tls_chain {
            ix.push(
                Source::DbProbe,
                None,
                format!(
                    "cert subject={} issuer={} target={}",
                    c.subject, c.issuer, p.target
                ),
                base.clone(),
                1,
            );
        }
    }
    for e in &snap.collect_errors {
        let text = format!(
            "action={} code={} check={} message={}",
            e.action,
            e.code.as_deref().unwrap_or(""),
            e.check.as_deref().unwrap_or(""),
            e.message
        );
        let loc = Loc {
            locator: format!("collection of {}", e.action),
            ..Loc::default()
        };
        ix.push(Source::CollectError, None, text, loc, 1);
    }
    for r in &snap.network.routes {
        let text = format!(
            "table={} destination={} target={} state={} target_state={}",
            r.route_table,
            r.destination,
            r.target,
            r.state,
            r.target_state.as_deref().unwrap_or("")
        );
        let loc = Loc {
            locator: format!("route table {} route {}", r.route_table, r.destination),
            ..Loc::default()
        };
        ix.push(Source::Fact, Some("route"), text, loc, 1);
    }
}

fn sets(ix: &mut Index, snap: &Snapshot) {
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

/// Host of a URL-shaped value (`scheme://[user[:pass]@]host[:port]/...`).
pub fn host_of(value: &str) -> Option<String> {
    let rest = value.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        hostport.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_string())
}

// ------------------------------------------------------------------ network paths

fn parse_v4(s: &str) -> Option<u32> {
    let ip: std::net::Ipv4Addr = s.parse().ok()?;
    Some(u32::from(ip))
}

/// True when `cidr` contains `ip` (IPv4 only).
pub fn cidr_contains(cidr: &str, ip: &str) -> bool {
    let (net, len) = match cidr.split_once('/') {
        Some((n, l)) => (n, l.parse::<u32>().unwrap_or(32)),
        None => (cidr, 32),
    };
    match (parse_v4(net), parse_v4(ip)) {
        (Some(n), Some(i)) if len <= 32 => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            n & mask == i & mask
        }
        _ => false,
    }
}

/// True when `cidr` covers every address of `inner` (both IPv4 CIDRs).
fn cidr_covers(cidr: &str, inner: &str) -> bool {
    let (net, len) = inner.split_once('/').unwrap_or((inner, "32"));
    let len: u32 = len.parse().unwrap_or(32);
    let outer_len: u32 = cidr
        .split_once('/')
        .map_or(32, |(_, l)| l.parse().unwrap_or(32));
    outer_len <= len && cidr_contains(cidr, net)
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
fn ingress_allows(
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

fn egress_allows(
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
fn sg_paths(ix: &mut Index, snap: &Snapshot) {
    if snap.network.security_groups.is_empty() {
        return;
    }
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
    for (from, src_sgs) in &sources {
        if !known_sgs(snap, src_sgs) {
            continue;
        }
        let family = match from.split_once(':') {
            Some(("service", svc)) => ix
                .family_service
                .iter()
                .find(|(_, s)| s.as_str() == svc)
                .map(|(f, _)| f.clone()),
            Some((_, fam)) => Some(fam.to_string()),
            None => None,
        };
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
            let text = format!(
                "from={from} to={}:{} address={} port={} allowed={allowed} detail={detail}",
                ep.kind, ep.name, ep.address, ep.port
            );
            let service = from.strip_prefix("service:").map(String::from);
            let family = from.strip_prefix("family:").map(String::from);
            let loc = Loc {
                service,
                family,
                locator: format!(
                    "security groups {} → {} tcp/{}",
                    src_sgs.join(","),
                    ep.name,
                    ep.port
                ),
                ..Loc::default()
            };
            ix.push(Source::Fact, Some("sg-path"), text, loc, 1);
        }
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
fn lb_paths(ix: &mut Index, snap: &Snapshot) {
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
                match ingress_allows(snap, &net.security_groups, port, &lb.security_groups, &[]) {
                    Some(r) => (true, r),
                    None => (
                        false,
                        format!(
                            "no ingress rule on {} admits tcp/{port} from the load balancer's groups {}",
                            net.security_groups.join(","),
                            lb.security_groups.join(",")
                        ),
                    ),
                }
            } else {
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
                if cidrs.is_empty() {
                    continue;
                }
                match ingress_allows(snap, &net.security_groups, port, &[], &cidrs) {
                    Some(r) => (true, r),
                    None => (
                        false,
                        format!(
                            "no ingress rule on {} admits tcp/{port} from the load balancer's addresses {}",
                            net.security_groups.join(","),
                            cidrs.join(",")
                        ),
                    ),
                }
            };
            let text = format!(
                "from=lb:{} kind={} to=service:{} target_group={} port={port} allowed={allowed} detail={detail}",
                lb.name, lb.kind, svc.name, tg.name
            );
            let loc = Loc {
                service: Some(svc.name.clone()),
                locator: format!("{} {} → service {} tcp/{port}", lb.kind, lb.name, svc.name),
                ..Loc::default()
            };
            ix.push(Source::Fact, Some("lb-path"), text, loc, 1);
        }
    }
}

/// A connection URI and per-field host variables in the same container (or compose
/// service, or env file).
fn db_config(ix: &mut Index, snap: &Snapshot, lint: Option<&crate::lint::LintInputs>) {
    struct Bag<'a> {
        vars: Vec<(&'a str, &'a str, Loc)>,
    }
    let mut bags: Vec<Bag> = Vec::new();
    for td in &snap.task_definitions {
        for c in &td.containers {
            let vars = c
                .environment
                .iter()
                .map(|e| {
                    let loc = env_loc(ix, td, &c.name, &e.name, lint);
                    (e.name.as_str(), e.value.as_str(), loc)
                })
                .collect();
            bags.push(Bag { vars });
        }
    }
    if let Some(l) = lint {
        for f in &l.configs {
            let mut scopes: BTreeMap<Option<&str>, Vec<(&str, &str, Loc)>> = BTreeMap::new();
            for e in &f.env {
                let loc = Loc {
                    container: e.scope.clone(),
                    locator: e.origin.locator(),
                    origin: Some(e.origin.clone()),
                    ..Loc::default()
                };
                scopes.entry(e.scope.as_deref()).or_default().push((
                    e.name.as_str(),
                    e.value.as_str(),
                    loc,
                ));
            }
            bags.extend(scopes.into_values().map(|vars| Bag { vars }));
        }
    }
    for bag in &bags {
        let uris: Vec<_> = bag
            .vars
            .iter()
            .filter(|(_, v, _)| crate::dbenv::db_url_scheme(v).is_some())
            .filter_map(|(n, v, l)| host_of(v.trim_start_matches("jdbc:")).map(|h| (*n, h, l)))
            .collect();
        let fields: Vec<_> = bag
            .vars
            .iter()
            .filter(|(n, _, _)| crate::dbenv::is_db_host_var(n))
            .collect();
        for (uname, uh, uloc) in &uris {
            for (fname, fval, floc) in &fields {
                let conflict = !uh.eq_ignore_ascii_case(fval.trim());
                let text = format!(
                    "uri_var={uname} uri_host={uh} field_var={fname} field_host={fval} conflict={conflict}"
                );
                let mut loc = (*uloc).clone();
                loc.locator = match (&uloc.origin, &floc.origin) {
                    (Some(u), Some(f)) => format!(
                        "{} / {}:{}:{} {}",
                        u.locator(),
                        f.file,
                        f.line,
                        f.column,
                        f.path
                    ),
                    _ => format!("{} / {}", uloc.locator, fname),
                };
                ix.push(Source::Fact, Some("db-config"), text, loc, 1);
            }
        }
    }
}

/// Where an environment variable of a task definition is: its file position under
/// `lint`, else `task definition family:rev container C env NAME`.
pub(crate) fn env_loc(
    ix: &Index,
    td: &crate::snapshot::TaskDefinition,
    container: &str,
    name: &str,
    lint: Option<&crate::lint::LintInputs>,
) -> Loc {
    let key = td.key();
    let synthetic = lint.is_some_and(|l| l.synthetic_revisions.contains(&key));
    let origin = lint
        .and_then(|l| {
            l.origins.get(&crate::lint::part_key(
                &key,
                Some(container),
                Some(&format!("env/{name}")),
            ))
        })
        .cloned();
    Loc {
        service: ix.family_service.get(&td.family).cloned(),
        family: Some(td.family.clone()),
        revision: (!synthetic).then_some(td.revision),
        container: Some(container.to_string()),
        time: td.registered_at,
        locator: match &origin {
            Some(o) => o.locator(),
            None => format!("task definition {key} container {container} env {name}"),
        },
        origin,
        ..Loc::default()
    }
}

/// The first 12 characters of an id (at a character boundary: ids come from input).
fn short(id: &str) -> &str {
    id.char_indices().nth(12).map_or(id, |(i, _)| &id[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_urls() {
        assert_eq!(host_of("postgres://u:p@db:5432/x").as_deref(), Some("db"));
        assert_eq!(host_of("http://10.0.1.2:8080").as_deref(), Some("10.0.1.2"));
        assert_eq!(host_of("not a url"), None);
    }

    #[test]
    fn cidr_math() {
        assert!(cidr_contains("10.0.0.0/16", "10.0.100.6"));
        assert!(!cidr_contains("10.0.100.0/24", "10.0.101.6"));
        assert!(cidr_covers("10.0.0.0/16", "10.0.100.0/24"));
        assert!(!cidr_covers("10.0.100.0/24", "10.0.0.0/16"));
        assert!(cidr_contains("0.0.0.0/0", "1.2.3.4"));
    }
}
