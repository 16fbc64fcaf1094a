//! The `~/.aws/credentials` store: reads a profile's key and swaps it for a
//! new one, byte-exact (see `ini`) and crash-safe (see `atomic`).

use super::{Store, StoreError};
use crate::atomic;
use crate::ini::{Document, FileKind};
use crate::secret::{AccessKey, Secret};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub const ID: &str = "aws_access_key_id";
pub const SECRET: &str = "aws_secret_access_key";

pub struct FileStore {
    path: PathBuf,
    profile: String,
}

impl FileStore {
    pub fn new(path: impl Into<PathBuf>, profile: impl Into<String>) -> Self {
        FileStore {
            path: path.into(),
            profile: profile.into(),
        }
    }

    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn load(&self) -> Result<Document, StoreError> {
        let bytes = Zeroizing::new(std::fs::read(&self.path).map_err(|source| StoreError::Io {
            what: format!("could not read {}", self.path.display()),
            source,
        })?);
        parse(&self.path, FileKind::Credentials, &bytes)
    }
}

/// Parses a credentials or config file, naming the file in errors. The
/// caller keeps (and wipes) `bytes`; the document's copy wipes itself.
pub fn parse(path: &Path, kind: FileKind, bytes: &[u8]) -> Result<Document, StoreError> {
    let text = std::str::from_utf8(bytes).map_err(|_| StoreError::Malformed {
        path: path.to_path_buf(),
        error: crate::ini::ParseError {
            line: 0,
            message: "the file is not valid UTF-8 text".into(),
        },
    })?;
    Document::parse(text, kind).map_err(|error| StoreError::Malformed {
        path: path.to_path_buf(),
        error,
    })
}

/// The static key a section holds, if it has both halves.
pub fn key_in(doc: &Document, section: &str) -> Option<AccessKey> {
    let id = doc.get(section, ID).filter(|v| !v.is_empty())?;
    let secret = doc.get(section, SECRET).filter(|v| !v.is_empty())?;
    Some(AccessKey::new(id, Secret::new(secret)))
}

impl Store for FileStore {
    fn location(&self) -> String {
        format!("{} [{}]", self.path.display(), self.profile)
    }

    fn read(&self) -> Result<AccessKey, StoreError> {
        let doc = self.load()?;
        key_in(&doc, &self.profile)
            .ok_or_else(|| StoreError::NotFound(format!("{} holds no access key", self.location())))
    }

    fn holders(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let doc = self.load()?;
        Ok(holding(&doc, id))
    }

    fn replace(&self, old_id: &str, new: &AccessKey) -> Result<Vec<String>, StoreError> {
        edit_file(&self.path, FileKind::Credentials, |doc| {
            let current = doc.get(&self.profile, ID).map(str::to_owned);
            if current.as_deref() == Some(new.id.as_str()) {
                return Ok(Edit::Unchanged(holding(doc, &new.id)));
            }
            if current.as_deref() != Some(old_id) {
                return Err(StoreError::Changed(format!(
                    "{} no longer holds the key aws-rekey is replacing",
                    self.location()
                )));
            }
            let profiles = holding(doc, old_id);
            for section in &profiles {
                set(doc, &self.path, section, ID, &new.id)?;
                set(doc, &self.path, section, SECRET, new.secret.expose())?;
            }
            Ok(Edit::Write(profiles))
        })
    }
}

/// What an edit of a shared file decided.
pub enum Edit<T> {
    /// Write the edited document, then return the value.
    Write(T),
    /// Nothing to write.
    Unchanged(T),
}

/// Edits a shared AWS file (credentials or config) losslessly and atomically.
/// A missing file reads as empty. If another program writes the file between
/// our read and our rename, the edit is applied again to its new bytes
/// rather than clobbering them.
pub fn edit_file<T>(
    path: &Path,
    kind: FileKind,
    mut edit: impl FnMut(&mut Document) -> Result<Edit<T>, StoreError>,
) -> Result<T, StoreError> {
    for _ in 0..5 {
        let original = Zeroizing::new(match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => {
                return Err(StoreError::Io {
                    what: format!("could not read {}", path.display()),
                    source,
                });
            }
        });
        let mut doc = parse(path, kind, &original)?;
        let value = match edit(&mut doc)? {
            Edit::Unchanged(v) => return Ok(v),
            Edit::Write(v) => v,
        };
        let written =
            atomic::replace(path, Some(&original), doc.text().as_bytes()).map_err(|source| {
                StoreError::Io {
                    what: format!("could not write {}", path.display()),
                    source,
                }
            })?;
        if written {
            return Ok(value);
        }
    }
    Err(StoreError::Changed(format!(
        "{} kept changing while aws-rekey tried to write it; close the program editing it and re-run",
        path.display()
    )))
}

/// `Document::set` with the file named in errors.
pub fn set(
    doc: &mut Document,
    path: &Path,
    section: &str,
    key: &str,
    value: &str,
) -> Result<(), StoreError> {
    doc.set(section, key, value)
        .map_err(|error| StoreError::Edit {
            what: format!("could not edit [{section}] in {}", path.display()),
            error,
        })
}

/// Every section whose key id is `id`: profiles sharing one key are rotated
/// together, or the ones left behind would break when the old key goes.
pub fn holding(doc: &Document, id: &str) -> Vec<String> {
    doc.section_names()
        .filter(|s| doc.get(s, ID) == Some(id))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // fixtures are written directly
mod tests {
    use super::*;

    const FILE: &str = "[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = s1\n\n\
        [ci]\n# same key\naws_access_key_id=AKIAOLD\naws_secret_access_key=s1\nregion=x\n\n\
        [other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = s2\n";

    fn setup() -> (tempfile::TempDir, FileStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(&path, FILE).unwrap();
        (dir, FileStore::new(path, "default"))
    }

    #[test]
    fn replaces_every_profile_sharing_the_key() {
        let (_dir, store) = setup();
        let new = AccessKey::new("AKIANEW", Secret::new("s9"));
        let profiles = store.replace("AKIAOLD", &new).unwrap();
        assert_eq!(profiles, vec!["default", "ci"]);
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert_eq!(
            text,
            FILE.replacen("AKIAOLD", "AKIANEW", 2)
                .replacen("= s1", "= s9", 1)
                .replacen("=s1", "=s9", 1)
        );
        assert_eq!(store.read().unwrap(), new);
        // Idempotent: a second call with the same new key changes nothing.
        assert_eq!(
            store.replace("AKIAOLD", &new).unwrap(),
            vec!["default", "ci"]
        );
        assert_eq!(std::fs::read_to_string(store.path()).unwrap(), text);
    }

    #[test]
    fn refuses_when_the_profile_holds_another_key() {
        let (_dir, store) = setup();
        let new = AccessKey::new("AKIANEW", Secret::new("s9"));
        let err = store.replace("AKIASOMETHINGELSE", &new).unwrap_err();
        assert!(matches!(err, StoreError::Changed(_)));
        assert_eq!(std::fs::read_to_string(store.path()).unwrap(), FILE);
    }

    #[test]
    fn a_write_between_read_and_rename_is_kept_not_clobbered() {
        let (_dir, store) = setup();
        let path = store.path().to_path_buf();
        let mut calls = 0;
        edit_file(&path, FileKind::Credentials, |doc| {
            calls += 1;
            if calls == 1 {
                // Another program writes after our read, before our rename.
                let mut theirs = std::fs::read_to_string(&path).unwrap();
                theirs.push_str("[theirs]\nx = 1\n");
                std::fs::write(&path, theirs).unwrap();
            }
            set(doc, &path, "other", "region", "eu-west-1")?;
            Ok(Edit::Write(()))
        })
        .unwrap();
        assert_eq!(calls, 2, "the edit was applied again to the new bytes");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[theirs]\nx = 1\n"), "{text}");
        assert!(text.contains("region = eu-west-1"), "{text}");
    }

    #[test]
    fn missing_profile_is_not_found() {
        let (dir, _) = setup();
        let store = FileStore::new(dir.path().join("credentials"), "nope");
        assert!(matches!(store.read(), Err(StoreError::NotFound(_))));
    }
}
