//! `aws-rekey setup`: onboarding in one non-interactive step. The bootstrap
//! key arrives on stdin (or in the environment, never as an argument), is
//! verified, stored, and rotated at once, so the key that travelled through
//! chat or email is dead within a minute. Idempotent for scripts.

use crate::aws::{KeyApi, Sdk};
use crate::cli::{OutputFormat, SetupArgs, StoreArg};
use crate::error::CommandError;
use crate::exit::Exit;
use crate::ini::FileKind;
use crate::install::{install_in_file, install_in_keychain, remove_key, undone};
use crate::preamble::Preamble;
use crate::profile::{AwsFiles, ProfileError, Profiles};
use crate::rotation::{Copies, Options, Rotation};
use crate::secret::{AccessKey, Secret, mask};
use crate::state::{KeyRecord, StateLock};
use crate::store::file::{self, Edit, edit_file};
use crate::ui::Ui;
use serde::Serialize;
use std::io::{IsTerminal, Read};

#[derive(Serialize)]
struct SetUp {
    profile: String,
    store: &'static str,
    user_arn: Option<String>,
    access_key_id: String,
    /// The bootstrap key was rotated away (and is now deleted).
    rotated: bool,
    /// The profile already had a working key and was left alone.
    unchanged: bool,
}

pub async fn run(args: SetupArgs) -> Result<Exit, CommandError> {
    let ui = Ui::new(false);
    let json = args.output == OutputFormat::Json;
    let result = setup(&args, &ui).await;
    Ok(crate::report::one(&args.profile, result, json, |done| {
        if done.unchanged {
            format!(
                "{}: already set up with a working key ({}); nothing changed (use --force to replace it)",
                done.profile,
                mask(&done.access_key_id)
            )
        } else {
            format!(
                "{}: set up with {} in the {}{}",
                done.profile,
                mask(&done.access_key_id),
                done.store,
                if done.rotated {
                    "; the bootstrap key was rotated away"
                } else {
                    ""
                }
            )
        }
    }))
}

async fn setup(args: &SetupArgs, ui: &Ui) -> Result<SetUp, CommandError> {
    let (bootstrap, from_env) = read_bootstrap_key()?;
    let name = args.profile.as_str();
    let p = Preamble::open(args.lock_timeout, ui)?;
    let region = args
        .region
        .clone()
        .or_else(|| p.profiles.setting(name, "region").map(str::to_owned));
    let sdk = Sdk::for_profile(&p.profiles, name, None, region.as_deref()).await?;
    let done = |access_key_id: String, user_arn, rotated, unchanged| SetUp {
        profile: name.into(),
        store: match args.store {
            StoreArg::File => "file",
            StoreArg::Keychain => "keychain",
        },
        user_arn,
        access_key_id,
        rotated,
        unchanged,
    };

    let replaced = match existing_key(args, &p, &sdk, &bootstrap, ui).await? {
        Existing::Working(key) => return Ok(done(key.id, None, false, true)),
        Existing::Replaced(key) => key,
    };
    let arn = check_bootstrap(&sdk, &bootstrap, ui).await?;
    install(
        args,
        &p,
        &bootstrap,
        region.as_deref(),
        ui,
        replaced.is_some(),
    )
    .await?;
    if let Some(region) = &args.region {
        write_region(&p.files, &p.profiles, name, region)?;
    }
    if args.no_rotate {
        record_age(&sdk, &p.state, &bootstrap, &arn, name).await;
        return Ok(done(bootstrap.id, Some(arn), false, false));
    }
    let new_id = rotate_away(args, &p, &sdk, ui).await?;
    if from_env {
        ui.warn(
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in this environment hold the bootstrap key, which is now deleted: unset them",
        );
    }
    Ok(done(new_id, Some(arn), true, false))
}

/// What the profile holds before setup writes anything.
enum Existing {
    /// A working key, left alone (no --force).
    Working(AccessKey),
    /// Nothing to keep, or a key to replace, whose secret is saved first.
    Replaced(Option<AccessKey>),
}

/// An existing profile: a working key is left alone unless --force; a
/// profile that is not a static-key profile is never overwritten.
async fn existing_key(
    args: &SetupArgs,
    p: &Preamble,
    sdk: &Sdk,
    bootstrap: &AccessKey,
    ui: &Ui,
) -> Result<Existing, CommandError> {
    let name = args.profile.as_str();
    let profile = match p.profiles.resolve(name) {
        Ok(profile) => profile,
        Err(ProfileError::Unknown { .. } | ProfileError::NoKey(_)) => {
            return Ok(Existing::Replaced(None));
        }
        Err(e) => {
            return Err(CommandError::Refused(format!(
                "{e}; setup will not overwrite it: choose another profile name"
            )));
        }
    };
    let Some(existing) = p
        .profiles
        .store(&profile)
        .read()
        .ok()
        .filter(|k| k.id != bootstrap.id)
    else {
        return Ok(Existing::Replaced(None));
    };
    // Only AWS's own word that the key is invalid or inactive makes it
    // dead: a network error, throttling or a 5xx says nothing about the
    // key, and overwriting a working key on such a guess would lose it.
    let works = match sdk.caller_arn(&existing).await {
        Ok(_) => true,
        Err(e) if e.rejected() => false,
        Err(source) => {
            return Err(CommandError::Aws {
                during: format!(
                    "could not check whether profile {name}'s key {} still works, so setup changed nothing; re-run when AWS answers",
                    existing.masked_id()
                ),
                source,
            });
        }
    };
    if works && !args.force {
        ui.step(format!(
            "profile {name} already has a working key ({}); leaving it alone",
            existing.masked_id()
        ));
        return Ok(Existing::Working(existing));
    }
    // Saved before anything is written, working or not: a key AWS rejects
    // now may be inactive, and reactivated later.
    let kept = p.state.save_replaced(name, &existing)?;
    ui.warn(format!(
        "replacing the {} key {} of profile {name}; its secret is kept in {}",
        if works { "working" } else { "rejected" },
        existing.masked_id(),
        kept.display()
    ));
    Ok(Existing::Replaced(Some(existing)))
}

/// The bootstrap key must work and belong to an IAM user: its ARN.
async fn check_bootstrap(
    sdk: &Sdk,
    bootstrap: &AccessKey,
    ui: &Ui,
) -> Result<String, CommandError> {
    let arn = sdk
        .caller_arn(bootstrap)
        .await
        .map_err(|source| CommandError::Aws {
            // Only AWS's answer says the key is bad: a proxy or TLS failure
            // says nothing about it.
            during: if source.rejected() {
                "the bootstrap key does not work; nothing was written".into()
            } else {
                "could not check the bootstrap key; nothing was written".into()
            },
            source,
        })?;
    if !arn.contains(":user/") {
        return Err(CommandError::Refused(format!(
            "the bootstrap key belongs to {arn}, not an IAM user; nothing was written"
        )));
    }
    ui.step(format!(
        "the bootstrap key {} works ({arn})",
        bootstrap.masked_id()
    ));
    Ok(arn)
}

/// Puts the bootstrap key in its store, verified, or changes nothing.
async fn install(
    args: &SetupArgs,
    p: &Preamble,
    bootstrap: &AccessKey,
    region: Option<&str>,
    ui: &Ui,
    replace: bool,
) -> Result<(), CommandError> {
    let (files, name) = (&p.files, args.profile.as_str());
    if args.store == StoreArg::File {
        return install_in_file(files, name, bootstrap, region, ui, replace).await;
    }
    let installed =
        install_in_keychain(files, &p.profiles, name, bootstrap, region, ui, replace).await?;
    // The keychain entry now serves the profile; a key left in the
    // credentials file would win over it (as in the SDKs), and the rotation
    // would rotate that key instead. If it cannot be taken out, the keychain
    // half is taken back: nothing half-done.
    if !replace {
        return Ok(());
    }
    let cleared = edit_file(&files.credentials, FileKind::Credentials, |doc| {
        if file::key_in(doc, name).is_none() {
            return Ok(Edit::Unchanged(()));
        }
        remove_key(doc, name)?;
        Ok(Edit::Write(()))
    });
    if let Err(e) = cleared {
        let error = CommandError::Other(anyhow::anyhow!(
            "could not take the old key of profile {name} out of {} ({e}); left there it would shadow the keychain entry, so the keychain entry and the credential_process line were taken back; nothing was changed",
            files.credentials.display()
        ));
        return Err(undone(error, installed.undo(), name));
    }
    Ok(())
}

/// `--no-rotate`: the key's creation date goes into the key book, for
/// `check`. Best effort: `status` can learn it again.
async fn record_age(sdk: &Sdk, state: &StateLock, key: &AccessKey, arn: &str, name: &str) {
    if let Ok(keys) = sdk.list_keys(key).await
        && let Some(created) = keys.iter().find(|k| k.id == key.id).and_then(|k| k.created)
    {
        let _ = state.update_book(|b| {
            b.keys.insert(
                key.id.clone(),
                KeyRecord {
                    created,
                    user_arn: arn.to_string(),
                    profiles: vec![name.into()],
                },
            );
        });
    }
}

/// Rotates at once: the bootstrap key travelled; its successor did not.
/// The new key's id.
async fn rotate_away(
    args: &SetupArgs,
    p: &Preamble,
    sdk: &Sdk,
    ui: &Ui,
) -> Result<String, CommandError> {
    let name = args.profile.as_str();
    let profiles = Profiles::load(p.files.clone())?;
    let profile = profiles.resolve(name)?;
    let store = profiles.store(&profile);
    let opts = Options {
        keep_old: false,
        dry_run: false,
        verify_timeout: args.verify_timeout,
        older_than: None,
    };
    let copies = Copies::gather(&profiles, &[name.to_string()], &[])?;
    let outcome = Rotation {
        api: sdk,
        store: store.as_ref(),
        state: &p.state,
        ui,
        opts: &opts,
        profile: name,
        copies: &copies,
    }
    .rotate()
    .await?;
    Ok(outcome.new_key_id.unwrap_or_default())
}

fn write_region(
    files: &AwsFiles,
    profiles: &Profiles,
    name: &str,
    region: &str,
) -> Result<(), CommandError> {
    let section = profiles.config_section_or_new(name);
    edit_file(&files.config, FileKind::Config, |doc| {
        if doc.get(&section, "region") == Some(region) {
            return Ok(Edit::Unchanged(()));
        }
        if doc.has_section(&section) {
            file::set(doc, &files.config, &section, "region", region)?;
        } else {
            doc.append_section(&section, &[("region", region)])
                .map_err(|error| crate::store::StoreError::Edit {
                    what: format!("could not add [{section}] to {}", files.config.display()),
                    error,
                })?;
        }
        Ok(Edit::Write(()))
    })?;
    Ok(())
}

/// The bootstrap key: stdin first (the JSON of `aws iam create-access-key`,
/// or two lines: key id, then secret), else AWS_ACCESS_KEY_ID and
/// AWS_SECRET_ACCESS_KEY. Never a command-line argument, where it would show
/// in `ps` and shell history. The bool says it came from the environment.
fn read_bootstrap_key() -> Result<(AccessKey, bool), CommandError> {
    // Holds the secret: sized so that reading rarely reallocates, and wiped
    // on drop.
    let mut text = zeroize::Zeroizing::new(String::with_capacity(4096));
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        stdin
            .lock()
            .read_to_string(&mut text)
            .map_err(|e| CommandError::Refused(format!("could not read stdin: {e}")))?;
    }
    if !text.trim().is_empty() {
        return parse_bootstrap(text.as_str())
            .map(|k| (k, false))
            .map_err(CommandError::Refused);
    }
    let env = |v: &str| std::env::var(v).ok().filter(|s| !s.is_empty());
    match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => {
            if env("AWS_SESSION_TOKEN").is_some() {
                return Err(CommandError::Refused(
                    "AWS_SESSION_TOKEN is set: these are temporary credentials; setup needs a long-lived access key".into(),
                ));
            }
            check_id(&id).map_err(CommandError::Refused)?;
            Ok((AccessKey::new(id, Secret::new(secret)), true))
        }
        _ => Err(CommandError::Refused(
            "no bootstrap key: pipe the JSON printed by `aws iam create-access-key` (or two lines: the key id, then the secret) into `aws-rekey setup`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
        )),
    }
}

/// Parses the bootstrap key. Errors never quote the input: it holds a secret.
fn parse_bootstrap(text: &str) -> Result<AccessKey, String> {
    let text = text.trim();
    // Typed, not a serde_json::Value: the secret goes straight into a
    // `Secret` (wiped on drop) instead of a copy in a tree of values.
    #[derive(serde::Deserialize)]
    struct Fields {
        #[serde(rename = "AccessKeyId")]
        id: Option<String>,
        #[serde(rename = "SecretAccessKey")]
        secret: Option<Secret>,
    }
    /// `aws iam create-access-key` output wraps the fields; a hand-written
    /// document may not. (Two typed passes rather than `#[serde(flatten)]`,
    /// which would buffer the secret in serde's untyped content.)
    #[derive(serde::Deserialize)]
    struct Wrapped {
        #[serde(rename = "AccessKey")]
        wrapped: Option<Fields>,
    }
    let (id, secret) = if text.starts_with('{') {
        let missing = || {
            "the JSON on stdin has no AccessKey.AccessKeyId and AccessKey.SecretAccessKey; expected the output of `aws iam create-access-key`".to_string()
        };
        let broken = |e: serde_json::Error| {
            if e.is_data() {
                return missing();
            }
            format!(
                "stdin is not valid JSON (line {}, column {}); expected the output of `aws iam create-access-key`",
                e.line(),
                e.column()
            )
        };
        let fields = match serde_json::from_str::<Wrapped>(text).map_err(broken)? {
            Wrapped {
                wrapped: Some(fields),
            } => fields,
            Wrapped { wrapped: None } => serde_json::from_str::<Fields>(text).map_err(broken)?,
        };
        match fields {
            Fields {
                id: Some(id),
                secret: Some(secret),
            } => (id, secret),
            _ => return Err(missing()),
        }
    } else {
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        match lines.as_slice() {
            [id, secret] => (id.to_string(), Secret::new(*secret)),
            _ => {
                return Err(format!(
                    "expected two lines on stdin (the key id, then the secret), found {}",
                    lines.len()
                ));
            }
        }
    };
    check_id(&id)?;
    if secret.expose().is_empty() || secret.expose().chars().any(char::is_whitespace) {
        return Err("the secret access key is empty or contains spaces".into());
    }
    Ok(AccessKey::new(id, secret))
}

fn check_id(id: &str) -> Result<(), String> {
    if id.starts_with("ASIA") {
        return Err(
            "that is a temporary key (ASIA…); setup needs a long-lived access key (AKIA…)".into(),
        );
    }
    if id.len() < 16 || id.len() > 128 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(
            "the access key id does not look like one (AKIA followed by letters and digits)".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_create_access_key_json() {
        let k = parse_bootstrap(
            r#"{"AccessKey": {"UserName": "u", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "Status": "Active", "SecretAccessKey": "wJalr/K7MDENG+bPxRfiCYEXAMPLEKEY", "CreateDate": "x"}}"#,
        )
        .unwrap();
        assert_eq!(k.id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(k.secret.expose(), "wJalr/K7MDENG+bPxRfiCYEXAMPLEKEY");
    }

    #[test]
    fn reads_an_unwrapped_document_too() {
        let k = parse_bootstrap(
            r#"{"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "wJalr/K7MDENG"}"#,
        )
        .unwrap();
        assert_eq!(k.id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(k.secret.expose(), "wJalr/K7MDENG");
    }

    #[test]
    fn reads_two_lines() {
        let k = parse_bootstrap("\n AKIAIOSFODNN7EXAMPLE \nsecret/value\n").unwrap();
        assert_eq!(k.id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(k.secret.expose(), "secret/value");
    }

    #[test]
    fn refuses_bad_input_without_quoting_it() {
        for bad in [
            "{not json wJalrSECRET",
            r#"{"AccessKey": {"AccessKeyId": "AKIAIOSFODNN7EXAMPLE"}}"#,
            "AKIAIOSFODNN7EXAMPLE",
            "AKIAIOSFODNN7EXAMPLE\nwJalrSECRET\nextra",
            "ASIAIOSFODNN7EXAMPLE\nwJalrSECRET",
            "short\nwJalrSECRET",
            "AKIAIOSFODNN7EXAMPLE\nwJalr SECRET",
        ] {
            let err = parse_bootstrap(bad).unwrap_err();
            assert!(!err.contains("wJalr"), "{err}");
        }
    }
}
