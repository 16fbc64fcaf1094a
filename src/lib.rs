//! aws-rekey: rotate your own AWS IAM access key safely, in one step.
//!
//! The binary (`src/main.rs`) is a thin shell over these modules; they are a
//! library so the file editors can also be fuzzed (`fuzz/`) and benchmarked.
//! The library's API is not stable: the command line is the interface.

pub mod atomic;
pub mod aws;
pub mod cli;
pub mod commands;
pub mod copies;
pub mod exit;
pub mod hook;
pub mod ini;
pub mod mfa;
pub mod profile;
pub mod rotation;
pub mod secret;
pub mod state;
pub mod store;
pub mod ui;

use std::io::Write;

/// Prints the result on stdout. A closed pipe (`aws-rekey ... | head`) is
/// not an error worth a message: the reader has what it wanted.
pub fn print_stdout(text: &str) {
    if let Err(e) = try_print_stdout(text)
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("aws-rekey: could not write to stdout: {e}");
    }
}

/// Prints on stdout, flushed, for callers whose output is the whole point
/// (`credential-process`): a failed write must fail the command.
pub fn try_print_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()
}
