//! `aws-rekey rotate`: resolve each profile, run the protocol, report.

use crate::aws::{Sdk, region_for};
use crate::cli::{OutputFormat, RotateArgs};
use crate::exit::Exit;
use crate::profile::{AwsFiles, ProfileError, Profiles};
use crate::rotation::{OldKeyFate, Options, Outcome, RotateError, Rotation};
use crate::secret::mask;
use crate::state::State;
use crate::store;
use crate::ui::Ui;
use anyhow::Result;
use serde_json::json;

pub async fn run(args: RotateArgs) -> Result<Exit> {
    let json = args.output == OutputFormat::Json;
    let ui = Ui::new(false);
    warn_if_shadowed(&ui);
    let files = AwsFiles::from_env()?;
    let names = if args.profiles.is_empty() {
        vec!["default".to_string()]
    } else {
        args.profiles.clone()
    };
    let opts = Options {
        keep_old: args.keep_old,
        dry_run: args.dry_run,
        verify_timeout: args.verify_timeout,
    };
    let state = State::open()?;
    let _lock =
        state.lock(|| ui.step("another aws-rekey run is rotating; waiting for it to finish"))?;

    let mut results: Vec<(String, Result<Outcome, RotateError>)> = Vec::new();
    for name in &names {
        // Rotating one profile rewrites the profiles sharing its key too.
        if results.iter().any(|(_, r)| {
            r.as_ref()
                .is_ok_and(|o| !o.dry_run && o.profiles.contains(name))
        }) {
            ui.step(format!(
                "{name}: already rotated with a profile sharing its key"
            ));
            continue;
        }
        let result = rotate_one(name, &files, &state, &ui, &opts).await;
        if let Err(e) = &result {
            ui.step(format!("{name}: failed"));
            if names.len() > 1 {
                eprintln!("aws-rekey: {name}: {e}");
            }
        }
        results.push((name.clone(), result));
    }
    report(&results, json, names.len() > 1)
}

async fn rotate_one(
    name: &str,
    files: &AwsFiles,
    state: &State,
    ui: &Ui,
    opts: &Options,
) -> Result<Outcome, RotateError> {
    // Re-read for each profile: an earlier rotation may have changed the file.
    let profiles = Profiles::load(files.clone()).map_err(refusal)?;
    let profile = profiles.resolve(name).map_err(refusal)?;
    let store = store::open(&profiles, &profile);
    let key = store.read()?;
    ui.step(format!("rotating {name} ({})", key.masked_id()));
    let region = region_for(profile.region.as_deref());
    let sdk = Sdk::new(name, &region).await;
    Rotation {
        api: &sdk,
        store: store.as_ref(),
        state,
        ui,
        opts,
        profile: name,
    }
    .rotate()
    .await
}

pub fn refusal(e: ProfileError) -> RotateError {
    match e {
        ProfileError::File(crate::store::StoreError::Io { .. }) => RotateError::Other(e.into()),
        e => RotateError::Refused(e.to_string()),
    }
}

/// Exported credentials in the environment win over every profile, so the
/// rotated key would not be what this shell's tools use.
fn warn_if_shadowed(ui: &Ui) {
    let set: Vec<&str> = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ]
    .into_iter()
    .filter(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
    .collect();
    if !set.is_empty() {
        ui.warn(format!(
            "{} set in this environment; they take precedence over profiles, so tools in this shell will not use the rotated key until you unset them. aws-rekey uses the profile's own key",
            set.join(", ")
        ));
    }
}

pub fn exit_for(e: &RotateError) -> Exit {
    match e {
        RotateError::Refused(_) => Exit::Refused,
        RotateError::Aws { .. } => Exit::Aws,
        RotateError::NotVerified(_) => Exit::NotVerified,
        RotateError::Incomplete(_) => Exit::Incomplete,
        RotateError::Other(_) => Exit::Failure,
    }
}

fn outcome_json(name: &str, r: &Result<Outcome, RotateError>) -> serde_json::Value {
    match r {
        Ok(o) => serde_json::to_value(o).expect("an outcome always serialises"),
        Err(e) => json!({
            "profile": name,
            "error": format!("{e:#}"),
            "exit_code": exit_for(e) as u8,
        }),
    }
}

fn summary(o: &Outcome) -> String {
    let new = o.new_key_id.as_deref().map(mask).unwrap_or_default();
    let fate = match o.old_key {
        OldKeyFate::Deleted => "old key deleted",
        OldKeyFate::Deactivated => "old key deactivated",
        OldKeyFate::WouldDelete => "dry run: would delete the old key",
        OldKeyFate::WouldDeactivate => "dry run: would deactivate the old key",
    };
    if o.dry_run {
        format!("{}: {} ({fate})", o.profile, mask(&o.old_key_id))
    } else {
        format!(
            "{}: {} → {new} ({fate}; {})",
            o.profile,
            mask(&o.old_key_id),
            if o.profiles.len() > 1 {
                format!("profiles {}", o.profiles.join(", "))
            } else {
                "verified".to_string()
            }
        )
    }
}

fn report(
    results: &[(String, Result<Outcome, RotateError>)],
    json: bool,
    many: bool,
) -> Result<Exit> {
    let exit = results
        .iter()
        .find_map(|(_, r)| r.as_ref().err().map(exit_for))
        .unwrap_or(Exit::Success);
    if json {
        let doc = if many {
            json!({
                "ok": exit == Exit::Success,
                "rotations": results.iter().map(|(n, r)| outcome_json(n, r)).collect::<Vec<_>>(),
            })
        } else {
            let (n, r) = &results[0];
            outcome_json(n, r)
        };
        crate::print_stdout(&format!("{doc:#}"));
    } else {
        for (_, r) in results {
            if let Ok(o) = r {
                crate::print_stdout(&summary(o));
            }
        }
    }
    if !many && let Some((_, Err(e))) = results.first() {
        eprintln!("aws-rekey: {e:#}");
    }
    Ok(exit)
}
