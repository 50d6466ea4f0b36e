//! The TLS stage: PostgreSQL's SSLRequest, the handshake, and whether the client's
//! sslmode would accept the certificate. The longest stage, with its own rules about
//! when an unverified chain stops the probe, so it lives apart from the others.

use super::*;

/// TLS: PostgreSQL's SSLRequest, then the handshake and the chain's verification as the
/// client's sslmode would judge it. Returns the connection to log in over, whether it
/// is encrypted, and whether its certificate went unverified.
pub(super) async fn tls_stage(
    p: &mut DbProbe,
    mut stream: tokio::net::TcpStream,
    target: &ProbeTarget,
    opts: &ProbeOptions,
) -> Result<(Box<dyn pg::Io>, bool, bool), Stopped> {
    let t = Instant::now();
    let require = opts.require_tls || target.sslmode.requires_tls();
    let mut unverified = false;
    let (io, encrypted): (Box<dyn pg::Io>, bool) = if target.sslmode == SslMode::Disable
        && !opts.require_tls
    {
        p.stages.push(ProbeStage {
            stage: "tls".into(),
            status: "skipped".into(),
            code: None,
            detail: Some("sslmode=disable: the client does not ask for TLS".into()),
            elapsed_ms: ms(t),
        });
        (Box::new(stream), false)
    } else if ssl_request(p, &mut stream, opts, t).await? {
        let (io, u) = tls_handshake(p, stream, target, opts, t).await?;
        unverified = u;
        (io, true)
    } else if require {
        let why = if opts.require_tls {
            "--require-tls"
        } else {
            "the URL's sslmode"
        };
        p.stages.push(failed(
            "tls",
            net::Failure::fail(
                "not_offered",
                format!(
                    "the server does not offer TLS (it answered N to SSLRequest; ssl = off in postgresql.conf) and {why} requires it"
                ),
            ),
            t,
        ));
        skip_rest(p, "TLS is required and the server does not offer it");
        return Err(Stopped);
    } else {
        p.stages.push(ProbeStage {
            stage: "tls".into(),
            status: "skipped".into(),
            code: Some("not_offered".into()),
            detail: Some(format!(
                "the server does not offer TLS; going on in plaintext as sslmode={} allows (--require-tls makes this a failure)",
                target.sslmode.as_str()
            )),
            elapsed_ms: ms(t),
        });
        (Box::new(stream), false)
    };
    Ok((io, encrypted, unverified))
}

/// Sends the SSLRequest and returns whether the server offered TLS (`S`) rather than
/// declining it (`N`). No answer in time, a broken connection, or any other byte
/// stops the probe.
async fn ssl_request(
    p: &mut DbProbe,
    stream: &mut tokio::net::TcpStream,
    opts: &ProbeOptions,
    t: Instant,
) -> Result<bool, Stopped> {
    let timeout = opts.timeout;
    match tokio::time::timeout(timeout, tls::ssl_request(stream)).await {
        Err(_) => {
            p.stages.push(failed(
                "tls",
                net::Failure::fail(
                    CODE_TIMEOUT,
                    format!(
                        "the server accepted the connection but did not answer the SSLRequest within {} s",
                        timeout.as_secs()
                    ),
                ),
                t,
            ));
            skip_rest(p, "TLS negotiation did not finish");
            Err(Stopped)
        }
        Ok(Err(e)) => {
            p.stages.push(failed(
                "tls",
                net::Failure::fail(
                    "other",
                    format!(
                        "the connection failed during TLS negotiation ({:?}): {e}",
                        e.kind()
                    ),
                ),
                t,
            ));
            skip_rest(p, "TLS negotiation did not finish");
            Err(Stopped)
        }
        Ok(Ok(tls::SslAnswer::Other(b))) => {
            p.stages.push(failed(
                "tls",
                net::Failure::fail(
                    "other",
                    format!(
                        "the server answered the SSLRequest with byte 0x{b:02x}: not a PostgreSQL server, or one too old to negotiate TLS"
                    ),
                ),
                t,
            ));
            skip_rest(p, "the server did not speak PostgreSQL's TLS negotiation");
            Err(Stopped)
        }
        Ok(Ok(tls::SslAnswer::NotOffered)) => Ok(false),
        Ok(Ok(tls::SslAnswer::Offered)) => Ok(true),
    }
}

/// The TLS handshake once the server offered TLS, and whether the client would accept
/// the certificate. Returns the encrypted connection and whether it went unverified.
async fn tls_handshake(
    p: &mut DbProbe,
    stream: tokio::net::TcpStream,
    target: &ProbeTarget,
    opts: &ProbeOptions,
    t: Instant,
) -> Result<(Box<dyn pg::Io>, bool), Stopped> {
    let mut unverified = false;
    match tls::handshake(stream, &target.host, &opts.extra_roots, opts.timeout).await {
        Err(f) => {
            p.stages.push(failed("tls", f, t));
            skip_rest(p, "the TLS handshake failed");
            Err(Stopped)
        }
        Ok(h) => {
            p.tls_chain = tls::chain_info(&h.seen.chain);
            let (_, extra) = tls::root_store(&opts.extra_roots);
            if tls::is_rds(&p.tls_chain) {
                p.notes.push(format!(
                    "The certificate chain is from an Amazon RDS CA. Clients must trust the RDS CA bundle {}: sickbay --ca-bundle; Node NODE_EXTRA_CA_CERTS; libpq sslrootcert=...&sslmode=verify-full; Java: import into the truststore",
                    tls::RDS_BUNDLE_URL
                ));
            }
            match &h.seen.error {
                None => {
                    let trust = if extra == 0 {
                        "the web PKI roots".to_string()
                    } else {
                        format!("the web PKI roots plus {extra} from --ca-bundle")
                    };
                    p.stages.push(ok(
                        "tls",
                        format!(
                            "{} {}; chain of {} verified for {} against {trust}",
                            h.version,
                            h.cipher,
                            h.seen.chain.len(),
                            target.host
                        ),
                        t,
                    ));
                }
                Some(err) => {
                    let mut f = tls::classify_verification(
                        err,
                        &h.seen.chain,
                        &p.tls_chain,
                        &target.host,
                        extra,
                    );
                    undecided_trust(&mut f, target, opts);
                    // verify-ca checks the chain, not the name.
                    let stop = target.sslmode == SslMode::VerifyFull
                        || (target.sslmode == SslMode::VerifyCa && f.code != "hostname_mismatch");
                    p.stages.push(failed("tls", f, t));
                    if stop {
                        skip_rest(
                            p,
                            &format!(
                                "sslmode={} refuses an unverified certificate, so no credentials were sent",
                                target.sslmode.as_str()
                            ),
                        );
                        return Err(Stopped);
                    }
                    unverified = true;
                }
            }
            Ok((Box::new(h.stream), unverified))
        }
    }
}

/// A chain that does not verify is a failure only when the client would verify it
/// against the roots sickbay has. When the URL states a non-verifying `sslmode`
/// (libpq, psycopg, pgx and JDBC then skip the check; node-postgres does not), or the
/// client trusts extra CAs sickbay cannot read, the result is inconclusive.
fn undecided_trust(f: &mut net::Failure, target: &ProbeTarget, opts: &ProbeOptions) {
    let chain_trust = matches!(f.code.as_str(), "unknown_issuer" | "self_signed_in_chain");
    let node_verifies =
        opts.node_client && matches!(target.sslmode, SslMode::Prefer | SslMode::Require);
    if target.sslmode == SslMode::NoVerify {
        f.status = "inconclusive";
        f.detail
            .push_str("; the client's sslmode=no-verify skips certificate checks, so this does not stop it (it also means no protection against an impostor)");
    } else if target.sslmode_explicit && !target.sslmode.verifies() && !node_verifies {
        f.status = "inconclusive";
        f.detail.push_str(&format!(
            "; the client's sslmode={} does not verify certificates in libpq, psycopg, pgx or JDBC (node-postgres treats it as verify-full), so whether this breaks the app depends on its driver",
            target.sslmode.as_str()
        ));
    } else if chain_trust {
        if let Some(roots) = &opts.client_roots {
            f.status = "inconclusive";
            f.detail.push_str(&format!(
                "; the client also trusts {roots}, which sickbay cannot read from here: pass the same file with --ca-bundle to decide"
            ));
        }
    }
}
