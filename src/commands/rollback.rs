//! `aws-rekey rollback`: when a new key causes trouble, bring back the old
//! key that `rotate --keep-old` (or a still-used old key) left inactive. The
//! old key is reactivated and verified through the profile before the new
//! one is deactivated, so the profile works at every step; the new key's
//! secret is kept, so the rollback can itself be undone.

use crate::aws::{KeyApi, Sdk};
use crate::cli::{OutputFormat, RollbackArgs};
use crate::error::CommandError;
use crate::exit::Exit;
use crate::mfa;
use crate::preamble::Preamble;
use crate::rotation::Backoff;
use crate::secret::{AccessKey, mask};
use crate::state::{KeyRecord, RetiredKey};
use crate::store::Store;
use crate::ui::Ui;
use jiff::Timestamp;
use serde::Serialize;
use std::time::Duration;

#[derive(Serialize)]
struct RolledBack {
    profile: String,
    profiles: Vec<String>,
    restored_key_id: String,
    deactivated_key_id: String,
}

pub async fn run(args: RollbackArgs) -> Result<Exit, CommandError> {
    let ui = Ui::new(false);
    let result = rollback(&args, &ui).await;
    let json = args.output == OutputFormat::Json;
    Ok(crate::report::one(&args.profile, result, json, |r| {
        format!(
            "{}: back to {} ({} deactivated; `aws-rekey rotate` later deletes it)",
            r.profile,
            mask(&r.restored_key_id),
            mask(&r.deactivated_key_id)
        )
    }))
}

async fn rollback(args: &RollbackArgs, ui: &Ui) -> Result<RolledBack, CommandError> {
    let Preamble {
        state, profiles, ..
    } = Preamble::open(args.lock_timeout, ui)?;
    let (profile, via) = profiles.resolve_for_rotation(&args.profile)?;
    let store = profiles.store(&profile);
    let current = store.read()?;
    let book = state.book()?;
    let Some((old_id, retired)) = book.replaced_by(&current.id) else {
        return Err(CommandError::Refused(format!(
            "no earlier key of profile {} to go back to: rollback needs a rotation made with --keep-old (an old key that was deleted cannot come back)",
            profile.name
        )));
    };
    let retired: RetiredKey = retired.clone();
    let Some(old) = state.retired_secret(old_id)? else {
        return Err(CommandError::Refused(format!(
            "the secret of the earlier key {} was not kept; it cannot be put back",
            mask(old_id)
        )));
    };
    let serial = profiles.mfa_serial(&profile.name, via.as_deref());
    let sdk = mfa::sdk_for(
        &profiles,
        &profile.name,
        via.as_deref(),
        profile.region.as_deref(),
        &current,
        serial.as_deref(),
        args.mfa_code.as_deref(),
    )
    .await?;
    let aws = |during: String| move |source| CommandError::Aws { during, source };

    // The new key's secret is kept before the store lets go of it.
    state.save_retired_secret(&current)?;
    sdk.set_active(&current, &old.id, true)
        .await
        .map_err(aws(format!("could not reactivate {}", old.masked_id())))?;
    ui.step(format!("reactivated {}", old.masked_id()));
    let holders = store.replace(&current.id, &old)?;
    ui.step(format!("wrote {} to {}", old.masked_id(), store.location()));

    if let Err(e) = verify(
        &sdk,
        store.as_ref(),
        &old,
        &retired.user_arn,
        args.verify_timeout,
    )
    .await
    {
        // Back to where we started: the new key in the profile, the old
        // one inactive again. Each half of that undo is reported as it
        // went: a message must never claim an undo that did not happen.
        let put_back = store.replace(&old.id, &current);
        let deactivated = match &put_back {
            Ok(_) => Some(sdk.set_active(&current, &old.id, false).await),
            // The profile still holds the old key: it must stay active.
            Err(_) => None,
        };
        if let Some(Ok(())) = &deactivated {
            // This run itself used the old key (to verify it): its retirement
            // starts again now, or `prune` and `rotate` would take that use
            // for something else's and keep the key forever.
            if let Err(e) = state.update_book(|b| {
                if let Some(r) = b.retired.get_mut(&old.id) {
                    r.deactivated = Timestamp::now();
                }
            }) {
                ui.warn(format!(
                    "could not note when {} was deactivated again ({e:#}); `prune` may keep it",
                    old.masked_id()
                ));
            }
        }
        return Err(undo_failed(
            e,
            put_back,
            deactivated,
            &old,
            &current,
            store.location(),
        ));
    }
    ui.step(format!("verified {}", old.masked_id()));

    sdk.set_active(&old, &current.id, false)
        .await
        .map_err(aws(format!(
            "the old key is back, but {} could not be deactivated",
            current.masked_id()
        )))?;
    ui.step(format!("deactivated {}", current.masked_id()));
    let created = sdk
        .list_keys(&old)
        .await
        .ok()
        .and_then(|keys| keys.into_iter().find(|k| k.id == old.id))
        .and_then(|k| k.created);
    let recorded = state.update_book(|b| {
        b.retired.remove(&old.id);
        b.retired.insert(
            current.id.clone(),
            RetiredKey {
                user_arn: retired.user_arn.clone(),
                deactivated: Timestamp::now(),
                replaced_by: old.id.clone(),
                profiles: holders.clone(),
            },
        );
        b.keys.remove(&current.id);
        if let Some(created) = created {
            b.keys.insert(
                old.id.clone(),
                KeyRecord {
                    created,
                    user_arn: retired.user_arn.clone(),
                    profiles: holders.clone(),
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
    if let Err(e) = state.forget_retired_secret(&old.id) {
        // Harmless: a copy of the secret the profile holds again.
        ui.warn(format!(
            "could not remove the kept secret of {} from the state folder ({e:#})",
            old.masked_id()
        ));
    }
    Ok(RolledBack {
        profile: profile.name,
        profiles: holders,
        restored_key_id: old.id.clone(),
        deactivated_key_id: current.id.clone(),
    })
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

/// The profile as written reaches the same user with the reactivated key.
async fn verify(
    sdk: &Sdk,
    store: &dyn Store,
    old: &AccessKey,
    user_arn: &str,
    timeout: Duration,
) -> Result<(), CommandError> {
    let mut backoff = Backoff::new(timeout);
    loop {
        let written = store.read()?;
        match sdk.caller_arn(&written).await {
            Ok(arn) if written.id == old.id && (user_arn.is_empty() || arn == user_arn) => {
                return Ok(());
            }
            Ok(arn) => {
                return Err(CommandError::NotVerified(format!(
                    "the restored key belongs to {arn}, not {user_arn}"
                )));
            }
            Err(e) if e.transient() && backoff.wait().await => {}
            Err(e) => {
                return Err(CommandError::NotVerified(format!(
                    "the reactivated key did not work ({e})"
                )));
            }
        }
    }
}
