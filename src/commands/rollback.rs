//! `aws-rekey rollback`: when a new key causes trouble, bring back the old
//! key that `rotate --keep-old` (or a still-used old key) left inactive. The
//! old key is reactivated and verified through the profile before the new
//! one is deactivated, so the profile works at every step; the new key's
//! secret is kept, so the rollback can itself be undone.

use crate::aws::{KeyApi, Sdk, region_for};
use crate::cli::{OutputFormat, RollbackArgs};
use crate::commands::prune::replaced_by;
use crate::commands::refusal;
use crate::exit::Exit;
use crate::mfa;
use crate::profile::{AwsFiles, Profiles};
use crate::rotation::{Backoff, RotateError};
use crate::secret::{AccessKey, mask};
use crate::state::{KeyRecord, RetiredKey, State};
use crate::store::{self, Store};
use crate::ui::Ui;
use anyhow::Result;
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

pub async fn run(args: RollbackArgs) -> Result<Exit> {
    let ui = Ui::new(false);
    let result = rollback(&args, &ui).await;
    let json = args.output == OutputFormat::Json;
    match result {
        Ok(r) => {
            if json {
                crate::print_stdout(&serde_json::to_string_pretty(&r)?);
            } else {
                crate::print_stdout(&format!(
                    "{}: back to {} ({} deactivated; `aws-rekey rotate` later deletes it)",
                    r.profile,
                    mask(&r.restored_key_id),
                    mask(&r.deactivated_key_id)
                ));
            }
            Ok(Exit::Success)
        }
        Err(e) => Ok(super::report_error(&args.profile, &e, json)),
    }
}

async fn rollback(args: &RollbackArgs, ui: &Ui) -> Result<RolledBack, RotateError> {
    let files = AwsFiles::from_env().map_err(refusal)?;
    let state = State::open()?;
    let state = state.lock(args.lock_timeout, |m| ui.step(m))?;
    let profiles = Profiles::load(files).map_err(refusal)?;
    let (profile, via) = profiles
        .resolve_for_rotation(&args.profile)
        .map_err(refusal)?;
    let store = store::open(&profiles, &profile);
    let current = store.read()?;
    let book = state.book()?;
    let Some((old_id, retired)) = replaced_by(&book, &current) else {
        return Err(RotateError::Refused(format!(
            "no earlier key of profile {} to go back to: rollback needs a rotation made with --keep-old (an old key that was deleted cannot come back)",
            profile.name
        )));
    };
    let retired: RetiredKey = retired.clone();
    let Some(old) = state.retired_secret(old_id)? else {
        return Err(RotateError::Refused(format!(
            "the secret of the earlier key {} was not kept; it cannot be put back",
            mask(old_id)
        )));
    };
    let mut sdk = Sdk::new(&profile.name, &region_for(profile.region.as_deref())).await;
    if let Some(serial) = profiles.mfa_serial(&profile.name, via.as_deref()) {
        let code = mfa::code(&serial, args.mfa_code.as_deref())?;
        sdk.use_session(mfa::session(&sdk, &current, &serial, &code).await?);
    }
    let aws = |during: String| move |source| RotateError::Aws { during, source };

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
        // one inactive again.
        let _ = store.replace(&old.id, &current);
        let _ = sdk.set_active(&current, &old.id, false).await;
        return Err(e);
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
    let _ = state.update_book(|b| {
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
    let _ = state.forget_retired_secret(&old.id);
    Ok(RolledBack {
        profile: profile.name,
        profiles: holders,
        restored_key_id: old.id.clone(),
        deactivated_key_id: current.id.clone(),
    })
}

/// The profile as written reaches the same user with the reactivated key.
async fn verify(
    sdk: &Sdk,
    store: &dyn Store,
    old: &AccessKey,
    user_arn: &str,
    timeout: Duration,
) -> Result<(), RotateError> {
    let mut backoff = Backoff::new(timeout);
    loop {
        let written = store.read()?;
        match sdk.caller_arn(&written).await {
            Ok(arn) if written.id == old.id && (user_arn.is_empty() || arn == user_arn) => {
                return Ok(());
            }
            Ok(arn) => {
                return Err(RotateError::NotVerified(format!(
                    "the restored key belongs to {arn}, not {user_arn}; the new key was put back"
                )));
            }
            Err(e) if (e.rejected() || e.ambiguous()) && backoff.wait().await => {}
            Err(e) => {
                return Err(RotateError::NotVerified(format!(
                    "the reactivated key did not work ({e}); the new key was put back"
                )));
            }
        }
    }
}
