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

impl Exit {
    /// The exit code of a command that handled several profiles or keys
    /// (`rotate --all`, `status`, `prune`): the most serious of their
    /// results, whatever their order, so a script sees the one that most
    /// needs a person. From most to least serious:
    ///
    /// 6 (a run to finish: state is pending), 5 (rolled back), 1 (something
    /// unexpected), 7 (rotated, but a hook failed), 3 (refused: needs the
    /// user to change something), 4 (AWS failed: a re-run may just work),
    /// 10 (`check`: due), 0. Every failure is still reported on stderr.
    pub fn combine(exits: impl IntoIterator<Item = Exit>) -> Exit {
        exits
            .into_iter()
            .max_by_key(|e| e.severity())
            .unwrap_or(Exit::Success)
    }

    fn severity(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Due => 1,
            Exit::Aws => 2,
            Exit::Refused => 3,
            Exit::HookFailed => 4,
            Exit::Usage | Exit::Failure => 5,
            Exit::NotVerified => 6,
            Exit::Incomplete => 7,
        }
    }
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

    #[test]
    fn several_results_exit_with_the_most_serious_in_any_order() {
        use Exit::*;
        let order = [
            Success,
            Due,
            Aws,
            Refused,
            HookFailed,
            Failure,
            NotVerified,
            Incomplete,
        ];
        for (i, &lesser) in order.iter().enumerate() {
            for &greater in &order[i..] {
                assert_eq!(Exit::combine([lesser, greater]), greater);
                assert_eq!(Exit::combine([greater, lesser]), greater);
            }
        }
        assert_eq!(Exit::combine([]), Success);
        assert_eq!(Exit::combine([Refused, Incomplete, Aws]), Incomplete);
    }
}
