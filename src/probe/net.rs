//! The DNS and TCP stages. Names are resolved with the system resolver through
//! `getaddrinfo` (the same path the application's driver takes), whose `EAI_*` result
//! codes classify a failure; a TCP failure is classified by `io::ErrorKind` and errno.

use super::{Vantage, CODE_TIMEOUT};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::net::TcpStream;

/// Where an address lives, as far as routing from the outside is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Loopback,
    Private,
    LinkLocal,
    Public,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Loopback => "loopback",
            Scope::Private => "private",
            Scope::LinkLocal => "link-local",
            Scope::Public => "public",
        }
    }
}

/// Classifies an address: loopback, private (RFC 1918, CGNAT, IPv6 ULA), link-local
/// or public.
pub fn scope(ip: IpAddr) -> Scope {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                Scope::Loopback
            } else if v4.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
                Scope::Private
            } else if v4.is_link_local() {
                Scope::LinkLocal
            } else {
                Scope::Public
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return scope(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Scope::Loopback
            } else if first & 0xfe00 == 0xfc00 {
                Scope::Private
            } else if first & 0xffc0 == 0xfe80 {
                Scope::LinkLocal
            } else {
                Scope::Public
            }
        }
    }
}

/// Outcome of a stage that failed: status (`fail` or `inconclusive`), code, detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: &'static str,
    pub code: String,
    pub detail: String,
}

impl Failure {
    pub fn fail(code: &str, detail: impl Into<String>) -> Failure {
        Failure {
            status: "fail",
            code: code.to_string(),
            detail: detail.into(),
        }
    }

    pub fn inconclusive(code: &str, detail: impl Into<String>) -> Failure {
        Failure {
            status: "inconclusive",
            code: code.to_string(),
            detail: detail.into(),
        }
    }
}

fn is_aws_public_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h.ends_with(".amazonaws.com") || h.ends_with(".amazonaws.com.cn")
}

/// Looks `host` up in a hosts-format file only. An IP literal resolves to itself.
fn resolve_from_file(
    host: &str,
    path: &std::path::Path,
    vantage: Vantage,
) -> Result<Vec<IpAddr>, Failure> {
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::fail(
            "other",
            format!("cannot read hosts file {}: {e}", path.display()),
        )
    })?;
    let want = host.trim_end_matches('.');
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut parts = line.split_whitespace();
        let Some(ip) = parts.next().and_then(|p| p.parse::<IpAddr>().ok()) else {
            continue;
        };
        if parts.any(|n| n.eq_ignore_ascii_case(want)) && !out.contains(&ip) {
            out.push(ip);
        }
    }
    if out.is_empty() {
        Err(not_found(host, vantage))
    } else {
        Ok(out)
    }
}

/// Resolves `host` with the system resolver (or only from `hosts_file`), bounded by
/// `timeout`.
pub async fn resolve(
    host: &str,
    timeout: Duration,
    vantage: Vantage,
    hosts_file: Option<&std::path::Path>,
) -> Result<Vec<IpAddr>, Failure> {
    if let Some(path) = hosts_file {
        return resolve_from_file(host, path, vantage);
    }
    let name = host.to_string();
    let lookup = tokio::task::spawn_blocking(move || {
        let hints = dns_lookup::AddrInfoHints {
            socktype: libc::SOCK_STREAM,
            ..dns_lookup::AddrInfoHints::default()
        };
        dns_lookup::getaddrinfo(Some(&name), None, Some(hints)).map(|it| {
            let mut out: Vec<IpAddr> = Vec::new();
            for a in it.flatten() {
                let ip = a.sockaddr.ip();
                if !out.contains(&ip) {
                    out.push(ip);
                }
            }
            out
        })
    });
    let secs = timeout.as_secs();
    let result = match tokio::time::timeout(timeout, lookup).await {
        Err(_) => {
            return Err(Failure::inconclusive(
                "no_answer",
                format!("the resolver gave no answer for {host} within {secs} s"),
            ))
        }
        Ok(Err(join)) => {
            return Err(Failure::fail(
                "other",
                format!("name lookup did not complete: {join}"),
            ))
        }
        Ok(Ok(r)) => r,
    };
    match result {
        Ok(addrs) if addrs.is_empty() => Err(Failure::fail(
            "no_answer",
            format!("{host} resolved to no address"),
        )),
        Ok(addrs) => Ok(addrs),
        Err(e) => Err(classify_lookup_error(e, host, vantage)),
    }
}

/// Maps a `getaddrinfo` failure (its `EAI_*` code) to a DNS-stage result.
pub fn classify_lookup_error(e: dns_lookup::LookupError, host: &str, vantage: Vantage) -> Failure {
    use dns_lookup::LookupErrorKind as K;
    match e.kind() {
        K::NoName => not_found(host, vantage),
        K::NoData => {
            let mut f = Failure::fail(
                "no_answer",
                format!("{host} exists in DNS but has no A or AAAA record"),
            );
            // Split-horizon zones answer differently inside the VPC.
            if vantage != Vantage::InsideVpc && host.contains('.') && !is_aws_public_name(host) {
                f.status = "inconclusive";
                f.detail.push_str(&format!(" {}; the VPC's resolver may answer otherwise", vantage.phrase()));
            }
            f
        }
        K::Again => Failure::inconclusive(
            "no_answer",
            format!("the resolver could not answer for {host} (temporary failure); retry, or check the resolver"),
        ),
        K::Fail => Failure::fail(
            "no_answer",
            format!("the resolver failed for {host} (non-recoverable error)"),
        ),
        _ => Failure::fail(
            "other",
            format!("name lookup for {host} failed: {}", io::Error::from(e)),
        ),
    }
}

fn not_found(host: &str, vantage: Vantage) -> Failure {
    let single_label = !host.trim_end_matches('.').contains('.');
    if single_label {
        return Failure::fail(
            "not_found",
            format!(
                "{host} does not resolve: a single-label name like this is usually a docker-compose service name, which does not exist on ECS; use the database's real endpoint (or a Service Connect / Cloud Map name)"
            ),
        );
    }
    // A private hosted zone or Cloud Map namespace answers only inside its VPC, so from
    // anywhere else a missing name proves nothing. AWS's own public names (RDS, ElastiCache
    // endpoints) resolve from everywhere, so for them a missing name is a fact.
    if vantage != Vantage::InsideVpc && !is_aws_public_name(host) {
        return Failure::inconclusive(
            "not_found",
            format!(
                "{host} does not resolve {}; it may be a private hosted-zone or Cloud Map name that resolves only inside the VPC (or it is misspelt)",
                vantage.phrase()
            ),
        );
    }
    Failure::fail(
        "not_found",
        format!("{host} does not resolve (no such name)"),
    )
}

/// One-line description of resolved addresses, with their scopes.
pub fn describe_addresses(addrs: &[IpAddr]) -> String {
    addrs
        .iter()
        .map(|a| format!("{a} ({})", scope(*a).as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sockaddr_text(a: &SocketAddr) -> String {
    a.to_string()
}

/// The code of a failed TCP connect: `refused`, `timeout`, `unreachable` or `other`.
pub fn classify_connect_error(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => return "refused",
        io::ErrorKind::TimedOut => return CODE_TIMEOUT,
        _ => {}
    }
    match e.raw_os_error() {
        Some(libc::EHOSTUNREACH)
        | Some(libc::ENETUNREACH)
        | Some(libc::EADDRNOTAVAIL)
        | Some(libc::ENETDOWN) => "unreachable",
        Some(libc::ETIMEDOUT) => CODE_TIMEOUT,
        Some(libc::ECONNREFUSED) => "refused",
        _ => "other",
    }
}

/// Connects to the first address that accepts, each attempt bounded by `timeout`.
pub async fn connect(
    addrs: &[SocketAddr],
    timeout: Duration,
    vantage: Vantage,
) -> Result<(TcpStream, SocketAddr), Failure> {
    let mut tried: Vec<(String, &'static str, String)> = Vec::new();
    for a in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(a)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok((s, *a));
            }
            Ok(Err(e)) => tried.push((sockaddr_text(a), classify_connect_error(&e), e.to_string())),
            Err(_) => tried.push((
                sockaddr_text(a),
                CODE_TIMEOUT,
                format!("no answer within {} s", timeout.as_secs()),
            )),
        }
    }
    let Some((_, code, _)) = tried.first() else {
        return Err(Failure::fail("other", "no address to connect to"));
    };
    let code = *code;
    let each = tried
        .iter()
        .map(|(a, c, _)| format!("{a} {}", if *c == CODE_TIMEOUT { "timed out" } else { c }))
        .collect::<Vec<_>>()
        .join("; ");
    let all_private = addrs.iter().all(|a| scope(a.ip()) == Scope::Private);
    Err(match code {
        "refused" => Failure::fail(
            "refused",
            format!("{each}: nothing listens on that port (wrong port, or the server is down)"),
        ),
        "timeout" | "unreachable" if vantage != Vantage::InsideVpc => {
            let why = if all_private {
                "the address is private, so it is reachable only from inside its VPC (or over VPN, peering or a tunnel)"
            } else {
                "a security group, NACL or firewall may drop the traffic on the way from here"
            };
            Failure::inconclusive(
                code,
                format!(
                    "{each}: {why}. The probe ran {}, so this says nothing about whether the tasks can reach it; run it from inside the task's VPC (ECS Exec into a task) to decide",
                    vantage.phrase()
                ),
            )
        }
        "timeout" => Failure::fail(
            "timeout",
            format!("{each}: from inside the VPC this points at security groups (the database's inbound rules must allow the task's security group on this port) or NACLs"),
        ),
        "unreachable" => Failure::fail("unreachable", format!("{each}: no route to the address")),
        _ => Failure::fail("other", {
            let msgs: Vec<String> = tried.iter().map(|(a, _, m)| format!("{a}: {m}")).collect();
            msgs.join("; ")
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        let s = |t: &str| scope(t.parse().unwrap());
        assert_eq!(s("127.0.0.1"), Scope::Loopback);
        assert_eq!(s("10.0.3.4"), Scope::Private);
        assert_eq!(s("172.31.0.9"), Scope::Private);
        assert_eq!(s("100.64.1.1"), Scope::Private);
        assert_eq!(s("169.254.169.254"), Scope::LinkLocal);
        assert_eq!(s("52.1.2.3"), Scope::Public);
        assert_eq!(s("::1"), Scope::Loopback);
        assert_eq!(s("fd00::1"), Scope::Private);
        assert_eq!(s("fe80::1"), Scope::LinkLocal);
        assert_eq!(s("2600::1"), Scope::Public);
        assert_eq!(s("::ffff:10.1.2.3"), Scope::Private);
    }

    #[test]
    fn connect_errors_by_kind_and_errno() {
        assert_eq!(
            classify_connect_error(&io::Error::from(io::ErrorKind::ConnectionRefused)),
            "refused"
        );
        assert_eq!(
            classify_connect_error(&io::Error::from(io::ErrorKind::TimedOut)),
            "timeout"
        );
        assert_eq!(
            classify_connect_error(&io::Error::from_raw_os_error(libc::EHOSTUNREACH)),
            "unreachable"
        );
        assert_eq!(
            classify_connect_error(&io::Error::from_raw_os_error(libc::ENETUNREACH)),
            "unreachable"
        );
        assert_eq!(
            classify_connect_error(&io::Error::from_raw_os_error(libc::EPERM)),
            "other"
        );
    }

    #[test]
    fn not_found_wording_depends_on_name_and_vantage() {
        assert_eq!(not_found("db", Vantage::OutsideVpc).status, "fail");
        assert!(not_found("db", Vantage::Local)
            .detail
            .contains("docker-compose"));
        assert_eq!(
            not_found("db.internal.example", Vantage::OutsideVpc).status,
            "inconclusive"
        );
        assert_eq!(
            not_found("x.abc.us-east-1.rds.amazonaws.com", Vantage::OutsideVpc).status,
            "fail"
        );
        assert_eq!(
            not_found("db.internal.example", Vantage::Local).status,
            "inconclusive"
        );
        assert_eq!(
            not_found("db.internal.example", Vantage::InsideVpc).status,
            "fail"
        );
    }

    #[test]
    fn getaddrinfo_codes_are_classified() {
        use dns_lookup::LookupError;
        let cases = [
            (libc::EAI_NONAME, "db", "fail", "not_found"),
            (
                libc::EAI_NONAME,
                "x.abc.eu-west-1.rds.amazonaws.com",
                "fail",
                "not_found",
            ),
            (
                libc::EAI_NONAME,
                "db.corp.internal",
                "inconclusive",
                "not_found",
            ),
            (
                libc::EAI_NODATA,
                "db.example.com",
                "inconclusive",
                "no_answer",
            ),
            (
                libc::EAI_NODATA,
                "x.abc.eu-west-1.rds.amazonaws.com",
                "fail",
                "no_answer",
            ),
            (
                libc::EAI_AGAIN,
                "db.example.com",
                "inconclusive",
                "no_answer",
            ),
            (libc::EAI_FAIL, "db.example.com", "fail", "no_answer"),
            (libc::EAI_MEMORY, "db.example.com", "fail", "other"),
        ];
        for (eai, host, status, code) in cases {
            let f = classify_lookup_error(LookupError::new(eai), host, Vantage::Local);
            assert_eq!((f.status, f.code.as_str()), (status, code), "{eai} {host}");
        }
    }

    #[tokio::test]
    async fn the_system_resolver_answers_for_localhost() {
        let addrs = resolve("localhost", Duration::from_secs(5), Vantage::Local, None)
            .await
            .expect("localhost resolves");
        assert!(addrs.iter().all(|a| a.is_loopback()), "{addrs:?}");
        assert_eq!(scope(addrs[0]), Scope::Loopback);
    }
}
