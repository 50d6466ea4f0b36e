//! Redaction. Secret values are replaced by a stable fingerprint (`<redacted:0123abcd4567>`,
//! the first 12 hex digits of their SHA-256) as soon as a snapshot is built or loaded,
//! so nothing downstream can print them, while "the same secret is used in N places"
//! stays detectable. Covered: env values whose names look secret, passwords inside
//! connection URLs, JWTs, AWS access keys, `key=value` secrets in free text and
//! presigned-URL signatures.

use super::Snapshot;
use regex::{Captures, Regex};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::sync::LazyLock;

/// The marker every redacted value starts with.
pub const MARKER: &str = "<redacted:";

/// Stable fingerprint of a secret value.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{MARKER}{hex}>")
}

static SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(PASSWORD|PASSWD|PASSPHRASE|(^|_)PWD($|_)|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|(^|_)KEY$|JWT_?(KEY|SECRET)|CREDENTIAL|SIGNING_?KEY|(^|_)SALT($|_)|(^|_)DSN$|COOKIE_?(SECRET|KEY)|SESSION_?(KEY|SECRET)|ENCRYPTION_?KEY)")
        .expect("static regex")
});

/// Names that contain a secret-ish word but hold locations or settings, not secrets.
static NOT_SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)_(URL|URI|HOST|HOSTNAME|PORT|USER|USERNAME|ENABLED|REGION|FILE|PATH|EXPIRY|EXP|TTL|ALG|ALGORITHM|ARN|ID|LENGTH|HEADER|ISSUER|AUDIENCE|AUD|ROLES|ROLE|GROUP_NAME|NAME|VERSION|TYPE|MODE)$")
        .expect("static regex")
});

/// True when an environment variable's name says its value is a secret.
pub fn is_secret_name(name: &str) -> bool {
    SECRET_NAME.is_match(name) && !NOT_SECRET_NAME.is_match(name)
}

struct Pattern {
    re: Regex,
    /// Index of the capture group holding the secret.
    group: usize,
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    let p = |re: &str, group| Pattern {
        re: Regex::new(re).expect("static regex"),
        group,
    };
    vec![
        // JWTs (header.payload.signature, header and payload base64url JSON).
        p(
            r"\b(eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)",
            1,
        ),
        // AWS access key ids.
        p(r"\b((?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16})\b", 1),
        // Passwords in connection URLs: scheme://user:PASSWORD@host. The password runs to
        // the `@` that is followed by a host (and port) and the end of the authority, so
        // unencoded `@` and `/` inside it are covered.
        p(
            r"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/@]*:([^\s]*?)@(?:[a-z0-9_.-]+|\[[0-9a-f:.]+\])(?::\d+)?(?:[/?#\s\x22',;)]|$)",
            1,
        ),
        // Presigned-URL signatures and tokens.
        p(
            r"(?i)[?&](?:X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential|Signature|sig)=([^&\s<]+)",
            1,
        ),
        // Credentials in query strings: ?token=..., &api_key=...
        p(
            r"(?i)[?&](?:token|access_token|id_token|refresh_token|auth_token|api[_-]?key|apikey|key|secret|client_secret|password|passwd|pwd|auth)=([^&\s#<]+)",
            1,
        ),
        // key=value / "key": "value" secrets in free text.
        p(
            r#"(?i)\b(?:password|passwd|pwd|secret|client_secret|api[_-]?key|access[_-]?token|auth[_-]?token|aws_secret_access_key|private[_-]?key)["']?\s*[=:]\s*["']?([^\s"'&,;<>}{][^\s"'&,;}]*)"#,
            1,
        ),
    ]
});

/// Redacts secrets inside free text.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let mut out: Cow<str> = Cow::Borrowed(text);
    for pat in PATTERNS.iter() {
        if !pat.re.is_match(&out) {
            continue;
        }
        let replaced = pat
            .re
            .replace_all(&out, |c: &Captures| {
                let whole = c.get(0).expect("match");
                let secret = c.get(pat.group).expect("group");
                if secret.as_str().starts_with(MARKER) {
                    return whole.as_str().to_string();
                }
                let start = secret.start() - whole.start();
                let end = secret.end() - whole.start();
                let w = whole.as_str();
                format!(
                    "{}{}{}",
                    &w[..start],
                    fingerprint(secret.as_str()),
                    &w[end..]
                )
            })
            .into_owned();
        out = Cow::Owned(replaced);
    }
    out
}

static USERINFO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"://([^\s:/@<>]+)@").expect("static regex"));

/// Redacts one environment value, by name and by shape.
pub fn redact_env_value(name: &str, value: &str) -> String {
    if value.is_empty() || value.starts_with(MARKER) {
        return value.to_string();
    }
    if is_secret_name(name) && !value.contains("://") {
        return fingerprint(value);
    }
    let text = redact_text(value).into_owned();
    if is_secret_name(name) {
        // A secret carried as the URL's user name (Sentry DSNs: https://KEY@host/1).
        return USERINFO
            .replace_all(&text, |c: &Captures| {
                let user = &c[1];
                if user.starts_with(MARKER) {
                    c[0].to_string()
                } else {
                    format!("://{}@", fingerprint(user))
                }
            })
            .into_owned();
    }
    text
}

fn fix(s: &mut String) {
    if let Cow::Owned(o) = redact_text(s) {
        *s = o;
    }
}

fn fix_opt(s: &mut Option<String>) {
    if let Some(s) = s {
        fix(s);
    }
}

/// Redacts every free-text and env field of a snapshot in place. Idempotent.
pub fn redact_snapshot(snap: &mut Snapshot) {
    for svc in &mut snap.services {
        for ev in &mut svc.events {
            fix(&mut ev.message);
        }
        for d in &mut svc.deployments {
            fix_opt(&mut d.rollout_state_reason);
        }
    }
    for task in &mut snap.tasks {
        fix_opt(&mut task.stopped_reason);
        for c in &mut task.containers {
            fix_opt(&mut c.reason);
        }
    }
    for td in &mut snap.task_definitions {
        for c in &mut td.containers {
            for env in &mut c.environment {
                env.value = redact_env_value(&env.name, &env.value);
            }
            for arg in c.command.iter_mut().chain(c.entry_point.iter_mut()) {
                fix(arg);
            }
            if let Some(hc) = &mut c.health_check {
                for arg in &mut hc.command {
                    fix(arg);
                }
            }
            if let Some(lc) = &mut c.log_configuration {
                for (k, v) in lc.options.iter_mut() {
                    *v = redact_env_value(k, v);
                }
            }
        }
    }
    for line in &mut snap.logs {
        fix(&mut line.message);
    }
    for th in &mut snap.target_health {
        fix_opt(&mut th.description);
    }
    for p in &mut snap.db_probes {
        fix(&mut p.target);
        for s in &mut p.stages {
            fix_opt(&mut s.detail);
        }
    }
    for e in &mut snap.collect_errors {
        fix(&mut e.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_password_is_fingerprinted_and_host_kept() {
        let out = redact_text("postgres://supabase:d5-Zm>zWS@db.example.com:5432/app");
        assert!(!out.contains("d5-Zm"), "{out}");
        assert!(out.contains("@db.example.com:5432/app"), "{out}");
        assert!(out.contains(MARKER));
    }

    #[test]
    fn urls_with_awkward_credentials_are_redacted() {
        for (name, value, secret) in [
            (
                "DATABASE_URL",
                "postgres://app:Zq9@LEAKONE@10.0.0.5:5432/app",
                "LEAKONE",
            ),
            ("AMQP_URL", "amqp://guest:LEAK/FIVE@10.0.0.9:5672", "FIVE"),
            (
                "CALLBACK_URL",
                "http://10.0.0.8/cb?token=LEAKTWO",
                "LEAKTWO",
            ),
            (
                "API_URL",
                "https://x.example/v1?a=1&api_key=LEAKSIX#top",
                "LEAKSIX",
            ),
            ("SENTRY_DSN", "https://LEAKTHREE@10.1.2.3/42", "LEAKTHREE"),
        ] {
            let out = redact_env_value(name, value);
            assert!(!out.contains(secret), "{name}: {out}");
            assert!(out.contains(MARKER), "{name}: {out}");
        }
        // Hosts stay, so facts can still name the endpoint.
        let out = redact_env_value(
            "DATABASE_URL",
            "postgres://app:Zq9@LEAKONE@db.internal:5432/app",
        );
        assert!(out.ends_with("@db.internal:5432/app"), "{out}");
        // Plain URLs are untouched.
        for v in [
            "http://10.0.100.6:8080",
            "https://api.example.com/v1?page=2",
            "http://host:8080/a/b",
        ] {
            assert_eq!(redact_env_value("UPSTREAM_URL", v), v);
        }
    }

    #[test]
    fn same_secret_same_fingerprint() {
        assert_eq!(
            redact_env_value("JWT_SECRET", "abc"),
            redact_env_value("GOTRUE_JWT_SECRET", "abc")
        );
        assert_ne!(
            redact_env_value("JWT_SECRET", "abc"),
            redact_env_value("JWT_SECRET", "abd")
        );
    }

    #[test]
    fn redaction_is_idempotent() {
        let once = redact_text(
            "password=hunter2 token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig AKIAABCDEFGHIJKLMNOP",
        );
        let twice = redact_text(&once).into_owned();
        assert_eq!(once, twice);
        assert!(
            !once.contains("hunter2") && !once.contains("AKIAABCD") && !once.contains("eyJzdWIi")
        );
    }

    #[test]
    fn log_wording_about_passwords_is_not_mangled() {
        let line = "FATAL: password authentication failed for user \"app\"";
        assert_eq!(redact_text(line), line);
    }

    #[test]
    fn location_names_are_not_secret() {
        assert!(!is_secret_name("SUPABASE_AUTH_URL"));
        assert!(is_secret_name("SERVICE_ROLE_KEY"));
        assert!(is_secret_name("PG_META_DB_PASSWORD"));
        assert!(!is_secret_name("PG_META_DB_HOST"));
    }
}
