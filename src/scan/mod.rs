//! `scan`: classify raw text (log lines, a pasted stopped reason, service events) with
//! the same rules and reports as `doctor`. Log input is streamed in blocks: one
//! multi-pattern pass (an Aho-Corasick automaton over literals that every log pattern's
//! matches contain, split across the cores) finds the lines worth a look, the patterns
//! themselves then run on those lines only, and the lines they match become records for
//! the engine, folded by identical text. Memory stays flat whatever the input's size.
//! `bench/` holds the benchmark against grep and ripgrep.

use crate::engine::{analyze_as, Mode};
use crate::error::{Error, Result};
use crate::report::Report;
use crate::rules::{check::records_for, RuleSet, Source};
use crate::snapshot::{
    LogLine, Sealed, Service, ServiceEvent, Snapshot, Task, SNAPSHOT_SCHEMA_VERSION,
};
use chrono::{TimeZone, Utc};
use std::collections::HashMap;

/// What kind of text is being scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanSource {
    /// Application log lines (one record per line).
    Log,
    /// A task's stopped reason (one record per paragraph).
    StoppedReason,
    /// ECS service events (one record per paragraph).
    ServiceEvent,
}

/// Builds a snapshot from scanned records.
fn snapshot_of(source: ScanSource, records: Vec<(String, u64, u64)>) -> Sealed {
    let mut snap = Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        ..Snapshot::default()
    };
    match source {
        ScanSource::Log => {
            snap.logs = records
                .into_iter()
                .map(|(message, line, count)| LogLine {
                    message,
                    line: Some(line),
                    count,
                    ..LogLine::default()
                })
                .collect();
        }
        ScanSource::StoppedReason => {
            snap.tasks = records
                .into_iter()
                .enumerate()
                .map(|(i, (reason, _, _))| Task {
                    id: format!("input-{}", i + 1),
                    task_definition: String::new(),
                    last_status: "STOPPED".into(),
                    stopped_reason: Some(reason),
                    ..Task::default()
                })
                .collect();
        }
        ScanSource::ServiceEvent => {
            let epoch = Utc.timestamp_opt(0, 0).unwrap();
            snap.services = vec![Service {
                name: "input".into(),
                events: records
                    .into_iter()
                    .map(|(message, _, _)| ServiceEvent {
                        id: None,
                        created_at: epoch,
                        message,
                    })
                    .collect(),
                ..Service::default()
            }];
        }
    }
    Sealed::new(snap)
}

fn source_of(s: ScanSource) -> Source {
    match s {
        ScanSource::Log => Source::Log,
        ScanSource::StoppedReason => Source::StoppedReason,
        ScanSource::ServiceEvent => Source::ServiceEvent,
    }
}

/// Classifies an in-memory text.
pub fn scan_text(text: &str, source: ScanSource, rules: &RuleSet) -> Report {
    let mut records: Vec<(String, u64, u64)> = Vec::new();
    let mut pos: HashMap<String, usize> = HashMap::new();
    for (i, rec) in records_for(source_of(source), text).into_iter().enumerate() {
        if rec.trim().is_empty() {
            continue;
        }
        match pos.get(&rec) {
            Some(&p) => records[p].2 += 1,
            None => {
                pos.insert(rec.clone(), records.len());
                records.push((rec, i as u64 + 1, 1));
            }
        }
    }
    analyze_as(&snapshot_of(source, records), rules, Mode::Scan)
}

mod input;
mod literals;
mod terms;
pub use terms::ServerTerms;

/// Bytes read per block.
const CHUNK: usize = 2 << 20;
/// Longest line `scan` matches whole; longer ones are matched on their first part.
pub const MAX_LINE: usize = 1 << 20;
/// Distinct candidate lines kept; further repeats of kept lines are still counted.
const MAX_DISTINCT: usize = 20_000;

/// The two non-ASCII characters that Unicode case folding equates with ASCII letters
/// (`ſ` ~ `s`, Kelvin `K` ~ `k`). Literals are scanned for in their ASCII spellings only,
/// so a line holding one of these is checked against every pattern instead.
const FOLD_EXOTIC: [char; 2] = ['\u{17F}', '\u{212A}'];

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
    pats: Vec<regex::Regex>,
    /// Literal automaton and, per automaton pattern, the indexes into `pats` it serves.
    lits: Option<aho_corasick::AhoCorasick>,
    lit_pats: Vec<Vec<u32>>,
    /// Union of the patterns without a usable literal, and their indexes into `pats`.
    rest: Option<regex::bytes::Regex>,
    rest_pats: Vec<u32>,
    /// Finders for `FOLD_EXOTIC` (UTF-8), when some literal was spelled without them.
    exotic: Vec<memchr::memmem::Finder<'static>>,
}

impl std::fmt::Debug for Prefilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prefilter({} patterns)", self.pats.len())
    }
}

impl Prefilter {
    /// Builds the prefilter from every signal that reads logs.
    pub fn new(rules: &RuleSet) -> Prefilter {
        let pats: Vec<regex::Regex> = rules
            .rules
            .iter()
            .flat_map(|r| r.signals.iter())
            .filter(|s| s.reads(Source::Log))
            .flat_map(|s| s.patterns.iter().cloned())
            .collect();
        let mut lit_ids: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut lit_list: Vec<Vec<u8>> = Vec::new();
        let mut lit_pats: Vec<Vec<u32>> = Vec::new();
        let mut rest_hirs = Vec::new();
        let mut rest_pats = Vec::new();
        let mut folded = false;
        for (i, p) in pats.iter().enumerate() {
            let hir = regex_syntax::ParserBuilder::new().build().parse(p.as_str());
            match hir.as_ref().ok().and_then(literals::required) {
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
                    // The rule loader compiled the pattern, so it parses; should the two
                    // ever disagree, the empty regex (a hit on every line) stays correct.
                    rest_hirs.push(hir.map_or_else(
                        |_| regex_syntax::hir::Hir::empty(),
                        |h| literals::unanchored(&h),
                    ));
                }
            }
        }
        let (lit_list, lit_pats) = minimize(lit_list, lit_pats);
        let lits = (!lit_list.is_empty()).then(|| {
            let build = |kind| {
                aho_corasick::AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(aho_corasick::MatchKind::Standard)
                    .kind(kind)
                    .build(&lit_list)
            };
            build(Some(aho_corasick::AhoCorasickKind::DFA))
                .or_else(|_| build(None))
                .expect("literal automaton builds")
        });
        let rest = (!rest_hirs.is_empty()).then(|| {
            let union = regex_syntax::hir::Hir::alternation(rest_hirs).to_string();
            regex::bytes::RegexBuilder::new(&union)
                .size_limit(256 << 20)
                .dfa_size_limit(2 << 20)
                .build()
                // Too big for the regex crate: every line becomes a candidate and the
                // patterns themselves decide.
                .unwrap_or_else(|_| regex::bytes::Regex::new("").expect("empty regex"))
        });
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
        let exotic = self
            .exotic
            .iter()
            .any(|f| f.find(message.as_bytes()).is_some());
        if exotic {
            return self.pats.iter().any(|p| p.is_match(message));
        }
        if let Some(ac) = &self.lits {
            for m in ac.find_overlapping_iter(message.as_bytes()) {
                let pats = &self.lit_pats[m.pattern().as_usize()];
                if pats
                    .iter()
                    .any(|&p| self.pats[p as usize].is_match(message))
                {
                    return true;
                }
            }
        }
        self.rest
            .as_ref()
            .is_some_and(|r| r.is_match(message.as_bytes()))
            && self
                .rest_pats
                .iter()
                .any(|&p| self.pats[p as usize].is_match(message))
    }

    /// True when some log pattern matches the message of a line. `raw` is the line
    /// with the line breaks around it, `text` without them (and without a trailing
    /// CR); `why` says which scanners hit the line.
    fn confirm(&self, raw: &[u8], text: &str, why: Hits, seen: &mut Seen) -> bool {
        let (_, _, message) = split_tail_prefix(text);
        if why.exotic {
            return self.pats.iter().any(|p| p.is_match(message));
        }
        if why.lit {
            if let Some(ac) = &self.lits {
                seen.next_line(self.pats.len());
                for m in ac.find_overlapping_iter(raw) {
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

/// Drops the literals that contain another one: a line holding the longer one holds the
/// shorter, which then stands for the patterns of both.
fn minimize(lits: Vec<Vec<u8>>, pats: Vec<Vec<u32>>) -> (Vec<Vec<u8>>, Vec<Vec<u32>>) {
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
struct Hits {
    lit: bool,
    rest: bool,
    exotic: bool,
}

/// Which patterns were already tried on the current line.
#[derive(Default)]
struct Seen {
    stamp: Vec<u32>,
    line: u32,
}

impl Seen {
    fn next_line(&mut self, n: usize) {
        if self.stamp.len() != n {
            self.stamp = vec![0; n];
        }
        self.line = self.line.wrapping_add(1);
        if self.line == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.line = 1;
        }
    }

    fn first(&mut self, p: u32) -> bool {
        let s = &mut self.stamp[p as usize];
        let new = *s != self.line;
        *s = self.line;
        new
    }
}

/// Candidate lines collected while streaming, folded by text.
#[derive(Default)]
struct Collector {
    lines: Vec<LogLine>,
    pos: HashMap<String, usize>,
    dropped: u64,
}

impl Collector {
    fn add(&mut self, name: &str, line_no: u64, line: &str) {
        let (timestamp, stream, message) = split_tail_prefix(line);
        if let Some(&p) = self.pos.get(message) {
            let l = &mut self.lines[p];
            l.count += 1;
            if timestamp.is_some() && timestamp > l.last_timestamp.or(l.timestamp) {
                l.last_timestamp = timestamp;
            }
            return;
        }
        if self.lines.len() >= MAX_DISTINCT {
            self.dropped += 1;
            return;
        }
        self.pos.insert(message.to_string(), self.lines.len());
        let task_id = stream.and_then(|s| s.rsplit('/').next()).map(String::from);
        let container = stream.and_then(|s| {
            let parts: Vec<&str> = s.split('/').collect();
            (parts.len() == 3).then(|| parts[1].to_string())
        });
        self.lines.push(LogLine {
            group: None,
            stream: Some(match stream {
                Some(s) => format!("{name}:{line_no} {s}"),
                None => format!("{name}:{line_no}"),
            }),
            timestamp,
            message: message.to_string(),
            task_id: if stream.is_some() { task_id } else { None },
            container,
            line: Some(line_no),
            count: 1,
            last_timestamp: None,
        });
    }
}

/// Splits the `TIMESTAMP STREAM ` prefix that `aws logs tail` prints, when present.
fn split_tail_prefix(line: &str) -> (Option<chrono::DateTime<Utc>>, Option<&str>, &str) {
    let mut parts = line.splitn(3, ' ');
    if let (Some(ts), Some(stream), Some(rest)) = (parts.next(), parts.next(), parts.next()) {
        if ts.len() >= 20 && ts.as_bytes()[4] == b'-' && ts.contains('T') && stream.contains('/') {
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(ts) {
                return (Some(t.with_timezone(&Utc)), Some(stream), rest);
            }
        }
    }
    (None, None, line)
}

/// Streams one input through the prefilter, collecting candidate lines. Imperfect text
/// is read anyway and noted in `quality`: invalid UTF-8 lossily, NUL bytes as spaces, and
/// a line longer than [`MAX_LINE`] on its first part. Returns 0 when the input held
/// nothing but whitespace.
fn stream_log(
    mut input: impl std::io::Read,
    name: &str,
    pre: &Prefilter,
    col: &mut Collector,
    quality: &mut input::Quality,
) -> Result<u64> {
    let io = |source| Error::Io {
        path: name.into(),
        source,
    };
    // buf[0] is a line break, so every line searched has one before it; then come a
    // carried-over partial line (at most MAX_LINE bytes) and a chunk, and room for a
    // line break after a last line that has none.
    let mut buf: Vec<u8> = vec![0; 1 + MAX_LINE + CHUNK + 1];
    buf[0] = b'\n';
    let mut len = 0; // bytes held, in buf[1..1 + len]
    let mut parts: Vec<Part> = (0..threads()).map(|_| Part::default()).collect();
    let mut seen = Seen::default();
    let mut lines_before: u64 = 0;
    let mut content: u64 = 0;
    let mut offset: u64 = 0; // bytes of the input read so far
    let mut skipping = false; // inside a too-long line, after its first part
    let mut eof = false;
    while !eof {
        let start = len;
        let want = len + CHUNK;
        while len < want {
            let n = match input.read(&mut buf[1 + len..1 + want]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(e)),
            };
            if n == 0 {
                eof = true;
                break;
            }
            len += n;
        }
        quality.clear_nuls(&mut buf[1 + start..1 + len], offset);
        offset += (len - start) as u64;
        if skipping {
            // Drop the rest of the too-long line, through its line break.
            match memchr::memchr(b'\n', &buf[1 + start..1 + len]) {
                Some(p) => {
                    let keep_from = start + p + 1;
                    buf.copy_within(1 + keep_from..1 + len, 1 + start);
                    len -= keep_from - start;
                    skipping = false;
                }
                None => {
                    len = start;
                    continue;
                }
            }
        }
        if content == 0
            && buf[1 + start..1 + len]
                .iter()
                .any(|b| !b.is_ascii_whitespace())
        {
            content = 1;
        }
        let cut = if eof {
            len
        } else {
            memchr::memrchr(b'\n', &buf[1 + start..1 + len]).map_or(0, |p| start + p + 1)
        };
        if cut > 0 {
            lines_before = scan_whole_lines(
                &mut buf,
                cut,
                name,
                lines_before,
                pre,
                &mut parts,
                &mut seen,
                col,
                quality,
            );
        }
        buf.copy_within(1 + cut..1 + len, 1);
        len -= cut;
        if len > MAX_LINE {
            // A line longer than the buffer: match its first part, skip the rest.
            quality.long_line(lines_before + 1);
            let first = input::char_prefix(&buf[1..1 + len], MAX_LINE);
            lines_before = scan_whole_lines(
                &mut buf,
                first,
                name,
                lines_before,
                pre,
                &mut parts,
                &mut seen,
                col,
                quality,
            );
            skipping = true;
            len = 0;
        }
    }
    Ok(content)
}

/// Scans `buf[1..1 + cut]`, which ends at a line break or at the end of the input (a
/// line break is added after it), and returns the line count after it.
#[allow(clippy::too_many_arguments)]
fn scan_whole_lines(
    buf: &mut [u8],
    cut: usize,
    name: &str,
    lines_before: u64,
    pre: &Prefilter,
    parts: &mut [Part],
    seen: &mut Seen,
    col: &mut Collector,
    quality: &mut input::Quality,
) -> u64 {
    let block = &buf[1..1 + cut];
    quality.check_utf8(block, lines_before);
    quality.check_lengths(block, lines_before);
    let mut end = 1 + cut;
    if buf[cut] != b'\n' {
        buf[end] = b'\n';
        end += 1;
    }
    scan_block(&buf[..end], name, lines_before, pre, parts, seen, col)
}

/// A line a scanner hit: its number within the part searched (1-based), where it is
/// (without its line break), and which scanners hit it.
struct Cand {
    line: u64,
    start: usize,
    end: usize,
    why: Hits,
}

/// Per-thread results for one part of a block.
#[derive(Default)]
struct Part {
    cands: Vec<Cand>,
    lines: u64,
}

/// Threads a block is split across: the available cores, at most 4.
fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
}

/// Blocks smaller than this are searched on one thread.
const PARALLEL_MIN: usize = 256 << 10;

/// Finds the candidate lines of `hay` (whole lines of valid UTF-8 between a leading and
/// a trailing line break) and adds them to `col` in input order. The scan for hits is
/// split at line breaks across `parts.len()` threads; the patterns then run here, on
/// this thread, so their caches exist once. Returns the line count after the block.
fn scan_block(
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
fn hits(hay: &[u8], offset: usize, pre: &Prefilter, part: &mut Part) {
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
    while at < hay.len() {
        // Literals: searched from the line break before the line, since a literal may
        // begin with it (a `^` anchor); such a hit is for the line after the break.
        let lit = match &pre.lits {
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
                .and_then(|re| re.find_at(hay, at))
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

/// A scan's report, and what it noticed about imperfect input (also in the report's
/// notes), for the binary to say on stderr.
pub struct Scanned {
    pub report: Report,
    pub input_notes: Vec<String>,
}

/// Scans files (or standard input for none or `-`). Only input that cannot be read at
/// all is an error: imperfect text is read and noted.
pub fn scan_inputs(
    files: &[std::path::PathBuf],
    source: ScanSource,
    rules: &RuleSet,
) -> Result<Scanned> {
    let stdin_only = files.is_empty();
    let names: Vec<Option<&std::path::Path>> = if stdin_only {
        vec![None]
    } else {
        files
            .iter()
            .map(|f| {
                if f.as_os_str() == "-" {
                    None
                } else {
                    Some(f.as_path())
                }
            })
            .collect()
    };
    let open = |p: Option<&std::path::Path>| -> Result<(Box<dyn std::io::Read>, String)> {
        match p {
            None => Ok((Box::new(std::io::stdin().lock()), "stdin".to_string())),
            Some(p) => {
                let f = std::fs::File::open(p).map_err(|source| Error::Io {
                    path: p.to_path_buf(),
                    source,
                })?;
                Ok((Box::new(f), p.display().to_string()))
            }
        }
    };
    let mut notes = Vec::new();
    if source != ScanSource::Log {
        let mut text = String::new();
        for p in names {
            let (mut r, name) = open(p)?;
            let mut bytes = Vec::new();
            r.read_to_end(&mut bytes).map_err(|source| Error::Io {
                path: name.clone().into(),
                source,
            })?;
            let mut quality = input::Quality::default();
            quality.clear_nuls(&mut bytes, 0);
            quality.check_utf8(&bytes, 0);
            notes.extend(quality.notes(&name));
            text.push_str(&String::from_utf8_lossy(&bytes));
            text.push_str("\n\n");
        }
        let mut report = scan_text(&text, source, rules);
        report.notes.extend(notes.iter().cloned());
        return Ok(Scanned {
            report,
            input_notes: notes,
        });
    }
    let pre = Prefilter::new(rules);
    let mut col = Collector::default();
    let mut any = false;
    for p in names {
        let (r, name) = open(p)?;
        let mut quality = input::Quality::default();
        any |= stream_log(r, &name, &pre, &mut col, &mut quality)? > 0;
        notes.extend(quality.notes(&name));
    }
    let snap = Sealed::new(Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        logs: col.lines,
        ..Snapshot::default()
    });
    let mut report = analyze_as(&snap, rules, Mode::Scan);
    if !any {
        report.notes.push("the input held no text".into());
    }
    report.notes.extend(notes.iter().cloned());
    if col.dropped > 0 {
        report.notes.push(format!(
            "{} candidate lines beyond the first {MAX_DISTINCT} distinct ones were not analysed",
            col.dropped
        ));
    }
    Ok(Scanned {
        report,
        input_notes: notes,
    })
}

use std::io::Read as _;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn lits_of(p: &str) -> Option<BTreeSet<String>> {
        let hir = regex_syntax::ParserBuilder::new().build().parse(p).unwrap();
        literals::required(&hir).map(|(s, _)| {
            s.into_iter()
                .map(|b| String::from_utf8(b).unwrap())
                .collect()
        })
    }

    fn set(xs: &[&str]) -> Option<BTreeSet<String>> {
        Some(xs.iter().map(|x| x.to_string()).collect())
    }

    #[test]
    fn literal_extraction() {
        assert_eq!(lits_of("widget exploded"), set(&["widget exploded"]));
        assert_eq!(lits_of("(?i)ECONNREFUSED"), set(&["econnrefused"]));
        assert_eq!(
            lits_of(r"(?i)timed? ?out"),
            set(&["time out", "timed out", "timedout", "timeout"])
        );
        assert_eq!(
            lits_of("^137$"),
            set(&["\n137\n", "\n137\r", " 137\n", " 137\r"])
        );
        // The required factor of a concatenation; the digits beat a common word.
        assert_eq!(
            lits_of(r"\b10048\b[^\n]{0,60}(?:socket|address)"),
            set(&["10048"])
        );
        assert_eq!(
            lits_of(r"(?P<ip>\d+\.\d+)\D{0,9}(?:refused|reset)"),
            set(&["refused", "reset"])
        );
        // Case folding to non-ASCII letters is handled by a separate check.
        assert_eq!(lits_of("(?i)kiss"), set(&["kiss"]));
        // Nothing worth scanning for.
        assert_eq!(lits_of(r"\d+-\d+"), None);
        assert_eq!(lits_of(r"a|bc"), None);
        assert_eq!(lits_of(r"(?:foo)?bar*"), None);
    }

    const RULE: &str = r#"id = "TST001"
name = "test"
title = "test"
severity = "high"
message = "m"
[[signal]]
source = "log"
pattern = ['(?i)widget (?:exploded|melted)', '^137$', '(?m)^state=(?P<s>\w+)\s*$', '\d{3}-\d{4}-\w', '(?i)SIGKILL', 'Ünïcode ſtuff']
[docs]
why = "w"
fix = ["f"]
"#;

    fn rules() -> RuleSet {
        RuleSet::from_rules(vec![crate::rules::parse_rule(RULE, "TST001.toml").unwrap()]).unwrap()
    }

    /// Reads in small, uneven pieces.
    struct Dribble<'a>(&'a [u8], usize);

    impl std::io::Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.1 = self.1 % 7 + 1;
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn collect(input: &[u8], rules: &RuleSet, dribble: bool) -> Result<Collector> {
        let pre = Prefilter::new(rules);
        let mut col = Collector::default();
        if dribble {
            stream_log(
                Dribble(input, 0),
                "t",
                &pre,
                &mut col,
                &mut Default::default(),
            )?;
        } else {
            stream_log(input, "t", &pre, &mut col, &mut Default::default())?;
        }
        Ok(col)
    }

    /// Lines of every rule example and of the labelled corpus, and a few more.
    fn base_lines(rules: &RuleSet) -> Vec<String> {
        let mut base: Vec<String> = rules
            .rules
            .iter()
            .flat_map(|r| r.examples.iter())
            .flat_map(|e| e.text.lines().map(String::from).collect::<Vec<_>>())
            .collect();
        let corpus = include_str!("../../tests/corpus/dev.jsonl");
        for l in corpus.lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(l) {
                if let Some(t) = v["text"].as_str() {
                    base.extend(t.lines().map(String::from));
                }
            }
        }
        base.extend(
            [
                "the widget exploded",
                "THE WIDGET MELTED!",
                "137",
                "exit 137",
                "state=unhealthy",
                "state=ok now",
                "call 555-1234-x",
                "got sigkill",
                "Ünïcode ſtuff",
                "ÜNÏCODE STUFF",
                "nothing to see here",
            ]
            .map(String::from),
        );
        base
    }

    /// Ways a line can appear in a log.
    const VARIANTS: [fn(&str) -> String; 7] = [
        |l| l.to_string(),
        |l| l.to_uppercase(),
        |l| l.to_lowercase(),
        |l| format!("2024-05-01T10:00:00.123Z ecs/api/0123456789abcdef {l}"),
        |l| format!("{l}\r"),
        |l| format!("at the start: {l} ... and more"),
        |l| l.replace('s', "\u{17F}").replace('k', "\u{212A}"),
    ];

    /// The messages the engine would match, as the collector keeps them (redaction
    /// comes later, when the snapshot is sealed).
    fn expected(lines: &[String], rules: &RuleSet) -> BTreeSet<String> {
        let pre = Prefilter::new(rules);
        lines
            .iter()
            .map(|l| split_tail_prefix(l.trim_end_matches('\r')).2)
            .filter(|m| pre.pats.iter().any(|p| p.is_match(m)))
            .map(String::from)
            .collect()
    }

    fn got(col: &Collector) -> BTreeSet<String> {
        col.lines.iter().map(|l| l.message.clone()).collect()
    }

    #[test]
    fn candidates_are_exactly_the_matching_lines() {
        for rules in [RuleSet::builtin().unwrap(), rules()] {
            let base = base_lines(&rules);
            let mut all = Vec::new();
            // One input per variant, so that no other line folds onto a missed one.
            for (i, v) in VARIANTS.iter().enumerate() {
                let lines: Vec<String> = base
                    .iter()
                    .map(|l| v(l))
                    .filter(|l| !l.contains('\n'))
                    .collect();
                let want = expected(&lines, &rules);
                assert!(!want.is_empty());
                let input = lines.join("\n");
                assert_eq!(
                    got(&collect(input.as_bytes(), &rules, false).unwrap()),
                    want,
                    "variant {i}"
                );
                assert_eq!(
                    got(&collect(input.as_bytes(), &rules, true).unwrap()),
                    want,
                    "variant {i}"
                );
                all.extend(lines);
            }
            // Large enough for several blocks, each split across threads.
            let want = expected(&all, &rules);
            let mut big = String::new();
            let filler = "{\"level\":30,\"msg\":\"request completed\",\"url\":\"/api/v1/items/1234\",\"ms\":12}\n";
            while big.len() < 5 * CHUNK {
                for l in &all {
                    big.push_str(l);
                    big.push('\n');
                    for _ in 0..20 {
                        big.push_str(filler);
                    }
                }
            }
            assert_eq!(got(&collect(big.as_bytes(), &rules, false).unwrap()), want);
        }
    }

    #[test]
    fn line_numbers_and_counts_across_blocks() {
        let rules = rules();
        let filler = "INFO:     10.0.1.5:51234 - \"GET /health HTTP/1.1\" 200 OK\n";
        let mut input = String::new();
        let mut want = Vec::new();
        let mut line = 0u64;
        for i in 0..400_000u64 {
            line += 1;
            if i % 9_973 == 0 {
                input.push_str(&format!("widget exploded #{}\n", i % 3));
                if i < 3 * 9_973 {
                    want.push((format!("widget exploded #{}", i % 3), line));
                }
            } else {
                input.push_str(filler);
            }
        }
        input.push_str("137"); // last line, no line break
        want.push(("137".into(), line + 1));
        assert!(input.len() > 3 * CHUNK);
        for dribble in [false, true] {
            let col = collect(input.as_bytes(), &rules, dribble).unwrap();
            let seen: Vec<(String, u64)> = col
                .lines
                .iter()
                .map(|l| (l.message.clone(), l.line.unwrap()))
                .collect();
            assert_eq!(seen, want);
            let total: u64 = col.lines.iter().map(|l| l.count).sum();
            assert_eq!(total, 400_000 / 9_973 + 1 + 1);
            assert_eq!(col.lines[0].stream.as_deref(), Some("t:1"));
        }
    }

    #[test]
    fn tail_prefix_is_split() {
        let col = collect(
            b"2024-05-01T10:00:00.123Z ecs/api/abc123 the widget exploded\n",
            &rules(),
            false,
        )
        .unwrap();
        let l = &col.lines[0];
        assert_eq!(l.message, "the widget exploded");
        assert_eq!(l.task_id.as_deref(), Some("abc123"));
        assert_eq!(l.container.as_deref(), Some("api"));
        assert_eq!(l.stream.as_deref(), Some("t:1 ecs/api/abc123"));
    }

    /// Streams `input` (in one piece or dribbled) and returns the messages collected, with
    /// their line numbers, and the notes about imperfect text.
    fn read(input: &[u8], rules: &RuleSet, dribble: bool) -> (Vec<(u64, String)>, Vec<String>) {
        let pre = Prefilter::new(rules);
        let mut col = Collector::default();
        let mut q = input::Quality::default();
        if dribble {
            stream_log(Dribble(input, 0), "t", &pre, &mut col, &mut q).unwrap();
        } else {
            stream_log(input, "t", &pre, &mut col, &mut q).unwrap();
        }
        let lines = col
            .lines
            .iter()
            .map(|l| (l.line.unwrap_or(0), l.message.clone()))
            .collect();
        (lines, q.notes("t"))
    }

    #[test]
    fn imperfect_text_is_read_and_noted() {
        let rules = rules();
        // A line longer than the limit is matched on its first part; the rest of it is
        // skipped and the lines after it are read with the right numbers.
        let mut input = "ok\n".repeat(1000).into_bytes();
        input.extend(b"widget exploded ");
        input.extend(vec![b'a'; 2 * MAX_LINE]);
        input.extend(b" widget exploded at the end\nthe widget exploded again\n");
        for dribble in [false, true] {
            if dribble && input.len() > 4 * MAX_LINE {
                continue;
            }
            let (lines, notes) = read(&input, &rules, dribble);
            assert_eq!(lines.len(), 2, "{:?}", notes);
            assert_eq!(lines[0].0, 1001);
            assert!(lines[0].1.starts_with("widget exploded aaa"));
            assert!(lines[0].1.len() <= MAX_LINE);
            assert_eq!(lines[1], (1002, "the widget exploded again".to_string()));
            assert_eq!(
                notes,
                ["t: 1 line longer than 1 MiB (first: line 1001), matched on their first 1 MiB"]
            );
        }
        // Past the first part, a signature is not seen (the documented cost).
        let mut input = vec![b'a'; MAX_LINE + 10];
        input.extend(b" widget exploded\n");
        assert!(read(&input, &rules, false).0.is_empty());
        // Exactly MAX_LINE is a whole line: no note.
        let mut input = vec![b'a'; MAX_LINE];
        input.extend(b"\nwidget exploded\n");
        let (lines, notes) = read(&input, &rules, false);
        assert_eq!((lines.len(), notes.len()), (1, 0));
        // Invalid UTF-8 in a later block is read as U+FFFD, and its first place is named.
        let mut input = "ok\n".repeat(1_000_000).into_bytes();
        input.extend(b"fine \xff widget exploded \xfe\n");
        let (lines, notes) = read(&input, &rules, false);
        assert_eq!(
            lines,
            [(
                1_000_001,
                "fine \u{FFFD} widget exploded \u{FFFD}".to_string()
            )]
        );
        assert_eq!(
            notes,
            ["t: 2 invalid UTF-8 sequences (first at 1000001:6), read as U+FFFD"]
        );
        // NUL bytes: binary, said once, read as spaces.
        let (lines, notes) = read(b"\x00\x00bin\nwidget\x00exploded\n", &rules, true);
        assert_eq!(lines, [(2, "widget exploded".to_string())]);
        assert_eq!(
            notes,
            ["t: looks binary: 3 NUL bytes (first at byte 0), read as spaces"]
        );
    }

    /// Prints each log pattern's literals and, with SCAN_LOG=FILE, how often they hit.
    #[test]
    #[ignore]
    fn literal_report() {
        let rules = RuleSet::builtin().unwrap();
        let pre = Prefilter::new(&rules);
        for (i, p) in pre.pats.iter().enumerate() {
            eprintln!("{i:3} {:?}\n    {}", lits_of(p.as_str()), p.as_str());
        }
        eprintln!(
            "{} literals, {} residual patterns",
            pre.lit_pats.len(),
            pre.rest_pats.len()
        );
        if let Ok(f) = std::env::var("SCAN_LOG") {
            let text = std::fs::read_to_string(f).unwrap();
            let mut by_lit: HashMap<usize, usize> = HashMap::new();
            for line in text.lines() {
                if let Some(m) = pre
                    .lits
                    .as_ref()
                    .and_then(|ac| ac.find(format!("\n{line}\n").as_bytes()))
                {
                    *by_lit.entry(m.pattern().as_usize()).or_default() += 1;
                }
            }
            let mut v: Vec<_> = by_lit.into_iter().collect();
            v.sort_by_key(|x| std::cmp::Reverse(x.1));
            for (id, n) in v.iter().take(20) {
                eprintln!(
                    "{n:8} lines: literal {id} of patterns {:?}",
                    pre.lit_pats[*id]
                );
            }
        }
    }
}
