//! The command line: every clap type, so `--help`, completions and the man
//! page all come from one definition.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::time::Duration;

/// Rotate your own AWS IAM access key safely, in one step.
///
/// aws-rekey creates a new key, saves its secret before anything can go
/// wrong, writes it into your profile (changing only the two values),
/// checks through the profile that it works, and only then retires the old
/// key. An interrupted run is finished or rolled back by the next one.
#[derive(Debug, Parser)]
#[command(name = "aws-rekey", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rotate the access key of one or more profiles.
    Rotate(RotateArgs),
    /// Move a profile's key between the credentials file and the OS keychain.
    Move(MoveArgs),
    /// Print a keychain profile's key as credential_process JSON (run by the
    /// AWS CLI and SDKs, through the profile's credential_process line).
    CredentialProcess(CredentialProcessArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreArg {
    /// The OS keychain (macOS Keychain, Windows Credential Manager, Secret Service on Linux).
    Keychain,
    /// The shared credentials file (~/.aws/credentials).
    File,
}

#[derive(Debug, Args)]
pub struct MoveArgs {
    /// Profile to move. Defaults to $AWS_PROFILE, then `default`.
    #[arg(
        long,
        value_name = "NAME",
        env = "AWS_PROFILE",
        default_value = "default"
    )]
    pub profile: String,

    /// Where the key goes.
    #[arg(long, value_enum)]
    pub to: StoreArg,

    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    /// The keychain entry to serve (account name under service `aws-rekey`).
    #[arg(long, value_name = "NAME")]
    pub profile: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Progress lines on stderr, a one-line summary on stdout.
    Text,
    /// One JSON document on stdout.
    Json,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Profile to rotate; repeat for several. Defaults to $AWS_PROFILE, then
    /// `default`.
    #[arg(long = "profile", value_name = "NAME", env = "AWS_PROFILE")]
    pub profiles: Vec<String>,

    /// Deactivate the old key instead of deleting it; the next rotation
    /// deletes it.
    #[arg(long)]
    pub keep_old: bool,

    /// Show what would happen; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// How long to wait for IAM to accept the new key (seconds, or `90s`,
    /// `2m`).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_duration)]
    pub verify_timeout: Duration,

    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `60` means seconds; `90s`, `2m`, `1m 30s` are read by jiff.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.trim().parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let d: jiff::SignedDuration = s
        .trim()
        .parse()
        .map_err(|e| format!("expected seconds or a duration like 90s or 2m: {e}"))?;
    Duration::try_from(d).map_err(|_| "a duration cannot be negative".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("soon").is_err());
    }
}
