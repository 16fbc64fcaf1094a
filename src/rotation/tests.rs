//! The protocol against an in-memory IAM and store: every branch, fast.

use super::*;
use crate::secret::Secret;

use super::fakes::*;

#[test]
fn rotates_verifies_and_deletes_the_old_key() {
    let f = fixture();
    f.iam.refuse_new.set(2);
    let outcome = rotate(&f, &opts(false)).unwrap();
    let new = f.store.read().unwrap();
    assert_eq!(outcome.new_key_id.as_deref(), Some(new.id.as_str()));
    assert_eq!(outcome.old_key, OldKeyFate::Deleted);
    assert_eq!(f.iam.ids(), vec![(new.id.clone(), true)]);
    assert!(f.state.pending().unwrap().is_empty());
    assert!(f.state.book().unwrap().keys.contains_key(&new.id));
}

#[test]
fn a_key_that_never_verifies_is_rolled_back() {
    let f = fixture();
    f.iam.refuse_new.set(u32::MAX);
    let err = rotate(&f, &opts(false)).unwrap_err();
    assert!(matches!(err, CommandError::NotVerified(_)), "{err}");
    assert_eq!(f.store.read().unwrap().id, "AKIAOLD0000000000000");
    assert_eq!(f.iam.ids(), vec![("AKIAOLD0000000000000".into(), true)]);
    assert!(f.state.pending().unwrap().is_empty());
}

/// The key a lost answer's request made is found, deleted, and the
/// rotation goes on with a second request.
#[test]
fn a_lost_create_answer_deletes_the_orphan_then_rotates() {
    let f = fixture();
    f.iam.lose_create.set(1);
    let outcome = rotate(&f, &opts(false)).unwrap();
    assert_eq!(f.iam.created.get(), 2);
    assert_eq!(
        outcome.deleted_leftovers,
        vec!["AKIANEW0000000000001".to_string()]
    );
    let new = f.store.read().unwrap();
    assert_eq!(outcome.new_key_id.as_deref(), Some(new.id.as_str()));
    assert_eq!(f.iam.ids(), vec![(new.id, true)]);
    assert!(f.state.pending().unwrap().is_empty());
}

/// The state a run killed right after the new secret was saved leaves,
/// its record listing `also`.
fn killed_after_the_new_secret_was_saved(f: &Fixture, also: Vec<crate::copies::listed::Listed>) {
    let created = f.iam.keys.borrow().len();
    assert_eq!(created, 1);
    f.iam.created.set(1);
    f.iam.keys.borrow_mut().push(FakeKey::new(
        "AKIANEW0000000000001",
        "secret-1",
        Timestamp::now(),
    ));
    let mut record = Pending {
        version: PENDING_VERSION,
        profile: "p".into(),
        location: f.store.location(),
        user_arn: ARN.into(),
        started: Timestamp::now(),
        phase: Phase::Created,
        old_key_id: "AKIAOLD0000000000000".into(),
        old_secret: Secret::new("old-secret"),
        new_key: Some(NewKey {
            id: "AKIANEW0000000000001".into(),
            secret: Secret::new("secret-1"),
            created: Timestamp::now(),
        }),
        keep_old: false,
        create_sent: None,
        unanswered: Vec::new(),
        holders: vec!["p".into()],
        switched: None,
        retire: None,
        also,
    };
    record.version = record.version_needed();
    f.state.save_pending(&record).unwrap();
}

#[test]
fn an_interrupted_rotation_is_finished_by_the_next_run() {
    let f = fixture();
    killed_after_the_new_secret_was_saved(&f, Vec::new());
    let outcome = rotate(&f, &opts(false)).unwrap();
    assert!(outcome.recovered.is_some());
    assert_eq!(f.store.read().unwrap().id, "AKIANEW0000000000001");
    assert_eq!(f.iam.ids(), vec![("AKIANEW0000000000001".into(), true)]);
    assert!(f.state.pending().unwrap().is_empty());
}

/// Issue 12: a resumed run switches the managed copies its record lists
/// (this run names no copies itself: the record's list is what counts).
#[test]
fn an_interrupted_rotation_switches_the_copies_its_record_lists() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join(".env");
    #[allow(clippy::disallowed_methods)] // a fixture
    std::fs::write(&env_file, "K=AKIAOLD0000000000000\nS=old-secret\n").unwrap();
    let listed = crate::copies::listed::Listed {
        path: env_file.clone(),
        optional: false,
    };
    killed_after_the_new_secret_was_saved(&f, vec![listed]);
    let outcome = rotate(&f, &opts(false)).unwrap();
    assert!(outcome.recovered.is_some());
    assert_eq!(f.store.read().unwrap().id, "AKIANEW0000000000001");
    assert_eq!(
        std::fs::read_to_string(&env_file).unwrap(),
        "K=AKIANEW0000000000001\nS=secret-1\n"
    );
    assert_eq!(outcome.also.len(), 1);
    assert_eq!(outcome.also[0].status, CopyStatus::Updated);
}

#[test]
fn keep_old_then_the_next_rotation_deletes_it() {
    let f = fixture();
    let first = rotate(&f, &opts(true)).unwrap();
    assert_eq!(first.old_key, OldKeyFate::Deactivated);
    assert!(
        f.state
            .retired_secret("AKIAOLD0000000000000")
            .unwrap()
            .is_some()
    );
    assert_eq!(f.iam.ids().len(), 2);
    let second = rotate(&f, &opts(false)).unwrap();
    assert_eq!(
        second.deleted_leftovers,
        vec!["AKIAOLD0000000000000".to_string()]
    );
    assert_eq!(f.iam.ids().len(), 1);
    assert!(
        f.state
            .retired_secret("AKIAOLD0000000000000")
            .unwrap()
            .is_none()
    );
}

#[test]
fn an_unknown_second_key_is_refused_and_left_alone() {
    let f = fixture();
    f.iam
        .keys
        .borrow_mut()
        .push(FakeKey::new("AKIASOMEONEELSES0000", "x", Timestamp::now()));
    let err = rotate(&f, &opts(false)).unwrap_err();
    assert!(matches!(err, CommandError::Refused(_)), "{err}");
    assert!(err.to_string().contains("AKIA…0000"), "{err}");
    assert_eq!(f.iam.ids().len(), 2);
    assert_eq!(f.store.read().unwrap().id, "AKIAOLD0000000000000");
}

const OLD: &str = "AKIAOLD0000000000000";

/// The record an earlier run leaves when its CreateAccessKey, sent at
/// `sent`, got no answer.
fn creating_record(f: &Fixture, sent: Timestamp) {
    f.state
        .save_pending(&Pending {
            version: PENDING_VERSION,
            profile: "p".into(),
            location: f.store.location(),
            user_arn: ARN.into(),
            started: sent,
            phase: Phase::Creating,
            old_key_id: OLD.into(),
            old_secret: Secret::new("old-secret"),
            new_key: None,
            keep_old: false,
            create_sent: Some(sent),
            unanswered: vec![sent],
            holders: vec!["p".into()],
            switched: None,
            retire: None,
            also: Vec::new(),
        })
        .unwrap();
}

/// The one key the store now holds, and IAM holds only it.
fn rotated_to_one_key(f: &Fixture) -> String {
    let new = f.store.read().unwrap();
    assert_ne!(new.id, OLD);
    assert_eq!(f.iam.ids(), vec![(new.id.clone(), true)]);
    assert!(f.state.pending().unwrap().is_empty());
    new.id
}

#[test]
fn a_throttled_create_is_retried_and_makes_one_key() {
    let f = fixture();
    f.iam.throttle_create.set(5);
    rotate(&f, &opts(false)).unwrap();
    assert_eq!(f.iam.created.get(), 1);
    assert_eq!(f.iam.throttle_create.get(), 0);
    rotated_to_one_key(&f);
}

#[test]
fn a_create_throttled_past_the_bound_changes_nothing() {
    let f = fixture();
    f.iam.throttle_create.set(u32::MAX);
    let err = rotate(&f, &opts(false)).unwrap_err();
    assert!(matches!(err, CommandError::Aws { .. }), "{err}");
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    assert!(u32::MAX - f.iam.throttle_create.get() >= 5, "retried");
    assert_eq!(f.iam.ids(), vec![(OLD.into(), true)]);
    assert_eq!(f.store.read().unwrap().id, OLD);
    assert!(f.state.pending().unwrap().is_empty());
}

#[test]
fn throttled_reads_are_retried() {
    let f = fixture();
    f.iam.throttle_reads.set(6);
    rotate(&f, &opts(false)).unwrap();
    assert_eq!(f.iam.throttle_reads.get(), 0);
    rotated_to_one_key(&f);
}

/// A 500 does not say whether a key was made; nothing is listed, and the
/// next CreateAccessKey succeeds: IAM allows two keys, so the first made
/// none.
#[test]
fn a_500_on_create_is_settled_by_the_next_create() {
    let f = fixture();
    f.iam.fail_create.set(1);
    f.iam.list_lag.set(5);
    rotate(&f, &opts(false)).unwrap();
    assert_eq!(f.iam.created.get(), 1);
    rotated_to_one_key(&f);
}

/// The scenario: the lost request made a key that IAM lists only
/// later. LimitExceeded says it exists; the run waits, deletes it, rotates.
#[test]
fn a_lost_create_under_a_lagging_listing_is_settled_by_limit_exceeded() {
    let f = fixture();
    f.iam.lose_create.set(1);
    f.iam.list_lag.set(3);
    rotate(&f, &opts(false)).unwrap();
    assert_eq!(f.iam.created.get(), 2, "the orphan and the new key");
    rotated_to_one_key(&f);
}

/// A lag longer than the run waits: the record stays (exit 6), with the
/// request in it; the next run deletes the orphan and rotates.
#[test]
fn a_lost_create_under_a_long_lag_keeps_its_record_for_the_next_run() {
    let f = fixture();
    f.iam.lose_create.set(1);
    f.iam.list_lag.set(1000);
    let err = rotate(&f, &opts(false)).unwrap_err();
    assert!(matches!(err, CommandError::Incomplete(_)), "{err}");
    assert!(err.to_string().contains("Re-run"), "{err}");
    assert_eq!(f.store.read().unwrap().id, OLD);
    assert_eq!(f.iam.ids().len(), 2);
    let records = f.state.pending().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].phase, Phase::Creating);
    assert_eq!(records[0].unanswered.len(), 1, "the lost request only");
    assert_eq!(
        records[0].create_sent,
        records[0].unanswered.first().copied()
    );

    for k in f.iam.keys.borrow_mut().iter_mut() {
        k.unlisted = 0;
    }
    let outcome = rotate(&f, &opts(false)).unwrap();
    assert_eq!(outcome.deleted_leftovers.len(), 1, "the orphan");
    assert_eq!(f.iam.created.get(), 2);
    rotated_to_one_key(&f);
}

/// The next run's recovery does not see the orphan yet, its own listing a
/// moment later does: make_room takes it for the orphan, not for a key it
/// must refuse to touch.
#[test]
fn an_orphan_listed_between_recovery_and_make_room_is_deleted() {
    let f = fixture();
    let sent = Timestamp::now() - SignedDuration::from_secs(5);
    creating_record(&f, sent);
    let mut orphan = FakeKey::new("AKIANEW0000000000099", "lost", sent);
    orphan.unlisted = 2; // the recovery's listing leaves it out
    f.iam.keys.borrow_mut().push(orphan);
    let outcome = rotate(&f, &opts(false)).unwrap();
    assert_eq!(
        outcome.deleted_leftovers,
        vec!["AKIANEW0000000000099".to_string()]
    );
    rotated_to_one_key(&f);
}

/// The record stays but no key ever appears (the request never reached
/// IAM): no waiting, the next CreateAccessKey settles it.
#[test]
fn a_record_whose_request_made_nothing_is_settled_by_the_next_create() {
    let f = fixture();
    creating_record(&f, Timestamp::now() - SignedDuration::from_secs(30));
    f.iam.list_lag.set(1000);
    rotate(&f, &opts(false)).unwrap();
    assert_eq!(f.iam.created.get(), 1);
    rotated_to_one_key(&f);
}

/// An old key made by hand long before the lost request is not its key,
/// even when IAM then refuses a new key: nothing is deleted, the record
/// stays.
#[test]
fn limit_exceeded_never_makes_a_key_outside_the_window_the_orphan() {
    let f = fixture();
    let sent = Timestamp::now() - SignedDuration::from_secs(5);
    creating_record(&f, sent);
    let mut by_hand = FakeKey::new(
        "AKIABYHAND0000000000",
        "x",
        sent - SignedDuration::from_hours(1),
    );
    by_hand.unlisted = 1000;
    f.iam.keys.borrow_mut().push(by_hand);
    let err = rotate(&f, &opts(false)).unwrap_err();
    assert!(matches!(err, CommandError::Incomplete(_)), "{err}");
    assert_eq!(f.iam.ids().len(), 2, "nothing deleted");
    assert_eq!(f.store.read().unwrap().id, OLD);
    assert_eq!(f.state.pending().unwrap().len(), 1);
}

/// Every answer lost: the run stops after a few tries instead of making
/// and deleting keys forever, and leaves nothing behind.
#[test]
fn a_network_that_loses_every_create_answer_stops_the_run() {
    let f = fixture();
    f.iam.lose_create.set(u32::MAX);
    let err = rotate(&f, &opts(false)).unwrap_err();
    assert!(matches!(err, CommandError::Aws { .. }), "{err}");
    assert_eq!(f.iam.created.get(), 3);
    assert_eq!(f.iam.ids(), vec![(OLD.into(), true)]);
    assert!(f.state.pending().unwrap().is_empty());
}

/// `--older-than` skips a young key, but not the question an interrupted
/// run left open: a cron job with it would otherwise never settle it.
#[test]
fn older_than_does_not_leave_an_unsettled_record_behind() {
    let f = fixture();
    creating_record(&f, Timestamp::now() - SignedDuration::from_secs(30));
    let mut o = opts(false);
    o.older_than = Some(SignedDuration::from_hours(24 * 365));
    let outcome = rotate(&f, &o).unwrap();
    assert!(outcome.skipped.is_none(), "{:?}", outcome.skipped);
    rotated_to_one_key(&f);
}

/// `--older-than` skips a young key after a recovery deleted an orphan:
/// the report still says what the recovery did.
#[test]
fn a_skip_after_a_recovery_reports_what_the_recovery_did() {
    let f = fixture();
    let sent = Timestamp::now() - SignedDuration::from_secs(5);
    creating_record(&f, sent);
    f.iam
        .keys
        .borrow_mut()
        .push(FakeKey::new("AKIANEW0000000000098", "lost", sent));
    let mut young = opts(false);
    young.older_than = Some(SignedDuration::from_hours(24 * 1000));
    let outcome = rotate(&f, &young).unwrap();
    assert!(outcome.skipped.is_some(), "{outcome:?}");
    assert_eq!(
        outcome.deleted_leftovers,
        vec!["AKIANEW0000000000098".to_string()]
    );
    assert!(outcome.recovered.is_some(), "{outcome:?}");
}
