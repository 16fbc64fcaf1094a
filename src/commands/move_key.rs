//! `aws-rekey move`: a profile's key between the credentials file and the
//! OS keychain. The key is written to its new place and verified through the
//! profile before the old place is cleared, so a failure changes nothing and
//! an interruption leaves a profile that works (credentials-file keys win
//! over `credential_process`, as in the SDKs).

use crate::cli::{MoveArgs, OutputFormat, StoreArg};
use crate::error::CommandError;
use crate::exit::Exit;
use crate::ini::FileKind;
use crate::install::{install_in_file, install_in_keychain, remove_key, remove_setting, store_for};
use crate::network::Network;
use crate::preamble::Preamble;
use crate::profile::{Profiles, StoreKind};
use crate::secret::AccessKey;
use crate::state::State;
use crate::store::Store;
use crate::store::file::{self, Edit, FileStore, ID, edit_file};
use crate::store::keychain::SERVICE;
use crate::ui::Ui;
use anyhow::Result;
use serde::Serialize;

#[derive(Serialize)]
struct Moved {
    profile: String,
    to: &'static str,
    key_id: String,
    /// The key was already there; nothing was done.
    already: bool,
}

pub async fn run(args: MoveArgs) -> Result<Exit, CommandError> {
    let ui = Ui::new(false);
    let result = match Preamble::open(args.lock_timeout, &ui) {
        Ok(p) => match args.to {
            StoreArg::Keychain => to_keychain(&args.profile, &p, &ui).await,
            StoreArg::File => to_file(&args.profile, &p, &ui).await,
        },
        Err(e) => Err(e),
    };
    let json = args.output == OutputFormat::Json;
    Ok(crate::report::one(&args.profile, result, json, |m| {
        if m.already {
            format!("{}: already in the {}", args.profile, m.to)
        } else {
            format!(
                "{}: moved {} to the {}",
                args.profile,
                crate::secret::mask(&m.key_id),
                m.to
            )
        }
    }))
}

async fn to_keychain(
    name: &str,
    Preamble {
        files,
        state,
        profiles,
    }: &Preamble,
    ui: &Ui,
) -> Result<Moved, CommandError> {
    let profile = profiles.resolve(name)?;
    let file_store = FileStore::new(&files.credentials, name);
    let key = match &profile.store {
        StoreKind::File => file_store.read()?,
        StoreKind::Keychain { account } => {
            let key = store_for(profiles, account).read()?;
            return Ok(moved(name, "keychain", &key, true));
        }
    };
    refuse_if_pending(state, name, &key)?;
    // An unusable CA bundle is refused before anything is written.
    Network::for_profile(profiles, name, None)?;

    install_in_keychain(
        files,
        profiles,
        name,
        &key,
        profile.region.as_deref(),
        ui,
        false,
    )
    .await?;

    let sharing: Vec<String> = file::holding(&profiles.credentials, &key.id)
        .into_iter()
        .filter(|p| p != name)
        .collect();
    if !sharing.is_empty() {
        ui.warn(format!(
            "profiles {} still hold this key in the credentials file; move them too (`aws-rekey move --profile NAME --to keychain`), or rotating one store would break the other",
            sharing.join(", ")
        ));
    }

    // Only now clear the old place.
    edit_file(&files.credentials, FileKind::Credentials, |doc| {
        if doc.get(name, ID) != Some(key.id.as_str()) {
            return Ok(Edit::Unchanged(()));
        }
        remove_key(doc, name)?;
        Ok(Edit::Write(()))
    })?;
    ui.step(format!(
        "removed the key from {}",
        files.credentials.display()
    ));
    Ok(moved(name, "keychain", &key, false))
}

/// A key an interrupted rotation is still working on stays where that
/// rotation will look for it: the next `rotate` finishes the job first.
fn refuse_if_pending(state: &State, name: &str, key: &AccessKey) -> Result<(), CommandError> {
    if state.pending()?.iter().any(|p| p.involves(&key.id)) {
        return Err(CommandError::Refused(format!(
            "a rotation of {name}'s key was interrupted; run `aws-rekey rotate --profile {name}` to finish it first; nothing was changed"
        )));
    }
    Ok(())
}

async fn to_file(
    name: &str,
    Preamble {
        files,
        state,
        profiles,
    }: &Preamble,
    ui: &Ui,
) -> Result<Moved, CommandError> {
    let profile = profiles.resolve(name)?;
    let account = match &profile.store {
        StoreKind::Keychain { account } => account.clone(),
        StoreKind::File => {
            let key = FileStore::new(&files.credentials, name).read()?;
            return Ok(moved(name, "file", &key, true));
        }
    };
    let keychain = store_for(profiles, &account);
    let key = keychain.read()?;
    refuse_if_pending(state, name, &key)?;
    Network::for_profile(profiles, name, None)?;

    install_in_file(files, name, &key, profile.region.as_deref(), ui, false).await?;

    // Only now clear the config line and the keychain entry.
    let section = profiles.config_section_or_new(name);
    remove_setting(&files.config, &section, "credential_process")?;
    let still_used = Profiles::load(files.clone())
        .map(|p| p.keychain_accounts().contains(&account))
        .unwrap_or(true);
    if !still_used {
        keychain.delete()?;
        ui.step(format!("deleted the keychain entry {SERVICE}/{account}"));
    }
    Ok(moved(name, "file", &key, false))
}

fn moved(name: &str, to: &'static str, key: &AccessKey, already: bool) -> Moved {
    Moved {
        profile: name.into(),
        to,
        key_id: key.id.clone(),
        already,
    }
}
