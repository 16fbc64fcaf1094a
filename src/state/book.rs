//! The key book (creation dates for `check`, the keys this tool retired)
//! and the secrets kept beside it (retired and replaced keys).

use super::*;

/// What this tool knows about keys, for `check` (offline) and for finishing
/// `--keep-old` rotations.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct KeyBook {
    #[serde(default)]
    pub keys: BTreeMap<String, KeyRecord>,
    #[serde(default)]
    pub retired: BTreeMap<String, RetiredKey>,
}

impl KeyBook {
    /// The retired key that `current` replaced (the latest, if it replaced
    /// several in turn): what `rollback` goes back to.
    pub fn replaced_by(&self, current: &str) -> Option<(&String, &RetiredKey)> {
        self.retired
            .iter()
            .filter(|(_, r)| r.replaced_by == current)
            .max_by_key(|(_, r)| r.deactivated)
    }
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
    /// The managed copies the rotation switched to `replaced_by`: where
    /// `rollback` puts this key back, and where `prune` looks for it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Listed>,
}

/// Writes: only with the lock held.
impl StateLock {
    /// Read, change and write back the key book. A damaged book is replaced:
    /// it holds no secrets, only dates `status` can learn again. Under the
    /// lock, so no other run writes the book between the read and the write.
    pub fn update_book(&self, change: impl FnOnce(&mut KeyBook)) -> Result<()> {
        let mut book = self.book().unwrap_or_default();
        change(&mut book);
        let path = self.book_path();
        let json = serde_json::to_vec_pretty(&book)?;
        atomic::replace_private(&path, &json)
            .with_context(|| format!("could not write {}", path.display()))?;
        Ok(())
    }

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
        let path = self
            .secret_dir("replaced")?
            .join(format!("{}.json", key.id));
        trusted(&path, Kind::File)?;
        let json = crate::secret::json_bytes(&Replaced {
            profile,
            access_key_id: &key.id,
            secret_access_key: key.secret.clone(),
            replaced: Timestamp::now(),
        })?;
        atomic::replace_private(&path, &json)
            .with_context(|| format!("could not write {}", path.display()))?;
        Ok(path)
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
        self.secret_dir("retired")?;
        let path = self.retired_path(&key.id);
        trusted(&path, Kind::File)?;
        let json = crate::secret::json_bytes(&Kept {
            access_key_id: &key.id,
            secret_access_key: key.secret.clone(),
        })?;
        atomic::replace_private(&path, &json)
            .with_context(|| format!("could not write {}", path.display()))?;
        Ok(())
    }

    pub fn forget_retired_secret(&self, id: &str) -> Result<()> {
        match fs::remove_file(self.retired_path(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

impl State {
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

    fn retired_path(&self, id: &str) -> PathBuf {
        self.dir.join("retired").join(format!("{id}.json"))
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

    /// Written without the lock: `check` runs at every shell start and must
    /// never wait, and only `check` writes this file (last writer wins, and
    /// losing a note costs one repeated line).
    pub fn set_mentioned_unknown(&self, ids: &[String]) -> Result<()> {
        trusted_folder(&self.dir)?;
        atomic::replace_private(&self.mentioned_path(), &serde_json::to_vec(ids)?)?;
        Ok(())
    }
}
