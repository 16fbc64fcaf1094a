//! Secrets that cannot be printed by accident, and key ids masked for display.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use zeroize::Zeroizing;

/// A secret access key. It has no `Display`, its `Debug` prints `REDACTED`,
/// and the memory is zeroed on drop; `expose()` marks every place the secret
/// leaves the wrapper (a file write, a request signature, a JSON document the
/// user asked for).
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(SecretString::from(value.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

/// Reading a secret (from a keychain entry, a pending record, stdin) does not
/// expose it, so `Secret` deserialises directly; only serialising is marked
/// (`exposed`).
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

/// An access key id with its secret.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessKey {
    pub id: String,
    pub secret: Secret,
}

impl AccessKey {
    pub fn new(id: impl Into<String>, secret: Secret) -> Self {
        AccessKey {
            id: id.into(),
            secret,
        }
    }

    pub fn masked_id(&self) -> String {
        mask(&self.id)
    }
}

/// `AKIAIOSFODNN7EXAMPLE` -> `AKIA…MPLE`: enough to tell keys apart and to
/// match the IAM console, not enough to be the whole id in logs and
/// screenshots.
pub fn mask(key_id: &str) -> String {
    let chars: Vec<char> = key_id.chars().collect();
    if chars.len() < 12 {
        let tail: String = chars[chars.len().saturating_sub(2)..].iter().collect();
        return format!("…{tail}");
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// JSON (pretty) of a document holding secrets, in a buffer wiped on drop.
/// The buffer is sized up front so it does not grow, move, and leave a copy
/// of the secret behind in freed memory (the documents are a few hundred
/// bytes).
pub fn json_bytes<T: Serialize>(value: &T) -> serde_json::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::with_capacity(8 * 1024));
    serde_json::to_writer_pretty(&mut *buf, value)?;
    Ok(buf)
}

/// The `credential_process` Version 1 document for a key, in one line, in a
/// string wiped on drop: what `credential-process` prints and what a hook
/// reads on its stdin.
pub fn process_json(key: &AccessKey) -> Zeroizing<String> {
    let mut buf = Zeroizing::new(Vec::with_capacity(1024));
    serde_json::to_writer(
        &mut *buf,
        &ProcessDoc {
            version: 1,
            id: key.id.as_str(),
            secret: key.secret.expose(),
        },
    )
    .expect("three fields always serialise");
    // serde_json writes UTF-8; the buffer moves into the String, not copied.
    Zeroizing::new(String::from_utf8(std::mem::take(&mut *buf)).expect("JSON is UTF-8"))
}

/// Whether `stdout` is the `credential_process` Version 1 document of
/// `key`. Read typed, so the secret lands in a `Secret` (wiped on drop),
/// not in a `serde_json::Value`.
pub fn is_process_json(stdout: &[u8], key: &AccessKey) -> bool {
    serde_json::from_slice::<ProcessDoc<String, Secret>>(stdout)
        .is_ok_and(|d| d.version == 1 && d.id == key.id && d.secret == key.secret)
}

/// The `credential_process` Version 1 document (the fields the AWS CLI and
/// SDKs read), one shape for the writer and the reader.
#[derive(Serialize, serde::Deserialize)]
struct ProcessDoc<I, S> {
    #[serde(rename = "Version")]
    version: u32,
    #[serde(rename = "AccessKeyId")]
    id: I,
    #[serde(rename = "SecretAccessKey")]
    secret: S,
}

/// Turns core dumps off for this process (and what it starts): a crash
/// must not write its memory, secrets included, to disk. The soft
/// RLIMIT_CORE goes to 0 (the hard limit stays, so a hook that wants dumps
/// may raise its own). The kernel ignores the limit when core_pattern pipes
/// dumps to a handler; systemd-coredump honours it, other handlers may not
/// (`PR_SET_DUMPABLE` would cover those; not done yet). Called first thing
/// in `main`; best effort, as lowering a limit cannot fail on a sane system
/// and nothing else depends on it.
pub fn disable_core_dumps() {
    #[cfg(unix)]
    {
        use nix::sys::resource::{Resource, getrlimit, setrlimit};
        if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_CORE) {
            let _ = setrlimit(Resource::RLIMIT_CORE, 0, hard);
        }
    }
}

/// `#[serde(with = "crate::secret::exposed")]`: the one way a `Secret` gets
/// serialised, used only for the pending-rotation record (a 0600 file that
/// must hold the new secret until it is safely in the user's store).
pub mod exposed {
    use super::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(secret.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[cfg(unix)]
    #[test]
    fn core_dumps_are_off_after_the_start_routine() {
        use nix::sys::resource::{Resource, getrlimit, setrlimit};
        // Raised first (up to the hard limit), so the test attacks even
        // where the shell already had `ulimit -c 0`.
        let (_, hard) = getrlimit(Resource::RLIMIT_CORE).unwrap();
        setrlimit(Resource::RLIMIT_CORE, hard, hard).unwrap();
        disable_core_dumps();
        assert_eq!(getrlimit(Resource::RLIMIT_CORE).unwrap().0, 0);
    }

    #[test]
    fn masks_a_real_length_id() {
        assert_eq!(mask("AKIAIOSFODNN7EXAMPLE"), "AKIA…MPLE");
    }

    #[test]
    fn short_ids_show_only_their_tail() {
        assert_eq!(mask("ABCDEF"), "…EF");
        assert_eq!(mask(""), "…");
    }

    proptest! {
        #[test]
        fn debug_never_prints_the_secret(s in "[A-Za-z0-9/+]{8,60}") {
            let key = AccessKey::new("AKIAIOSFODNN7EXAMPLE", Secret::new(s.clone()));
            let shown = format!("{key:?} {:?} {:#?}", key.secret, key);
            prop_assert!(!shown.contains(&s));
            prop_assert!(shown.contains("REDACTED"));
        }

        #[test]
        fn mask_hides_the_middle(id in "[A-Z0-9]{16,24}") {
            let masked = mask(&id);
            prop_assert!(masked.starts_with(&id[..4]));
            prop_assert!(masked.ends_with(&id[id.len() - 4..]));
            prop_assert!(!masked.contains(&id[4..id.len() - 4]));
        }
    }
}
