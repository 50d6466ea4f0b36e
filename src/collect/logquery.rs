//! Query text for server-side log search: the rule pack's server terms
//! ([`ServerTerms`]) as Logs Insights queries and as `FilterLogEvents` filter patterns,
//! each within the service's length limits. A set of terms is sent as one regex built
//! from the trie of its members, with branches that continue alike merged into a
//! character class, so that `" 400` … `" 599` costs `"\s[45][0-9][0-9]` and not two
//! hundred alternatives: fewer chunks means fewer queries, and each query is billed
//! for every byte of the window it scans.

use crate::scan::ServerTerms;
use std::collections::BTreeMap;

/// Rows one Insights query returns at most (the service's maximum).
pub(super) const QUERY_ROWS: usize = 10_000;
/// Longest query string Insights accepts.
pub(super) const QUERY_MAX: usize = 10_000;
/// Part of a query given to the stream list at most; the rest, less the frame, goes
/// to the terms.
const STREAMS_MAX: usize = 3_000;
/// A query's text besides its stream list and clauses.
const FRAME: usize = 160;
/// Longest filter pattern FilterLogEvents accepts.
pub(super) const PATTERN_MAX: usize = 1024;

/// The queries that search every stream for every term and conjunction, each within
/// [`QUERY_MAX`]; `None` when more than `max` would be needed.
pub(super) fn insights_queries(
    terms: &ServerTerms,
    streams: &[&str],
    max: usize,
) -> Option<Vec<String>> {
    let quoted: Vec<String> = streams.iter().map(|s| json_string(s)).collect();
    let stream_chunks = chunk(&quoted, STREAMS_MAX, 2);
    // What the stream list leaves of a query goes to the terms: fewer chunks, fewer
    // scans of the window.
    let longest = stream_chunks
        .iter()
        .map(|c| c.iter().map(|s| s.len() + 2).sum::<usize>())
        .max()
        .unwrap_or(0);
    let budget = QUERY_MAX - FRAME - longest;
    let clause_chunks = chunk(&clauses(terms, budget), budget, 4);
    if stream_chunks.len() * clause_chunks.len() > max {
        return None;
    }
    let mut out = Vec::new();
    for s in &stream_chunks {
        for c in &clause_chunks {
            let q = format!(
                "fields @timestamp, @logStream, @message\n| filter @logStream in [{}]\n| filter {}\n| sort @timestamp asc\n| limit {QUERY_ROWS}",
                s.join(", "),
                c.join(" or ")
            );
            if q.len() > QUERY_MAX {
                return None;
            }
            out.push(q);
        }
    }
    Some(out)
}

/// The filter's clauses: the single terms in groups that each fit `max`, then one
/// clause per conjunction.
fn clauses(terms: &ServerTerms, max: usize) -> Vec<String> {
    let like = |set: &[String]| format!("@message like /(?i){}/", regex_of(set));
    let mut out = Vec::new();
    let mut rest: &[String] = &terms.terms;
    while !rest.is_empty() {
        // The longest run of terms whose regex fits (binary search: a regex grows
        // with its terms), at least one.
        let (mut lo, mut hi) = (1, rest.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if like(&rest[..mid]).len() <= max {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        out.push(like(&rest[..lo]));
        rest = &rest[lo..];
    }
    for sets in &terms.all_of {
        let parts: Vec<String> = sets.iter().map(|s| like(s)).collect();
        out.push(format!("({})", parts.join(" and ")));
    }
    out
}

/// One regex (no flags) that matches where some member of `terms` occurs: the trie of
/// the terms, printed with branches that continue alike merged into a class. A member
/// that extends a shorter one adds nothing and is dropped.
pub(super) fn regex_of(terms: &[String]) -> String {
    let mut root = Node::default();
    for t in terms {
        root.insert(t);
    }
    root.print()
}

#[derive(Default)]
struct Node {
    kids: BTreeMap<char, Node>,
    end: bool,
}

impl Node {
    fn insert(&mut self, t: &str) {
        let mut n = self;
        for c in t.chars() {
            if n.end {
                return;
            }
            n = n.kids.entry(c).or_default();
        }
        n.end = true;
        n.kids.clear();
    }

    fn print(&self) -> String {
        if self.end {
            return String::new();
        }
        let mut by_rest: BTreeMap<String, Vec<char>> = BTreeMap::new();
        for (c, kid) in &self.kids {
            by_rest.entry(kid.print()).or_default().push(*c);
        }
        let mut alts: Vec<String> = by_rest
            .into_iter()
            .map(|(rest, chars)| class(&chars) + &rest)
            .collect();
        alts.sort();
        match alts.len() {
            1 => alts.into_iter().next().unwrap_or_default(),
            _ => format!("(?:{})", alts.join("|")),
        }
    }
}

/// Characters (sorted) as one atom: the escaped character, or a class with runs of
/// three or more written as ranges.
fn class(chars: &[char]) -> String {
    if let [c] = chars {
        return escape(*c);
    }
    let mut out = String::from("[");
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j + 1 < chars.len() && chars[j + 1] as u32 == chars[j] as u32 + 1 {
            j += 1;
        }
        if j >= i + 2 && chars[i].is_ascii_alphanumeric() && chars[j].is_ascii_alphanumeric() {
            out.push_str(&format!("{}-{}", chars[i], chars[j]));
            i = j + 1;
        } else {
            out.push_str(&escape(chars[i]));
            i += 1;
        }
    }
    out.push(']');
    out
}

/// A character as an Insights regex literal: metacharacters (and `-`, for classes)
/// and the `/` delimiter escaped, and white space as `\s` (any white space: a
/// superset, and a query whose regex holds no blank cannot be misread by a tokenizer
/// that splits on blanks).
fn escape(c: char) -> String {
    match c {
        '/' => "\\/".into(),
        c if c.is_whitespace() => "\\s".into(),
        c => regex::escape(&c.to_string()),
    }
}

/// Items grouped so that each group's length (with `sep` between items) stays within
/// `max`; an item longer than `max` is a group of its own.
pub(super) fn chunk(items: &[String], max: usize, sep: usize) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut len = 0;
    for it in items {
        match out.last_mut() {
            Some(cur) if len + sep + it.len() <= max => {
                len += sep + it.len();
                cur.push(it.clone());
            }
            _ => {
                len = it.len();
                out.push(vec![it.clone()]);
            }
        }
    }
    out
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Filter patterns (`?"a" ?"A" …`) within [`PATTERN_MAX`] that together hold every term
/// in its lower-case, capitalised and upper-case spellings (one spelling when it has
/// no letter). A double quote cannot be sent inside a term, so a term keeps its longest
/// run without one. A conjunction is sent as its rarest set: filter patterns cannot
/// mix AND with OR.
pub(super) fn filter_patterns(terms: &ServerTerms) -> Vec<String> {
    let conj = terms
        .all_of
        .iter()
        .filter_map(|sets| sets.first())
        .flatten();
    let mut spelled: Vec<String> = Vec::new();
    for t in terms.terms.iter().chain(conj) {
        let Some(t) = t.split('"').max_by_key(|p| p.len()).map(str::trim) else {
            continue;
        };
        if t.len() < 3 {
            continue;
        }
        let mut cap = t.to_string();
        if let Some(f) = cap.get_mut(0..1) {
            f.make_ascii_uppercase();
        }
        for v in [t.to_string(), cap, t.to_ascii_uppercase()] {
            let v = format!("?\"{}\"", v.replace('\\', "\\\\"));
            if !spelled.contains(&v) {
                spelled.push(v);
            }
        }
    }
    chunk(&spelled, PATTERN_MAX, 1)
        .into_iter()
        .map(|c| c.join(" "))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(single: &[&str], all_of: Vec<Vec<Vec<&str>>>) -> ServerTerms {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        ServerTerms {
            terms: own(single),
            all_of: all_of
                .into_iter()
                .map(|c| c.iter().map(|s| own(s)).collect())
                .collect(),
            uncovered: 0,
            patterns: 1,
        }
    }

    /// The regex as the `regex` crate reads it (it has no `\/`).
    fn compiled(terms: &[String]) -> regex::Regex {
        let r = regex_of(terms).replace("\\/", "/");
        regex::Regex::new(&format!("(?i){r}")).unwrap()
    }

    #[test]
    fn sets_print_as_compact_regexes() {
        let codes: Vec<String> = (400..600).map(|c| format!("\" {c}")).collect();
        assert_eq!(regex_of(&codes), "\"\\s[45][0-9][0-9]");
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            regex_of(&v(&["econnrefused", "a/b (x)", "econnreset"])),
            "(?:a\\/b\\s\\(x\\)|econnre(?:fused|set))"
        );
        // A longer member adds nothing to a shorter one it extends.
        assert_eq!(regex_of(&v(&["timeout", "timeout expired"])), "timeout");
        assert_eq!(regex_of(&v(&["a-c", "b-c"])), "[ab]\\-c");
    }

    #[test]
    fn the_regex_matches_exactly_where_a_term_occurs() {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let t = crate::scan::Prefilter::new(&rules).server_terms();
        let re = compiled(&t.terms);
        for term in &t.terms {
            assert!(re.is_match(term), "{term:?}");
            assert!(
                re.is_match(&format!("x {} y", term.to_uppercase())),
                "{term:?}"
            );
        }
        let lines = [
            "GET /health HTTP/1.1 200",
            "connection refused",
            "2026-12-03 INFO started in 3.2s",
            "dial tcp 10.0.0.1:5432: i/o timeout",
        ];
        for l in lines {
            let low = l.to_ascii_lowercase();
            let want = t.terms.iter().any(|s| low.contains(s.as_str()));
            assert_eq!(re.is_match(l), want, "{l:?}");
        }
    }

    #[test]
    fn insights_queries_are_bounded_and_escaped() {
        let t = terms(
            &["econnrefused", "a/b (x)"],
            vec![vec![vec!["elb-healthchecker/"], vec!["\" 503", "\" 504"]]],
        );
        let q = insights_queries(&t, &["ecs/api/1", "ecs/api/2"], 16).unwrap();
        assert_eq!(
            q,
            vec!["fields @timestamp, @logStream, @message\n| filter @logStream in [\"ecs/api/1\", \"ecs/api/2\"]\n| filter @message like /(?i)(?:a\\/b\\s\\(x\\)|econnrefused)/ or (@message like /(?i)elb\\-healthchecker\\// and @message like /(?i)\"\\s50[34]/)\n| sort @timestamp asc\n| limit 10000".to_string()]
        );
        // Many terms are split over queries, each within the limit, and every term is
        // still searched.
        // (Terms that share little, so the trie cannot fold them.)
        let many: Vec<String> = (0..2000u64)
            .map(|i| format!("{:x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
            .collect();
        let t = ServerTerms {
            terms: many.clone(),
            ..terms(&[], vec![])
        };
        let q = insights_queries(&t, &["s"], 16).unwrap();
        assert!(
            q.len() > 1 && q.iter().all(|q| q.len() <= QUERY_MAX),
            "{}",
            q.len()
        );
        let res: Vec<regex::Regex> = q
            .iter()
            .map(|q| {
                let r = q
                    .split("like /(?i)")
                    .nth(1)
                    .unwrap()
                    .split("/\n")
                    .next()
                    .unwrap();
                regex::Regex::new(&r.replace("\\/", "/")).unwrap()
            })
            .collect();
        assert!(many.iter().all(|t| res.iter().any(|r| r.is_match(t))));
        // Too many to search: refused, so the caller falls back.
        assert!(insights_queries(&t, &["s"], 1).is_none());
    }

    #[test]
    fn filter_patterns_spell_each_term_three_ways_within_the_limit() {
        let t = terms(
            &["connection refused", "say \"hi\" now", "28p01"],
            vec![vec![vec!["elb-healthchecker/"], vec!["\" 503"]]],
        );
        assert_eq!(
            filter_patterns(&t),
            vec![
                "?\"connection refused\" ?\"Connection refused\" ?\"CONNECTION REFUSED\" ?\"now\" ?\"Now\" ?\"NOW\" ?\"28p01\" ?\"28P01\" ?\"elb-healthchecker/\" ?\"Elb-healthchecker/\" ?\"ELB-HEALTHCHECKER/\""
            ]
        );
        let many: Vec<String> = (0..300).map(|i| format!("term {i:04}")).collect();
        let p = filter_patterns(&ServerTerms {
            terms: many,
            ..terms(&[], vec![])
        });
        assert!(p.len() > 1 && p.iter().all(|p| p.len() <= PATTERN_MAX));
    }

    #[test]
    fn chunks_respect_the_limit() {
        let items: Vec<String> = ["aaaa", "bb", "cccccc", "d"].map(String::from).to_vec();
        assert_eq!(
            chunk(&items, 8, 1),
            vec![vec!["aaaa", "bb"], vec!["cccccc", "d"]]
        );
    }
}
