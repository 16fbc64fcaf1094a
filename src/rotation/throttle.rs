//! Patience with IAM's throttling. A throttled request was answered, and
//! the answer says it was not executed (see `aws::classify`), so it is tried
//! again after a jittered pause, within a bound, saying so.

use super::backoff::Jitter;
use crate::aws::{AwsError, Created, KeyApi, KeyMeta, LastUsed};
use crate::secret::AccessKey;
use crate::ui::Ui;
use std::time::Duration;

/// How long a throttled request is retried before the run gives up on it.
/// IAM's throttling of one account's requests usually eases within
/// seconds; a minute covers a burst from other tools on the same account,
/// and is still a wait a person at a terminal accepts (they are told).
pub const THROTTLE_BOUND: Duration = Duration::from_secs(60);

/// The pauses for `THROTTLE_BOUND`: from about a second, up to ten.
pub fn throttle_pauses() -> Jitter {
    Jitter::new(
        THROTTLE_BOUND,
        Duration::from_secs(1),
        Duration::from_secs(10),
    )
}

/// "retrying in 1.5s"
pub fn retrying_in(pause: Duration) -> String {
    format!("retrying in {:.1}s", pause.as_secs_f64())
}

/// An IAM/STS client that retries throttled calls, on top of the SDK's own
/// three attempts. CreateAccessKey is passed through untouched: each of its
/// tries must be recorded before it is sent, which the rotation's create
/// step does (with the same pauses).
pub struct Patient<'a, A: KeyApi> {
    api: &'a A,
    ui: &'a Ui,
}

impl<'a, A: KeyApi> Patient<'a, A> {
    pub fn new(api: &'a A, ui: &'a Ui) -> Self {
        Patient { api, ui }
    }

    async fn retry<T, F, Fut>(&self, action: &str, mut call: F) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let mut pauses = throttle_pauses();
        loop {
            match call().await {
                Err(e) if e.throttled() => {
                    let Some(pause) = pauses.next_pause() else {
                        return Err(e);
                    };
                    self.ui.step(format!(
                        "IAM is throttling {action}; {}",
                        retrying_in(pause)
                    ));
                    tokio::time::sleep(pause).await;
                }
                result => return result,
            }
        }
    }
}

impl<A: KeyApi> KeyApi for Patient<'_, A> {
    async fn caller_arn(&self, key: &AccessKey) -> Result<String, AwsError> {
        self.retry("GetCallerIdentity", || self.api.caller_arn(key))
            .await
    }

    async fn list_keys(&self, key: &AccessKey) -> Result<Vec<KeyMeta>, AwsError> {
        self.retry("ListAccessKeys", || self.api.list_keys(key))
            .await
    }

    async fn last_used(&self, key: &AccessKey, id: &str) -> Result<LastUsed, AwsError> {
        self.retry("GetAccessKeyLastUsed", || self.api.last_used(key, id))
            .await
    }

    async fn create_key(&self, key: &AccessKey) -> Result<Created, AwsError> {
        self.api.create_key(key).await
    }

    async fn delete_key(&self, key: &AccessKey, id: &str) -> Result<(), AwsError> {
        self.retry("DeleteAccessKey", || self.api.delete_key(key, id))
            .await
    }

    async fn set_active(&self, key: &AccessKey, id: &str, active: bool) -> Result<(), AwsError> {
        self.retry("UpdateAccessKey", || self.api.set_active(key, id, active))
            .await
    }
}
