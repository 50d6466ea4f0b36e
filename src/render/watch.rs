//! `doctor --watch`'s live view: one compact block per round (the services' rollouts,
//! then each cause marked `+` appeared, `=` persisted or `-` cleared), and the line that
//! ends the watch. Plain text, so that it reads the same on a terminal and in a
//! pipeline log; it only reads the judged [`Round`].

use crate::watch::{Change, Round};
use std::fmt::Write as _;
use std::time::Duration;

/// One round's block.
pub fn round(r: &Round) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "round {} at {}", r.number, r.at.format("%H:%M:%SZ"));
    if r.rollouts.is_empty() {
        out.push_str("  no service in scope\n");
    }
    for s in &r.rollouts {
        let _ = writeln!(
            out,
            "  {}: {}/{} running, {}, rollout {}{}",
            s.service,
            s.running,
            s.desired,
            super::plural(s.deployments, "deployment"),
            s.state.as_deref().unwrap_or("unknown"),
            if s.stable() { " (stable)" } else { "" }
        );
    }
    for c in &r.causes {
        let (mark, word) = match c.change {
            Change::Appeared => ("+", "appeared"),
            Change::Persisted => ("=", "persists"),
            Change::Cleared => ("-", "cleared"),
        };
        let _ = writeln!(
            out,
            "  {mark} {:<8} {:<7} {} ({word})",
            c.severity.as_str(),
            c.rule,
            c.title
        );
    }
    if r.incomplete > 0 {
        let _ = writeln!(
            out,
            "  ! {} left undone this round (see the report)",
            super::plural(r.incomplete, "check")
        );
    }
    out
}

/// The line that closes a round's block while the watch goes on.
pub fn waiting(interval: Duration) -> String {
    format!("  next round in {}\n", humanize(interval))
}

/// `30s`, `2m`, `1m30s`.
fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// The line that ends a watch: done, or still not done at the deadline.
pub fn end(last: &Round, waited: Duration) -> String {
    let level = last
        .fail_on
        .map_or("any level".into(), |s| s.as_str().to_string());
    if last.done() {
        return format!(
            "done after {}: every service is stable and no finding is at or above {level}\n",
            super::plural(last.number, "round")
        );
    }
    let mut why = Vec::new();
    let unstable: Vec<&str> = last
        .rollouts
        .iter()
        .filter(|s| !s.stable())
        .map(|s| s.service.as_str())
        .collect();
    if last.rollouts.is_empty() {
        why.push("no service in scope".to_string());
    } else if !unstable.is_empty() {
        why.push(format!("not stable: {}", unstable.join(", ")));
    }
    if last.blocking > 0 {
        why.push(format!(
            "{} at or above {level}",
            super::plural(last.blocking, "finding")
        ));
    }
    if last.incomplete > 0 {
        why.push(format!(
            "{} left undone",
            super::plural(last.incomplete, "check")
        ));
    }
    format!(
        "gave up after {} ({}): {}\n",
        humanize(waited),
        super::plural(last.number, "round"),
        why.join("; ")
    )
}
