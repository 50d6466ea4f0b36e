//! The probe's stages, one function each: DNS, TCP, TLS (the SSLRequest, then the
//! handshake and its verification), auth and schema. A stage that stops the probe has
//! pushed its failed record and marked the rest skipped, and returns [`Stopped`].
//! DNS, TCP and auth are here; the TLS stage is in `encryption`, the schema stage in
//! `catalogs`.

mod catalogs;
mod encryption;

use super::*;
use catalogs::schema_run;
use encryption::tls_stage;

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
