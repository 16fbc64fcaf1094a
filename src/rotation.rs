//! The rotation protocol: each step a named function, in the order the
//! module's `rotate` calls them, so the code reads like the list.
//!
//! The invariant every step keeps: the profile holds a working key at every
//! instant, no secret of a live key exists only in memory, the user never
//! has more than two keys, and a pending record in the state folder says
//! enough for the next run to finish or roll back whatever was interrupted.

use crate::aws::{AwsError, KeyApi, KeyMeta, LastUsed};
use crate::secret::{AccessKey, mask};
use crate::state::{
    KeyRecord, NewKey, PENDING_VERSION, Pending, Phase, Retire, RetiredKey, StateLock,
};
use crate::store::{Store, StoreError};
use crate::ui::Ui;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::time::{Duration, Instant};
use thiserror::Error;

pub struct Options {
    pub keep_old: bool,
    pub dry_run: bool,
    pub verify_timeout: Duration,
    /// Rotate only a key older than this (`--older-than`).
    pub older_than: Option<SignedDuration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OldKeyFate {
    Deleted,
    Deactivated,
    /// `--dry-run`: what a real run would do.
    WouldDelete,
    WouldDeactivate,
    /// `--older-than`: the key was young enough to keep.
    Kept,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub profile: String,
    /// Every profile that held the key and now holds the new one.
    pub profiles: Vec<String>,
    pub user_arn: String,
    pub old_key_id: String,
    pub new_key_id: Option<String>,
    pub old_key: OldKeyFate,
    pub verify_seconds: f64,
    /// What was done about an earlier, interrupted run, if anything.
    pub recovered: Option<String>,
    /// Keys deleted before rotating: ones this tool left inactive earlier,
    /// or one an interrupted run created whose secret never arrived.
    pub deleted_leftovers: Vec<String>,
    pub dry_run: bool,
    /// Why nothing was rotated (`--older-than`).
    pub skipped: Option<String>,
    /// Things the user should know, such as an old key that was still in
    /// use and was therefore deactivated rather than deleted.
    pub warnings: Vec<String>,
}

#[derive(Debug, Error)]
pub enum RotateError {
    /// Nothing was changed: the request cannot be carried out as things are.
    #[error("{0}")]
    Refused(String),
    /// An AWS call failed before anything was changed.
    #[error("{during}: {source}")]
    Aws { during: String, source: AwsError },
    /// The new key never worked; the old key is back and the new one deleted.
    #[error("{0}")]
    NotVerified(String),
    /// Stopped part-way; the pending record lets the next run finish.
    #[error("{0}")]
    Incomplete(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<StoreError> for RotateError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Malformed { .. }
            | StoreError::NotFound(_)
            | StoreError::Changed(_)
            | StoreError::Unavailable(_) => RotateError::Refused(e.to_string()),
            StoreError::Io { .. } => RotateError::Other(e.into()),
        }
    }
}

/// Clock skew allowed between this machine and IAM when deciding whether a
/// key was created by a CreateAccessKey whose answer was lost. Kept small on
/// purpose: a wider window would take a key the user made by hand shortly
/// after for the orphan. A larger skew makes aws-rekey delete nothing and
/// say so, never delete the wrong key.
const ORPHAN_SLACK: SignedDuration = SignedDuration::from_secs(15);

/// The only instants at which IAM can have created the key of a
/// CreateAccessKey sent at `sent`: it is sent once, without retries, so it
/// is answered (or given up) within the connect and attempt timeouts.
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

/// What became of a CreateAccessKey whose answer was lost.
enum Orphans {
    /// IAM holds no key it could have created.
    NoneCreated,
    /// The one key it created, now deleted again.
    Deleted(String),
    /// Keys that may or may not be it: nothing deleted; why, for the user.
    Unclear(String),
}

enum Recovery {
    None,
    /// An earlier run was cleaned up or rolled back; go on with a fresh one.
    Cleared(String, Vec<String>),
    /// An earlier run was finished: that is the rotation the user asked for.
    Finished(Box<Outcome>),
}

impl<A: KeyApi, S: Store + ?Sized> Rotation<'_, A, S> {
    pub async fn rotate(&self) -> Result<Outcome, RotateError> {
        let mut current = self.load_key()?;
        let mut recovered = None;
        let mut leftovers = Vec::new();
        match self.recover_interrupted(&current).await? {
            Recovery::None => {}
            Recovery::Finished(outcome) => return Ok(*outcome),
            Recovery::Cleared(note, deleted) => {
                recovered = Some(note);
                leftovers = deleted;
                current = self.load_key()?;
            }
        }
        let user_arn = self.identify(&current).await?;
        let keys = self.list_own_keys(&current).await?;
        if let Some(outcome) = self.young_enough(&current, &user_arn, &keys) {
            return Ok(outcome);
        }
        leftovers.extend(self.make_room(&current, &user_arn, &keys).await?);
        if self.opts.dry_run {
            return self.plan(&current, user_arn, leftovers);
        }
        let mut pending = self.record_intent(&current, &user_arn)?;
        let created = self.create_key(&current, &mut pending).await?;
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
    ) -> Result<Outcome, RotateError> {
        // From here on this run signs nothing with the old key: a later use
        // of it is someone else's. Recorded before the first switch, so a
        // resumed run judges those uses by the same instant.
        if pending.switched.is_none() {
            pending.switched = Some(Timestamp::now());
            if let Err(e) = self.state.save_pending(&pending) {
                let why = RotateError::Other(e.context("could not update the rotation record"));
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
    fn load_key(&self) -> Result<AccessKey, RotateError> {
        Ok(self.store.read()?)
    }

    /// The key's owner. Only an IAM user's key can be rotated this way.
    async fn identify(&self, key: &AccessKey) -> Result<String, RotateError> {
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
            RotateError::Aws { during, source }
        })?;
        if arn.ends_with(":root") {
            return Err(RotateError::Refused(format!(
                "{} holds the account root user's key; AWS advises deleting root access keys rather than rotating them",
                self.store.location()
            )));
        }
        if !arn.contains(":user/") {
            return Err(RotateError::Refused(format!(
                "{} belongs to {arn}, not an IAM user; only IAM users' long-lived keys can be rotated",
                self.store.location()
            )));
        }
        Ok(arn)
    }

    async fn list_own_keys(&self, current: &AccessKey) -> Result<Vec<KeyMeta>, RotateError> {
        self.api
            .list_keys(current)
            .await
            .map_err(|source| RotateError::Aws {
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
            crate::commands::check::human_age(age),
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
    /// inactive in an earlier rotation; refuse on any other second key.
    async fn make_room(
        &self,
        current: &AccessKey,
        user_arn: &str,
        keys: &[KeyMeta],
    ) -> Result<Vec<String>, RotateError> {
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
                        return Err(RotateError::Refused(format!(
                            "the inactive key {} (left by an earlier rotation) must go to make room for a new key, but your policy does not allow iam:GetAccessKeyLastUsed, so aws-rekey cannot tell whether something still uses it. \
                             If nothing does, delete it (`aws iam list-access-keys` shows its full id, `aws iam delete-access-key --access-key-id ID` deletes it), or allow that action; nothing was changed",
                            mask(&other.id)
                        )));
                    }
                    other => other,
                }
                .map_err(|source| RotateError::Aws {
                        during: format!(
                            "could not check the last use of {}, left inactive by an earlier rotation",
                            mask(&other.id)
                        ),
                        source,
                    })?;
                if let Some(when) = used_after(&used, retired.deactivated) {
                    return Err(RotateError::Refused(format!(
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
                        .map_err(|source| RotateError::Aws {
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
            return Err(RotateError::Refused(format!(
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
    ) -> Result<Outcome, RotateError> {
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
    fn record_intent(&self, current: &AccessKey, user_arn: &str) -> Result<Pending, RotateError> {
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
            // The request leaves right after this record is on disk.
            create_sent: Some(now),
            holders,
            switched: None,
            retire: None,
        };
        self.state.save_pending(&pending).map_err(|e| {
            RotateError::Other(e.context("could not record the rotation; nothing was changed"))
        })?;
        Ok(pending)
    }

    /// Step 3b: one CreateAccessKey, never retried (see `KeyApi::create_key`).
    async fn create_key(
        &self,
        current: &AccessKey,
        pending: &mut Pending,
    ) -> Result<crate::aws::Created, RotateError> {
        self.ui.step("creating a new access key");
        match self.api.create_key(current).await {
            Ok(created) => Ok(created),
            Err(source) if source.ambiguous() => {
                // The key may exist with its secret lost in transit. Look
                // now; if IAM cannot be reached, the record stays for the
                // next run to do the same.
                let note = match self.delete_orphans(current, pending).await {
                    Ok(Orphans::NoneCreated) => {
                        let _ = self.state.clear_pending(&current.id);
                        "nothing was changed".to_string()
                    }
                    Ok(Orphans::Deleted(id)) => {
                        let _ = self.state.clear_pending(&current.id);
                        format!(
                            "it did create {}, which was deleted again; nothing else was changed",
                            mask(&id)
                        )
                    }
                    Ok(Orphans::Unclear(why)) => {
                        return Err(RotateError::Incomplete(format!(
                            "CreateAccessKey got no answer ({source}); {why}"
                        )));
                    }
                    Err(_) => {
                        return Err(RotateError::Incomplete(format!(
                            "CreateAccessKey got no answer ({source}). IAM may have created a key whose secret never arrived; \
                             your profile still holds its working key. Re-run `aws-rekey rotate` to clean up"
                        )));
                    }
                };
                Err(RotateError::Aws {
                    during: format!("CreateAccessKey got no answer; {note}"),
                    source,
                })
            }
            Err(source) => {
                let _ = self.state.clear_pending(&current.id);
                let during = match &source {
                    AwsError::LimitExceeded(_) => {
                        "IAM refused a new key: the user already has two keys (one was created since aws-rekey looked); nothing was changed".to_string()
                    }
                    AwsError::Denied(_) => {
                        "you may not create access keys for your user (iam:CreateAccessKey); nothing was changed".to_string()
                    }
                    _ => "could not create a new key; nothing was changed".to_string(),
                };
                Err(RotateError::Aws { during, source })
            }
        }
    }

    /// Step 4: the new secret goes to disk before anything else can fail.
    async fn persist_new_secret(
        &self,
        pending: &mut Pending,
        created: crate::aws::Created,
        current: &AccessKey,
    ) -> Result<AccessKey, RotateError> {
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
                Ok(()) => RotateError::Other(e.context(
                    "could not save the new key's secret, so the new key was deleted; nothing was changed",
                )),
                Err(d) => RotateError::Incomplete(format!(
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
    ) -> Result<Vec<String>, RotateError> {
        let profiles = self.store.replace(&old.id, new)?;
        let behind = self.store.holders(&old.id)?;
        if !behind.is_empty() {
            return Err(RotateError::Other(anyhow::anyhow!(
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
    async fn verify(&self, new: &AccessKey, user_arn: &str) -> Result<f64, RotateError> {
        let start = Instant::now();
        let mut backoff = Backoff::new(self.opts.verify_timeout);
        let spinner = self.ui.spinner("waiting for IAM to accept the new key");
        let result = loop {
            let written = self.store.read()?;
            if written.id != new.id {
                break Err(RotateError::Refused(format!(
                    "{} was changed by another program while the new key was being verified",
                    self.store.location()
                )));
            }
            let last = match self.api.caller_arn(&written).await {
                Ok(arn) if arn == user_arn => break Ok(start.elapsed().as_secs_f64()),
                Ok(arn) => {
                    break Err(RotateError::NotVerified(format!(
                        "the new key belongs to {arn}, not {user_arn}"
                    )));
                }
                Err(e) if e.transient() => e,
                Err(e) => {
                    break Err(RotateError::Aws {
                        during: "could not verify the new key".into(),
                        source: e,
                    });
                }
            };
            if !backoff.wait().await {
                break Err(RotateError::NotVerified(format!(
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
        why: RotateError,
    ) -> RotateError {
        let record = self.state.pending_path(&old.id);
        // Once the old key's fate was decided it may be deleted or inactive
        // already: going back to it would leave the profile a dead key.
        // Forward is the only way then; the next run finishes.
        if pending.retire.is_some() {
            return RotateError::Incomplete(format!(
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
            return RotateError::Incomplete(format!(
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
                return RotateError::Incomplete(format!(
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
                    RotateError::Refused(_) => RotateError::Refused(msg),
                    RotateError::Aws { during, source } => RotateError::Aws {
                        during: format!("{during}; rolled back to the old key"),
                        source,
                    },
                    _ => RotateError::NotVerified(msg),
                }
            }
            Err(e) => RotateError::Incomplete(format!(
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
    ) -> Result<OldKeyFate, RotateError> {
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
                        RotateError::Incomplete(format!(
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
                    return Err(RotateError::Incomplete(format!(
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
    ) -> Result<Option<String>, RotateError> {
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
                    return Err(RotateError::Incomplete(format!(
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
    ) -> Result<(), RotateError> {
        if fate == OldKeyFate::Deactivated {
            self.state.save_retired_secret(old).map_err(|e| {
                RotateError::Incomplete(format!(
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

    /// After a CreateAccessKey whose answer never came: finds the key it may
    /// have created, and deletes it only when exactly one key fits. That key
    /// was created inside the request's window (see `orphan_window`) and was
    /// never used (its secret never reached anyone). Any other key is not
    /// aws-rekey's to delete.
    async fn delete_orphans(
        &self,
        old: &AccessKey,
        pending: &Pending,
    ) -> Result<Orphans, AwsError> {
        let sent = pending.create_sent.unwrap_or(pending.started);
        let (from, until) = orphan_window(sent);
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
            let used = self.api.last_used(old, &key.id).await?;
            if used.date.is_some() {
                // Used: someone holds its secret, so it is not the lost one.
                continue;
            }
            match key.created {
                Some(c) if c >= from && c <= until => candidates.push(key),
                _ => unclear.push(key),
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
                    day(sent),
                    describe(&all),
                    old.masked_id(),
                    self.state.pending_path(&old.id).display()
                )))
            }
        }
    }

    /// Finds a pending record for this profile's key and finishes or rolls
    /// back what it describes.
    async fn recover_interrupted(&self, current: &AccessKey) -> Result<Recovery, RotateError> {
        let records = self.state.pending()?;
        let matching = records.into_iter().find(|p| {
            p.old_key_id == current.id || p.new_key.as_ref().is_some_and(|n| n.id == current.id)
        });
        let Some(pending) = matching else {
            if let Some(stale) = self
                .state
                .pending()?
                .into_iter()
                .find(|p| p.location == self.store.location())
            {
                return Err(RotateError::Refused(format!(
                    "an interrupted rotation of {} from {} is recorded in {}, but the profile now holds another key ({}). \
                     The record holds the secrets of {} and of the key it created; check which of them still exist, then delete the record and re-run",
                    stale.location,
                    day(stale.started),
                    self.state.pending_path(&stale.old_key_id).display(),
                    current.masked_id(),
                    mask(&stale.old_key_id)
                )));
            }
            return Ok(Recovery::None);
        };
        if self.opts.dry_run {
            self.ui.step(format!(
                "an interrupted rotation from {} is pending; a real run finishes it first",
                day(pending.started)
            ));
            return Ok(Recovery::None);
        }
        let mut pending = pending;
        // Rewritten in this build's format from now on.
        pending.version = PENDING_VERSION;
        let old = AccessKey::new(pending.old_key_id.clone(), pending.old_secret.clone());
        self.ui.step(format!(
            "found an interrupted rotation of {} from {}",
            mask(&old.id),
            day(pending.started)
        ));
        let Some(saved) = pending.new_key.as_ref() else {
            let found = self
                .delete_orphans(&old, &pending)
                .await
                .map_err(|source| RotateError::Aws {
                    during: "could not clean up after the interrupted rotation".into(),
                    source,
                })?;
            let (note, deleted) = match found {
                Orphans::NoneCreated => (
                    "the interrupted rotation had created no key; starting afresh".to_string(),
                    Vec::new(),
                ),
                Orphans::Deleted(id) => (
                    format!(
                        "deleted {}, created by the interrupted rotation whose answer never arrived",
                        mask(&id)
                    ),
                    vec![id],
                ),
                Orphans::Unclear(why) => return Err(RotateError::Incomplete(why)),
            };
            self.state.clear_pending(&old.id)?;
            self.ui.step(&note);
            return Ok(Recovery::Cleared(note, deleted));
        };
        let new = AccessKey::new(saved.id.clone(), saved.secret.clone());

        if pending.phase == Phase::RollingBack {
            self.store.replace(&new.id, &old)?;
            self.api
                .delete_key(&old, &new.id)
                .await
                .or_else(not_found_ok)
                .map_err(|source| RotateError::Aws {
                    during: format!(
                        "could not finish rolling back (deleting {})",
                        new.masked_id()
                    ),
                    source,
                })?;
            self.state.clear_pending(&old.id)?;
            let note = format!(
                "finished rolling back the interrupted rotation: deleted {}, kept {}",
                new.masked_id(),
                old.masked_id()
            );
            self.ui.step(&note);
            return Ok(Recovery::Cleared(note, vec![new.id.clone()]));
        }

        // The new key was saved but no profile was switched to it yet: make
        // sure it was not deleted by hand meanwhile. (Once a profile was
        // switched, the old key is not signed with again: a use of it after
        // the switch must be someone else's; verification settles whether
        // the new key still exists.) A listing may lag behind a key just
        // created, so the key is deleted before its secret is dropped.
        if pending.switched.is_none()
            && current.id == old.id
            && let Ok(keys) = self.api.list_keys(&old).await
            && !keys.iter().any(|k| k.id == new.id)
        {
            self.api
                .delete_key(&old, &new.id)
                .await
                .or_else(not_found_ok)
                .map_err(|source| RotateError::Aws {
                    during: format!(
                        "could not make sure the interrupted rotation's key {} is gone",
                        new.masked_id()
                    ),
                    source,
                })?;
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
}

/// The polling schedule while IAM propagates a key: quick at first (most
/// new keys work within seconds), then every half second, so a wait ends at
/// most about half a second after the key works, at two requests a second.
pub struct Backoff {
    delay: Duration,
    deadline: Instant,
}

impl Backoff {
    /// Checked arithmetic on instants: a deadline too far away to represent
    /// (the CLI bounds the timeout, a library caller may not) is capped,
    /// never a panic mid-rotation.
    pub fn new(timeout: Duration) -> Self {
        let now = Instant::now();
        let deadline = now
            .checked_add(timeout)
            .or_else(|| now.checked_add(Duration::from_secs(86_400 * 365)))
            .unwrap_or(now);
        Backoff {
            delay: Duration::from_millis(200),
            deadline,
        }
    }

    /// Sleeps until the next try; `false` (without sleeping) when that try
    /// would come after the deadline.
    pub async fn wait(&mut self) -> bool {
        match Instant::now().checked_add(self.delay) {
            Some(next) if next <= self.deadline => {}
            _ => return false,
        }
        tokio::time::sleep(self.delay).await;
        self.delay = (self.delay * 3 / 2).min(Duration::from_millis(500));
        true
    }
}

#[cfg(test)]
mod backoff_tests {
    use super::*;

    /// Item 8 of issue 9: `Instant::now() + timeout` overflowed and aborted.
    #[test]
    fn a_huge_timeout_is_capped_not_a_panic() {
        let mut b = Backoff::new(Duration::MAX);
        assert!(b.deadline > Instant::now());
        b.delay = Duration::MAX;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(!rt.block_on(b.wait()));
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
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    //! The protocol against an in-memory IAM and store: every branch, fast.
    use super::*;
    use crate::aws::{Created, LastUsed};
    use crate::secret::Secret;
    use crate::state::State;
    use std::cell::{Cell, RefCell};

    struct FakeKey {
        id: String,
        secret: String,
        active: bool,
        created: Timestamp,
        used: Option<Timestamp>,
    }

    /// One IAM user's keys. `refuse_new` makes GetCallerIdentity reject keys
    /// created here that many times (propagation); `lose_create` makes
    /// CreateAccessKey take effect but lose its answer.
    #[derive(Default)]
    struct FakeIam {
        keys: RefCell<Vec<FakeKey>>,
        refuse_new: Cell<u32>,
        lose_create: Cell<bool>,
        created: Cell<u32>,
    }

    const ARN: &str = "arn:aws:iam::123456789012:user/fake";

    impl FakeIam {
        fn with_key(id: &str, secret: &str) -> Self {
            let iam = FakeIam::default();
            iam.keys.borrow_mut().push(FakeKey {
                id: id.into(),
                secret: secret.into(),
                active: true,
                created: Timestamp::now() - SignedDuration::from_hours(24 * 100),
                used: None,
            });
            iam
        }

        fn auth(&self, key: &AccessKey) -> Result<(), AwsError> {
            let mut keys = self.keys.borrow_mut();
            let found = keys
                .iter_mut()
                .find(|k| k.id == key.id && k.secret == key.secret.expose() && k.active);
            match found {
                Some(k) => {
                    k.used = Some(Timestamp::now());
                    Ok(())
                }
                None => Err(AwsError::Rejected {
                    code: "InvalidClientTokenId".into(),
                    message: "invalid".into(),
                }),
            }
        }

        fn ids(&self) -> Vec<(String, bool)> {
            self.keys
                .borrow()
                .iter()
                .map(|k| (k.id.clone(), k.active))
                .collect()
        }
    }

    impl KeyApi for FakeIam {
        async fn caller_arn(&self, key: &AccessKey) -> Result<String, AwsError> {
            if key.id.starts_with("AKIANEW") && self.refuse_new.get() > 0 {
                self.refuse_new.set(self.refuse_new.get() - 1);
                return Err(AwsError::Rejected {
                    code: "InvalidClientTokenId".into(),
                    message: "propagating".into(),
                });
            }
            self.auth(key).map(|()| ARN.to_string())
        }

        async fn list_keys(&self, key: &AccessKey) -> Result<Vec<KeyMeta>, AwsError> {
            self.auth(key)?;
            Ok(self
                .keys
                .borrow()
                .iter()
                .map(|k| KeyMeta {
                    id: k.id.clone(),
                    active: k.active,
                    created: Some(k.created),
                })
                .collect())
        }

        async fn last_used(&self, key: &AccessKey, id: &str) -> Result<LastUsed, AwsError> {
            self.auth(key)?;
            let keys = self.keys.borrow();
            let k = keys
                .iter()
                .find(|k| k.id == id)
                .ok_or_else(|| AwsError::NotFound(id.into()))?;
            Ok(LastUsed {
                date: k.used,
                service: Some("iam".into()),
                region: Some("us-east-1".into()),
            })
        }

        async fn create_key(&self, key: &AccessKey) -> Result<Created, AwsError> {
            self.auth(key)?;
            if self.keys.borrow().len() >= 2 {
                return Err(AwsError::LimitExceeded("two keys".into()));
            }
            self.created.set(self.created.get() + 1);
            let id = format!("AKIANEW{:013}", self.created.get());
            let secret = format!("secret-{}", self.created.get());
            self.keys.borrow_mut().push(FakeKey {
                id: id.clone(),
                secret: secret.clone(),
                active: true,
                created: Timestamp::now(),
                used: None,
            });
            if self.lose_create.get() {
                return Err(AwsError::Unreachable("connection reset".into()));
            }
            Ok(Created {
                key: AccessKey::new(id, Secret::new(secret)),
                created: Timestamp::now(),
            })
        }

        async fn delete_key(&self, key: &AccessKey, id: &str) -> Result<(), AwsError> {
            self.auth(key)?;
            let mut keys = self.keys.borrow_mut();
            let before = keys.len();
            keys.retain(|k| k.id != id);
            if keys.len() == before {
                return Err(AwsError::NotFound(id.into()));
            }
            Ok(())
        }

        async fn set_active(
            &self,
            key: &AccessKey,
            id: &str,
            active: bool,
        ) -> Result<(), AwsError> {
            self.auth(key)?;
            let mut keys = self.keys.borrow_mut();
            let k = keys
                .iter_mut()
                .find(|k| k.id == id)
                .ok_or_else(|| AwsError::NotFound(id.into()))?;
            k.active = active;
            Ok(())
        }
    }

    /// A one-profile store in memory.
    struct MemoryStore(RefCell<AccessKey>);

    impl Store for MemoryStore {
        fn location(&self) -> String {
            "memory [p]".into()
        }
        fn read(&self) -> Result<AccessKey, StoreError> {
            Ok(self.0.borrow().clone())
        }
        fn holders(&self, id: &str) -> Result<Vec<String>, StoreError> {
            Ok(if self.0.borrow().id == id {
                vec!["p".into()]
            } else {
                vec![]
            })
        }
        fn replace(&self, old_id: &str, new: &AccessKey) -> Result<Vec<String>, StoreError> {
            let current = self.0.borrow().id.clone();
            if current != new.id && current != old_id {
                return Err(StoreError::Changed("changed".into()));
            }
            *self.0.borrow_mut() = new.clone();
            Ok(vec!["p".into()])
        }
    }

    struct Fixture {
        iam: FakeIam,
        store: MemoryStore,
        state: StateLock,
        _dir: tempfile::TempDir,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        Fixture {
            iam: FakeIam::with_key("AKIAOLD0000000000000", "old-secret"),
            store: MemoryStore(RefCell::new(AccessKey::new(
                "AKIAOLD0000000000000",
                Secret::new("old-secret"),
            ))),
            state: State::at(dir.path().join("state"))
                .unwrap()
                .lock(Duration::from_secs(1), |_| {})
                .unwrap(),
            _dir: dir,
        }
    }

    fn opts(keep_old: bool) -> Options {
        Options {
            keep_old,
            dry_run: false,
            verify_timeout: Duration::from_secs(3),
            older_than: None,
        }
    }

    fn rotate(f: &Fixture, opts: &Options) -> Result<Outcome, RotateError> {
        let ui = Ui::new(true);
        let rotation = Rotation {
            api: &f.iam,
            store: &f.store,
            state: &f.state,
            ui: &ui,
            opts,
            profile: "p",
        };
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(rotation.rotate())
    }

    #[test]
    fn rotates_verifies_and_deletes_the_old_key() {
        let f = fixture();
        f.iam.refuse_new.set(2);
        let outcome = rotate(&f, &opts(false)).unwrap();
        let new = f.store.read().unwrap();
        assert_eq!(outcome.new_key_id.as_deref(), Some(new.id.as_str()));
        assert_eq!(outcome.old_key, OldKeyFate::Deleted);
        assert_eq!(f.iam.ids(), vec![(new.id.clone(), true)]);
        assert!(f.state.pending().unwrap().is_empty());
        assert!(f.state.book().unwrap().keys.contains_key(&new.id));
    }

    #[test]
    fn a_key_that_never_verifies_is_rolled_back() {
        let f = fixture();
        f.iam.refuse_new.set(u32::MAX);
        let err = rotate(&f, &opts(false)).unwrap_err();
        assert!(matches!(err, RotateError::NotVerified(_)), "{err}");
        assert_eq!(f.store.read().unwrap().id, "AKIAOLD0000000000000");
        assert_eq!(f.iam.ids(), vec![("AKIAOLD0000000000000".into(), true)]);
        assert!(f.state.pending().unwrap().is_empty());
    }

    #[test]
    fn a_lost_create_answer_deletes_the_orphan_at_once() {
        let f = fixture();
        f.iam.lose_create.set(true);
        let err = rotate(&f, &opts(false)).unwrap_err();
        assert!(err.to_string().contains("deleted again"), "{err}");
        assert_eq!(f.iam.ids(), vec![("AKIAOLD0000000000000".into(), true)]);
        assert!(f.state.pending().unwrap().is_empty());
    }

    #[test]
    fn an_interrupted_rotation_is_finished_by_the_next_run() {
        let f = fixture();
        // As if killed right after the new secret was saved.
        let created = f.iam.keys.borrow().len();
        assert_eq!(created, 1);
        f.iam.created.set(1);
        f.iam.keys.borrow_mut().push(FakeKey {
            id: "AKIANEW0000000000001".into(),
            secret: "secret-1".into(),
            active: true,
            created: Timestamp::now(),
            used: None,
        });
        f.state
            .save_pending(&Pending {
                version: PENDING_VERSION,
                profile: "p".into(),
                location: f.store.location(),
                user_arn: ARN.into(),
                started: Timestamp::now(),
                phase: Phase::Created,
                old_key_id: "AKIAOLD0000000000000".into(),
                old_secret: Secret::new("old-secret"),
                new_key: Some(NewKey {
                    id: "AKIANEW0000000000001".into(),
                    secret: Secret::new("secret-1"),
                    created: Timestamp::now(),
                }),
                keep_old: false,
                create_sent: None,
                holders: vec!["p".into()],
                switched: None,
                retire: None,
            })
            .unwrap();
        let outcome = rotate(&f, &opts(false)).unwrap();
        assert!(outcome.recovered.is_some());
        assert_eq!(f.store.read().unwrap().id, "AKIANEW0000000000001");
        assert_eq!(f.iam.ids(), vec![("AKIANEW0000000000001".into(), true)]);
        assert!(f.state.pending().unwrap().is_empty());
    }

    #[test]
    fn keep_old_then_the_next_rotation_deletes_it() {
        let f = fixture();
        let first = rotate(&f, &opts(true)).unwrap();
        assert_eq!(first.old_key, OldKeyFate::Deactivated);
        assert!(
            f.state
                .retired_secret("AKIAOLD0000000000000")
                .unwrap()
                .is_some()
        );
        assert_eq!(f.iam.ids().len(), 2);
        let second = rotate(&f, &opts(false)).unwrap();
        assert_eq!(
            second.deleted_leftovers,
            vec!["AKIAOLD0000000000000".to_string()]
        );
        assert_eq!(f.iam.ids().len(), 1);
        assert!(
            f.state
                .retired_secret("AKIAOLD0000000000000")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn an_unknown_second_key_is_refused_and_left_alone() {
        let f = fixture();
        f.iam.keys.borrow_mut().push(FakeKey {
            id: "AKIASOMEONEELSES0000".into(),
            secret: "x".into(),
            active: true,
            created: Timestamp::now(),
            used: None,
        });
        let err = rotate(&f, &opts(false)).unwrap_err();
        assert!(matches!(err, RotateError::Refused(_)), "{err}");
        assert!(err.to_string().contains("AKIA…0000"), "{err}");
        assert_eq!(f.iam.ids().len(), 2);
        assert_eq!(f.store.read().unwrap().id, "AKIAOLD0000000000000");
    }
}
