//! The log gate: the scan prefilter applied to the engine's log records, so that
//! `doctor`, `lint` and `scan` match log patterns the same way. One Aho-Corasick pass
//! over all the log records lists, for each, the patterns that can match it; a signal
//! then runs its regexes only on the records where one of its own patterns is listed. A pattern the prefilter
//! does not list cannot match (its literals are required), so no finding changes.

use super::*;
use crate::scan::Prefilter;

/// What the prefilter allows for one record.
enum Cands {
    /// Not a log record: every pattern runs.
    Open,
    /// A log record: only these patterns (sorted) can match.
    Only(Vec<u32>),
}

pub(super) struct Gate<'r> {
    pre: &'r Prefilter,
    cands: Vec<Cands>,
}

impl<'r> Gate<'r> {
    /// The gate for `ix`'s log records, or `None` when it has none.
    pub(super) fn new(rules: &'r RuleSet, ix: &Index) -> Option<Gate<'r>> {
        ix.records_of(Source::Log, None).next()?;
        let pre = rules.prefilter();
        let mut cands: Vec<Cands> = (0..ix.records.len()).map(|_| Cands::Open).collect();
        let logs: Vec<usize> = ix.records_of(Source::Log, None).collect();
        let texts: Vec<&str> = logs
            .iter()
            .map(|&ri| ix.records[ri].text.as_str())
            .collect();
        for (ri, only) in logs.into_iter().zip(pre.candidates_many(&texts)) {
            if let Some(only) = only {
                cands[ri] = Cands::Only(only);
            }
        }
        Some(Gate { pre, cands })
    }

    /// The range of pattern numbers of signal `signal` of rule `rule`, when it reads logs.
    pub(super) fn signal(&self, rule: usize, signal: usize, patterns: usize) -> Option<(u32, u32)> {
        self.pre
            .offset(rule, signal)
            .map(|first| (first, first + patterns as u32))
    }

    /// False when none of the patterns in `range` can match record `ri`.
    pub(super) fn admits(&self, ri: usize, (from, to): (u32, u32)) -> bool {
        match self.cands.get(ri) {
            Some(Cands::Only(v)) => {
                let i = v.partition_point(|&p| p < from);
                v.get(i).is_some_and(|&p| p < to)
            }
            _ => true,
        }
    }
}
