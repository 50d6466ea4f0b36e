//! The report header: target summary, severity counts and notes.

use super::*;

pub(super) fn target_summary(snap: &Snapshot, mode: Mode) -> TargetSummary {
    let services = snap
        .services
        .iter()
        .map(|s| {
            let rollout = s
                .deployments
                .iter()
                .find(|d| d.status == "PRIMARY")
                .and_then(|d| d.rollout_state.clone());
            let health = if s.desired_count > 0 && s.running_count == 0 {
                "down"
            } else if s.running_count < s.desired_count || rollout.as_deref() == Some("FAILED") {
                "degraded"
            } else {
                "healthy"
            };
            ServiceSummary {
                name: s.name.clone(),
                status: s.status.clone().unwrap_or_else(|| "UNKNOWN".into()),
                desired: s.desired_count,
                running: s.running_count,
                pending: s.pending_count,
                task_definition: s.task_definition.clone(),
                rollout_state: rollout,
                health: health.into(),
            }
        })
        .collect();
    TargetSummary {
        mode: mode.as_str().into(),
        cluster: snap.target.cluster.clone(),
        region: snap.target.region.clone(),
        captured_at: snap.captured_at,
        note: snap.target.note.clone(),
        services,
        families: snap.target.families.clone(),
        files: Vec::new(),
    }
}

pub(super) fn summarize(findings: &[Finding]) -> Summary {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    Summary {
        findings: findings.len(),
        critical: count(Severity::Critical),
        high: count(Severity::High),
        medium: count(Severity::Medium),
        low: count(Severity::Low),
        info: count(Severity::Info),
        top: findings.first().map(|f| f.rule.clone()),
        max_severity: findings.iter().map(|f| f.severity).max(),
    }
}

pub(super) fn notes(snap: &Snapshot, mode: Mode) -> Vec<String> {
    let mut notes = Vec::new();
    if mode != Mode::Scan
        && !snap.services.is_empty()
        && !snap.tasks.iter().any(|t| t.last_status == "STOPPED")
    {
        notes.push(
            "No stopped tasks were found. ECS keeps stopped tasks for about an hour, so earlier failures may not be visible."
                .into(),
        );
    }
    for r in &snap.log_reads {
        notes.push(log_read_note(r));
    }
    notes.extend(unverified_images(snap));
    for r in snap.secret_refs.iter().filter(|r| r.exists) {
        if let Some(k) = &r.kms_key {
            let simulated = snap
                .permissions
                .iter()
                .find(|p| p.action == "kms:Decrypt" && &p.resource == k)
                .map_or("not simulated".to_string(), |p| {
                    format!("simulated: {}", p.decision)
                });
            notes.push(format!(
                "Secret {} is encrypted with the customer-managed key {k}: the execution role needs kms:Decrypt on it ({simulated}).",
                r.reference
            ));
        }
    }
    for s in snap
        .log_streams
        .iter()
        .filter(|s| s.exists && s.note.is_some())
    {
        notes.push(format!(
            "{} {}: {}",
            s.group,
            s.stream,
            s.note.as_deref().unwrap_or("")
        ));
    }
    notes
}

/// Images of the task definitions in use that the start-path checks did not look up,
/// with the reason; nothing for a snapshot taken without those checks.
fn unverified_images(snap: &Snapshot) -> Vec<String> {
    let checked = !(snap.images.is_empty()
        && snap.log_groups.is_empty()
        && snap.secret_refs.is_empty()
        && snap.roles.is_empty());
    if !checked {
        return Vec::new();
    }
    let in_use: BTreeSet<&str> = snap
        .services
        .iter()
        .filter_map(|s| s.task_definition.as_deref())
        .collect();
    let mut out = BTreeSet::new();
    for td in snap
        .task_definitions
        .iter()
        .filter(|t| in_use.contains(t.key().as_str()))
    {
        for c in &td.containers {
            if c.image.is_empty() || snap.images.iter().any(|i| i.image == c.image) {
                continue;
            }
            let why = if crate::facts::startpath::is_ecr(&c.image) {
                "an ECR image outside the run's region, or its lookup failed"
            } else {
                "not in ECR; other registries are not looked up"
            };
            out.insert(format!("Image {} was not verified: {why}.", c.image));
        }
    }
    out.into_iter().collect()
}

/// How a log group was read, in words: which lines, whether the whole window, how much
/// the server scanned, and why a preferred way was not used.
fn log_read_note(r: &crate::snapshot::LogRead) -> String {
    let how = match r.mode.as_str() {
        "window" => format!(
            "every line of the window tested against the rules ({} lines in {} streams; {} matching lines kept, repeats within a stream folded)",
            r.events, r.streams, r.matched
        ),
        "insights" | "filter" => {
            let by = if r.mode == "insights" {
                "Logs Insights queries"
            } else {
                "filter patterns"
            };
            let scanned = match (r.scanned, r.bytes_scanned) {
                (Some(n), Some(b)) => format!("; the server scanned {n} records, {}", bytes(b)),
                _ => String::new(),
            };
            format!(
                "the whole window searched with {by} for the rules' literals ({} lines fetched from {} streams{scanned}; {} matching lines kept, repeats within a stream folded), plus the last lines of each stream",
                r.events, r.streams, r.matched
            )
        }
        _ => format!(
            "only the last lines of each stream kept ({} lines read in {} streams; `--logs auto`, the default, keeps matches from the whole window)",
            r.events, r.streams
        ),
    };
    let mut note = match (r.complete, r.read_until) {
        (true, _) => format!("Logs of {}: {how}.", r.group),
        (false, Some(t)) => format!(
            "Logs of {}: {how}; a page or result limit stopped the read at {}, so later lines were not seen.",
            r.group,
            t.format("%Y-%m-%d %H:%M:%SZ")
        ),
        (false, None) => format!(
            "Logs of {}: {how}; the read stopped before the end of the window.",
            r.group
        ),
    };
    if r.uncovered > 0 {
        note.push_str(&format!(
            " {} log patterns have no literal to search for and were tested on those last lines only.",
            r.uncovered
        ));
    }
    if let Some(f) = &r.fallback {
        note.push_str(&format!(" Not used: {f}."));
    }
    note
}

/// A byte count in words: `512 B`, `3.4 MB`, `1.2 GB`.
fn bytes(b: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < units.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}
