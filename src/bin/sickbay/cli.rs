//! Command-line definitions (clap). No behaviour lives here.

use clap::{Args, Parser, Subcommand, ValueEnum};
use sickbay::render::Format;
use sickbay::rules::Severity;
use sickbay::scan::ScanSource;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "sickbay",
    version,
    about = "Incident doctor for services on AWS ECS: ranked root causes, evidence and exact fixes",
    after_help = "Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage or runtime error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Output format [default: table on a terminal, json otherwise]
    #[arg(long, short = 'o', global = true, value_enum)]
    pub output: Option<Format>,
    /// When to use colour (NO_COLOR is honoured with auto)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Exit 1 when a finding is at or above this severity
    #[arg(long, global = true, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,
    /// Add the rules in this folder to the built-in pack
    #[arg(long, global = true, value_name = "DIR")]
    pub rules: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
    /// Never exit 1 because of findings
    Never,
}

impl FailOn {
    pub fn severity(self) -> Option<Severity> {
        match self {
            FailOn::Info => Some(Severity::Info),
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Never => None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose a service: replay a recorded snapshot (--snapshot) or collect live from AWS
    Doctor(DoctorArgs),
    /// Classify raw text: log lines, a pasted stopped reason or service events
    Scan(ScanArgs),
    /// Check task definitions, docker-compose files and .env templates before deploying
    Lint(LintArgs),
    /// List, explain and check rules
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Database checks
    #[command(subcommand)]
    Db(DbCommand),
    /// Print the least-privilege read-only IAM policy that live collection needs
    IamPolicy,
    /// Print the JSON Schema of the report or of the snapshot format
    Schema {
        #[arg(value_enum)]
        which: SchemaKind,
    },
    /// What changed between two task definitions: JSON files (as for lint) or
    /// registered revisions (`api:4`, read with DescribeTaskDefinition): image,
    /// environment, secrets, command, ports, cpu and memory, roles, health check,
    /// platform, logging. Secret values show only as fingerprints.
    Diff(DiffArgs),
    /// Check a task-definition file against the account before deploying it: ECR image
    /// and platform, secrets, roles and their permissions, log groups, and the network
    /// path from the service's subnets to AWS. Exit codes follow --fail-on
    Verify(VerifyArgs),
    /// Print a shell completion script: `sickbay completions bash > ~/.local/share/bash-completion/completions/sickbay`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `sickbay man | man -l -`
    Man,
    /// Serve the commands as MCP tools over stdio, for AI agents (doctor, scan, lint,
    /// explain_rule, db_probe, iam_policy)
    Mcp,
}

pub use sickbay::schema::SchemaKind;

/// Live collection's deadline when --timeout is not given.
pub const COLLECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// A watch's deadline when --timeout is not given.
pub const WATCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Replay a recorded snapshot instead of collecting from AWS
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "cluster", "service", "family", "since", "log_lines", "logs", "timeout",
        "profile", "region", "endpoint_url", "concurrency", "call_stats", "iam_simulate", "cloudtrail",
    ])]
    pub snapshot: Option<PathBuf>,
    /// ECS cluster to diagnose (live collection)
    #[arg(long)]
    pub cluster: Option<String>,
    /// Service to diagnose (repeatable; default: every service in the cluster)
    #[arg(long)]
    pub service: Vec<String>,
    /// Task-definition family of standalone or scheduled tasks (repeatable)
    #[arg(long)]
    pub family: Vec<String>,
    /// Probe the databases named in the task definitions' environment (auto: during
    /// live collection; a replayed snapshot is probed only with `on`)
    #[arg(long, value_enum, default_value_t = DbMode::Auto)]
    pub db: DbMode,
    /// Database probes also trust the CA certificates in this PEM file (e.g. the RDS
    /// global bundle the app ships)
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    /// Window for service events and logs: 30m, 2h, 1d
    #[arg(long, value_name = "DURATION", default_value = "2h", value_parser = parse_duration)]
    pub since: std::time::Duration,
    /// Write the collected (redacted) snapshot here, for replay with --snapshot
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Log lines kept per log stream (the last ones; in every mode but tail, lines a
    /// rule matches are kept from anywhere in the window besides)
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub log_lines: usize,
    /// How the --since window of logs is searched for the rules' signatures, each
    /// match kept with its count and first/last seen: `auto` (the default: a small
    /// window is read in full, a larger one searched with Insights, else filter
    /// patterns, else read in full), `insights` (Logs Insights queries built from the
    /// rules' literals: only candidate lines travel), `filter` (FilterLogEvents filter
    /// patterns from the same literals), `window` (every line fetched and tested
    /// here); `tail` keeps only the last --log-lines of each stream
    #[arg(long, value_enum, default_value_t = LogMode::Auto)]
    pub logs: LogMode,
    /// Simulate what the execution roles may do (iam:SimulatePrincipalPolicy); `off` for
    /// accounts that deny it, or API peers that lack it
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    pub iam_simulate: OnOff,
    /// Read the window's account changes from CloudTrail (cloudtrail:LookupEvents) and
    /// name the one a finding likely began with
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    pub cloudtrail: OnOff,
    /// Overall deadline for live collection: 60s, 2m (default 60s); with --watch, for
    /// the whole watch (default 15m), each round's collection keeping 60s at most
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Rerun collection every INTERVAL (default 30s) and show the causes that appeared,
    /// persisted or cleared, with each service's rollout; exit 0 once every service is
    /// stable with no finding at or above --fail-on, 1 at --timeout. Rounds after the
    /// first read the evidence since the round before
    #[arg(long, value_name = "INTERVAL", num_args = 0..=1, default_missing_value = "30s",
          value_parser = parse_duration, conflicts_with = "snapshot")]
    pub watch: Option<std::time::Duration>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Calls in flight at most during live collection
    #[arg(long, value_name = "N", default_value_t = 8, hide = true)]
    pub concurrency: usize,
    /// Print the API calls made per action to stderr as JSON (for benchmarks)
    #[arg(long, hide = true)]
    pub call_stats: bool,
}

/// Parses `90s`, `30m`, `2h`, `1d`, `1h30m` (humantime; a bare number is seconds).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let bad = || format!("{s:?} is not a duration like 90s, 30m, 2h or 1d");
    // A bare number is seconds, as it always was; humantime wants a unit.
    let text = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("{s}s")
    } else {
        s.to_string()
    };
    let d = humantime::parse_duration(&text).map_err(|e| match e {
        humantime::DurationError::NumberOverflow => format!("{s:?} is too long (at most 3650d)"),
        _ => bad(),
    })?;
    // Ten years: beyond any log retention, and clock arithmetic stays in range.
    if d > std::time::Duration::from_secs(3650 * 86400) {
        return Err(format!("{s:?} is too long (at most 3650d)"));
    }
    if d.is_zero() {
        return Err("a duration must be more than zero".into());
    }
    Ok(d)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogMode {
    Auto,
    Insights,
    Filter,
    Window,
    Tail,
}

impl LogMode {
    /// The collector's mode.
    #[cfg(feature = "aws")]
    pub fn collect_mode(self) -> sickbay::collect::logs::Mode {
        use sickbay::collect::logs::Mode;
        match self {
            LogMode::Auto => Mode::Auto,
            LogMode::Insights => Mode::Insights,
            LogMode::Filter => Mode::Filter,
            LogMode::Window => Mode::Window,
            LogMode::Tail => Mode::Tail,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DbMode {
    Auto,
    On,
    Off,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The task definition to check (register-task-definition input or
    /// describe-task-definition output)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Cluster it will run in
    #[arg(long)]
    pub cluster: String,
    /// Service it will run as: the network configuration is taken from it
    #[arg(long)]
    pub service: Option<String>,
    /// Subnets its tasks will use (comma-separated; overrides the service's)
    #[arg(long, value_delimiter = ',', value_name = "SUBNET")]
    pub subnets: Vec<String>,
    /// Security groups its tasks will use (comma-separated; overrides the service's)
    #[arg(long, value_delimiter = ',', value_name = "SG")]
    pub security_groups: Vec<String>,
    /// Whether its tasks get a public IP (overrides the service's)
    #[arg(long, value_enum)]
    pub assign_public_ip: Option<OnOff>,
    /// Simulate what the execution role may do (iam:SimulatePrincipalPolicy)
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    pub iam_simulate: OnOff,
    /// Overall deadline: 60s, 2m
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier task definition (the last one that worked): a file, or FAMILY:REVISION
    #[arg(value_name = "BEFORE")]
    pub before: String,
    /// The later task definition (the one that fails): a file, or FAMILY:REVISION
    #[arg(value_name = "AFTER")]
    pub after: String,
    /// AWS settings, used for FAMILY:REVISION
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Where AWS calls go and as whom: shared by every command that calls AWS.
#[derive(Debug, Args)]
pub struct AwsArgs {
    /// AWS profile (default: AWS_PROFILE, then the default profile)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (a test peer or a VPC endpoint)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files to scan; `-` or nothing reads standard input
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// What the text is
    #[arg(long, value_enum, default_value_t = ScanSource::Log)]
    pub source: ScanSource,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Task definitions may be register-task-definition input, describe-task-definition output, or an array of container definitions. Folders are searched for *.json task definitions, docker-compose*.yml / compose*.yml files and .env files (.env, .env.*, *.env). As with docker compose, a compose file's variables come from the env files in its own folder (its .env is read even when not named) and from env files named on the command line."
)]
pub struct LintArgs {
    /// Files or folders to check
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every rule
    List,
    /// Show a rule's documentation: why, fix, avoid, verify, references
    Explain {
        /// Rule id (NET001) or name (stale-hardcoded-task-ip)
        id: String,
    },
    /// Validate a rules folder and run every rule's examples (default: the built-in pack)
    Check {
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Probe a PostgreSQL endpoint stage by stage: DNS, TCP, TLS, auth, schema
    #[command(
        after_help = "The password comes from the URL, PGPASSWORD, or (when the server asks for one and standard input is a terminal) a prompt; it is never printed. Exit codes, as doctor's: 1 when findings reach --fail-on (default high), a failed stage counting as a high finding and an inconclusive one (no proof) as a low one; 0 otherwise; 2 usage or runtime error."
    )]
    Probe(DbProbeArgs),
}

#[derive(Debug, Args)]
pub struct DbProbeArgs {
    /// postgres://user[:password]@host[:port]/db[?sslmode=...&sslrootcert=FILE&hostaddr=IP]
    #[arg(value_name = "URL")]
    pub url: String,
    /// Trust the CA certificates in this PEM file too (e.g. the RDS global bundle)
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    /// Fail when the server does not offer TLS
    #[arg(long)]
    pub require_tls: bool,
    /// A table the app needs (`name` or `schema.name`); repeatable
    #[arg(long, value_name = "NAME")]
    pub expect_table: Vec<String>,
    /// Seconds each stage may take
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub connect_timeout: u64,
    /// Where this runs relative to the tasks' VPC; decides whether a timeout is a failure or inconclusive
    #[arg(long, value_enum, default_value_t = sickbay::probe::Vantage::Local)]
    pub vantage: sickbay::probe::Vantage,
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_take_units_compounds_and_bare_seconds() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration(" 1d "), Ok(Duration::from_secs(86400)));
        assert_eq!(
            parse_duration("2x"),
            Err("\"2x\" is not a duration like 90s, 30m, 2h or 1d".to_string())
        );
        assert_eq!(
            parse_duration("3651d"),
            Err("\"3651d\" is too long (at most 3650d)".to_string())
        );
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("").is_err());
    }
}
