//! Fuzz target: arbitrary bytes as a lint input (TaskDefinition), through sickbay::harness::lint.
#![no_main]
use sickbay::harness::{lint, LintKind};
libfuzzer_sys::fuzz_target!(|data: &[u8]| lint(LintKind::TaskDefinition, data));
