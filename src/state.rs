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
use crate::secret::Secret;
use anyhow::{Context, Result};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Clone)]
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
}

impl Pending {
    /// Whether `id` is this rotation's old or new key.
    pub fn involves(&self, id: &str) -> bool {
        self.old_key_id == id || self.new_key.as_ref().is_some_and(|n| n.id == id)
    }
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
}

/// The held lock, and through it the only way to write the state folder.
/// Released when dropped, and by the OS if the process dies. Reads go
/// through `Deref` to the `State`.
pub struct StateLock {
    state: State,
    file: File,
}

impl std::ops::Deref for StateLock {
    type Target = State;
    fn deref(&self) -> &State {
        &self.state
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        // The holder's note goes with the lock, so a later waiter never
        // reads a finished run's name. Best effort: a process that dies
        // leaves its note, and the next holder overwrites it.
        let _ = self.file.set_len(0);
    }
}

/// Who holds the lock: written into the lock file by the holder, read by a
/// waiter to say whom it is waiting for. Only the subcommand is recorded,
/// never its arguments (an MFA code, a hook's command line).
#[derive(Serialize, Deserialize)]
struct Holder {
    pid: u32,
    command: String,
    since: Timestamp,
}

/// The lock stayed busy for the whole `--lock-timeout`.
#[derive(Debug, thiserror::Error)]
#[error(
    "gave up after waiting {waited} for another aws-rekey run to finish: {holder} holds the lock on the state folder ({path}); nothing was changed. Re-run once it is done, or wait longer with --lock-timeout"
)]
pub struct LockTimeout {
    waited: String,
    holder: String,
    path: PathBuf,
}

/// After this long waiting for the lock, say who holds it.
const NAME_THE_HOLDER_AFTER: Duration = Duration::from_secs(3);

/// How often a waiter tries the lock again.
const LOCK_POLL: Duration = Duration::from_millis(100);

fn describe_holder(lock: &Path) -> String {
    fs::read(lock)
        .ok()
        .and_then(|b| serde_json::from_slice::<Holder>(&b).ok())
        .map(|h| {
            format!(
                "pid {} (`aws-rekey {}`, since {})",
                h.pid,
                h.command,
                h.since.strftime("%Y-%m-%d %H:%M:%S UTC")
            )
        })
        .unwrap_or_else(|| "another aws-rekey run (which has not named itself yet)".into())
}

/// `2s`, `300s`: a duration as the user would type it.
pub fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
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

    /// Takes the lock, waiting at most `timeout` for another run to let go
    /// of it. `say` gets what a waiting user should know: that the run is
    /// waiting, and after a few seconds for whom.
    pub fn lock(&self, timeout: Duration, mut say: impl FnMut(String)) -> Result<StateLock> {
        let path = self.dir.join("lock");
        let mut options = File::options();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&path)
            .with_context(|| format!("could not open {}", path.display()))?;
        let started = Instant::now();
        let (mut told, mut named) = (false, false);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) => {}
                Err(fs::TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("could not lock {}", path.display()));
                }
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(LockTimeout {
                    waited: seconds(timeout),
                    holder: describe_holder(&path),
                    path,
                }
                .into());
            }
            if !told {
                told = true;
                say(format!(
                    "another aws-rekey run is busy; waiting for it to finish (at most {})",
                    seconds(timeout)
                ));
            } else if !named && waited >= NAME_THE_HOLDER_AFTER {
                named = true;
                say(format!(
                    "still waiting: {} holds the lock",
                    describe_holder(&path)
                ));
            }
            std::thread::sleep(LOCK_POLL.min(timeout - waited));
        }
        // Name ourselves for whoever waits next. Best effort, and not
        // fsynced: the note only matters while this process lives, and a
        // full disk is for the writes that matter to report.
        let holder = Holder {
            pid: std::process::id(),
            command: std::env::args().nth(1).unwrap_or_default(),
            since: Timestamp::now(),
        };
        if let Ok(note) = serde_json::to_vec(&holder) {
            let _ = file.set_len(0).and_then(|()| file.write_all(&note));
        }
        Ok(StateLock {
            state: self.clone(),
            file,
        })
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
}

/// Writes: only with the lock held.
impl StateLock {
    pub fn save_pending(&self, record: &Pending) -> Result<()> {
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
}

impl StateLock {
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
