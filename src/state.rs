//! Local state in the per-user state folder: the pending-rotation records
//! that make a rotation resumable after any interruption, the key book
//! (creation dates for the offline `check`, keys this tool left inactive),
//! and the lock that keeps two runs from rotating at once.
//!
//! Every write goes through `StateLock`, the held lock: a `State` alone can
//! only read, so no command can change a record without the lock (a key
//! book read, changed and written back by two runs at once would lose one
//! run's change). The one exception is `check`'s own note of keys it has
//! mentioned, which never waits: it runs at every shell start.

use crate::atomic;
use crate::copies::listed::Listed;
use crate::secret::Secret;
use anyhow::{Context, Result};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod book;
mod lock;
mod records;

pub use book::{KeyBook, KeyRecord, RetiredKey};
pub use lock::{LockTimeout, StateLock, seconds};
pub use records::{NewKey, PENDING_VERSION, Pending, Phase, Retire, parse_pending};

#[derive(Clone)]
pub struct State {
    dir: PathBuf,
}

impl State {
    /// `AWS_REKEY_STATE_DIR`, else the platform's per-user state folder
    /// (`~/.local/state/aws-rekey` on Linux; the local data folder where a
    /// platform has no state folder).
    pub fn open() -> Result<Self> {
        Self::at(Self::locate()?.dir)
    }

    /// The state folder, without creating it: `check` runs at every shell
    /// start and only reads.
    pub fn locate() -> Result<Self> {
        let dir = match std::env::var_os("AWS_REKEY_STATE_DIR").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => dirs::state_dir()
                .or_else(dirs::data_local_dir)
                .context("no per-user state folder on this system; set AWS_REKEY_STATE_DIR")?
                .join("aws-rekey"),
        };
        Ok(State { dir })
    }

    /// The folder itself (`find` leaves it out: it holds keys by design).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the state folder exists (a symlink counts, so that `at`
    /// refuses it rather than a caller creating a folder beside it).
    pub fn exists(&self) -> bool {
        fs::symlink_metadata(&self.dir).is_ok()
    }

    /// The state folder if it exists, checked as `open` checks it; `None`
    /// if it does not, so that a command that only reads (or finds nothing
    /// to do) leaves no folder behind: the folder is made by the first run
    /// that has something to write.
    pub fn existing() -> Result<Option<Self>> {
        let located = Self::locate()?;
        if located.exists() {
            Self::at(located.dir).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Opens the state folder, creating it (0700) if need be, and checks
    /// that it can be trusted with secrets before anything is written: the
    /// folder, its `pending/`, `retired/` and `replaced/` folders and every
    /// file in them must be the user's own and none of them a symlink.
    /// Otherwise an error that says what is wrong (exit 1: the local state is
    /// damaged; the profile itself is fine).
    pub fn at(dir: PathBuf) -> Result<Self> {
        trusted_folder(&dir)?;
        let state = State { dir };
        for file in ["lock", "keys.json", "check-unknown.json"] {
            trusted(&state.dir.join(file), Kind::File)?;
        }
        state.secret_dir("pending")?;
        for name in ["retired", "replaced"] {
            if fs::symlink_metadata(state.dir.join(name)).is_ok() {
                state.secret_dir(name)?;
            }
        }
        Ok(state)
    }

    /// A folder of secret files (`pending`, `retired`, `replaced`), made
    /// private if need be, after checking it and every file in it.
    fn secret_dir(&self, name: &str) -> Result<PathBuf> {
        let dir = self.dir.join(name);
        trusted_folder(&dir)?;
        let entries =
            fs::read_dir(&dir).with_context(|| format!("could not read {}", dir.display()))?;
        for entry in entries {
            trusted(&entry?.path(), Kind::File)?;
        }
        Ok(dir)
    }
}

/// A folder of the state: checked (if it exists) before anything else, so
/// a link is named as such; then created if missing and made private.
fn trusted_folder(dir: &Path) -> Result<()> {
    if fs::symlink_metadata(dir).is_ok() {
        trusted(dir, Kind::Folder)?;
    }
    create_private_dir(dir)?;
    trusted(dir, Kind::Folder)
}

/// Creates `dir` (and its parents) if missing, the last folder 0700; an
/// existing folder readable by others is made private.
fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("could not create the state folder {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // symlink_metadata: a link is refused by `trusted`, never chmodded.
        let meta = fs::symlink_metadata(dir)?;
        if meta.is_dir() && meta.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .with_context(|| format!("could not make {} private", dir.display()))?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Folder,
    File,
}

/// Refuses a state path that is a symlink, not what it should be, or (on
/// Unix) owned by another user, who could read what goes there or plant a
/// link to carry a secret elsewhere. A missing file is fine: it is created
/// later, through `atomic::replace_private`, which follows no link.
fn trusted(path: &Path, kind: Kind) -> Result<()> {
    let refuse = |why: String| {
        anyhow::anyhow!(
            "refusing to use the state folder: {} {why}. aws-rekey keeps key secrets there and never writes one through a symlink or into another user's files; move it away (or point AWS_REKEY_STATE_DIR at a folder of your own) and re-run; nothing was changed",
            path.display()
        )
    };
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && kind == Kind::File => {
            return Ok(());
        }
        Err(e) => return Err(e).with_context(|| format!("could not read {}", path.display())),
    };
    if meta.file_type().is_symlink() {
        let to = fs::read_link(path)
            .map(|t| format!(" (to {})", t.display()))
            .unwrap_or_default();
        return Err(refuse(format!("is a symlink{to}")));
    }
    match kind {
        Kind::Folder if !meta.is_dir() => return Err(refuse("is not a folder".into())),
        Kind::File if !meta.is_file() => return Err(refuse("is not a regular file".into())),
        _ => {}
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = nix::unistd::geteuid().as_raw();
        if meta.uid() != me {
            return Err(refuse(format!(
                "belongs to user id {}, not to this user (id {me})",
                meta.uid()
            )));
        }
        // A hard link shares its bytes with a file elsewhere: writing or
        // truncating it (the lock file is) would change that file too.
        if kind == Kind::File && meta.nlink() != 1 {
            return Err(refuse(format!(
                "has {} hard links, so it is another file's name too",
                meta.nlink()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
