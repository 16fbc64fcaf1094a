//! Crash-safe file replacement: the only way this tool writes a file.
//!
//! A kill -9 or a full disk at any instant leaves either the old file or the
//! new one, never a torn mix: the new bytes go to a temp file in the same
//! folder (rename is atomic only within one file system), are fsynced, and
//! are renamed over the target; then the folder is fsynced so the rename
//! itself survives a power cut.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The names of this tool's temp files: a kill -9 between a temp file's
/// write and its rename leaves one behind, which `sweep` removes.
const TEMP_PREFIX: &str = ".aws-rekey-";
const TEMP_SUFFIX: &str = ".tmp";

/// Removes the temp files an interrupted write left in `dir` (in the state
/// folder they hold a pending record's secrets; beside the credentials file
/// a whole copy of it). Only for a caller holding the state lock: then no
/// other aws-rekey run is between a write and its rename. Regular files
/// only, never through a link; best effort.
pub fn sweep(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX);
        if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// `sweep` for the folder a write to `path` lands in (following links, as
/// `replace` does).
pub fn sweep_beside(path: &Path) {
    if let Some(dir) = write_target(path).ok().as_deref().and_then(Path::parent) {
        sweep(dir);
    }
}

/// Where a write to `path` must land: a symlinked `~/.aws/credentials` (a
/// dotfiles repo, say) stays a symlink, and its target gets the new bytes.
pub fn write_target(path: &Path) -> io::Result<PathBuf> {
    match fs::canonicalize(path) {
        Ok(target) => Ok(target),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A dangling link still names where the file should be.
            match fs::read_link(path) {
                Ok(link) => Ok(path.parent().unwrap_or(Path::new(".")).join(link)),
                Err(_) => Ok(path.to_path_buf()),
            }
        }
        Err(e) => Err(e),
    }
}

/// Replaces the file at `path` (following symlinks) with `bytes`.
///
/// The new file keeps the old one's mode, less any group or world write
/// permission (never wider than it was, and never writable by others: it
/// holds secrets), and its owner and group where this process may set them
/// (under `sudo` the file stays the user's, not root's). A new file is 0600.
///
/// `expected` is what the caller read and edited (a missing file counts as
/// empty). If the file on disk no longer holds those bytes (another program
/// changed it since), nothing is written and `Ok(false)` comes back, so the
/// caller can re-read and re-apply its edit instead of clobbering the other
/// change.
pub fn replace(path: &Path, expected: Option<&[u8]>, bytes: &[u8]) -> io::Result<bool> {
    let target = write_target(path)?;
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    let original = match fs::metadata(&target) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    // Before the secret is written into it.
    keep_access(tmp.as_file(), original.as_ref())?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;

    // Compare as late as possible, right before the rename.
    if let Some(expected) = expected {
        // The file's bytes may hold secrets: wiped after the comparison.
        let now = zeroize::Zeroizing::new(match fs::read(&target) {
            Ok(now) => now,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        });
        if now.as_slice() != expected {
            return Ok(false);
        }
    }
    tmp.persist(&target).map_err(|e| e.error)?;
    sync_dir(dir)?;
    Ok(true)
}

/// Replaces a file in aws-rekey's own state folder with `bytes`: always
/// mode 0600, and never through a symlink. Unlike the AWS files, nothing
/// there is meant to be a link, and a link planted where a secret goes
/// would carry the secret wherever it points: a link at `path` is an error.
/// (The rename itself replaces a link rather than following it, so even one
/// planted after this check never receives the secret.)
pub fn replace_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::other(format!(
            "{} is a symlink; aws-rekey never writes its state through one",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    keep_access(tmp.as_file(), None)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Gives the temp file the original's owner and mode (see `replace`).
#[cfg(unix)]
fn keep_access(file: &File, original: Option<&fs::Metadata>) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Some(original) = original else {
        return file.set_permissions(fs::Permissions::from_mode(0o600));
    };
    let mut mode = original.mode() & 0o777 & !0o022;
    let ours = file.metadata()?;
    if (ours.uid(), ours.gid()) != (original.uid(), original.gid())
        && std::os::unix::fs::fchown(file, Some(original.uid()), Some(original.gid())).is_err()
    {
        // Not permitted (only root may give a file away). The file is ours
        // and our group's then: the old group's read access must not pass
        // to our group.
        mode &= !0o070;
    }
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn keep_access(_file: &File, _original: Option<&fs::Metadata>) -> io::Result<()> {
    // The temp file inherits the folder's ACL, which is the user's own.
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // fixtures are written directly
mod tests {
    use super::*;

    #[test]
    fn replaces_and_keeps_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        }
        assert!(replace(&path, Some(b"old"), b"new").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }
        // No temp files left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        assert!(replace(&path, None, b"new").unwrap());
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn refuses_when_the_file_changed_underneath() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        fs::write(&path, "changed by someone else").unwrap();
        assert!(!replace(&path, Some(b"what we read"), b"ours").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"changed by someone else");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600_and_never_written_through_a_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record.json");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        replace_private(&path, b"secret").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        let target = dir.path().join("elsewhere");
        let link = dir.path().join("linked.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = replace_private(&link, b"secret").unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
        assert!(!target.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles-credentials");
        let link = dir.path().join("credentials");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(replace(&link, Some(b"old"), b"new").unwrap());
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }
}
