//! The OS keychain store: one entry per profile (service `aws-rekey`,
//! account = the profile's name) holding the key id and secret together, so
//! the two always change as one. Served to AWS tools by `credential-process`.

use super::{Store, StoreError};
use crate::secret::{AccessKey, Secret};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The service name under which entries appear in Keychain Access,
/// Credential Manager, Seahorse or KeePassXC.
pub const SERVICE: &str = "aws-rekey";

/// The few keychain operations the store needs, so unit tests can use an
/// in-memory keychain (keyring's own mock does not persist between entries).
pub trait Keychain {
    /// `Ok(None)` when there is no entry.
    fn get(&self, account: &str) -> Result<Option<String>, StoreError>;
    fn set(&self, account: &str, value: &str) -> Result<(), StoreError>;
    /// Deleting a missing entry is not an error.
    fn delete(&self, account: &str) -> Result<(), StoreError>;
}

/// The platform's native keychain through the `keyring` crate, with the
/// backend chosen explicitly (see Cargo.toml for why).
pub struct OsKeychain;

impl OsKeychain {
    fn entry(account: &str) -> Result<keyring::Entry, StoreError> {
        let credential = native_builder()?
            .build(None, SERVICE, account)
            .map_err(|e| keychain_error(account, e))?;
        Ok(keyring::Entry::new_with_credential(credential))
    }
}

type Builder = Box<keyring::credential::CredentialBuilder>;

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn native_builder() -> Result<Builder, StoreError> {
    Ok(keyring::secret_service::default_credential_builder())
}

#[cfg(target_os = "macos")]
fn native_builder() -> Result<Builder, StoreError> {
    Ok(keyring::macos::default_credential_builder())
}

#[cfg(windows)]
fn native_builder() -> Result<Builder, StoreError> {
    Ok(keyring::windows::default_credential_builder())
}

/// Never keyring's in-memory mock, which would silently forget the secret.
#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "macos",
    windows
)))]
fn native_builder() -> Result<Builder, StoreError> {
    Err(StoreError::Unavailable(
        "this platform has no supported keychain; keep the key in the credentials file".into(),
    ))
}

fn keychain_error(account: &str, e: keyring::Error) -> StoreError {
    match e {
        keyring::Error::NoStorageAccess(cause) => StoreError::Unavailable(format!(
            "the keychain is locked or not reachable ({cause}); unlock it (on Linux: a Secret Service such as GNOME Keyring or KeePassXC must be running and unlocked) and re-run"
        )),
        keyring::Error::PlatformFailure(cause) => StoreError::Unavailable(format!(
            "the keychain could not be used ({cause}); on Linux a Secret Service (GNOME Keyring, KWallet, KeePassXC) must be running in your session"
        )),
        other => StoreError::Unavailable(format!("keychain entry {SERVICE}/{account}: {other}")),
    }
}

impl Keychain for OsKeychain {
    fn get(&self, account: &str) -> Result<Option<String>, StoreError> {
        match Self::entry(account)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(account, e)),
        }
    }

    fn set(&self, account: &str, value: &str) -> Result<(), StoreError> {
        Self::entry(account)?
            .set_password(value)
            .map_err(|e| keychain_error(account, e))
    }

    fn delete(&self, account: &str) -> Result<(), StoreError> {
        match Self::entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keychain_error(account, e)),
        }
    }
}

/// What an entry holds: the same field names as `credential_process` output.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(rename = "AccessKeyId")]
    id: String,
    #[serde(rename = "SecretAccessKey", with = "crate::secret::exposed")]
    secret: Secret,
}

/// The entry's value, in a string wiped on drop.
pub fn encode(key: &AccessKey) -> Zeroizing<String> {
    let mut buf = Zeroizing::new(Vec::with_capacity(512));
    serde_json::to_writer(
        &mut *buf,
        &Stored {
            id: key.id.clone(),
            secret: key.secret.clone(),
        },
    )
    .expect("two strings always serialise");
    Zeroizing::new(String::from_utf8(std::mem::take(&mut *buf)).expect("JSON is UTF-8"))
}

fn decode(account: &str, value: &str) -> Result<AccessKey, StoreError> {
    let stored: Stored = serde_json::from_str(value).map_err(|_| {
        StoreError::Unavailable(format!(
            "the keychain entry {SERVICE}/{account} is not an access key written by aws-rekey; fix or delete it, then run `aws-rekey move --profile {account} --to keychain` again"
        ))
    })?;
    Ok(AccessKey::new(stored.id, stored.secret))
}

/// A profile whose key lives in the keychain. `siblings` are the other
/// keychain profiles, so that profiles sharing one key move together.
pub struct KeychainStore<K: Keychain> {
    keychain: K,
    profile: String,
    siblings: Vec<String>,
}

impl<K: Keychain> KeychainStore<K> {
    pub fn new(keychain: K, profile: impl Into<String>, siblings: Vec<String>) -> Self {
        KeychainStore {
            keychain,
            profile: profile.into(),
            siblings,
        }
    }

    fn read_account(&self, account: &str) -> Result<Option<AccessKey>, StoreError> {
        // The entry's value holds the secret: wiped once decoded.
        self.keychain
            .get(account)?
            .map(|v| decode(account, &Zeroizing::new(v)))
            .transpose()
    }

    /// Stores a key for this profile, replacing what was there.
    pub fn write(&self, key: &AccessKey) -> Result<(), StoreError> {
        self.keychain.set(&self.profile, &encode(key))
    }

    pub fn delete(&self) -> Result<(), StoreError> {
        self.keychain.delete(&self.profile)
    }

    fn accounts(&self) -> Vec<&str> {
        let mut all = vec![self.profile.as_str()];
        all.extend(
            self.siblings
                .iter()
                .map(String::as_str)
                .filter(|s| *s != self.profile),
        );
        all
    }
}

impl<K: Keychain> Store for KeychainStore<K> {
    fn location(&self) -> String {
        format!("keychain entry {SERVICE}/{}", self.profile)
    }

    fn read(&self) -> Result<AccessKey, StoreError> {
        self.read_account(&self.profile)?.ok_or_else(|| {
            StoreError::NotFound(format!(
                "{} does not exist; run `aws-rekey move --profile {} --to keychain` or `aws-rekey setup --profile {} --store keychain`",
                self.location(),
                self.profile,
                self.profile
            ))
        })
    }

    fn holders(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for account in self.accounts() {
            if self.read_account(account)?.is_some_and(|k| k.id == id) {
                out.push(account.to_string());
            }
        }
        Ok(out)
    }

    fn replace(&self, old_id: &str, new: &AccessKey) -> Result<Vec<String>, StoreError> {
        let current = self.read()?;
        if current.id != new.id && current.id != old_id {
            return Err(StoreError::Changed(format!(
                "{} no longer holds the key aws-rekey is replacing",
                self.location()
            )));
        }
        // Entries are written one after another, so an interrupted run can
        // leave some holders switched and others not: every entry still
        // holding the old key is switched, even when this profile's own
        // entry already holds the new one.
        for account in self.holders(old_id)? {
            self.keychain.set(&account, &encode(new))?;
        }
        self.holders(&new.id)
    }
}

#[cfg(test)]
pub mod memory {
    //! An in-memory keychain for unit tests.
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    #[derive(Default)]
    pub struct MemoryKeychain(pub RefCell<BTreeMap<String, String>>);

    impl Keychain for &MemoryKeychain {
        fn get(&self, account: &str) -> Result<Option<String>, StoreError> {
            Ok(self.0.borrow().get(account).cloned())
        }
        fn set(&self, account: &str, value: &str) -> Result<(), StoreError> {
            self.0.borrow_mut().insert(account.into(), value.into());
            Ok(())
        }
        fn delete(&self, account: &str) -> Result<(), StoreError> {
            self.0.borrow_mut().remove(account);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::memory::MemoryKeychain;
    use super::*;

    fn key(id: &str, secret: &str) -> AccessKey {
        AccessKey::new(id, Secret::new(secret))
    }

    #[test]
    fn round_trips_and_replaces_every_sibling_sharing_the_key() {
        let kc = MemoryKeychain::default();
        let siblings = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let a = KeychainStore::new(&kc, "a", siblings.clone());
        let c = KeychainStore::new(&kc, "c", siblings.clone());
        a.write(&key("AKIAOLD", "s1")).unwrap();
        KeychainStore::new(&kc, "b", siblings.clone())
            .write(&key("AKIAOLD", "s1"))
            .unwrap();
        c.write(&key("AKIAOTHER", "s2")).unwrap();
        assert_eq!(a.read().unwrap(), key("AKIAOLD", "s1"));

        let holders = a.replace("AKIAOLD", &key("AKIANEW", "s3")).unwrap();
        assert_eq!(holders, vec!["a", "b"]);
        assert_eq!(a.read().unwrap(), key("AKIANEW", "s3"));
        assert_eq!(c.read().unwrap(), key("AKIAOTHER", "s2"));
        // Idempotent.
        assert_eq!(
            a.replace("AKIAOLD", &key("AKIANEW", "s3")).unwrap(),
            vec!["a", "b"]
        );
        assert!(matches!(
            a.replace("AKIAELSE", &key("AKIA4", "s4")),
            Err(StoreError::Changed(_))
        ));
    }

    /// Issue 9.4: killed between two entry writes, then resumed through the
    /// profile that was already switched: the other one is finished too.
    #[test]
    fn a_half_switched_set_of_entries_is_finished_from_either_side() {
        let kc = MemoryKeychain::default();
        let siblings = vec!["a".to_string(), "b".to_string()];
        let a = KeychainStore::new(&kc, "a", siblings.clone());
        let b = KeychainStore::new(&kc, "b", siblings.clone());
        a.write(&key("AKIANEW", "s2")).unwrap();
        b.write(&key("AKIAOLD", "s1")).unwrap();
        assert_eq!(
            a.replace("AKIAOLD", &key("AKIANEW", "s2")).unwrap(),
            vec!["a", "b"]
        );
        assert_eq!(b.read().unwrap(), key("AKIANEW", "s2"));
    }

    #[test]
    fn a_missing_entry_says_how_to_create_it() {
        let kc = MemoryKeychain::default();
        let err = KeychainStore::new(&kc, "work", vec![]).read().unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)));
        assert!(
            err.to_string()
                .contains("aws-rekey move --profile work --to keychain")
        );
    }

    #[test]
    fn a_foreign_entry_is_an_error_without_its_contents() {
        let kc = MemoryKeychain::default();
        kc.0.borrow_mut().insert("x".into(), "hunter2".into());
        let err = KeychainStore::new(&kc, "x", vec![]).read().unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn the_entry_has_the_credential_process_field_names() {
        let v: serde_json::Value = serde_json::from_str(&encode(&key("AKIA1", "s"))).unwrap();
        assert_eq!(v["AccessKeyId"], "AKIA1");
        assert_eq!(v["SecretAccessKey"], "s");
    }
}
