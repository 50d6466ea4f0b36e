//! Fuzz target: arbitrary bytes as a lint input (Compose), through sickbay::harness::lint.
#![no_main]
use sickbay::harness::{lint, LintKind};
libfuzzer_sys::fuzz_target!(|data: &[u8]| lint(LintKind::Compose, data));
