//! SARIF 2.1.0 for code-scanning UIs. Every rule that produced a finding is described
//! (id, title, why, fix, the first reference as help URI), and each finding becomes one
//! result per piece of evidence that has a file position (from `lint`), with its region
//! and a fingerprint built from rule, file and JSON path or YAML key, so a finding keeps
//! its identity when lines move. A finding with no file position (live or replayed
//! incidents, scanned logs) is one result without a location. Reads the report and the
//! rule pack's documentation; computes nothing.

use crate::report::{Evidence, Finding, Report};
use crate::rules::{RuleSet, Severity};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The SARIF 2.1.0 schema's address, as the `$schema` of the log.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF level for a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// Renders the report as a SARIF log.
pub fn render(report: &Report, rules: &RuleSet) -> String {
    let mut ids: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let descriptors: Vec<Value> = ids.iter().map(|id| descriptor(id, report, rules)).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .flat_map(|f| results(f, ids.binary_search(&f.rule.as_str()).unwrap_or(0)))
        .collect();
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "rules": descriptors,
            }},
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).expect("a JSON value serialises");
    out.push('\n');
    out
}

/// A rule's descriptor, from the pack when it has the rule (user rules included).
fn descriptor(id: &str, report: &Report, rules: &RuleSet) -> Value {
    let finding = report.findings.iter().find(|f| f.rule == id);
    let title = finding.map_or(id, |f| f.title.as_str());
    let mut d = json!({
        "id": id,
        "shortDescription": {"text": title},
    });
    if let Some(f) = finding {
        d["name"] = json!(f.name);
        d["defaultConfiguration"] = json!({"level": level(f.severity)});
        d["properties"] = json!({"severity": f.severity.as_str()});
    }
    if let Some(rule) = rules.get(id) {
        let why = paragraphs(&rule.docs.why);
        d["fullDescription"] = json!({"text": why});
        let steps: Vec<String> = rule
            .docs
            .fix
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {s}", i + 1))
            .collect();
        let help = format!(
            "{why}\n\nFix:\n{}\n\nMore: `sickbay rules explain {id}`",
            steps.join("\n")
        );
        d["help"] = json!({"text": help, "markdown": help});
        if let Some(uri) = rule.docs.references.iter().find_map(|r| first_url(r)) {
            d["helpUri"] = json!(uri);
        }
        d["properties"]["tags"] = json!(rule.tags);
    }
    d
}

/// Rule prose as paragraphs: the TOML's hard line breaks inside a paragraph become spaces.
fn paragraphs(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The first http(s) URL in a reference line.
fn first_url(text: &str) -> Option<String> {
    let start = text.find("https://").or_else(|| text.find("http://"))?;
    let url: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ')' | '>' | '"' | '\'' | ']'))
        .collect();
    Some(url.trim_end_matches(['.', ',', ';']).to_string())
}

/// One result per evidence with a file position; one without a location otherwise.
fn results(f: &Finding, rule_index: usize) -> Vec<Value> {
    let placed: Vec<&Evidence> = f.evidence.iter().filter(|e| e.file.is_some()).collect();
    if placed.is_empty() {
        return vec![result(f, rule_index, None)];
    }
    placed
        .into_iter()
        .map(|e| result(f, rule_index, Some(e)))
        .collect()
}

fn result(f: &Finding, rule_index: usize, at: Option<&Evidence>) -> Value {
    let mut r = json!({
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": f.message},
        "partialFingerprints": {"sickbay/v1": fingerprint(f, at)},
    });
    if let Some(e) = at {
        let mut region = json!({"startLine": e.line.unwrap_or(1).max(1)});
        if let Some(c) = e.column {
            region["startColumn"] = json!(c.max(1));
        }
        let mut loc = json!({"physicalLocation": {
            "artifactLocation": {"uri": uri(e.file.as_deref().unwrap_or_default())},
            "region": region,
        }});
        if let Some(p) = &e.path {
            loc["logicalLocations"] = json!([{"fullyQualifiedName": p}]);
        }
        r["locations"] = json!([loc]);
    }
    r
}

/// A relative path as a URI reference: forward slashes, no leading `./`.
fn uri(file: &str) -> String {
    file.replace('\\', "/").trim_start_matches("./").to_string()
}

/// Stable across runs and line moves: rule, file, and JSON path or YAML key (or, with
/// no file, the finding's message).
fn fingerprint(f: &Finding, at: Option<&Evidence>) -> String {
    let mut h = Sha256::new();
    h.update(f.rule.as_bytes());
    match at {
        Some(e) => {
            h.update(b"\0");
            h.update(uri(e.file.as_deref().unwrap_or_default()).as_bytes());
            h.update(b"\0");
            h.update(e.path.as_deref().unwrap_or(&e.excerpt).as_bytes());
        }
        None => {
            h.update(b"\0");
            h.update(f.message.as_bytes());
        }
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}
