//! How a command reports: its result as text or as a JSON document on
//! stdout, a failure on stderr (and as an error document with `--output
//! json`), and the exit code for either.

use crate::error::CommandError;
use crate::exit::Exit;
use crate::ui::{print_json, print_stdout};
use serde::Serialize;

/// The JSON document of a failure, alone or as one entry of a list.
pub fn error_doc(profile: &str, e: &CommandError) -> serde_json::Value {
    serde_json::json!({"profile": profile, "error": format!("{e:#}"), "exit_code": e.exit() as u8})
}

/// Reports a failed command: the message on stderr, and with `--output
/// json` an error document on stdout in place of the result.
pub fn failure(profile: &str, e: &CommandError, json: bool) -> Exit {
    if json {
        print_json(&error_doc(profile, e));
    }
    eprintln!("aws-rekey: {e:#}");
    e.exit()
}

/// Reports the result of a command about one profile: `text` of it, or
/// the result itself as JSON; or the failure.
pub fn one<T: Serialize>(
    profile: &str,
    result: Result<T, CommandError>,
    json: bool,
    text: impl FnOnce(&T) -> String,
) -> Exit {
    match result {
        Ok(done) if json => {
            print_json(&done);
            Exit::Success
        }
        Ok(done) => {
            print_stdout(&text(&done));
            Exit::Success
        }
        Err(e) => failure(profile, &e, json),
    }
}
