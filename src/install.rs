//! Putting a key into its place and proving it works there, undone on any
//! failure: the keychain entry with the profile's `credential_process`
//! line, or the profile in the credentials file. `move` and `setup` are
//! thin drivers over these.

use crate::aws::{KeyApi, Sdk};
use crate::error::CommandError;
use crate::ini::{Document, FileKind};
use crate::profile::{
    self, AwsFiles, Profiles, credential_process_line, keychain_account, line_word_problem,
    split_command,
};
use crate::secret::AccessKey;
use crate::store::file::{self, Edit, FileStore, ID, SECRET, edit_file, key_in};
use crate::store::keychain::{KeychainStore, OsKeychain, SERVICE};
use crate::store::{Store, StoreError};
use crate::ui::Ui;
use anyhow::Context;
use std::path::Path;

/// What `install_in_keychain` did, so that a caller whose next step fails
/// can take it back.
pub struct KeychainInstall {
    keychain: KeychainStore<OsKeychain>,
    entry: Entry,
    /// What was done to the `credential_process` line.
    line: LineChange,
    config: std::path::PathBuf,
    section: String,
}

impl KeychainInstall {
    /// Removes the line it added, and gives the entry back what it held.
    pub fn undo(&self) -> Result<(), StoreError> {
        match &self.line {
            LineChange::Kept => {}
            LineChange::Added => {
                remove_setting(&self.config, &self.section, "credential_process")?;
            }
            LineChange::Replaced(old) => {
                edit_file(&self.config, FileKind::Config, |doc| {
                    file::set(doc, &self.config, &self.section, "credential_process", old)?;
                    Ok(Edit::Write(()))
                })?;
            }
        }
        match &self.entry {
            Entry::Kept => Ok(()),
            Entry::Created => self.keychain.delete(),
            Entry::Overwrote(previous) => self.keychain.write(previous),
        }
    }
}

/// Puts `key` in the keychain entry `name` and points the profile's
/// `credential_process` at it, then verifies through that very line. On any
/// failure, both are undone. `replace` allows overwriting an entry that
/// holds another key.
pub async fn install_in_keychain(
    files: &AwsFiles,
    profiles: &Profiles,
    name: &str,
    key: &AccessKey,
    region: Option<&str>,
    ui: &Ui,
    replace: bool,
) -> Result<KeychainInstall, CommandError> {
    let (exe, line) = settled_line(name)?;
    let exe_path = exe.display().to_string();
    let keychain = store_for(profiles, name);
    let entry = write_entry(&keychain, name, key, replace)?;
    let section = profiles.config_section_or_new(name);
    let mut installed = KeychainInstall {
        keychain,
        entry,
        line: LineChange::Kept,
        config: files.config.clone(),
        section: section.clone(),
    };
    ui.step(format!(
        "stored {} in the keychain ({SERVICE}/{name})",
        key.masked_id()
    ));

    let change = set_line(&files.config, &section, &line, name);
    installed.line = match change {
        Ok(c) => c,
        Err(e) => return Err(undone(e.into(), installed.undo(), name)),
    };
    ui.step(format!(
        "set credential_process for [{section}] in {}",
        files.config.display()
    ));

    // The line as the config file now holds it is what the SDKs will run.
    let written = read_setting(&files.config, &section, "credential_process");
    let verified = match written {
        Some(written) => verify_process(files, &written, &exe_path, key, name, region).await,
        None => Err(CommandError::Refused(format!(
            "the credential_process line did not read back from {}; nothing was changed",
            files.config.display()
        ))),
    };
    if let Err(e) = verified {
        return Err(undone(e, installed.undo(), name));
    }
    ui.step("verified the key through credential_process");
    Ok(installed)
}

/// aws-rekey's own path and the `credential_process` line for entry
/// `name`, settled before anything is written: a path or name that cannot
/// be quoted safely on this platform is refused here.
fn settled_line(name: &str) -> Result<(std::path::PathBuf, String), CommandError> {
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .context("could not find aws-rekey's own path for the credential_process line")?;
    let exe_path = exe.display().to_string();
    for (what, word) in [
        ("aws-rekey's path", exe_path.as_str()),
        ("the profile name", name),
    ] {
        if let Some(problem) = line_word_problem(word) {
            return Err(CommandError::Refused(format!(
                "{what} contains {problem}, so it cannot go into a credential_process line safely; nothing was changed"
            )));
        }
    }
    let line = credential_process_line(&exe, name);
    // aws-rekey finds its keychain profiles by this line: one it would not
    // recognise (the binary renamed by a wrapper, say) would strand the key.
    if keychain_account(&line).as_deref() != Some(name) {
        return Err(CommandError::Refused(format!(
            "aws-rekey runs as {exe_path}, a name it would not recognise in a credential_process line later; run it as `aws-rekey` (the binary's own name) for this move; nothing was changed"
        )));
    }
    Ok((exe, line))
}

/// Writes `key` into the entry, and says what the entry held before, for
/// the undo: an entry that was overwritten (setup --force) gets its key
/// back, a new one is deleted.
fn write_entry(
    keychain: &KeychainStore<OsKeychain>,
    name: &str,
    key: &AccessKey,
    replace: bool,
) -> Result<Entry, CommandError> {
    Ok(match keychain.read() {
        Ok(existing) if existing.id == key.id => Entry::Kept,
        Ok(existing) if !replace => {
            return Err(CommandError::Refused(format!(
                "the keychain entry {SERVICE}/{name} already holds another key ({}); delete it in your keychain app, or `aws-rekey move --profile {name} --to file` if a profile uses it",
                existing.masked_id()
            )));
        }
        Ok(existing) => {
            keychain.write(key)?;
            Entry::Overwrote(existing)
        }
        Err(StoreError::NotFound(_)) => {
            keychain.write(key)?;
            Entry::Created
        }
        Err(e) => return Err(e.into()),
    })
}

/// Points `[section]` of the config file at the entry, and says what it
/// did to the line that was there.
fn set_line(
    config: &Path,
    section: &str,
    line: &str,
    name: &str,
) -> Result<LineChange, StoreError> {
    edit_file(config, FileKind::Config, |doc| {
        match doc.get(section, "credential_process") {
            Some(v) if v == line => Ok(Edit::Unchanged(LineChange::Kept)),
            // An earlier version's line for this entry may be quoted in a way
            // a shell does not respect: rewritten in today's form.
            Some(v) if keychain_account(v).as_deref() == Some(name) => {
                let old = v.to_string();
                file::set(doc, config, section, "credential_process", line)?;
                Ok(Edit::Write(LineChange::Replaced(old)))
            }
            // Not quoted: a credential_process line may hold a token.
            Some(_) => Err(StoreError::Changed(format!(
                "[{section}] in {} already has another credential_process line; remove it first",
                config.display()
            ))),
            None if doc.has_section(section) => {
                file::set(doc, config, section, "credential_process", line)?;
                Ok(Edit::Write(LineChange::Added))
            }
            None => {
                append(doc, config, section, &[("credential_process", line)])?;
                Ok(Edit::Write(LineChange::Added))
            }
        }
    })
}

/// What the config edit did to the `credential_process` line, to undo it
/// exactly.
enum LineChange {
    Kept,
    Added,
    /// An earlier version's line for the same entry, rewritten.
    Replaced(String),
}

/// The keychain entry before `install_in_keychain` wrote it.
enum Entry {
    /// It already held the key: nothing was written.
    Kept,
    /// There was none.
    Created,
    /// It held this other key (`replace`).
    Overwrote(AccessKey),
}

/// The error that stopped an install, once its undo has been tried: if the
/// undo failed too, the message must not claim that nothing changed.
pub fn undone(error: CommandError, undo: Result<(), StoreError>, name: &str) -> CommandError {
    match undo {
        Ok(()) => error,
        Err(undo) => CommandError::Other(anyhow::anyhow!(
            "{error:#}; except that undoing the change failed ({undo}): check the keychain entry {SERVICE}/{name}, the credential_process line and the credentials of profile {name}"
        )),
    }
}

/// Writes `key` into `[name]` of the credentials file and verifies it read
/// back from there; undone on failure. `replace` allows overwriting another
/// key (the caller has kept it).
pub async fn install_in_file(
    files: &AwsFiles,
    name: &str,
    key: &AccessKey,
    region: Option<&str>,
    ui: &Ui,
    replace: bool,
) -> Result<(), CommandError> {
    let previous = edit_file(&files.credentials, FileKind::Credentials, |doc| {
        let previous = key_in(doc, name);
        match &previous {
            Some(existing) if existing.id == key.id => return Ok(Edit::Unchanged(None)),
            Some(existing) if !replace => {
                return Err(StoreError::Changed(format!(
                    "[{name}] in {} already holds another key ({})",
                    files.credentials.display(),
                    existing.masked_id()
                )));
            }
            _ => {}
        }
        if doc.has_section(name) {
            file::set(doc, &files.credentials, name, ID, &key.id)?;
            file::set(doc, &files.credentials, name, SECRET, key.secret.expose())?;
        } else {
            append(
                doc,
                &files.credentials,
                name,
                &[(ID, &key.id), (SECRET, key.secret.expose())],
            )?;
        }
        Ok(Edit::Write(previous))
    })?;
    ui.step(format!(
        "wrote {} to {}",
        key.masked_id(),
        files.credentials.display()
    ));

    let written = FileStore::new(&files.credentials, name).read()?;
    if let Err(e) = verify_key(files, &written, name, region).await {
        let undo = edit_file(&files.credentials, FileKind::Credentials, |doc| {
            match &previous {
                Some(old) => {
                    file::set(doc, &files.credentials, name, ID, &old.id)?;
                    file::set(doc, &files.credentials, name, SECRET, old.secret.expose())?;
                }
                None => remove_key(doc, name)?,
            }
            Ok(Edit::Write(()))
        });
        return Err(undone(e, undo, name));
    }
    ui.step("verified the key through the credentials file");
    Ok(())
}

pub fn store_for(profiles: &Profiles, account: &str) -> KeychainStore<OsKeychain> {
    KeychainStore::new(OsKeychain, account, profiles.keychain_accounts())
}

fn append(
    doc: &mut Document,
    path: &Path,
    section: &str,
    entries: &[(&str, &str)],
) -> Result<(), StoreError> {
    doc.append_section(section, entries)
        .map_err(|error| StoreError::Edit {
            what: format!("could not add [{section}] to {}", path.display()),
            error,
        })
}

/// Removes the two key values, and the section if nothing else is left.
pub fn remove_key(doc: &mut Document, section: &str) -> Result<(), StoreError> {
    let broke = |error| StoreError::Edit {
        what: format!("could not edit [{section}]"),
        error,
    };
    doc.remove(section, ID).map_err(broke)?;
    doc.remove(section, SECRET).map_err(broke)?;
    doc.remove_section_if_empty(section).map_err(broke)?;
    Ok(())
}

pub fn remove_setting(path: &Path, section: &str, key: &str) -> Result<(), StoreError> {
    edit_file(path, FileKind::Config, |doc| {
        let broke = |error| StoreError::Edit {
            what: format!("could not edit [{section}] in {}", path.display()),
            error,
        };
        if !doc.remove(section, key).map_err(broke)? {
            return Ok(Edit::Unchanged(()));
        }
        doc.remove_section_if_empty(section).map_err(broke)?;
        Ok(Edit::Write(()))
    })
}

/// One setting as the file holds it now.
fn read_setting(path: &Path, section: &str, key: &str) -> Option<String> {
    let bytes = zeroize::Zeroizing::new(std::fs::read(path).ok()?);
    let doc = file::parse(path, FileKind::Config, &bytes).ok()?;
    doc.get(section, key).map(str::to_owned)
}

/// Checks the written `credential_process` line the ways the AWS tools run
/// it, before the key leaves its old place: botocore's split must give
/// exactly aws-rekey's own words; on Unix the line must be literal for a
/// shell (checked before any shell sees it), and then both the split words
/// (botocore, no shell) and `sh -c LINE` (the Rust and Go SDKs) must serve
/// this key. Finally the key itself must work.
async fn verify_process(
    files: &AwsFiles,
    line: &str,
    exe: &str,
    key: &AccessKey,
    profile: &str,
    region: Option<&str>,
) -> Result<(), CommandError> {
    let refused = |why: String| {
        Err(CommandError::Refused(format!(
            "the credential_process line {why}; nothing was changed"
        )))
    };
    let words = split_command(line);
    if words != [exe, "credential-process", "--profile", profile] {
        return refused("does not read back as aws-rekey's own command".into());
    }
    if cfg!(unix) && !profile::sh_literal(line) {
        return refused("is not literal for a shell".into());
    }
    let mut split = std::process::Command::new(&words[0]);
    split.args(&words[1..]);
    let mut runs = vec![("split into words, as the AWS CLI runs it", split)];
    // Windows: the SDKs use `cmd.exe /C`; not run here (this project cannot
    // build or test on Windows), the quoting rules above keep it literal.
    if cfg!(unix) {
        let mut sh = std::process::Command::new("sh");
        sh.arg("-c").arg(line);
        runs.push(("through sh -c, as the Rust and Go SDKs run it", sh));
    }
    for (how, mut command) in runs {
        let output = command
            .stdin(std::process::Stdio::null())
            .output()
            .with_context(|| format!("could not run the credential_process line {how}"))?;
        let ok = output.status.success()
            && crate::secret::is_process_json(&zeroize::Zeroizing::new(output.stdout), key);
        if !ok {
            return refused(format!(
                "did not serve the key back when run {how} ({})",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
    }
    verify_key(files, key, profile, region).await
}

async fn verify_key(
    files: &AwsFiles,
    key: &AccessKey,
    profile: &str,
    region: Option<&str>,
) -> Result<(), CommandError> {
    // Read afresh: the files were just written.
    let profiles = Profiles::load(files.clone())?;
    let sdk = Sdk::for_profile(&profiles, profile, None, region).await?;
    sdk.caller_arn(key)
        .await
        .map(|_| ())
        .map_err(|source| CommandError::Aws {
            during: "could not verify the key; nothing was changed".into(),
            source,
        })
}
