//! `rollback`: the old key that `rotate --keep-old` (or a still-used old
//! key) left inactive, back in the profile. The old key is reactivated and
//! verified through the profile before the new one is deactivated, so the
//! profile works at every step; the new key's secret is kept, so the
//! rollback can itself be undone.

use super::copies::{CopyReport, CopyStatus, check_all, switch_all};
use super::verify::{self, Unverified};
use crate::aws::KeyApi;
use crate::copies::listed::Listed;
use crate::error::CommandError;
use crate::secret::AccessKey;
use crate::state::{KeyRecord, RetiredKey, StateLock};
use crate::store::Store;
use crate::ui::Ui;
use jiff::Timestamp;
use std::time::Duration;

pub struct Rollback<'a, A: KeyApi, S: Store + ?Sized> {
    pub api: &'a A,
    pub store: &'a S,
    pub state: &'a StateLock,
    pub ui: &'a Ui,
    pub verify_timeout: Duration,
    /// The managed copies: switched back with the profile.
    pub also: &'a [Listed],
}

impl<A: KeyApi, S: Store + ?Sized> Rollback<'_, A, S> {
    /// Puts `old` (the `retired` key `current` replaced) back in place of
    /// `current`, in the profile and every managed copy, and returns the
    /// profiles that hold it again and what became of each copy.
    pub async fn run(
        &self,
        current: &AccessKey,
        old: &AccessKey,
        retired: &RetiredKey,
    ) -> Result<(Vec<String>, Vec<CopyReport>), CommandError> {
        let aws = |during: String| move |source| CommandError::Aws { during, source };
        // A copy that cannot be switched is refused before anything changes.
        check_all(self.also, current)?;

        // The new key's secret is kept before the store lets go of it.
        self.state.save_retired_secret(current)?;
        self.api
            .set_active(current, &old.id, true)
            .await
            .map_err(aws(format!("could not reactivate {}", old.masked_id())))?;
        self.ui.step(format!("reactivated {}", old.masked_id()));
        let holders = self.store.replace(&current.id, old)?;
        self.ui.step(format!(
            "wrote {} to {}",
            old.masked_id(),
            self.store.location()
        ));

        let restored = match switch_all(self.ui, self.also, current, old, CopyStatus::Restored) {
            Ok(r) => self.verify(old, &retired.user_arn).await.map(|()| r),
            Err(e) => Err(e),
        };
        let also = match restored {
            Ok(also) => also,
            Err(e) => return Err(self.undo(current, old, e).await),
        };
        self.ui.step(format!("verified {}", old.masked_id()));

        self.api
            .set_active(old, &current.id, false)
            .await
            .map_err(aws(format!(
                "the old key is back, but {} could not be deactivated",
                current.masked_id()
            )))?;
        self.ui.step(format!("deactivated {}", current.masked_id()));
        self.record(current, old, retired, &holders).await?;
        if let Err(e) = self.state.forget_retired_secret(&old.id) {
            // Harmless: a copy of the secret the profile holds again.
            self.ui.warn(format!(
                "could not remove the kept secret of {} from the state folder ({e:#})",
                old.masked_id()
            ));
        }
        Ok((holders, also))
    }

    /// Back to where the rollback started: the new key in the profile and
    /// its copies, the old one inactive again. Each part of that undo is
    /// reported as it went: a message must never claim an undo that did
    /// not happen.
    async fn undo(&self, current: &AccessKey, old: &AccessKey, e: CommandError) -> CommandError {
        let put_back = self.store.replace(&old.id, current);
        let copies = switch_all(self.ui, self.also, old, current, CopyStatus::Updated);
        let deactivated = match (&put_back, &copies) {
            (Ok(_), Ok(_)) => Some(self.api.set_active(current, &old.id, false).await),
            // The profile or a copy still holds the old key: it must stay
            // active.
            _ => None,
        };
        if let Some(Ok(())) = &deactivated {
            // This run itself used the old key (to verify it): its retirement
            // starts again now, or `prune` and `rotate` would take that use
            // for something else's and keep the key forever.
            if let Err(e) = self.state.update_book(|b| {
                if let Some(r) = b.retired.get_mut(&old.id) {
                    r.deactivated = Timestamp::now();
                }
            }) {
                self.ui.warn(format!(
                    "could not note when {} was deactivated again ({e:#}); `prune` may keep it",
                    old.masked_id()
                ));
            }
        }
        if let (Ok(_), Err(c)) = (&put_back, &copies) {
            return CommandError::Other(anyhow::anyhow!(
                "{e}; the new key {} was put back in {}, but not in every managed copy ({c}), so {} stays active: put the new key in that file yourself (its secret is kept in the state folder, retired/{}.json)",
                current.masked_id(),
                self.store.location(),
                old.masked_id(),
                current.id
            ));
        }
        undo_failed(
            e,
            put_back,
            deactivated,
            old,
            current,
            self.store.location(),
        )
    }

    /// The key book learns that `current` is now the retired key and `old`
    /// the live one.
    async fn record(
        &self,
        current: &AccessKey,
        old: &AccessKey,
        retired: &RetiredKey,
        holders: &[String],
    ) -> Result<(), CommandError> {
        let created = self
            .api
            .list_keys(old)
            .await
            .ok()
            .and_then(|keys| keys.into_iter().find(|k| k.id == old.id))
            .and_then(|k| k.created);
        let recorded = self.state.update_book(|b| {
            b.retired.remove(&old.id);
            b.retired.insert(
                current.id.clone(),
                RetiredKey {
                    user_arn: retired.user_arn.clone(),
                    deactivated: Timestamp::now(),
                    replaced_by: old.id.clone(),
                    profiles: holders.to_vec(),
                    also: self.also.to_vec(),
                },
            );
            b.keys.remove(&current.id);
            if let Some(created) = created {
                b.keys.insert(
                    old.id.clone(),
                    KeyRecord {
                        created,
                        user_arn: retired.user_arn.clone(),
                        profiles: holders.to_vec(),
                    },
                );
            }
        });
        if let Err(e) = recorded {
            // Unrecorded, the next `rotate` would take the deactivated key for
            // a stranger's and refuse, and `prune` would look for the wrong one.
            return Err(CommandError::Other(anyhow::anyhow!(
                "rolled back to {} ({} deactivated), but the key book could not be updated ({e:#}); `aws-rekey rotate` and `prune` will not know that {} is the inactive key: fix the state folder, then delete that key yourself once unused",
                old.masked_id(),
                current.masked_id(),
                current.masked_id()
            )));
        }
        Ok(())
    }

    /// The profile as written reaches the same user with the reactivated
    /// key.
    async fn verify(&self, old: &AccessKey, user_arn: &str) -> Result<(), CommandError> {
        let verified =
            verify::through_store(self.api, self.store, &old.id, user_arn, self.verify_timeout)
                .await;
        match verified {
            Ok(()) => Ok(()),
            Err(Unverified::OtherUser(arn)) => Err(CommandError::NotVerified(format!(
                "the restored key belongs to {arn}, not {user_arn}"
            ))),
            Err(Unverified::Changed) => Err(CommandError::NotVerified(format!(
                "{} was changed by another program while the restored key was being verified",
                self.store.location()
            ))),
            Err(Unverified::TimedOut(e) | Unverified::Failed(e)) => Err(CommandError::NotVerified(
                format!("the reactivated key did not work ({e})"),
            )),
            Err(Unverified::Store(e)) => Err(e.into()),
        }
    }
}

/// The error of a rollback whose reactivated key never verified, with what
/// its undo did: `NotVerified` (exit 5) only when the undo was whole.
fn undo_failed(
    e: CommandError,
    put_back: Result<Vec<String>, crate::store::StoreError>,
    deactivated: Option<Result<(), crate::aws::AwsError>>,
    old: &AccessKey,
    new: &AccessKey,
    location: String,
) -> CommandError {
    match (put_back, deactivated) {
        (Ok(_), Some(Ok(()))) => CommandError::NotVerified(format!(
            "{e}; the new key was put back and {} deactivated again",
            old.masked_id()
        )),
        (Err(put_back), _) => CommandError::Other(anyhow::anyhow!(
            "{e}; and putting the new key {} back in {location} failed ({put_back}): the profile still holds {}, which is active again; the new key {} is active too, and its secret is kept in the state folder (retired/{}.json): put it back in the profile yourself",
            new.masked_id(),
            old.masked_id(),
            new.masked_id(),
            new.id
        )),
        (Ok(_), _) => CommandError::Other(anyhow::anyhow!(
            "{e}; the new key {} was put back in {location}, but {} could not be deactivated again, so it is still active: deactivate it yourself (`aws iam list-access-keys` shows its full id, then `aws iam update-access-key --access-key-id ID --status Inactive`)",
            new.masked_id(),
            old.masked_id()
        )),
    }
}

#[cfg(test)]
mod tests;
