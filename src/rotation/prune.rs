//! `prune`'s step for one key this tool left inactive: delete it once IAM
//! shows no use of it since it was deactivated (the last step of AWS's
//! retire procedure); keep it, and say when, if something tried to use it,
//! or where, while a file on this machine still holds its id.

use super::used_after;
use crate::aws::{AwsError, KeyApi};
use crate::copies::usual::Lookout;
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
    /// Its id is still in these files (and lines): kept.
    Copies(String),
    /// `--dry-run`: it would be deleted.
    WouldDelete,
    Deleted,
}

/// Deletes the retired key `id` with `key` (the key of a profile that held
/// it), unless something used it since it was deactivated, or a file under
/// `lookout` still holds it.
pub async fn prune<A: KeyApi>(
    api: &A,
    key: &AccessKey,
    (id, retired): (&str, &RetiredKey),
    dry_run: bool,
    state: &StateLock,
    lookout: Option<&Lookout>,
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
    if let Some(lookout) = lookout {
        match lookout.copies_of(id) {
            Ok(found) if found.is_empty() => {}
            Ok(found) => return Ok(Verdict::Copies(found.describe(lookout.home.as_deref()))),
            Err(e) => {
                return Ok(Verdict::Copies(format!(
                    "places that could not be searched ({e:#})"
                )));
            }
        }
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
