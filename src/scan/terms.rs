//! Search terms for a log server: the prefilter's literals made usable where the lines
//! live (CloudWatch Logs Insights regexes and filter patterns), so that only candidate
//! lines travel. A literal's line-break context (how `scan` sees anchors) is dropped:
//! the longest run between line breaks, trimmed, still occurs in every line the pattern
//! matches, so the terms find a superset of the lines and the rules decide locally as
//! before. Patterns that have no usable term are counted, so the report can say which
//! part of the pack was not searched on the server.

use super::Prefilter;
use std::collections::BTreeSet;

/// Shortest term worth sending: shorter ones would match most lines.
const MIN_TERM: usize = 3;

/// What a server can search for on the prefilter's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTerms {
    /// ASCII lower-cased substrings, one of which every line some covered log pattern
    /// matches contains (ignoring ASCII case); sorted.
    pub terms: Vec<String>,
    /// Log patterns (of all) that no term covers: they are tested only on lines read
    /// in full.
    pub uncovered: usize,
    pub patterns: usize,
}

impl Prefilter {
    /// The terms a server-side search needs to return every line some log pattern can
    /// match, and how many patterns it cannot cover.
    pub fn server_terms(&self) -> ServerTerms {
        let mut terms = BTreeSet::new();
        let mut uncovered: BTreeSet<u32> = self.rest_pats.iter().copied().collect();
        for (lit, pats) in self.lit_list.iter().zip(&self.lit_pats) {
            match term_of(lit) {
                Some(t) => {
                    terms.insert(t);
                }
                None => uncovered.extend(pats.iter().copied()),
            }
        }
        ServerTerms {
            terms: terms.into_iter().collect(),
            uncovered: uncovered.len(),
            patterns: self.pats.len(),
        }
    }
}

/// The longest run of `lit` between line breaks, trimmed, when it is valid UTF-8 and
/// long enough.
fn term_of(lit: &[u8]) -> Option<String> {
    let best = lit
        .split(|&b| b == b'\n' || b == b'\r')
        .map(|p| p.trim_ascii())
        .max_by_key(|p| p.len())?;
    let s = std::str::from_utf8(best).ok()?;
    (s.len() >= MIN_TERM).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_context_is_dropped_and_short_runs_are_refused() {
        assert_eq!(term_of(b"\nerror: "), Some("error:".into()));
        assert_eq!(term_of(b" panic\r"), Some("panic".into()));
        assert_eq!(term_of(b"\nab\n"), None);
        assert_eq!(term_of(b"exit code 137\n"), Some("exit code 137".into()));
        assert_eq!(term_of(b"\xff\xfe\xfd"), None);
    }

    #[test]
    fn the_pack_is_covered_by_terms() {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let pre = Prefilter::new(&rules);
        let t = pre.server_terms();
        assert!(t.patterns > 100, "{}", t.patterns);
        assert!(t.terms.iter().all(|s| s.len() >= MIN_TERM));
        assert!(t.terms.iter().all(|s| *s == s.to_ascii_lowercase()));
        assert!(t.terms.contains(&"refused".to_string()), "{:?}", t.terms);
        // Every line a log pattern matches holds one of the terms: checked on every
        // log example of every rule.
        let mut seen = 0;
        for r in &rules.rules {
            for e in r.examples.iter().filter(|e| e.expect_match) {
                if e.source != crate::rules::Source::Log || !pre.matches(&e.text) {
                    continue;
                }
                seen += 1;
                let low = e.text.to_ascii_lowercase();
                assert!(
                    t.terms.iter().any(|s| low.contains(s.as_str())),
                    "{}: no server term in {:?}",
                    r.id,
                    e.text
                );
            }
        }
        assert!(seen > 100, "{seen}");
        assert_eq!(t.uncovered, 0, "log patterns without a server term");
    }
}
