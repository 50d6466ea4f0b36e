//! Rule listings and explanations (`sickbay rules list`, `sickbay rules explain`).

use super::Format;
use crate::rules::{Rule, RuleSet};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use serde::Serialize;
use std::fmt::Write;

#[derive(Serialize)]
struct RuleRow<'a> {
    id: &'a str,
    name: &'a str,
    severity: &'a str,
    title: &'a str,
    explains: &'a [String],
}

pub fn list(rules: &RuleSet, format: Format, width: u16) -> String {
    match format {
        // The binary refuses the findings-only formats here; JSON is the safe reading.
        Format::Json | Format::Sarif | Format::Github => {
            let rows: Vec<RuleRow> = rules
                .rules
                .iter()
                .map(|r| RuleRow {
                    id: &r.id,
                    name: &r.name,
                    severity: r.severity.as_str(),
                    title: &r.title,
                    explains: &r.explains,
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&rows).expect("serializes");
            s.push('\n');
            s
        }
        Format::Markdown => {
            let mut o = String::from("| id | name | severity | title |\n|---|---|---|---|\n");
            for r in &rules.rules {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} |",
                    r.id,
                    r.name,
                    r.severity.as_str(),
                    r.title.replace('|', "\\|")
                );
            }
            o
        }
        Format::Table => {
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(width)
                .set_header(vec!["id", "name", "severity", "title"]);
            for r in &rules.rules {
                t.add_row(vec![
                    r.id.as_str(),
                    r.name.as_str(),
                    r.severity.as_str(),
                    r.title.as_str(),
                ]);
            }
            format!("{t}\n{} rules\n", rules.rules.len())
        }
    }
}

/// The documentation of one rule, in fixed sections (like `ruff rule`).
pub fn explain(rule: &Rule, format: Format) -> String {
    let d = &rule.docs;
    if format == Format::Json {
        #[derive(Serialize)]
        struct Explain<'a> {
            id: &'a str,
            name: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            class: Option<&'a str>,
            title: &'a str,
            severity: &'a str,
            confidence: f64,
            explains: &'a [String],
            #[serde(skip_serializing_if = "Option::is_none")]
            per: Option<&'a str>,
            signals: Vec<String>,
            docs: &'a crate::rules::Docs,
        }
        let e = Explain {
            id: &rule.id,
            name: &rule.name,
            class: rule.class.as_deref(),
            title: &rule.title,
            severity: rule.severity.as_str(),
            confidence: rule.confidence,
            explains: &rule.explains,
            per: rule.per.as_deref(),
            signals: signals(rule),
            docs: d,
        };
        let mut s = serde_json::to_string_pretty(&e).expect("serializes");
        s.push('\n');
        return s;
    }
    let mut o = String::new();
    let _ = writeln!(o, "# {} ({})\n", rule.name, rule.id);
    let _ = writeln!(o, "{}\n", rule.title);
    let _ = writeln!(
        o,
        "Severity: {} · confidence {:.2}{}",
        rule.severity.as_str(),
        rule.confidence,
        rule.class
            .as_deref()
            .map(|c| format!(" · class {c}"))
            .unwrap_or_default()
    );
    if !rule.explains.is_empty() {
        let _ = writeln!(o, "Explains: {}", rule.explains.join(", "));
    }
    if let Some(p) = &rule.per {
        let _ = writeln!(o, "One finding per distinct `{p}`");
    }
    let _ = writeln!(o, "\n## Why\n\n{}\n", d.why.trim());
    let _ = writeln!(o, "## Fix\n");
    for (i, s) in d.fix.iter().enumerate() {
        let _ = writeln!(o, "{}. {s}", i + 1);
    }
    if !d.avoid.trim().is_empty() {
        let _ = writeln!(o, "\n## Avoid\n\n{}", d.avoid.trim());
    }
    if !d.verify.trim().is_empty() {
        let _ = writeln!(o, "\n## Verify\n\n{}", d.verify.trim());
    }
    let _ = writeln!(o, "\n## Signals\n");
    for s in signals(rule) {
        let _ = writeln!(o, "- {s}");
    }
    if !d.references.is_empty() {
        let _ = writeln!(o, "\n## References\n");
        for r in &d.references {
            let _ = writeln!(o, "- {r}");
        }
    }
    o
}

fn signals(rule: &Rule) -> Vec<String> {
    rule.signals
        .iter()
        .map(|s| {
            let src: Vec<&str> = s.sources.iter().map(|x| x.as_str()).collect();
            let field = s
                .field
                .as_deref()
                .map(|f| format!(":{f}"))
                .unwrap_or_default();
            let kind = if s.required {
                "required"
            } else {
                "corroborating"
            };
            format!("{} ({kind}) on {}{field}", s.name, src.join("|"))
        })
        .collect()
}
