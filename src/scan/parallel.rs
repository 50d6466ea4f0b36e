//! Searching one block for candidate lines across threads: the block is split at line
//! breaks, each part scanned for literal and fallback hits, and the patterns then run on
//! the calling thread in input order.

use super::*;

/// A line a scanner hit: its number within the part searched (1-based), where it is
/// (without its line break), and which scanners hit it.
pub(super) struct Cand {
    pub(super) line: u64,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) why: Hits,
}

/// Per-thread results for one part of a block.
#[derive(Default)]
pub(super) struct Part {
    pub(super) cands: Vec<Cand>,
    pub(super) lines: u64,
}

/// Threads a block is split across: the available cores, at most 4.
pub(super) fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
}

/// Blocks smaller than this are searched on one thread.
pub(super) const PARALLEL_MIN: usize = 256 << 10;

/// Finds the candidate lines of `hay` (whole lines of valid UTF-8 between a leading and
/// a trailing line break) and adds them to `col` in input order. The scan for hits is
/// split at line breaks across `parts.len()` threads; the patterns then run here, on
/// this thread, so their caches exist once. Returns the line count after the block.
pub(super) fn scan_block(
    hay: &[u8],
    name: &str,
    lines_before: u64,
    pre: &Prefilter,
    parts: &mut [Part],
    seen: &mut Seen,
    col: &mut Collector,
) -> u64 {
    // Part i is hay[bounds[i]..=bounds[i + 1]]: neighbours share a line break.
    let mut bounds = vec![0];
    let n = if hay.len() < PARALLEL_MIN {
        1
    } else {
        parts.len()
    };
    for i in 1..n {
        let from = (hay.len() * i / n).max(bounds[bounds.len() - 1] + 1);
        match memchr::memchr(b'\n', &hay[from.min(hay.len())..]) {
            Some(p) if from + p < hay.len() - 1 => bounds.push(from + p),
            _ => break,
        }
    }
    bounds.push(hay.len() - 1);
    let used = bounds.len() - 1;
    let (first, rest) = parts[..used].split_first_mut().expect("one part");
    if used == 1 {
        hits(hay, 0, pre, first);
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = rest
                .iter_mut()
                .enumerate()
                .map(|(i, part)| {
                    let (a, b) = (bounds[i + 1], bounds[i + 2]);
                    s.spawn(move || hits(&hay[a..=b], a, pre, part))
                })
                .collect();
            hits(&hay[..=bounds[1]], 0, pre, first);
            for h in handles {
                if let Err(panic) = h.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        });
    }
    let mut line_no = lines_before;
    for part in &mut parts[..used] {
        for c in part.cands.drain(..) {
            // With the line breaks around it (the hay has one before and after each line).
            let raw = &hay[c.start - 1..=c.end];
            // Imperfect bytes are read lossily (and noted by the caller); a line over
            // the limit is matched on its first part.
            let line = &hay[c.start..c.end];
            let text = String::from_utf8_lossy(&line[..input::char_prefix(line, MAX_LINE)]);
            let text = text.trim_end_matches('\r');
            if pre.confirm(raw, text, c.why, seen) {
                col.add(name, line_no + c.line, text);
            }
        }
        line_no += part.lines;
    }
    line_no
}

/// Finds the lines of `hay` (a part of a block, at `offset` in it, between line breaks)
/// that a scanner hits, into `part.cands`; sets `part.lines` to its line count.
pub(super) fn hits(hay: &[u8], offset: usize, pre: &Prefilter, part: &mut Part) {
    debug_assert!(hay.len() >= 2 && hay[0] == b'\n' && hay[hay.len() - 1] == b'\n');
    // Next position (at or after `at`) of each scanner's hit, as a position inside the
    // line it is for; usize::MAX when there is none.
    const NONE: usize = usize::MAX;
    let mut at = 1; // start of the next line to look at
    let mut counted_to = 1;
    let mut line_no = 0;
    let mut rest_next = if pre.rest.is_some() { 0 } else { NONE };
    let mut exotic_next = [0; FOLD_EXOTIC.len()];
    let exotic_next = &mut exotic_next[..pre.exotic.len()];
    let lits = pre.lits.as_ref().map(|l| l.automaton(hay.len()));
    while at < hay.len() {
        // Literals: searched from the line break before the line, since a literal may
        // begin with it (a `^` anchor); such a hit is for the line after the break.
        let lit = match lits {
            Some(ac) => match ac.find(aho_corasick::Input::new(hay).range(at - 1..)) {
                Some(m) => m.start() + usize::from(hay[m.start()] == b'\n'),
                None => NONE,
            },
            None => NONE,
        };
        if rest_next != NONE && rest_next < at {
            rest_next = pre
                .rest
                .as_ref()
                .and_then(|re| re.find(regex_automata::Input::new(hay).range(at..)))
                .map_or(NONE, |m| m.start());
        }
        for (next, f) in exotic_next.iter_mut().zip(&pre.exotic) {
            if *next != NONE && *next < at {
                *next = f.find(&hay[at..]).map_or(NONE, |p| at + p);
            }
        }
        let exotic = exotic_next.iter().copied().min().unwrap_or(NONE);
        let hit = lit.min(rest_next).min(exotic);
        if hit >= hay.len() {
            break;
        }
        let line_start = memchr::memrchr(b'\n', &hay[at..hit]).map_or(at, |p| at + p + 1);
        // The hay ends with a line break, and a hit is never on the one before a line.
        let line_end = memchr::memchr(b'\n', &hay[hit..]).map_or(hay.len() - 1, |p| hit + p);
        line_no += memchr::memchr_iter(b'\n', &hay[counted_to..line_start]).count() as u64;
        counted_to = line_start;
        part.cands.push(Cand {
            line: line_no + 1,
            start: offset + line_start,
            end: offset + line_end,
            why: Hits {
                lit: lit <= line_end,
                rest: rest_next <= line_end,
                exotic: exotic <= line_end,
            },
        });
        at = line_end + 1;
    }
    part.lines = line_no + memchr::memchr_iter(b'\n', &hay[counted_to..]).count() as u64;
}
