//! The pending record: what a rotation has done so far, written before
//! each step that IAM or a crash could leave half-done.

use super::*;

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
    /// When the last CreateAccessKey was sent: the record is durable before
    /// the request leaves, so a key whose answer was lost can only have been
    /// created within a short window after this instant (see
    /// `rotation::orphan_window`). A key created outside it is not ours.
    #[serde(default)]
    pub create_sent: Option<Timestamp>,
    /// When each CreateAccessKey that may have made a key nobody holds was
    /// sent: one in flight (added before it is sent), or one that got no
    /// answer, until the question is settled (its key found and deleted, or
    /// a later CreateAccessKey succeeded: IAM allows two keys, so that one
    /// could not have been made otherwise). Between them they made at most
    /// one key. Added after version 2 was first written, so it may be
    /// missing (then `create_sent` is the one request); builds that do not
    /// know it read `create_sent` only, which is always the last of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unanswered: Vec<Timestamp>,
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
    /// The managed copies of the key (`aws_rekey_also`, `--also`), switched
    /// with the profile and put back with it: a resumed run edits exactly
    /// these, whatever the config says by then. Format version 3.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Listed>,
}

impl Pending {
    /// The format version this record needs: 3 when it lists managed
    /// copies, which a build that knows only version 2 would read past
    /// (it ignores fields it does not know) and so retire the old key with
    /// the copies still holding it; 2 otherwise, so that such a build can
    /// still finish every other rotation.
    pub fn version_needed(&self) -> u32 {
        if self.also.is_empty() { 2 } else { 3 }
    }

    /// Whether `id` is this rotation's old or new key.
    pub fn involves(&self, id: &str) -> bool {
        self.old_key_id == id || self.new_key.as_ref().is_some_and(|n| n.id == id)
    }
}

/// The newest pending-record format this build writes and understands.
/// Version 1 (before `create_sent`, `holders`, `switched`, `retire`) and 2
/// (before `also`) are still read; 2 is still written for a rotation
/// without managed copies (`Pending::version_needed`).
pub const PENDING_VERSION: u32 = 3;

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

impl State {
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
}

/// Writes: only with the lock held.
impl StateLock {
    pub fn save_pending(&self, record: &Pending) -> Result<()> {
        // The version must say what the record needs, whoever set it.
        anyhow::ensure!(
            record.version >= record.version_needed(),
            "a pending record listing managed copies must be written as version {}",
            record.version_needed()
        );
        let path = self.pending_path(&record.old_key_id);
        trusted(&path, Kind::File)?;
        let json = crate::secret::json_bytes(record)?;
        atomic::replace_private(&path, &json)
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
}
