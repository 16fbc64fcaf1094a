//! aws-rekey: rotate your own AWS IAM access key safely, in one step.

mod atomic;
mod aws;
mod cli;
mod commands;
mod exit;
mod hook;
mod ini;
mod mfa;
mod profile;
mod rotation;
mod secret;
mod state;
mod store;
mod ui;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("aws-rekey: {e:#}");
            exit::Exit::Failure.into()
        }
    }
}

/// Prints the result on stdout. A closed pipe (`aws-rekey ... | head`) is
/// not an error worth a message: the reader has what it wanted.
pub fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}")
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("aws-rekey: could not write to stdout: {e}");
    }
}
