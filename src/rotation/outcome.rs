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
