//! JSON Schemas of the report and snapshot formats, generated from the types. The
//! checked-in copies under `schema/` are kept in sync by a test.

/// Which schema `sickbay schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    Report,
    Snapshot,
}

pub fn schema_json(which: SchemaKind) -> String {
    let schema = match which {
        SchemaKind::Report => schemars::schema_for!(crate::report::Report),
        SchemaKind::Snapshot => schemars::schema_for!(crate::snapshot::Snapshot),
    };
    let mut s = serde_json::to_string_pretty(&schema).expect("schema serializes");
    s.push('\n');
    s
}
