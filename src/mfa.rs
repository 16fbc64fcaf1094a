//! MFA for IAM calls: the code (from `--mfa-code`, else a prompt on the
//! terminal, never guessed), and the `GetSessionToken` session it buys.

use crate::aws::Sdk;
use crate::error::CommandError;
use crate::profile::Profiles;
use crate::secret::AccessKey;
use aws_credential_types::Credentials;
use std::io::IsTerminal;

/// The code for `serial`: the one given, else asked for on the terminal.
/// With neither, a clear error before anything is changed.
pub fn code(serial: &str, given: Option<&str>) -> Result<String, CommandError> {
    if let Some(code) = given {
        return Ok(code.trim().to_string());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CommandError::Refused(format!(
            "the profile requires MFA ({serial}) and there is no terminal to ask for a code: pass --mfa-code CODE; nothing was changed"
        )));
    }
    let code = rpassword::prompt_password(format!("MFA code for {serial}: "))
        .map_err(|e| CommandError::Refused(format!("could not read the MFA code: {e}")))?;
    Ok(code.trim().to_string())
}

/// A session for IAM calls, bought with `key` and the code.
pub async fn session(
    sdk: &Sdk,
    key: &AccessKey,
    serial: &str,
    code: &str,
) -> Result<Credentials, CommandError> {
    sdk.mfa_session(key, serial, code)
        .await
        .map_err(|source| CommandError::Aws {
            during: format!("could not get an MFA session for {serial}; nothing was changed"),
            source,
        })
}

/// The SDK for a profile (reached through role profile `via`, whose
/// network settings count too: `Sdk::for_profile`) whose IAM calls are
/// signed with `key`, or with an MFA session bought with it when the
/// profile names a device (`serial`): the code is taken from `given`, else
/// asked for.
pub async fn sdk_for(
    profiles: &Profiles,
    profile: &str,
    via: Option<&str>,
    region: Option<&str>,
    key: &AccessKey,
    serial: Option<&str>,
    given: Option<&str>,
) -> Result<Sdk, CommandError> {
    let mut sdk = Sdk::for_profile(profiles, profile, via, region).await?;
    if let Some(serial) = serial {
        let code = code(serial, given)?;
        let session = session(&sdk, key, serial, &code).await?;
        sdk.use_session(session);
    }
    Ok(sdk)
}

/// An access-denied error on a profile without `mfa_serial` may be a policy
/// that requires MFA for managing keys: say what to add.
pub fn hint(
    e: CommandError,
    profile: &str,
    config: &std::path::Path,
    has_serial: bool,
) -> CommandError {
    match e {
        CommandError::Aws {
            during,
            source: source @ crate::aws::AwsError::Denied(_),
        } if !has_serial => CommandError::Aws {
            during: format!(
                "{during} (if your account requires MFA to manage access keys, add `mfa_serial = arn:aws:iam::ACCOUNT_ID:mfa/DEVICE_NAME` to the [profile {profile}] section of {}, then re-run with --mfa-code CODE or at a terminal)",
                config.display()
            ),
            source,
        },
        other => other,
    }
}
