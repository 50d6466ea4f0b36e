//! Redaction: the one place that decides what is secret. Secret values are replaced by a
//! stable fingerprint (`<redacted:0123abcd4567>`, the first 12 hex digits of their
//! SHA-256), so nothing downstream can print them while "the same secret is used in N
//! places" stays detectable. Three contexts, from loose to strict:
//! - free text (log lines, events, reasons, messages): the structural shapes of
//!   [`shapes`] only, because request ids and hashes are everywhere in logs;
//! - environment values: also by the variable's name, and any token-like value of high
//!   entropy whatever its name;
//! - command arrays: also the argument after a credential flag, and token-like arguments.
//!
//! [`walk`] applies them to every string of a snapshot, and [`Sealed`](super::Sealed) is
//! the only way a snapshot reaches analysis or output. docs/redaction.md says what this
//! catches and what it cannot.

mod checks;
mod shapes;
pub mod walk;

pub use checks::is_secret_name;

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

/// Redacts secrets inside free text.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    if !shapes::GATE.may_match(text) {
        return Cow::Borrowed(text);
    }
    let hits = shapes::SET.matches(text);
    if !hits.matched_any() {
        return Cow::Borrowed(text);
    }
    let mut out: Cow<str> = Cow::Borrowed(text);
    for i in hits.iter() {
        let shape = &shapes::SHAPES[i];
        let replaced = shape
            .re
            .replace_all(&out, |c: &Captures| replace_one(shape, c));
        if let Cow::Owned(o) = replaced {
            out = Cow::Owned(o);
        }
    }
    out
}

/// Names of the shapes that redact something in `text`, for tests.
#[cfg(test)]
fn shapes_hit(text: &str) -> Vec<&'static str> {
    shapes::SHAPES
        .iter()
        .filter(|s| {
            s.re.captures_iter(text)
                .any(|c| replace_one(s, &c) != c.get(0).map_or("", |m| m.as_str()))
        })
        .map(|s| s.name)
        .collect()
}

fn replace_one(shape: &shapes::Shape, c: &Captures) -> String {
    let whole = c.get(0).expect("match");
    let secret = shape.groups.iter().find_map(|&g| c.get(g));
    let keep = || whole.as_str().to_string();
    let Some(secret) = secret else { return keep() };
    if secret.as_str().is_empty()
        || secret.as_str().starts_with(MARKER)
        || shape.check.is_some_and(|f| !f(c))
    {
        return keep();
    }
    let w = whole.as_str();
    let (start, end) = (secret.start() - whole.start(), secret.end() - whole.start());
    format!(
        "{}{}{}",
        &w[..start],
        fingerprint(secret.as_str()),
        &w[end..]
    )
}

static USERINFO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"://([^\s:/@<>]+)@").expect("static regex"));

/// True for a value that looks like a generated credential: long, one "word" of token
/// characters, mixing character classes, with high entropy. Paths, host names, URLs,
/// ARNs, numbers and AWS resource ids are not.
pub fn looks_like_token(v: &str) -> bool {
    if v.len() < 20 || v.len() > 4096 || v.starts_with('/') || v.starts_with("arn:") {
        return false;
    }
    if !v
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=_-".contains(&b))
    {
        return false;
    }
    static RESOURCE_ID: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[a-z]+(-[a-z]+)*-[0-9a-f]{8,17}$").expect("static regex"));
    if RESOURCE_ID.is_match(v) {
        return false;
    }
    let classes = [
        v.bytes().any(|b| b.is_ascii_uppercase()),
        v.bytes().any(|b| b.is_ascii_lowercase()),
        v.bytes().any(|b| b.is_ascii_digit()),
    ];
    classes.iter().filter(|c| **c).count() >= 2 && entropy(v) >= 3.5
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Redacts one environment value, by name, by shape and by entropy.
pub fn redact_env_value(name: &str, value: &str) -> String {
    if value.is_empty() || value.starts_with(MARKER) {
        return value.to_string();
    }
    // Under a secret name every value is secret, except what plainly is not one: a URL
    // (its password is redacted below), an ARN, a key alias, a path, a reference, a
    // public key.
    let public = value.starts_with("-----BEGIN PUBLIC KEY") || value.starts_with("ssh-");
    if is_secret_name(name) && !value.contains("://") && !checks::is_not_a_value(value) && !public {
        return fingerprint(value);
    }
    let text = redact_text(value);
    if matches!(text, Cow::Borrowed(_)) && looks_like_token(value) {
        return fingerprint(value);
    }
    let text = text.into_owned();
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

/// True for a flag whose next argument is a secret: `--password`, `-storepass`, `--token`.
fn is_credential_flag(arg: &str) -> bool {
    static FLAG: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^--?[a-z-]*(password|passwd|pass|pwd|token|secret|api-?key|access-key|private-key|credentials?)$")
            .expect("static regex")
    });
    FLAG.is_match(arg)
}

/// Redacts a command array (`command`, `entryPoint`, a health check) in place: each
/// argument as text, the argument after a credential flag, `-pSECRET` for MySQL
/// clients, and token-like arguments.
pub fn redact_argv(argv: &mut [String]) {
    let mysql = argv.iter().any(|a| {
        let base = a.rsplit('/').next().unwrap_or(a);
        base.starts_with("mysql") || base.starts_with("mariadb")
    });
    let mut secret_next = false;
    for arg in argv.iter_mut() {
        if arg.starts_with(MARKER) {
            secret_next = false;
            continue;
        }
        if secret_next && !arg.starts_with('-') {
            *arg = fingerprint(arg);
            secret_next = false;
            continue;
        }
        secret_next = is_credential_flag(arg);
        if mysql && arg.len() > 2 && arg.starts_with("-p") && !arg.starts_with("-p=") {
            *arg = format!("-p{}", fingerprint(&arg[2..]));
            continue;
        }
        match redact_text(arg) {
            Cow::Owned(o) => *arg = o,
            Cow::Borrowed(_) if looks_like_token(arg) => *arg = fingerprint(arg),
            Cow::Borrowed(_) => {}
        }
    }
}

/// Redacts an error message before it is printed: the same shapes as free text.
pub fn redact_message(message: &str) -> String {
    redact_text(message).into_owned()
}

/// An error as the binary and the MCP server report it: redacted, on one line.
pub fn error_line(message: &str) -> String {
    crate::error::join_lines(&redact_text(message))
}

#[cfg(test)]
mod tests;
