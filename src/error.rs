//! The one error every command reports, and the exit code of each kind.
//!
//! Every command returns a `CommandError` (or a list of them, one per
//! profile or key), so a malformed file, a locked keychain or an AWS outage
//! exits with the same code whichever command met it. The rule for several
//! results at once is `Exit::combine` (src/exit.rs).

use crate::aws::AwsError;
use crate::exit::Exit;
use crate::ini::EditError;
use crate::network::NetworkError;
use crate::profile::ProfileError;
use crate::store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CommandError {
    /// Nothing was changed: the request cannot be carried out as things are
    /// (exit 3).
    #[error("{0}")]
    Refused(String),
    /// An AWS call failed before anything was changed (exit 4).
    #[error("{during}: {source}")]
    Aws { during: String, source: AwsError },
    /// The new key never worked; the old key is back and the new one
    /// deleted (exit 5).
    #[error("{0}")]
    NotVerified(String),
    /// Stopped part-way; the pending record lets the next run finish
    /// (exit 6).
    #[error("{0}")]
    Incomplete(String),
    /// Anything unexpected: an I/O error, a bug (exit 1).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl CommandError {
    /// The exit code for this failure (README, `aws-rekey --help`).
    pub fn exit(&self) -> Exit {
        match self {
            CommandError::Refused(_) => Exit::Refused,
            CommandError::Aws { .. } => Exit::Aws,
            CommandError::NotVerified(_) => Exit::NotVerified,
            CommandError::Incomplete(_) => Exit::Incomplete,
            // Whichever command gave up waiting for the lock changed
            // nothing, and a re-run will do the job: like any run that
            // stopped short.
            CommandError::Other(e) if e.downcast_ref::<crate::state::LockTimeout>().is_some() => {
                Exit::Incomplete
            }
            CommandError::Other(_) => Exit::Failure,
        }
    }
}

/// A store that cannot be used as it is (a malformed file, no key, a locked
/// keychain, a key changed under the run) is a refusal: nothing was changed
/// and the user can act on the message. Only an I/O error is unexpected.
impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Malformed { .. }
            | StoreError::NotFound(_)
            | StoreError::Changed(_)
            | StoreError::Unavailable(_) => CommandError::Refused(e.to_string()),
            StoreError::Edit { what, error } => match CommandError::from(error) {
                CommandError::Refused(why) => CommandError::Refused(format!("{what}: {why}")),
                other => CommandError::Other(anyhow::Error::from(other).context(what)),
            },
            StoreError::Io { .. } => CommandError::Other(e.into()),
        }
    }
}

/// A profile that cannot be used as it is: a refusal, except for an I/O
/// error reading the files.
impl From<ProfileError> for CommandError {
    fn from(e: ProfileError) -> Self {
        match e {
            ProfileError::File(e) => e.into(),
            e => CommandError::Refused(e.to_string()),
        }
    }
}

/// A CA bundle or proxy URL that cannot be used: a refusal, made before
/// anything was sent.
impl From<NetworkError> for CommandError {
    fn from(e: NetworkError) -> Self {
        CommandError::Refused(format!("{e}; nothing was changed"))
    }
}

/// An edit the file editor will not make (a value or section name it
/// cannot write, a section that is missing or already there) is a refusal;
/// an edit that would break the file is a bug in the editor, never written.
impl From<EditError> for CommandError {
    fn from(e: EditError) -> Self {
        match e {
            EditError::Broke(_) => CommandError::Other(e.into()),
            e => CommandError::Refused(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ini::ParseError;

    #[test]
    fn each_kind_has_its_exit_code() {
        let malformed = StoreError::Malformed {
            path: "/x/credentials".into(),
            error: ParseError {
                line: 3,
                message: "bad".into(),
            },
        };
        let io = StoreError::Io {
            what: "reading".into(),
            source: std::io::Error::other("disk"),
        };
        let cases: Vec<(CommandError, Exit)> = vec![
            (malformed.into(), Exit::Refused),
            (
                StoreError::Unavailable("locked".into()).into(),
                Exit::Refused,
            ),
            (StoreError::NotFound("none".into()).into(), Exit::Refused),
            (io.into(), Exit::Failure),
            (ProfileError::Sso("p".into()).into(), Exit::Refused),
            (EditError::BadValue.into(), Exit::Refused),
            (
                EditError::Broke(ParseError {
                    line: 1,
                    message: "x".into(),
                })
                .into(),
                Exit::Failure,
            ),
            (CommandError::NotVerified("x".into()), Exit::NotVerified),
        ];
        for (e, exit) in cases {
            assert_eq!(e.exit(), exit, "{e:?}");
        }
    }
}
