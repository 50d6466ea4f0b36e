//! The secret shapes that free text is searched for, as one table. Each shape is a regex
//! whose capture group holds the secret, plus an optional check on the match (in
//! [`checks`](super::checks)) when the regex alone would also catch ordinary words. A
//! literal gate ([`GATE`]) first rules out the text that none of them can match (most log
//! lines), then a `RegexSet` over all of them decides in one pass which shapes apply. docs/redaction.md lists the same shapes for users;
//! keep the two together.

use super::checks::{
    auth_scheme_check, authorization_check, aws_secret_check, key_value_check, named_value_check,
    url_check,
};
use aho_corasick::AhoCorasick;
use regex::{Captures, Regex, RegexSet};
use std::sync::LazyLock;

/// One secret shape.
pub(super) struct Shape {
    /// What the shape is (docs/redaction.md says it for users; tests check that every
    /// shape is exercised; only they read it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub name: &'static str,
    pub re: Regex,
    /// Capture groups that may hold the secret; the first one that took part is replaced.
    pub groups: &'static [usize],
    /// Extra test on the whole match; `false` leaves the text as it is.
    pub check: Option<fn(&Captures) -> bool>,
    /// For a shape without literals ([`GATE`]), a cheap test every text it can match
    /// passes; without one, the regex itself runs on every text.
    pub hint: Option<fn(&str) -> bool>,
}

/// Key names the key-value shapes look for (the check then asks `is_secret_name`).
const KEY: &str = r"[A-Za-z0-9_.-]*(?:password|passwd|passphrase|pwd|pw|pass|secret|token|api[_-]?key|apikey|access[_-]?key|accountkey|sharedaccesskey|private[_-]?key|credential|creds|salt|dsn|auth|key)[A-Za-z0-9_.-]*";

/// The built-in shapes, in the order they are applied.
pub(super) static SHAPES: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    let s = |name, re: &str, groups, check| Shape {
        name,
        re: Regex::new(re).expect("static regex"),
        groups,
        check,
        hint: None,
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
            "provider token (GitHub, GitLab, Slack, Stripe, Google, npm, SendGrid, OpenAI, Anthropic, Hugging Face, Vault, DigitalOcean, Grafana, Shopify, PyPI, Atlassian, age)",
            r"\b((?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposre]-[A-Za-z0-9-]{10,}|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{30,}|hv[sb]\.[A-Za-z0-9_-]{20,}|dop_v1_[a-f0-9]{40,}|glsa_[A-Za-z0-9_]{20,}|shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}|pypi-[A-Za-z0-9_-]{30,}|ATATT[A-Za-z0-9_=-]{20,}|AGE-SECRET-KEY-[A-Z0-9]{20,}))",
            &[1],
            None,
        ),
        s(
            "webhook or bot URL path (Slack, Discord, Telegram)",
            r"(?i)(?:hooks\.slack\.com/(?:services|workflows|triggers)/|discord(?:app)?\.com/api/webhooks/|api\.telegram\.org/bot)([A-Za-z0-9/_:-]+)",
            &[1],
            None,
        ),
        s(
            "AWS access key id",
            r"\b((?:AKIA|ASIA|AROA|AIDA|AGPA|ANPA|ANVA|AIPA|APKA|ABIA|ACCA)[A-Z0-9]{16})\b",
            &[1],
            None,
        ),
        Shape {
            hint: Some(has_key_run),
            ..s(
                "AWS secret access key (40 characters of mixed case and digits)",
                r"(?:^|[^A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])",
                &[1],
                Some(aws_secret_check),
            )
        },
        s(
            "password in a URL (user:PASSWORD@host, up to the last @ before the host)",
            r#"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/@"'<>]*:([^\s"']*)@(?:[a-z0-9_.-]+|\[[0-9a-f:.]+\])?(?::\d+)?(?:[/?#\s"',;)\]}>]|$)"#,
            &[1],
            Some(url_check),
        ),
        s(
            "Authorization header",
            r#"(?i)\b(?:proxy-)?authorization\\*["']?\s*[:=]\s*\\*["']?((?:bearer|basic|token|digest|bot|apikey)\s+)?([^\s"'<>]+)"#,
            &[2],
            Some(authorization_check),
        ),
        s(
            "Bearer or Basic credentials",
            r#"(?i)\b(?:bearer|basic)\s+([^\s"'<>]{6,})"#,
            &[1],
            Some(auth_scheme_check),
        ),
        s(
            "cookie header values",
            r#"(?i)\b(?:set-)?cookie\\*["']?\s*:\s*\\*["']?([^\s"'<>]+)"#,
            &[1],
            None,
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
            r#"(?i)(?:^|[\s"'])--?[a-z-]*(?:password|passwd|pass|pwd|token|secret|api-key|apikey|access-key|private-key|credentials?)(?:=|\s+)["']?([^\s"'-][^\s"']*)"#,
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
            "a name and its value given as a pair ({\"name\": \"DB_PASSWORD\", \"value\": ...}, <add key=... value=...>)",
            r#"(?i)\b(?:name|key)\\*["']?\s*[:=]\s*\\*["']?([A-Za-z0-9_.-]+)\\*["']?\s*,?\s*\\*["']?value\\*["']?\s*[:=]\s*\\*["']?([^"'\\,}\]\s]+)"#,
            &[2],
            Some(named_value_check),
        ),
        s(
            "XML element with a secret-like name (<password>...</password>)",
            r"(?i)<([A-Za-z0-9_.:-]*(?:password|passwd|secret|token|apikey|api_key|credential)[A-Za-z0-9_.:-]*)>([^<]+)</",
            &[2],
            Some(named_value_check),
        ),
        s(
            "KEY=value, KEY: value, \"key\": \"value\", key => value with a secret-like key (PGPASSWORD=..., DB_PASS: ..., Go's Password:...)",
            &format!(
                r#"(?i)(?:^|[^/\w.-])({KEY})\]?\\*["']?\]?(\s*(?:=>|[=:])\s*)(?:\\+"((?:[^"\\\n]|\\[^"])*)\\+"|"((?:[^"\\\n]|\\.)*)"|'([^'\n]*)'|([^\s"'<>,;)}}{{&]+(?:[,;&}}][^\s"'<>,;)}}{{&]+)*))"#
            ),
            &[3, 4, 5, 6],
            Some(key_value_check),
        ),
    ]
});

/// One pass over a text tells which shapes can match it.
pub(super) static SET: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new(SHAPES.iter().map(|s| s.re.as_str())).expect("static regex set")
});

/// Whether `text` has a run of 40 or more of the characters an AWS secret key is made
/// of: the AWS secret shape's [`Shape::hint`].
pub(super) fn has_key_run(text: &str) -> bool {
    const RUN: usize = 40;
    const KEY_CHARS: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            t[b] = c.is_ascii_alphanumeric() || c == b'/' || c == b'+';
            b += 1;
        }
        t
    };
    let key = |c: &u8| KEY_CHARS[*c as usize];
    let b = text.as_bytes();
    // A run of RUN key characters that starts at or after `from` covers `from + RUN - 1`,
    // so only every RUN-th byte is probed, and the run around a probe that hits is
    // measured; the next run can only start after that one ends.
    let mut probe = RUN - 1;
    while probe < b.len() {
        if !key(&b[probe]) {
            probe += RUN;
            continue;
        }
        let start = b[..probe]
            .iter()
            .rposition(|c| !key(c))
            .map_or(0, |p| p + 1);
        let end = b[probe..]
            .iter()
            .position(|c| !key(c))
            .map_or(b.len(), |p| probe + p);
        if end - start >= RUN {
            return true;
        }
        probe = end + RUN;
    }
    false
}

/// What every text passes before the shapes run: the literals (from
/// [`crate::literals::required`]) one of which occurs around every match of a shape,
/// in one ASCII-case-insensitive automaton, and the shapes that have no such literals,
/// which run on every text. A text it turns away cannot match any shape.
pub(super) struct Gate {
    lits: Option<AhoCorasick>,
    bare: Vec<(&'static str, Bare)>,
    /// Some literal was spelled without a `FOLD_EXOTIC` character it case-folds to.
    exotic: bool,
}

pub(super) static GATE: LazyLock<Gate> = LazyLock::new(|| {
    let mut lits = Vec::new();
    let mut bare = Vec::new();
    let mut exotic = false;
    for shape in SHAPES.iter() {
        let hir = regex_syntax::Parser::new().parse(shape.re.as_str());
        let required = |h: &regex_syntax::hir::Hir| crate::literals::required_min(h, 2);
        match hir.ok().as_ref().and_then(required) {
            Some((set, folded)) => {
                lits.extend(set);
                exotic |= folded;
            }
            None => bare.push((
                shape.name,
                match shape.hint {
                    Some(hint) => Bare::Hint(hint),
                    None => Bare::Regex(shape.re.clone()),
                },
            )),
        }
    }
    let lits = (!lits.is_empty()).then(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .prefilter(false)
            .build(&lits)
            .expect("literal automaton builds")
    });
    Gate { lits, bare, exotic }
});

impl Gate {
    /// False only when no shape can match `text`.
    pub(super) fn may_match(&self, text: &str) -> bool {
        if self.exotic && !text.is_ascii() && text.contains(crate::literals::FOLD_EXOTIC) {
            return true;
        }
        if self.bare.iter().any(|(_, b)| b.may_match(text)) {
            return true;
        }
        let Some(ac) = &self.lits else {
            return false;
        };
        // Literals carry line anchors as a line break before or after them.
        crate::literals::framed(text, |framed| ac.is_match(framed))
    }

    /// The shapes that run on every text (for tests).
    #[cfg(test)]
    pub(super) fn bare(&self) -> Vec<&'static str> {
        self.bare.iter().map(|(name, _)| *name).collect()
    }
}

/// How the gate tests a shape without literals.
enum Bare {
    Hint(fn(&str) -> bool),
    Regex(Regex),
}

impl Bare {
    fn may_match(&self, text: &str) -> bool {
        match self {
            Bare::Hint(hint) => hint(text),
            Bare::Regex(re) => re.is_match(text),
        }
    }
}
