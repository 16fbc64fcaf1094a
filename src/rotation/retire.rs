//! Steps 7 and 8: the old key retired (deleted, or deactivated while
//! something else may still use it), and the record closed.

use super::*;

impl<A: KeyApi, S: Store + ?Sized> Rotation<'_, A, S> {
    /// Step 7: retire the old key with the new one, retrying while the new
    /// key propagates (IAM may reject it again after a first success).
    pub(super) async fn retire_old(
        &self,
        old: &AccessKey,
        new: &AccessKey,
        pending: &mut Pending,
        warnings: &mut Vec<String>,
    ) -> Result<OldKeyFate, CommandError> {
        let decision = self.decide(old, new, pending).await?;
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

    /// Delete or deactivate: decided once and recorded before it is acted
    /// on.
    async fn decide(
        &self,
        old: &AccessKey,
        new: &AccessKey,
        pending: &mut Pending,
    ) -> Result<Retire, CommandError> {
        // A recorded "deactivate" is final: a resumed run would no longer
        // see the other program's use that caused it. A recorded (or not
        // yet made) "delete" is checked again, since something may have
        // used the key since; a decision only ever moves towards keeping.
        Ok(match &pending.retire {
            Some(kept @ Retire::Deactivate { .. }) => kept.clone(),
            recorded => {
                let decided = if pending.keep_old {
                    Retire::Deactivate { why: None }
                } else if let Some(note) = self.copies_left(old, &pending.also) {
                    // A copy on this machine (item 3 of issue 12) keeps it.
                    Retire::Deactivate { why: Some(note) }
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
        })
    }

    /// AWS's advice: before deleting an old key, look at its last use. A
    /// use after this run stopped signing with it means something else still
    /// holds it; then the key is deactivated (reversible) instead.
    pub(super) async fn used_by_others(
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
    pub(super) fn finish(
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
                        also: pending.also.clone(),
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
