//! `scan`: classify raw text (log lines, a pasted stopped reason, service events) with
//! the same rules and reports as `doctor`. Log input is streamed: one multi-pattern
//! prefilter pass over large buffers finds candidate lines, and only those lines become
//! records for the engine, folded by identical text.

use crate::engine::{analyze_as, Mode};
use crate::error::{Error, Result};
use crate::report::Report;
use crate::rules::{check::records_for, RuleSet, Source};
use crate::snapshot::{LogLine, Service, ServiceEvent, Snapshot, Task, SNAPSHOT_SCHEMA_VERSION};
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
fn snapshot_of(source: ScanSource, records: Vec<(String, u64, u64)>) -> Snapshot {
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
    crate::snapshot::redact::redact_snapshot(&mut snap);
    snap
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

/// Checks that input is usable text; `name` is used in messages.
pub fn validate_input(bytes: &[u8], name: &str) -> Result<()> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::Input {
            file: name.into(),
            message: "input is empty".into(),
        });
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        let (line, col) = crate::error::line_col(
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
            e.valid_up_to(),
        );
        return Err(Error::At {
            file: name.into(),
            line,
            col,
            message: "input is not valid UTF-8".into(),
        });
    }
    Ok(())
}

/// Bytes read per block.
const CHUNK: usize = 1 << 20;
/// Longest line `scan` accepts.
pub const MAX_LINE: usize = 1 << 20;
/// Distinct candidate lines kept; further repeats of kept lines are still counted.
const MAX_DISTINCT: usize = 20_000;

/// The compiled prefilter: finds the lines any log signal could match, in one pass.
///
/// Every log-reading pattern is reduced to a set of literals at least one of which
/// occurs in each of its matches (`literals`). One ASCII-case-insensitive Aho-Corasick
/// automaton over all of them scans each block; only a line where a literal occurs is
/// looked at again, and there just the patterns that own the literals found run, on
/// the message the engine will see. Patterns without a usable literal are joined into
/// one regex (with line anchors dropped, so it can only match more) that scans blocks
/// too. The candidate lines are therefore exactly the lines some log pattern matches.
pub struct Prefilter<'r> {
    /// Every log-reading pattern, compiled once by the rule loader (shared caches).
    pats: Vec<&'r regex::Regex>,
    /// Literal automaton and, per automaton pattern, the indexes into `pats` it serves.
    lits: Option<aho_corasick::AhoCorasick>,
    lit_pats: Vec<Vec<u32>>,
    /// Patterns without a usable literal: their union, and their indexes into `pats`.
    rest: Option<regex::bytes::Regex>,
    rest_pats: Vec<u32>,
}

impl<'r> Prefilter<'r> {
    /// Builds the prefilter from every signal that reads logs.
    pub fn new(rules: &'r RuleSet) -> Prefilter<'r> {
        let pats: Vec<&regex::Regex> = rules
            .rules
            .iter()
            .flat_map(|r| r.signals.iter())
            .filter(|s| s.reads(Source::Log))
            .flat_map(|s| s.patterns.iter())
            .collect();
        let mut lit_ids: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut lit_list: Vec<Vec<u8>> = Vec::new();
        let mut lit_pats: Vec<Vec<u32>> = Vec::new();
        let mut rest_hirs = Vec::new();
        let mut rest_pats = Vec::new();
        for (i, p) in pats.iter().enumerate() {
            let hir = regex_syntax::ParserBuilder::new().build().parse(p.as_str());
            let set = hir.as_ref().ok().and_then(literals::required);
            match set {
                Some(set) => {
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
                    // The engine compiled this pattern, so it parses; if regex-syntax ever
                    // disagrees, an empty regex (matches every line) keeps the superset.
                    rest_hirs.push(hir.map(|h| literals::unanchored(&h)).unwrap_or_else(|_| regex_syntax::hir::Hir::empty()));
                }
            }
        }
        let lits = (!lit_list.is_empty()).then(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(aho_corasick::MatchKind::Standard)
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(&lit_list)
                .or_else(|_| {
                    aho_corasick::AhoCorasick::builder()
                        .ascii_case_insensitive(true)
                        .match_kind(aho_corasick::MatchKind::Standard)
                        .build(&lit_list)
                })
                .expect("literal automaton builds")
        });
        let rest = (!rest_hirs.is_empty()).then(|| {
            let union = regex_syntax::hir::Hir::alternation(rest_hirs).to_string();
            regex::bytes::RegexBuilder::new(&union)
                .size_limit(256 << 20)
                .dfa_size_limit(8 << 20)
                .build()
                // Too big for the regex crate: every line becomes a candidate, and the
                // patterns themselves decide.
                .unwrap_or_else(|_| regex::bytes::Regex::new("").expect("empty regex"))
        });
        Prefilter {
            pats,
            lits,
            lit_pats,
            rest,
            rest_pats,
        }
    }

    /// True when some log pattern matches the message of `line` (a line of the input,
    /// without its line break). `lit`/`rest`: whether a literal / the residual regex
    /// hit this line.
    fn confirm(&self, line: &str, lit: bool, rest: bool, seen: &mut Seen) -> bool {
        let (_, _, message) = split_tail_prefix(line);
        if lit {
            if let Some(ac) = &self.lits {
                seen.next_line(self.pats.len());
                for m in ac.find_overlapping_iter(line) {
                    for &p in &self.lit_pats[m.pattern().as_usize()] {
                        if seen.first(p) && self.pats[p as usize].is_match(message) {
                            return true;
                        }
                    }
                }
            }
        }
        rest && self.rest_pats.iter().any(|&p| self.pats[p as usize].is_match(message))
    }
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

/// Literal extraction over `regex-syntax`'s HIR.
mod literals {
    use regex_syntax::hir::{Capture, Class, Hir, HirKind, Look, Repetition};

    /// Strings an exact set may hold before a run of literals is cut.
    const EXACT_MAX: usize = 64;
    /// Strings any set may hold.
    const SET_MAX: usize = 512;
    /// Members a character class may have to be spelled out.
    const CLASS_MAX: usize = 8;
    /// Shortest literal worth scanning for; patterns whose best set has a shorter one
    /// go to the residual regex.
    const MIN_LEN: usize = 3;

    type Set = Vec<Vec<u8>>;

    /// What is known of the text a piece of a pattern matches. Strings are ASCII
    /// lower-cased: the automaton ignores ASCII case (a superset for case-sensitive
    /// patterns).
    enum Lits {
        /// Each match is exactly one of these.
        Exact(Set),
        /// Each match contains one of these (none empty).
        Inner(Set),
        /// Nothing useful.
        Any,
    }
    use Lits::*;

    fn norm(mut v: Set) -> Set {
        for s in &mut v {
            s.make_ascii_lowercase();
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    /// A set of literals, one of which every match of `hir` contains, when there is a
    /// good one (none shorter than `MIN_LEN` bytes).
    pub fn required(hir: &Hir) -> Option<Set> {
        let set = match analyze(hir) {
            Exact(s) | Inner(s) => s,
            Any => return None,
        };
        (!set.is_empty() && set.iter().all(|s| s.len() >= MIN_LEN)).then_some(set)
    }

    fn analyze(hir: &Hir) -> Lits {
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => Exact(vec![Vec::new()]),
            HirKind::Literal(l) => Exact(norm(vec![l.0.to_vec()])),
            HirKind::Class(c) => class(c),
            HirKind::Capture(c) => analyze(&c.sub),
            HirKind::Repetition(r) => repetition(r),
            HirKind::Concat(hs) => concat(hs),
            HirKind::Alternation(hs) => alternation(hs),
        }
    }

    fn class(c: &Class) -> Lits {
        let mut out = Vec::new();
        match c {
            Class::Unicode(u) => {
                let n: u64 = u.ranges().iter().map(|r| r.end() as u64 - r.start() as u64 + 1).sum();
                if n > 4 * CLASS_MAX as u64 {
                    return Any;
                }
                for r in u.ranges() {
                    for ch in r.start()..=r.end() {
                        out.push(ch.to_string().into_bytes());
                    }
                }
            }
            Class::Bytes(b) => {
                let n: usize = b.ranges().iter().map(|r| r.end() as usize - r.start() as usize + 1).sum();
                if n > 4 * CLASS_MAX {
                    return Any;
                }
                for r in b.ranges() {
                    for byte in r.start()..=r.end() {
                        out.push(vec![byte]);
                    }
                }
            }
        }
        let out = norm(out);
        if out.is_empty() || out.len() > CLASS_MAX {
            Any
        } else {
            Exact(out)
        }
    }

    fn repetition(r: &Repetition) -> Lits {
        let sub = analyze(&r.sub);
        match (r.min, r.max, sub) {
            (0, Some(1), Exact(mut s)) if s.len() < EXACT_MAX => {
                s.push(Vec::new());
                Exact(norm(s))
            }
            (0, _, _) => Any,
            (1, Some(1), x) => x,
            (_, _, Exact(s)) if s.iter().any(|x| x.is_empty()) => Any,
            (_, _, Exact(s)) | (_, _, Inner(s)) => Inner(s),
            (_, _, Any) => Any,
        }
    }

    fn product(a: &Set, b: &Set) -> Set {
        let mut out = Vec::with_capacity(a.len() * b.len());
        for x in a {
            for y in b {
                let mut s = x.clone();
                s.extend_from_slice(y);
                out.push(s);
            }
        }
        norm(out)
    }

    /// The set worth scanning for: longest shortest member, then fewest members.
    fn best(cands: Vec<Set>) -> Option<Set> {
        cands
            .into_iter()
            .filter(|s| !s.is_empty() && s.len() <= SET_MAX && s.iter().all(|x| !x.is_empty()))
            .max_by_key(|s| (s.iter().map(|x| x.len()).min().unwrap_or(0).min(16), std::cmp::Reverse(s.len())))
    }

    fn concat(hs: &[Hir]) -> Lits {
        let mut cur: Set = vec![Vec::new()];
        let mut cands: Vec<Set> = Vec::new();
        let mut exact = true;
        for h in hs {
            match analyze(h) {
                Exact(s) => {
                    if cur.len() * s.len() <= EXACT_MAX {
                        cur = product(&cur, &s);
                    } else {
                        cands.push(std::mem::replace(&mut cur, s));
                        exact = false;
                    }
                }
                Inner(s) => {
                    cands.push(std::mem::replace(&mut cur, vec![Vec::new()]));
                    cands.push(s);
                    exact = false;
                }
                Any => {
                    cands.push(std::mem::replace(&mut cur, vec![Vec::new()]));
                    exact = false;
                }
            }
        }
        if exact {
            return Exact(cur);
        }
        cands.push(cur);
        best(cands).map_or(Any, Inner)
    }

    fn alternation(hs: &[Hir]) -> Lits {
        let mut out = Vec::new();
        let mut exact = true;
        for h in hs {
            match analyze(h) {
                Exact(s) => out.extend(s),
                Inner(s) => {
                    exact = false;
                    out.extend(s);
                }
                Any => return Any,
            }
        }
        let out = norm(out);
        let has_empty = out.iter().any(|s| s.is_empty());
        if exact && out.len() <= EXACT_MAX {
            Exact(out)
        } else if has_empty || out.len() > SET_MAX {
            Any
        } else {
            Inner(out)
        }
    }

    /// `hir` without line and text anchors and without capture groups: matches at
    /// least wherever `hir` does, inside any line (the message of an `aws logs tail`
    /// line does not start the line), and unions without capture-name clashes.
    pub fn unanchored(hir: &Hir) -> Hir {
        match hir.kind() {
            HirKind::Look(
                Look::Start | Look::End | Look::StartLF | Look::EndLF | Look::StartCRLF | Look::EndCRLF,
            ) => Hir::empty(),
            HirKind::Empty | HirKind::Look(_) | HirKind::Literal(_) | HirKind::Class(_) => hir.clone(),
            HirKind::Capture(Capture { sub, .. }) => unanchored(sub),
            HirKind::Repetition(r) => Hir::repetition(Repetition {
                min: r.min,
                max: r.max,
                greedy: r.greedy,
                sub: Box::new(unanchored(&r.sub)),
            }),
            HirKind::Concat(hs) => Hir::concat(hs.iter().map(unanchored).collect()),
            HirKind::Alternation(hs) => Hir::alternation(hs.iter().map(unanchored).collect()),
        }
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
            self.lines[p].count += 1;
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
            message: crate::snapshot::redact::redact_text(message).into_owned(),
            task_id: if stream.is_some() { task_id } else { None },
            container,
            line: Some(line_no),
            count: 1,
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

fn utf8_error(name: &str, block: &[u8], lines_before: u64, e: std::str::Utf8Error) -> Error {
    let upto = &block[..e.valid_up_to()];
    let line = lines_before + memchr::memchr_iter(b'\n', upto).count() as u64 + 1;
    let start = memchr::memrchr(b'\n', upto).map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&upto[start..]).chars().count() + 1;
    Error::At {
        file: name.into(),
        line: line as usize,
        col,
        message: "input is not valid UTF-8 (sickbay scan reads UTF-8 text)".into(),
    }
}

fn too_long(name: &str, line: u64) -> Error {
    Error::At {
        file: name.into(),
        line: line as usize,
        col: 1,
        message: format!(
            "line {line} is longer than {} MiB; sickbay scan reads line-oriented text",
            MAX_LINE >> 20
        ),
    }
}

/// Streams one input through the prefilter, collecting candidate lines. Returns 0 when
/// the input held nothing but whitespace.
fn stream_log(mut input: impl std::io::Read, name: &str, pre: &Prefilter, col: &mut Collector) -> Result<u64> {
    let io = |source| Error::Io {
        path: name.into(),
        source,
    };
    // Holds a carried-over partial line (at most MAX_LINE bytes) and one chunk.
    let mut buf: Vec<u8> = vec![0; MAX_LINE + CHUNK];
    let mut len = 0;
    let mut seen = Seen::default();
    let mut lines_before: u64 = 0;
    let mut content: u64 = 0;
    let mut eof = false;
    while !eof {
        let start = len;
        let want = len + CHUNK;
        while len < want {
            let n = match input.read(&mut buf[len..want]) {
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
        if content == 0 && buf[start..len].iter().any(|b| !b.is_ascii_whitespace()) {
            content = 1;
        }
        let cut = if eof {
            len
        } else {
            match memchr::memrchr(b'\n', &buf[start..len]) {
                Some(p) => start + p + 1,
                None if len > MAX_LINE => return Err(too_long(name, lines_before + 1)),
                None => continue,
            }
        };
        let block = &buf[..cut];
        if let Err(e) = std::str::from_utf8(block) {
            // Cuts are always after a newline, so no character straddles one: this is a
            // real encoding error.
            return Err(utf8_error(name, block, lines_before, e));
        }
        lines_before = scan_block(block, name, lines_before, pre, &mut seen, col)?;
        buf.copy_within(cut..len, 0);
        len -= cut;
        if len > MAX_LINE {
            return Err(too_long(name, lines_before + 1));
        }
    }
    Ok(content)
}

/// Fails on the first line of `block` longer than `MAX_LINE`.
fn check_line_lengths(block: &[u8], name: &str, lines_before: u64) -> Result<()> {
    if block.len() <= MAX_LINE {
        return Ok(());
    }
    let mut line_start = 0;
    let mut line_no = lines_before;
    for p in memchr::memchr_iter(b'\n', block).chain(std::iter::once(block.len())) {
        line_no += 1;
        if p - line_start > MAX_LINE {
            return Err(too_long(name, line_no));
        }
        line_start = p + 1;
    }
    Ok(())
}

/// Finds candidate lines in a block of whole lines (valid UTF-8); returns the line
/// count after it.
fn scan_block(
    block: &[u8],
    name: &str,
    lines_before: u64,
    pre: &Prefilter,
    seen: &mut Seen,
    col: &mut Collector,
) -> Result<u64> {
    check_line_lengths(block, name, lines_before)?;
    let mut at = 0;
    let mut counted_to = 0;
    let mut line_no = lines_before;
    // Start of the residual regex's next match at or after `at` (None: no more).
    let mut rest_next: Option<usize> = None;
    let mut rest_live = pre.rest.is_some();
    while at < block.len() {
        let lit = pre
            .lits
            .as_ref()
            .and_then(|ac| ac.find(aho_corasick::Input::new(block).range(at..)))
            .map(|m| m.start());
        if rest_live && rest_next.is_none_or(|p| p < at) {
            rest_next = pre.rest.as_ref().and_then(|re| re.find_at(block, at)).map(|m| m.start());
            rest_live = rest_next.is_some();
        }
        let hit = match (lit, rest_next.filter(|_| rest_live)) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => break,
        };
        let line_start = memchr::memrchr(b'\n', &block[at..hit]).map_or(at, |p| at + p + 1);
        let line_end = memchr::memchr(b'\n', &block[hit..]).map_or(block.len(), |p| hit + p);
        line_no += memchr::memchr_iter(b'\n', &block[counted_to..line_start]).count() as u64;
        counted_to = line_start;
        // Validated by the caller; the slice is between line breaks.
        let text = std::str::from_utf8(&block[line_start..line_end]).expect("validated");
        let text = text.trim_end_matches('\r');
        let in_line = |p: Option<usize>| p.is_some_and(|p| p <= line_end);
        if pre.confirm(text, in_line(lit), rest_live && in_line(rest_next), seen) {
            col.add(name, line_no + 1, text);
        }
        at = line_end + 1;
    }
    Ok(line_no + memchr::memchr_iter(b'\n', &block[counted_to..]).count() as u64)
}

/// Scans files (or standard input for none or `-`).
pub fn scan_inputs(files: &[std::path::PathBuf], source: ScanSource, rules: &RuleSet) -> Result<Report> {
    let stdin_only = files.is_empty();
    let names: Vec<Option<&std::path::Path>> = if stdin_only {
        vec![None]
    } else {
        files
            .iter()
            .map(|f| if f.as_os_str() == "-" { None } else { Some(f.as_path()) })
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
    if source != ScanSource::Log {
        let mut text = String::new();
        for p in names {
            let (mut r, name) = open(p)?;
            let mut bytes = Vec::new();
            r.read_to_end(&mut bytes).map_err(|source| Error::Io {
                path: name.clone().into(),
                source,
            })?;
            validate_input(&bytes, &name)?;
            text.push_str(std::str::from_utf8(&bytes).expect("validated"));
            text.push_str("\n\n");
        }
        return Ok(scan_text(&text, source, rules));
    }
    let pre = Prefilter::new(rules);
    let mut col = Collector::default();
    let mut any = false;
    let mut last_name = String::from("stdin");
    for p in names {
        let (r, name) = open(p)?;
        let n = stream_log(r, &name, &pre, &mut col)?;
        any |= n > 0;
        last_name = name;
    }
    if !any {
        return Err(Error::Input {
            file: last_name,
            message: "input is empty".into(),
        });
    }
    let mut snap = Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        logs: col.lines,
        ..Snapshot::default()
    };
    crate::snapshot::redact::redact_snapshot(&mut snap);
    let mut report = analyze_as(&snap, rules, Mode::Scan);
    if col.dropped > 0 {
        report.notes.push(format!(
            "{} candidate lines beyond the first {MAX_DISTINCT} distinct ones were not analysed",
            col.dropped
        ));
    }
    Ok(report)
}

use std::io::Read as _;
