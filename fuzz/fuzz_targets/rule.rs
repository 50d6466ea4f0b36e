//! Fuzz target: arbitrary bytes as rule input, through sickbay::harness::rule.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sickbay::harness::rule(data));
