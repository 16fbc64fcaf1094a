//! The one polling loop that waits for IAM to accept a key: read through
//! the store as written, `sts GetCallerIdentity` with what it holds, again
//! while the answer may change (propagation, a lost answer, throttling).

use crate::aws::{AwsError, KeyApi};
use crate::store::{Store, StoreError};
use std::time::Duration;

use super::Backoff;

/// Why a key did not verify.
pub enum Unverified {
    /// The store no longer holds the key: another program changed it.
    Changed,
    /// The key works, but belongs to this other identity.
    OtherUser(String),
    /// Still not accepted when the time was up: the last answer.
    TimedOut(AwsError),
    /// An answer that waiting does not change (access denied, say).
    Failed(AwsError),
    Store(StoreError),
}

/// Waits up to `timeout` until the key the store holds is `id` and reaches
/// `user_arn` (any identity when it is empty: a record from before ARNs
/// were kept).
pub async fn through_store<A: KeyApi, S: Store + ?Sized>(
    api: &A,
    store: &S,
    id: &str,
    user_arn: &str,
    timeout: Duration,
) -> Result<(), Unverified> {
    let mut backoff = Backoff::new(timeout);
    loop {
        let written = store.read().map_err(Unverified::Store)?;
        if written.id != id {
            return Err(Unverified::Changed);
        }
        let last = match api.caller_arn(&written).await {
            Ok(arn) if user_arn.is_empty() || arn == user_arn => return Ok(()),
            Ok(arn) => return Err(Unverified::OtherUser(arn)),
            Err(e) if e.transient() => e,
            Err(e) => return Err(Unverified::Failed(e)),
        };
        if !backoff.wait().await {
            return Err(Unverified::TimedOut(last));
        }
    }
}
