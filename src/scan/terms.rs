//! Search terms for a log server: the rule pack's required literals made usable where
//! the lines live (CloudWatch Logs Insights regexes and filter patterns), so that only
//! candidate lines travel. Each alternative of each log pattern gives the pieces it
//! requires (`literals::branches`): one piece becomes a term, several a conjunction, so
//! that a piece common in ordinary lines (`ELB-HealthChecker/`) is asked for only with
//! the piece that makes the line a failure (`" 503`). A literal's line-break context
//! (how `scan` sees anchors) is dropped: the longest run between line breaks, trimmed,
//! still occurs in every line the pattern matches, so the terms find a superset of the
//! lines and the rules decide locally as before. Patterns that have no usable term are
//! counted, so the report can say which part of the pack was not searched on the
//! server.

use super::Prefilter;
use crate::literals;
use std::collections::BTreeSet;

/// Shortest term worth sending: shorter ones would match most lines.
const MIN_TERM: usize = 3;

/// What a server can search for on the prefilter's behalf: every line some covered
/// log pattern matches holds one of `terms`, or, for some entry of `all_of`, a member
/// of each of its sets (all compared ignoring ASCII case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTerms {
    /// ASCII lower-cased substrings, sorted: any one makes a line a candidate.
    pub terms: Vec<String>,
    /// Conjunctions, for pattern alternatives that require several pieces (an HTTP
    /// status *and* a health-checker agent): a line is a candidate when it holds a
    /// member of every set. Sorted; none is implied by `terms`.
    pub all_of: Vec<Vec<Vec<String>>>,
    /// Log patterns (of all) that no term covers: they are tested only on lines read
    /// in full.
    pub uncovered: usize,
    pub patterns: usize,
}

impl ServerTerms {
    /// Whether a server searching for these terms returns `line`.
    pub fn admits(&self, line: &str) -> bool {
        let low = line.to_ascii_lowercase();
        let has = |set: &Vec<String>| set.iter().any(|t| low.contains(t.as_str()));
        has(&self.terms) || self.all_of.iter().any(|c| c.iter().all(has))
    }
}

impl Prefilter {
    /// The terms a server-side search needs to return every line some log pattern can
    /// match, and how many patterns it cannot cover. Each pattern alternative gives its
    /// rarest required pieces; one piece becomes a term, several a conjunction.
    pub fn server_terms(&self) -> ServerTerms {
        let mut single: BTreeSet<String> = BTreeSet::new();
        let mut conj: BTreeSet<Vec<Vec<String>>> = BTreeSet::new();
        let mut uncovered = 0;
        for p in &self.pats {
            let alts = literals::branches(p.hir()).and_then(|alts| {
                alts.into_iter()
                    .map(|sets| {
                        let sets: Vec<Vec<String>> =
                            sets.iter().filter_map(|s| term_set(s)).collect();
                        (!sets.is_empty()).then_some(sets)
                    })
                    .collect::<Option<Vec<_>>>()
            });
            let Some(alts) = alts else {
                uncovered += 1;
                continue;
            };
            for mut sets in alts {
                if sets.len() == 1 {
                    single.extend(sets.pop().unwrap_or_default());
                } else {
                    conj.insert(sets);
                }
            }
        }
        let terms = minimal(single);
        let holds = |t: &String| terms.iter().any(|s| t.contains(s.as_str()));
        let all_of = conj
            .into_iter()
            .filter(|sets| !sets.iter().any(|set| set.iter().all(holds)))
            .collect();
        ServerTerms {
            terms,
            all_of,
            uncovered,
            patterns: self.pats.len(),
        }
    }
}

/// A set of literals as terms, when every member gives one.
fn term_set(set: &[Vec<u8>]) -> Option<Vec<String>> {
    let all: BTreeSet<String> = set.iter().map(|l| term_of(l)).collect::<Option<_>>()?;
    Some(minimal(all))
}

/// Terms without those that contain another (a line holding the longer one holds the
/// shorter), sorted. One automaton over all of them finds, in each, the others it
/// holds: linear in their length, where sets of server terms can be thousands long.
fn minimal(all: BTreeSet<String>) -> Vec<String> {
    let all: Vec<String> = all.into_iter().collect();
    let Ok(ac) = aho_corasick::AhoCorasick::builder()
        .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
        .build(&all)
    else {
        return all;
    };
    all.iter()
        .enumerate()
        .filter(|&(i, t)| {
            !ac.find_overlapping_iter(t.as_str())
                .any(|m| m.pattern().as_usize() != i)
        })
        .map(|(_, t)| t.clone())
        .collect()
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
        assert!(
            t.terms.contains(&"econnrefused".to_string()),
            "{:?}",
            t.terms
        );
        // A health-check access line is a candidate only with a failing status.
        assert!(!t.terms.iter().any(|s| s.contains("healthchecker")));
        assert!(
            t.admits(r#"10.0.1.7 - - "GET /health HTTP/1.1" 503 0 "-" "ELB-HealthChecker/2.0""#)
        );
        assert!(
            !t.admits(r#"10.0.1.7 - - "GET /health HTTP/1.1" 200 2 "-" "ELB-HealthChecker/2.0""#)
        );
        // Every line a log pattern matches holds one of the terms: checked on every
        // log example of every rule.
        let mut seen = 0;
        for r in &rules.rules {
            for e in r.examples.iter().filter(|e| e.expect_match) {
                if e.source != crate::rules::Source::Log || !pre.matches(&e.text) {
                    continue;
                }
                seen += 1;
                assert!(
                    t.admits(&e.text),
                    "{}: the server terms do not admit {:?}",
                    r.id,
                    e.text
                );
            }
        }
        assert!(seen > 100, "{seen}");
        assert_eq!(t.uncovered, 0, "log patterns without a server term");
    }
}
