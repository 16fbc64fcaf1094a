//! Steps 1 and 2 of the rotation: the key as stored, its owner, room for
//! a new key, and the intent recorded before anything is created.

use super::*;

impl<A: KeyApi, S: Store + ?Sized> Rotation<'_, A, S> {
    /// Step 1: the profile's key, as the store holds it now.
    pub(super) fn load_key(&self) -> Result<AccessKey, CommandError> {
        Ok(self.store.read()?)
    }

    /// The key's owner. Only an IAM user's key can be rotated this way.
    pub(super) async fn identify(&self, key: &AccessKey) -> Result<String, CommandError> {
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

    pub(super) async fn list_own_keys(
        &self,
        current: &AccessKey,
    ) -> Result<Vec<KeyMeta>, CommandError> {
        self.api
            .list_keys(current)
            .await
            .map_err(|source| CommandError::Aws {
                during: "could not list your access keys".into(),
                source,
            })
    }

    /// `--older-than`: a key younger than that is left as it is.
    pub(super) fn young_enough(
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
        Some(Outcome::skipped(
            self.profile,
            self.store.holders(&current.id).unwrap_or_default(),
            user_arn,
            &current.id,
            reason,
            self.opts.dry_run,
        ))
    }

    /// Step 2: IAM allows two keys per user. Delete a key this tool left
    /// inactive in an earlier rotation, or one an interrupted run's
    /// unanswered CreateAccessKey (`unsettled`) made; refuse on any other
    /// second key.
    pub(super) async fn make_room(
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
                self.delete_retired(current, other, retired).await?;
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

    /// Deletes the user's other key `id` (`what` it is, for the message);
    /// one already gone is what was wanted.
    pub(super) async fn delete_other(
        &self,
        current: &AccessKey,
        id: &str,
        what: &str,
    ) -> Result<(), CommandError> {
        self.api
            .delete_key(current, id)
            .await
            .or_else(not_found_ok)
            .map_err(|source| CommandError::Aws {
                during: format!("could not delete {}, {what}", mask(id)),
                source,
            })
    }

    /// A key this tool retired earlier makes room for the new one: deleted
    /// (as `prune` would) unless something tried to use it after it was
    /// deactivated; then it is still wanted somewhere, never deleted.
    async fn delete_retired(
        &self,
        current: &AccessKey,
        other: &KeyMeta,
        retired: &RetiredKey,
    ) -> Result<(), CommandError> {
        // As `prune` does: a key a profile or a file on this machine still
        // holds (an interrupted `rollback` put it back, a `.zshrc` line
        // was never updated) is still wanted; never delete it.
        let holders = self.store.holders(&other.id)?;
        if !holders.is_empty() {
            return Err(CommandError::Refused(format!(
                "the inactive key {} (left by an earlier rotation) must go to make room for a new key, but profile {} holds it (an interrupted `aws-rekey rollback`?): run `aws-rekey rollback --profile {}` or update that profile first; nothing was changed",
                mask(&other.id),
                holders.join(", "),
                holders[0]
            )));
        }
        if let Some(place) = self.left_in(&other.id, &[]) {
            return Err(CommandError::Refused(format!(
                "the inactive key {} (left by an earlier rotation) must go to make room for a new key, but it {place}. \
                 Update or remove that copy (or add the file to aws_rekey_also so rotations update it), then re-run; nothing was changed",
                mask(&other.id)
            )));
        }
        // A key something tried to use after it was deactivated is still
        // wanted somewhere; never delete it.
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
            self.delete_other(current, &other.id, "left inactive by an earlier rotation")
                .await?;
            let _ = self.state.update_book(|b| {
                b.retired.remove(&other.id);
            });
            let _ = self.state.forget_retired_secret(&other.id);
            self.ui.step(format!(
                "deleted {}, left inactive by an earlier rotation",
                mask(&other.id)
            ));
        }
        Ok(())
    }

    pub(super) fn plan(
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
            "dry run: would create a new key for {user_arn}, write it to {}{}, verify it, then {} {}",
            self.store.location(),
            match self.copies.also.len() {
                0 => String::new(),
                n => format!(" and {n} managed file{}", if n == 1 { "" } else { "s" }),
            },
            if self.opts.keep_old {
                "deactivate"
            } else {
                "delete"
            },
            current.masked_id()
        ));
        Ok(Outcome::planned(
            self.profile,
            self.store.holders(&current.id)?,
            &user_arn,
            &current.id,
            fate,
            leftovers,
        ))
    }

    /// Step 3a: say what is about to happen before IAM is asked, so that a
    /// crash while CreateAccessKey is in flight leaves a trace to clean up.
    /// An interrupted run's unsettled requests carry over (see `create`).
    pub(super) fn record_intent(
        &self,
        current: &AccessKey,
        user_arn: &str,
        unanswered: Vec<Timestamp>,
    ) -> Result<Pending, CommandError> {
        let holders = self.store.holders(&current.id)?;
        let now = Timestamp::now();
        let mut pending = Pending {
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
            also: self.copies.also.clone(),
        };
        pending.version = pending.version_needed();
        self.state.save_pending(&pending).map_err(|e| {
            CommandError::Other(e.context("could not record the rotation; nothing was changed"))
        })?;
        Ok(pending)
    }
}
