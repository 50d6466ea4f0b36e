//! A rule's regex, parsed when the rule loads (so a bad one is an error with its
//! position then, and its capture names are known) and compiled the first time a record
//! is tested against it. Commands that test few or no records (`rules explain`,
//! `--version`, `lint` of a small folder, `scan` of a short paste) then do not pay for
//! compiling the whole pack, and `doctor` compiles only the patterns of sources present
//! and of log lines the prefilter lets through.

use regex::Regex;
use regex_syntax::hir::{Hir, HirKind};
use std::sync::{Arc, OnceLock};

/// A lazily compiled regex. Clones share the compiled program.
#[derive(Clone)]
pub struct Pattern(Arc<Inner>);

struct Inner {
    src: String,
    /// The parse, kept for the prefilter's literal extraction.
    hir: Hir,
    names: Vec<String>,
    re: OnceLock<Regex>,
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pattern({:?})", self.0.src)
    }
}

impl Pattern {
    /// Parses `src` as the regex crate would; the error is the regex crate's message.
    pub fn new(src: &str) -> Result<Pattern, String> {
        let hir = regex_syntax::ParserBuilder::new()
            .build()
            .parse(src)
            .map_err(|e| e.to_string())?;
        let mut names = Vec::new();
        capture_names(&hir, &mut names);
        Ok(Pattern(Arc::new(Inner {
            src: src.to_string(),
            hir,
            names,
            re: OnceLock::new(),
        })))
    }

    pub fn as_str(&self) -> &str {
        &self.0.src
    }

    /// The parsed regex (regex-syntax's high-level form).
    pub fn hir(&self) -> &Hir {
        &self.0.hir
    }

    /// The compiled regex. A pattern that parses but is too big for the regex crate's
    /// limits (only a custom rule could be) matches nothing; `rules check` shows it, as
    /// its examples then fail.
    pub fn regex(&self) -> &Regex {
        self.0.re.get_or_init(|| {
            Regex::new(&self.0.src)
                .unwrap_or_else(|_| Regex::new(r"[^\s\S]").expect("empty class compiles"))
        })
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.regex().is_match(text)
    }

    pub fn captures_iter<'h>(&self, text: &'h str) -> regex::CaptureMatches<'_, 'h> {
        self.regex().captures_iter(text)
    }

    /// The named groups, in order (known without compiling).
    pub fn capture_names(&self) -> impl Iterator<Item = &str> {
        self.0.names.iter().map(String::as_str)
    }

    /// Whether the regex has been compiled (for tests of laziness).
    pub fn is_compiled(&self) -> bool {
        self.0.re.get().is_some()
    }
}

fn capture_names(h: &Hir, out: &mut Vec<String>) {
    match h.kind() {
        HirKind::Capture(c) => {
            if let Some(n) = &c.name {
                out.push(n.to_string());
            }
            capture_names(&c.sub, out);
        }
        HirKind::Repetition(r) => capture_names(&r.sub, out),
        HirKind::Concat(v) | HirKind::Alternation(v) => {
            v.iter().for_each(|x| capture_names(x, out));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_now_compiles_later_and_knows_its_names() {
        let p = Pattern::new(r"(?i)connect (?P<host>[a-z.]+):(?P<port>\d+)|(refused)").unwrap();
        assert!(!p.is_compiled());
        assert_eq!(p.capture_names().collect::<Vec<_>>(), ["host", "port"]);
        assert!(!p.is_compiled(), "names come from the parse");
        assert!(p.is_match("CONNECT db.internal:5432"));
        assert!(p.is_compiled());
        let bad = String::from("(unclosed");
        let err = Pattern::new(&bad).unwrap_err();
        assert_eq!(err, regex::Regex::new(&bad).unwrap_err().to_string());
    }

    #[test]
    fn loading_the_pack_compiles_no_pattern() {
        let rules = crate::RuleSet::builtin().unwrap();
        let all: Vec<&Pattern> = rules
            .rules
            .iter()
            .flat_map(|r| r.signals.iter())
            .flat_map(|s| s.patterns.iter().chain(s.unless.iter()))
            .collect();
        assert!(all.len() > 200, "{}", all.len());
        assert!(all.iter().all(|p| !p.is_compiled()));
        // A one-line scan compiles only the patterns its line could match.
        let pre = crate::scan::Prefilter::new(&rules);
        assert!(pre.matches("Error: getaddrinfo ENOTFOUND db.internal"));
        let compiled = all.iter().filter(|p| p.is_compiled()).count();
        assert!(compiled > 0 && compiled < 20, "{compiled} compiled");
    }
}
