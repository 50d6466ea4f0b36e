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

/// A compiled prefilter: one regex that matches wherever any log signal could.
pub struct Prefilter {
    re: regex::bytes::Regex,
}

impl Prefilter {
    /// Builds the prefilter from every signal that reads logs.
    pub fn new(rules: &RuleSet) -> Prefilter {
        let named = regex::Regex::new(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>").expect("static regex");
        let alts: Vec<String> = rules
            .rules
            .iter()
            .flat_map(|r| r.signals.iter())
            .filter(|s| s.reads(Source::Log))
            .flat_map(|s| s.patterns.iter())
            .map(|p| format!("(?:{})", named.replace_all(p.as_str(), "(?:")))
            .collect();
        let joined = if alts.is_empty() {
            // Matches nothing.
            r"[^\s\S]".to_string()
        } else {
            format!("(?m){}", alts.join("|"))
        };
        let re = regex::bytes::RegexBuilder::new(&joined)
            .size_limit(256 << 20)
            .dfa_size_limit(64 << 20)
            .build()
            .expect("union of valid patterns is valid");
        Prefilter { re }
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

/// Streams one input through the prefilter, collecting candidate lines. Returns 0 when
/// the input held nothing but whitespace.
fn stream_log(
    mut input: impl std::io::Read,
    name: &str,
    pre: &Prefilter,
    col: &mut Collector,
) -> Result<u64> {
    let io = |source| Error::Io {
        path: name.into(),
        source,
    };
    let mut buf: Vec<u8> = Vec::with_capacity(2 * CHUNK);
    let mut lines_before: u64 = 0;
    let mut content: u64 = 0;
    let mut eof = false;
    while !eof {
        let start = buf.len();
        buf.resize(start + CHUNK, 0);
        let mut filled = start;
        while filled < buf.len() {
            let n = input.read(&mut buf[filled..]).map_err(io)?;
            if n == 0 {
                eof = true;
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        if content == 0 && buf[start..filled].iter().any(|b| !b.is_ascii_whitespace()) {
            content = 1;
        }
        let cut = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(p) => p + 1,
                None => {
                    if buf.len() > MAX_LINE {
                        return Err(Error::At {
                            file: name.into(),
                            line: lines_before as usize + 1,
                            col: 1,
                            message: format!(
                                "line {} is longer than {} MiB; sickbay scan reads line-oriented text",
                                lines_before + 1,
                                MAX_LINE >> 20
                            ),
                        });
                    }
                    continue;
                }
            }
        };
        let block = &buf[..cut];
        if let Err(e) = std::str::from_utf8(block) {
            // A multi-byte character may straddle the cut only when it is not at a newline,
            // and cuts are always after a newline, so this is a real encoding error.
            return Err(utf8_error(name, block, lines_before, e));
        }
        lines_before = scan_block(block, name, lines_before, pre, col)?;
        buf.drain(..cut);
    }
    Ok(content)
}

/// Finds candidate lines in a block of whole lines; returns the line count after it.
fn scan_block(block: &[u8], name: &str, lines_before: u64, pre: &Prefilter, col: &mut Collector) -> Result<u64> {
    let mut at = 0;
    let mut counted_to = 0;
    let mut line_no = lines_before;
    while at < block.len() {
        let Some(m) = pre.re.find_at(block, at) else { break };
        let line_start = memchr::memrchr(b'\n', &block[..m.start()]).map_or(0, |p| p + 1);
        let line_end = memchr::memchr(b'\n', &block[m.start()..]).map_or(block.len(), |p| m.start() + p);
        line_no += memchr::memchr_iter(b'\n', &block[counted_to..line_start]).count() as u64;
        counted_to = line_start;
        if line_end - line_start > MAX_LINE {
            return Err(Error::At {
                file: name.into(),
                line: line_no as usize + 1,
                col: 1,
                message: format!("line {} is longer than {} MiB; sickbay scan reads line-oriented text", line_no + 1, MAX_LINE >> 20),
            });
        }
        let text = std::str::from_utf8(&block[line_start..line_end]).expect("validated");
        col.add(name, line_no + 1, text.trim_end_matches('\r'));
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
