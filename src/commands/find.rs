//! `aws-rekey find [PATH...]`: which files hold a copy of a profile's key.
//! Gathers the long-lived keys from both stores, hands them to
//! `copies::search`, and prints the hits: never a secret, key ids masked
//! in text.

use crate::cli::{FindArgs, OutputFormat};
use crate::copies::{self, Options, Report, Wanted, skip::Rules};
use crate::exit::Exit;
use crate::profile::{AwsFiles, Profiles, StoreKind};
use crate::secret::{Secret, mask};
use crate::state::State;
use crate::store::{StoreError, file::holding};
use crate::ui::Ui;
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A key to look for, and every profile holding it.
struct Key {
    id: String,
    secret: Option<Secret>,
    profiles: Vec<String>,
    store: &'static str,
}

#[derive(Serialize)]
struct Doc {
    paths: Vec<String>,
    keys: Vec<KeyJson>,
    hits: Vec<HitJson>,
    files_searched: u64,
    skipped: SkippedJson,
    unreadable: u64,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct KeyJson {
    access_key_id: String,
    profiles: Vec<String>,
    store: &'static str,
    secret_known: bool,
}

#[derive(Serialize)]
struct HitJson {
    path: String,
    line: usize,
    access_key_id: String,
    profiles: Vec<String>,
    /// `null` when the key's secret is not known (a keychain that could
    /// not be opened).
    secret_in_file: Option<bool>,
}

#[derive(Serialize)]
struct SkippedJson {
    binary: u64,
    too_large: u64,
}

pub fn run(args: FindArgs) -> Exit {
    let json = args.output == OutputFormat::Json;
    match find(&args) {
        Ok(()) => Exit::Success,
        Err(e) => {
            if json {
                crate::ui::print_stdout(
                    &serde_json::json!({"error": format!("{e:#}"), "exit_code": Exit::Failure as u8})
                        .to_string(),
                );
            }
            eprintln!("aws-rekey: {e:#}");
            Exit::Failure
        }
    }
}

fn find(args: &FindArgs) -> Result<()> {
    let ui = Ui::new(false);
    let files = AwsFiles::from_env()?;
    let home = dirs::home_dir();
    // aws-rekey's own files hold the keys by design; they are not copies.
    let mut own = vec![files.credentials.clone(), files.config.clone()];
    if let Ok(state) = State::locate() {
        own.push(state.dir().to_path_buf());
    }
    let profiles = Profiles::load(files)?;
    let mut warnings = Vec::new();
    let keys = keys(&profiles, &args.profiles, &mut warnings)?;

    let roots: Vec<PathBuf> = if args.paths.is_empty() {
        vec![
            home.clone()
                .context("no home folder found; name the folders to search")?,
        ]
    } else {
        args.paths.clone()
    };
    for root in &roots {
        std::fs::metadata(root)
            .with_context(|| format!("cannot search {}", printed(root, &keys)))?;
    }
    if keys.is_empty() {
        warnings.push("no profile with a long-lived access key: nothing to look for".into());
    }

    let wanted: Vec<Wanted> = keys
        .iter()
        .map(|k| Wanted {
            id: k.id.clone(),
            secret: k.secret.clone(),
        })
        .collect();
    let options = Options {
        skip: if args.include_all {
            Rules::none()
        } else {
            Rules::standard(home.as_deref())
        },
        exclude: own,
        threads: 0,
    };
    let spinner = ui.spinner("searching");
    let report = copies::search(&wanted, &roots, &options)?;
    spinner.finish_and_clear();
    warnings.extend(report_warnings(&report, &keys));

    if args.output == OutputFormat::Json {
        crate::ui::print_json(&document(&keys, &roots, &report, warnings));
        return Ok(());
    }
    for w in &warnings {
        ui.warn(w);
    }
    crate::ui::print_stdout(&table(&keys, &report));
    let mut skipped = Vec::new();
    if report.binary > 0 {
        skipped.push(format!("{} binary", report.binary));
    }
    if report.too_large > 0 {
        skipped.push(format!(
            "{} over {} MiB",
            report.too_large,
            copies::skip::MAX_FILE_SIZE >> 20
        ));
    }
    ui.step(format!(
        "searched {} files{}",
        report.files,
        if skipped.is_empty() {
            String::new()
        } else {
            format!(" (skipped: {})", skipped.join(", "))
        }
    ));
    Ok(())
}

/// The keys of the named profiles (a role profile leads to the key its
/// source chain ends in, as for `rotate`), or of every profile with a
/// long-lived key.
fn keys(profiles: &Profiles, named: &[String], warnings: &mut Vec<String>) -> Result<Vec<Key>> {
    let every = named.is_empty();
    let names = if every {
        profiles.names()
    } else {
        named.to_vec()
    };
    let mut keys: Vec<Key> = Vec::new();
    // Once the keychain has failed it is not asked again (each attempt can
    // take a D-Bus timeout); the key book tells which id each keychain
    // profile held at its last rotation or status.
    let mut keychain_down: Option<String> = None;
    let mut remembered: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let book = || {
        State::existing()
            .ok()
            .flatten()
            .and_then(|s| s.book().ok())
            .unwrap_or_default()
    };
    for name in &names {
        let resolved = if every {
            profiles.resolve(name)
        } else {
            profiles.resolve_for_rotation(name).map(|(p, _)| p)
        };
        let profile = match resolved {
            Ok(p) => p,
            // Profiles without a long-lived key are not this command's
            // business unless named.
            Err(_) if every => continue,
            Err(e) => return Err(e.into()),
        };
        let kind = match profile.store {
            StoreKind::File => "file",
            StoreKind::Keychain { .. } => "keychain",
        };
        let read = match (&profile.store, &keychain_down) {
            (StoreKind::Keychain { .. }, Some(why)) => Err(StoreError::Unavailable(why.clone())),
            _ => profiles.store(&profile).read(),
        };
        let (id, secret) = match read {
            Ok(key) => (key.id, Some(key.secret)),
            Err(StoreError::Unavailable(why)) => {
                keychain_down.get_or_insert(why);
                let known = book()
                    .keys
                    .into_iter()
                    .find(|(_, r)| r.profiles.contains(&profile.name))
                    .map(|(id, _)| id);
                match known {
                    Some(id) => {
                        remembered.push(profile.name.clone());
                        (id, None)
                    }
                    None if every => {
                        unknown.push(profile.name.clone());
                        continue;
                    }
                    None => bail!(
                        "profile '{name}': the keychain could not be opened ({}), and aws-rekey does not know which key the profile holds; unlock the keychain and re-run",
                        keychain_down.as_deref().unwrap_or_default()
                    ),
                }
            }
            Err(e) if every => {
                warnings.push(format!("profile '{name}': {e}; its key is not looked for"));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        add(&mut keys, id, secret, name, kind);
    }
    // Every profile holding a key is named on its hits, not only the ones
    // asked about.
    for key in &mut keys {
        for holder in holding(&profiles.credentials, &key.id) {
            if !key.profiles.contains(&holder) {
                key.profiles.push(holder);
            }
        }
    }
    if let Some(why) = keychain_down {
        warnings.push(keychain_warning(&why, &remembered, &unknown));
    }
    Ok(keys)
}

/// One more profile holding `id`: a new key to look for, or another holder
/// of one already listed.
fn add(keys: &mut Vec<Key>, id: String, secret: Option<Secret>, name: &str, store: &'static str) {
    match keys.iter_mut().find(|k| k.id == id) {
        Some(k) => {
            k.profiles.push(name.to_string());
            // One store with the secret is enough to look for it.
            if k.secret.is_none() {
                k.secret = secret;
            }
        }
        None => keys.push(Key {
            id,
            secret,
            profiles: vec![name.to_string()],
            store,
        }),
    }
}

/// The one warning about a keychain that could not be opened: what is
/// looked for without its secret, and what not at all.
fn keychain_warning(why: &str, remembered: &[String], unknown: &[String]) -> String {
    let mut w = format!("the keychain could not be opened ({why})");
    if !remembered.is_empty() {
        w.push_str(&format!(
            "; looking for the key id aws-rekey remembers for {} without the secret (its SECRET IN FILE is `unknown`)",
            profile_list(remembered)
        ));
    }
    if !unknown.is_empty() {
        w.push_str(&format!(
            "; the key of {} is unknown and not looked for",
            profile_list(unknown)
        ));
    }
    w
}

fn profile_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    format!(
        "{} {}",
        if names.len() == 1 {
            "profile"
        } else {
            "profiles"
        },
        quoted.join(", ")
    )
}

/// What the search could not do, said once each.
fn report_warnings(report: &Report, keys: &[Key]) -> Vec<String> {
    let mut out = Vec::new();
    if report.unreadable > 0 {
        out.push(format!(
            "{} {} could not be read (permission denied or an I/O error) and {} not searched",
            report.unreadable,
            if report.unreadable == 1 {
                "file or folder"
            } else {
                "files or folders"
            },
            if report.unreadable == 1 {
                "was"
            } else {
                "were"
            }
        ));
    }
    for path in &report.own {
        out.push(format!(
            "{} is aws-rekey's own file (it keeps the key there): not searched",
            shown(path, keys)
        ));
    }
    for path in &report.missing {
        out.push(format!(
            "{} disappeared during the search",
            shown(path, keys)
        ));
    }
    out
}

fn document(keys: &[Key], roots: &[PathBuf], report: &Report, warnings: Vec<String>) -> Doc {
    Doc {
        paths: roots.iter().map(|p| printed(p, keys)).collect(),
        keys: keys
            .iter()
            .map(|k| KeyJson {
                access_key_id: k.id.clone(),
                profiles: k.profiles.clone(),
                store: k.store,
                secret_known: k.secret.is_some(),
            })
            .collect(),
        hits: report
            .hits
            .iter()
            .map(|h| HitJson {
                path: printed(&h.path, keys),
                line: h.line,
                access_key_id: keys[h.key].id.clone(),
                profiles: keys[h.key].profiles.clone(),
                secret_in_file: h.secret_in_file,
            })
            .collect(),
        files_searched: report.files,
        skipped: SkippedJson {
            binary: report.binary,
            too_large: report.too_large,
        },
        unreadable: report.unreadable,
        warnings,
    }
}

fn table(keys: &[Key], report: &Report) -> String {
    if report.hits.is_empty() {
        return "no file holds the key id of these profiles".into();
    }
    let mut lines = vec![
        ["FILE:LINE", "KEY", "PROFILES", "SECRET IN FILE"]
            .map(String::from)
            .to_vec(),
    ];
    for h in &report.hits {
        let key = &keys[h.key];
        lines.push(vec![
            format!("{}:{}", shown(&h.path, keys), h.line),
            mask(&key.id),
            key.profiles.join(", "),
            match h.secret_in_file {
                Some(true) => "yes",
                Some(false) => "no",
                None => "unknown",
            }
            .into(),
        ]);
    }
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    lines
        .iter()
        .map(|l| {
            l.iter()
                .enumerate()
                .map(|(i, cell)| {
                    if i + 1 == l.len() {
                        cell.clone()
                    } else {
                        format!("{cell}{}", " ".repeat(widths[i] - cell.chars().count()))
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A path as printed: a secret inside it (folders named after the
/// characters of one, however unlikely) replaced, so that no output ever
/// holds a secret.
fn printed(path: &Path, keys: &[Key]) -> String {
    let mut text = path.to_string_lossy().into_owned();
    for secret in keys.iter().filter_map(|k| k.secret.as_ref()) {
        if !secret.expose().is_empty() && text.contains(secret.expose()) {
            text = text.replace(secret.expose(), "[secret]");
        }
    }
    text
}

/// A path for a line of text: control characters (a newline in a file
/// name) escaped, so one hit is always one line.
fn shown(path: &Path, keys: &[Key]) -> String {
    printed(path, keys)
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_cannot_forge_a_line() {
        assert_eq!(
            shown(Path::new("a\nb.env:1  AKIA…FAKE"), &[]),
            "a\\nb.env:1  AKIA…FAKE"
        );
    }
}
