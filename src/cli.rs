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
#[command(
    name = "aws-rekey",
    version,
    propagate_version = true,
    after_long_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "Exit codes:
  0   success
  1   unexpected failure (I/O error, damaged state)
  2   bad command-line usage
  3   refused, nothing changed (the profile cannot be rotated as it is,
      or the CA bundle or proxy URL cannot be used)
  4   an AWS call failed (network, proxy, TLS, access denied), nothing changed
  5   rolled back: the new key could not be stored or never verified
  6   interrupted part-way: state saved, re-run to finish
  7   rotated, but a hook (--exec) failed
  10  check: a key is due for rotation, or a rotation was interrupted";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rotate the access key of one or more profiles.
    Rotate(RotateArgs),
    /// Move a profile's key between the credentials file and the OS keychain.
    Move(MoveArgs),
    /// Print a keychain profile's key as credential_process JSON (run by the
    /// AWS CLI and SDKs, through the profile's credential_process line).
    CredentialProcess(CredentialProcessArgs),
    /// Show every profile's key: where it is kept, its age, last use, and
    /// whether it is due for rotation.
    Status(StatusArgs),
    /// For shell startup: name the keys older than the maximum age. Offline,
    /// silent when nothing is due.
    Check(CheckArgs),
    /// Set up a profile from a bootstrap key read on stdin (or from
    /// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), then rotate it at once.
    Setup(SetupArgs),
    /// Delete the old keys that `rotate --keep-old` (or a still-used old key)
    /// left inactive, once they show no use since their rotation.
    Prune(PruneArgs),
    /// Undo a rotation made with --keep-old: reactivate the old key, put it
    /// back in the profile, and deactivate the new one.
    Rollback(RollbackArgs),
    /// Find the files that hold a copy of your profiles' keys (a project's
    /// .env, a shell rc file, ~/.s3cfg...), which a rotation would leave
    /// holding a deleted key.
    ///
    /// Prints one line per hit: the file and line, the key id (masked), the
    /// profiles holding that key, and whether the file also holds the key's
    /// secret (which is never printed). Exits 0 when the search ran, hits or
    /// not; 1 if it could not run.
    #[command(after_help = crate::copies::skip::help())]
    Find(FindArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the manual page (roff), for `man -l -` or a man folder.
    Man,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Profiles to show; repeat for several. Defaults to every profile with
    /// a long-lived key.
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,

    /// Keys older than this are due for rotation (days; `90` or `90d`).
    #[arg(long, value_name = "DAYS", default_value = "90", value_parser = parse_days)]
    pub max_age: MaxAge,

    /// How long to wait for another aws-rekey run to finish (it holds the
    /// lock on the state folder) before giving up with exit 6, changing
    /// nothing (seconds, or `90s`, `5m`).
    #[arg(long, value_name = "SECS", default_value = "5m", value_parser = parse_duration)]
    pub lock_timeout: Duration,

    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct FindArgs {
    /// Files and folders to search. Defaults to your home folder.
    #[arg(value_name = "PATH", value_hint = clap::ValueHint::AnyPath)]
    pub paths: Vec<std::path::PathBuf>,

    /// Only the keys of these profiles; repeat for several. Defaults to
    /// every profile with a long-lived key, in either store.
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,

    /// Search the folders on the skip list below too (version control,
    /// dependencies, caches, virtualenvs).
    #[arg(long)]
    pub include_all: bool,

    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Keys older than this are due (days; `90` or `90d`; ages are compared
    /// exactly, so `0` names every key whose age is known).
    #[arg(long, value_name = "DAYS", default_value = "90", value_parser = parse_days)]
    pub max_age: MaxAge,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The profile to create.
    #[arg(long, value_name = "NAME", value_parser = section_profile_name)]
    pub profile: String,

    /// Where to keep the key.
    #[arg(long, value_enum, default_value_t = StoreArg::File)]
    pub store: StoreArg,

    /// Region to write into the profile's config.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Keep the bootstrap key instead of rotating it at once.
    #[arg(long)]
    pub no_rotate: bool,

    /// Replace a profile that already has a working key.
    #[arg(long)]
    pub force: bool,

    /// How long to wait for IAM to accept the rotated key.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_duration)]
    pub verify_timeout: Duration,

    /// How long to wait for another aws-rekey run to finish (it holds the
    /// lock on the state folder) before giving up with exit 6, changing
    /// nothing (seconds, or `90s`, `5m`).
    #[arg(long, value_name = "SECS", default_value = "5m", value_parser = parse_duration)]
    pub lock_timeout: Duration,

    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Only the inactive keys these profiles left behind; repeat for several.
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,

    /// Show what would be deleted; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// The MFA code for profiles with `mfa_serial`.
    #[arg(long, value_name = "CODE")]
    pub mfa_code: Option<String>,

    /// How long to wait for another aws-rekey run to finish (it holds the
    /// lock on the state folder) before giving up with exit 6, changing
    /// nothing (seconds, or `90s`, `5m`).
    #[arg(long, value_name = "SECS", default_value = "5m", value_parser = parse_duration)]
    pub lock_timeout: Duration,

    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Profile to roll back. Defaults to $AWS_PROFILE, then `default`.
    #[arg(
        long,
        value_name = "NAME",
        env = "AWS_PROFILE",
        default_value = "default",
        value_parser = profile_name
    )]
    pub profile: String,

    /// The MFA code, if the profile has `mfa_serial`.
    #[arg(long, value_name = "CODE")]
    pub mfa_code: Option<String>,

    /// How long to wait for IAM to accept the reactivated key.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_duration)]
    pub verify_timeout: Duration,

    /// How long to wait for another aws-rekey run to finish (it holds the
    /// lock on the state folder) before giving up with exit 6, changing
    /// nothing (seconds, or `90s`, `5m`).
    #[arg(long, value_name = "SECS", default_value = "5m", value_parser = parse_duration)]
    pub lock_timeout: Duration,

    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// A maximum key age, in days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaxAge(pub jiff::SignedDuration);

impl MaxAge {
    pub fn days(&self) -> f64 {
        self.0.as_secs_f64() / 86_400.0
    }
}

/// The longest maximum age: 100 years. Far beyond any sane policy, and far
/// inside what a timestamp can hold, so age arithmetic never overflows.
pub const MAX_AGE_DAYS: f64 = 36_500.0;

/// `90` or `90d`: whole or fractional days, from 0 to 36500. NaN, infinities,
/// negative and larger numbers are usage errors, never a crash.
pub fn parse_days(s: &str) -> Result<MaxAge, String> {
    let bad =
        || "expected a number of days from 0 to 36500 (100 years), like 90 or 90d".to_string();
    let t = s.trim();
    let n = t.strip_suffix('d').unwrap_or(t).trim();
    let days: f64 = n.parse().map_err(|_| bad())?;
    // `contains` is false for NaN too.
    if !(0.0..=MAX_AGE_DAYS).contains(&days) {
        return Err(bad());
    }
    Ok(MaxAge(jiff::SignedDuration::from_secs_f64(days * 86_400.0)))
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
        default_value = "default",
        value_parser = move_profile_name
    )]
    pub profile: String,

    /// Where the key goes.
    #[arg(long, value_enum)]
    pub to: StoreArg,

    /// How long to wait for another aws-rekey run to finish (it holds the
    /// lock on the state folder) before giving up with exit 6, changing
    /// nothing (seconds, or `90s`, `5m`).
    #[arg(long, value_name = "SECS", default_value = "5m", value_parser = parse_duration)]
    pub lock_timeout: Duration,

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
    /// For people: progress lines on stderr; on stdout the result, a line
    /// per profile or a table.
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

    /// Rotate every profile with a long-lived key, in either store: one
    /// rotation per key, concurrently, every profile holding it updated.
    #[arg(long)]
    pub all: bool,

    /// Only rotate keys older than this (days; `90` or `90d`).
    #[arg(long, value_name = "DAYS", value_parser = parse_days)]
    pub older_than: Option<MaxAge>,

    /// The MFA code for profiles with `mfa_serial`; without it, aws-rekey
    /// asks on the terminal.
    #[arg(long, value_name = "CODE")]
    pub mfa_code: Option<String>,

    /// Run COMMAND (through the shell) after each successful rotation, with
    /// the new key on its stdin as credential_process JSON. Overrides the
    /// profile's `aws_rekey_exec` setting.
    #[arg(long, value_name = "COMMAND")]
    pub exec: Option<String>,

    /// A file that also holds the profile's key (a project's .env, ~/.s3cfg):
    /// updated with the profile, and put back if the rotation is rolled
    /// back. Repeat for several; `?PATH` may be missing. Adds to the
    /// profile's `aws_rekey_also` setting, for this run.
    #[arg(
        long = "also",
        value_name = "PATH",
        value_hint = clap::ValueHint::FilePath,
        value_parser = also_path
    )]
    pub also: Vec<crate::copies::listed::Listed>,

    /// How long a hook (--exec or `aws_rekey_exec`) may run; then it is
    /// stopped, with every process it started, and reported as failed
    /// (exit 7). Seconds, or `90s`, `5m`.
    #[arg(long, value_name = "SECS", default_value = "5m", value_parser = parse_exec_timeout)]
    pub exec_timeout: Duration,

    /// How long to wait for IAM to accept the new key (seconds, or `90s`,
    /// `2m`).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_duration)]
    pub verify_timeout: Duration,

    /// How long to wait for another aws-rekey run to finish (it holds the
    /// lock on the state folder) before giving up with exit 6, changing
    /// nothing (seconds, or `90s`, `5m`).
    #[arg(long, value_name = "SECS", default_value = "5m", value_parser = parse_duration)]
    pub lock_timeout: Duration,

    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `--also PATH`: one path (`?PATH` optional, `~/` the home folder),
/// made absolute here, against the folder the command was run in: a
/// resumed run may start elsewhere.
fn also_path(s: &str) -> Result<crate::copies::listed::Listed, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("no current folder: {e}"))?;
    crate::copies::listed::parse_one(s, dirs::home_dir().as_deref(), &cwd)
}

/// An empty profile name (an empty AWS_PROFILE) means `default`, as in the
/// AWS CLI.
fn profile_name(s: &str) -> Result<String, String> {
    Ok(if s.is_empty() {
        "default".into()
    } else {
        s.to_string()
    })
}

/// A profile name for the commands that may write a section header
/// (`[NAME]`, `[profile NAME]`): one that cannot add other sections to the
/// shared files, refused before anything is read or written.
///
/// Only the characters every reader accepts in a header: the Rust SDK skips
/// a profile named otherwise, cuts a header at `#` or `;` (breaking the
/// whole file for it), and botocore shlex-splits the header, so a quote,
/// backslash or space makes a name that reads back as another profile, or
/// none. A leading `-` would read as an option in the `credential_process`
/// line.
fn section_profile_name(s: &str) -> Result<String, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c);
    if crate::ini::check_section_name(s).is_err() || !s.chars().all(allowed) || s.starts_with('-') {
        return Err(
            "a profile name that aws-rekey writes may hold only letters, digits and _ - / . % @ : + (what every AWS SDK reads in a section header), and may not start with '-'".to_string(),
        );
    }
    // configparser's DEFAULT section is no profile: the AWS CLI copies its
    // settings into every profile, the SDKs do not (the file is refused).
    if s == "DEFAULT" {
        return Err(
            "DEFAULT is configparser's section of defaults for every profile, not a profile name: choose another name".to_string(),
        );
    }
    Ok(s.to_string())
}

/// `move`: empty means `default` (as `profile_name`), and the name must be
/// writable as a section header.
fn move_profile_name(s: &str) -> Result<String, String> {
    section_profile_name(&profile_name(s)?)
}

/// The longest `--verify-timeout`: an hour. IAM accepts a new key within
/// seconds; a longer wait only hides a problem (and, unbounded, a deadline
/// past what a clock instant can hold crashed the process mid-rotation).
pub const MAX_VERIFY_TIMEOUT: Duration = Duration::from_secs(3_600);

/// `60` means seconds; `90s`, `2m`, `1m 30s` are read by jiff. At most an
/// hour; anything else is a usage error with a human message (jiff's own
/// explanation of the parse failure is left out: it reads as internals).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || "expected seconds or a duration like 90s or 2m, at most 1 hour".to_string();
    let t = s.trim();
    let d = match t.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let d: jiff::SignedDuration = t.parse().map_err(|_| bad())?;
            Duration::try_from(d).map_err(|_| bad())?
        }
    };
    if d > MAX_VERIFY_TIMEOUT {
        return Err(bad());
    }
    Ok(d)
}

/// A hook's time limit: at least a second. Zero would stop every hook at
/// once, after a rotation that cannot be undone, and call it a failure.
fn parse_exec_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_secs(1) {
        return Err("a hook needs at least 1 second (at most 1 hour)".to_string());
    }
    Ok(d)
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
    fn the_help_lists_every_exit_code() {
        use crate::exit::Exit::*;
        for exit in [
            Success,
            Failure,
            Usage,
            Refused,
            Aws,
            NotVerified,
            Incomplete,
            HookFailed,
            Due,
        ] {
            let line = format!("\n  {:<3} ", exit as u8);
            assert!(EXIT_CODES.contains(&line), "{exit:?} missing from the help");
        }
    }

    #[test]
    fn days() {
        assert_eq!(parse_days("90").unwrap().days(), 90.0);
        assert_eq!(parse_days("90d").unwrap().days(), 90.0);
        assert_eq!(parse_days("0").unwrap().days(), 0.0);
        assert_eq!(parse_days("0.5d").unwrap().days(), 0.5);
        assert_eq!(parse_days("36500d").unwrap().days(), 36_500.0);
        for bad in ["-1", "ninety", "NaN", "inf", "-inf", "1e20", "36500.5", ""] {
            assert!(parse_days(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(MAX_VERIFY_TIMEOUT));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in [
            "soon",
            "3601",
            "18446744073709551615",
            "-5s",
            "61m",
            "1e20",
            "",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
