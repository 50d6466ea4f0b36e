//! Fuzz target: arbitrary bytes as scan input, through sickbay::harness::scan.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sickbay::harness::scan(data));
