//! One file per subcommand, each a thin driver over the library modules.

pub mod check;
pub mod completions;
pub mod credential_process;
pub mod find;
pub mod move_key;
pub mod prune;
pub mod rollback;
pub mod rotate;
pub mod setup;
pub mod status;

use crate::cli::{Cli, Command};
use crate::error::CommandError;
use crate::exit::Exit;

/// Runs the command; a failure is reported on stderr and exits with the
/// code of its kind (`CommandError::exit`), whichever command met it.
pub fn run(cli: Cli) -> Exit {
    match dispatch(cli) {
        Ok(exit) => exit,
        Err(e) => {
            eprintln!("aws-rekey: {e:#}");
            e.exit()
        }
    }
}

fn dispatch(cli: Cli) -> Result<Exit, CommandError> {
    match cli.command {
        Command::Rotate(args) => runtime()?.block_on(rotate::run(args)),
        Command::Move(args) => runtime()?.block_on(move_key::run(args)),
        // No runtime, no SDK: the AWS CLI runs this on every command.
        Command::CredentialProcess(args) => credential_process::run(args),
        // Offline and synchronous: it runs at every shell start.
        Command::Check(args) => Ok(check::run(args)),
        Command::Status(args) => runtime()?.block_on(status::run(args)),
        Command::Setup(args) => runtime()?.block_on(setup::run(args)),
        Command::Prune(args) => runtime()?.block_on(prune::run(args)),
        Command::Rollback(args) => runtime()?.block_on(rollback::run(args)),
        // Local files only: no runtime, no SDK.
        Command::Find(args) => Ok(find::run(args)),
        Command::Completions(args) => completions::print(args.shell),
        Command::Man => completions::man(),
    }
}

/// A single-threaded runtime: the tool makes a handful of calls in sequence,
/// and a thread pool would only slow its start.
fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            CommandError::Other(anyhow::Error::new(e).context("could not start the async runtime"))
        })
}
