//! The `sickbay` binary: parse the command line, call the library, print, and map the
//! outcome to fixed exit codes (0 clean, 1 findings at or above `--fail-on`, 2 error).

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, Parser};
use sickbay::cli::{Cli, ColorChoice, Command, RulesCommand};
use sickbay::render::{self, Format};
use sickbay::rules::{check_examples, RuleSet};
use sickbay::{analyze, Report};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

mod mcp;
mod watching;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Errors quote what they could not take, which may hold a secret.
            let message = sickbay::snapshot::redact::error_line(&format!("{e:#}"));
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Help and version go out as clap prints them; a usage error quotes the argument it
/// could not take, which may be a URL with a password, so it passes the redactor.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let text = sickbay::snapshot::redact::redact_message(&e.render().to_string());
    let _ = write!(std::io::stderr(), "{text}");
    ExitCode::from(2)
}

struct Out {
    format: Format,
    width: u16,
}

fn setup(cli: &Cli) -> Out {
    let tty = std::io::stdout().is_terminal();
    let color = match cli.global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    colored::control::set_override(color);
    let width = if tty {
        comfy_table::Table::new().width().unwrap_or(120).max(60)
    } else {
        120
    };
    // As ruff does, lint speaks in annotations inside GitHub Actions unless told otherwise.
    let in_actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    let format = cli.global.output.unwrap_or(match &cli.command {
        Command::Lint(_) if in_actions => Format::Github,
        _ if tty => Format::Table,
        _ => Format::Json,
    });
    Out { format, width }
}

fn rule_set(cli: &Cli) -> Result<RuleSet> {
    let mut set = RuleSet::builtin().context("built-in rule pack")?;
    for dir in &cli.global.rules {
        set.extend_from_dir(dir)?;
    }
    Ok(set)
}

fn print(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn render_report(report: &Report, rules: &RuleSet, out: &Out) -> String {
    match out.format {
        Format::Table => render::table::render(report, out.width),
        Format::Json => render::json::render(report),
        Format::Markdown => render::markdown::render(report),
        Format::Sarif => render::sarif::render(report, rules),
        Format::Github => render::github::render(report),
    }
}

fn finish(report: &Report, rules: &RuleSet, cli: &Cli, out: &Out) -> Result<ExitCode> {
    print(&render_report(report, rules, out))?;
    let failed = cli
        .global
        .fail_on
        .severity()
        .is_some_and(|s| report.has_at_least(s));
    Ok(ExitCode::from(if failed { 1 } else { 0 }))
}

fn run(cli: Cli) -> Result<ExitCode> {
    let out = setup(&cli);
    let reports = matches!(
        cli.command,
        Command::Doctor(_) | Command::Scan(_) | Command::Lint(_) | Command::Verify(_)
    );
    if out.format.findings_only() && !reports {
        bail!("--output sarif and --output github apply to doctor, scan and lint only");
    }
    match &cli.command {
        Command::Doctor(args) => doctor(args, &cli, &out),
        Command::Scan(args) => {
            let rules = rule_set(&cli)?;
            let scanned = sickbay::scan::scan_inputs(&args.files, args.source, &rules)?;
            // Imperfect input is read anyway; say so once per input, as grep would.
            for note in &scanned.input_notes {
                eprintln!("note: {note}");
            }
            finish(&scanned.report, &rules, &cli, &out)
        }
        Command::Lint(args) => {
            let rules = rule_set(&cli)?;
            let (snap, inputs) = sickbay::lint::load(&args.paths)?;
            let report = sickbay::analyze_lint(&snap, &inputs, &rules);
            finish(&report, &rules, &cli, &out)
        }
        Command::Rules(cmd) => rules_command(cmd, &cli, &out),
        Command::Db(sickbay::cli::DbCommand::Probe(args)) => db_probe(args, &cli, &out),
        Command::Verify(args) => verify(args, &cli, &out),
        Command::Diff(args) => {
            let d = diff_command(args)?;
            print(&render::diff::render(&d, out.format, out.width))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::IamPolicy => {
            print(&sickbay::collect::iam_policy())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            // Into a buffer first: `generate` panics when it cannot write (a closed pipe).
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "sickbay", &mut buf);
            print(&String::from_utf8_lossy(&buf))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Mcp => {
            mcp::serve(rule_set(&cli)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut buf)
                .context("rendering the man page")?;
            print(&String::from_utf8_lossy(&buf))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { which } => {
            print(&sickbay::schema::schema_json(*which))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn aws_settings(a: &sickbay::cli::AwsArgs) -> sickbay::collect::AwsSettings {
    sickbay::collect::AwsSettings {
        profile: a.profile.clone(),
        region: a.region.clone(),
        endpoint_url: a.endpoint_url.clone(),
    }
}

/// `sickbay diff BEFORE AFTER`: each side is a task-definition file, read and sealed as
/// `lint` reads it, or a registered `family:revision` read from ECS and sealed as it
/// arrives; then the two are compared.
fn diff_command(args: &sickbay::cli::DiffArgs) -> Result<sickbay::diff::RevisionDiff> {
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
fn verify(args: &sickbay::cli::VerifyArgs, cli: &Cli, out: &Out) -> Result<ExitCode> {
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
    opts.simulate_iam = args.iam_simulate == sickbay::cli::OnOff::On;
    let placement = verify::Placement {
        service: args.service.clone(),
        subnets: args.subnets.clone(),
        security_groups: args.security_groups.clone(),
        assign_public_ip: args.assign_public_ip.map(|o| o == sickbay::cli::OnOff::On),
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
fn doctor(args: &sickbay::cli::DoctorArgs, cli: &Cli, out: &Out) -> Result<ExitCode> {
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
async fn doctor_report(args: &sickbay::cli::DoctorArgs, rules: &RuleSet) -> Result<Report> {
    let snap = doctor_snapshot(args, rules, None).await?;
    Ok(analyze(&snap, rules))
}

/// What a live collection reads from, and its deadline.
struct Window {
    since: chrono::DateTime<chrono::Utc>,
    timeout: std::time::Duration,
}

impl Window {
    /// `--since` back from now, and `--timeout` (60 s unless given).
    fn of(args: &sickbay::cli::DoctorArgs) -> Result<Window> {
        let since = chrono::Duration::from_std(args.since).context("--since is too long")?;
        Ok(Window {
            since: chrono::Utc::now()
                .checked_sub_signed(since)
                .context("--since is too long")?,
            timeout: args.timeout.unwrap_or(sickbay::cli::COLLECT_TIMEOUT),
        })
    }
}

/// The snapshot `doctor` analyses: replayed, or collected live within `window` (by
/// default `--since` and `--timeout`), probed and saved as asked.
async fn doctor_snapshot(
    args: &sickbay::cli::DoctorArgs,
    rules: &RuleSet,
    window: Option<Window>,
) -> Result<sickbay::snapshot::Sealed> {
    use sickbay::cli::DbMode;
    // A bad --ca-bundle is a usage error, found before any AWS call.
    let db_opts = sickbay::probe::doctor_options(args.ca_bundle.as_deref())?;
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
    args: &sickbay::cli::DoctorArgs,
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
    if args.logs != sickbay::cli::LogMode::Tail {
        // A clone shares the rule set's prefilter, so the engine's gate reuses it.
        opts.prefilter = Some(rules.clone());
    }
    opts.timeout = window.timeout;
    opts.call_timeout = window.timeout.min(std::time::Duration::from_secs(20));
    opts.concurrency = args.concurrency.max(1);
    opts.progress = std::io::stderr().is_terminal();
    opts.simulate_iam = args.iam_simulate == sickbay::cli::OnOff::On;
    opts.cloudtrail = args.cloudtrail == sickbay::cli::OnOff::On;
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

fn rules_command(cmd: &RulesCommand, cli: &Cli, out: &Out) -> Result<ExitCode> {
    match cmd {
        RulesCommand::List => {
            let rules = rule_set(cli)?;
            print(&render::rules::list(&rules, out.format, out.width))?;
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Explain { id } => {
            let rules = rule_set(cli)?;
            let Some(rule) = rules.get(id) else {
                bail!("unknown rule {id:?}; `sickbay rules list` shows every rule");
            };
            // Explanations are prose: JSON only when asked for.
            let format = if cli.global.output == Some(Format::Json) {
                Format::Json
            } else {
                Format::Markdown
            };
            print(&render::rules::explain(rule, format))?;
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Check { dir } => rules_check(dir.as_deref(), cli),
    }
}

/// One problem `rules check` found.
#[derive(serde::Serialize)]
struct Problem {
    file: String,
    rule: String,
    message: String,
}

/// What `rules check -o json` prints.
#[derive(serde::Serialize)]
struct Checked {
    rules: usize,
    examples: usize,
    problems: Vec<Problem>,
    ok: bool,
}

/// `sickbay rules check [DIR]`: a folder is checked the way `--rules DIR` loads it: its own
/// rules and examples, with `explains` and duplicate ids resolved against the built-in
/// pack and the other `--rules` folders too.
fn rules_check(dir: Option<&std::path::Path>, cli: &Cli) -> Result<ExitCode> {
    let (rules, known) = match dir {
        Some(d) => {
            let own = sickbay::rules::load_dir(d)?;
            let mut all = RuleSet::builtin().context("built-in rule pack")?;
            for other in cli.global.rules.iter().filter(|o| o.as_path() != d) {
                all.extend_from_dir(other)?;
            }
            let mut all = all.rules;
            all.extend(own.iter().cloned());
            (RuleSet::from_rules(own)?, RuleSet::from_rules(all)?)
        }
        None => {
            let all = rule_set(cli)?;
            (all.clone(), all)
        }
    };
    let mut problems: Vec<Problem> = rules
        .rules
        .iter()
        .flat_map(check_examples)
        .map(|f| Problem {
            // An example's text is the rule author's, but it may hold a pasted secret.
            message: sickbay::snapshot::redact::redact_message(&f.message()),
            file: f.file,
            rule: f.rule,
        })
        .collect();
    for r in rules.rules.iter().filter(|r| r.class.is_none()) {
        problems.push(Problem {
            file: r.file.clone(),
            rule: r.id.clone(),
            message: "has no `class` (the root-cause class reports and the corpus tests use)"
                .into(),
        });
    }
    for r in &rules.rules {
        for e in r.explains.iter().filter(|e| known.get(e).is_none()) {
            problems.push(Problem {
                file: r.file.clone(),
                rule: r.id.clone(),
                message: format!("explains unknown rule {e}"),
            });
        }
    }
    let checked = Checked {
        rules: rules.rules.len(),
        examples: rules.rules.iter().map(|r| r.examples.len()).sum(),
        ok: problems.is_empty(),
        problems,
    };
    let code = ExitCode::from(if checked.ok { 0 } else { 1 });
    // A summary line is prose: JSON only when asked for, as with `rules explain`.
    if cli.global.output == Some(Format::Json) {
        let mut s = serde_json::to_string_pretty(&checked).context("serialising the check")?;
        s.push('\n');
        print(&s)?;
        return Ok(code);
    }
    for p in &checked.problems {
        eprintln!("{}: {} {}", p.file, p.rule, p.message);
    }
    let noun = |n: usize, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    let verdict = if checked.ok {
        "ok".to_string()
    } else {
        noun(checked.problems.len(), "problem")
    };
    print(&format!(
        "checked {} and {}: {verdict}\n",
        noun(checked.rules, "rule"),
        noun(checked.examples, "example"),
    ))?;
    Ok(code)
}

/// A finished probe, sealed like every snapshot (so `db_probes[0]` exists), and the
/// report analysis makes of it. Shared by the command line and the MCP server.
fn probe_report(
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
fn db_probe(args: &sickbay::cli::DbProbeArgs, cli: &Cli, out: &Out) -> Result<ExitCode> {
    let rules = rule_set(cli)?;
    let (mut target, opts) = sickbay::probe::from_args(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut probe = runtime.block_on(sickbay::probe::probe(&target, &opts));
    // Like psql: ask for the password only when the server wants one.
    if target.password.is_none() && sickbay::probe::needs_password(&probe) {
        if let Some(pw) = sickbay::probe::ask_password(&target)? {
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
