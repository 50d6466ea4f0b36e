//! The judgements behind the shapes: which names are secret, and when a match is a
//! credential rather than prose, a count, a path or a reference. Kept apart from the
//! shape table so each can be read in one sitting.

use regex::{Captures, Regex};
use std::sync::LazyLock;

/// Names (of variables, keys and flags) whose values are secrets.
static SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(PASSWORD|PASSWD|PASSPHRASE|_PWD($|_)|^PWD_|(^|_)PW($|_)|(^|_)PASS($|_)|PGPASS|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|ACCOUNT_?KEY|SHARED_?ACCESS_?KEY|(^|_)KEY$|JWT_?(KEY|SECRET)|CREDENTIAL|CREDS|SIGNING_?KEY|(^|_)SALT($|_)|(^|_)DSN$|(^|_)AUTH$|AUTH_?CONFIG|COOKIE_?(SECRET|KEY)|SESSION_?(KEY|SECRET)|ENCRYPTION_?KEY)")
        .expect("static regex")
});

/// Names that contain a secret-ish word but hold locations, settings, counts or public
/// material, not secrets.
static NOT_SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(_(URL|URI|HOST|HOSTNAME|PORT|USER|USERNAME|ENABLED|REGION|FILE|PATH|EXPIRY|EXP|TTL|ALG|ALGORITHM|ARN|ID|LENGTH|HEADER|ISSUER|AUDIENCE|AUD|ROLES|ROLE|GROUP_NAME|NAME|VERSION|TYPE|MODE|LIMIT|COUNT|SIZE|TIMEOUT|EXPIRES_IN|EXPIRES|PREFIX|ENDPOINT)$|(^|_)MAX_|PUBLIC|PUBLISHABLE|(^|_)(PRIMARY|PARTITION|SORT|CACHE|S3|OBJECT)_KEY$)")
        .expect("static regex")
});

/// True when a variable's, key's or flag's name says its value is a secret.
pub fn is_secret_name(name: &str) -> bool {
    // Called for every keyed string of a snapshot: allocate only when there is something
    // to spell with underscores.
    let name = name.trim_start_matches('-');
    let name: std::borrow::Cow<str> = if name.contains(['-', '.']) {
        name.replace(['-', '.'], "_").into()
    } else {
        name.into()
    };
    SECRET_NAME.is_match(&name) && !NOT_SECRET_NAME.is_match(&name)
}

/// A name that is unmistakably a credential, so that `Password:x` with no space (Go's
/// `%+v`) counts; `api-auth:3` and `cache-key:1` (revisions, ids) do not.
fn is_strong_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace(['-', '.'], "_");
    [
        "password", "passwd", "pwd", "secret", "token", "apikey", "api_key",
    ]
    .iter()
    .any(|w| n.ends_with(w))
        && is_secret_name(name)
}

fn has_classes(s: &str) -> (bool, bool, bool) {
    (
        s.bytes().any(|b| b.is_ascii_uppercase()),
        s.bytes().any(|b| b.is_ascii_lowercase()),
        s.bytes().any(|b| b.is_ascii_digit()),
    )
}

/// Digits, a capital after the first letter, or symbols: not a plain word.
pub fn token_like(v: &str) -> bool {
    let (_, _, digit) = has_classes(v);
    digit
        || v.bytes().skip(1).any(|b| b.is_ascii_uppercase())
        || v.bytes().any(|b| !b.is_ascii_alphabetic())
}

/// A value that is not a secret whatever its key says: a reference (`$DB_PASS`), an
/// elision (`...`, `***`), a yes/no answer (MySQL's `using password: NO`), an ARN, a
/// key alias or an absolute path.
pub fn is_not_a_value(v: &str) -> bool {
    const WORDS: [&str; 12] = [
        "yes",
        "no",
        "true",
        "false",
        "null",
        "none",
        "nil",
        "undefined",
        "[filtered]",
        "<masked>",
        "[redacted]",
        "empty",
    ];
    v.starts_with('$')
        || v.chars().all(|c| matches!(c, '.' | '*' | '…' | 'x' | 'X'))
        || WORDS.iter().any(|w| v.eq_ignore_ascii_case(w))
        || v.starts_with("arn:")
        || v.starts_with("alias/")
        || (v.starts_with('/') && !v.contains(char::is_whitespace))
}

/// A 40-character run is an AWS secret access key only when it mixes cases and digits
/// (a git SHA is lowercase hex).
pub fn aws_secret_check(c: &Captures) -> bool {
    let (u, l, d) = has_classes(&c[1]);
    u && l && d
}

/// `Basic`/`Bearer` followed by a token, not by a word ("basic authentication").
pub fn auth_scheme_check(c: &Captures) -> bool {
    token_like(&c[1])
}

/// An `Authorization` value: with a scheme it is a credential; without one it must look
/// like a token ("may require authorization: server message" is prose).
pub fn authorization_check(c: &Captures) -> bool {
    c.get(1).is_some() || token_like(&c[2])
}

/// `scheme://host:8080/path?to=a@b` is a port and a path, not `user:password@`.
pub fn url_check(c: &Captures) -> bool {
    let pw = &c[1];
    let head = pw.split(['/', '?', '#']).next().unwrap_or("");
    let is_port = !head.is_empty() && head.bytes().all(|b| b.is_ascii_digit());
    !(is_port && pw.len() > head.len())
}

/// `KEY=value`, `"key": "value"`, `key => value`: the key names a secret and the value
/// is one. After `=` (shell, env dumps, DSNs) any value counts; after a colon a bare word
/// is prose ("secrets: probe it"), a short number is a count ("api_key: 12 characters"),
/// and with no space only a plain credential name counts (`Password:x`, not `api-auth:3`).
pub fn key_value_check(c: &Captures) -> bool {
    let key = &c[1];
    let sep = &c[2];
    let Some(value) = (3..=6).find_map(|g| c.get(g)).map(|m| m.as_str()) else {
        return false;
    };
    // In free text a bare `key`, `pass` or `auth` is too common a word ("redis key=x",
    // "pass: 3/5"); as a variable name it is judged by the env context instead.
    let plain = !["key", "pass", "auth"].contains(&key.to_ascii_lowercase().as_str());
    if !plain || !is_secret_name(key) || is_not_a_value(value) {
        return false;
    }
    let bare = c.get(6).is_some();
    if !bare || sep.contains('=') {
        return true;
    }
    let short_number = value.len() <= 4 && value.bytes().all(|b| b.is_ascii_digit());
    if short_number || !token_like(value) {
        return false;
    }
    let tight = !sep.ends_with(char::is_whitespace);
    !tight || is_strong_secret_name(key) && !value.bytes().all(|b| b.is_ascii_digit())
}

/// A name and its value given as a pair (`{"name":"DB_PASSWORD","value":"x"}`, .NET's
/// `<add key="DbPassword" value="x"/>`, `<password>x</password>`).
pub fn named_value_check(c: &Captures) -> bool {
    is_secret_name(&c[1]) && !is_not_a_value(&c[2])
}
