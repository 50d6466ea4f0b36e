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
//! The clients and configuration are in `clients`; the run itself, stage by stage, in
//! `pipeline`.
//!
//! What the moto test peer cannot produce (`stopCode`, non-zero exit codes, container
//! `reason`, service events, unhealthy targets) is covered by `aws-smithy-mocks` unit
//! tests of the conversions in `tests/collect_mocks.rs`.

mod clients;
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
mod pipeline;
pub mod rds;
pub mod secrets;
pub mod startpath;
pub mod trail;
mod trailparams;
pub mod verify;

pub use clients::{https_client, load_config, Clients};
pub use ctx::{Ctx, FailKind, Failure};
pub use ops::{iam_policy, Op};

use crate::snapshot::{Sealed, Snapshot};
use chrono::{DateTime, Utc};
use pipeline::network;
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
    let result = pipeline::run(&ctx, clients, opts).await;
    ctx.finish_progress();
    let mut snapshot = result?;
    snapshot.collect_errors = ctx.take_errors();
    Ok(Collected {
        snapshot: Sealed::new(snapshot),
        calls: ctx.counts(),
    })
}

/// Last path segment of an ARN (`.../name` → `name`).
pub(crate) fn tail(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// An SDK timestamp as UTC.
pub(crate) fn dt(d: Option<&aws_sdk_ecs::primitives::DateTime>) -> Option<DateTime<Utc>> {
    d.and_then(|d| DateTime::from_timestamp(d.secs(), d.subsec_nanos()))
}
