//! The credentials-file and config-file editors: for any input, a clear
//! parse error or an edit that changes only what it edits; never a panic.
//! `cargo fuzz run editors fuzz/corpus/editors` (see docs/benchmarks.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| aws_rekey::ini::check_contract(data));
