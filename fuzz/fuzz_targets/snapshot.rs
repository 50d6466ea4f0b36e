//! Fuzz target: arbitrary bytes as snapshot input, through sickbay::harness::snapshot.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sickbay::harness::snapshot(data));
