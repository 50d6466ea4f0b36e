//! `sickbay db probe`: the command-line edge of the probe. Options come from the
//! arguments and the environment (`PGPASSWORD`, `SICKBAY_HOSTS_FILE`), the password
//! prompt is asked here, and the library's probe takes plain options.

use crate::cli::{Cli, DbProbeArgs};
use crate::{print, rule_set, Out};
use anyhow::{bail, Context, Result};
use sickbay::error::Error;
use sickbay::probe::{read_ca_bundle, ProbeOptions, ProbeTarget};
use sickbay::render;
use sickbay::rules::RuleSet;
use sickbay::{analyze, Report};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// A finished probe, sealed like every snapshot (so `db_probes[0]` exists), and the
/// report analysis makes of it. Shared by the command line and the MCP server.
pub(crate) fn probe_report(
    probe: sickbay::snapshot::DbProbe,
    rules: &RuleSet,
) -> Result<(sickbay::snapshot::Sealed, Report)> {
    let snap = sickbay::snapshot::Sealed::new(sickbay::Snapshot {
        schema_version: sickbay::snapshot::SNAPSHOT_SCHEMA_VERSION,
        db_probes: vec![probe],
        ..Default::default()
    });
    if snap.db_probes.is_empty() {
        bail!("the probe's result could not be redacted, so it is not shown");
    }
    let report = analyze(&snap, rules);
    Ok((snap, report))
}

/// `sickbay db probe`: run the stages, analyse a snapshot holding just this probe,
/// print, and exit 1 when findings reach `--fail-on`, a failed stage counting as high
/// and an inconclusive one as low.
pub(crate) fn db_probe(args: &crate::cli::DbProbeArgs, cli: &Cli, out: &Out) -> Result<ExitCode> {
    let rules = rule_set(cli)?;
    let (mut target, opts) = from_args(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut probe = runtime.block_on(sickbay::probe::probe(&target, &opts));
    // Like psql: ask for the password only when the server wants one.
    if target.password.is_none() && sickbay::probe::needs_password(&probe) {
        if let Some(pw) = ask_password(&target)? {
            target.password = Some(pw);
            probe = runtime.block_on(sickbay::probe::probe(&target, &opts));
        }
    }
    let (snap, report) = probe_report(probe, &rules)?;
    let probe = &snap.db_probes[0];
    print(&render::probe::render(
        probe, &report, out.format, out.width,
    ))?;
    // As with doctor, --fail-on decides. A failed stage weighs as a high finding (it
    // fails the default --fail-on high even when no rule names it), an inconclusive one
    // as a low finding: no proof, so it fails only --fail-on low or info.
    use sickbay::probe::Outcome;
    use sickbay::rules::Severity;
    let weight = match sickbay::probe::outcome(probe) {
        Outcome::Ok => None,
        Outcome::Failed => Some(Severity::High),
        Outcome::Inconclusive => Some(Severity::Low),
    };
    let failed = cli
        .global
        .fail_on
        .severity()
        .is_some_and(|s| report.has_at_least(s) || weight.is_some_and(|w| w >= s));
    Ok(ExitCode::from(if failed { 1 } else { 0 }))
}

/// `SICKBAY_HOSTS_FILE`: a hosts file the probe resolves names by before DNS (tests
/// point database names at loopback with it).
pub(crate) fn hosts_file_env() -> Option<PathBuf> {
    std::env::var_os("SICKBAY_HOSTS_FILE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Builds target and options from `sickbay db probe` arguments: reads the CA bundle
/// (and a local `sslrootcert`), and takes the password from the URL, else `PGPASSWORD`.
/// Usage problems are errors (exit 2). See [`ask_password`] for the prompt.
pub(crate) fn from_args(args: &DbProbeArgs) -> Result<(ProbeTarget, ProbeOptions), Error> {
    let mut target = ProbeTarget::parse_url(&args.url)
        .map_err(|e| Error::Usage(format!("bad database URL: {e}")))?;
    target.origin = Some("command line".to_string());
    let mut opts = ProbeOptions {
        require_tls: args.require_tls,
        expect_tables: args.expect_table.clone(),
        timeout: Duration::from_secs(args.connect_timeout),
        vantage: args.vantage,
        hosts_file: hosts_file_env(),
        ..ProbeOptions::default()
    };
    if let Some(path) = &args.ca_bundle {
        opts.extra_roots.extend(read_ca_bundle(path)?);
    }
    if let Some(root) = target.sslrootcert.clone() {
        // A path inside the app's image may not exist here; --ca-bundle stands in for it.
        let missing = !Path::new(&root).exists() && args.ca_bundle.is_some();
        if root != "system" && !missing {
            opts.extra_roots.extend(read_ca_bundle(Path::new(&root))?);
        }
    }
    if target.password.is_none() {
        target.password = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty());
    }
    Ok((target, opts))
}

/// Asks for `target`'s password on the terminal (without echo), when standard input is
/// one; `Ok(None)` otherwise or when the answer is empty.
fn ask_password(target: &ProbeTarget) -> Result<Option<String>, Error> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let pw = rpassword::prompt_password(format!("Password for {}@{}: ", target.user, target.host))
        .map_err(|source| Error::Io {
            path: "/dev/tty".into(),
            source,
        })?;
    Ok(Some(pw).filter(|p| !p.is_empty()))
}
