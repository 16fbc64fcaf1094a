//! Step 3b, CreateAccessKey, and the question it can leave open: did IAM
//! make a key whose secret never arrived?
//!
//! An answered error changed nothing (`aws::classify`); a throttled request
//! is sent again after a pause. A request without an answer may have made a
//! key, and IAM's listings may lag behind it, so a listing without it is no
//! proof. IAM's limit of two keys per user is: it is checked on every
//! CreateAccessKey, so the next request settles the question. It succeeds
//! only if no key was made (the user had one key), and fails with
//! LimitExceeded if one was; then the run waits a little for IAM to list
//! that key, deletes it (the only never-used key created within the
//! request's window, see `orphan_window`), and creates again. Until the
//! question is settled the pending record keeps every such request, so a
//! later run takes it up where this one stopped.

use super::backoff::Jitter;
use super::throttle::{THROTTLE_BOUND, retrying_in, throttle_pauses};
use super::*;
use crate::aws::Created;

/// How long a run waits for IAM to list a key that LimitExceeded says
/// exists. IAM's listings usually catch up within seconds; past this the
/// run stops, keeping its record, rather than keep the user waiting, and a
/// re-run finds the key.
const LIST_LAG_WAIT: Duration = Duration::from_secs(15);

/// CreateAccessKey requests one run sends whose outcome it cannot know at
/// once (no answer, or LimitExceeded while one is open); past these it
/// stops (a network that loses every answer would otherwise make and
/// delete keys forever), and the next run takes over.
const MAX_UNSETTLED_TRIES: u32 = 3;

impl<A: KeyApi, S: Store + ?Sized> Rotation<'_, A, S> {
    /// Step 3b: CreateAccessKey, each try recorded before it is sent, never
    /// retried after a lost answer before the question it leaves is settled.
    /// On an error the record is dropped only when no request may have made
    /// a key (exit 4, nothing changed); otherwise it stays (exit 6).
    /// A key an unanswered request made, deleted on the way, goes into
    /// `deleted` (for the report).
    // Long: one loop over the tries, whose arms decide together (with the
    // pauses left, the tries left and the record) whether another may be
    // sent; split up, that state would travel through every piece.
    pub(super) async fn create_key(
        &self,
        current: &AccessKey,
        pending: &mut Pending,
        deleted: &mut Vec<String>,
    ) -> Result<Created, CommandError> {
        self.ui.step("creating a new access key");
        let mut pauses = throttle_pauses();
        let mut unsettled_tries = 0;
        // `record_intent` recorded the first try already.
        let mut first = pending
            .create_sent
            .filter(|s| pending.unanswered.last() == Some(s));
        loop {
            let sent = match first.take() {
                Some(sent) => sent,
                None => self.record_try(current, pending)?,
            };
            let error = match self.api.create_key(current).await {
                // IAM made this key, so the user had one key: no earlier
                // request made one (persist_new_secret saves this).
                Ok(created) => {
                    pending.unanswered.clear();
                    return Ok(created);
                }
                Err(e) => e,
            };
            if error.ambiguous() {
                self.ui.step(format!(
                    "CreateAccessKey may or may not have made a key ({}); looking for it",
                    detail(&error)
                ));
                deleted.extend(self.settle(current, pending, None, &error).await?);
            } else {
                // Answered: this request made nothing. (Best effort: a
                // record that still lists it only widens the search.)
                pending.unanswered.pop();
                pending.create_sent = pending.unanswered.last().copied().or(Some(sent));
                if !pending.unanswered.is_empty() {
                    let _ = self.state.save_pending(pending);
                }
                match &error {
                    AwsError::Throttled { .. } => {
                        let Some(pause) = pauses.next_pause() else {
                            let why = CommandError::Aws {
                                during: format!(
                                    "IAM kept throttling CreateAccessKey for {}",
                                    crate::state::seconds(THROTTLE_BOUND)
                                ),
                                source: error,
                            };
                            return Err(self.stop_creating(current, pending, why));
                        };
                        self.ui.step(format!(
                            "IAM is throttling CreateAccessKey; {}",
                            retrying_in(pause)
                        ));
                        tokio::time::sleep(pause).await;
                        continue;
                    }
                    AwsError::LimitExceeded(_) if !pending.unanswered.is_empty() => {
                        deleted.extend(self.settle(current, pending, Some(&error), &error).await?);
                    }
                    _ => {
                        let during = match &error {
                            AwsError::LimitExceeded(_) => {
                                "IAM refused a new key: the user already has two keys (one was created since aws-rekey looked)"
                            }
                            AwsError::Denied(_) => {
                                "you may not create access keys for your user (iam:CreateAccessKey)"
                            }
                            _ => "could not create a new key",
                        };
                        let why = CommandError::Aws {
                            during: during.into(),
                            source: error,
                        };
                        return Err(self.stop_creating(current, pending, why));
                    }
                }
            }
            unsettled_tries += 1;
            if unsettled_tries >= MAX_UNSETTLED_TRIES {
                let deleted = if pending.unanswered.is_empty() {
                    " (the keys it made were deleted again)"
                } else {
                    ""
                };
                let why = CommandError::Aws {
                    during: format!(
                        "CreateAccessKey failed {unsettled_tries} times without a clear answer{deleted}"
                    ),
                    source: error,
                };
                return Err(self.stop_creating(current, pending, why));
            }
        }
    }

    /// Records another try before it is sent: its instant.
    fn record_try(
        &self,
        current: &AccessKey,
        pending: &mut Pending,
    ) -> Result<Timestamp, CommandError> {
        let sent = Timestamp::now();
        pending.create_sent = Some(sent);
        pending.unanswered.push(sent);
        if let Err(e) = self.state.save_pending(pending) {
            pending.unanswered.pop();
            if pending.unanswered.is_empty() {
                let _ = self.state.clear_pending(&current.id);
                return Err(CommandError::Other(
                    e.context("could not record the rotation; nothing was changed"),
                ));
            }
            return Err(CommandError::Incomplete(format!(
                "could not update the rotation record ({e:#}). An earlier CreateAccessKey may have made a key; {}",
                self.kept(current)
            )));
        }
        Ok(sent)
    }

    /// After a CreateAccessKey without an answer, or LimitExceeded (`limit`)
    /// while one is open: looks for the key it may have made, and deletes
    /// it. Returns Ok when another CreateAccessKey may be sent: the key was
    /// deleted (its id), or none is listed and none is known to exist (the
    /// next request settles it). With LimitExceeded, one does exist: the
    /// listing is waited for, within `LIST_LAG_WAIT`.
    async fn settle(
        &self,
        current: &AccessKey,
        pending: &mut Pending,
        limit: Option<&AwsError>,
        error: &AwsError,
    ) -> Result<Option<String>, CommandError> {
        let mut said = false;
        let mut wait = limit.map(|_| {
            Jitter::new(
                LIST_LAG_WAIT,
                Duration::from_millis(500),
                Duration::from_secs(3),
            )
        });
        loop {
            let found = self
                .delete_orphans(current, &pending.unanswered)
                .await
                .map_err(|e| {
                    CommandError::Incomplete(format!(
                        "CreateAccessKey may have made a key ({}), and IAM could not be asked whether it did ({e}); {}",
                        detail(error),
                        self.kept(current)
                    ))
                })?;
            match found {
                Orphans::Deleted(id) => {
                    // The requests made at most one key between them.
                    pending.unanswered.clear();
                    self.ui.step(format!(
                        "deleted {}, made by a CreateAccessKey whose answer never arrived; trying again",
                        mask(&id)
                    ));
                    return Ok(Some(id));
                }
                Orphans::Unclear(why) => {
                    return Err(CommandError::Incomplete(format!(
                        "CreateAccessKey may have made a key ({}); {why}",
                        detail(error)
                    )));
                }
                Orphans::NoneCreated => {}
            }
            let Some(wait) = wait.as_mut() else {
                self.ui.step(
                    "IAM lists no such key (its listings may lag); asking again: IAM allows two keys, so a new CreateAccessKey succeeds only if the first made none",
                );
                return Ok(None);
            };
            let Some(pause) = wait.next_pause() else {
                return Err(CommandError::Incomplete(format!(
                    "IAM refused a new key ({error}): your user has two keys, but after {} IAM still does not list the second. It is the key an unanswered CreateAccessKey made, and IAM has not caught up with it yet; {}",
                    crate::state::seconds(LIST_LAG_WAIT),
                    self.kept(current)
                )));
            };
            if !said {
                said = true;
                self.ui.step(format!(
                    "IAM refused a new key (LimitExceeded): your user has two keys, but IAM does not list the second yet (its listings lag behind a new key). Waiting up to {} for it to appear",
                    crate::state::seconds(LIST_LAG_WAIT)
                ));
            }
            tokio::time::sleep(pause).await;
        }
    }

    /// What the user is told when a run stops with the question open.
    fn kept(&self, current: &AccessKey) -> String {
        format!(
            "your profile still holds its working key {}, and the record {} is kept. Re-run `aws-rekey rotate` (in a minute, if IAM is slow): it finds and deletes any key the unanswered request made, then rotates",
            current.masked_id(),
            self.state.pending_path(&current.id).display()
        )
    }

    /// Ends the create step on an answered error: the record goes only when
    /// no request of this rotation may have made a key.
    fn stop_creating(
        &self,
        current: &AccessKey,
        pending: &Pending,
        why: CommandError,
    ) -> CommandError {
        if !pending.unanswered.is_empty() {
            let _ = self.state.save_pending(pending);
            return CommandError::Incomplete(format!(
                "{why}. An earlier CreateAccessKey got no answer and may have made a key; {}",
                self.kept(current)
            ));
        }
        let _ = self.state.clear_pending(&current.id);
        match why {
            CommandError::Aws { during, source } => CommandError::Aws {
                during: format!("{during}; nothing was changed"),
                source,
            },
            other => other,
        }
    }
}

/// An error for a message mid-sentence: without the advice `Unreachable`
/// carries for a run that stops there.
fn detail(e: &AwsError) -> String {
    match e {
        AwsError::Unreachable(cause) => format!("no answer: {cause}"),
        e => e.to_string(),
    }
}
