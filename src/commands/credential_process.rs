//! `aws-rekey credential-process --profile NAME`: the keychain entry as
//! `credential_process` Version 1 JSON on stdout, nothing else. The AWS CLI
//! and SDKs run it for every command, so it only reads the keychain: no
//! config files, no async runtime, no network.

use crate::cli::CredentialProcessArgs;
use crate::error::CommandError;
use crate::exit::Exit;
use crate::store::Store;
use crate::store::keychain::{KeychainStore, OsKeychain};

pub fn run(args: CredentialProcessArgs) -> Result<Exit, CommandError> {
    let store = KeychainStore::new(OsKeychain, &args.profile, Vec::new());
    match store.read() {
        Ok(key) => {
            // The AWS CLI reads nothing else: output that could not be
            // written (a full disk, a closed pipe) is a failure it must see.
            if let Err(e) = crate::ui::try_print_stdout(&crate::secret::process_json(&key)) {
                eprintln!("aws-rekey: could not write the credentials to stdout: {e}");
                return Ok(Exit::Failure);
            }
            Ok(Exit::Success)
        }
        // Reported like every command's failure: a locked keychain or a
        // missing entry is a refusal (exit 3), an I/O error exit 1.
        Err(e) => Err(e.into()),
    }
}
