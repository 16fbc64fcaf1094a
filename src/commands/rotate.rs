//! `aws-rekey rotate`: pick the keys to rotate (named profiles, their role
//! sources, or `--all`), get MFA sessions where profiles need them, run the
//! protocol for each key concurrently, run hooks, report.

use crate::aws::Sdk;
use crate::cli::{OutputFormat, RotateArgs};
use crate::copies::listed::Listed;
use crate::error::CommandError;
use crate::exit::Exit;
use crate::hook::{self, HookReport};
use crate::mfa;
use crate::profile::{AwsFiles, Profile, Profiles, StoreKind};
use crate::rotation::{Copies, Options, Outcome, Patient, Rotation};
use crate::secret::mask;
use crate::state::{Pending, State, StateLock};
use crate::ui::Ui;
use aws_credential_types::Credentials;
use std::collections::BTreeMap;

mod report;
use report::report;

/// One key to rotate, through the profile that names it.
struct Target {
    /// The profile the user named (a role profile, say).
    asked: String,
    profile: Profile,
    /// The role profile it was reached through, if any.
    via: Option<String>,
    key_id: String,
    mfa_serial: Option<String>,
    /// The key's managed copies and where to look for others.
    copies: Copies,
}

type Results = Vec<(String, Result<Outcome, CommandError>, Option<HookReport>)>;

pub async fn run(args: RotateArgs) -> Result<Exit, CommandError> {
    let json = args.output == OutputFormat::Json;
    let ui = Ui::new(false);
    warn_if_shadowed(&ui);
    let files = AwsFiles::from_env()?;
    let opts = Options {
        keep_old: args.keep_old,
        dry_run: args.dry_run,
        verify_timeout: args.verify_timeout,
        older_than: args.older_than.map(|d| d.0),
    };
    let mut results: Results = Vec::new();
    let first_name = || {
        args.profiles
            .iter()
            .find(|p| !p.is_empty())
            .cloned()
            .unwrap_or_else(|| "default".into())
    };
    // With no state folder there is no interrupted rotation to finish, so
    // the plan can be made without it: a run that would only be refused
    // (an unknown profile, say) reports so without creating the folder,
    // its lock and its empty `pending/`. A run with work to do plans again
    // below, under the lock, as always. (Planning here unlocked can at worst
    // refuse what a run that started a moment ago is about to change, such
    // as a key mid-`move`; a refusal changes nothing.)
    if !State::locate()?.exists()
        && let Some((refused, many)) = refused_without_state(&files, &args)
    {
        return report(&refused, json, many);
    }
    let state = State::open()?;
    let lock = match state.lock(args.lock_timeout, |m| ui.step(m)) {
        Ok(lock) => lock,
        Err(e) => {
            // A busy lock is reported like any other failure (exit 6, and
            // an error document with --output json).
            results.push((first_name(), Err(CommandError::Other(e)), None));
            return report(&results, json, false);
        }
    };
    // Under the lock: a temp file beside the AWS files is a killed run's.
    crate::atomic::sweep_beside(&files.credentials);
    crate::atomic::sweep_beside(&files.config);

    let profiles = match Profiles::load(files.clone()) {
        Ok(p) => p,
        Err(e) => {
            results.push((first_name(), Err(e.into()), None));
            return report(&results, json, false);
        }
    };
    let names = names_to_rotate(&profiles, args.all, asked_names(&args));
    // A damaged record is reported by each rotation (it may hold a secret).
    let pending = state.pending().unwrap_or_default();
    let targets = plan(
        &profiles,
        &names,
        (args.all, &args.also),
        &pending,
        &ui,
        &mut results,
    );
    let many = args.all || names.len() > 1;

    let runnable = with_sessions(targets, &profiles, &opts, &args, &mut results).await;
    let uis: Vec<Ui> = runnable
        .iter()
        .map(|(t, _)| {
            if many {
                ui.for_profile(&t.profile.name)
            } else {
                Ui::new(false)
            }
        })
        .collect();
    let rotations = runnable
        .iter()
        .zip(&uis)
        .map(|((t, session), ui)| rotate_one(&profiles, t, session.clone(), &lock, ui, &opts));
    let outcomes = futures_util::future::join_all(rotations).await;

    // The rotations are done and recorded: let go of the lock before the
    // hooks run. A hook may itself run aws-rekey (status, another
    // rotation), and a hook that hangs must not hold up every later run.
    drop(lock);

    run_hooks(&runnable, outcomes, &profiles, &args, &ui, &mut results).await;
    report(&results, json, many)
}

/// The targets that can run, each with its MFA session if its profile
/// names a device. Codes are asked for up front, one per device, before
/// anything runs concurrently; one session serves every key of its user. A
/// target whose session could not be had is a result already.
async fn with_sessions(
    targets: Vec<Target>,
    profiles: &Profiles,
    opts: &Options,
    args: &RotateArgs,
    results: &mut Results,
) -> Vec<(Target, Option<Credentials>)> {
    let mut sessions: BTreeMap<String, Option<Credentials>> = BTreeMap::new();
    let mut runnable = Vec::new();
    for t in targets {
        let Some(serial) = t.mfa_serial.clone().filter(|_| !opts.dry_run) else {
            runnable.push((t, None));
            continue;
        };
        match sessions.get(&serial) {
            Some(Some(creds)) => runnable.push((t, Some(creds.clone()))),
            Some(None) => {
                let err = CommandError::Refused(format!(
                    "no MFA session for {serial} (see above); nothing was changed"
                ));
                results.push((t.asked.clone(), Err(err), None));
            }
            None => match get_session(profiles, &t, &serial, args.mfa_code.as_deref()).await {
                Ok(creds) => {
                    sessions.insert(serial, Some(creds.clone()));
                    runnable.push((t, Some(creds)));
                }
                Err(e) => {
                    sessions.insert(serial, None);
                    results.push((t.asked.clone(), Err(e), None));
                }
            },
        }
    }
    runnable
}

/// The refusals, if `plan` (with no pending records, and quietly) finds
/// nothing to rotate (and whether to report them as a table, as `run`
/// would); `None` if there is work to do.
fn refused_without_state(files: &AwsFiles, args: &RotateArgs) -> Option<(Results, bool)> {
    let mut results: Results = Vec::new();
    let asked = asked_names(args);
    let profiles = match Profiles::load(files.clone()) {
        Ok(p) => p,
        Err(e) => {
            let name = asked.first().cloned().unwrap_or_else(|| "default".into());
            results.push((name, Err(e.into()), None));
            return Some((results, false));
        }
    };
    let names = names_to_rotate(&profiles, args.all, asked);
    let many = args.all || names.len() > 1;
    let targets = plan(
        &profiles,
        &names,
        (args.all, &args.also),
        &[],
        &Ui::new(true),
        &mut results,
    );
    targets.is_empty().then_some((results, many))
}

/// The profiles named on the command line (or by AWS_PROFILE); an empty
/// AWS_PROFILE means unset, as in the AWS CLI.
fn asked_names(args: &RotateArgs) -> Vec<String> {
    args.profiles
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect()
}

/// `--all`: every profile; else the ones asked for, or `default`.
fn names_to_rotate(profiles: &Profiles, all: bool, asked: Vec<String>) -> Vec<String> {
    if all {
        profiles.names()
    } else if asked.is_empty() {
        vec!["default".to_string()]
    } else {
        asked
    }
}

/// Resolves each name to the key to rotate: role profiles to their source,
/// several profiles sharing one key to a single rotation.
fn plan(
    profiles: &Profiles,
    names: &[String],
    (all, also): (bool, &[Listed]),
    pending: &[Pending],
    ui: &Ui,
    results: &mut Results,
) -> Vec<Target> {
    // Profiles that held one key before an interrupted rotation may now
    // hold its old or its new key: they are one rotation, finished once.
    let family = |id: &str| -> String {
        pending
            .iter()
            .find(|p| p.involves(id))
            .map_or_else(|| id.to_string(), |p| p.old_key_id.clone())
    };
    let mut targets: Vec<Target> = Vec::new();
    for name in names {
        let resolved = if all {
            // --all: every profile holding a long-lived key itself; role
            // profiles are covered by their sources.
            profiles.resolve(name).map(|p| (p, None))
        } else {
            profiles.resolve_for_rotation(name)
        };
        let (profile, via) = match resolved {
            Ok(r) => r,
            Err(_) if all => continue,
            Err(e) => {
                results.push((name.clone(), Err(e.into()), None));
                continue;
            }
        };
        if let Some(via) = &via {
            ui.step(format!(
                "profile {via} assumes a role; its long-lived key is in profile {}: rotating that",
                profile.name
            ));
        }
        let key_id = match profiles.store(&profile).read() {
            Ok(k) => k.id,
            Err(e) => {
                results.push((name.clone(), Err(e.into()), None));
                continue;
            }
        };
        // Both keys of an interrupted rotation count: a profile in the other
        // store holding either would be broken when the old one is retired.
        let ids = match pending.iter().find(|p| p.involves(&key_id)) {
            Some(p) => std::iter::once(p.old_key_id.clone())
                .chain(p.new_key.as_ref().map(|n| n.id.clone()))
                .collect(),
            None => vec![key_id.clone()],
        };
        if let Some(conflict) = ids.iter().find_map(|id| split_across_stores(profiles, id)) {
            results.push((name.clone(), Err(CommandError::Refused(conflict)), None));
            continue;
        }
        if let Some(first) = targets
            .iter()
            .find(|t| family(&t.key_id) == family(&key_id))
        {
            ui.step(format!(
                "{name}: shares its key with {}; rotated together",
                first.profile.name
            ));
            continue;
        }
        let copies = match copies_of(profiles, &profile, via.as_deref(), &key_id, also) {
            Ok(c) => c,
            Err(e) => {
                results.push((name.clone(), Err(e.into()), None));
                continue;
            }
        };
        let mfa_serial = profiles.mfa_serial(&profile.name, via.as_deref());
        targets.push(Target {
            asked: name.clone(),
            profile,
            via,
            key_id,
            mfa_serial,
            copies,
        });
    }
    targets
}

/// The key's managed copies and where to look for others: every profile
/// holding the key may name some, and so may the role profile it was
/// reached through; `--also` adds to them.
fn copies_of(
    profiles: &Profiles,
    profile: &Profile,
    via: Option<&str>,
    key_id: &str,
    also: &[Listed],
) -> Result<Copies, crate::profile::ProfileError> {
    let mut holders = profiles.store(profile).holders(key_id).unwrap_or_default();
    holders.push(profile.name.clone());
    holders.extend(via.map(str::to_string));
    Copies::gather(profiles, &holders, also)
}

/// A key held both in the credentials file and in the keychain cannot be
/// rotated in one place without breaking the other: say so up front. Only
/// looks into the keychain when some profile uses it.
fn split_across_stores(profiles: &Profiles, key_id: &str) -> Option<String> {
    if profiles.keychain_accounts().is_empty() {
        return None;
    }
    let (mut in_file, mut in_keychain) = (Vec::new(), Vec::new());
    for name in profiles.names() {
        let Ok(profile) = profiles.resolve(&name) else {
            continue;
        };
        if profiles
            .store(&profile)
            .read()
            .is_ok_and(|k| k.id == key_id)
        {
            match profile.store {
                StoreKind::File => in_file.push(name),
                StoreKind::Keychain { .. } => in_keychain.push(name),
            }
        }
    }
    (!in_file.is_empty() && !in_keychain.is_empty()).then(|| {
        format!(
            "the key {} is held both in the credentials file (profiles {}) and in the keychain (profiles {}); rotating it in one place would break the other. Move them to one store first (`aws-rekey move --profile NAME --to keychain|file`); nothing was changed",
            mask(key_id),
            in_file.join(", "),
            in_keychain.join(", ")
        )
    })
}

async fn get_session(
    profiles: &Profiles,
    t: &Target,
    serial: &str,
    given: Option<&str>,
) -> Result<Credentials, CommandError> {
    let code = mfa::code(serial, given)?;
    let key = profiles.store(&t.profile).read()?;
    let sdk = Sdk::for_profile(
        profiles,
        &t.profile.name,
        t.via.as_deref(),
        t.profile.region.as_deref(),
    )
    .await?;
    mfa::session(&sdk, &key, serial, &code).await
}

async fn rotate_one(
    profiles: &Profiles,
    t: &Target,
    session: Option<Credentials>,
    state: &StateLock,
    ui: &Ui,
    opts: &Options,
) -> Result<Outcome, CommandError> {
    let store = profiles.store(&t.profile);
    let key = store.read()?;
    ui.step(format!("rotating {} ({})", t.profile.name, key.masked_id()));
    let mut sdk = Sdk::for_profile(
        profiles,
        &t.profile.name,
        t.via.as_deref(),
        t.profile.region.as_deref(),
    )
    .await?;
    if let Some(session) = session {
        sdk.use_session(session);
    }
    let mut outcome = Rotation {
        // Throttled calls are retried, as IAM throttles bursts.
        api: &Patient::new(&sdk, ui),
        store: store.as_ref(),
        state,
        ui,
        opts,
        profile: &t.profile.name,
        copies: &t.copies,
    }
    .rotate()
    .await?;
    if let Some(via) = &t.via {
        outcome.warnings.push(format!(
            "rotated the key of {} (the source of role profile {via})",
            t.profile.name
        ));
    }
    Ok(outcome)
}

/// Each rotation's result, with its hook's report where one ran (after a
/// real rotation only; never after a dry run, a skip or a failure).
async fn run_hooks(
    runnable: &[(Target, Option<Credentials>)],
    outcomes: Vec<Result<Outcome, CommandError>>,
    profiles: &Profiles,
    args: &RotateArgs,
    ui: &Ui,
    results: &mut Results,
) {
    let mut interrupts = None;
    for ((t, _), outcome) in runnable.iter().zip(outcomes) {
        let hook = match &outcome {
            Ok(o) if !o.dry_run && o.skipped.is_none() => {
                let interrupts = interrupts.get_or_insert_with(hook::Interrupts::catch);
                let exec = (args.exec.as_deref(), args.exec_timeout);
                run_hook(profiles, t, exec, ui, interrupts).await
            }
            _ => None,
        };
        let config = &profiles.files.config;
        let outcome =
            outcome.map_err(|e| mfa::hint(e, &t.profile.name, config, t.mfa_serial.is_some()));
        results.push((t.asked.clone(), outcome, hook));
    }
}

/// The hook for a rotated profile: `--exec`, else its `aws_rekey_exec`.
/// Messages name where the hook was set, never its command line: that may
/// hold a token, and would land in terminal scrollback and CI logs.
async fn run_hook(
    profiles: &Profiles,
    t: &Target,
    (exec, limit): (Option<&str>, std::time::Duration),
    ui: &Ui,
    interrupts: &mut hook::Interrupts,
) -> Option<HookReport> {
    let from_profile = |p: &str| {
        profiles
            .setting(p, hook::SETTING)
            .map(|c| (c.to_owned(), format!("{} of profile {p}", hook::SETTING)))
    };
    let (command, origin) = exec
        .map(|c| (c.to_owned(), "--exec".to_string()))
        .or_else(|| from_profile(&t.profile.name))
        .or_else(|| t.via.as_deref().and_then(from_profile))?;
    // The profile as written now: the key the hook receives is the one the
    // user's tools will read.
    let key = match Profiles::load(profiles.files.clone())
        .map_err(|e| e.to_string())
        .and_then(|p| {
            let profile = p.resolve(&t.profile.name).map_err(|e| e.to_string())?;
            p.store(&profile).read().map_err(|e| e.to_string())
        }) {
        Ok(k) => k,
        Err(e) => {
            return Some(HookReport {
                command,
                ok: false,
                exit_code: None,
                error: Some(format!("could not read the new key: {e}")),
            });
        }
    };
    ui.step(format!("{}: running the hook ({origin})", t.profile.name));
    let report = hook::run(&command, &t.profile.name, &key, limit, interrupts).await;
    if !report.ok {
        ui.warn(format!(
            "{}: the hook ({origin}) failed ({}); the rotation stands",
            t.profile.name,
            report.error.as_deref().unwrap_or("unknown error")
        ));
    }
    Some(report)
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
