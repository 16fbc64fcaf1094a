//! Local state in the per-user state folder: the pending-rotation records
//! that make a rotation resumable after any interruption, the key book
//! (creation dates for the offline `check`, keys this tool left inactive),
//! and the lock that keeps two runs from rotating at once.

use crate::atomic;
use crate::secret::Secret;
use anyhow::{Context, Result};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

pub struct State {
    dir: PathBuf,
}

/// What a rotation has done so far, written before each step that IAM or a
/// crash could leave half-done. It holds both secrets while the rotation is
/// in flight: until the old key is retired, its secret is needed to roll
/// back, and until the new key is in the store, its secret lives only here.
#[derive(Debug, Serialize, Deserialize)]
pub struct Pending {
    pub version: u32,
    pub profile: String,
    pub location: String,
    pub user_arn: String,
    pub started: Timestamp,
    pub phase: Phase,
    pub old_key_id: String,
    #[serde(with = "crate::secret::exposed")]
    pub old_secret: Secret,
    pub new_key: Option<NewKey>,
    #[serde(default)]
    pub keep_old: bool,
    /// When CreateAccessKey was sent: the record is durable before the
    /// request leaves, so a key whose answer was lost can only have been
    /// created within a short window after this instant (see
    /// `rotation::ORPHAN_WINDOW`). A key created outside it is not ours.
    #[serde(default)]
    pub create_sent: Option<Timestamp>,
    /// Every profile of the store that held the old key when the rotation
    /// began: a resumed run switches each of them before it retires the key.
    #[serde(default)]
    pub holders: Vec<String>,
    /// The instant this rotation stopped signing with the old key, recorded
    /// (just before the first switch) so that a resumed run judges a later
    /// use of the old key as someone else's, as the first run would have.
    #[serde(default)]
    pub switched: Option<Timestamp>,
    /// What happens to the old key, decided once and recorded before it is
    /// acted on; a resumed run follows it rather than deciding again.
    #[serde(default)]
    pub retire: Option<Retire>,
}

/// The pending-record format this build writes and understands. Version 1
/// (before `create_sent`, `holders`, `switched`, `retire`) is still read.
pub const PENDING_VERSION: u32 = 2;

/// The decision on the old key once the new one is verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Retire {
    Delete,
    /// Deactivate and keep its secret (`--keep-old`, or something else was
    /// still using it: `why` says what, for the user).
    Deactivate {
        why: Option<String>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub struct NewKey {
    pub id: String,
    #[serde(with = "crate::secret::exposed")]
    pub secret: Secret,
    pub created: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// CreateAccessKey was (or is about to be) sent; its answer never came.
    Creating,
    /// The new key exists and its secret is saved here.
    Created,
    /// The old key is back in the store; the new key is being deleted.
    RollingBack,
}

/// What this tool knows about keys, for `check` (offline) and for finishing
/// `--keep-old` rotations.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct KeyBook {
    #[serde(default)]
    pub keys: BTreeMap<String, KeyRecord>,
    #[serde(default)]
    pub retired: BTreeMap<String, RetiredKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRecord {
    pub created: Timestamp,
    #[serde(default)]
    pub user_arn: String,
    #[serde(default)]
    pub profiles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetiredKey {
    pub user_arn: String,
    pub deactivated: Timestamp,
    pub replaced_by: String,
    #[serde(default)]
    pub profiles: Vec<String>,
}

/// Held for a whole rotation; released by the OS if the process dies.
pub struct StateLock {
    _file: File,
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

    pub fn at(dir: PathBuf) -> Result<Self> {
        fs::create_dir_all(dir.join("pending"))
            .with_context(|| format!("could not create the state folder {}", dir.display()))?;
        private_dir(&dir)?;
        private_dir(&dir.join("pending"))?;
        Ok(State { dir })
    }

    /// Takes the lock, calling `on_wait` once if another run holds it.
    pub fn lock(&self, on_wait: impl FnOnce()) -> Result<StateLock> {
        let path = self.dir.join("lock");
        let mut options = File::options();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .with_context(|| format!("could not open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                on_wait();
                file.lock()
                    .with_context(|| format!("could not lock {}", path.display()))?;
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("could not lock {}", path.display()));
            }
        }
        Ok(StateLock { _file: file })
    }

    pub fn pending_dir(&self) -> PathBuf {
        self.dir.join("pending")
    }

    pub fn pending_path(&self, old_key_id: &str) -> PathBuf {
        self.pending_dir().join(format!("{old_key_id}.json"))
    }

    /// Every pending record. A record that cannot be read is an error, never
    /// skipped: it may hold the only copy of a live secret.
    pub fn pending(&self) -> Result<Vec<Pending>> {
        let dir = self.dir.join("pending");
        let mut out = Vec::new();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e).with_context(|| format!("could not read {}", dir.display())),
        };
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            // The record holds secrets: its bytes are wiped once parsed.
            let bytes = zeroize::Zeroizing::new(
                fs::read(&path).with_context(|| format!("could not read {}", path.display()))?,
            );
            out.push(parse_pending(&path, &bytes)?);
        }
        Ok(out)
    }

    pub fn save_pending(&self, record: &Pending) -> Result<()> {
        let path = self.pending_path(&record.old_key_id);
        let json = crate::secret::json_bytes(record)?;
        atomic::replace(&path, None, &json)
            .with_context(|| format!("could not write {}", path.display()))?;
        Ok(())
    }

    pub fn clear_pending(&self, old_key_id: &str) -> Result<()> {
        let path = self.pending_path(old_key_id);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("could not remove {}", path.display()));
            }
        }
        // The removal must be durable before the caller reports success.
        #[cfg(unix)]
        File::open(self.dir.join("pending")).and_then(|d| d.sync_all())?;
        Ok(())
    }

    fn book_path(&self) -> PathBuf {
        self.dir.join("keys.json")
    }

    /// The key book; a missing file is an empty book.
    pub fn book(&self) -> Result<KeyBook> {
        let path = self.book_path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is damaged", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KeyBook::default()),
            Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
        }
    }

    /// Read, change and write back the key book. A damaged book is replaced:
    /// it holds no secrets, only dates `status` can learn again.
    pub fn update_book(&self, change: impl FnOnce(&mut KeyBook)) -> Result<()> {
        let mut book = self.book().unwrap_or_default();
        change(&mut book);
        let path = self.book_path();
        let json = serde_json::to_vec_pretty(&book)?;
        atomic::replace(&path, None, &json)
            .with_context(|| format!("could not write {}", path.display()))?;
        Ok(())
    }
}

impl State {
    /// Keeps a key that `setup --force` is about to overwrite: its key may
    /// still be alive in IAM, and its secret must not be lost with it.
    pub fn save_replaced(&self, profile: &str, key: &crate::secret::AccessKey) -> Result<PathBuf> {
        #[derive(Serialize)]
        struct Replaced<'a> {
            profile: &'a str,
            access_key_id: &'a str,
            #[serde(with = "crate::secret::exposed")]
            secret_access_key: Secret,
            replaced: Timestamp,
        }
        let path = self.dir.join("replaced").join(format!("{}.json", key.id));
        let json = crate::secret::json_bytes(&Replaced {
            profile,
            access_key_id: &key.id,
            secret_access_key: key.secret.clone(),
            replaced: Timestamp::now(),
        })?;
        atomic::replace(&path, None, &json)
            .with_context(|| format!("could not write {}", path.display()))?;
        private_dir(&self.dir.join("replaced"))?;
        Ok(path)
    }

    fn retired_path(&self, id: &str) -> PathBuf {
        self.dir.join("retired").join(format!("{id}.json"))
    }

    /// Keeps the secret of a key this tool deactivated, so `rollback` can
    /// bring it back; `prune` forgets it when it deletes the key.
    pub fn save_retired_secret(&self, key: &crate::secret::AccessKey) -> Result<()> {
        #[derive(Serialize)]
        struct Kept<'a> {
            access_key_id: &'a str,
            #[serde(with = "crate::secret::exposed")]
            secret_access_key: Secret,
        }
        let path = self.retired_path(&key.id);
        let json = crate::secret::json_bytes(&Kept {
            access_key_id: &key.id,
            secret_access_key: key.secret.clone(),
        })?;
        atomic::replace(&path, None, &json)
            .with_context(|| format!("could not write {}", path.display()))?;
        private_dir(&self.dir.join("retired"))?;
        Ok(())
    }

    pub fn retired_secret(&self, id: &str) -> Result<Option<crate::secret::AccessKey>> {
        #[derive(Deserialize)]
        struct Kept {
            access_key_id: String,
            #[serde(with = "crate::secret::exposed")]
            secret_access_key: Secret,
        }
        let path = self.retired_path(id);
        match fs::read(&path).map(zeroize::Zeroizing::new) {
            Ok(bytes) => {
                let kept: Kept = serde_json::from_slice(&bytes)
                    .with_context(|| format!("{} is damaged", path.display()))?;
                Ok(Some(crate::secret::AccessKey::new(
                    kept.access_key_id,
                    kept.secret_access_key,
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
        }
    }

    pub fn forget_retired_secret(&self, id: &str) -> Result<()> {
        match fs::remove_file(self.retired_path(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn mentioned_path(&self) -> PathBuf {
        self.dir.join("check-unknown.json")
    }

    /// Keys `check` has already said it knows no age for: said once, not at
    /// every shell start.
    pub fn mentioned_unknown(&self) -> Vec<String> {
        fs::read(self.mentioned_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn set_mentioned_unknown(&self, ids: &[String]) -> Result<()> {
        fs::create_dir_all(&self.dir)?;
        private_dir(&self.dir)?;
        atomic::replace(&self.mentioned_path(), None, &serde_json::to_vec(ids)?)?;
        Ok(())
    }
}

/// One pending record. Its format version is checked first: a record from a
/// newer aws-rekey may mean something this build would get wrong, so it is
/// refused rather than half understood. Errors never quote the bytes (they
/// hold secrets).
pub fn parse_pending(path: &Path, bytes: &[u8]) -> Result<Pending> {
    #[derive(Deserialize)]
    struct Versioned {
        version: u32,
    }
    let damaged = || {
        format!(
            "the pending-rotation record {} is damaged; it may hold a key's secret, so aws-rekey will not remove it: inspect it, fix or delete it, and re-run",
            path.display()
        )
    };
    let version = serde_json::from_slice::<Versioned>(bytes)
        .map_err(|_| anyhow::anyhow!(damaged()))?
        .version;
    if version == 0 || version > PENDING_VERSION {
        anyhow::bail!(
            "the pending-rotation record {} has format version {version}, which this aws-rekey (format {PENDING_VERSION}) does not understand; finish the rotation with the aws-rekey that started it (or a newer one)",
            path.display()
        );
    }
    serde_json::from_slice(bytes).map_err(|_| anyhow::anyhow!(damaged()))
}

#[cfg(unix)]
fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("could not make {} private", dir.display()))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(old: &str) -> Pending {
        Pending {
            version: PENDING_VERSION,
            profile: "default".into(),
            location: "file".into(),
            user_arn: "arn:aws:iam::1:user/a".into(),
            started: Timestamp::now(),
            phase: Phase::Created,
            old_key_id: old.into(),
            old_secret: Secret::new("old-secret"),
            new_key: Some(NewKey {
                id: "AKIANEW".into(),
                secret: Secret::new("new-secret"),
                created: Timestamp::now(),
            }),
            keep_old: false,
            create_sent: None,
            holders: vec!["default".into()],
            switched: None,
            retire: None,
        }
    }

    #[test]
    fn pending_records_round_trip_privately() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::at(dir.path().join("s")).unwrap();
        state.save_pending(&record("AKIAOLD")).unwrap();
        let back = state.pending().unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(
            back[0].new_key.as_ref().unwrap().secret.expose(),
            "new-secret"
        );
        assert_eq!(back[0].old_secret.expose(), "old-secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(state.pending_path("AKIAOLD"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{:?}", back[0]).contains("new-secret"));
        state.clear_pending("AKIAOLD").unwrap();
        assert!(state.pending().unwrap().is_empty());
    }

    #[test]
    fn a_damaged_record_is_an_error_not_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::at(dir.path().to_path_buf()).unwrap();
        fs::write(state.pending_path("AKIAX"), "{not json").unwrap();
        let err = format!("{:#}", state.pending().unwrap_err());
        assert!(err.contains("damaged"), "{err}");
        assert!(state.pending_path("AKIAX").exists());
    }

    #[test]
    fn a_record_from_a_newer_version_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::at(dir.path().to_path_buf()).unwrap();
        let mut v = serde_json::to_value(record("AKIAOLD")).unwrap();
        v["version"] = 99.into();
        fs::write(state.pending_path("AKIAOLD"), v.to_string()).unwrap();
        let err = format!("{:#}", state.pending().unwrap_err());
        assert!(err.contains("format version 99"), "{err}");
        assert!(!err.contains("old-secret"), "{err}");
        assert!(state.pending_path("AKIAOLD").exists());
    }

    #[test]
    fn a_version_1_record_is_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::at(dir.path().to_path_buf()).unwrap();
        let mut v = serde_json::to_value(record("AKIAOLD")).unwrap();
        let o = v.as_object_mut().unwrap();
        for k in ["create_sent", "holders", "switched", "retire"] {
            o.remove(k);
        }
        v["version"] = 1.into();
        fs::write(state.pending_path("AKIAOLD"), v.to_string()).unwrap();
        let back = state.pending().unwrap();
        assert_eq!(back[0].retire, None);
        assert!(back[0].holders.is_empty());
    }

    #[test]
    fn a_damaged_book_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::at(dir.path().to_path_buf()).unwrap();
        fs::write(dir.path().join("keys.json"), "garbage").unwrap();
        assert!(state.book().is_err());
        state
            .update_book(|b| {
                b.keys.insert(
                    "AKIA1".into(),
                    KeyRecord {
                        created: Timestamp::UNIX_EPOCH,
                        user_arn: String::new(),
                        profiles: vec![],
                    },
                );
            })
            .unwrap();
        assert!(state.book().unwrap().keys.contains_key("AKIA1"));
    }
}
