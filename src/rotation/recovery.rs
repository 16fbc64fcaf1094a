//! Finishing or rolling back what an interrupted run left, phase by phase,
//! and finding the key a CreateAccessKey whose answer was lost may have
//! made.

use super::*;
use crate::copies::listed::Listed;

/// What became of a CreateAccessKey whose answer was lost.
pub(super) enum Orphans {
    /// IAM holds no key it could have created.
    NoneCreated,
    /// The one key it created, now deleted again.
    Deleted(String),
    /// Keys that may or may not be it: nothing deleted; why, for the user.
    Unclear(String),
}

pub(super) enum Recovery {
    None,
    /// An earlier run's CreateAccessKey may have made a key IAM does not
    /// list yet: these requests (see `Pending::unanswered`) go on into this
    /// run's record, and its own CreateAccessKey settles them (see
    /// `create`).
    Unsettled(Vec<Timestamp>),
    /// An earlier run was cleaned up or rolled back; go on with a fresh one.
    Cleared(String, Vec<String>),
    /// An earlier run was finished: that is the rotation the user asked for.
    Finished(Box<Outcome>),
}

/// The CreateAccessKey requests of a "creating" record that may have made
/// a key: its `unanswered` list, or in a record written before that list
/// existed, its one request (or, in a version 1 record, its start).
fn unsettled(pending: &Pending) -> Vec<Timestamp> {
    if pending.unanswered.is_empty() {
        vec![pending.create_sent.unwrap_or(pending.started)]
    } else {
        pending.unanswered.clone()
    }
}

/// Whether a key created at `created` may be one of `sent`'s requests'.
fn in_a_window(created: Option<Timestamp>, sent: &[Timestamp]) -> bool {
    created.is_some_and(|c| {
        sent.iter().any(|s| {
            let (from, until) = orphan_window(*s);
            c >= from && c <= until
        })
    })
}

/// What to do about the key an unanswered CreateAccessKey very likely made
/// (created within its window) when the policy does not allow checking
/// that nothing ever used it.
fn unprovable(key: &KeyMeta, sent: &[Timestamp], old: &AccessKey) -> String {
    format!(
        "IAM lists {} (created {}, within seconds of a CreateAccessKey whose answer never arrived, sent {}): very likely the key that request made, whose secret never arrived. \
         Your policy does not allow iam:GetAccessKeyLastUsed, so aws-rekey cannot check that nothing ever used it, and deletes nothing it cannot prove its own. \
         Allow iam:GetAccessKeyLastUsed and re-run `aws-rekey rotate` (it then deletes that key and rotates), or delete {} yourself if you did not make it \
         (`aws iam list-access-keys` shows its full id), then re-run. Your profile still holds its working key {}",
        mask(&key.id),
        key.created
            .map(day)
            .unwrap_or_else(|| "at an unknown time".into()),
        sent.first().map(|s| day(*s)).unwrap_or_default(),
        mask(&key.id),
        old.masked_id()
    )
}

impl<A: KeyApi, S: Store + ?Sized> Rotation<'_, A, S> {
    /// After CreateAccessKey requests whose answers never came (`sent`):
    /// finds the key they may have made (at most one: IAM allows two keys,
    /// and the user had one), and deletes it only when exactly one key fits.
    /// That key was created inside a request's window (see `orphan_window`)
    /// and was never used (its secret never reached anyone). Any other key
    /// is not aws-rekey's to delete. `NoneCreated` means only that IAM lists
    /// no such key now: its listings may lag behind a new key.
    pub(super) async fn delete_orphans(
        &self,
        old: &AccessKey,
        sent: &[Timestamp],
    ) -> Result<Orphans, AwsError> {
        let others: Vec<KeyMeta> = self
            .api
            .list_keys(old)
            .await?
            .into_iter()
            .filter(|k| k.id != old.id)
            .collect();
        if others.is_empty() {
            return Ok(Orphans::NoneCreated);
        }
        let mut candidates = Vec::new();
        let mut unclear = Vec::new();
        for key in &others {
            let used = match self.api.last_used(old, &key.id).await {
                Ok(used) => used,
                // The policy hides last use: the key cannot be proved
                // unused, so it is not deleted; the user is told which key
                // it very likely is, and how to settle it.
                Err(AwsError::Denied(_)) if in_a_window(key.created, sent) => {
                    return Ok(Orphans::Unclear(unprovable(key, sent, old)));
                }
                Err(AwsError::Denied(_)) => continue,
                Err(e) => return Err(e),
            };
            if used.date.is_some() {
                // Used: someone holds its secret, so it is not the lost one.
                continue;
            }
            if in_a_window(key.created, sent) {
                candidates.push(key);
            } else {
                unclear.push(key);
            }
        }
        let describe = |keys: &[&KeyMeta]| {
            keys.iter()
                .map(|k| {
                    format!(
                        "{} (created {}, never used)",
                        mask(&k.id),
                        k.created
                            .map(day)
                            .unwrap_or_else(|| "on an unknown date".into())
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match (candidates.as_slice(), unclear.is_empty()) {
            ([], true) => Ok(Orphans::NoneCreated),
            ([only], true) => {
                self.api
                    .delete_key(old, &only.id)
                    .await
                    .or_else(not_found_ok)?;
                Ok(Orphans::Deleted(only.id.clone()))
            }
            _ => {
                let mut all = candidates.clone();
                all.extend(unclear.iter());
                Ok(Orphans::Unclear(format!(
                    "IAM may have created a key whose secret never arrived (the request was sent at {}), but aws-rekey cannot tell which key that would be: your user also has {}. \
                     aws-rekey deletes a key only when exactly one unused key was created within seconds of the lost request, so it deleted nothing. \
                     Your profile still holds its working key {}. Check those keys (`aws iam list-access-keys`); delete the one you did not make, or if you made them all, \
                     remove the record {} (it holds only your profile's current key), then re-run",
                    sent.first().map(|s| day(*s)).unwrap_or_default(),
                    describe(&all),
                    old.masked_id(),
                    self.state.pending_path(&old.id).display()
                )))
            }
        }
    }

    /// Finds a pending record for this profile's key and finishes or rolls
    /// back what it describes, by the phase it reached.
    pub(super) async fn recover_interrupted(
        &self,
        current: &AccessKey,
    ) -> Result<Recovery, CommandError> {
        let Some(mut pending) = self.record_for(current)? else {
            return Ok(Recovery::None);
        };
        if self.opts.dry_run {
            self.ui.step(format!(
                "an interrupted rotation from {} is pending; a real run finishes it first",
                day(pending.started)
            ));
            return Ok(Recovery::None);
        }
        // Rewritten in this build's format from now on.
        pending.version = pending.version_needed();
        let old = AccessKey::new(pending.old_key_id.clone(), pending.old_secret.clone());
        self.ui.step(format!(
            "found an interrupted rotation of {} from {}",
            mask(&old.id),
            day(pending.started)
        ));
        let Some(saved) = pending.new_key.as_ref() else {
            return self.recover_before_create(&pending, &old).await;
        };
        let new = AccessKey::new(saved.id.clone(), saved.secret.clone());
        if pending.phase == Phase::RollingBack {
            return self.finish_rolling_back(&old, &new, &pending.also).await;
        }
        self.resume(pending, current, old, new).await
    }

    /// The pending record of this profile's key (its old or its new key);
    /// a record for this store's profile whose keys it no longer holds is
    /// refused, not guessed at.
    fn record_for(&self, current: &AccessKey) -> Result<Option<Pending>, CommandError> {
        let records = self.state.pending()?;
        if let Some(found) = records.iter().position(|p| p.involves(&current.id)) {
            return Ok(records.into_iter().nth(found));
        }
        if let Some(stale) = records
            .into_iter()
            .find(|p| p.location == self.store.location())
        {
            return Err(CommandError::Refused(format!(
                "an interrupted rotation of {} from {} is recorded in {}, but the profile now holds another key ({}). \
                 The record holds the secrets of {} and of the key it created; check which of them still exist, then delete the record and re-run",
                stale.location,
                day(stale.started),
                self.state.pending_path(&stale.old_key_id).display(),
                current.masked_id(),
                mask(&stale.old_key_id)
            )));
        }
        Ok(None)
    }

    /// Interrupted before a new key was saved: was one made?
    async fn recover_before_create(
        &self,
        pending: &Pending,
        old: &AccessKey,
    ) -> Result<Recovery, CommandError> {
        let sent = unsettled(pending);
        let found = self
            .delete_orphans(old, &sent)
            .await
            .map_err(|source| CommandError::Aws {
                during: "could not clean up after the interrupted rotation".into(),
                source,
            })?;
        match found {
            // Not proof: IAM's listing may lag behind the key. The record
            // stays until this run's CreateAccessKey settles it.
            Orphans::NoneCreated => {
                self.ui.step(
                    "IAM lists no key made by the interrupted rotation's CreateAccessKey; this run's own request settles whether it made one",
                );
                Ok(Recovery::Unsettled(sent))
            }
            Orphans::Deleted(id) => {
                self.state.clear_pending(&old.id)?;
                let note = format!(
                    "deleted {}, created by the interrupted rotation whose answer never arrived",
                    mask(&id)
                );
                self.ui.step(&note);
                Ok(Recovery::Cleared(note, vec![id]))
            }
            Orphans::Unclear(why) => Err(CommandError::Incomplete(why)),
        }
    }

    /// Interrupted while rolling back: the old key goes back, the new one
    /// is deleted.
    async fn finish_rolling_back(
        &self,
        old: &AccessKey,
        new: &AccessKey,
        also: &[Listed],
    ) -> Result<Recovery, CommandError> {
        self.store.replace(&new.id, old)?;
        // The managed copies go back too, before the new key is deleted.
        self.switch_copies(also, new, old, CopyStatus::Restored)?;
        self.delete_new_key(
            old,
            new,
            format!(
                "could not finish rolling back (deleting {})",
                new.masked_id()
            ),
        )
        .await?;
        self.state.clear_pending(&old.id)?;
        let note = format!(
            "finished rolling back the interrupted rotation: deleted {}, kept {}",
            new.masked_id(),
            old.masked_id()
        );
        self.ui.step(&note);
        Ok(Recovery::Cleared(note, vec![new.id.clone()]))
    }

    /// Interrupted after the new key was saved: switch to it and retire the
    /// old one, as the first run would have.
    async fn resume(
        &self,
        pending: Pending,
        current: &AccessKey,
        old: AccessKey,
        new: AccessKey,
    ) -> Result<Recovery, CommandError> {
        // No profile was switched to the new key yet: make sure it was not
        // deleted by hand meanwhile. (Once a profile was switched, the old
        // key is not signed with again: a use of it after the switch must
        // be someone else's; verification settles whether the new key still
        // exists.) A listing may lag behind a key just created, so the key
        // is deleted before its secret is dropped.
        if pending.switched.is_none()
            && current.id == old.id
            && let Ok(keys) = self.api.list_keys(&old).await
            && !keys.iter().any(|k| k.id == new.id)
        {
            self.delete_new_key(
                &old,
                &new,
                format!(
                    "could not make sure the interrupted rotation's key {} is gone",
                    new.masked_id()
                ),
            )
            .await?;
            self.state.clear_pending(&old.id)?;
            let note = format!(
                "the interrupted rotation's key {} no longer exists; starting afresh",
                new.masked_id()
            );
            self.ui.step(&note);
            return Ok(Recovery::Cleared(note, Vec::new()));
        }
        self.ui
            .step(format!("resuming: switching to {}", new.masked_id()));
        let mut outcome = self.switch_and_retire(pending, old, new).await?;
        outcome.recovered = Some("finished a rotation that had been interrupted".into());
        Ok(Recovery::Finished(Box::new(outcome)))
    }

    /// For `make_room`, while an earlier run's requests are unsettled
    /// (`sent`): a second key IAM lists only now (the recovery's listing a
    /// moment ago lagged behind it) that fits their window and was never
    /// used is the key they made. It is the only other key (IAM allows
    /// two), so it is deleted; `false` for any other key.
    pub(super) async fn delete_late_orphan(
        &self,
        current: &AccessKey,
        other: &KeyMeta,
        sent: &[Timestamp],
    ) -> Result<bool, CommandError> {
        if sent.is_empty() || self.opts.dry_run || !in_a_window(other.created, sent) {
            return Ok(false);
        }
        match self.api.last_used(current, &other.id).await {
            Ok(used) if used.date.is_none() => {}
            // Used: someone holds its secret; not the lost request's key.
            Ok(_) => return Ok(false),
            // Made within seconds of an unanswered request, but whether it
            // was ever used cannot be told: neither deleted, nor refused as
            // the user's own second key; the record stays.
            Err(AwsError::Denied(_)) => {
                return Err(CommandError::Incomplete(unprovable(other, sent, current)));
            }
            Err(e) => {
                return Err(CommandError::Incomplete(format!(
                    "{} was created within seconds of a CreateAccessKey whose answer never arrived, but whether anything used it could not be checked ({e}); nothing was deleted and the record is kept: re-run `aws-rekey rotate`",
                    mask(&other.id)
                )));
            }
        }
        self.delete_other(
            current,
            &other.id,
            "made by the interrupted rotation whose answer never arrived",
        )
        .await?;
        self.ui.step(format!(
            "deleted {}, created by the interrupted rotation whose answer never arrived",
            mask(&other.id)
        ));
        Ok(true)
    }

    /// Deletes the interrupted rotation's key, signed with the old one; a
    /// key already gone is fine.
    async fn delete_new_key(
        &self,
        old: &AccessKey,
        new: &AccessKey,
        during: String,
    ) -> Result<(), CommandError> {
        self.api
            .delete_key(old, &new.id)
            .await
            .or_else(not_found_ok)
            .map_err(|source| CommandError::Aws { during, source })
    }
}
