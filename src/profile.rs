//! Resolving a profile: which files, which sections, and what kind of
//! credentials it has, so that what cannot be rotated is refused up front.

use crate::copies::listed::{self, Listed};
use crate::ini::{Document, FileKind};
use crate::store::file::FileStore;
use crate::store::file::{self, key_in};
use crate::store::keychain::{KeychainStore, OsKeychain};
use crate::store::{Store, StoreError};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The two shared files, where the AWS CLI and SDKs look for them.
#[derive(Clone, Debug)]
pub struct AwsFiles {
    pub credentials: PathBuf,
    pub config: PathBuf,
}

impl AwsFiles {
    pub fn from_env() -> Result<Self, ProfileError> {
        let home = dirs::home_dir();
        let pick = |var: &str, default: &str| -> Result<PathBuf, ProfileError> {
            match std::env::var_os(var).filter(|v| !v.is_empty()) {
                Some(v) => Ok(expand_home(Path::new(&v), home.as_deref())),
                None => home
                    .as_ref()
                    .map(|h| h.join(".aws").join(default))
                    .ok_or(ProfileError::NoHome),
            }
        };
        Ok(AwsFiles {
            credentials: pick("AWS_SHARED_CREDENTIALS_FILE", "credentials")?,
            config: pick("AWS_CONFIG_FILE", "config")?,
        })
    }
}

/// `~/x` in an environment variable means the home folder, as in the SDKs.
fn expand_home(path: &Path, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}

/// A profile whose key aws-rekey can rotate, and where that key lives.
#[derive(Debug)]
pub struct Profile {
    pub name: String,
    pub store: StoreKind,
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StoreKind {
    /// `aws_access_key_id` and `aws_secret_access_key` in the credentials file.
    File,
    /// The OS keychain, served by `aws-rekey credential-process --profile ACCOUNT`.
    Keychain { account: String },
}

#[derive(Debug, Error)]
pub enum ProfileError {
    #[error("no home folder found; set AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE")]
    NoHome,
    /// `origin` names where the name came from when the user did not type
    /// it (`$AWS_PROFILE`); `place` says which files were read, or that they
    /// do not exist; `hint` how to make the profile.
    #[error("profile '{name}'{origin} not found {place}{known}{hint}")]
    Unknown {
        name: String,
        origin: String,
        place: String,
        known: String,
        hint: String,
    },
    #[error(
        "profile '{0}' holds temporary credentials (aws_session_token); they expire on their own and cannot be rotated. Rotate the long-lived key they were made from instead"
    )]
    Temporary(String),
    #[error(
        "profile '{name}' assumes a role; its long-lived key is in profile '{source_profile}': run `aws-rekey rotate --profile {source_profile}`"
    )]
    Role {
        name: String,
        source_profile: String,
    },
    #[error(
        "profile '{0}' assumes a role without a source_profile (credential_source or web identity); it has no long-lived key to rotate"
    )]
    RoleWithoutSource(String),
    #[error(
        "profile '{0}' uses IAM Identity Center (SSO); its credentials are short-lived and need no rotation"
    )]
    Sso(String),
    /// The command line is not kept, so no message can show it: it may
    /// hold a token.
    #[error(
        "profile '{0}' gets its credentials from its own credential_process program; rotate the key where that program keeps it"
    )]
    Process(String),
    #[error(
        "profile '{0}' has an access key in the config file; aws-rekey rotates keys in the credentials file: move aws_access_key_id and aws_secret_access_key to the credentials file"
    )]
    KeyInConfig(String),
    #[error(
        "profile '{0}' has no long-lived access key (aws_access_key_id and aws_secret_access_key)"
    )]
    NoKey(String),
    #[error("profile '{0}': source_profile chain loops or is longer than 10 profiles")]
    Loop(String),
    /// A list of paths (`aws_rekey_also`, `aws_rekey_find`) that cannot
    /// be read.
    #[error("profile '{profile}': {setting}: {problem}")]
    Paths {
        profile: String,
        setting: &'static str,
        problem: String,
    },
    #[error(transparent)]
    File(#[from] StoreError),
}

/// The parsed shared files.
pub struct Profiles {
    pub files: AwsFiles,
    pub credentials: Document,
    pub config: Document,
}

impl Profiles {
    /// Every profile whose long-lived key (in either store) is `id`. A
    /// profile that cannot be read counts as not holding it.
    pub fn holders_of(&self, id: &str) -> Vec<String> {
        self.names()
            .into_iter()
            .filter(|name| {
                self.resolve(name)
                    .ok()
                    .and_then(|p| self.store(&p).read().ok())
                    .is_some_and(|k| k.id == id)
            })
            .collect()
    }

    /// The store a resolved profile's key lives in.
    pub fn store(&self, profile: &Profile) -> Box<dyn Store> {
        match &profile.store {
            StoreKind::File => Box::new(FileStore::new(&self.files.credentials, &profile.name)),
            StoreKind::Keychain { account } => Box::new(KeychainStore::new(
                OsKeychain,
                account,
                self.keychain_accounts(),
            )),
        }
    }

    pub fn load(files: AwsFiles) -> Result<Self, ProfileError> {
        let credentials = read_doc(&files.credentials, FileKind::Credentials)?;
        let config = read_doc(&files.config, FileKind::Config)?;
        Ok(Profiles {
            files,
            credentials,
            config,
        })
    }

    /// The config file's section for a profile: `[profile NAME]` (however
    /// spaced: `[profile\tNAME]` too), or `[default]`; when both name
    /// `default`, the last one, as botocore reads it (the SDKs agree, or
    /// the file was refused).
    pub fn config_section(&self, name: &str) -> Option<String> {
        self.config.profile_section(name).map(str::to_owned)
    }

    /// The config section to write a profile's settings to: the existing
    /// one, or the one a new profile gets.
    pub fn config_section_or_new(&self, name: &str) -> String {
        self.config_section(name).unwrap_or_else(|| {
            if name == "default" {
                "default".into()
            } else {
                format!("profile {name}")
            }
        })
    }

    fn config_get(&self, name: &str, key: &str) -> Option<&str> {
        self.config_section(name)
            .and_then(|s| self.config.get(&s, key))
            .filter(|v| !v.is_empty())
    }

    fn creds_get(&self, name: &str, key: &str) -> Option<&str> {
        self.credentials.get(name, key).filter(|v| !v.is_empty())
    }

    /// A setting read the way the SDKs do: credentials file first, then config.
    pub fn setting(&self, name: &str, key: &str) -> Option<&str> {
        self.creds_get(name, key)
            .or_else(|| self.config_get(name, key))
    }

    /// A list of paths a profile names (`listed::ALSO`, the copies of its
    /// key a rotation updates; `listed::FIND`, folders searched for copies
    /// before a key is deleted), read where `setting` reads; `~` is home.
    pub fn paths(&self, name: &str, setting: &'static str) -> Result<Vec<Listed>, ProfileError> {
        let Some(value) = self.setting(name, setting) else {
            return Ok(Vec::new());
        };
        let home = dirs::home_dir();
        listed::parse(value, home.as_deref(), None).map_err(|problem| ProfileError::Paths {
            profile: name.to_string(),
            setting,
            problem,
        })
    }

    /// Resolves a profile to its rotatable key, or says plainly why not.
    pub fn resolve(&self, name: &str) -> Result<Profile, ProfileError> {
        let in_creds = self.credentials.has_section(name);
        let in_config = self.config_section(name).is_some();
        if !in_creds && !in_config {
            return Err(self.unknown(name));
        }
        if self.config_get(name, "role_arn").is_some() {
            return Err(match self.source_of(name)? {
                Some(source) if source != name => ProfileError::Role {
                    name: name.into(),
                    source_profile: source,
                },
                Some(_) => {
                    // `source_profile` naming itself: the role is assumed
                    // with this profile's own static key, which is the one
                    // to rotate. Only reached for a key in the credentials
                    // file, checked below.
                    return self.static_key(name);
                }
                None => ProfileError::RoleWithoutSource(name.into()),
            });
        }
        self.static_key(name)
    }

    /// Like `resolve`, but a role profile leads to the profile holding the
    /// long-lived key its `source_profile` chain ends in: rotating that key
    /// is what keeps the role profile working. The second value names the
    /// role profile the request came through.
    pub fn resolve_for_rotation(
        &self,
        name: &str,
    ) -> Result<(Profile, Option<String>), ProfileError> {
        match self.resolve(name) {
            Err(ProfileError::Role { source_profile, .. }) => {
                let profile = self.resolve(&source_profile)?;
                Ok((profile, Some(name.to_string())))
            }
            other => other.map(|p| (p, None)),
        }
    }

    /// The MFA device to use for a profile's IAM calls: its own
    /// `mfa_serial`, else that of the role profile it was reached through.
    pub fn mfa_serial(&self, name: &str, via: Option<&str>) -> Option<String> {
        self.setting(name, "mfa_serial")
            .or_else(|| via.and_then(|v| self.setting(v, "mfa_serial")))
            .map(str::to_owned)
    }

    fn static_key(&self, name: &str) -> Result<Profile, ProfileError> {
        if self.setting(name, "aws_session_token").is_some() {
            return Err(ProfileError::Temporary(name.into()));
        }
        let found = |store| Profile {
            name: name.into(),
            store,
            region: self.config_get(name, "region").map(str::to_owned),
        };
        // Keys in the credentials file win over credential_process, as in
        // the SDKs (and as in the middle of a `move`).
        if key_in(&self.credentials, name).is_some() {
            return Ok(found(StoreKind::File));
        }
        if let Some(account) = self
            .setting(name, "credential_process")
            .and_then(keychain_account)
        {
            return Ok(found(StoreKind::Keychain { account }));
        }
        if self.config_get(name, "sso_session").is_some()
            || self.config_get(name, "sso_start_url").is_some()
        {
            return Err(ProfileError::Sso(name.into()));
        }
        if self.setting(name, "credential_process").is_some() {
            return Err(ProfileError::Process(name.into()));
        }
        if self
            .config_section(name)
            .and_then(|s| key_in(&self.config, &s))
            .is_some()
        {
            return Err(ProfileError::KeyInConfig(name.into()));
        }
        Err(ProfileError::NoKey(name.into()))
    }

    /// Follows `source_profile` from a role profile to the profile that
    /// holds a long-lived key. `None` when the chain ends in something else.
    pub fn source_of(&self, name: &str) -> Result<Option<String>, ProfileError> {
        let mut current = name.to_string();
        for _ in 0..10 {
            let Some(source) = self.config_get(&current, "source_profile") else {
                return Ok(None);
            };
            if source == current || self.config_get(source, "role_arn").is_none() {
                return Ok(Some(source.to_string()));
            }
            current = source.to_string();
        }
        Err(ProfileError::Loop(name.into()))
    }

    /// The keychain accounts of every profile served by aws-rekey's own
    /// `credential-process`.
    pub fn keychain_accounts(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .names()
            .iter()
            .filter_map(|n| {
                self.setting(n, "credential_process")
                    .and_then(keychain_account)
            })
            .collect();
        out.dedup();
        out
    }

    /// Every profile named in either file, in file order, without repeats.
    pub fn names(&self) -> Vec<String> {
        let mut names = self.credentials.profile_names();
        for name in self.config.profile_names() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    fn unknown(&self, name: &str) -> ProfileError {
        let names = self.names();
        let known = if names.is_empty() {
            String::new()
        } else {
            format!(" (known profiles: {})", names.join(", "))
        };
        // A name nobody typed (`rotate` with AWS_PROFILE exported in a
        // shell profile long ago) is a puzzle unless the message says where
        // it came from. The commands take AWS_PROFILE as the default of
        // --profile, so a name equal to it is, or is the same as, its value.
        let origin = match std::env::var("AWS_PROFILE") {
            Ok(v) if v == name => " (from $AWS_PROFILE)".to_string(),
            _ => String::new(),
        };
        let (credentials, config) = (&self.files.credentials, &self.files.config);
        // On a first run the files usually do not exist at all: say so, not
        // merely that the name is missing from them.
        let place = match (credentials.exists(), config.exists()) {
            (true, true) => format!("in {} or {}", credentials.display(), config.display()),
            (true, false) => format!(
                "in {} ({} does not exist)",
                credentials.display(),
                config.display()
            ),
            (false, true) => format!(
                "in {} ({} does not exist)",
                config.display(),
                credentials.display()
            ),
            (false, false) => format!(
                "because there are no AWS files: neither {} nor {} exists",
                credentials.display(),
                config.display()
            ),
        };
        let hint = if names.is_empty() {
            format!(
                ". Set one up with `aws-rekey setup --profile {name}` (the key on stdin) or `aws configure --profile {name}`"
            )
        } else {
            String::new()
        };
        ProfileError::Unknown {
            name: name.into(),
            origin,
            place,
            known,
            hint,
        }
    }
}

/// A missing file reads as empty: a user may have only one of the two.
fn read_doc(path: &Path, kind: FileKind) -> Result<Document, ProfileError> {
    match std::fs::read(path) {
        // The raw bytes hold the file's secrets: wiped once parsed.
        Ok(bytes) => Ok(file::parse(path, kind, &zeroize::Zeroizing::new(bytes))?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(Document::parse("", kind).expect("an empty document always parses"))
        }
        Err(source) => Err(StoreError::Io {
            what: format!("could not read {}", path.display()),
            source,
        }
        .into()),
    }
}

mod process_line;
pub use process_line::{
    credential_process_line, keychain_account, line_word_problem, sh_literal, split_command,
};

#[cfg(test)]
mod tests;
