//! What a rotation did, for the report (text or JSON).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OldKeyFate {
    Deleted,
    Deactivated,
    /// `--dry-run`: what a real run would do.
    WouldDelete,
    WouldDeactivate,
    /// `--older-than`: the key was young enough to keep.
    Kept,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub profile: String,
    /// Every profile that held the key and now holds the new one.
    pub profiles: Vec<String>,
    pub user_arn: String,
    pub old_key_id: String,
    pub new_key_id: Option<String>,
    pub old_key: OldKeyFate,
    pub verify_seconds: f64,
    /// What was done about an earlier, interrupted run, if anything.
    pub recovered: Option<String>,
    /// Keys deleted before rotating: ones this tool left inactive earlier,
    /// or one an interrupted run created whose secret never arrived.
    pub deleted_leftovers: Vec<String>,
    pub dry_run: bool,
    /// Why nothing was rotated (`--older-than`).
    pub skipped: Option<String>,
    /// Things the user should know, such as an old key that was still in
    /// use and was therefore deactivated rather than deleted.
    pub warnings: Vec<String>,
    /// The managed copies (`aws_rekey_also`, `--also`) and what became of
    /// each.
    pub also: Vec<super::CopyReport>,
}

impl Outcome {
    /// No new key: `old_key` says what a run did or would do with the key
    /// (`Kept` when it was young enough, a `Would…` in a dry run).
    fn unrotated(
        profile: &str,
        profiles: Vec<String>,
        user_arn: &str,
        old: &str,
        old_key: OldKeyFate,
    ) -> Self {
        Outcome {
            profile: profile.to_string(),
            profiles,
            user_arn: user_arn.to_string(),
            old_key_id: old.to_string(),
            new_key_id: None,
            old_key,
            verify_seconds: 0.0,
            recovered: None,
            deleted_leftovers: Vec::new(),
            dry_run: false,
            skipped: None,
            warnings: Vec::new(),
            also: Vec::new(),
        }
    }

    /// `--older-than`: the key was young enough (`reason`) to keep.
    pub fn skipped(
        profile: &str,
        profiles: Vec<String>,
        user_arn: &str,
        old: &str,
        reason: String,
        dry_run: bool,
    ) -> Self {
        Outcome {
            skipped: Some(reason),
            dry_run,
            ..Self::unrotated(profile, profiles, user_arn, old, OldKeyFate::Kept)
        }
    }

    /// `--dry-run`: what a real run would do, and the leftovers it would
    /// delete first.
    pub fn planned(
        profile: &str,
        profiles: Vec<String>,
        user_arn: &str,
        old: &str,
        fate: OldKeyFate,
        leftovers: Vec<String>,
    ) -> Self {
        Outcome {
            dry_run: true,
            deleted_leftovers: leftovers,
            ..Self::unrotated(profile, profiles, user_arn, old, fate)
        }
    }

    /// A rotation done: the new key, the old key's fate (the caller adds
    /// the verification time and the warnings).
    pub fn rotated(
        profile: &str,
        profiles: Vec<String>,
        user_arn: &str,
        old: &str,
        new: &str,
        fate: OldKeyFate,
    ) -> Self {
        Outcome {
            new_key_id: Some(new.to_string()),
            ..Self::unrotated(profile, profiles, user_arn, old, fate)
        }
    }
}
