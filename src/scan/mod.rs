//! `scan`: classify raw text (log lines, a pasted stopped reason, service events) with
//! the same rules and reports as `doctor`. Log input is streamed in blocks: one
//! multi-pattern pass (an Aho-Corasick automaton over literals that every log pattern's
//! matches contain, split across the cores) finds the lines worth a look, the patterns
//! themselves then run on those lines only, and the lines they match become records for
//! the engine, folded by identical text. Memory stays flat whatever the input's size.
//! `bench/` holds the benchmark against grep and ripgrep.
//!
//! Layout: `prefilter` (the literal automaton), `parallel` (one block across threads),
//! `stream` (blocks of one input), `collector` (folding candidate lines), `input`
//! (imperfect text), `literals` and `terms` (what patterns require, for the prefilter and
//! for server-side log search).

use crate::engine::{analyze_as, Mode};
use crate::error::{Error, Result};
use crate::literals::{self, FOLD_EXOTIC};
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

mod batch;
mod collector;
mod input;
mod parallel;
mod prefilter;
mod stream;
mod terms;
use collector::*;
use parallel::*;
pub use prefilter::Prefilter;
use prefilter::*;
use stream::*;
pub use terms::ServerTerms;

/// Bytes read per block.
const CHUNK: usize = 2 << 20;
/// Longest line `scan` matches whole; longer ones are matched on their first part.
pub const MAX_LINE: usize = 1 << 20;
/// Distinct candidate lines kept; further repeats of kept lines are still counted.
const MAX_DISTINCT: usize = 20_000;

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
    let names = input_names(files);
    if source != ScanSource::Log {
        return scan_paragraphs(names, source, rules);
    }
    scan_logs(names, rules)
}

/// The inputs to read: `None` for standard input (no files, or `-`), else the path.
fn input_names(files: &[std::path::PathBuf]) -> Vec<Option<&std::path::Path>> {
    let stdin_only = files.is_empty();
    if stdin_only {
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
    }
}

/// Opens one input, with the name its notes and errors use.
fn open_input(p: Option<&std::path::Path>) -> Result<(Box<dyn std::io::Read>, String)> {
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
}

/// Classifies stopped reasons or service events, each input read whole and ending a paragraph.
fn scan_paragraphs(
    names: Vec<Option<&std::path::Path>>,
    source: ScanSource,
    rules: &RuleSet,
) -> Result<Scanned> {
    let mut notes = Vec::new();
    let mut text = String::new();
    for p in names {
        let (mut r, name) = open_input(p)?;
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
    Ok(Scanned {
        report,
        input_notes: notes,
    })
}

/// Streams log inputs through the prefilter and analyses the candidate lines.
fn scan_logs(names: Vec<Option<&std::path::Path>>, rules: &RuleSet) -> Result<Scanned> {
    let mut notes = Vec::new();
    let pre = rules.prefilter();
    let mut col = Collector::default();
    let mut any = false;
    for p in names {
        let (r, name) = open_input(p)?;
        let mut quality = input::Quality::default();
        any |= stream_log(r, &name, pre, &mut col, &mut quality)? > 0;
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
mod tests;
