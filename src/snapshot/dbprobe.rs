//! The result of `sickbay db probe` (or of `doctor`'s probes) against one database
//! endpoint, stage by stage (DNS, TCP, TLS, auth, schema), with what the server revealed
//! on the way: version, certificate chain, missing tables, replication lag.

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
