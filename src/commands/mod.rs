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
use crate::exit::Exit;
use crate::profile::ProfileError;
use crate::rotation::RotateError;

pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    let result = dispatch(cli);
    // Whichever command gave up waiting for the lock, it changed nothing
    // and a re-run will do the job: exit 6, like any run that stopped short.
    match result {
        Err(e) if is_lock_timeout(&e) => {
            eprintln!("aws-rekey: {e:#}");
            Ok(Exit::Incomplete)
        }
        other => other,
    }
}

fn is_lock_timeout(e: &anyhow::Error) -> bool {
    e.downcast_ref::<crate::state::LockTimeout>().is_some()
}

fn dispatch(cli: Cli) -> anyhow::Result<Exit> {
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

/// The exit code for each kind of failure (README, `aws-rekey --help`).
pub fn exit_for(e: &RotateError) -> Exit {
    match e {
        RotateError::Refused(_) => Exit::Refused,
        RotateError::Aws { .. } => Exit::Aws,
        RotateError::NotVerified(_) => Exit::NotVerified,
        RotateError::Incomplete(_) => Exit::Incomplete,
        RotateError::Other(e) if is_lock_timeout(e) => Exit::Incomplete,
        RotateError::Other(_) => Exit::Failure,
    }
}

/// A profile that cannot be used as it is: a refusal, except for an I/O
/// error reading the files.
pub fn refusal(e: ProfileError) -> RotateError {
    match e {
        ProfileError::File(crate::store::StoreError::Io { .. }) => RotateError::Other(e.into()),
        e => RotateError::Refused(e.to_string()),
    }
}

/// Reports a failed command: the message on stderr, and with `--output
/// json` an error document on stdout in place of the result.
pub fn report_error(profile: &str, e: &RotateError, json: bool) -> Exit {
    let exit = exit_for(e);
    if json {
        crate::print_stdout(
            &serde_json::json!({"profile": profile, "error": format!("{e:#}"), "exit_code": exit as u8})
                .to_string(),
        );
    }
    eprintln!("aws-rekey: {e:#}");
    exit
}

/// A single-threaded runtime: the tool makes a handful of calls in sequence,
/// and a thread pool would only slow its start.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
