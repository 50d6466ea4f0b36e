//! `doctor`, `verify` and `diff`: build the AWS clients from the command line, collect
//! (or replay a snapshot), probe and save as asked, then analyse and print.

use crate::cli::Cli;
use crate::{finish, rule_set, watching, Out};
use anyhow::{bail, Context, Result};
use sickbay::rules::RuleSet;
use sickbay::{analyze, Report};
use std::io::IsTerminal;
use std::process::ExitCode;

pub(crate) fn aws_settings(a: &crate::cli::AwsArgs) -> sickbay::collect::AwsSettings {
    sickbay::collect::AwsSettings {
        profile: a.profile.clone(),
        region: a.region.clone(),
        endpoint_url: a.endpoint_url.clone(),
    }
}

/// `sickbay diff BEFORE AFTER`: each side is a task-definition file, read and sealed as
/// `lint` reads it, or a registered `family:revision` read from ECS and sealed as it
/// arrives; then the two are compared.
pub(crate) fn diff_command(args: &crate::cli::DiffArgs) -> Result<sickbay::diff::RevisionDiff> {
    let registered = |s: &str| {
        !std::path::Path::new(s).exists()
            && s.rsplit_once(':').is_some_and(|(f, r)| {
                !f.is_empty() && !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit())
            })
    };
    let live: Vec<&str> = [&args.before, &args.after]
        .into_iter()
        .map(String::as_str)
        .filter(|s| registered(s))
        .collect();
    let mut fetched = std::collections::HashMap::new();
    if !live.is_empty() {
        use sickbay::collect::{self, Clients};
        let call_timeout = std::time::Duration::from_secs(20);
        let settings = aws_settings(&args.aws);
        let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
        rt.block_on(async {
            let cfg = collect::load_config(&settings, call_timeout).await?;
            let clients = Clients::from_config(&cfg);
            for key in &live {
                let td = collect::task_definition(&clients, key, call_timeout).await?;
                fetched.insert(key.to_string(), td);
            }
            anyhow::Ok(())
        })?;
    }
    let side = |s: &str| -> Result<sickbay::snapshot::TaskDefinition> {
        if let Some(td) = fetched.get(s) {
            return Ok(td.clone());
        }
        let (snap, _) = sickbay::lint::load(&[std::path::PathBuf::from(s)])?;
        match snap.task_definitions.as_slice() {
            [td] => Ok(td.clone()),
            _ => bail!("{s}: not a task definition (expected register-task-definition input, describe-task-definition output, an array of container definitions, or FAMILY:REVISION)"),
        }
    };
    let (a, b) = (side(&args.before)?, side(&args.after)?);
    Ok(sickbay::diff::diff(&a, &b, &args.before, &args.after))
}

/// `sickbay verify`: the start-path checks of a task-definition file, as a report.
pub(crate) fn verify(args: &crate::cli::VerifyArgs, cli: &Cli, out: &Out) -> Result<ExitCode> {
    use sickbay::collect::{self, verify, Clients, Options};
    let rules = rule_set(cli)?;
    let (snap, _) = sickbay::lint::load(std::slice::from_ref(&args.file))?;
    let td = match snap.task_definitions.as_slice() {
        [td] => td.clone(),
        _ => bail!(
            "{}: not a task definition (expected register-task-definition input or describe-task-definition output)",
            args.file.display()
        ),
    };
    let mut opts = Options::new(
        &args.cluster,
        chrono::Utc::now() - chrono::Duration::hours(1),
    );
    opts.timeout = args.timeout;
    opts.call_timeout = args.timeout.min(std::time::Duration::from_secs(20));
    opts.simulate_iam = args.iam_simulate == crate::cli::OnOff::On;
    let placement = verify::Placement {
        service: args.service.clone(),
        subnets: args.subnets.clone(),
        security_groups: args.security_groups.clone(),
        assign_public_ip: args.assign_public_ip.map(|o| o == crate::cli::OnOff::On),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let collected = runtime.block_on(async {
        let cfg = collect::load_config(&aws_settings(&args.aws), opts.call_timeout).await?;
        let clients = Clients::from_config(&cfg);
        anyhow::Ok(verify::verify(&clients, td, &placement, &opts).await?)
    })?;
    let report = analyze(&collected.snapshot, &rules);
    finish(&report, &rules, cli, out)
}

/// `sickbay doctor`: the report, printed (or, with `--watch`, a watch).
pub(crate) fn doctor(args: &crate::cli::DoctorArgs, cli: &Cli, out: &Out) -> Result<ExitCode> {
    if let Some(interval) = args.watch {
        return watching::run(args, cli, out, interval);
    }
    let rules = rule_set(cli)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(doctor_report(args, &rules))?;
    finish(&report, &rules, cli, out)
}

/// Replays a snapshot or collects one live, optionally probes the databases it names,
/// saves it, and analyses it. Shared by the command line and the MCP server.
pub(crate) async fn doctor_report(
    args: &crate::cli::DoctorArgs,
    rules: &RuleSet,
) -> Result<Report> {
    let snap = doctor_snapshot(args, rules, None).await?;
    Ok(analyze(&snap, rules))
}

/// What a live collection reads from, and its deadline.
pub(crate) struct Window {
    pub(crate) since: chrono::DateTime<chrono::Utc>,
    pub(crate) timeout: std::time::Duration,
}

impl Window {
    /// `--since` back from now, and `--timeout` (60 s unless given).
    pub(crate) fn of(args: &crate::cli::DoctorArgs) -> Result<Window> {
        let since = chrono::Duration::from_std(args.since).context("--since is too long")?;
        Ok(Window {
            since: chrono::Utc::now()
                .checked_sub_signed(since)
                .context("--since is too long")?,
            timeout: args.timeout.unwrap_or(crate::cli::COLLECT_TIMEOUT),
        })
    }
}

/// The snapshot `doctor` analyses: replayed, or collected live within `window` (by
/// default `--since` and `--timeout`), probed and saved as asked.
pub(crate) async fn doctor_snapshot(
    args: &crate::cli::DoctorArgs,
    rules: &RuleSet,
    window: Option<Window>,
) -> Result<sickbay::snapshot::Sealed> {
    use crate::cli::DbMode;
    // A bad --ca-bundle is a usage error, found before any AWS call.
    let db_opts = sickbay::probe::doctor_options(
        args.ca_bundle.as_deref(),
        crate::dbprobe::hosts_file_env(),
    )?;
    let (mut snap, live) = match (&args.snapshot, &args.cluster) {
        (Some(path), _) => (sickbay::snapshot::load_snapshot(path)?, false),
        (None, Some(cluster)) => {
            let window = match window {
                Some(w) => w,
                None => Window::of(args)?,
            };
            (collect_live(args, cluster, rules, window).await?, true)
        }
        (None, None) => bail!(
            "nothing to diagnose: pass --cluster NAME to collect from AWS, or --snapshot FILE to replay a recorded incident"
        ),
    };
    let probe = match args.db {
        DbMode::On => true,
        DbMode::Auto => live,
        DbMode::Off => false,
    };
    if probe {
        let probes = sickbay::probe::probe_discovered(&snap, &db_opts).await;
        snap.add_db_probes(probes);
    }
    if let Some(path) = &args.save {
        let mut text = serde_json::to_string_pretty(&snap).context("serialising the snapshot")?;
        text.push('\n');
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(snap)
}

/// Live collection for `doctor --cluster`.
async fn collect_live(
    args: &crate::cli::DoctorArgs,
    cluster: &str,
    rules: &RuleSet,
    window: Window,
) -> Result<sickbay::snapshot::Sealed> {
    use sickbay::collect::{self, Clients, Options};
    let started = std::time::Instant::now();
    let mut opts = Options::new(cluster, window.since);
    opts.services = args.service.clone();
    opts.families = args.family.clone();
    opts.log_lines = args.log_lines;
    opts.logs = args.logs.collect_mode();
    if args.logs != crate::cli::LogMode::Tail {
        // A clone shares the rule set's prefilter, so the engine's gate reuses it.
        opts.prefilter = Some(rules.clone());
    }
    opts.timeout = window.timeout;
    opts.call_timeout = window.timeout.min(std::time::Duration::from_secs(20));
    opts.concurrency = args.concurrency.max(1);
    opts.progress = std::io::stderr().is_terminal();
    opts.simulate_iam = args.iam_simulate == crate::cli::OnOff::On;
    opts.cloudtrail = args.cloudtrail == crate::cli::OnOff::On;
    let settings = aws_settings(&args.aws);
    let cfg = tokio::time::timeout(
        window.timeout,
        collect::load_config(&settings, opts.call_timeout),
    )
    .await
    .map_err(|_| anyhow::anyhow!("loading the AWS configuration and credentials timed out"))??;
    let clients = Clients::from_config(&cfg);
    let collected = collect::collect(&clients, &opts).await?;
    if args.call_stats {
        let calls: serde_json::Map<String, serde_json::Value> = collected
            .calls
            .iter()
            .map(|(a, n)| (a.to_string(), serde_json::Value::from(*n)))
            .collect();
        let total: u64 = collected.calls.iter().map(|(_, n)| n).sum();
        eprintln!(
            "{}",
            serde_json::json!({
                "calls": calls,
                "total_calls": total,
                "elapsed_ms": started.elapsed().as_millis() as u64,
            })
        );
    }
    Ok(collected.snapshot)
}
