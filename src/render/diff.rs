//! `sickbay diff`: a revision diff as a table, JSON or Markdown. Reads only the diff, whose
//! secret values are already fingerprint markers.

use super::Format;
use crate::diff::{ChangeKind, RevisionDiff};
use std::fmt::Write;

fn kind(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Changed => "changed",
    }
}

/// Renders `d` in `format` (SARIF and GitHub annotations are refused before this).
pub fn render(d: &RevisionDiff, format: Format, width: u16) -> String {
    let val = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(d).expect("serializes");
            s.push('\n');
            s
        }
        Format::Markdown => {
            let mut o = format!("## What changed: {} → {}\n\n", d.from, d.to);
            if d.changes.is_empty() {
                o.push_str("No differences.\n");
                return o;
            }
            o.push_str("| where | field | change | before | after |\n|---|---|---|---|---|\n");
            for c in &d.changes {
                let cell = |v: &Option<String>| val(v).replace('|', "\\|");
                let _ = writeln!(
                    o,
                    "| {} | {} | {}{} | `{}` | `{}` |",
                    c.scope,
                    c.field,
                    kind(c.kind),
                    if c.secret { " (secret)" } else { "" },
                    cell(&c.before),
                    cell(&c.after)
                );
            }
            o
        }
        _ => {
            let mut o = format!("What changed: {} -> {}\n", d.from, d.to);
            if d.changes.is_empty() {
                o.push_str("No differences.\n");
                return o;
            }
            let mut t = super::table::new_table(width);
            t.set_header(vec!["where", "field", "change", "before", "after"]);
            for c in &d.changes {
                let k = if c.secret {
                    format!("{} (secret)", kind(c.kind))
                } else {
                    kind(c.kind).to_string()
                };
                t.add_row(vec![
                    c.scope.clone(),
                    c.field.clone(),
                    k,
                    val(&c.before),
                    val(&c.after),
                ]);
            }
            let _ = writeln!(o, "{t}");
            o
        }
    }
}
