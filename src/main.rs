//! aws-rekey: rotate your own AWS IAM access key safely, in one step.

use aws_rekey::{cli::Cli, commands};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything can hold a secret.
    aws_rekey::secret::disable_core_dumps();
    let cli = Cli::parse();
    commands::run(cli).into()
}
