//! The state folder's lock: one aws-rekey run changes things at a time;
//! a second waits a bounded time, saying whom it waits for.

use super::*;

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
}
