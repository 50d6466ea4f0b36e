//! The probe's stages, one function each: DNS, TCP, TLS (the SSLRequest, then the
//! handshake and its verification), auth and schema. A stage that stops the probe has
//! pushed its failed record and marked the rest skipped, and returns [`Stopped`].

use super::*;

/// The probe stopped at a stage; its records are already in place.
pub(super) struct Stopped;

/// Runs DNS → TCP → TLS → auth → schema against `target`.
///
/// Never fails: every outcome is a stage record. A stage that fails stops the probe
/// (the rest are `skipped`), except an untrusted certificate when the URL's `sslmode`
/// does not verify certificates (`prefer`, `require`), or a name mismatch under
/// `verify-ca` (which checks the chain only): a libpq client would go on, so the probe
/// goes on too, to report auth and schema as well.
pub async fn probe(target: &ProbeTarget, opts: &ProbeOptions) -> DbProbe {
    let mut p = DbProbe {
        target: target.to_string(),
        origin: target.origin.clone(),
        vantage: Some(opts.vantage.as_str().to_string()),
        ..DbProbe::default()
    };
    let _ = run(&mut p, target, opts).await;
    p
}

async fn run(p: &mut DbProbe, target: &ProbeTarget, opts: &ProbeOptions) -> Result<(), Stopped> {
    let addrs = dns_stage(p, target, opts).await?;
    p.addresses = addrs.iter().map(|a| a.to_string()).collect();
    let sockaddrs: Vec<SocketAddr> = addrs
        .iter()
        .map(|a| SocketAddr::new(*a, target.port))
        .collect();
    let stream = tcp_stage(p, &sockaddrs, opts).await?;
    let (io, encrypted, unverified) = tls_stage(p, stream, target, opts).await?;
    let client = auth_stage(p, io, (encrypted, unverified), target, &sockaddrs, opts).await?;
    schema_run(p, &client, target, opts).await;
    Ok(())
}

/// DNS: the address given, the literal address, or the name resolved from the vantage.
async fn dns_stage(
    p: &mut DbProbe,
    target: &ProbeTarget,
    opts: &ProbeOptions,
) -> Result<Vec<IpAddr>, Stopped> {
    let timeout = opts.timeout;
    let t = Instant::now();
    let addrs: Vec<IpAddr> = if let Some(a) = target.hostaddr {
        p.stages.push(ok(
            "dns",
            format!(
                "hostaddr {a} given ({}); {} not looked up",
                net::scope(a).as_str(),
                target.host
            ),
            t,
        ));
        vec![a]
    } else if let Ok(ip) = target.host.parse::<IpAddr>() {
        p.stages.push(ok(
            "dns",
            format!(
                "{ip} is an address ({}); nothing to resolve",
                net::scope(ip).as_str()
            ),
            t,
        ));
        vec![ip]
    } else {
        match net::resolve(
            &target.host,
            timeout,
            opts.vantage,
            opts.hosts_file.as_deref(),
        )
        .await
        {
            Ok(addrs) => {
                let mut detail = format!(
                    "{} resolved to {}",
                    target.host,
                    net::describe_addresses(&addrs)
                );
                let all_private = addrs.iter().all(|a| net::scope(*a) == net::Scope::Private);
                if all_private && opts.vantage != Vantage::InsideVpc {
                    detail.push_str("; private addresses are reachable only from inside the VPC (or over VPN, peering or a tunnel)");
                }
                p.stages.push(ok("dns", detail, t));
                addrs
            }
            Err(f) => {
                p.stages.push(failed("dns", f, t));
                skip_rest(p, "the name did not resolve");
                return Err(Stopped);
            }
        }
    };
    Ok(addrs)
}

/// TCP: the first address that accepts a connection.
async fn tcp_stage(
    p: &mut DbProbe,
    sockaddrs: &[SocketAddr],
    opts: &ProbeOptions,
) -> Result<tokio::net::TcpStream, Stopped> {
    let timeout = opts.timeout;
    let t = Instant::now();
    let stream = match net::connect(sockaddrs, timeout, opts.vantage).await {
        Ok((s, a)) => {
            p.stages.push(ok("tcp", format!("connected to {a}"), t));
            s
        }
        Err(f) => {
            p.stages.push(failed("tcp", f, t));
            skip_rest(p, "no TCP connection");
            return Err(Stopped);
        }
    };
    Ok(stream)
}

/// TLS: PostgreSQL's SSLRequest, then the handshake and the chain's verification as the
/// client's sslmode would judge it. Returns the connection to log in over, whether it
/// is encrypted, and whether its certificate went unverified.
async fn tls_stage(
    p: &mut DbProbe,
    mut stream: tokio::net::TcpStream,
    target: &ProbeTarget,
    opts: &ProbeOptions,
) -> Result<(Box<dyn pg::Io>, bool, bool), Stopped> {
    let timeout = opts.timeout;
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
    } else {
        match tokio::time::timeout(timeout, tls::ssl_request(&mut stream)).await {
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
                return Err(Stopped);
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
                return Err(Stopped);
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
                return Err(Stopped);
            }
            Ok(Ok(tls::SslAnswer::NotOffered)) if require => {
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
            }
            Ok(Ok(tls::SslAnswer::NotOffered)) => {
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
            }
            Ok(Ok(tls::SslAnswer::Offered)) => {
                let (io, u) = tls_handshake(p, stream, target, opts, t).await?;
                unverified = u;
                (io, true)
            }
        }
    };
    Ok((io, encrypted, unverified))
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

/// Auth: the login; a plaintext refusal (28000) is retried over TLS to tell "TLS
/// required" from "not allowed".
async fn auth_stage(
    p: &mut DbProbe,
    io: Box<dyn pg::Io>,
    (encrypted, unverified): (bool, bool),
    target: &ProbeTarget,
    sockaddrs: &[SocketAddr],
    opts: &ProbeOptions,
) -> Result<tokio_postgres::Client, Stopped> {
    let timeout = opts.timeout;
    let t = Instant::now();
    let client = match pg::login(io, target, encrypted, timeout).await {
        Ok(c) => {
            let how = match (encrypted, unverified) {
                (false, _) => "in plaintext",
                (true, false) => "over TLS",
                (true, true) => "over TLS with an unverified certificate (as sslmode=prefer/require allows; a verifying client refuses it)",
            };
            p.stages.push(ok(
                "auth",
                format!(
                    "logged in as {} to database {} {how}",
                    target.user, target.dbname
                ),
                t,
            ));
            c
        }
        Err(mut f) => {
            if f.code == "28000" && !encrypted && target.sslmode == SslMode::Disable {
                if let Some(proof) = admitted_over_tls(target, sockaddrs, opts).await {
                    f = net::Failure::fail(
                        "requires_tls",
                        format!(
                            "the server refuses this unencrypted login (SQLSTATE 28000) and admits the same user and database over TLS ({proof}): pg_hba.conf allows them only with hostssl (on RDS, rds.force_ssl=1); the client has TLS turned off (sslmode=disable, ssl: false)"
                        ),
                    );
                }
            }
            p.stages.push(failed("auth", f, t));
            skip_rest(p, "not logged in");
            return Err(Stopped);
        }
    };
    Ok(client)
}

/// Schema: the catalogs, read only.
async fn schema_run(
    p: &mut DbProbe,
    client: &tokio_postgres::Client,
    target: &ProbeTarget,
    opts: &ProbeOptions,
) {
    let timeout = opts.timeout;
    let t = Instant::now();
    match pg::schema(client, &opts.expect_tables, timeout).await {
        Err(f) => p.stages.push(failed("schema", f, t)),
        Ok(facts) => {
            p.server_version = Some(facts.server_version.clone());
            p.in_recovery = Some(facts.in_recovery);
            p.replay_lag_ms = facts.replay_lag_ms;
            p.migration_tables = facts.migration_tables.clone();
            p.missing_tables = facts.missing_tables.clone();
            if facts.in_recovery {
                p.notes.push(format!(
                    "{} is a read replica (pg_is_in_recovery() = true): writes fail with SQLSTATE 25006; point the app at the writer endpoint",
                    p.target
                ));
            }
            p.stages.push(schema_stage(&facts, target, t));
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

/// After a plaintext login was refused with 28000: logs in once more over TLS on a new
/// connection. When the server lets the same user and database past pg_hba this time
/// (logged in, or asked for the right password), the refusal was about encryption.
/// Returns what the TLS attempt proved, or `None`.
async fn admitted_over_tls(
    target: &ProbeTarget,
    addrs: &[SocketAddr],
    opts: &ProbeOptions,
) -> Option<&'static str> {
    let (mut stream, _) = net::connect(addrs, opts.timeout, opts.vantage).await.ok()?;
    let answer = tokio::time::timeout(opts.timeout, tls::ssl_request(&mut stream))
        .await
        .ok()?
        .ok()?;
    if !matches!(answer, tls::SslAnswer::Offered) {
        return None;
    }
    let h = tls::handshake(stream, &target.host, &opts.extra_roots, opts.timeout)
        .await
        .ok()?;
    match pg::login(Box::new(h.stream), target, true, opts.timeout).await {
        Ok(_) => Some("logged in"),
        Err(f) if f.code == "no_password" => Some("it asked for the password"),
        Err(f) if f.code == "28P01" => {
            Some("it got past pg_hba and then rejected the password (28P01)")
        }
        Err(_) => None,
    }
}

fn schema_stage(f: &pg::SchemaFacts, target: &ProbeTarget, t: Instant) -> ProbeStage {
    let dbname = target.dbname.as_str();
    let role = if f.in_recovery {
        match f.replay_lag_ms {
            Some(l) => format!("replica, replay lag {l} ms"),
            None => "replica, nothing replayed yet".to_string(),
        }
    } else {
        "primary".to_string()
    };
    let migrations = if f.migration_tables.is_empty() {
        "no known migration table".to_string()
    } else {
        let named: Vec<String> = f
            .migration_tables
            .iter()
            .map(|m| match pg::framework_of(m) {
                Some(fw) => format!("{m} ({fw})"),
                None => m.clone(),
            })
            .collect();
        format!("migration tables: {}", named.join(", "))
    };
    let facts = format!(
        "PostgreSQL {}, {role}; {} app table(s); {migrations}",
        f.server_version, f.app_tables
    );
    let missing = f.missing_tables.join(", ");
    let (status, code, detail) = if f.app_tables == 0 && f.app_migration_tables == 0 {
        let mut d = format!(
            "database {dbname} has no tables and no migration table: migrations never ran (run the framework's migrate command as a one-off task or before the app starts)"
        );
        if !missing.is_empty() {
            d.push_str(&format!("; missing: {missing}"));
        }
        // The maintenance database, or one nobody named, may not be where the app's
        // tables are meant to live: no proof that its migrations never ran.
        if target.dbname_defaulted || dbname == "postgres" {
            let why = if target.dbname_defaulted {
                format!("the configuration names no database, so the driver's default {dbname} was probed")
            } else {
                "postgres is the maintenance database, which apps and platforms (pg-meta) often use without tables of their own".to_string()
            };
            (
                "inconclusive",
                Some("no_migrations"),
                format!("database {dbname} has no app tables and no migration table, but {why}; {facts}"),
            )
        } else {
            ("fail", Some("no_migrations"), format!("{d}; {facts}"))
        }
    } else if !f.missing_tables.is_empty() {
        let why = if f.app_migration_tables == 0 {
            "no known migration table either: are migrations run at all?"
        } else {
            "migrations ran but did not create them: pending migrations, or the app points at another database or schema"
        };
        (
            "fail",
            Some("missing_tables"),
            format!("missing: {missing}; {why}; {facts}"),
        )
    } else {
        ("ok", None, facts)
    };
    ProbeStage {
        stage: "schema".into(),
        status: status.into(),
        code: code.map(str::to_string),
        detail: Some(detail),
        elapsed_ms: ms(t),
    }
}
