//! sickbay: an incident doctor for services on AWS ECS.
//!
//! Data flows one way: collect → [`snapshot::Snapshot`] → facts → [`engine::analyze`]
//! (pure, no I/O) → [`report::Report`] → render (table, JSON, Markdown). Rules are TOML
//! data under `rules/`, embedded in the binary; see [`rules`].

#[cfg(feature = "aws")]
pub mod collect;
pub mod dbenv;
pub mod diff;
pub mod engine;
pub mod error;
pub mod facts;
#[doc(hidden)]
pub mod harness;
pub mod lint;
pub mod literals;
pub mod probe;
pub mod render;
pub mod report;
pub mod rules;
pub mod scan;
pub mod schema;
pub mod snapshot;
pub mod watch;

pub use engine::{analyze, analyze_as, analyze_lint, Mode};
pub use report::Report;
pub use rules::RuleSet;
pub use snapshot::Snapshot;

/// One-line excerpt of at most 120 characters, for messages.
pub fn engine_excerpt(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 120 {
        format!("{}...", one.chars().take(117).collect::<String>())
    } else {
        one
    }
}
