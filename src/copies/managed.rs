//! Editing a managed copy of a key: a file named by `aws_rekey_also` or
//! `--also`, whatever its format (dotenv, shell or fish rc, INI, JSON,
//! YAML, tfvars). Every whole-token occurrence of one key's id and of its
//! secret (`token`'s rules, the same `find` uses) is replaced by the other
//! key's; no other byte changes, and the file is replaced atomically, its
//! mode and symlinks kept, as the credentials file is.
//!
//! The edit is refused when the file does not pair the two up: the id
//! without the secret, the secret without the id, or a different number of
//! each. Then aws-rekey cannot tell that the bytes are this key, and a half
//! update would leave a copy that works for nobody.

use super::listed::Listed;
use super::skip::MAX_FILE_SIZE;
use super::token::{self, Class};
use crate::atomic;
use crate::secret::{AccessKey, mask};
use std::io::{ErrorKind, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use thiserror::Error;
use zeroize::Zeroizing;

/// Why a managed file was not (or could not be) edited. Messages name the
/// file and line, never a secret.
#[derive(Debug, Error)]
pub enum CopyError {
    #[error(
        "{} does not exist (list it as ?{} if it may be missing)",
        path.display(),
        path.display()
    )]
    Missing { path: PathBuf },
    #[error("{}: {problem}; it was not changed", path.display())]
    Mismatch { path: PathBuf, problem: String },
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error("{} is larger than {} MiB", path.display(), MAX_FILE_SIZE >> 20)]
    TooLarge { path: PathBuf },
    #[error("could not read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} kept changing while aws-rekey was updating it (another program is writing it)",
        path.display()
    )]
    Busy { path: PathBuf },
}

impl CopyError {
    /// A refusal: the file is not as a managed copy must be, and the user
    /// can fix that; not a failure of the machine.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            CopyError::Missing { .. }
                | CopyError::Mismatch { .. }
                | CopyError::NotAFile { .. }
                | CopyError::TooLarge { .. }
        )
    }
}

/// What the file holds of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// Neither its id nor its secret.
    Nothing,
    /// This many ids, each with a secret.
    Copies(usize),
}

/// What `swap` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swapped {
    /// This many copies were changed.
    Changed(usize),
    /// It held no copy of the key being replaced (already done, or a file
    /// that holds another key).
    Nothing,
    /// Listed as optional and missing.
    Missing,
}

/// A file's new bytes (wiped when dropped) and how many copies changed.
pub type Edit = (usize, Zeroizing<Vec<u8>>);

/// A managed file's bytes, wiped when dropped: they hold a secret.
pub struct Loaded {
    path: PathBuf,
    bytes: Zeroizing<Vec<u8>>,
}

/// Reads a listed file; `None` when it is optional and missing.
pub fn load(listed: &Listed) -> Result<Option<Loaded>, CopyError> {
    let path = listed.path.clone();
    let mut file = match open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return if listed.optional {
                Ok(None)
            } else {
                Err(CopyError::Missing { path })
            };
        }
        Err(source) => return Err(CopyError::Read { path, source }),
    };
    let meta = file.metadata().map_err(|source| CopyError::Read {
        path: path.clone(),
        source,
    })?;
    if !meta.is_file() {
        return Err(CopyError::NotAFile { path });
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(CopyError::TooLarge { path });
    }
    // Sized up front: a buffer that grows leaves copies of the secret in
    // freed memory.
    let size = usize::try_from(meta.len()).unwrap_or(0);
    let mut bytes = Zeroizing::new(Vec::with_capacity(size.saturating_add(1)));
    (&mut file)
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| CopyError::Read {
            path: path.clone(),
            source,
        })?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(CopyError::TooLarge { path });
    }
    Ok(Some(Loaded { path, bytes }))
}

/// Opens for reading, following links (a managed file may be a link into a
/// dotfiles repo) but never blocking on a pipe put where a file was.
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::File::options();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(nix::libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Where one key sits in a text.
struct Found {
    ids: Vec<Range<usize>>,
    secrets: Vec<Range<usize>>,
}

impl Loaded {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many copies of `key` the file holds, or why it cannot be edited.
    pub fn holds(&self, key: &AccessKey) -> Result<Holds, CopyError> {
        let found = self.find(key)?;
        Ok(match found.ids.len() {
            0 => Holds::Nothing,
            n => Holds::Copies(n),
        })
    }

    /// The file's bytes with every copy of `from` replaced by `to`; `None`
    /// when it holds no copy of `from`.
    pub fn swapped(&self, from: &AccessKey, to: &AccessKey) -> Result<Option<Edit>, CopyError> {
        let found = self.find(from)?;
        if found.ids.is_empty() {
            return Ok(None);
        }
        let mut at: Vec<(Range<usize>, &[u8])> = found
            .ids
            .iter()
            .map(|r| (r.clone(), to.id.as_bytes()))
            .chain(
                found
                    .secrets
                    .iter()
                    .map(|r| (r.clone(), to.secret.expose().as_bytes())),
            )
            .collect();
        at.sort_by_key(|(r, _)| r.start);
        let grow = found.ids.len() * to.id.len() + found.secrets.len() * to.secret.expose().len();
        let mut out = Zeroizing::new(Vec::with_capacity(self.bytes.len() + grow));
        let mut from_byte = 0;
        for (range, with) in at {
            out.extend_from_slice(&self.bytes[from_byte..range.start]);
            out.extend_from_slice(with);
            from_byte = range.end;
        }
        out.extend_from_slice(&self.bytes[from_byte..]);
        Ok(Some((found.ids.len(), out)))
    }

    /// Every whole id and secret of `key`, refused unless they pair up.
    fn find(&self, key: &AccessKey) -> Result<Found, CopyError> {
        let hay: &[u8] = &self.bytes;
        let ranges = |needle: &[u8], class: Class| -> Vec<Range<usize>> {
            token::find_whole(hay, needle, class)
                .map(|s| s..s + needle.len())
                .collect()
        };
        let found = Found {
            ids: ranges(key.id.as_bytes(), token::ID),
            secrets: ranges(key.secret.expose().as_bytes(), token::SECRET),
        };
        let line = |r: &Range<usize>| line_of(hay, r.start);
        let lines = |rs: &[Range<usize>]| {
            rs.iter()
                .map(|r| line(r).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let id = mask(&key.id);
        let problem = match (found.ids.as_slice(), found.secrets.as_slice()) {
            ([], []) => None,
            ([first, ..], []) => Some(format!(
                "holds the key id {id} (line {}) but not its secret, so aws-rekey cannot tell which value to change with it",
                line(first)
            )),
            ([], [first, ..]) => Some(format!(
                "holds the secret of key {id} (line {}) but not the key id, so aws-rekey cannot tell which value to change with it",
                line(first)
            )),
            (ids, secrets) if ids.len() != secrets.len() => Some(format!(
                "holds the key id {id} {} (line{} {}) but its secret {} (line{} {}); aws-rekey changes a copy only where each id goes with one secret",
                times(ids.len()),
                plural(ids.len()),
                lines(ids),
                times(secrets.len()),
                plural(secrets.len()),
                lines(secrets),
            )),
            (ids, secrets) => ids
                .iter()
                .chain(secrets)
                .find(|a| {
                    ids.iter()
                        .chain(secrets)
                        .any(|b| *a != b && a.start < b.end && b.start < a.end)
                })
                .map(|r| {
                    format!(
                        "the key id {id} and its secret overlap (line {}), so the edit would be ambiguous",
                        line(r)
                    )
                }),
        };
        match problem {
            Some(problem) => Err(CopyError::Mismatch {
                path: self.path.clone(),
                problem,
            }),
            None => Ok(found),
        }
    }
}

/// The 1-based line of byte `at`.
pub fn line_of(hay: &[u8], at: usize) -> usize {
    1 + memchr::memchr_iter(b'\n', &hay[..at]).count()
}

fn times(n: usize) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Checks a listed file before a rotation creates anything: it must exist
/// (unless optional) and pair up `key`'s ids and secrets.
pub fn check(listed: &Listed, key: &AccessKey) -> Result<Option<Holds>, CopyError> {
    load(listed)?.map(|f| f.holds(key)).transpose()
}

/// How many times a file that keeps changing under the edit is re-read
/// and the edit re-applied before giving up.
const ATTEMPTS: usize = 5;

/// Replaces every copy of `from` in a listed file by `to`, atomically.
/// Run again on the result it changes nothing, so an interrupted run can
/// simply repeat it; and `swap(to, from)` undoes it. A change made by
/// another program between the read and the write is not overwritten: the
/// file is read again and the edit re-applied to what it holds then.
pub fn swap(listed: &Listed, from: &AccessKey, to: &AccessKey) -> Result<Swapped, CopyError> {
    for _ in 0..ATTEMPTS {
        let Some(file) = load(listed)? else {
            return Ok(Swapped::Missing);
        };
        let Some((n, bytes)) = file.swapped(from, to)? else {
            return Ok(Swapped::Nothing);
        };
        match atomic::replace(&file.path, Some(file.bytes()), &bytes) {
            Ok(true) => return Ok(Swapped::Changed(n)),
            Ok(false) => continue,
            Err(source) => {
                return Err(CopyError::Write {
                    path: file.path.clone(),
                    source,
                });
            }
        }
    }
    Err(CopyError::Busy {
        path: listed.path.clone(),
    })
}

#[cfg(test)]
mod tests;
