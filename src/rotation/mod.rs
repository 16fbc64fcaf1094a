//! The rotation protocol: each step a named function, in the order the
//! module's `rotate` calls them, so the code reads like the list.
//!
//! The invariant every step keeps: the profile holds a working key at every
//! instant, no secret of a live key exists only in memory, the user never
//! has more than two keys, and a pending record in the state folder says
//! enough for the next run to finish or roll back whatever was interrupted.

use crate::aws::{AwsError, KeyApi, KeyMeta, LastUsed, not_found_ok};
use crate::error::CommandError;
use crate::secret::{AccessKey, mask};
use crate::state::{
    KeyRecord, NewKey, PENDING_VERSION, Pending, Phase, Retire, RetiredKey, StateLock,
};
use crate::store::{Store, StoreError};
use crate::ui::Ui;
use jiff::{SignedDuration, Timestamp};
use std::time::{Duration, Instant};

mod backoff;
mod copies;
mod create;
#[cfg(test)]
mod fakes;
mod outcome;
mod prepare;
pub mod prune;
mod recovery;
mod retire;
mod rollback;
mod switch;
#[cfg(test)]
mod tests;
mod throttle;
pub mod verify;

pub use backoff::Backoff;
pub use copies::{Copies, CopyReport, CopyStatus, copies_line};
pub use outcome::{OldKeyFate, Outcome};
use recovery::{Orphans, Recovery};
pub use rollback::Rollback;
pub use throttle::Patient;

pub struct Options {
    pub keep_old: bool,
    pub dry_run: bool,
    pub verify_timeout: Duration,
    /// Rotate only a key older than this (`--older-than`).
    pub older_than: Option<SignedDuration>,
}

/// Clock skew allowed between this machine and IAM when deciding whether a
/// key was created by a CreateAccessKey whose answer was lost. Kept small on
/// purpose: a wider window would take a key the user made by hand shortly
/// after for the orphan. A larger skew makes aws-rekey delete nothing and
/// say so, never delete the wrong key.
const ORPHAN_SLACK: SignedDuration = SignedDuration::from_secs(15);

/// The only instants at which IAM can have created the key of a
/// CreateAccessKey sent at `sent`: it is one attempt, without SDK retries,
/// so it is answered (or given up) within the connect and attempt timeouts.
pub fn orphan_window(sent: Timestamp) -> (Timestamp, Timestamp) {
    let request =
        SignedDuration::try_from(crate::aws::CONNECT_TIMEOUT + crate::aws::ATTEMPT_TIMEOUT)
            .expect("the request timeouts are small");
    (sent - ORPHAN_SLACK, sent + request + ORPHAN_SLACK)
}

/// IAM's and this machine's clocks may differ a little: a last use within
/// this much of the run's own last request is taken to be the run's.
const OWN_USE_SLACK: SignedDuration = SignedDuration::from_secs(2);

pub struct Rotation<'a, A: KeyApi, S: Store + ?Sized> {
    pub api: &'a A,
    pub store: &'a S,
    /// The state folder, locked: the rotation writes records into it.
    pub state: &'a StateLock,
    pub ui: &'a Ui,
    pub opts: &'a Options,
    pub profile: &'a str,
    /// The key's managed copies, and where to look for others.
    pub copies: &'a Copies,
}

impl<A: KeyApi, S: Store + ?Sized> Rotation<'_, A, S> {
    pub async fn rotate(&self) -> Result<Outcome, CommandError> {
        let mut current = self.load_key()?;
        let mut recovered = None;
        let mut leftovers = Vec::new();
        let mut unsettled = Vec::new();
        match self.recover_interrupted(&current).await? {
            Recovery::None => {}
            Recovery::Unsettled(sent) => unsettled = sent,
            Recovery::Finished(outcome) => return Ok(*outcome),
            Recovery::Cleared(note, deleted) => {
                recovered = Some(note);
                leftovers = deleted;
                current = self.load_key()?;
            }
        }
        let user_arn = self.identify(&current).await?;
        let keys = self.list_own_keys(&current).await?;
        // An interrupted run's open question is settled whatever the age.
        if unsettled.is_empty()
            && let Some(outcome) = self.young_enough(&current, &user_arn, &keys)
        {
            return Ok(Outcome {
                recovered,
                deleted_leftovers: leftovers,
                ..outcome
            });
        }
        // Before anything changes (make_room may delete a leftover key),
        // but after `--older-than` skipped a young key: a daily run that
        // rotates nothing is not refused for a copy it would not touch.
        self.check_copies(&current)?;
        leftovers.extend(
            self.make_room(&current, &user_arn, &keys, &unsettled)
                .await?,
        );
        if self.opts.dry_run {
            return self.plan(&current, user_arn, leftovers);
        }
        let mut pending = self.record_intent(&current, &user_arn, unsettled)?;
        let created = self
            .create_key(&current, &mut pending, &mut leftovers)
            .await?;
        let new = self
            .persist_new_secret(&mut pending, created, &current)
            .await?;
        let mut outcome = self.switch_and_retire(pending, current, new).await?;
        outcome.recovered = recovered;
        outcome.deleted_leftovers = leftovers;
        Ok(outcome)
    }

    /// Steps 5 to 8, also the way back into a rotation that was interrupted
    /// after its new key was saved.
    async fn switch_and_retire(
        &self,
        mut pending: Pending,
        old: AccessKey,
        new: AccessKey,
    ) -> Result<Outcome, CommandError> {
        // From here on this run signs nothing with the old key: a later use
        // of it is someone else's. Recorded before the first switch, so a
        // resumed run judges those uses by the same instant.
        if pending.switched.is_none() {
            pending.switched = Some(Timestamp::now());
            if let Err(e) = self.state.save_pending(&pending) {
                let why = CommandError::Other(e.context("could not update the rotation record"));
                return Err(self.roll_back(pending, &old, &new, why).await);
            }
        }
        let profiles = match self.write_profile(&old, &new, &pending) {
            Ok(p) => p,
            Err(e) => return Err(self.roll_back(pending, &old, &new, e).await),
        };
        // The managed copies follow the profile, before verification: a
        // new key that does not verify is taken back out of all of them.
        let also = match self.switch_copies(&pending.also, &old, &new, CopyStatus::Updated) {
            Ok(a) => a,
            Err(e) => return Err(self.roll_back(pending, &old, &new, e).await),
        };
        let verify_seconds = match self.verify(&new, &pending.user_arn).await {
            Ok(s) => s,
            Err(e) => return Err(self.roll_back(pending, &old, &new, e).await),
        };
        let mut warnings = Vec::new();
        let fate = self
            .retire_old(&old, &new, &mut pending, &mut warnings)
            .await?;
        self.finish(&pending, &old, &new, &profiles, fate)?;
        Ok(Outcome {
            verify_seconds,
            warnings,
            also,
            ..Outcome::rotated(
                self.profile,
                profiles,
                &pending.user_arn,
                &old.id,
                &new.id,
                fate,
            )
        })
    }
}

/// The instant after which a use of the old key is someone else's. The
/// rotation's own last use of the old key is its CreateAccessKey, so the new
/// key's creation date (IAM's own clock, like the last-use dates it is
/// compared with) is the cut-off; this machine's clock may be off. A record
/// without it (none is written so) falls back to the switch.
fn own_use_until(pending: &Pending) -> Timestamp {
    pending
        .new_key
        .as_ref()
        .map(|n| n.created)
        .or(pending.switched)
        .unwrap_or_else(Timestamp::now)
}

/// "used at DATE by SERVICE in REGION" when IAM shows a use of a key later
/// than `since` (plus a little clock slack); the check AWS advises before a
/// key is deleted, shared by rotation and `prune`.
pub fn used_after(used: &LastUsed, since: Timestamp) -> Option<String> {
    let date = used.date?;
    if date <= since + OWN_USE_SLACK {
        return None;
    }
    Some(format!(
        "used at {} by {} in {}",
        day(date),
        used.service.as_deref().unwrap_or("an unknown service"),
        used.region.as_deref().unwrap_or("an unknown region")
    ))
}

pub fn day(t: Timestamp) -> String {
    crate::ui::minute(&t)
}
