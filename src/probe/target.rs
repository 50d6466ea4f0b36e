//! What to probe: a [`ProbeTarget`] parsed from a libpq-style connection URL.
//!
//! tokio-postgres's own URL parser rejects what real `DATABASE_URL`s carry
//! (`sslmode=verify-full`, `sslrootcert=...`), so the URL is parsed here, libpq's
//! parameters are translated into [`SslMode`] and friends, and the probe builds the
//! driver's configuration itself. Unknown query parameters (Prisma's `schema=`,
//! `connection_limit=` ...) are ignored, as libpq-compatible drivers do.

use std::fmt;
use std::net::IpAddr;

/// libpq's `sslmode`, plus the spellings node-postgres accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    Disable,
    Allow,
    #[default]
    Prefer,
    Require,
    /// node-postgres's `no-verify`: TLS without any certificate check, whatever the driver.
    NoVerify,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// Parses a `sslmode` value (`disable` ... `verify-full`, and node-postgres's `no-verify`).
    pub fn parse(s: &str) -> Option<SslMode> {
        Some(match s.to_ascii_lowercase().as_str() {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "no-verify" => SslMode::NoVerify,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::NoVerify => "no-verify",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether a connection without TLS is refused.
    pub fn requires_tls(self) -> bool {
        matches!(
            self,
            SslMode::Require | SslMode::NoVerify | SslMode::VerifyCa | SslMode::VerifyFull
        )
    }

    /// Whether the client refuses a certificate it cannot verify.
    pub fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

/// One PostgreSQL endpoint to probe. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    /// Host name (or IP literal). Also the TLS server name that is verified.
    pub host: String,
    /// libpq's `hostaddr`: connect here instead of resolving `host`.
    pub hostaddr: Option<IpAddr>,
    pub port: u16,
    pub dbname: String,
    /// The configuration names no database: `dbname` is the driver's default.
    pub dbname_defaulted: bool,
    pub user: String,
    /// `None` when unknown (absent, or redacted in a snapshot).
    pub password: Option<String>,
    pub sslmode: SslMode,
    /// Whether the configuration states `sslmode` (or `ssl=`); when it does not, the
    /// driver's own default applies, which varies (libpq: prefer; node-postgres: the
    /// `ssl` object in code).
    pub sslmode_explicit: bool,
    /// libpq's `sslrootcert`, as written (a path inside the client's filesystem).
    pub sslrootcert: Option<String>,
    /// Where the endpoint came from, copied into `DbProbe::origin`.
    pub origin: Option<String>,
}

impl fmt::Debug for ProbeTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeTarget")
            .field("host", &self.host)
            .field("hostaddr", &self.hostaddr)
            .field("port", &self.port)
            .field("dbname", &self.dbname)
            .field("dbname_defaulted", &self.dbname_defaulted)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("sslmode", &self.sslmode)
            .field("sslmode_explicit", &self.sslmode_explicit)
            .field("sslrootcert", &self.sslrootcert)
            .field("origin", &self.origin)
            .finish()
    }
}

/// `host:port/db`, with IPv6 literals bracketed; never a password.
impl fmt::Display for ProbeTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}/{}", self.host, self.port, self.dbname)
        } else {
            write!(f, "{}:{}/{}", self.host, self.port, self.dbname)
        }
    }
}

/// Why a URL could not be used. The message never contains the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, UrlError> {
    Err(UrlError(msg.into()))
}

/// Decodes `%XX` escapes (and nothing else: `+` stays `+`, as in libpq).
pub(crate) fn percent_decode(s: &str) -> Result<String, UrlError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(v) => {
                    out.push(v);
                    i += 3;
                    continue;
                }
                None => return err("bad %-escape in the URL"),
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).or_else(|_| err("the URL's %-escapes are not UTF-8"))
}

impl ProbeTarget {
    /// Parses `postgres://user[:password]@host[:port][/db][?param=value&...]`
    /// (`postgresql://` and a `jdbc:` prefix are accepted). Understood parameters:
    /// `sslmode` (libpq's six values, node-postgres's `no-verify`), `ssl=true|false`,
    /// `sslrootcert`, `hostaddr`, `host`, `port`, `user`, `password`, `dbname`.
    /// The database defaults to the user name, the port to 5432, as in libpq.
    pub fn parse_url(url: &str) -> Result<ProbeTarget, UrlError> {
        let (userinfo, hostport, path, query) = split_url(url)?;
        let (mut user, mut password) = parse_userinfo(userinfo)?;
        // libpq allows several hosts (failover); the probe takes the first.
        let first = hostport.split(',').next().unwrap_or("");
        let (mut host, mut port) = split_host_port(first)?;
        let mut dbname = percent_decode(path)?;
        let mut sslmode = SslMode::default();
        let mut sslmode_explicit = false;
        let mut sslrootcert = None;
        let mut hostaddr = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v)?;
            match k {
                "sslmode" => {
                    sslmode_explicit = true;
                    sslmode = SslMode::parse(&v).ok_or_else(|| {
                        UrlError(format!(
                            "unknown sslmode {v:?}: expected disable, allow, prefer, require, verify-ca or verify-full"
                        ))
                    })?
                }
                "ssl" => match v.as_str() {
                    // JDBC's and node-postgres's `ssl=true` verify the certificate.
                    "true" | "1" => {
                        sslmode = SslMode::VerifyFull;
                        sslmode_explicit = true;
                    }
                    "false" | "0" => {
                        sslmode = SslMode::Disable;
                        sslmode_explicit = true;
                    }
                    _ => return err(format!("unknown ssl value {v:?}: expected true or false")),
                },
                "sslrootcert" => sslrootcert = Some(v),
                "hostaddr" => {
                    hostaddr = Some(
                        v.parse::<IpAddr>()
                            .or_else(|_| err(format!("hostaddr {v:?} is not an IP address")))?,
                    )
                }
                "host" if !v.starts_with('/') => host = v,
                "host" => return err("a Unix-socket host cannot be probed; give a TCP host"),
                "port" => port = Some(parse_port(&v)?),
                "user" => user = v,
                "password" => password = Some(v),
                "dbname" => dbname = v,
                _ => {}
            }
        }
        if host.is_empty() {
            return err("the URL names no host: expected postgres://user@host:5432/db");
        }
        if user.is_empty() {
            return err("the URL names no user: expected postgres://user@host:5432/db");
        }
        let dbname_defaulted = dbname.is_empty();
        if dbname_defaulted {
            dbname = user.clone();
        }
        Ok(ProbeTarget {
            host,
            hostaddr,
            port: port.unwrap_or(5432),
            dbname,
            dbname_defaulted,
            user,
            password: password.filter(|p| !p.is_empty()),
            sslmode,
            sslmode_explicit,
            sslrootcert,
            origin: None,
        })
    }
}

/// Checks the scheme and splits the URL into userinfo, `host[:port]`, path and query.
fn split_url(url: &str) -> Result<(Option<&str>, &str, &str, &str), UrlError> {
    let url = url.trim();
    let url = url.strip_prefix("jdbc:").unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return err("not a URL: expected postgres://user@host:5432/db");
    };
    if !scheme.eq_ignore_ascii_case("postgres") && !scheme.eq_ignore_ascii_case("postgresql") {
        return err(format!(
            "unsupported scheme {scheme:?}: expected postgres:// or postgresql://"
        ));
    }
    // A password with an unescaped `/`, `?` or `#` ends the authority early, and
    // what follows would be taken for host and port: refuse such a URL without
    // echoing any of it.
    if password_cut_short(rest) {
        return err(
            "the URL's user:password part contains a character that must be percent-encoded (/ ? # @ as %2F %3F %23 %40)",
        );
    }
    let rest = rest.split('#').next().unwrap_or("");
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, q),
        None => (rest, ""),
    };
    let (authority, path) = match main.find('/') {
        Some(i) => (&main[..i], &main[i + 1..]),
        None => (main, ""),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    Ok((userinfo, hostport, path, query))
}

/// Decodes the URL's `user[:password]` part.
fn parse_userinfo(userinfo: Option<&str>) -> Result<(String, Option<String>), UrlError> {
    let mut user = String::new();
    let mut password = None;
    if let Some(ui) = userinfo {
        match ui.split_once(':') {
            Some((u, p)) => {
                user = percent_decode(u)?;
                password = Some(percent_decode(p)?);
            }
            None => user = percent_decode(ui)?,
        }
    }
    Ok((user, password))
}

/// Whether an `@` after the authority's end (the first `/`, `?` or `#`) shows that a
/// password held an unescaped `/`, `?` or `#`: an `@` in the path (`u:pa/ss@h/d`), in a
/// query item that is no `key=value` (`u:pa?ss@h/d`), or after `#`. An `@` inside a
/// query value (`?application_name=a@b`, `?password=p@ss`) is fine.
fn password_cut_short(rest: &str) -> bool {
    let Some(cut) = rest.find(['/', '?', '#']) else {
        return false;
    };
    let tail = &rest[cut..];
    if !tail.contains('@') {
        return false;
    }
    let (before_frag, frag) = match tail.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (tail, None),
    };
    if frag.is_some_and(|f| f.contains('@')) {
        return true;
    }
    let (path, query) = match before_frag.split_once('?') {
        Some((p, q)) => (p, q),
        None => (before_frag, ""),
    };
    path.contains('@')
        || query.split('&').any(|item| match item.split_once('=') {
            Some((k, _)) => k.contains('@'),
            None => item.contains('@'),
        })
}

/// Never echoes the text: it may be part of a password whose `@` came later.
fn parse_port(s: &str) -> Result<u16, UrlError> {
    match s.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => err("bad port in the URL: expected a number from 1 to 65535"),
    }
}

fn split_host_port(s: &str) -> Result<(String, Option<u16>), UrlError> {
    if let Some(rest) = s.strip_prefix('[') {
        let Some((h, after)) = rest.split_once(']') else {
            return err("unclosed [ in the URL's host");
        };
        let port = match after.strip_prefix(':') {
            Some(p) if !p.is_empty() => Some(parse_port(p)?),
            _ => None,
        };
        return Ok((h.to_string(), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() => Ok((percent_decode(h)?, Some(parse_port(p)?))),
        Some((h, _)) => Ok((percent_decode(h)?, None)),
        None => Ok((percent_decode(s)?, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libpq_params_tokio_postgres_rejects() {
        let t = ProbeTarget::parse_url(
            "postgres://app:p%40ss@db.example.com:6543/shop?sslmode=verify-full&sslrootcert=/certs/rds.pem&schema=public",
        )
        .unwrap();
        assert_eq!(t.host, "db.example.com");
        assert_eq!(t.port, 6543);
        assert_eq!(t.dbname, "shop");
        assert_eq!(t.user, "app");
        assert_eq!(t.password.as_deref(), Some("p@ss"));
        assert_eq!(t.sslmode, SslMode::VerifyFull);
        assert_eq!(t.sslrootcert.as_deref(), Some("/certs/rds.pem"));
        assert_eq!(t.to_string(), "db.example.com:6543/shop");
        assert!(!format!("{t:?}").contains("p@ss"));
    }

    #[test]
    fn defaults_and_variants() {
        let t = ProbeTarget::parse_url("postgresql://u@h").unwrap();
        assert_eq!(
            (t.port, t.dbname.as_str(), t.sslmode),
            (5432, "u", SslMode::Prefer)
        );
        let t = ProbeTarget::parse_url("jdbc:postgresql://u@[::1]:5433/d?ssl=true").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.sslmode),
            ("::1", 5433, SslMode::VerifyFull)
        );
        let nv = ProbeTarget::parse_url("postgres://u@h/d?sslmode=no-verify").unwrap();
        assert_eq!(nv.sslmode, SslMode::NoVerify);
        assert!(nv.sslmode.requires_tls() && !nv.sslmode.verifies());
        assert_eq!(t.to_string(), "[::1]:5433/d");
        let t = ProbeTarget::parse_url("postgres://u@name.test/d?hostaddr=127.0.0.1").unwrap();
        assert_eq!(t.hostaddr, Some("127.0.0.1".parse().unwrap()));
        let t = ProbeTarget::parse_url("postgres://u:<redacted:0123abcd4567>@h/d").unwrap();
        assert_eq!(t.password.as_deref(), Some("<redacted:0123abcd4567>"));
    }

    #[test]
    fn rejects_unusable_urls() {
        for bad in [
            "mysql://u@h/d",
            "h:5432",
            "postgres://h/d",
            "postgres://u@/d",
            "postgres://u@h:99999/d",
            "postgres://u@h/d?sslmode=sometimes",
            "postgres://u:secret@h/d?hostaddr=nope",
        ] {
            let e = ProbeTarget::parse_url(bad).unwrap_err();
            assert!(!e.0.contains("secret"), "{e}");
        }
    }

    #[test]
    fn unescaped_password_characters_are_refused_without_echo() {
        for bad in [
            "postgres://u:zqx?wvk@h/d",
            "postgres://u:zqx#wvk@h/d",
            "postgres://u:zqx/wvk@h/d",
            "postgres://u:1234/5678@h/d",
            "postgres://u:9999?8888@h:5432/d",
            "postgres://u:zqx@wvk/1234@h/d",
            "postgres://u:zqx@wvk?1234@h/d",
            "postgres://u:zqx@wvk#1234@h/d",
            "postgres://h/d?user=u&zqx@wvk",
        ] {
            let e = ProbeTarget::parse_url(bad).unwrap_err();
            for fragment in ["zqx", "wvk", "1234", "5678", "9999", "8888"] {
                assert!(!e.0.contains(fragment), "{bad}: {e}");
            }
            assert!(e.0.contains("percent-encoded"), "{bad}: {e}");
        }
        // An `@` that belongs to the path or query is no such case.
        let t = ProbeTarget::parse_url("postgres://u:p@h:5432/d?application_name=a@b").unwrap();
        assert_eq!((t.host.as_str(), t.password.as_deref()), ("h", Some("p")));
        let t = ProbeTarget::parse_url("postgres://h/d?user=u&password=a@b").unwrap();
        assert_eq!((t.user.as_str(), t.password.as_deref()), ("u", Some("a@b")));
        // Encoded, the same passwords parse.
        let t = ProbeTarget::parse_url("postgres://u:se%3Fc%2Fr%23et@h/d").unwrap();
        assert_eq!(t.password.as_deref(), Some("se?c/r#et"));
    }

    #[test]
    fn sslmode_explicit_only_when_stated() {
        assert!(
            !ProbeTarget::parse_url("postgres://u@h/d")
                .unwrap()
                .sslmode_explicit
        );
        assert!(
            ProbeTarget::parse_url("postgres://u@h/d?sslmode=prefer")
                .unwrap()
                .sslmode_explicit
        );
        assert!(
            ProbeTarget::parse_url("postgres://u@h/d?ssl=true")
                .unwrap()
                .sslmode_explicit
        );
    }
}
