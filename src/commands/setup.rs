//! `aws-rekey setup`: onboarding in one non-interactive step. The bootstrap
//! key arrives on stdin (or in the environment, never as an argument), is
//! verified, stored, and rotated at once, so the key that travelled through
//! chat or email is dead within a minute. Idempotent for scripts.

use crate::aws::{KeyApi, Sdk, region_for};
use crate::cli::{OutputFormat, SetupArgs, StoreArg};
use crate::commands::move_key::{install_in_file, install_in_keychain, remove_key, undone};
use crate::commands::refusal;
use crate::exit::Exit;
use crate::ini::FileKind;
use crate::profile::{AwsFiles, ProfileError, Profiles};
use crate::rotation::{Options, RotateError, Rotation};
use crate::secret::{AccessKey, Secret, mask};
use crate::state::{KeyRecord, State};
use crate::store;
use crate::store::file::{self, Edit, edit_file};
use crate::ui::Ui;
use anyhow::Result;
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

pub async fn run(args: SetupArgs) -> Result<Exit> {
    let ui = Ui::new(false);
    let json = args.output == OutputFormat::Json;
    let result = setup(&args, &ui).await;
    match result {
        Ok(done) => {
            if json {
                crate::print_stdout(&serde_json::to_string_pretty(&done)?);
            } else if done.unchanged {
                crate::print_stdout(&format!(
                    "{}: already set up with a working key ({}); nothing changed (use --force to replace it)",
                    done.profile,
                    mask(&done.access_key_id)
                ));
            } else {
                crate::print_stdout(&format!(
                    "{}: set up with {} in the {}{}",
                    done.profile,
                    mask(&done.access_key_id),
                    done.store,
                    if done.rotated {
                        "; the bootstrap key was rotated away"
                    } else {
                        ""
                    }
                ));
            }
            Ok(Exit::Success)
        }
        Err(e) => Ok(super::report_error(&args.profile, &e, json)),
    }
}

async fn setup(args: &SetupArgs, ui: &Ui) -> Result<SetUp, RotateError> {
    let (bootstrap, from_env) = read_bootstrap_key()?;
    let name = args.profile.as_str();
    let files = AwsFiles::from_env().map_err(refusal)?;
    let state = State::open()?;
    let state = state.lock(args.lock_timeout, |m| ui.step(m))?;
    let profiles = Profiles::load(files.clone()).map_err(refusal)?;
    let region = args
        .region
        .clone()
        .or_else(|| profiles.setting(name, "region").map(str::to_owned));
    let sdk = Sdk::new(name, &region_for(region.as_deref())).await;
    let kind = match args.store {
        StoreArg::File => "file",
        StoreArg::Keychain => "keychain",
    };

    // An existing profile: a working key is left alone unless --force; a
    // profile that is not a static-key profile is never overwritten.
    let mut replaced = None;
    match profiles.resolve(name) {
        Ok(profile) => {
            let existing = store::open(&profiles, &profile).read().ok();
            if let Some(existing) = existing.filter(|k| k.id != bootstrap.id) {
                // Only AWS's own word that the key is invalid or inactive
                // makes it dead: a network error, throttling or a 5xx says
                // nothing about the key, and overwriting a working key on
                // such a guess would lose it.
                let works = match sdk.caller_arn(&existing).await {
                    Ok(_) => true,
                    Err(e) if e.rejected() => false,
                    Err(source) => {
                        return Err(RotateError::Aws {
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
                    return Ok(SetUp {
                        profile: name.into(),
                        store: kind,
                        user_arn: None,
                        access_key_id: existing.id,
                        rotated: false,
                        unchanged: true,
                    });
                }
                // Saved before anything is written, working or not: a key
                // AWS rejects now may be inactive, and reactivated later.
                let kept = state.save_replaced(name, &existing)?;
                ui.warn(format!(
                    "replacing the {} key {} of profile {name}; its secret is kept in {}",
                    if works { "working" } else { "rejected" },
                    existing.masked_id(),
                    kept.display()
                ));
                replaced = Some(existing);
            }
        }
        Err(ProfileError::Unknown { .. } | ProfileError::NoKey(_)) => {}
        Err(e) => {
            return Err(RotateError::Refused(format!(
                "{e}; setup will not overwrite it: choose another profile name"
            )));
        }
    }

    // The bootstrap key must work and belong to an IAM user.
    let arn = sdk
        .caller_arn(&bootstrap)
        .await
        .map_err(|source| RotateError::Aws {
            during: "the bootstrap key does not work; nothing was written".into(),
            source,
        })?;
    if !arn.contains(":user/") {
        return Err(RotateError::Refused(format!(
            "the bootstrap key belongs to {arn}, not an IAM user; nothing was written"
        )));
    }
    ui.step(format!(
        "the bootstrap key {} works ({arn})",
        bootstrap.masked_id()
    ));

    let replace = replaced.is_some();
    match args.store {
        StoreArg::File => {
            install_in_file(&files, name, &bootstrap, region.as_deref(), ui, replace).await?
        }
        StoreArg::Keychain => {
            let installed = install_in_keychain(
                &files,
                &profiles,
                name,
                &bootstrap,
                region.as_deref(),
                ui,
                replace,
            )
            .await?;
            // The keychain entry now serves the profile; a key left in the
            // credentials file would win over it (as in the SDKs), and the
            // rotation below would rotate that key instead. If it cannot be
            // taken out, the keychain half is taken back: nothing half-done.
            if replace {
                let cleared = edit_file(&files.credentials, FileKind::Credentials, |doc| {
                    if file::key_in(doc, name).is_none() {
                        return Ok(Edit::Unchanged(()));
                    }
                    remove_key(doc, name)?;
                    Ok(Edit::Write(()))
                });
                if let Err(e) = cleared {
                    let error = RotateError::Other(anyhow::anyhow!(
                        "could not take the old key of profile {name} out of {} ({e}); left there it would shadow the keychain entry, so the keychain entry and the credential_process line were taken back; nothing was changed",
                        files.credentials.display()
                    ));
                    return Err(undone(error, installed.undo(), name));
                }
            }
        }
    }
    if let Some(region) = &args.region {
        write_region(&files, &profiles, name, region)?;
    }

    if args.no_rotate {
        if let Ok(keys) = sdk.list_keys(&bootstrap).await
            && let Some(created) = keys
                .iter()
                .find(|k| k.id == bootstrap.id)
                .and_then(|k| k.created)
        {
            let _ = state.update_book(|b| {
                b.keys.insert(
                    bootstrap.id.clone(),
                    KeyRecord {
                        created,
                        user_arn: arn.clone(),
                        profiles: vec![name.into()],
                    },
                );
            });
        }
        return Ok(SetUp {
            profile: name.into(),
            store: kind,
            user_arn: Some(arn),
            access_key_id: bootstrap.id,
            rotated: false,
            unchanged: false,
        });
    }

    // Rotate at once: the bootstrap key travelled; its successor did not.
    let profiles = Profiles::load(files.clone()).map_err(refusal)?;
    let profile = profiles.resolve(name).map_err(refusal)?;
    let store = store::open(&profiles, &profile);
    let opts = Options {
        keep_old: false,
        dry_run: false,
        verify_timeout: args.verify_timeout,
        older_than: None,
    };
    let outcome = Rotation {
        api: &sdk,
        store: store.as_ref(),
        state: &state,
        ui,
        opts: &opts,
        profile: name,
    }
    .rotate()
    .await?;
    if from_env {
        ui.warn(
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in this environment hold the bootstrap key, which is now deleted: unset them",
        );
    }
    Ok(SetUp {
        profile: name.into(),
        store: kind,
        user_arn: Some(arn),
        access_key_id: outcome.new_key_id.unwrap_or_default(),
        rotated: true,
        unchanged: false,
    })
}

fn write_region(
    files: &AwsFiles,
    profiles: &Profiles,
    name: &str,
    region: &str,
) -> Result<(), RotateError> {
    let section = profiles.config_section_or_new(name);
    edit_file(&files.config, FileKind::Config, |doc| {
        if doc.get(&section, "region") == Some(region) {
            return Ok(Edit::Unchanged(()));
        }
        if doc.has_section(&section) {
            file::set(doc, &files.config, &section, "region", region)?;
        } else {
            doc.append_section(&section, &[("region", region)])
                .map_err(|e| crate::store::StoreError::Io {
                    what: format!("could not add [{section}] to {}", files.config.display()),
                    source: std::io::Error::other(e.to_string()),
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
fn read_bootstrap_key() -> Result<(AccessKey, bool), RotateError> {
    // Holds the secret: sized so that reading rarely reallocates, and wiped
    // on drop.
    let mut text = zeroize::Zeroizing::new(String::with_capacity(4096));
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        stdin
            .lock()
            .read_to_string(&mut text)
            .map_err(|e| RotateError::Refused(format!("could not read stdin: {e}")))?;
    }
    if !text.trim().is_empty() {
        return parse_bootstrap(text.as_str())
            .map(|k| (k, false))
            .map_err(RotateError::Refused);
    }
    let env = |v: &str| std::env::var(v).ok().filter(|s| !s.is_empty());
    match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => {
            if env("AWS_SESSION_TOKEN").is_some() {
                return Err(RotateError::Refused(
                    "AWS_SESSION_TOKEN is set: these are temporary credentials; setup needs a long-lived access key".into(),
                ));
            }
            check_id(&id).map_err(RotateError::Refused)?;
            Ok((AccessKey::new(id, Secret::new(secret)), true))
        }
        _ => Err(RotateError::Refused(
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
