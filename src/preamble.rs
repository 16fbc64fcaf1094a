//! What every command that changes something starts from, in this order:
//! the AWS files' paths, the state folder locked (so no other run changes
//! the files under it), then the profiles read under the lock.

use crate::error::CommandError;
use crate::profile::{AwsFiles, Profiles};
use crate::state::{State, StateLock};
use crate::ui::Ui;
use std::time::Duration;

pub struct Preamble {
    pub files: AwsFiles,
    pub state: StateLock,
    pub profiles: Profiles,
}

impl Preamble {
    /// Waits up to `lock_timeout` for the lock, saying whom it waits for.
    pub fn open(lock_timeout: Duration, ui: &Ui) -> Result<Self, CommandError> {
        let files = AwsFiles::from_env()?;
        let state = State::open()?.lock(lock_timeout, |m| ui.step(m))?;
        crate::atomic::sweep_beside(&files.credentials);
        crate::atomic::sweep_beside(&files.config);
        // Read only now: a run that held the lock may just have changed them.
        let profiles = Profiles::load(files.clone())?;
        Ok(Preamble {
            files,
            state,
            profiles,
        })
    }
}
