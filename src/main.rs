//! aws-rekey: rotate your own AWS IAM access key safely, in one step.

use aws_rekey::{cli::Cli, commands, exit::Exit};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything can hold a secret.
    aws_rekey::secret::disable_core_dumps();
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("aws-rekey: {e:#}");
            Exit::Failure.into()
        }
    }
}
