//! Candidate lines collected while streaming, folded by identical message text and
//! bounded in how many distinct ones are kept.

use super::*;

/// Candidate lines collected while streaming, folded by text.
#[derive(Default)]
pub(super) struct Collector {
    pub(super) lines: Vec<LogLine>,
    pub(super) pos: HashMap<String, usize>,
    pub(super) dropped: u64,
}

impl Collector {
    pub(super) fn add(&mut self, name: &str, line_no: u64, line: &str) {
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
