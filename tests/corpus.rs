//! Accuracy on the labelled corpus (`../shared/corpus/dev.jsonl`, copied to
//! `tests/corpus/dev.jsonl`): every case goes through `scan` and its top finding must map
//! to the labelled class; `none` cases must produce no finding at all. The bar is 95%.

use sickbay::scan::{scan_text, ScanSource};
use sickbay::RuleSet;

/// Root-cause class of each rule, as the corpus labels them.
fn class_of(rule: &str) -> &'static str {
    match rule {
        // filled in by the rule pack
        _ => "unmapped",
    }
}

#[derive(serde::Deserialize)]
struct Case {
    id: String,
    class: String,
    source_kind: String,
    text: String,
}

#[test]
fn corpus_accuracy() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/dev.jsonl");
    let rules = RuleSet::builtin().unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let (mut ok, mut total, mut failures) = (0, 0, Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(line).unwrap();
        let source = match case.source_kind.as_str() {
            "stopped_reason" => ScanSource::StoppedReason,
            "service_event" => ScanSource::ServiceEvent,
            _ => ScanSource::Log,
        };
        let report = scan_text(&case.text, source, &RuleSet { rules: rules.rules.clone() });
        let got = report.findings.first().map(|f| f.rule.as_str());
        let pass = match (case.class.as_str(), got) {
            ("none", None) => true,
            ("none", Some(_)) => false,
            (_, None) => false,
            (want, Some(r)) => class_of(r) == want,
        };
        total += 1;
        if pass {
            ok += 1;
        } else {
            failures.push(format!("{}: want {} got {:?} ({})", case.id, case.class, got, got.map(class_of).unwrap_or("-")));
        }
    }
    let acc = ok as f64 / total as f64;
    eprintln!("corpus accuracy {ok}/{total} = {:.1}%\n{}", acc * 100.0, failures.join("\n"));
    assert!(acc >= 0.95, "accuracy {:.1}% below 95%:\n{}", acc * 100.0, failures.join("\n"));
}
