//! Output of `sickbay db probe`: the stages (stage, status, code, elapsed, detail), the
//! TLS chain, schema facts, notes, and the findings the engine derived from the probe,
//! as a terminal table, JSON or Markdown. Nothing here probes or computes findings.

use super::table::severity_label;
use super::Format;
use crate::report::{Finding, Report, Summary};
use crate::snapshot::{first_problem, outcome, DbProbe, Outcome, Vantage};
use colored::Colorize;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use serde::Serialize;
use std::fmt::Write;

/// The JSON document `db probe --output json` prints.
#[derive(Debug, Serialize)]
pub struct ProbeOutput<'a> {
    /// `ok`, `fail` or `inconclusive`.
    pub outcome: &'static str,
    /// The first stage that failed or was inconclusive, as `stage:code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_problem: Option<String>,
    pub probe: &'a DbProbe,
    pub summary: &'a Summary,
    pub findings: &'a [Finding],
}

/// Renders a finished probe and the report `analyze` made of it.
pub fn render(p: &DbProbe, report: &Report, format: Format, width: u16) -> String {
    match format {
        // The binary refuses the findings-only formats here; JSON is the safe reading.
        Format::Json | Format::Sarif | Format::Github => json(p, report),
        Format::Table => table(p, report, width),
        Format::Markdown => markdown(p, report),
    }
}

fn problem_ref(p: &DbProbe) -> Option<String> {
    first_problem(p).map(|s| format!("{}:{}", s.stage, s.code.as_deref().unwrap_or("")))
}

fn json(p: &DbProbe, report: &Report) -> String {
    let doc = ProbeOutput {
        outcome: outcome(p).as_str(),
        first_problem: problem_ref(p),
        probe: p,
        summary: &report.summary,
        findings: &report.findings,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("probe output serializes");
    s.push('\n');
    s
}

/// Elapsed time in a fixed-width field, so the table's layout does not depend on it.
fn elapsed(ms: Option<u64>) -> String {
    match ms {
        Some(ms) => format!("{ms:>6} ms"),
        None => String::new(),
    }
}

fn vantage_phrase(p: &DbProbe) -> &'static str {
    match p.vantage.as_deref() {
        Some("inside-vpc") => Vantage::InsideVpc.phrase(),
        Some("outside-vpc") => Vantage::OutsideVpc.phrase(),
        _ => Vantage::Local.phrase(),
    }
}

/// One sentence on how the probe ended.
pub fn verdict(p: &DbProbe) -> String {
    if not_probed(p) {
        let why = p.stages[0].detail.as_deref().unwrap_or("");
        return format!(
            "NOT PROBED: {}",
            why.strip_prefix("not run: ").unwrap_or(why)
        );
    }
    match (outcome(p), first_problem(p)) {
        (Outcome::Ok, _) | (_, None) => "OK: every stage passed".to_string(),
        (Outcome::Failed, Some(s)) => {
            let s = p.stages.iter().find(|s| s.status == "fail").unwrap_or(s);
            format!(
                "FAILED at {} ({})",
                s.stage,
                s.code.as_deref().unwrap_or("?")
            )
        }
        (Outcome::Inconclusive, Some(s)) => {
            let code = s.code.as_deref().unwrap_or("?");
            let why = match code {
                "no_password" => "the password is not known here, so the login was not tested".to_string(),
                "unknown_issuer" | "self_signed_in_chain" | "expired" | "hostname_mismatch" => {
                    "whether the app's client accepts this certificate depends on its settings".to_string()
                }
                _ => format!(
                    "the probe ran {}, so this is no proof that the tasks cannot reach the database",
                    vantage_phrase(p)
                ),
            };
            format!("INCONCLUSIVE at {} ({code}): {why}", s.stage)
        }
    }
}

/// Whether no stage ran (the endpoint is in a secret).
pub fn not_probed(p: &DbProbe) -> bool {
    !p.stages.is_empty() && p.stages.iter().all(|s| s.status == "skipped")
}

fn header_line(p: &DbProbe) -> String {
    format!("db probe {}", heading(p))
}

/// `host:port/db (from ..., vantage ...)`, for headings.
pub fn heading(p: &DbProbe) -> String {
    let mut meta = Vec::new();
    if let Some(o) = &p.origin {
        meta.push(format!("from {o}"));
    }
    meta.push(format!(
        "vantage {}",
        p.vantage.as_deref().unwrap_or("local")
    ));
    format!("{} ({})", p.target, meta.join(", "))
}

fn schema_facts(p: &DbProbe) -> Vec<(String, String)> {
    let mut v = Vec::new();
    if let Some(ver) = &p.server_version {
        v.push(("server".to_string(), format!("PostgreSQL {ver}")));
    }
    if let Some(rec) = p.in_recovery {
        let role = if rec {
            match p.replay_lag_ms {
                Some(l) => format!("replica (in recovery), replay lag {l} ms"),
                None => "replica (in recovery)".to_string(),
            }
        } else {
            "primary".to_string()
        };
        v.push(("role".to_string(), role));
    }
    if p.in_recovery.is_some() {
        v.push((
            "migration tables".to_string(),
            if p.migration_tables.is_empty() {
                "none found".to_string()
            } else {
                p.migration_tables.join(", ")
            },
        ));
    }
    if !p.missing_tables.is_empty() {
        v.push(("missing tables".to_string(), p.missing_tables.join(", ")));
    }
    v
}

fn status_label(status: &str) -> String {
    match status {
        "ok" => status.green().to_string(),
        "fail" => status.red().bold().to_string(),
        "inconclusive" => status.yellow().to_string(),
        _ => status.dimmed().to_string(),
    }
}

fn new_table(width: u16) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width);
    t
}

fn table(p: &DbProbe, report: &Report, width: u16) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}\n", header_line(p).bold());
    let mut t = new_table(width);
    t.set_header(vec!["stage", "status", "code", "  elapsed", "detail"]);
    for s in &p.stages {
        t.add_row(vec![
            s.stage.clone(),
            status_label(&s.status),
            s.code.clone().unwrap_or_default(),
            elapsed(s.elapsed_ms),
            s.detail.clone().unwrap_or_default(),
        ]);
    }
    let _ = writeln!(o, "{t}");
    if !p.addresses.is_empty() {
        let _ = writeln!(o, "\naddresses: {}", p.addresses.join(", "));
    }
    if !p.tls_chain.is_empty() {
        let _ = writeln!(o, "\n{}", "TLS chain (leaf first)".bold());
        let mut t = new_table(width);
        t.set_header(vec!["#", "subject", "issuer", "not after", "names"]);
        for (i, c) in p.tls_chain.iter().enumerate() {
            t.add_row(vec![
                i.to_string(),
                c.subject.clone(),
                c.issuer.clone(),
                c.not_after
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                c.sans.join(", "),
            ]);
        }
        let _ = writeln!(o, "{t}");
    }
    let facts = schema_facts(p);
    if !facts.is_empty() {
        let _ = writeln!(o, "\n{}", "Schema".bold());
        for (k, v) in facts {
            let _ = writeln!(o, "  {k}: {v}");
        }
    }
    if !p.notes.is_empty() {
        let _ = writeln!(o, "\n{}", "Notes".bold());
        for n in &p.notes {
            let _ = writeln!(o, "  - {n}");
        }
    }
    let _ = writeln!(o, "\n{}", "Findings".bold());
    if report.findings.is_empty() {
        let _ = writeln!(o, "No known failure signature matched.");
    } else {
        let mut t = new_table(width);
        t.set_header(vec!["#", "severity", "rule", "root cause"]);
        for f in &report.findings {
            t.add_row(vec![
                f.rank.to_string(),
                severity_label(f.severity).to_string(),
                f.rule.clone(),
                f.title.clone(),
            ]);
        }
        let _ = writeln!(o, "{t}");
        for f in &report.findings {
            let _ = writeln!(o, "\n{} {}", f.rule.bold(), f.message);
            for step in &f.fix {
                let _ = writeln!(o, "  fix: {step}");
            }
        }
    }
    let v = verdict(p);
    let v = match outcome(p) {
        Outcome::Ok => v.green().to_string(),
        Outcome::Failed => v.red().bold().to_string(),
        Outcome::Inconclusive => v.yellow().to_string(),
    };
    let _ = writeln!(o, "\nResult: {v}");
    o
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown(p: &DbProbe, report: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", header_line(p));
    let _ = writeln!(o, "**Result:** {}\n", verdict(p));
    let _ = writeln!(
        o,
        "| stage | status | code | elapsed | detail |\n|---|---|---|---|---|"
    );
    for s in &p.stages {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            s.stage,
            s.status,
            s.code
                .as_deref()
                .map(|c| format!("`{c}`"))
                .unwrap_or_default(),
            s.elapsed_ms.map(|m| format!("{m} ms")).unwrap_or_default(),
            cell(s.detail.as_deref().unwrap_or(""))
        );
    }
    if !p.addresses.is_empty() {
        let _ = writeln!(o, "\nAddresses: {}", p.addresses.join(", "));
    }
    if !p.tls_chain.is_empty() {
        let _ = writeln!(o, "\n## TLS chain (leaf first)\n\n| # | subject | issuer | not after | names |\n|---|---|---|---|---|");
        for (i, c) in p.tls_chain.iter().enumerate() {
            let _ = writeln!(
                o,
                "| {i} | {} | {} | {} | {} |",
                cell(&c.subject),
                cell(&c.issuer),
                c.not_after
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                cell(&c.sans.join(", "))
            );
        }
    }
    let facts = schema_facts(p);
    if !facts.is_empty() {
        let _ = writeln!(o, "\n## Schema\n");
        for (k, v) in facts {
            let _ = writeln!(o, "- {k}: {v}");
        }
    }
    if !p.notes.is_empty() {
        let _ = writeln!(o, "\n## Notes\n");
        for n in &p.notes {
            let _ = writeln!(o, "- {n}");
        }
    }
    let _ = writeln!(o, "\n## Findings\n");
    if report.findings.is_empty() {
        let _ = writeln!(o, "No known failure signature matched.");
    }
    for f in &report.findings {
        let _ = writeln!(
            o,
            "### {}. {} `{}` {}\n",
            f.rank,
            f.severity.as_str().to_uppercase(),
            f.rule,
            f.title
        );
        let _ = writeln!(o, "{}\n", f.message);
        for step in &f.fix {
            let _ = writeln!(o, "- [ ] {step}");
        }
        let _ = writeln!(o);
    }
    o
}
