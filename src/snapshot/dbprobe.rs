//! The result of `sickbay db probe` (or of `doctor`'s probes) against one database
//! endpoint, stage by stage (DNS, TCP, TLS, auth, schema), with what the server revealed
//! on the way: version, certificate chain, missing tables, replication lag. Beside the
//! record are the pure readings of it the renderers and the probe share: where a probe
//! ran from ([`Vantage`]), and how it ended ([`outcome`], [`first_problem`]).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Result of probing one database endpoint: DNS → TCP → TLS → auth → schema.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DbProbe {
    /// host:port/db, never with a password.
    pub target: String,
    /// Where the endpoint came from (`DATABASE_URL` of `api:12/app`, the command line ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Whether the probe ran inside the task's VPC (a timeout from outside proves nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vantage: Option<String>,
    pub stages: Vec<ProbeStage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_recovery: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls_chain: Vec<CertInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_tables: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migration_tables: Vec<String>,
    /// Addresses the name resolved to (or the `hostaddr` given), as the probe saw them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// On a replica: how far replay lags behind, in milliseconds: 0 when everything
    /// received has been replayed, else `now() - pg_last_xact_replay_timestamp()`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_lag_ms: Option<u64>,
    /// Advice the probe derived from what it saw (e.g. the RDS CA bundle to trust).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProbeStage {
    /// dns, tcp, tls, auth, schema.
    pub stage: String,
    /// ok, fail, skipped, inconclusive.
    pub status: String,
    /// Machine-readable outcome: `not_found`, `refused`, `unknown_issuer`, `28P01` ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// End of the certificate's validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<DateTime<Utc>>,
    /// Subject alternative names (DNS names and IP addresses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sans: Vec<String>,
}

/// Where the probe runs, relative to the tasks that use the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Vantage {
    /// Wherever sickbay runs, without knowing whether that is inside the VPC
    #[default]
    Local,
    /// Inside the task's VPC (e.g. from a task via ECS Exec): timeouts are real failures
    InsideVpc,
    /// Outside the task's VPC (a laptop, CloudShell): timeouts prove nothing
    OutsideVpc,
}

impl Vantage {
    pub fn as_str(self) -> &'static str {
        match self {
            Vantage::Local => "local",
            Vantage::InsideVpc => "inside-vpc",
            Vantage::OutsideVpc => "outside-vpc",
        }
    }

    /// "from this machine (...)", for messages.
    pub fn phrase(self) -> &'static str {
        match self {
            Vantage::Local => "from this machine, which may not be inside the task's VPC",
            Vantage::InsideVpc => "from inside the task's VPC",
            Vantage::OutsideVpc => "from outside the task's VPC",
        }
    }
}

/// How a probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every stage that ran passed.
    Ok,
    /// At least one stage failed.
    Failed,
    /// Nothing failed, but a stage could not decide (a timeout from outside the VPC).
    Inconclusive,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "fail",
            Outcome::Inconclusive => "inconclusive",
        }
    }
}

/// The probe's outcome, from its stages.
pub fn outcome(p: &DbProbe) -> Outcome {
    if p.stages.iter().any(|s| s.status == "fail") {
        Outcome::Failed
    } else if p.stages.iter().any(|s| s.status == "inconclusive") {
        Outcome::Inconclusive
    } else {
        Outcome::Ok
    }
}

/// The first stage that failed or was inconclusive.
pub fn first_problem(p: &DbProbe) -> Option<&ProbeStage> {
    p.stages
        .iter()
        .find(|s| s.status == "fail" || s.status == "inconclusive")
}
