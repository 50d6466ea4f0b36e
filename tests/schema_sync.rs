//! The JSON Schema files in `schema/` match the types. Regenerate with
//! `cargo run -- schema report > schema/report.schema.json` (and `snapshot`).

use sickbay::schema::schema_json;
use sickbay::schema::SchemaKind;

fn check(kind: SchemaKind, file: &str) {
    let path = format!("{}/schema/{file}", env!("CARGO_MANIFEST_DIR"));
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    let now = schema_json(kind);
    assert!(
        on_disk == now,
        "{path} is out of date; run `cargo run -- schema {} > schema/{file}`",
        if kind == SchemaKind::Report {
            "report"
        } else {
            "snapshot"
        }
    );
}

#[test]
fn report_schema_in_sync() {
    check(SchemaKind::Report, "report.schema.json");
}

#[test]
fn snapshot_schema_in_sync() {
    check(SchemaKind::Snapshot, "snapshot.schema.json");
}

#[test]
fn bundled_reports_validate_against_required_fields() {
    // Every required top-level field of the report schema is present in a real report.
    let schema: serde_json::Value = serde_json::from_str(&schema_json(SchemaKind::Report)).unwrap();
    let rules = sickbay::RuleSet::builtin().unwrap();
    let report = sickbay::scan::scan_text(
        "exec /usr/local/bin/uvicorn: exec format error",
        sickbay::scan::ScanSource::Log,
        &rules,
    );
    let value = serde_json::to_value(&report).unwrap();
    for field in schema["required"].as_array().unwrap() {
        assert!(
            value.get(field.as_str().unwrap()).is_some(),
            "missing {field}"
        );
    }
}
