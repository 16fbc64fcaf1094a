//! `aws-rekey rollback`: when a new key causes trouble, bring back the old
//! key that `rotate --keep-old` (or a still-used old key) left inactive. The
//! old key is reactivated and verified through the profile before the new
//! one is deactivated, so the profile works at every step; the new key's
//! secret is kept, so the rollback can itself be undone.

use crate::cli::{OutputFormat, RollbackArgs};
use crate::error::CommandError;
use crate::exit::Exit;
use crate::mfa;
use crate::preamble::Preamble;
use crate::rotation::{Copies, CopyReport, CopyStatus, Rollback, copies_line};
use crate::secret::mask;
use crate::state::RetiredKey;
use crate::ui::Ui;
use serde::Serialize;

#[derive(Serialize)]
struct RolledBack {
    profile: String,
    profiles: Vec<String>,
    restored_key_id: String,
    deactivated_key_id: String,
    /// The managed copies, put back with the profile.
    also: Vec<CopyReport>,
}

pub async fn run(args: RollbackArgs) -> Result<Exit, CommandError> {
    let ui = Ui::new(false);
    let result = rollback(&args, &ui).await;
    let json = args.output == OutputFormat::Json;
    Ok(crate::report::one(&args.profile, result, json, |r| {
        format!(
            "{}: back to {} ({} deactivated; `aws-rekey rotate` later deletes it){}",
            r.profile,
            mask(&r.restored_key_id),
            mask(&r.deactivated_key_id),
            copies_line(&r.also, CopyStatus::Restored, "also put back in")
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
    // The copies the rotation switched, and those the profiles name now.
    let mut names = store.holders(&current.id)?;
    names.extend([profile.name.clone()].into_iter().chain(via));
    let copies = Copies::gather(&profiles, &names, &retired.also)?;
    let (holders, also) = Rollback {
        api: &sdk,
        store: store.as_ref(),
        state: &state,
        ui,
        verify_timeout: args.verify_timeout,
        also: &copies.also,
    }
    .run(&current, &old, &retired)
    .await?;
    Ok(RolledBack {
        profile: profile.name,
        profiles: holders,
        restored_key_id: old.id.clone(),
        deactivated_key_id: current.id.clone(),
        also,
    })
}
