//! The rotation protocol: each step a named function, in the order the
//! module's `rotate` calls them, so the code reads like the list.
//!
//! The invariant every step keeps: the profile holds a working key at every
//! instant, no secret of a live key exists only in memory, the user never
//! has more than two keys, and a pending record in the state folder says
//! enough for the next run to finish or roll back whatever was interrupted.

use crate::aws::{AwsError, KeyApi, KeyMeta, LastUsed};
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
mod create;
mod outcome;
mod recovery;
#[cfg(test)]
mod tests;
mod throttle;

pub use backoff::Backoff;
pub use outcome::{OldKeyFate, Outcome};
use recovery::{Orphans, Recovery};
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
            return Ok(outcome);
        }
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
            profile: self.profile.to_string(),
            profiles,
            user_arn: pending.user_arn.clone(),
            old_key_id: old.id.clone(),
            new_key_id: Some(new.id.clone()),
            old_key: fate,
            verify_seconds,
            recovered: None,
            deleted_leftovers: Vec::new(),
            dry_run: false,
            skipped: None,
            warnings,
        })
    }

    /// Step 1: the profile's key, as the store holds it now.
    fn load_key(&self) -> Result<AccessKey, CommandError> {
        Ok(self.store.read()?)
    }

    /// The key's owner. Only an IAM user's key can be rotated this way.
    async fn identify(&self, key: &AccessKey) -> Result<String, CommandError> {
        let arn = self.api.caller_arn(key).await.map_err(|source| {
            let during = if source.rejected() {
                format!(
                    "the key in {} ({}) does not work: it may be deleted or inactive, and aws-rekey can only rotate a working key",
                    self.store.location(),
                    key.masked_id()
                )
            } else {
                format!("could not check the key in {}", self.store.location())
            };
            CommandError::Aws { during, source }
        })?;
        if arn.ends_with(":root") {
            return Err(CommandError::Refused(format!(
                "{} holds the account root user's key; AWS advises deleting root access keys rather than rotating them",
                self.store.location()
            )));
        }
        if !arn.contains(":user/") {
            return Err(CommandError::Refused(format!(
                "{} belongs to {arn}, not an IAM user; only IAM users' long-lived keys can be rotated",
                self.store.location()
            )));
        }
        Ok(arn)
    }

    async fn list_own_keys(&self, current: &AccessKey) -> Result<Vec<KeyMeta>, CommandError> {
        self.api
            .list_keys(current)
            .await
            .map_err(|source| CommandError::Aws {
                during: "could not list your access keys".into(),
                source,
            })
    }

    /// `--older-than`: a key younger than that is left as it is.
    fn young_enough(
        &self,
        current: &AccessKey,
        user_arn: &str,
        keys: &[KeyMeta],
    ) -> Option<Outcome> {
        let min = self.opts.older_than?;
        let created = keys.iter().find(|k| k.id == current.id)?.created?;
        let age = Timestamp::now().duration_since(created);
        if age > min {
            return None;
        }
        let reason = format!(
            "the key is {} old, not older than {} days",
            crate::ui::human_age(age),
            (min.as_secs_f64() / 86_400.0 * 100.0).round() / 100.0
        );
        self.ui.step(format!("skipped: {reason}"));
        Some(Outcome {
            profile: self.profile.to_string(),
            profiles: self.store.holders(&current.id).unwrap_or_default(),
            user_arn: user_arn.to_string(),
            old_key_id: current.id.clone(),
            new_key_id: None,
            old_key: OldKeyFate::Kept,
            verify_seconds: 0.0,
            recovered: None,
            deleted_leftovers: Vec::new(),
            dry_run: self.opts.dry_run,
            skipped: Some(reason),
            warnings: Vec::new(),
        })
    }

    /// Step 2: IAM allows two keys per user. Delete a key this tool left
    /// inactive in an earlier rotation, or one an interrupted run's
    /// unanswered CreateAccessKey (`unsettled`) made; refuse on any other
    /// second key.
    async fn make_room(
        &self,
        current: &AccessKey,
        user_arn: &str,
        keys: &[KeyMeta],
        unsettled: &[Timestamp],
    ) -> Result<Vec<String>, CommandError> {
        let book = self.state.book().unwrap_or_default();
        let mut deleted = Vec::new();
        for other in keys.iter().filter(|k| k.id != current.id) {
            let ours = book
                .retired
                .get(&other.id)
                .filter(|r| r.user_arn == user_arn);
            if let Some(retired) = ours
                && !other.active
            {
                // As `prune` does: a key something tried to use after it was
                // deactivated is still wanted somewhere; never delete it.
                let used = match self.api.last_used(current, &other.id).await {
                    Err(AwsError::Denied(_)) => {
                        return Err(CommandError::Refused(format!(
                            "the inactive key {} (left by an earlier rotation) must go to make room for a new key, but your policy does not allow iam:GetAccessKeyLastUsed, so aws-rekey cannot tell whether something still uses it. \
                             If nothing does, delete it (`aws iam list-access-keys` shows its full id, `aws iam delete-access-key --access-key-id ID` deletes it), or allow that action; nothing was changed",
                            mask(&other.id)
                        )));
                    }
                    other => other,
                }
                .map_err(|source| CommandError::Aws {
                        during: format!(
                            "could not check the last use of {}, left inactive by an earlier rotation",
                            mask(&other.id)
                        ),
                        source,
                    })?;
                if let Some(when) = used_after(&used, retired.deactivated) {
                    return Err(CommandError::Refused(format!(
                        "the inactive key {} (left by an earlier rotation to make room for a new one) was {when}, after it was deactivated: something still uses it. \
                         Point that program at profile {}'s current key, then delete the old one (`aws iam list-access-keys` shows its full id, `aws iam delete-access-key --access-key-id ID` deletes it) and rotate again; nothing was changed",
                        mask(&other.id),
                        self.profile
                    )));
                }
                if !self.opts.dry_run {
                    self.api
                        .delete_key(current, &other.id)
                        .await
                        .or_else(not_found_ok)
                        .map_err(|source| CommandError::Aws {
                            during: format!(
                                "could not delete {}, left inactive by an earlier rotation",
                                mask(&other.id)
                            ),
                            source,
                        })?;
                    let _ = self.state.update_book(|b| {
                        b.retired.remove(&other.id);
                    });
                    let _ = self.state.forget_retired_secret(&other.id);
                    self.ui.step(format!(
                        "deleted {}, left inactive by an earlier rotation",
                        mask(&other.id)
                    ));
                }
                deleted.push(other.id.clone());
                continue;
            }
            if self.delete_late_orphan(current, other, unsettled).await? {
                deleted.push(other.id.clone());
                continue;
            }
            let used = match self.api.last_used(current, &other.id).await {
                Ok(u) => match (u.date, u.service, u.region) {
                    (Some(d), s, r) => format!(
                        "last used {} ({}, {})",
                        day(d),
                        s.unwrap_or_else(|| "unknown service".into()),
                        r.unwrap_or_else(|| "unknown region".into())
                    ),
                    (None, ..) => "never used".into(),
                },
                Err(_) => "last use unknown".into(),
            };
            return Err(CommandError::Refused(format!(
                "your IAM user already has a second access key, {} ({}, created {}, {}); IAM allows two, and aws-rekey never deletes a key it did not retire itself. \
                 If that key is unused, delete it (`aws iam list-access-keys` shows its full id, then `aws iam delete-access-key --access-key-id ID`), then re-run",
                mask(&other.id),
                if other.active { "active" } else { "inactive" },
                other
                    .created
                    .map(day)
                    .unwrap_or_else(|| "on an unknown date".into()),
                used
            )));
        }
        Ok(deleted)
    }

    fn plan(
        &self,
        current: &AccessKey,
        user_arn: String,
        leftovers: Vec<String>,
    ) -> Result<Outcome, CommandError> {
        let fate = if self.opts.keep_old {
            OldKeyFate::WouldDeactivate
        } else {
            OldKeyFate::WouldDelete
        };
        self.ui.step(format!(
            "dry run: would create a new key for {user_arn}, write it to {}, verify it, then {} {}",
            self.store.location(),
            if self.opts.keep_old {
                "deactivate"
            } else {
                "delete"
            },
            current.masked_id()
        ));
        Ok(Outcome {
            profile: self.profile.to_string(),
            profiles: self.store.holders(&current.id)?,
            user_arn,
            old_key_id: current.id.clone(),
            new_key_id: None,
            old_key: fate,
            verify_seconds: 0.0,
            recovered: None,
            deleted_leftovers: leftovers,
            dry_run: true,
            skipped: None,
            warnings: Vec::new(),
        })
    }

    /// Step 3a: say what is about to happen before IAM is asked, so that a
    /// crash while CreateAccessKey is in flight leaves a trace to clean up.
    /// An interrupted run's unsettled requests carry over (see `create`).
    fn record_intent(
        &self,
        current: &AccessKey,
        user_arn: &str,
        unanswered: Vec<Timestamp>,
    ) -> Result<Pending, CommandError> {
        let holders = self.store.holders(&current.id)?;
        let now = Timestamp::now();
        let pending = Pending {
            version: PENDING_VERSION,
            profile: self.profile.to_string(),
            location: self.store.location(),
            user_arn: user_arn.to_string(),
            started: now,
            phase: Phase::Creating,
            old_key_id: current.id.clone(),
            old_secret: current.secret.clone(),
            new_key: None,
            keep_old: self.opts.keep_old,
            // The request leaves right after this record is on disk: it is
            // the first of `create`'s tries.
            create_sent: Some(now),
            unanswered: unanswered.into_iter().chain([now]).collect(),
            holders,
            switched: None,
            retire: None,
        };
        self.state.save_pending(&pending).map_err(|e| {
            CommandError::Other(e.context("could not record the rotation; nothing was changed"))
        })?;
        Ok(pending)
    }

    /// Step 4: the new secret goes to disk before anything else can fail.
    async fn persist_new_secret(
        &self,
        pending: &mut Pending,
        created: crate::aws::Created,
        current: &AccessKey,
    ) -> Result<AccessKey, CommandError> {
        pending.phase = Phase::Created;
        pending.new_key = Some(NewKey {
            id: created.key.id.clone(),
            secret: created.key.secret.clone(),
            created: created.created,
        });
        if let Err(e) = self.state.save_pending(pending) {
            // A secret that cannot be saved must not outlive this process:
            // delete its key while the old one still works.
            let deleted = self.api.delete_key(current, &created.key.id).await;
            let _ = self.state.clear_pending(&current.id);
            return Err(match deleted {
                Ok(()) => CommandError::Other(e.context(
                    "could not save the new key's secret, so the new key was deleted; nothing was changed",
                )),
                Err(d) => CommandError::Incomplete(format!(
                    "could not save the new key's secret ({e:#}) nor delete the new key {} ({d}); your profile still holds its working key. \
                     Delete {} (`aws iam delete-access-key --access-key-id {}`)",
                    created.key.masked_id(),
                    created.key.masked_id(),
                    created.key.id
                )),
            });
        }
        self.ui.step(format!("created {}", created.key.masked_id()));
        Ok(created.key)
    }

    /// Step 5: only the two values change, in every profile sharing the key.
    /// No profile of the store may still hold the old key afterwards: it is
    /// about to be retired. A profile the record names that now holds some
    /// other key was changed by the user; it is left alone, and said.
    fn write_profile(
        &self,
        old: &AccessKey,
        new: &AccessKey,
        pending: &Pending,
    ) -> Result<Vec<String>, CommandError> {
        let profiles = self.store.replace(&old.id, new)?;
        let behind = self.store.holders(&old.id)?;
        if !behind.is_empty() {
            return Err(CommandError::Other(anyhow::anyhow!(
                "profiles {} still hold the old key {} after the switch",
                behind.join(", "),
                old.masked_id()
            )));
        }
        for holder in pending.holders.iter().filter(|h| !profiles.contains(h)) {
            self.ui.warn(format!(
                "profile {holder} held {} when the rotation began but now holds another key; left as it is",
                old.masked_id()
            ));
        }
        self.ui.step(format!(
            "wrote {} to {}",
            new.masked_id(),
            if profiles.len() > 1 {
                format!("profiles {}", profiles.join(", "))
            } else {
                self.store.location()
            }
        ));
        Ok(profiles)
    }

    /// Step 6: the profile as written (re-read from the store) must reach
    /// the same IAM user. IAM is eventually consistent, so poll with a short,
    /// bounded backoff.
    async fn verify(&self, new: &AccessKey, user_arn: &str) -> Result<f64, CommandError> {
        let start = Instant::now();
        let mut backoff = Backoff::new(self.opts.verify_timeout);
        let spinner = self.ui.spinner("waiting for IAM to accept the new key");
        let result = loop {
            let written = self.store.read()?;
            if written.id != new.id {
                break Err(CommandError::Refused(format!(
                    "{} was changed by another program while the new key was being verified",
                    self.store.location()
                )));
            }
            let last = match self.api.caller_arn(&written).await {
                Ok(arn) if arn == user_arn => break Ok(start.elapsed().as_secs_f64()),
                Ok(arn) => {
                    break Err(CommandError::NotVerified(format!(
                        "the new key belongs to {arn}, not {user_arn}"
                    )));
                }
                Err(e) if e.transient() => e,
                Err(e) => {
                    break Err(CommandError::Aws {
                        during: "could not verify the new key".into(),
                        source: e,
                    });
                }
            };
            if !backoff.wait().await {
                break Err(CommandError::NotVerified(format!(
                    "the new key did not work within {}s (last answer: {last})",
                    self.opts.verify_timeout.as_secs()
                )));
            }
        };
        spinner.finish_and_clear();
        if let Ok(secs) = result {
            self.ui.step(format!("verified the new key ({secs:.1}s)"));
        }
        result
    }

    /// Undo steps 3 to 5 after a failure: the old key goes back first (it
    /// works), then the new key is deleted.
    async fn roll_back(
        &self,
        mut pending: Pending,
        old: &AccessKey,
        new: &AccessKey,
        why: CommandError,
    ) -> CommandError {
        let record = self.state.pending_path(&old.id);
        // Once the old key's fate was decided it may be deleted or inactive
        // already: going back to it would leave the profile a dead key.
        // Forward is the only way then; the next run finishes.
        if pending.retire.is_some() {
            return CommandError::Incomplete(format!(
                "{why}. The old key {} may already be retired, so the new key {} stays in {} (its secret is also in {}); re-run `aws-rekey rotate` to finish",
                old.masked_id(),
                new.masked_id(),
                self.store.location(),
                record.display()
            ));
        }
        // Nor back to an old key AWS now rejects (deleted by hand, say).
        if let Err(e) = self.api.caller_arn(old).await
            && e.rejected()
        {
            return CommandError::Incomplete(format!(
                "{why}; the old key {} no longer works either ({e}), so the new key {} stays in {} (its secret is also in {}); re-run `aws-rekey rotate` once IAM accepts it",
                old.masked_id(),
                new.masked_id(),
                self.store.location(),
                record.display()
            ));
        }
        match self.store.replace(&new.id, old) {
            Ok(_) => {}
            Err(StoreError::Changed(_)) if self.store.read().is_ok_and(|k| k.id == old.id) => {}
            Err(e) => {
                return CommandError::Incomplete(format!(
                    "{why}; putting the old key back failed too ({e}). Both keys are saved in {}; re-run `aws-rekey rotate` to finish",
                    record.display()
                ));
            }
        }
        pending.phase = Phase::RollingBack;
        let _ = self.state.save_pending(&pending);
        match self
            .api
            .delete_key(old, &new.id)
            .await
            .or_else(not_found_ok)
        {
            Ok(()) => {
                let _ = self.state.clear_pending(&old.id);
                let msg = format!(
                    "{why}. Rolled back: {} holds the old key {} again and the new key {} was deleted",
                    self.store.location(),
                    old.masked_id(),
                    new.masked_id()
                );
                match why {
                    CommandError::Refused(_) => CommandError::Refused(msg),
                    CommandError::Aws { during, source } => CommandError::Aws {
                        during: format!("{during}; rolled back to the old key"),
                        source,
                    },
                    _ => CommandError::NotVerified(msg),
                }
            }
            Err(e) => CommandError::Incomplete(format!(
                "{why}. The old key is back in {}, but deleting the new key {} failed ({e}); re-run `aws-rekey rotate` to finish the roll-back",
                self.store.location(),
                new.masked_id()
            )),
        }
    }

    /// Step 7: retire the old key with the new one, retrying while the new
    /// key propagates (IAM may reject it again after a first success).
    async fn retire_old(
        &self,
        old: &AccessKey,
        new: &AccessKey,
        pending: &mut Pending,
        warnings: &mut Vec<String>,
    ) -> Result<OldKeyFate, CommandError> {
        // A recorded "deactivate" is final: a resumed run would no longer
        // see the other program's use that caused it. A recorded (or not
        // yet made) "delete" is checked again, since something may have
        // used the key since; a decision only ever moves towards keeping.
        let decision = match &pending.retire {
            Some(kept @ Retire::Deactivate { .. }) => kept.clone(),
            recorded => {
                let decided = if pending.keep_old {
                    Retire::Deactivate { why: None }
                } else {
                    match self
                        .used_by_others(old, new, own_use_until(pending))
                        .await?
                    {
                        Some(note) => Retire::Deactivate { why: Some(note) },
                        None => Retire::Delete,
                    }
                };
                if recorded.as_ref() != Some(&decided) {
                    pending.retire = Some(decided.clone());
                    self.state.save_pending(pending).map_err(|e| {
                        CommandError::Incomplete(format!(
                            "the new key {} works and is in {}, but the decision on the old key could not be recorded ({e:#}); re-run `aws-rekey rotate` to finish",
                            new.masked_id(),
                            self.store.location()
                        ))
                    })?;
                }
                decided
            }
        };
        let keep = matches!(decision, Retire::Deactivate { .. });
        if let Retire::Deactivate { why: Some(note) } = &decision {
            self.ui.warn(note);
            warnings.push(note.clone());
        }
        let mut backoff = Backoff::new(self.opts.verify_timeout);
        let gone = loop {
            let result = if keep {
                self.api.set_active(new, &old.id, false).await
            } else {
                self.api.delete_key(new, &old.id).await
            };
            match result {
                Ok(()) => break false,
                // Deleted already: by a lost answer's retry, or by hand.
                Err(AwsError::NotFound(_)) => break true,
                Err(e) if e.transient() && backoff.wait().await => {}
                Err(e) => {
                    let hint = if matches!(e, AwsError::Denied(_)) {
                        format!(
                            " Your policy may not allow iam:{}AccessKey on your own user; allow it, or retire {} yourself",
                            if keep { "Update" } else { "Delete" },
                            old.masked_id()
                        )
                    } else {
                        String::new()
                    };
                    return Err(CommandError::Incomplete(format!(
                        "the new key {} works and is in {}, but the old key {} could not be {} ({e}); re-run `aws-rekey rotate` to finish.{hint}",
                        new.masked_id(),
                        self.store.location(),
                        old.masked_id(),
                        if keep { "deactivated" } else { "deleted" }
                    )));
                }
            }
        };
        if gone && keep {
            let note = format!(
                "the old key {} was already deleted (not by this rotation), so there was nothing to deactivate",
                old.masked_id()
            );
            self.ui.warn(&note);
            warnings.push(note);
            return Ok(OldKeyFate::Deleted);
        }
        if keep {
            self.ui
                .step(format!("deactivated the old key {}", old.masked_id()));
            Ok(OldKeyFate::Deactivated)
        } else {
            self.ui
                .step(format!("deleted the old key {}", old.masked_id()));
            Ok(OldKeyFate::Deleted)
        }
    }

    /// AWS's advice: before deleting an old key, look at its last use. A
    /// use after this run stopped signing with it means something else still
    /// holds it; then the key is deactivated (reversible) instead.
    async fn used_by_others(
        &self,
        old: &AccessKey,
        new: &AccessKey,
        own_use_until: Timestamp,
    ) -> Result<Option<String>, CommandError> {
        let then = format!(
            "so it was deactivated rather than deleted: update whatever still uses it, then `aws-rekey prune` deletes it (or `aws-rekey rollback --profile {}` brings it back)",
            self.profile
        );
        // The new key may still be propagating (rejected now and then), and
        // the network may drop an answer: retry those within the bound.
        let mut backoff = Backoff::new(self.opts.verify_timeout);
        let used = loop {
            match self.api.last_used(new, &old.id).await {
                Ok(used) => break used,
                // Deleted already: nothing left to keep.
                Err(AwsError::NotFound(_)) => return Ok(None),
                Err(e) if e.transient() && backoff.wait().await => {}
                // Not allowed to look: unknown is not "unused", and a delete
                // cannot be undone, so deactivate.
                Err(e @ AwsError::Denied(_)) => {
                    return Ok(Some(format!(
                        "the old key {}'s last use could not be checked ({e}), {then}",
                        old.masked_id()
                    )));
                }
                // Nothing is decided yet: the next run checks again, against
                // the recorded instant of the switch.
                Err(e) => {
                    return Err(CommandError::Incomplete(format!(
                        "the new key {} works and is in {}, but the old key {}'s last use could not be checked ({e}); re-run `aws-rekey rotate` to finish",
                        new.masked_id(),
                        self.store.location(),
                        old.masked_id()
                    )));
                }
            }
        };
        Ok(used_after(&used, own_use_until).map(|when| {
            format!(
                "the old key {} was {when} after the rotation began, {then}",
                old.masked_id()
            )
        }))
    }

    /// Step 8: remember the new key's date (for `check`), then drop the
    /// record, whose secrets are no longer needed. A deactivated old key's
    /// secret is kept (for `rollback`) until `prune` deletes the key.
    fn finish(
        &self,
        pending: &Pending,
        old: &AccessKey,
        new: &AccessKey,
        profiles: &[String],
        fate: OldKeyFate,
    ) -> Result<(), CommandError> {
        if fate == OldKeyFate::Deactivated {
            self.state.save_retired_secret(old).map_err(|e| {
                CommandError::Incomplete(format!(
                    "could not keep the deactivated key's secret ({e:#}); re-run `aws-rekey rotate` to finish"
                ))
            })?;
        }
        let created = pending
            .new_key
            .as_ref()
            .map(|n| n.created)
            .unwrap_or_else(Timestamp::now);
        let noted = self.state.update_book(|book| {
            book.keys.remove(&pending.old_key_id);
            book.keys.insert(
                new.id.clone(),
                KeyRecord {
                    created,
                    user_arn: pending.user_arn.clone(),
                    profiles: profiles.to_vec(),
                },
            );
            if fate == OldKeyFate::Deactivated {
                book.retired.insert(
                    pending.old_key_id.clone(),
                    RetiredKey {
                        user_arn: pending.user_arn.clone(),
                        deactivated: Timestamp::now(),
                        replaced_by: new.id.clone(),
                        profiles: profiles.to_vec(),
                    },
                );
            }
        });
        if let Err(e) = noted {
            self.ui
                .warn(format!("could not note the new key's date: {e:#}"));
        }
        self.state.clear_pending(&pending.old_key_id)?;
        Ok(())
    }
}

fn not_found_ok(e: AwsError) -> Result<(), AwsError> {
    match e {
        // Already gone: a retried or repeated delete.
        AwsError::NotFound(_) => Ok(()),
        e => Err(e),
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
