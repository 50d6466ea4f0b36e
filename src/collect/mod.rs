//! Live collection from AWS: ECS, CloudWatch Logs, EC2, ELBv2 and RDS, read-only, into a
//! [`Snapshot`]. AWS SDK types never leave this module: each collector converts what it
//! reads into the snapshot's own types at once.
//!
//! Collection never fails as a whole once AWS answered: a call that is denied, throttled
//! past the SDK's retries, or times out becomes a [`crate::snapshot::CollectError`] naming
//! the IAM action and the check that could not run, and everything else still runs.
//! Only when nothing can work (no region, no credentials, credentials rejected, the
//! endpoint unreachable, the cluster unknown) does [`collect`] return a [`Fatal`] error,
//! one sentence that the binary prints before exiting 2.
//!
//! Every call goes through [`Ctx::call`] with an [`Op`] from the registry in [`ops`]:
//! independent calls run concurrently (bounded), batched at the API maxima
//! (DescribeServices 10, DescribeTasks 100, FilterLogEvents 100 streams), each bounded by
//! a per-call timeout and the overall `--timeout`.
//!
//! What the moto test peer cannot produce (`stopCode`, non-zero exit codes, container
//! `reason`, service events, unhealthy targets) is covered by `aws-smithy-mocks` unit
//! tests of the conversions in `tests/collect_mocks.rs`.

pub mod ctx;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod efs;
pub mod egress;
pub mod elb;
pub mod iam;
pub mod loggroups;
mod logquery;
pub mod logs;
mod logsearch;
mod logstreams;
pub mod ops;
pub mod rds;
pub mod secrets;
pub mod startpath;
pub mod trail;
mod trailparams;
pub mod verify;

pub use ctx::{Ctx, FailKind, Failure};
pub use ops::{iam_policy, Op};

use crate::snapshot::{Sealed, Snapshot, Target, Task, SNAPSHOT_SCHEMA_VERSION};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

/// Why live collection could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum Fatal {
    #[error("{0} is empty: give a value, or leave the option out")]
    Empty(&'static str),
    #[error("no AWS region: pass --region, or set AWS_REGION (or a region in your AWS profile)")]
    NoRegion,
    #[error("no AWS credentials found ({0}): run `aws configure` or `aws sso login`, pass --profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")]
    NoCredentials(String),
    #[error("AWS rejected the credentials ({code}: {message}); refresh them (for example `aws sso login`) and try again")]
    Credentials { code: String, message: String },
    #[error("cannot reach the AWS API at {endpoint} ({reason})")]
    Unreachable { endpoint: String, reason: String },
    #[error("cluster {cluster} not found in {region}; check --cluster and --region")]
    ClusterNotFound { cluster: String, region: String },
}

/// Where and as whom to call AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// What to collect.
#[derive(Debug, Clone)]
pub struct Options {
    pub cluster: String,
    /// Services to diagnose; empty means every service in the cluster.
    pub services: Vec<String>,
    /// Task-definition families of standalone or scheduled tasks.
    pub families: Vec<String>,
    /// Start of the window for events and logs.
    pub since: DateTime<Utc>,
    /// Log lines kept per stream.
    pub log_lines: usize,
    /// How logs are read (see [`logs::Mode`]).
    pub logs: logs::Mode,
    /// The rules whose prefilter is the log-line test (and the source of server-side
    /// search terms) for every mode but tail; `None`: only the last `log_lines` of each
    /// stream. A clone of the rule set, so its prefilter is built once for both.
    pub prefilter: Option<crate::rules::RuleSet>,
    /// Overall deadline.
    pub timeout: Duration,
    /// Bound on one call, retries included.
    pub call_timeout: Duration,
    /// Calls in flight at most.
    pub concurrency: usize,
    /// Recent revisions of each family to describe (besides those in use).
    pub revisions: usize,
    /// Show a progress line on stderr.
    pub progress: bool,
    /// Simulate the execution roles' permissions (iam:SimulatePrincipalPolicy).
    pub simulate_iam: bool,
    /// Read the window's account changes (cloudtrail:LookupEvents).
    pub cloudtrail: bool,
}

impl Options {
    pub fn new(cluster: &str, since: DateTime<Utc>) -> Options {
        Options {
            cluster: cluster.to_string(),
            services: Vec::new(),
            families: Vec::new(),
            since,
            log_lines: 200,
            logs: logs::Mode::Tail,
            prefilter: None,
            timeout: Duration::from_secs(60),
            call_timeout: Duration::from_secs(20),
            concurrency: 8,
            revisions: 5,
            progress: false,
            simulate_iam: true,
            cloudtrail: true,
        }
    }
}

/// The SDK clients the collectors use.
#[derive(Clone)]
pub struct Clients {
    pub ecs: aws_sdk_ecs::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub rds: aws_sdk_rds::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub iam: aws_sdk_iam::Client,
    pub efs: aws_sdk_efs::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub ssm: aws_sdk_ssm::Client,
    /// The configuration the clients came from (absent for mock clients): used for
    /// Logs clients of other regions (`awslogs-region`).
    pub config: Option<SdkConfig>,
    pub region: String,
    /// The endpoint named in connection errors.
    pub endpoint: String,
}

impl Clients {
    /// Clients for an SDK configuration.
    pub fn from_config(cfg: &SdkConfig) -> Clients {
        let region = cfg.region().map(|r| r.to_string()).unwrap_or_default();
        let endpoint = cfg
            .endpoint_url()
            .map(String::from)
            .unwrap_or_else(|| format!("https://ecs.{region}.amazonaws.com"));
        Clients {
            ecs: aws_sdk_ecs::Client::new(cfg),
            logs: aws_sdk_cloudwatchlogs::Client::new(cfg),
            ec2: aws_sdk_ec2::Client::new(cfg),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(cfg),
            rds: aws_sdk_rds::Client::new(cfg),
            ecr: aws_sdk_ecr::Client::new(cfg),
            iam: aws_sdk_iam::Client::new(cfg),
            efs: aws_sdk_efs::Client::new(cfg),
            cloudtrail: aws_sdk_cloudtrail::Client::new(cfg),
            secrets: aws_sdk_secretsmanager::Client::new(cfg),
            ssm: aws_sdk_ssm::Client::new(cfg),
            config: Some(cfg.clone()),
            region,
            endpoint,
        }
    }

    /// Logs clients for the regions other than the default one that task definitions
    /// send logs to.
    fn regional_logs(
        &self,
        regions: &BTreeSet<String>,
    ) -> HashMap<String, aws_sdk_cloudwatchlogs::Client> {
        let Some(cfg) = &self.config else {
            return HashMap::new();
        };
        regions
            .iter()
            .filter(|r| **r != self.region)
            .map(|r| {
                let conf = aws_sdk_cloudwatchlogs::config::Builder::from(cfg)
                    .region(Region::new(r.clone()))
                    .build();
                (r.clone(), aws_sdk_cloudwatchlogs::Client::from_conf(conf))
            })
            .collect()
    }
}

/// Loads the AWS configuration with the full default chain (environment, profiles, SSO,
/// container and instance credentials), `--profile`, `--region` and `--endpoint-url`,
/// with standard retries and timeouts; then checks that a region and credentials exist.
/// The HTTPS client every AWS call goes through: rustls with ring and the platform's
/// root certificates.
pub fn https_client() -> aws_sdk_ecs::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

pub async fn load_config(s: &AwsSettings, call_timeout: Duration) -> Result<SdkConfig, Fatal> {
    let given = [
        ("--region", &s.region),
        ("--profile", &s.profile),
        ("--endpoint-url", &s.endpoint_url),
    ];
    if let Some((flag, _)) = given
        .iter()
        .find(|(_, v)| v.as_deref().is_some_and(|v| v.trim().is_empty()))
    {
        return Err(Fatal::Empty(flag));
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(call_timeout.min(Duration::from_secs(10)))
                .operation_timeout(call_timeout)
                .build(),
        );
    if let Some(p) = &s.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &s.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(u) = &s.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    let cfg = loader.load().await;
    // An empty AWS_REGION is no region either.
    if cfg.region().is_none_or(|r| r.as_ref().trim().is_empty()) {
        return Err(Fatal::NoRegion);
    }
    use aws_credential_types::provider::ProvideCredentials;
    let Some(provider) = cfg.credentials_provider() else {
        return Err(Fatal::NoCredentials("no credentials provider".into()));
    };
    if let Err(e) = provider.provide_credentials().await {
        let reason = match &e {
            aws_credential_types::provider::error::CredentialsError::CredentialsNotLoaded(_) => {
                "none in the environment, profiles, SSO cache, container or instance metadata"
                    .to_string()
            }
            other => ctx::reason_of(other),
        };
        return Err(Fatal::NoCredentials(reason));
    }
    Ok(cfg)
}

/// What a collection run produced.
pub struct Collected {
    pub snapshot: Sealed,
    /// API calls made per IAM action.
    pub calls: Vec<(&'static str, u64)>,
}

fn fatal_of(f: Failure, clients: &Clients) -> Option<Fatal> {
    match f.kind {
        FailKind::Unreachable | FailKind::Timeout => Some(Fatal::Unreachable {
            endpoint: clients.endpoint.clone(),
            reason: if f.kind == FailKind::Timeout {
                "no answer in time".into()
            } else {
                f.message
            },
        }),
        FailKind::Auth => Some(Fatal::Credentials {
            code: f.code,
            message: f.message,
        }),
        FailKind::Construction => Some(Fatal::NoCredentials(f.message)),
        _ => None,
    }
}

/// One task-definition revision (`family:revision`, or an ARN), read with
/// DescribeTaskDefinition and sealed (redacted) as it enters. For `sickbay diff`.
pub async fn task_definition(
    clients: &Clients,
    key: &str,
    call_timeout: Duration,
) -> Result<crate::snapshot::TaskDefinition, anyhow::Error> {
    let ctx = Ctx::new(call_timeout, call_timeout, 1, None);
    let req = clients.ecs.describe_task_definition().task_definition(key);
    match ctx.call(Op::EcsDescribeTaskDefinition, req.send()).await {
        Ok(o) => {
            let td = o
                .task_definition()
                .ok_or_else(|| anyhow::anyhow!("task definition {key}: empty answer"))?;
            let snap = Sealed::new(Snapshot {
                task_definitions: vec![ecs::convert_task_definition(td)],
                ..Snapshot::default()
            });
            snap.into_inner()
                .task_definitions
                .into_iter()
                .next()
                .ok_or_else(|| anyhow::anyhow!("task definition {key}: could not be redacted"))
        }
        Err(f) => Err(match fatal_of(f.clone(), clients) {
            Some(fatal) => fatal.into(),
            None => anyhow::anyhow!(
                "task definition {key}: {} ({}); check the name and revision, --region, and that ecs:DescribeTaskDefinition is allowed",
                crate::snapshot::redact::error_line(&f.message),
                f.code
            ),
        }),
    }
}

/// Collects a snapshot of the cluster's services and families. The snapshot is redacted
/// before it is returned.
pub async fn collect(clients: &Clients, opts: &Options) -> Result<Collected, Fatal> {
    let progress = opts.progress.then(|| {
        let p = indicatif::ProgressBar::new_spinner();
        p.set_style(
            indicatif::ProgressStyle::with_template("{spinner} collecting {prefix}: {msg}")
                .expect("valid template"),
        );
        p.enable_steady_tick(Duration::from_millis(120));
        p
    });
    let ctx = Ctx::new(opts.timeout, opts.call_timeout, opts.concurrency, progress);
    let result = run(&ctx, clients, opts).await;
    ctx.finish_progress();
    let mut snapshot = result?;
    snapshot.collect_errors = ctx.take_errors();
    Ok(Collected {
        snapshot: Sealed::new(snapshot),
        calls: ctx.counts(),
    })
}

async fn run(ctx: &Ctx, clients: &Clients, opts: &Options) -> Result<Snapshot, Fatal> {
    let cluster = opts.cluster.as_str();
    ctx.set_stage("ECS");
    // The first call tells whether AWS can be reached at all.
    let account = match ecs::describe_cluster(ctx, &clients.ecs, cluster).await {
        Ok(ecs::ClusterLookup::Found { arn }) => arn.as_deref().and_then(account_of),
        Ok(ecs::ClusterLookup::Missing) => {
            return Err(Fatal::ClusterNotFound {
                cluster: cluster.to_string(),
                region: clients.region.clone(),
            })
        }
        Err(f) => match fatal_of(f.clone(), clients) {
            Some(fatal) => return Err(fatal),
            None => {
                ctx.record(Op::EcsDescribeClusters, &f, None);
                None
            }
        },
    };
    let all_services = opts.services.is_empty() && opts.families.is_empty();
    let names = if opts.services.is_empty() && all_services {
        ecs::list_services(ctx, &clients.ecs, cluster).await
    } else {
        opts.services.clone()
    };
    let services = ecs::describe_services(ctx, &clients.ecs, cluster, &names, opts.since).await;
    let in_scope: BTreeSet<String> = names.iter().cloned().collect();

    // From here on the stages are pipelined: each starts as soon as what it needs is
    // known, so the calls of independent stages are in flight together (bounded by
    // `--concurrency` in [`Ctx::call`]).
    // Load balancers need only the services.
    let (lb_tx, lb_rx) = tokio::sync::oneshot::channel();
    let lb_fut = async {
        let _ = lb_tx.send(load_balancers(ctx, clients, &services).await);
    };

    // Task definitions in use by the services, and each family's recent revisions, while
    // the tasks are listed.
    let svc_keys = service_td_keys(&services);
    let mut fams = families_of(&svc_keys);
    fams.extend(opts.families.iter().cloned());
    let tasks_fut = async {
        // The whole cluster at once when every service is in scope (calls grow with
        // tasks/100, not with services), else per service and family.
        let mut queries = Vec::new();
        if all_services {
            queries.push(ecs::TaskQuery::Cluster);
        } else {
            queries.extend(opts.services.iter().map(|s| ecs::TaskQuery::Service(s)));
            queries.extend(opts.families.iter().map(|f| ecs::TaskQuery::Family(f)));
        }
        let arns: Vec<String> = ctx
            .each(queries, |q| ecs::list_tasks(ctx, &clients.ecs, cluster, q))
            .await
            .into_iter()
            .flatten()
            .collect();
        let (mut tasks, eni_owner) = ecs::describe_tasks(ctx, &clients.ecs, cluster, &arns).await;
        let families: BTreeSet<&str> = opts.families.iter().map(String::as_str).collect();
        tasks.retain(|t| {
            let svc = t.group.as_deref().and_then(|g| g.strip_prefix("service:"));
            let fam = crate::snapshot::split_td(&t.task_definition).map(|(f, _)| f);
            svc.is_some_and(|s| in_scope.contains(s))
                || fam.is_some_and(|f| families.contains(f.as_str()))
        });
        fill_task_sgs(&mut tasks, &services);
        (tasks, eni_owner)
    };
    let main_fut = async {
        let ((mut tasks, eni_owner), svc_tds, recent) = tokio::join!(
            tasks_fut,
            ecs::describe_task_definitions(ctx, &clients.ecs, &svc_keys),
            ecs::recent_revisions(ctx, &clients.ecs, &fams, opts.revisions),
        );
        // Task definitions seen only in tasks (and their families' recent revisions).
        let mut task_keys: BTreeSet<String> =
            tasks.iter().map(|t| t.task_definition.clone()).collect();
        task_keys.retain(|k| !k.is_empty() && !svc_keys.contains(k));
        let mut new_fams = families_of(&task_keys);
        new_fams.retain(|f| !fams.contains(f));
        let (task_tds, more_recent) = tokio::join!(
            ecs::describe_task_definitions(ctx, &clients.ecs, &task_keys),
            ecs::recent_revisions(ctx, &clients.ecs, &new_fams, opts.revisions),
        );
        let mut history: BTreeSet<String> = recent
            .into_values()
            .chain(more_recent.into_values())
            .flatten()
            .map(|a| ecs::td_key(&a))
            .collect();
        history.retain(|k| !svc_keys.contains(k) && !task_keys.contains(k));
        let in_use = merge_tds(svc_tds, task_tds);

        // Logs need only the tasks and their task definitions; the older revisions, the
        // endpoints and the network are collected meanwhile.
        ctx.set_stage("logs, load balancers and network");
        let (wanted, notes) = logs::plan(&tasks, &in_use);
        let regions: BTreeSet<String> = wanted.iter().filter_map(|w| w.region.clone()).collect();
        let regional = clients.regional_logs(&regions);
        let logs_fut = logs::collect(
            ctx,
            |r| r.and_then(|r| regional.get(r)).unwrap_or(&clients.logs),
            &wanted,
            opts.since,
            opts.log_lines,
            (opts.logs, opts.prefilter.as_ref().map(|r| r.prefilter())),
        );
        let start_fut = startpath::check(ctx, clients, &in_use, opts.simulate_iam, &regional);
        let rest_fut = async {
            let older = ecs::describe_task_definitions(ctx, &clients.ecs, &history).await;
            let task_definitions = merge_tds(in_use.clone(), older);
            let endpoints = endpoints(ctx, clients, &task_definitions).await;
            let lb = lb_rx.await.unwrap_or_else(|_| elb::Collected {
                load_balancers: Vec::new(),
                target_health: Vec::new(),
            });
            let network =
                network(ctx, clients, &services, &tasks, &lb, &endpoints, &eni_owner).await;
            (task_definitions, lb, endpoints, network)
        };
        let (mut log_data, start, (task_definitions, lb, endpoints, network)) =
            tokio::join!(logs_fut, start_fut, rest_fut);
        log_data.streams.extend(notes);
        log_data
            .streams
            .sort_by(|a, b| (&a.group, &a.stream).cmp(&(&b.group, &b.stream)));
        // Standalone tasks have no service to take security groups from: use their ENI's.
        for t in tasks.iter_mut().filter(|t| t.security_groups.is_empty()) {
            let owner = format!("task/{}", t.id);
            if let Some(i) = network
                .interfaces
                .iter()
                .find(|i| i.owner.as_deref() == Some(owner.as_str()))
            {
                t.security_groups = i.security_groups.clone();
            }
        }
        (
            tasks,
            task_definitions,
            (log_data, start),
            lb,
            endpoints,
            network,
        )
    };
    let ((), (tasks, task_definitions, (log_data, start), lb, endpoints, network)) =
        tokio::join!(lb_fut, main_fut);

    let mut network = network;
    ec2::add_groups(ctx, &clients.ec2, &mut network, start.extra_groups()).await;
    let mut services_sorted = services;
    services_sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut snap = Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        captured_at: Some(Utc::now()),
        target: Target {
            cluster: Some(cluster.to_string()),
            region: Some(clients.region.clone()),
            account,
            services: names,
            families: opts.families.clone(),
            since: Some(opts.since),
            note: Some("collected live by sickbay".into()),
        },
        services: services_sorted,
        tasks,
        task_definitions,
        logs: log_data.lines,
        log_streams: log_data.streams,
        log_reads: log_data.reads,
        network,
        load_balancers: lb.load_balancers,
        target_health: lb.target_health,
        endpoints,
        db_probes: Vec::new(),
        collect_errors: Vec::new(),
        ..Snapshot::default()
    };
    start.apply(&mut snap);
    if opts.cloudtrail {
        ctx.set_stage("CloudTrail");
        let wanted = trail::wanted(&snap);
        let (changes, read) = trail::changes(ctx, &clients.cloudtrail, opts.since, &wanted).await;
        snap.account_changes = changes;
        snap.trail = Some(read);
    }
    Ok(snap)
}

/// The task definitions the services name (in use and in their deployments).
fn service_td_keys(services: &[crate::snapshot::Service]) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for s in services {
        keys.extend(s.task_definition.iter().cloned());
        keys.extend(s.deployments.iter().map(|d| d.task_definition.clone()));
    }
    keys.retain(|k| !k.is_empty());
    keys
}

/// The families of task-definition keys.
fn families_of(keys: &BTreeSet<String>) -> BTreeSet<String> {
    keys.iter()
        .filter_map(|k| crate::snapshot::split_td(k).map(|(f, _)| f))
        .collect()
}

/// Two lists of task definitions as one, sorted by family and revision, without repeats.
fn merge_tds(
    mut a: Vec<crate::snapshot::TaskDefinition>,
    b: Vec<crate::snapshot::TaskDefinition>,
) -> Vec<crate::snapshot::TaskDefinition> {
    a.extend(b);
    a.sort_by(|x, y| (&x.family, x.revision).cmp(&(&y.family, y.revision)));
    a.dedup_by(|x, y| x.family == y.family && x.revision == y.revision);
    a
}

/// The target groups of the services, their load balancers and target health.
async fn load_balancers(
    ctx: &Ctx,
    clients: &Clients,
    services: &[crate::snapshot::Service],
) -> elb::Collected {
    let tg_arns: BTreeSet<String> = services
        .iter()
        .flat_map(|s| s.load_balancers.iter())
        .filter_map(|l| l.target_group_arn.clone())
        .collect();
    if tg_arns.is_empty() {
        elb::Collected {
            load_balancers: Vec::new(),
            target_health: Vec::new(),
        }
    } else {
        elb::collect(ctx, &clients.elb, &tg_arns).await
    }
}

/// The database endpoints the task definitions' environment names.
async fn endpoints(
    ctx: &Ctx,
    clients: &Clients,
    tds: &[crate::snapshot::TaskDefinition],
) -> Vec<crate::snapshot::Endpoint> {
    let env_values: Vec<String> = tds
        .iter()
        .flat_map(|t| t.containers.iter())
        .flat_map(|c| c.environment.iter())
        .map(|e| e.value.to_ascii_lowercase())
        .collect();
    if env_values.iter().any(|v| v.contains(".rds.amazonaws.com")) {
        rds::collect(ctx, &clients.rds, &env_values).await
    } else {
        Vec::new()
    }
}

/// The network around the services, tasks, load balancers and endpoints (which give the
/// security groups and subnets to start from).
async fn network(
    ctx: &Ctx,
    clients: &Clients,
    services: &[crate::snapshot::Service],
    tasks: &[Task],
    lb: &elb::Collected,
    endpoints: &[crate::snapshot::Endpoint],
    eni_owner: &HashMap<String, String>,
) -> crate::snapshot::Network {
    let mut sgs: BTreeSet<String> = BTreeSet::new();
    let mut subnets: BTreeSet<String> = BTreeSet::new();
    for s in services {
        if let Some(n) = &s.network {
            sgs.extend(n.security_groups.iter().cloned());
            subnets.extend(n.subnets.iter().cloned());
        }
    }
    for t in tasks {
        sgs.extend(t.security_groups.iter().cloned());
    }
    for e in endpoints {
        sgs.extend(e.security_groups.iter().cloned());
    }
    for l in &lb.load_balancers {
        sgs.extend(l.security_groups.iter().cloned());
        subnets.extend(l.subnets.iter().cloned());
    }
    if sgs.is_empty() && subnets.is_empty() {
        crate::snapshot::Network::default()
    } else {
        ec2::collect(ctx, &clients.ec2, &sgs, &subnets, eni_owner).await
    }
}

/// A service's tasks carry the service's security groups (DescribeTasks does not return
/// them; the ENI, when it still exists, is matched by IP in the network facts).
fn fill_task_sgs(tasks: &mut [Task], services: &[crate::snapshot::Service]) {
    let by_name: HashMap<&str, &crate::snapshot::Service> =
        services.iter().map(|s| (s.name.as_str(), s)).collect();
    for t in tasks {
        let svc = t
            .group
            .as_deref()
            .and_then(|g| g.strip_prefix("service:"))
            .and_then(|s| by_name.get(s));
        if let Some(n) = svc.and_then(|s| s.network.as_ref()) {
            if t.security_groups.is_empty() {
                t.security_groups = n.security_groups.clone();
            }
        }
    }
}

/// Last path segment of an ARN (`.../name` → `name`).
pub(crate) fn tail(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Account id from an ARN.
fn account_of(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(String::from)
}

/// An SDK timestamp as UTC.
pub(crate) fn dt(d: Option<&aws_sdk_ecs::primitives::DateTime>) -> Option<DateTime<Utc>> {
    d.and_then(|d| DateTime::from_timestamp(d.secs(), d.subsec_nanos()))
}
