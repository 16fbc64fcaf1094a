//! `aws-rekey credential-process --profile NAME`: the keychain entry as
//! `credential_process` Version 1 JSON on stdout, nothing else. The AWS CLI
//! and SDKs run it for every command, so it only reads the keychain: no
//! config files, no async runtime, no network.

use crate::cli::CredentialProcessArgs;
use crate::exit::Exit;
use crate::store::keychain::{KeychainStore, OsKeychain};
use crate::store::{Store, StoreError};
use anyhow::Result;

pub fn run(args: CredentialProcessArgs) -> Result<Exit> {
    let store = KeychainStore::new(OsKeychain, &args.profile, Vec::new());
    match store.read() {
        Ok(key) => {
            // The AWS CLI reads nothing else: output that could not be
            // written (a full disk, a closed pipe) is a failure it must see.
            if let Err(e) = crate::try_print_stdout(&crate::secret::process_json(&key)) {
                eprintln!("aws-rekey: could not write the credentials to stdout: {e}");
                return Ok(Exit::Failure);
            }
            Ok(Exit::Success)
        }
        Err(e) => {
            eprintln!("aws-rekey: {e}");
            Ok(match e {
                StoreError::NotFound(_) => Exit::Refused,
                _ => Exit::Failure,
            })
        }
    }
}
