//! The database reachability probe: DNS → TCP → TLS → auth → schema against one
//! PostgreSQL endpoint, each stage timed and its first failure classified from typed
//! errors (`getaddrinfo` codes, `io::ErrorKind`/errno, the server's SSLRequest answer,
//! `rustls::CertificateError` variants, SQLSTATE), never from message text. The result
//! is a [`DbProbe`], the snapshot record the rules read (`stage=tls status=fail
//! code=unknown_issuer ...`).
//!
//! Entry points: [`probe`] runs the stages for a [`ProbeTarget`] (parsed from a URL with
//! [`ProbeTarget::parse_url`], or found by [`discover`] in a snapshot's task
//! definitions) with [`ProbeOptions`]; [`outcome`] summarises a finished probe. Each
//! stage is its own function in `stages.rs`. [`outcome`], [`first_problem`] and
//! [`Vantage`] read only the snapshot's [`DbProbe`] record, so they live with it in
//! `crate::snapshot` and are re-exported here.
//!
//! The probe runs from wherever sickbay runs. A timeout from a machine that is not in
//! the task's VPC proves nothing about the tasks, so unless the caller says the probe
//! ran inside the VPC ([`Vantage::InsideVpc`]) such results are `inconclusive`, not
//! `fail`. The schema stage reads only the system catalogs.

pub mod discover;
pub mod net;
pub mod pg;
mod stages;
pub mod target;
pub mod tls;

pub use stages::probe;

pub use discover::{discover, Candidate, PasswordState};
pub use target::{ProbeTarget, SslMode, UrlError};

pub use crate::snapshot::{first_problem, outcome, Outcome, Vantage};

use crate::error::Error;
use crate::snapshot::{DbProbe, ProbeStage};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

/// Code of a stage that ran out of time.
pub const CODE_TIMEOUT: &str = "timeout";

/// The stages, in order.
pub const STAGES: [&str; 5] = ["dns", "tcp", "tls", "auth", "schema"];

/// How to probe.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Extra trusted roots (`--ca-bundle`, a readable `sslrootcert`), on top of the web
    /// PKI roots.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Fail the TLS stage when the server does not offer TLS (also implied by
    /// `sslmode=require`/`verify-*`).
    pub require_tls: bool,
    /// Tables that must exist (`table` or `schema.table`).
    pub expect_tables: Vec<String>,
    /// Bound on each stage.
    pub timeout: Duration,
    pub vantage: Vantage,
    /// Resolve names only from this hosts-format file (`IP name [alias ...]`) instead of
    /// the system resolver: for air-gapped runs (`SICKBAY_HOSTS_FILE`), and how the
    /// tests keep every lookup on the machine.
    pub hosts_file: Option<std::path::PathBuf>,
    /// Extra CAs the client trusts that sickbay cannot see (`sslrootcert=` or
    /// `NODE_EXTRA_CA_CERTS` pointing into the container's image), in words. When set,
    /// a chain that does not verify against the roots sickbay has is inconclusive.
    pub client_roots: Option<String>,
    /// The client is node-postgres, which verifies certificates under
    /// `sslmode=prefer|require` (it treats them as verify-full).
    pub node_client: bool,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            extra_roots: Vec::new(),
            require_tls: false,
            expect_tables: Vec::new(),
            timeout: Duration::from_secs(10),
            vantage: Vantage::Local,
            hosts_file: None,
            client_roots: None,
            node_client: false,
        }
    }
}

/// Reads a PEM bundle of CA certificates. An unreadable file, or one without a
/// single certificate, is an error (the CLI exits 2).
pub fn read_ca_bundle(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Input {
            file: path.display().to_string(),
            message: format!("not a PEM certificate bundle: {e}"),
        })?;
    if certs.is_empty() {
        return Err(Error::Input {
            file: path.display().to_string(),
            message: "no PEM certificate (-----BEGIN CERTIFICATE-----) in it".to_string(),
        });
    }
    Ok(certs)
}

fn ms(since: Instant) -> Option<u64> {
    Some(since.elapsed().as_millis() as u64)
}

fn ok(stage: &str, detail: String, since: Instant) -> ProbeStage {
    ProbeStage {
        stage: stage.to_string(),
        status: "ok".to_string(),
        code: None,
        detail: Some(detail),
        elapsed_ms: ms(since),
    }
}

fn failed(stage: &str, f: net::Failure, since: Instant) -> ProbeStage {
    ProbeStage {
        stage: stage.to_string(),
        status: f.status.to_string(),
        code: Some(f.code),
        detail: Some(f.detail),
        elapsed_ms: ms(since),
    }
}

/// Appends `skipped` records for every stage after the last one recorded.
fn skip_rest(p: &mut DbProbe, reason: &str) {
    let done = p.stages.len();
    for s in STAGES.iter().skip(done) {
        p.stages.push(ProbeStage {
            stage: s.to_string(),
            status: "skipped".to_string(),
            code: None,
            detail: Some(format!("not run: {reason}")),
            elapsed_ms: None,
        });
    }
}

/// Whether a finished probe stopped because the server asked for a password it did not
/// have: then, as psql does, the caller may ask for one and probe again.
pub fn needs_password(p: &DbProbe) -> bool {
    p.stages
        .iter()
        .any(|s| s.stage == "auth" && s.code.as_deref() == Some("no_password"))
}

/// Probes every candidate endpoint discovered in a snapshot's task definitions, four at a
/// time, and returns the results in discovery order, each carrying what discovery noticed (URL and fields
/// disagreeing, secrets named but not read).
///
/// Only a password in the task definition itself is used. Snapshots redact passwords
/// and sickbay reads no secret, so a login that needs a password it does not have is
/// `inconclusive` (`no_password`), never an authentication failure. A candidate whose
/// host is in a secret is listed with every stage `skipped`.
pub async fn probe_discovered(
    snap: &crate::snapshot::Snapshot,
    opts: &ProbeOptions,
) -> Vec<DbProbe> {
    use futures_util::stream::{self, StreamExt};
    // A few at a time, in discovery order: each may wait out its timeouts.
    stream::iter(discover(snap))
        .map(|cand| probe_candidate(cand, opts))
        .buffered(4)
        .collect()
        .await
}

async fn probe_candidate(cand: Candidate, opts: &ProbeOptions) -> DbProbe {
    let mut notes = cand.notes.clone();
    for (name, value_from) in &cand.secrets {
        if !notes.iter().any(|n| n.contains(value_from.as_str())) {
            notes.push(format!(
                "{name} comes from {value_from}, which sickbay lists but does not read"
            ));
        }
    }
    let not_probed = |endpoint: String, why: &str, notes: Vec<String>| {
        let mut p = DbProbe {
            target: endpoint,
            origin: Some(cand.origin.clone()),
            vantage: Some(opts.vantage.as_str().to_string()),
            notes,
            ..DbProbe::default()
        };
        skip_rest(&mut p, why);
        p
    };
    let Some(mut target) = cand.target.clone() else {
        let why = if cand.secrets.is_empty() {
            "the configuration could not be turned into an endpoint (see the notes)"
        } else {
            "the endpoint comes from a secret, which sickbay does not read; probe it with `sickbay db probe URL`"
        };
        return not_probed(cand.endpoint.clone(), why, notes);
    };
    // In a task, localhost and link-local addresses are the task itself: probing them
    // from here would test this machine, not the task.
    if is_task_local(&target) {
        return not_probed(
            cand.endpoint.clone(),
            &format!(
                "{} means the task itself (a container in the same task), so probing it from here would test this machine; the task-definition checks (CFG006, NET003) cover it",
                target.host
            ),
            notes,
        );
    }
    target.origin = Some(cand.origin.clone());
    let mut o = opts.clone();
    o.client_roots = cand.client_roots.clone();
    o.node_client = cand.node_client;
    let mut p = probe(&target, &o).await;
    if let Some(s) = p
        .stages
        .iter_mut()
        .find(|s| s.code.as_deref() == Some("no_password"))
    {
        s.detail = Some(password_unknown(&cand.password, &target));
    }
    p.notes.extend(notes);
    p
}

/// Whether `t` names the task itself: `localhost`, a loopback or link-local address.
fn is_task_local(t: &ProbeTarget) -> bool {
    let host = t.host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let ip = t
        .hostaddr
        .or_else(|| host.trim_matches(['[', ']']).parse::<IpAddr>().ok());
    ip.is_some_and(|ip| matches!(net::scope(ip), net::Scope::Loopback | net::Scope::LinkLocal))
}

/// Why a discovered endpoint's login could not be tested, and how to test it.
fn password_unknown(state: &PasswordState, t: &ProbeTarget) -> String {
    let query = if t.sslmode_explicit {
        format!("?sslmode={}", t.sslmode.as_str())
    } else {
        String::new()
    };
    let how = format!(
        "to test the login, run `PGPASSWORD=... sickbay db probe 'postgres://{}@{t}{query}'`",
        t.user
    );
    match state {
        PasswordState::Secret { name, value_from } => format!(
            "the server asks for a password; {name} comes from {value_from}, which sickbay does not read, so the credentials were not tested; {how}"
        ),
        PasswordState::Redacted => format!(
            "the server asks for a password; the snapshot redacts it, so the credentials were not tested; {how}"
        ),
        PasswordState::Missing | PasswordState::Known => format!(
            "the server asks for a password and the container configures none here (an IAM auth token, or one read from a file, would not show), so the credentials were not tested; {how}"
        ),
    }
}

/// Options for probes run by `doctor`: the vantage point is wherever sickbay runs;
/// `ca_bundle` is `doctor --ca-bundle`, `hosts_file` a hosts file to resolve names by
/// first (the caller's `SICKBAY_HOSTS_FILE`).
pub fn doctor_options(
    ca_bundle: Option<&Path>,
    hosts_file: Option<std::path::PathBuf>,
) -> Result<ProbeOptions, Error> {
    let mut o = ProbeOptions {
        timeout: Duration::from_secs(5),
        hosts_file,
        ..ProbeOptions::default()
    };
    if let Some(path) = ca_bundle {
        o.extra_roots = read_ca_bundle(path)?;
    }
    Ok(o)
}
