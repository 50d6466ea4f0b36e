//! The prefilter: one multi-pattern pass over a block finds the lines some log-reading
//! pattern can match. Each pattern is reduced to literals one of which occurs around
//! every match; an ASCII-case-insensitive Aho-Corasick automaton over all of them finds
//! candidate lines, and only the patterns owning the literals found then run. Used by
//! `scan` and by `doctor`'s log collection.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The compiled prefilter: finds, in one pass over the input, the lines that some
/// log-reading signal pattern matches.
///
/// Each pattern is reduced to a set of literals one of which occurs around every match
/// (`literals::required`). One ASCII-case-insensitive Aho-Corasick automaton over all
/// of them scans each block; only at a line where one occurs do the patterns owning the
/// literals found run (the engine's own compiled regexes, on the message the engine
/// will see). Patterns without a usable literal are joined into one regex with line
/// anchors dropped (so it can only match more), which scans the blocks too. Candidate
/// lines are therefore exactly the lines some log pattern matches.
pub struct Prefilter {
    /// Every log-reading pattern, as compiled by the rule loader.
    /// (Clones of the loader's: a `Regex` clone shares its compiled program.)
    pub(super) pats: Vec<crate::rules::Pattern>,
    /// Per (rule, signal) index that reads logs, the index in `pats` of its first pattern.
    pub(super) offsets: HashMap<(usize, usize), u32>,
    /// Literal automaton and, per automaton pattern, the indexes into `pats` it serves.
    pub(super) lits: Option<Literals>,
    pub(super) lit_pats: Vec<Vec<u32>>,
    /// Union of the patterns without a usable literal, and their indexes into `pats`.
    pub(super) rest: Option<regex_automata::meta::Regex>,
    pub(super) rest_pats: Vec<u32>,
    /// Finders for `FOLD_EXOTIC` (UTF-8), when some literal was spelled without them.
    pub(super) exotic: Vec<memchr::memmem::Finder<'static>>,
}

impl std::fmt::Debug for Prefilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prefilter({} patterns)", self.pats.len())
    }
}

impl Prefilter {
    /// Builds the prefilter from every signal that reads logs.
    pub fn new(rules: &RuleSet) -> Prefilter {
        let mut pats: Vec<crate::rules::Pattern> = Vec::new();
        let mut offsets: HashMap<(usize, usize), u32> = HashMap::new();
        for (ri, r) in rules.rules.iter().enumerate() {
            for (si, s) in r.signals.iter().enumerate() {
                if s.reads(Source::Log) {
                    offsets.insert((ri, si), pats.len() as u32);
                    pats.extend(s.patterns.iter().cloned());
                }
            }
        }
        let mut lit_ids: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut lit_list: Vec<Vec<u8>> = Vec::new();
        let mut lit_pats: Vec<Vec<u32>> = Vec::new();
        let mut rest_hirs = Vec::new();
        let mut rest_pats = Vec::new();
        let mut folded = false;
        for (i, p) in pats.iter().enumerate() {
            let hir = p.hir();
            match literals::required(hir) {
                Some((set, f)) => {
                    folded |= f;
                    for lit in set {
                        let id = *lit_ids.entry(lit.clone()).or_insert_with(|| {
                            lit_list.push(lit);
                            lit_pats.push(Vec::new());
                            lit_list.len() - 1
                        });
                        if lit_pats[id].last() != Some(&(i as u32)) {
                            lit_pats[id].push(i as u32);
                        }
                    }
                }
                None => {
                    rest_pats.push(i as u32);
                    rest_hirs.push(literals::unanchored(hir));
                }
            }
        }
        let (lit_list, lit_pats) = minimize(lit_list, lit_pats);
        let lits = (!lit_list.is_empty()).then(|| Literals::new(lit_list));
        let rest = (!rest_hirs.is_empty()).then(|| rest_union(rest_hirs));
        let exotic = if folded {
            FOLD_EXOTIC
                .iter()
                .map(|c| memchr::memmem::Finder::new(c.to_string().as_bytes()).into_owned())
                .collect()
        } else {
            Vec::new()
        };
        Prefilter {
            pats,
            offsets,
            lits,
            lit_pats,
            rest,
            rest_pats,
            exotic,
        }
    }

    /// True when some log-reading pattern matches `message`: the test `doctor` applies to
    /// every line of a log window it reads, so that only lines a rule can use are kept.
    pub fn matches(&self, message: &str) -> bool {
        match self.candidates(message) {
            Some(c) => c.iter().any(|&p| self.pats[p as usize].is_match(message)),
            None => self.pats.iter().any(|p| p.is_match(message)),
        }
    }

    /// The index of the first pattern of signal `signal` of rule `rule` (both indexes
    /// into the rule set), when that signal reads logs; its patterns follow in order.
    pub fn offset(&self, rule: usize, signal: usize) -> Option<u32> {
        self.offsets.get(&(rule, signal)).copied()
    }

    /// The patterns (indexes as [`Prefilter::offset`] numbers them, sorted) that may
    /// match `message`: those owning a literal found in it, and those without literals
    /// when their union matches. A pattern not listed cannot match. `None` when every
    /// pattern must be tried (a character that case-folds to an ASCII letter).
    pub fn candidates(&self, message: &str) -> Option<Vec<u32>> {
        if self
            .exotic
            .iter()
            .any(|f| f.find(message.as_bytes()).is_some())
        {
            return None;
        }
        let mut out = Vec::new();
        if let Some(lits) = &self.lits {
            literals::framed(message, |framed| {
                for m in lits.automaton(framed.len()).find_overlapping_iter(framed) {
                    out.extend_from_slice(&self.lit_pats[m.pattern().as_usize()]);
                }
            });
        }
        if self.rest.as_ref().is_some_and(|r| r.is_match(message)) {
            out.extend_from_slice(&self.rest_pats);
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }

    /// True when some log pattern matches the message of a line. `raw` is the line
    /// with the line breaks around it, `text` without them (and without a trailing
    /// CR); `why` says which scanners hit the line.
    pub(super) fn confirm(&self, raw: &[u8], text: &str, why: Hits, seen: &mut Seen) -> bool {
        let (_, _, message) = split_tail_prefix(text);
        if why.exotic {
            return self.pats.iter().any(|p| p.is_match(message));
        }
        if why.lit {
            if let Some(lits) = &self.lits {
                seen.next_line(self.pats.len());
                for m in lits.automaton(0).find_overlapping_iter(raw) {
                    for &p in &self.lit_pats[m.pattern().as_usize()] {
                        if seen.first(p) && self.pats[p as usize].is_match(message) {
                            return true;
                        }
                    }
                }
            }
        }
        why.rest
            && self
                .rest_pats
                .iter()
                .any(|&p| self.pats[p as usize].is_match(message))
    }
}

/// A message between line breaks, as the literals expect a line: `^` and `$` become
/// literal line breaks (`^137$` requires `\n137\n`), since scan searches whole blocks.
/// The literal automaton in two builds with the same pattern ids and matches: a
/// contiguous NFA, cheap to build, for short inputs (a pasted line, `lint`), and a DFA,
/// faster per byte but costly to build, once more than [`DFA_AFTER`] bytes have been
/// searched (a log file, a snapshot's log window).
pub(super) struct Literals {
    list: Vec<Vec<u8>>,
    nfa: OnceLock<aho_corasick::AhoCorasick>,
    dfa: OnceLock<aho_corasick::AhoCorasick>,
    searched: AtomicUsize,
}

/// Bytes searched with the NFA before the DFA is built.
const DFA_AFTER: usize = 64 << 10;

impl Literals {
    fn new(list: Vec<Vec<u8>>) -> Literals {
        Literals {
            list,
            nfa: OnceLock::new(),
            dfa: OnceLock::new(),
            searched: AtomicUsize::new(0),
        }
    }

    fn build(
        list: &[Vec<u8>],
        kind: aho_corasick::AhoCorasickKind,
    ) -> Result<aho_corasick::AhoCorasick, aho_corasick::BuildError> {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::Standard)
            .kind(Some(kind))
            .build(list)
    }

    /// The automaton to search `len` more bytes with.
    pub(super) fn automaton(&self, len: usize) -> &aho_corasick::AhoCorasick {
        let seen = self
            .searched
            .fetch_add(len, Ordering::Relaxed)
            .saturating_add(len);
        use aho_corasick::AhoCorasickKind::{ContiguousNFA, NoncontiguousNFA, DFA};
        // Either kind can exceed its size limits; the noncontiguous NFA has none.
        let build = |kind| {
            Literals::build(&self.list, kind)
                .or_else(|_| Literals::build(&self.list, NoncontiguousNFA))
                .expect("literal automaton builds")
        };
        if seen <= DFA_AFTER && self.dfa.get().is_none() {
            return self.nfa.get_or_init(|| build(ContiguousNFA));
        }
        self.dfa.get_or_init(|| build(DFA))
    }
}

/// Drops the literals that contain another one: a line holding the longer one holds the
/// shorter, which then stands for the patterns of both.
pub(super) fn minimize(lits: Vec<Vec<u8>>, pats: Vec<Vec<u32>>) -> (Vec<Vec<u8>>, Vec<Vec<u32>>) {
    let Ok(ac) = aho_corasick::AhoCorasick::builder()
        .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
        .build(&lits)
    else {
        return (lits, pats);
    };
    let inner = |i: usize| {
        ac.find_overlapping_iter(&lits[i])
            .map(|m| m.pattern().as_usize())
            .filter(move |&j| j != i)
    };
    let redundant: Vec<bool> = (0..lits.len()).map(|i| inner(i).next().is_some()).collect();
    let mut pats = pats;
    for i in (0..lits.len()).filter(|&i| redundant[i]) {
        // The shortest literal inside one never contains another, so this exists.
        let j = inner(i)
            .find(|&j| !redundant[j])
            .expect("a minimal literal inside");
        let moved = std::mem::take(&mut pats[i]);
        pats[j].extend(moved);
    }
    let mut out_lits = Vec::new();
    let mut out_pats = Vec::new();
    for (i, (l, mut p)) in lits.into_iter().zip(pats).enumerate() {
        if !redundant[i] {
            p.sort_unstable();
            p.dedup();
            out_lits.push(l);
            out_pats.push(p);
        }
    }
    (out_lits, out_pats)
}

/// Which scanners hit a line.
#[derive(Clone, Copy)]
pub(super) struct Hits {
    pub(super) lit: bool,
    pub(super) rest: bool,
    pub(super) exotic: bool,
}

/// Which patterns were already tried on the current line.
#[derive(Default)]
pub(super) struct Seen {
    pub(super) stamp: Vec<u32>,
    pub(super) line: u32,
}

impl Seen {
    pub(super) fn next_line(&mut self, n: usize) {
        if self.stamp.len() != n {
            self.stamp = vec![0; n];
        }
        self.line = self.line.wrapping_add(1);
        if self.line == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.line = 1;
        }
    }

    pub(super) fn first(&mut self, p: u32) -> bool {
        let s = &mut self.stamp[p as usize];
        let new = *s != self.line;
        *s = self.line;
        new
    }
}

/// One regex for the patterns without a usable literal, their line anchors dropped (so
/// it can only match more). Built from the parsed patterns directly: printing them and
/// parsing the text again would repeat the Unicode case folding the rule loader did.
fn rest_union(hirs: Vec<regex_syntax::hir::Hir>) -> regex_automata::meta::Regex {
    use regex_automata::meta;
    let union = regex_syntax::hir::Hir::alternation(hirs);
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .nfa_size_limit(Some(256 << 20))
                .hybrid_cache_capacity(2 << 20),
        )
        .build_from_hir(&union)
        // Too big: every line becomes a candidate and the patterns themselves decide.
        .unwrap_or_else(|_| meta::Regex::new("").expect("empty regex"))
}
