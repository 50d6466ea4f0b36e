//! [`Sealed`]: a snapshot every string of which has passed the redactor. It is the only
//! form analysis, `--save` and the renderers accept, and [`Sealed::new`] (which redacts)
//! is the only way to make one, so raw text cannot reach an output by any path, present
//! or future: the collectors, `lint`, `scan`, snapshot loading and database probes all
//! go through it, and the redactor walks the whole tree rather than a list of fields.

use super::redact::redact_text;
use super::redact::walk::redact_value;
use super::{CollectError, DbProbe, LogLine, Snapshot, SNAPSHOT_SCHEMA_VERSION};
use serde::Serialize;
use std::ops::Deref;

/// A redacted snapshot. Read it through `Deref`; change it only through methods that
/// redact what they add.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(transparent)]
pub struct Sealed(Snapshot);

impl Sealed {
    /// Redacts every string of the snapshot. Log lines, by far the most numerous part,
    /// are redacted one at a time, so the JSON tree of the walk never holds them all.
    pub fn new(mut snap: Snapshot) -> Sealed {
        let logs = std::mem::take(&mut snap.logs);
        let mut sealed = redacted(&snap).unwrap_or_else(|| unsealable(&snap));
        let mut labels = Labels::default();
        sealed.logs = logs
            .into_iter()
            .map(|l| redact_log_line(l, &mut labels))
            .collect();
        Sealed(sealed)
    }

    /// Adds database probes, redacted like the rest.
    pub fn add_db_probes(&mut self, probes: Vec<DbProbe>) {
        for p in probes {
            if let Some(p) = redacted(&p) {
                self.0.db_probes.push(p);
            }
        }
    }

    /// The (redacted) snapshot, to change and seal again.
    pub fn into_inner(self) -> Snapshot {
        self.0
    }
}

impl Deref for Sealed {
    type Target = Snapshot;
    fn deref(&self) -> &Snapshot {
        &self.0
    }
}

/// The value with every string redacted. Redaction only ever replaces a string with a
/// string, and no non-string field is written as a string that a secret shape could
/// match (timestamps are digits and punctuation), so the round trip cannot fail; should
/// it, the caller drops the value rather than keep it raw. The tree is read back from
/// its text with the deserializer snapshot loading already uses: reading it from the
/// tree itself would compile every snapshot type's deserializer a second time (a few
/// hundred kB of the binary), and the tree holds no log lines, so the text is small.
fn redacted<T: Serialize + serde::de::DeserializeOwned>(v: &T) -> Option<T> {
    let mut tree = serde_json::to_value(v).ok()?;
    redact_value(&mut tree);
    serde_json::from_str(&tree.to_string()).ok()
}

/// A log line redacted as the tree walk would redact it (every string field is free text
/// under a key that is not a secret's name), without the JSON round trip: log lines are
/// by far the most numerous records. The destructuring names every field, so a field
/// added to `LogLine` does not compile here until it is redacted too; a test checks the
/// result equals the walk's.
fn redact_log_line(mut l: LogLine, labels: &mut Labels) -> LogLine {
    let LogLine {
        group,
        stream,
        timestamp: _,
        message,
        task_id,
        container,
        line: _,
        count: _,
        last_timestamp: _,
    } = &mut l;
    redact_in_place(message);
    for (slot, s) in [group, stream, task_id, container].into_iter().enumerate() {
        if let Some(s) = s {
            labels.redact(slot, s);
        }
    }
    l
}

fn redact_in_place(s: &mut String) {
    if let std::borrow::Cow::Owned(o) = redact_text(s) {
        *s = o;
    }
}

/// The last value of each label field (group, stream, task id, container) and its
/// redaction. Thousands of consecutive lines share them, so each distinct run is
/// redacted once instead of once per line; the result is the same text either way.
#[derive(Default)]
struct Labels([Option<(String, String)>; 4]);

impl Labels {
    fn redact(&mut self, slot: usize, s: &mut String) {
        if let Some((raw, done)) = &self.0[slot] {
            if raw == s {
                s.clone_from(done);
                return;
            }
        }
        let raw = s.clone();
        redact_in_place(s);
        self.0[slot] = Some((raw, s.clone()));
    }
}

/// What is left when a snapshot cannot be redacted: its target and a note, no text.
fn unsealable(snap: &Snapshot) -> Snapshot {
    Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        target: redacted(&snap.target).unwrap_or_default(),
        collect_errors: vec![CollectError {
            action: "sickbay:Redact".into(),
            code: None,
            message: "the snapshot could not be redacted, so its contents were dropped".into(),
            check: None,
        }],
        ..Snapshot::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{LogLine, ProbeStage};

    /// The log-line fast path redacts exactly as the walk does, on lines with secrets in
    /// every string field.
    #[test]
    fn log_lines_redact_as_the_walk_does() {
        let secret = "postgres://app:Hunter2-planted-Pw@db:5432/app";
        let lines = [
            LogLine {
                group: Some(format!("/ecs/{secret}")),
                stream: Some("ecs/api/AKIAIOSFODNN7EXAMPLE".into()),
                message: format!("connect {secret} password=s3cr3t-Planted-9 token=ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
                task_id: Some("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXBsYW50ZWQ".into()),
                container: Some("api".into()),
                line: Some(3),
                count: 2,
                ..LogLine::default()
            },
            LogLine {
                message: "listening on :8080".into(),
                ..LogLine::default()
            },
        ];
        for (i, l) in lines.into_iter().enumerate() {
            let walked = redacted(&l).unwrap();
            let mut labels = Labels::default();
            assert_eq!(redact_log_line(l.clone(), &mut labels), walked);
            // A second line with the same labels takes them from the memo, the same.
            assert_eq!(redact_log_line(l.clone(), &mut labels), walked);
            assert_eq!(walked != l, i == 0, "only the first line holds secrets");
        }
    }

    #[test]
    fn new_redacts_and_added_probes_are_redacted() {
        let snap = Snapshot {
            schema_version: SNAPSHOT_SCHEMA_VERSION,
            logs: vec![LogLine {
                message: "PGPASSWORD=LeakOne9 psql".into(),
                ..LogLine::default()
            }],
            ..Snapshot::default()
        };
        let mut sealed = Sealed::new(snap);
        sealed.add_db_probes(vec![DbProbe {
            target: "db:5432/app".into(),
            origin: Some("DATABASE_URL=postgres://u:LeakTwo9@db/app of api:3/app".into()),
            stages: vec![ProbeStage {
                stage: "auth".into(),
                status: "fail".into(),
                detail: Some("password=LeakThree9 rejected".into()),
                ..ProbeStage::default()
            }],
            ..DbProbe::default()
        }]);
        let json = serde_json::to_string(&sealed).unwrap();
        for leak in ["LeakOne", "LeakTwo", "LeakThree"] {
            assert!(!json.contains(leak), "{json}");
        }
        assert_eq!(sealed.db_probes.len(), 1);
    }
}
