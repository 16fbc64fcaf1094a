//! `prune`'s step for one key this tool left inactive: delete it once IAM
//! shows no use of it since it was deactivated (the last step of AWS's
//! retire procedure); keep it, and say when, if something tried to use it.

use super::used_after;
use crate::aws::{AwsError, KeyApi};
use crate::error::CommandError;
use crate::secret::{AccessKey, mask};
use crate::state::{RetiredKey, StateLock};

/// What became of a retired key.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Already deleted elsewhere; forgotten.
    Gone,
    /// Used after its deactivation (when, by what): kept.
    Used(String),
    /// `--dry-run`: it would be deleted.
    WouldDelete,
    Deleted,
}

/// Deletes the retired key `id` with `key` (the key of a profile that held
/// it), unless something used it since it was deactivated.
pub async fn prune<A: KeyApi>(
    api: &A,
    key: &AccessKey,
    id: &str,
    retired: &RetiredKey,
    dry_run: bool,
    state: &StateLock,
) -> Result<Verdict, CommandError> {
    let aws = |source: AwsError| CommandError::Aws {
        during: format!("could not prune {}", mask(id)),
        source,
    };
    let used = match api.last_used(key, id).await {
        Ok(u) => u,
        Err(AwsError::NotFound(_)) => {
            forget(state, id);
            return Ok(Verdict::Gone);
        }
        Err(e) => return Err(aws(e)),
    };
    if let Some(when) = used_after(&used, retired.deactivated) {
        return Ok(Verdict::Used(when));
    }
    if dry_run {
        return Ok(Verdict::WouldDelete);
    }
    match api.delete_key(key, id).await {
        Ok(()) | Err(AwsError::NotFound(_)) => {}
        Err(e) => return Err(aws(e)),
    }
    forget(state, id);
    Ok(Verdict::Deleted)
}

/// The key book and the kept secret let go of a key that no longer exists.
fn forget(state: &StateLock, id: &str) {
    let _ = state.update_book(|b| {
        b.retired.remove(id);
    });
    let _ = state.forget_retired_secret(id);
}

#[cfg(test)]
mod tests;
