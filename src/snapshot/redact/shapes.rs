//! The secret shapes that free text is searched for, as one table. Each shape is a regex
//! whose capture group holds the secret, plus an optional check on the match when the
//! regex alone would also catch ordinary words. A `RegexSet` over all of them decides in
//! one pass which shapes can apply, so a line holding no secret costs one scan.
//! docs/redaction.md lists the same shapes for users; keep the two together.

use regex::{Captures, Regex, RegexSet};
use std::sync::LazyLock;

/// One secret shape.
pub(super) struct Shape {
    /// What the shape is, for docs and tests.
    pub name: &'static str,
    pub re: Regex,
    /// Capture groups that may hold the secret; the first one that took part is replaced.
    pub groups: &'static [usize],
    /// Extra test on the whole match; `false` leaves the text as it is.
    pub check: Option<fn(&Captures) -> bool>,
}

/// Names (of variables, keys and flags) whose values are secrets.
pub(super) static SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(PASSWORD|PASSWD|PASSPHRASE|(^|_)PWD($|_)|(^|_)PASS($|_)|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|(^|_)KEY$|JWT_?(KEY|SECRET)|CREDENTIAL|SIGNING_?KEY|(^|_)SALT($|_)|(^|_)DSN$|_AUTH$|COOKIE_?(SECRET|KEY)|SESSION_?(KEY|SECRET)|ENCRYPTION_?KEY)")
        .expect("static regex")
});

/// Names that contain a secret-ish word but hold locations or settings, not secrets.
pub(super) static NOT_SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)_(URL|URI|HOST|HOSTNAME|PORT|USER|USERNAME|ENABLED|REGION|FILE|PATH|EXPIRY|EXP|TTL|ALG|ALGORITHM|ARN|ID|LENGTH|HEADER|ISSUER|AUDIENCE|AUD|ROLES|ROLE|GROUP_NAME|NAME|VERSION|TYPE|MODE)$")
        .expect("static regex")
});

/// True when a variable's, key's or flag's name says its value is a secret.
pub fn is_secret_name(name: &str) -> bool {
    let name = name.trim_start_matches('-').replace(['-', '.'], "_");
    SECRET_NAME.is_match(&name) && !NOT_SECRET_NAME.is_match(&name)
}

fn has_classes(s: &str) -> (bool, bool, bool) {
    (
        s.bytes().any(|b| b.is_ascii_uppercase()),
        s.bytes().any(|b| b.is_ascii_lowercase()),
        s.bytes().any(|b| b.is_ascii_digit()),
    )
}

/// A 40-character run is an AWS secret access key only when it mixes cases and digits
/// (a git SHA is lowercase hex).
fn aws_secret_check(c: &Captures) -> bool {
    let (u, l, d) = has_classes(&c[1]);
    u && l && d
}

/// `Basic`/`Bearer` followed by a token, not by a word ("basic authentication").
fn auth_scheme_check(c: &Captures) -> bool {
    token_like(&c[1])
}

/// `scheme://host:8080/path?to=a@b` is a port and a path, not `user:password@`.
fn url_check(c: &Captures) -> bool {
    let pw = &c[1];
    let head = pw.split(['/', '?', '#']).next().unwrap_or("");
    let is_port = !head.is_empty() && head.bytes().all(|b| b.is_ascii_digit());
    !(is_port && pw.len() > head.len())
}

/// `key=value` where the key names a secret and the value is not an ARN or a reference.
/// A bare value after a colon needs a space first (`password: x`): `api-auth:3` is a
/// task-definition revision, not a credential.
fn key_value_check(c: &Captures) -> bool {
    let value = (3..=5).find_map(|g| c.get(g)).map_or("", |m| m.as_str());
    let bare_after_colon = c[2].contains(':') && c.get(5).is_some();
    // After a colon, a bare word is prose ("secrets: probe it", "token: expired"); a
    // value with digits, inner capitals or symbols is a credential ("password: hunter2").
    let prose = bare_after_colon && (c[2].ends_with(':') || !token_like(value));
    is_secret_name(&c[1]) && !prose && !value.starts_with("arn:") && !is_placeholder(value)
}

/// Digits, a capital after the first letter, or symbols: not a plain word.
fn token_like(v: &str) -> bool {
    let (_, _, digit) = has_classes(v);
    digit
        || v.bytes().skip(1).any(|b| b.is_ascii_uppercase())
        || v.bytes().any(|b| !b.is_ascii_alphabetic())
}

/// `...`, `***`, `$DB_PASS`, `${SECRET}`: a reference or an elision, not a value.
fn is_placeholder(v: &str) -> bool {
    v.starts_with('$') || v.chars().all(|c| matches!(c, '.' | '*' | '…' | 'x' | 'X'))
}

/// The built-in shapes, in the order they are applied.
pub(super) static SHAPES: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    let s = |name, re: &str, groups, check| Shape {
        name,
        re: Regex::new(re).expect("static regex"),
        groups,
        check,
    };
    vec![
        s(
            "PEM private key body (to its END line, or to the end of the text)",
            r"(?s)-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(.+?)(?:-----END|\z)",
            &[1],
            None,
        ),
        s(
            "JSON Web Token",
            r"\b(eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)",
            &[1],
            None,
        ),
        s(
            "provider token (GitHub, GitLab, Slack, Stripe, Google, npm, SendGrid, OpenAI, Anthropic, Hugging Face)",
            r"\b((?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposre]-[A-Za-z0-9-]{10,}|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{30,}))",
            &[1],
            None,
        ),
        s(
            "webhook URL path (Slack, Discord)",
            r"(?i)(?:hooks\.slack\.com/(?:services|workflows|triggers)/|discord(?:app)?\.com/api/webhooks/)([A-Za-z0-9/_-]+)",
            &[1],
            None,
        ),
        s(
            "AWS access key id",
            r"\b((?:AKIA|ASIA|AROA|AIDA|AGPA|ANPA|ANVA|AIPA|APKA|ABIA|ACCA)[A-Z0-9]{16})\b",
            &[1],
            None,
        ),
        s(
            "AWS secret access key (40 characters of mixed case and digits)",
            r"(?:^|[^A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])",
            &[1],
            Some(aws_secret_check),
        ),
        s(
            "password in a URL (user:PASSWORD@host, up to the last @ before the host)",
            r#"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/@"'<>]*:([^\s"']*)@(?:[a-z0-9_.-]+|\[[0-9a-f:.]+\])(?::\d+)?(?:[/?#\s"',;)\]}>]|$)"#,
            &[1],
            Some(url_check),
        ),
        s(
            "Authorization header",
            r#"(?i)\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest|bot|apikey)\s+)?([^\s"',;]+)"#,
            &[1],
            None,
        ),
        s(
            "Bearer or Basic credentials",
            r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})",
            &[1],
            Some(auth_scheme_check),
        ),
        s(
            "presigned-URL signature or session token",
            r"(?i)[?&](?:X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential|Signature|sig)=([^&\s<]+)",
            &[1],
            None,
        ),
        s(
            "credential in a query string",
            r"(?i)[?&](?:token|access_token|id_token|refresh_token|auth_token|api[_-]?key|apikey|key|secret|client_secret|password|passwd|pwd|auth)=([^&\s#<]+)",
            &[1],
            None,
        ),
        s(
            "credential flag on a command line (--password X, --token=X, -storepass X)",
            r#"(?i)(?:^|[\s"'])--?[a-z-]*(?:password|passwd|pass|pwd|token|secret|api-?key|access-key|private-key|credentials?)(?:=|\s+)["']?([^\s"'-][^\s"']*)"#,
            &[1],
            None,
        ),
        s(
            "MySQL password flag (mysql -pSECRET)",
            r#"\b(?:mysql|mysqldump|mysqladmin|mysqlsh|mariadb)\b[^\n]*?\s-p["']?([^\s"']+)"#,
            &[1],
            None,
        ),
        s(
            "KEY=value or \"key\": \"value\" with a secret-like key (PGPASSWORD=..., DB_PASS: ...)",
            r#"(?i)\b([A-Za-z0-9_.-]*(?:password|passwd|passphrase|pwd|pass|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|salt|dsn|auth|key)[A-Za-z0-9_.-]*)["']?(\s*[=:]\s*)(?:"([^"\n]*)"|'([^'\n]*)'|([^\s"'&,;<>{}][^\s"'&,;}]*))"#,
            &[3, 4, 5],
            Some(key_value_check),
        ),
    ]
});

/// One pass over a text tells which shapes can match it.
pub(super) static SET: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new(SHAPES.iter().map(|s| s.re.as_str())).expect("static regex set")
});
