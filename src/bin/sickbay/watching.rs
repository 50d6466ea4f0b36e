//! The `doctor --watch` loop: collect, judge against the round before (`sickbay::watch`),
//! show the round, and stop when it is done or the watch's deadline is near. The first
//! round reads the whole `--since` window; each later one the evidence since the round
//! before began, so a cause that stopped recurring clears. Each round is an ordinary
//! collection, with its calls bounded as in `doctor`, and its deadline the smaller of
//! 60 s and what is left of the watch.

use crate::cli::{Cli, DoctorArgs, COLLECT_TIMEOUT, WATCH_TIMEOUT};
use crate::doctor::{doctor_snapshot, Window};
use crate::{print, render_report, rule_set, Out};
use anyhow::{Context, Result};
use sickbay::render::{self, Format};
use sickbay::{watch, Report};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Watches until every service is stable with no blocking finding (exit 0) or the
/// deadline (exit 1). The live view is text on standard output; with another
/// `--output`, it goes to standard error and the last round's report to standard
/// output.
pub fn run(args: &DoctorArgs, cli: &Cli, out: &Out, interval: Duration) -> Result<ExitCode> {
    let rules = rule_set(cli)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let deadline = args.timeout.unwrap_or(WATCH_TIMEOUT);
    let began = Instant::now();
    let fail_on = cli.global.fail_on.severity();
    let view_out = out.format == Format::Table;
    let show = |s: &str| -> Result<()> {
        if view_out {
            print(s)
        } else {
            eprint!("{s}");
            Ok(())
        }
    };
    let mut since = Window::of(args)?.since;
    let mut prev: Option<Report> = None;
    let mut number = 0;
    loop {
        number += 1;
        let at = chrono::Utc::now();
        let left = deadline.saturating_sub(began.elapsed());
        let window = Window {
            since,
            timeout: left.clamp(Duration::from_secs(1), COLLECT_TIMEOUT),
        };
        let snap = runtime.block_on(doctor_snapshot(args, &rules, Some(window)))?;
        let report = sickbay::analyze(&snap, &rules);
        let rollouts = watch::rollouts(&snap);
        let round = watch::judge(number, at, prev.as_ref(), &report, rollouts, fail_on);
        show(&render::watch::round(&round))?;
        let done = round.done();
        if done || began.elapsed() + interval >= deadline {
            show(&render::watch::end(&round, began.elapsed()))?;
            if !view_out {
                print(&render_report(&report, &rules, out))?;
            }
            return Ok(ExitCode::from(if done { 0 } else { 1 }));
        }
        show(&render::watch::waiting(interval))?;
        std::thread::sleep(interval);
        since = at;
        prev = Some(report);
    }
}
