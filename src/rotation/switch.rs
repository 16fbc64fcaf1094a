//! Steps 4 to 6: the new secret saved, the profile switched, the new key
//! verified through it; and the way back when it is not.

use super::verify::{self, Unverified};
use super::*;

impl<A: KeyApi, S: Store + ?Sized> Rotation<'_, A, S> {
    /// Step 4: the new secret goes to disk before anything else can fail.
    pub(super) async fn persist_new_secret(
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
    pub(super) fn write_profile(
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
    pub(super) async fn verify(
        &self,
        new: &AccessKey,
        user_arn: &str,
    ) -> Result<f64, CommandError> {
        let start = Instant::now();
        let spinner = self.ui.spinner("waiting for IAM to accept the new key");
        let timeout = self.opts.verify_timeout;
        let verified =
            verify::through_store(self.api, self.store, &new.id, user_arn, timeout).await;
        let result = match verified {
            Ok(()) => Ok(start.elapsed().as_secs_f64()),
            Err(Unverified::Changed) => Err(CommandError::Refused(format!(
                "{} was changed by another program while the new key was being verified",
                self.store.location()
            ))),
            Err(Unverified::OtherUser(arn)) => Err(CommandError::NotVerified(format!(
                "the new key belongs to {arn}, not {user_arn}"
            ))),
            Err(Unverified::Failed(source)) => Err(CommandError::Aws {
                during: "could not verify the new key".into(),
                source,
            }),
            Err(Unverified::TimedOut(last)) => Err(CommandError::NotVerified(format!(
                "the new key did not work within {}s (last answer: {last})",
                timeout.as_secs()
            ))),
            Err(Unverified::Store(e)) => Err(e.into()),
        };
        spinner.finish_and_clear();
        if let Ok(secs) = result {
            self.ui.step(format!("verified the new key ({secs:.1}s)"));
        }
        result
    }

    /// Undo steps 3 to 5 after a failure: the old key goes back first (it
    /// works), then the new key is deleted.
    pub(super) async fn roll_back(
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
        // Every managed copy goes back before the new key is deleted: the
        // record (not yet rolling back) lets the next run switch them all
        // forward again if one cannot be put back.
        if let Err(e) = self.switch_copies(&pending.also, new, old, CopyStatus::Restored) {
            return CommandError::Incomplete(format!(
                "{why}; the old key is back in {}, but putting it back in a managed copy failed ({e}). Both keys are saved in {}; re-run `aws-rekey rotate` to finish",
                self.store.location(),
                record.display()
            ));
        }
        let copies = also_back(pending.also.len());
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
                    "{why}. Rolled back: {} holds the old key {} again{copies} and the new key {} was deleted",
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
}

/// ` (and so do its 3 managed copies)`, for a roll-back's message.
fn also_back(n: usize) -> String {
    match n {
        0 => String::new(),
        n => format!(
            " (and so do its {n} managed cop{})",
            if n == 1 { "y" } else { "ies" }
        ),
    }
}
