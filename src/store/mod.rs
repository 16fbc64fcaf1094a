//! Where a profile's long-lived key is kept: the `Store` trait and its errors.
//!
//! The rotation protocol only ever talks to a `Store`, so the credentials
//! file and the OS keychain are rotated by the same code.

pub mod file;
pub mod keychain;

use crate::ini::{EditError, ParseError};
use crate::secret::AccessKey;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// The profile holds no static key here. Not a failure for callers that
    /// probe several places.
    #[error("{0}")]
    NotFound(String),
    /// The store no longer holds the key the caller expected to replace.
    #[error("{0}")]
    Changed(String),
    /// The store cannot be used now (a locked keychain, no Secret Service).
    #[error("{0}")]
    Unavailable(String),
    /// Named `error`, not `source`: the message already includes it, and
    /// a `source` would be printed twice by `{:#}`.
    #[error("{path}: {error}")]
    Malformed { path: PathBuf, error: ParseError },
    /// An edit the file editor refused: a value or name it cannot write,
    /// or (a bug) one that would have broken the file.
    #[error("{what}: {error}")]
    Edit { what: String, error: EditError },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

pub trait Store {
    /// Where the key lives, for messages: `~/.aws/credentials [work]`.
    fn location(&self) -> String;

    /// The profile's key as stored now. `NotFound` when there is none.
    fn read(&self) -> Result<AccessKey, StoreError>;

    /// Every profile in this store that holds the key `id`.
    fn holders(&self, id: &str) -> Result<Vec<String>, StoreError>;

    /// Puts `new` wherever this store holds the key `old_id` (every profile
    /// sharing it) and returns those profiles. Idempotent: if the profile
    /// already holds `new`, nothing is written. `Changed` when the profile
    /// holds neither key.
    fn replace(&self, old_id: &str, new: &AccessKey) -> Result<Vec<String>, StoreError>;
}
