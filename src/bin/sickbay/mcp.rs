//! `sickbay mcp`: a Model Context Protocol server over stdio (the official `rmcp` SDK), so
//! an agent gets ranked, evidenced causes instead of raw API output. Each tool mirrors a
//! command: its arguments become that command's argv and go through the same clap
//! definitions (so defaults, conflicts and messages are the command line's), then the
//! same code runs. A tool returns the report JSON as structured content and the Markdown
//! as text; a failure is a tool error with the command's one-line message, redacted.
//! Read-only, like the CLI. Part of the binary: it drives the command-line layer.

use crate::cli::{Cli, Command, DbCommand};
use crate::dbprobe::probe_report;
use crate::doctor::doctor_report;
use anyhow::{anyhow, Result};
use clap::Parser;
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
use rmcp::{tool, tool_handler, tool_router, ErrorData as McpError, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::Deserialize;
use sickbay::render;
use sickbay::rules::RuleSet;
use sickbay::scan::ScanSource;
use std::sync::Arc;

/// Serves until the client closes stdin.
pub fn serve(rules: RuleSet) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = Sickbay::new(rules);
        let service = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| anyhow!("starting the MCP server: {e}"))?;
        service.waiting().await?;
        Ok(())
    })
}

/// The tool schemas come from the project's schemars 0.8 (rmcp derives with 1.x).
fn schema<T: JsonSchema>() -> Arc<JsonObject> {
    let root = schemars::gen::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    match serde_json::to_value(root) {
        Ok(serde_json::Value::Object(mut m)) => {
            m.remove("title");
            Arc::new(m)
        }
        _ => Arc::new(JsonObject::new()),
    }
}

/// `doctor`: a recorded snapshot, or live collection from AWS.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DoctorIn {
    /// Path of a snapshot to replay (instead of collecting live)
    pub snapshot: Option<String>,
    /// ECS cluster to collect from (live)
    pub cluster: Option<String>,
    /// Services to diagnose (default: every service of the cluster)
    #[serde(default)]
    pub services: Vec<String>,
    /// Task-definition families of standalone or scheduled tasks
    #[serde(default)]
    pub families: Vec<String>,
    /// Window for events and logs: 30m, 2h, 1d (live)
    pub since: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (a test peer or a VPC endpoint)
    pub endpoint_url: Option<String>,
    /// Probe the databases named in the environment: auto, on or off
    pub db: Option<String>,
}

/// `scan`: text to classify.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanIn {
    /// Log lines, a stopped reason or service events
    pub text: String,
    /// log (default), stopped-reason or service-event
    pub source: Option<String>,
}

/// `lint`: files or folders.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LintIn {
    /// Task-definition JSON, docker-compose files, .env files, or folders of them
    pub paths: Vec<String>,
}

/// `explain_rule`: one rule's documentation.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainIn {
    /// Rule id (NET001) or name (stale-hardcoded-task-ip)
    pub id: String,
}

/// `db_probe`: one PostgreSQL endpoint.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DbProbeIn {
    /// postgres://user[:password]@host[:port]/db[?sslmode=...]
    pub url: String,
    /// PEM file of extra CA certificates to trust
    pub ca_bundle: Option<String>,
    #[serde(default)]
    pub require_tls: bool,
    /// Tables the app needs
    #[serde(default)]
    pub expect_tables: Vec<String>,
    /// Seconds each stage may take (default 10)
    pub connect_timeout: Option<u64>,
}

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

#[derive(Clone)]
pub struct Sickbay {
    rules: Arc<RuleSet>,
    tool_router: ToolRouter<Self>,
}

/// The command line a tool call stands for, parsed by the CLI's own definitions.
fn command(argv: Vec<String>) -> Result<Command> {
    let mut full = vec!["sickbay".to_string()];
    full.extend(argv);
    Cli::try_parse_from(full)
        .map(|c| c.command)
        .map_err(|e| anyhow!("{}", sickbay::error::join_lines(&e.render().to_string())))
}

fn flag(argv: &mut Vec<String>, name: &str, value: &Option<String>) {
    if let Some(v) = value {
        argv.push(format!("--{name}={v}"));
    }
}

/// Runs `f` on a blocking thread with a runtime of its own, as the command line does:
/// live collection's futures borrow across awaits in ways that are not `Send`.
async fn on_own_runtime<T: Send + 'static>(
    f: impl FnOnce(&tokio::runtime::Runtime) -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        f(&rt)
    })
    .await
    .map_err(|e| anyhow!("the tool stopped: {e}"))?
}

/// A tool's answer: structured JSON plus Markdown, or a one-line redacted error.
fn answer(result: Result<(serde_json::Value, String)>) -> Result<CallToolResult, McpError> {
    match result {
        Ok((json, markdown)) => {
            let mut r = CallToolResult::success(vec![ContentBlock::text(markdown)]);
            r.structured_content = Some(json);
            Ok(r)
        }
        Err(e) => {
            let msg = sickbay::snapshot::redact::error_line(&format!("{e:#}"));
            Ok(CallToolResult::error(vec![ContentBlock::text(msg)]))
        }
    }
}

fn report_answer(report: &sickbay::Report) -> Result<(serde_json::Value, String)> {
    Ok((
        serde_json::to_value(report)?,
        render::markdown::render(report),
    ))
}

#[tool_router]
impl Sickbay {
    pub fn new(rules: RuleSet) -> Self {
        Self {
            rules: Arc::new(rules),
            tool_router: Self::tool_router(),
        }
    }

    /// Diagnose an ECS service: ranked root causes with evidence and fix commands.
    #[tool(
        description = "Diagnose ECS services: replay a recorded snapshot (snapshot) or collect live, read-only, from AWS (cluster, services, families). Returns ranked root causes with evidence and exact fix commands.",
        input_schema = schema::<DoctorIn>(),
        output_schema = schema::<sickbay::Report>(),
        annotations(read_only_hint = true)
    )]
    async fn doctor(
        &self,
        Parameters(a): Parameters<DoctorIn>,
    ) -> Result<CallToolResult, McpError> {
        let mut argv = vec!["doctor".to_string()];
        flag(&mut argv, "snapshot", &a.snapshot);
        flag(&mut argv, "cluster", &a.cluster);
        for s in &a.services {
            argv.push(format!("--service={s}"));
        }
        for f in &a.families {
            argv.push(format!("--family={f}"));
        }
        flag(&mut argv, "since", &a.since);
        flag(&mut argv, "region", &a.region);
        flag(&mut argv, "profile", &a.profile);
        flag(&mut argv, "endpoint-url", &a.endpoint_url);
        flag(&mut argv, "db", &a.db);
        let rules = self.rules.clone();
        answer(
            on_own_runtime(move |rt| {
                let Command::Doctor(args) = command(argv)? else {
                    unreachable!("parsed as doctor")
                };
                report_answer(&rt.block_on(doctor_report(&args, &rules))?)
            })
            .await,
        )
    }

    #[tool(
        description = "Classify raw text (log lines, a pasted stopped reason, service events) with sickbay's failure signatures.",
        input_schema = schema::<ScanIn>(),
        output_schema = schema::<sickbay::Report>(),
        annotations(read_only_hint = true)
    )]
    async fn scan(&self, Parameters(a): Parameters<ScanIn>) -> Result<CallToolResult, McpError> {
        let mut argv = vec!["scan".to_string()];
        flag(&mut argv, "source", &a.source);
        let run = || {
            let Command::Scan(args) = command(argv)? else {
                unreachable!("parsed as scan")
            };
            let source: ScanSource = args.source;
            report_answer(&sickbay::scan::scan_text(&a.text, source, &self.rules))
        };
        answer(run())
    }

    #[tool(
        description = "Check task-definition JSON, docker-compose files and .env files before they are deployed; findings carry file:line:col.",
        input_schema = schema::<LintIn>(),
        output_schema = schema::<sickbay::Report>(),
        annotations(read_only_hint = true)
    )]
    async fn lint(&self, Parameters(a): Parameters<LintIn>) -> Result<CallToolResult, McpError> {
        let mut argv = vec!["lint".to_string(), "--".to_string()];
        argv.extend(a.paths);
        let run = || {
            let Command::Lint(args) = command(argv)? else {
                unreachable!("parsed as lint")
            };
            let (snap, inputs) = sickbay::lint::load(&args.paths)?;
            report_answer(&sickbay::analyze_lint(&snap, &inputs, &self.rules))
        };
        answer(run())
    }

    #[tool(
        description = "Explain a rule: why the failure happens, how to fix it, what to avoid, how to verify.",
        input_schema = schema::<ExplainIn>(),
        annotations(read_only_hint = true)
    )]
    async fn explain_rule(
        &self,
        Parameters(a): Parameters<ExplainIn>,
    ) -> Result<CallToolResult, McpError> {
        let run = || {
            let rule = self.rules.get(&a.id).ok_or_else(|| {
                anyhow!(
                    "unknown rule {:?}; `sickbay rules list` shows every rule",
                    a.id
                )
            })?;
            let json = render::rules::explain(rule, render::Format::Json);
            Ok((
                serde_json::from_str(&json)?,
                render::rules::explain(rule, render::Format::Markdown),
            ))
        };
        answer(run())
    }

    #[tool(
        description = "Probe a PostgreSQL endpoint stage by stage (DNS, TCP, TLS chain, login, schema and migrations) and classify what fails.",
        input_schema = schema::<DbProbeIn>(),
        annotations(read_only_hint = true)
    )]
    async fn db_probe(
        &self,
        Parameters(a): Parameters<DbProbeIn>,
    ) -> Result<CallToolResult, McpError> {
        let mut argv = vec!["db".to_string(), "probe".to_string()];
        flag(&mut argv, "ca-bundle", &a.ca_bundle);
        if a.require_tls {
            argv.push("--require-tls".into());
        }
        for t in &a.expect_tables {
            argv.push(format!("--expect-table={t}"));
        }
        flag(
            &mut argv,
            "connect-timeout",
            &a.connect_timeout.map(|t| t.to_string()),
        );
        argv.push("--".into());
        argv.push(a.url);
        let run = async {
            let Command::Db(DbCommand::Probe(args)) = command(argv)? else {
                unreachable!("parsed as db probe")
            };
            let (target, opts) = crate::dbprobe::from_args(&args)?;
            let probe = sickbay::probe::probe(&target, &opts).await;
            let (snap, report) = probe_report(probe, &self.rules)?;
            let probe = &snap.db_probes[0];
            let json = render::probe::render(probe, &report, render::Format::Json, 100);
            Ok((
                serde_json::from_str(&json)?,
                render::probe::render(probe, &report, render::Format::Markdown, 100),
            ))
        };
        answer(run.await)
    }

    #[tool(
        description = "The least-privilege read-only IAM policy that live collection needs.",
        input_schema = schema::<NoArgs>(),
        annotations(read_only_hint = true)
    )]
    async fn iam_policy(
        &self,
        Parameters(_): Parameters<NoArgs>,
    ) -> Result<CallToolResult, McpError> {
        let policy = sickbay::collect::iam_policy();
        answer(
            serde_json::from_str(&policy)
                .map(|v| (v, policy))
                .map_err(Into::into),
        )
    }
}

#[tool_handler(
    router = self.tool_router,
    name = "sickbay",
    instructions = "sickbay diagnoses services on AWS ECS: doctor (a snapshot or a live cluster), scan (text), lint (files), explain_rule, db_probe, iam_policy. Every tool is read-only; secrets never appear in results."
)]
impl ServerHandler for Sickbay {}
