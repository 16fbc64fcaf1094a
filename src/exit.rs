//! Exit codes: stable, documented in the README, relied on by scripts.

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// Something unexpected (an I/O error, a bug).
    Failure = 1,
    /// Bad command-line usage (clap's own code).
    Usage = 2,
    /// Refused before changing anything: the profile cannot be rotated as it
    /// is (unknown, temporary, role or SSO, malformed file, a second key).
    Refused = 3,
    /// An AWS call failed (network, access denied); nothing was changed.
    Aws = 4,
    /// Rolled back: the new key could not be stored or never verified; the
    /// old key is back and the new one deleted.
    NotVerified = 5,
    /// Interrupted part-way; state is saved and a re-run finishes the job.
    Incomplete = 6,
    /// Rotated, but a post-rotation hook (`--exec`) failed.
    HookFailed = 7,
    /// `check`: a key is older than the maximum age, or a rotation was
    /// interrupted.
    Due = 10,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let codes = [
            (Exit::Success, 0),
            (Exit::Failure, 1),
            (Exit::Usage, 2),
            (Exit::Refused, 3),
            (Exit::Aws, 4),
            (Exit::NotVerified, 5),
            (Exit::Incomplete, 6),
            (Exit::HookFailed, 7),
            (Exit::Due, 10),
        ];
        for (exit, code) in codes {
            assert_eq!(exit as u8, code, "{exit:?}");
        }
    }
}
