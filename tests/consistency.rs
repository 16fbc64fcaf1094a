//! IAM as it really behaves (issue 10, items 2 and 3): it throttles, and its
//! listings lag behind a key just created. An answered error changed
//! nothing and is retried; only a missing answer is ambiguous, and then the
//! intent record stays until the question "did IAM make a key whose secret
//! never arrived?" is settled: the user never deletes a key by hand because
//! aws-rekey lost track of it. Every run is checked with `assert_safe`
//! (the profile's key works, at most two keys, no live key's secret lost).

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

fn rotated(env: &TestEnv, user: &User) -> Key {
    let key = env.file_key("default");
    assert_ne!(key, user.key, "the profile holds a new key");
    assert!(!env.key_works(&user.key), "the old key was retired");
    key
}

/// The statuses the emulator logged for one action, in order.
fn statuses(env: &TestEnv, action: &str) -> Vec<String> {
    env.emu
        .log()
        .into_iter()
        .filter(|(a, ..)| a == action)
        .map(|(.., s)| s)
        .collect()
}

#[test]
fn a_throttled_create_is_retried_and_makes_exactly_one_key() {
    let env = TestEnv::new();
    let user = env.emu.user("throttled");
    env.simple_profile(&user);
    env.emu.clear_log();
    env.emu.fail_action("CreateAccessKey", "throttle", 3);
    let run = env.run(&["rotate"]);
    env.emu.clear_faults();
    run.success();
    assert!(
        run.stderr().contains("IAM is throttling") && run.stderr().contains("retrying in"),
        "progress is shown: {}",
        run.stderr()
    );
    assert_eq!(
        statuses(&env, "CreateAccessKey"),
        [
            "injected-throttle",
            "injected-throttle",
            "injected-throttle",
            "200"
        ]
    );
    rotated(&env, &user);
    env.assert_clean(&user, "default", "after a throttled create");
}

/// Throttled for longer than aws-rekey waits (about a minute): exit 4, and
/// nothing changed: no key, no record, the file as it was.
#[test]
fn a_create_throttled_past_the_bound_changes_nothing() {
    let env = TestEnv::new();
    let user = env.emu.user("throttled2");
    env.simple_profile(&user);
    let before = env.read_credentials();
    env.emu.clear_log();
    env.emu.fail_action("CreateAccessKey", "throttle", -1);
    let start = Instant::now();
    let run = env.run(&["rotate"]);
    let took = start.elapsed();
    env.emu.clear_faults();
    run.exit(4);
    assert!(
        run.stderr().contains("nothing was changed"),
        "{}",
        run.stderr()
    );
    let tries = env.emu.count("CreateAccessKey");
    assert!(tries >= 4, "retried for a while, {tries} tries");
    assert!(
        took >= Duration::from_secs(45) && took <= Duration::from_secs(100),
        "retried within its bound, {took:?}"
    );
    assert_eq!(env.read_credentials(), before);
    assert_eq!(
        env.emu.keys("throttled2"),
        vec![(user.key.id.clone(), "Active".to_string())]
    );
    assert!(env.pending_records().is_empty());
    assert!(env.key_works(&user.key));
}

/// More throttled answers on each read than the SDK's own three attempts.
#[test]
fn throttled_reads_do_not_fail_the_rotation() {
    let env = TestEnv::new();
    let user = env.emu.user("throttled3");
    env.simple_profile(&user);
    env.emu.clear_log();
    env.emu.fault(json!({ "actions": {
        "GetCallerIdentity": { "mode": "throttle", "times": 4 },
        "ListAccessKeys": { "mode": "throttle", "times": 4 },
        "GetAccessKeyLastUsed": { "mode": "throttle", "times": 4 },
    }}));
    let run = env.run(&["rotate"]);
    env.emu.clear_faults();
    run.success();
    for action in [
        "GetCallerIdentity",
        "ListAccessKeys",
        "GetAccessKeyLastUsed",
    ] {
        let throttled = statuses(&env, action)
            .iter()
            .filter(|s| *s == "injected-throttle")
            .count();
        assert_eq!(throttled, 4, "{action} was throttled four times");
    }
    rotated(&env, &user);
    env.assert_clean(&user, "default", "after throttled reads");
}

/// A 503 ServiceUnavailable is an answer: IAM shed the request, as when
/// throttling. It is retried, not taken for a request that may have run.
#[test]
fn a_create_answered_503_is_retried_like_throttling() {
    let env = TestEnv::new();
    let user = env.emu.user("unavailable");
    env.simple_profile(&user);
    env.emu.clear_log();
    env.emu.fail_action("CreateAccessKey", "503", 2);
    let run = env.run(&["rotate"]);
    env.emu.clear_faults();
    run.success();
    assert_eq!(
        statuses(&env, "CreateAccessKey"),
        ["injected-503", "injected-503", "200"]
    );
    // Retried as throttling, with no orphan hunt: nothing could have been
    // created.
    assert!(
        run.stderr().contains("IAM is throttling CreateAccessKey"),
        "{}",
        run.stderr()
    );
    assert!(
        !run.stderr().contains("may or may not have made a key"),
        "not ambiguous: {}",
        run.stderr()
    );
    rotated(&env, &user);
    env.assert_clean(&user, "default", "after a 503");
}

/// A 500 InternalFailure does not say whether the key was made: it is
/// ambiguous. Nothing is listed, and the next CreateAccessKey settles it
/// (IAM allows two keys: it succeeds only if the first made none).
#[test]
fn a_create_answered_500_is_settled_by_the_next_create() {
    let env = TestEnv::new();
    let user = env.emu.user("internal");
    env.simple_profile(&user);
    env.emu.clear_log();
    env.emu.fault(json!({
        "list_lag_s": 30,
        "actions": { "CreateAccessKey": { "mode": "500", "times": 1 } },
    }));
    let run = env.run(&["rotate"]);
    env.emu.clear_faults();
    run.success();
    assert_eq!(statuses(&env, "CreateAccessKey"), ["injected-500", "200"]);
    rotated(&env, &user);
    env.assert_clean(&user, "default", "after a 500 on create");
}

/// The issue's own scenario: CreateAccessKey takes effect, its answer is
/// lost, and ListAccessKeys lags a few seconds behind the new key. The run
/// must neither say "nothing was changed" nor drop its record: IAM's
/// LimitExceeded on the next CreateAccessKey proves the orphan exists; the
/// run waits for IAM to list it, deletes it, and rotates.
#[test]
fn a_lost_create_under_list_lag_is_settled_in_the_same_run() {
    let env = TestEnv::new();
    let user = env.emu.user("lag1");
    env.simple_profile(&user);
    env.emu.clear_log();
    env.emu.fault(json!({
        "list_lag_s": 5,
        "actions": { "CreateAccessKey": { "mode": "lost", "times": 1 } },
    }));
    let run = env.run(&["rotate", "--output", "json"]);
    env.emu.clear_faults();
    run.success();
    let err = run.stderr();
    assert!(err.contains("LimitExceeded"), "{err}");
    assert!(
        err.contains("Waiting up to"),
        "says it waits for IAM: {err}"
    );
    assert!(err.contains("whose answer never arrived"), "{err}");
    let creates = statuses(&env, "CreateAccessKey");
    assert_eq!(creates.first().map(String::as_str), Some("lost-200"));
    assert_eq!(creates.last().map(String::as_str), Some("200"));
    let new = rotated(&env, &user);
    env.assert_clean(&user, "default", "after the orphan was settled");
    // The report names the orphan it deleted: neither the old key nor the new.
    let doc = run.json();
    let deleted = doc["deleted_leftovers"].as_array().unwrap();
    assert_eq!(deleted.len(), 1, "{doc}");
    assert_ne!(deleted[0], user.key.id.as_str());
    assert_ne!(deleted[0], new.id.as_str());
}

/// A lag longer than the run waits: the run keeps its record (exit 6) and
/// says a re-run settles it; the old key still works; whether the re-run
/// comes at once (the orphan still unlisted) or later, it deletes the
/// orphan and rotates.
fn lost_create_under_a_long_lag(name: &str, rerun_after: Duration) {
    let env = TestEnv::new();
    let user = env.emu.user(name);
    env.simple_profile(&user);
    let lag = 25;
    env.emu.fault(json!({
        "list_lag_s": lag,
        "actions": { "CreateAccessKey": { "mode": "lost", "times": 1 } },
    }));
    let start = Instant::now();
    let first = env.run(&["rotate"]);
    first.exit(6);
    assert!(
        first.stderr().contains("Re-run `aws-rekey rotate`"),
        "says a re-run settles it: {}",
        first.stderr()
    );
    assert!(
        !first.stderr().contains("nothing was changed"),
        "{}",
        first.stderr()
    );
    env.assert_safe(&user, "default", "after the first run");
    assert_eq!(env.file_key("default"), user.key);
    assert_eq!(env.emu.keys(name).len(), 2, "the orphan exists");
    assert_eq!(env.pending_records().len(), 1, "the record is kept");
    assert_eq!(env.pending_records()[0]["phase"], "creating");

    if let Some(rest) = rerun_after.checked_sub(start.elapsed()) {
        std::thread::sleep(rest);
    }
    let again = env.run(&["rotate"]);
    env.emu.clear_faults();
    again.success();
    assert!(
        again.stderr().contains("whose answer never arrived"),
        "{}",
        again.stderr()
    );
    rotated(&env, &user);
    env.assert_clean(&user, "default", "after the re-run");
}

#[test]
fn a_lost_create_under_a_long_lag_is_settled_by_an_immediate_re_run() {
    lost_create_under_a_long_lag("lag2", Duration::ZERO);
}

#[test]
fn a_lost_create_under_a_long_lag_is_settled_by_a_later_re_run() {
    lost_create_under_a_long_lag("lag3", Duration::from_secs(27));
}

/// Two rotations in a row while listings lag: the second starts with a key
/// IAM does not list yet, and its own CreateAccessKey loses its answer.
#[test]
fn two_rotations_in_a_row_under_lag() {
    let env = TestEnv::new();
    let user = env.emu.user("lag4");
    env.simple_profile(&user);
    env.emu.fault(json!({
        "list_lag_s": 8,
        "actions": { "CreateAccessKey": {
            "mode": "lost", "times": 1, "after": "CreateAccessKey"
        } },
    }));
    env.run(&["rotate"]).success();
    let first = rotated(&env, &user);
    env.assert_safe(&user, "default", "after the first rotation");
    let second = env.run(&["rotate"]);
    env.emu.clear_faults();
    second.success();
    let now = env.file_key("default");
    assert_ne!(now, first);
    assert!(!env.key_works(&first));
    env.assert_clean(&user, "default", "after two rotations");
}

/// The record is kept but the request never reached IAM (a 500 before it,
/// then the listing failed too): the next run needs no waiting, its own
/// CreateAccessKey settles the question, even while listings lag.
#[test]
fn a_record_whose_request_never_arrived_is_settled_by_the_next_create() {
    let env = TestEnv::new();
    let user = env.emu.user("never");
    env.simple_profile(&user);
    env.emu.fault(json!({ "actions": {
        "CreateAccessKey": { "mode": "500", "times": 1 },
        "ListAccessKeys": { "mode": "500", "times": -1, "after": "CreateAccessKey" },
    }}));
    env.run(&["rotate"]).exit(6);
    env.assert_safe(&user, "default", "after the first run");
    assert_eq!(env.pending_records().len(), 1);
    env.emu.fault(json!({ "list_lag_s": 30 }));
    let start = Instant::now();
    let again = env.run(&["rotate"]);
    env.emu.clear_faults();
    again.success();
    assert!(start.elapsed() < Duration::from_secs(10), "no waiting");
    rotated(&env, &user);
    env.assert_clean(&user, "default", "after the re-run");
}
