//! Renderers: table (comfy-table + colored), JSON and Markdown. They only read a
//! [`Report`](crate::report::Report); nothing here computes findings.

pub mod json;
pub mod markdown;
pub mod probe;
pub mod rules;
pub mod table;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

/// Text for a count with a noun, e.g. "1 finding", "3 findings".
pub(crate) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Short UTC time for display.
pub(crate) fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}
