//! The two closed vocabularies a rule file names by keyword: how bad a finding is
//! ([`Severity`]) and where a signal looks ([`Source`]), with their spellings and the
//! shorthand sources' expansions. Kept apart from the rest of the model because much
//! more than the rule loader uses them: reports and their JSON schema (severity), and
//! the engine and fact builders (sources).

use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Weight used in ranking.
    pub fn weight(self) -> f64 {
        match self {
            Severity::Info => 0.5,
            Severity::Low => 1.0,
            Severity::Medium => 2.0,
            Severity::High => 3.0,
            Severity::Critical => 4.0,
        }
    }
}

/// Where a signal looks. Every source is a stream of text records; see `docs/rules.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Log,
    ServiceEvent,
    StoppedReason,
    StopCode,
    ContainerReason,
    ExitCode,
    Task,
    Deployment,
    TaskDefinition,
    TargetHealth,
    LogStream,
    DbProbe,
    CollectError,
    Fact,
    /// docker-compose files given to `lint`.
    Compose,
    /// `.env` files and templates given to `lint`.
    EnvFile,
    /// Shorthand for every free-text source: log, service-event, stopped-reason,
    /// container-reason and deployment.
    Text,
    /// Shorthand for every configuration source: task-definition, compose and env-file.
    Config,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Log => "log",
            Source::ServiceEvent => "service-event",
            Source::StoppedReason => "stopped-reason",
            Source::StopCode => "stop-code",
            Source::ContainerReason => "container-reason",
            Source::ExitCode => "exit-code",
            Source::Task => "task",
            Source::Deployment => "deployment",
            Source::TaskDefinition => "task-definition",
            Source::TargetHealth => "target-health",
            Source::LogStream => "log-stream",
            Source::DbProbe => "db-probe",
            Source::CollectError => "collect-error",
            Source::Fact => "fact",
            Source::Compose => "compose",
            Source::EnvFile => "env-file",
            Source::Text => "text",
            Source::Config => "config",
        }
    }

    /// The concrete sources this one stands for.
    pub fn expand(self) -> &'static [Source] {
        match self {
            Source::Text => &[
                Source::Log,
                Source::ServiceEvent,
                Source::StoppedReason,
                Source::ContainerReason,
                Source::Deployment,
            ],
            Source::Log => &[Source::Log],
            Source::ServiceEvent => &[Source::ServiceEvent],
            Source::StoppedReason => &[Source::StoppedReason],
            Source::StopCode => &[Source::StopCode],
            Source::ContainerReason => &[Source::ContainerReason],
            Source::ExitCode => &[Source::ExitCode],
            Source::Task => &[Source::Task],
            Source::Deployment => &[Source::Deployment],
            Source::TaskDefinition => &[Source::TaskDefinition],
            Source::TargetHealth => &[Source::TargetHealth],
            Source::LogStream => &[Source::LogStream],
            Source::DbProbe => &[Source::DbProbe],
            Source::CollectError => &[Source::CollectError],
            Source::Fact => &[Source::Fact],
            Source::Compose => &[Source::Compose],
            Source::EnvFile => &[Source::EnvFile],
            Source::Config => &[Source::TaskDefinition, Source::Compose, Source::EnvFile],
        }
    }
}
