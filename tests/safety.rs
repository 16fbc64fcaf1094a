//! Attacks on the rotation's promises (issue 9): each test reproduces a way
//! an earlier build broke "never delete a key aws-rekey did not make or
//! retire itself" or "never lose a live key's secret", through the built
//! binary against the emulator.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{Key, Run, TestEnv, mask, rfc3339_ago};
use serde_json::{Value, json};
use std::time::Duration;

/// Rewrites the one pending record in the state folder.
fn edit_pending(env: &TestEnv, change: impl FnOnce(&mut Value)) {
    let dir = env.state_dir().join("pending");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(paths.len(), 1, "one pending record: {paths:?}");
    let path = paths.pop().unwrap();
    let mut record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    change(&mut record);
    std::fs::write(&path, serde_json::to_vec_pretty(&record).unwrap()).unwrap();
}

/// CreateAccessKey gets no answer (`mode` "500": it did not take effect;
/// "lost": it did), and every listing after it fails, so the run ends with
/// its "creating" record in place.
fn no_answer_to_create(env: &TestEnv, mode: &str) {
    env.emu.fault(json!({
        "actions": {
            "CreateAccessKey": { "mode": mode, "times": 1 },
            "ListAccessKeys": { "mode": "500", "times": -1, "after": "CreateAccessKey" },
        }
    }));
}

/// Issue 9.1: the decision "another program used the old key after the
/// switch, so deactivate rather than delete" survives an interrupted run.
/// Before the fix, the resumed run re-judged with its own start time, took
/// the other program's use for its own, and deleted the key.
#[test]
fn a_resumed_rotation_keeps_an_old_key_another_program_used() {
    let env = TestEnv::new();
    let a = env.emu.user("inuse2");
    env.simple_profile(&a);
    // The new key takes a few seconds to propagate; meanwhile another
    // program uses the old key. Then deactivating the old key fails once.
    env.emu.fault(json!({
        "propagation_s": 5,
        "actions": { "UpdateAccessKey": { "mode": "deny", "times": 1 } },
    }));
    let child = env
        .cmd(&["rotate", "--output", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(3200));
    assert!(env.key_works(&a.key), "another program uses the old key");
    let first = Run(child.wait_with_output().unwrap());
    env.emu.clear_faults();
    first.exit(6);
    assert!(first.stderr().contains("re-run"), "{}", first.stderr());
    assert_eq!(env.emu.keys("inuse2").len(), 2);

    // Long enough that the resumed run's own start is well after that use.
    std::thread::sleep(Duration::from_millis(3000));
    let again = env.run(&["rotate", "--output", "json"]);
    again.success();
    let doc = again.json();
    assert_eq!(doc["old_key"], "deactivated", "{doc}");
    assert!(
        doc["warnings"][0].as_str().unwrap_or("").contains("sts"),
        "{doc}"
    );
    let keys = env.emu.keys("inuse2");
    assert!(
        keys.contains(&(a.key.id.clone(), "Inactive".to_string())),
        "the old key is kept, inactive: {keys:?}"
    );
    assert!(env.pending_records().is_empty());
    // Its secret is kept for `rollback`.
    assert!(
        env.state_dir()
            .join("retired")
            .join(format!("{}.json", a.key.id))
            .exists()
    );
}

/// Issue 9.2: after a CreateAccessKey whose answer was lost (and a listing
/// that failed too), a key the user makes by hand a minute later is not the
/// orphan. Before the fix, the next run deleted every never-used key
/// created after (intent − 5 min).
#[test]
fn a_key_made_by_hand_after_a_lost_create_is_never_taken_for_the_orphan() {
    let env = TestEnv::new();
    let user = env.emu.user("orphan3");
    env.simple_profile(&user);
    no_answer_to_create(&env, "500");
    let first = env.run(&["rotate"]);
    env.emu.clear_faults();
    first.exit(6);
    assert_eq!(env.pending_records()[0]["phase"], "creating");
    // The lost request was sent two minutes ago (as if the user came back
    // later); since then they made a key for another machine.
    let then = rfc3339_ago(120);
    edit_pending(&env, |r| {
        r["started"] = json!(then);
        r["create_sent"] = json!(then);
        r["unanswered"] = json!([then]);
    });
    let by_hand = env.emu.extra_key("orphan3", true);

    let again = env.run(&["rotate"]);
    again.exit(6);
    let keys = env.emu.keys("orphan3");
    assert!(
        keys.iter().any(|(id, _)| *id == by_hand.id),
        "the key made by hand was deleted: {keys:?}\n{}",
        again.stderr()
    );
    assert!(env.key_works(&by_hand));
    assert!(
        again.stderr().contains("deleted nothing"),
        "{}",
        again.stderr()
    );
    assert!(
        again.stderr().contains(&mask(&by_hand.id)),
        "names the key to check: {}",
        again.stderr()
    );
    assert!(!again.all_output().contains(&by_hand.id), "masked ids only");
    // The record stays until the question is settled, and the profile works.
    assert_eq!(env.pending_records().len(), 1);
    env.assert_cli_reaches("default", &user.arn);
}

/// Issue 9.2, the other side: a key created inside the lost request's
/// window and never used is the orphan, and is deleted by the next run.
#[test]
fn the_orphan_inside_the_window_is_deleted() {
    let env = TestEnv::new();
    let user = env.emu.user("orphan4");
    env.simple_profile(&user);
    no_answer_to_create(&env, "lost");
    env.run(&["rotate"]).exit(6);
    env.emu.clear_faults();
    assert_eq!(env.emu.keys("orphan4").len(), 2, "the orphan exists");
    let again = env.run(&["rotate"]);
    again.success();
    assert!(
        again.stderr().contains("whose answer never arrived"),
        "{}",
        again.stderr()
    );
    env.assert_clean(&user, "default", "after re-run");
}

/// Issue 9.3: a profile's key that merely could not be checked (throttled,
/// network, 5xx) is not dead: setup changes nothing without --force.
#[test]
fn setup_never_overwrites_a_key_it_failed_to_check() {
    let env = TestEnv::new();
    let old = env.emu.user("prev2");
    let user = env.emu.user("new9");
    env.write_credentials(&format!(
        "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        old.key.id, old.key.secret
    ));
    let before = env.read_credentials();
    // The SDK tries three times; all three checks of the existing key are
    // throttled, the bootstrap key's check is not.
    env.emu.fail_action("GetCallerIdentity", "throttle", 3);
    let run = env.run_stdin(
        &["setup", "--profile", "dev"],
        &format!("{}\n{}\n", user.key.id, user.key.secret),
    );
    env.emu.clear_faults();
    run.exit(4);
    assert!(run.stderr().contains("changed nothing"), "{}", run.stderr());
    assert_eq!(env.read_credentials(), before);
    assert_eq!(env.emu.keys("new9").len(), 1, "the bootstrap key untouched");
    assert!(env.key_works(&old.key));
}

/// Issue 9.3: a key AWS rejects is replaced, but its secret is kept first.
#[test]
fn setup_keeps_the_secret_of_a_rejected_key_it_replaces() {
    let env = TestEnv::new();
    let user = env.emu.user("new10");
    let dead = Key {
        id: "AKIAZZZZZZZZZZZZDEAD".into(),
        secret: "not-a-real-secret-but-kept-anyway".into(),
    };
    env.write_credentials(&format!(
        "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        dead.id, dead.secret
    ));
    let run = env.run_stdin(
        &["setup", "--profile", "dev"],
        &format!("{}\n{}\n", user.key.id, user.key.secret),
    );
    run.success();
    env.assert_clean(&user, "dev", "set up");
    let kept = env
        .state_dir()
        .join("replaced")
        .join(format!("{}.json", dead.id));
    let saved: Value = serde_json::from_slice(&std::fs::read(&kept).unwrap()).unwrap();
    assert_eq!(saved["secret_access_key"], dead.secret.as_str());
}

/// Issue 9.9: `rotate` deletes a key it left inactive only after the same
/// last-use check `prune` makes.
#[test]
fn rotate_keeps_an_inactive_key_something_tried_after_it_was_retired() {
    let env = TestEnv::new();
    let a = env.emu.user("room1");
    env.simple_profile(&a);
    env.run(&["rotate", "--keep-old"]).success();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!env.key_works(&a.key), "something tries the inactive key");
    let before = env.read_credentials();
    let run = env.run(&["rotate"]);
    run.exit(3);
    assert!(run.stderr().contains("still uses it"), "{}", run.stderr());
    assert_eq!(env.read_credentials(), before);
    let keys = env.emu.keys("room1");
    assert!(
        keys.contains(&(a.key.id.clone(), "Inactive".to_string())),
        "{keys:?}"
    );
}

/// Issue 9.9: a pending record from a newer aws-rekey is refused, kept, and
/// named by `check` at shell start; so is a damaged one.
#[test]
fn unknown_and_damaged_pending_records_are_refused_and_named() {
    let env = TestEnv::new();
    let a = env.emu.user("ver1");
    env.simple_profile(&a);
    no_answer_to_create(&env, "500");
    env.run(&["rotate"]).exit(6);
    env.emu.clear_faults();
    edit_pending(&env, |r| r["version"] = json!(7));
    let before = env.read_credentials();
    let run = env.run(&["rotate"]);
    run.exit(1);
    assert!(
        run.stderr().contains("format version 7"),
        "{}",
        run.stderr()
    );
    assert_eq!(env.read_credentials(), before);
    assert_eq!(env.pending_records().len(), 1);
    assert_eq!(env.emu.count("CreateAccessKey"), 1, "no second create");

    // check at shell start: a damaged record is named, not skipped.
    let path = std::fs::read_dir(env.state_dir().join("pending"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&path, "{ damaged").unwrap();
    let check = env.run(&["check"]);
    check.exit(10);
    assert!(check.stdout().contains("damaged"), "{}", check.stdout());
    assert!(
        check.stdout().contains(&path.display().to_string()),
        "{}",
        check.stdout()
    );
}

/// Review finding: the answer to DeleteAccessKey is lost and the network
/// stays down. The next run, still offline, must not "roll back" the
/// profile onto the old key it already deleted.
#[test]
fn a_run_after_a_lost_delete_never_rolls_back_onto_the_deleted_key() {
    let env = TestEnv::new();
    // Which request of a rotation is the DeleteAccessKey.
    let probe = env.emu.user("lostdel-probe");
    env.simple_profile(&probe);
    env.emu.clear_log();
    env.run(&["rotate"]).success();
    let nth = 1 + env
        .emu
        .log()
        .iter()
        .position(|(a, ..)| a == "DeleteAccessKey")
        .unwrap();
    let user = env.emu.user("lostdel");
    env.simple_profile(&user);
    // The delete takes effect, its answer is lost, and the network stays
    // down from then on.
    env.emu
        .fault(json!({ "fail_nth": nth, "mode": "lost_outage" }));
    env.run(&["rotate", "--verify-timeout", "2"]).exit(6);
    assert_eq!(env.emu.keys("lostdel").len(), 1, "the old key is gone");
    let offline = env.run(&["rotate", "--verify-timeout", "2"]);
    assert_ne!(offline.code(), 0, "{}", offline.stderr());
    env.emu.clear_faults();
    env.assert_safe(&user, "default", "after a run during the outage");
    assert_ne!(
        env.file_key("default"),
        user.key,
        "never back to the deleted key"
    );
    env.run(&["rotate"]).success();
    env.assert_clean(&user, "default", "after the network is back");
}

/// Review finding: the recorded decision "deactivate" cannot be carried out
/// because the old key was deleted by hand meanwhile. The next run
/// finishes instead of failing forever.
#[test]
fn a_recorded_deactivation_of_a_key_deleted_by_hand_is_finished() {
    let env = TestEnv::new();
    let user = env.emu.user("gone1");
    env.simple_profile(&user);
    env.emu.fail_action("UpdateAccessKey", "deny", 1);
    let first = env.run(&["rotate", "--keep-old"]);
    env.emu.clear_faults();
    first.exit(6);
    assert!(
        first.stderr().contains("iam:UpdateAccessKey"),
        "{}",
        first.stderr()
    );
    env.aws(&[
        "iam",
        "delete-access-key",
        "--access-key-id",
        &user.key.id,
        "--profile",
        "default",
    ])
    .success();
    let again = env.run(&["rotate", "--output", "json"]);
    again.success();
    assert!(
        again.json()["warnings"][0]
            .as_str()
            .unwrap_or("")
            .contains("already deleted"),
        "{}",
        again.stdout()
    );
    env.assert_clean(&user, "default", "finished");
}

/// Review finding: a recorded "delete" that could not be carried out is
/// checked again by the next run: if something used the old key since, it
/// is deactivated, not deleted.
#[test]
fn a_recorded_deletion_is_reconsidered_when_the_key_was_used_since() {
    let env = TestEnv::new();
    let user = env.emu.user("recheck");
    env.simple_profile(&user);
    env.emu.fail_action("DeleteAccessKey", "deny", 1);
    env.run(&["rotate"]).exit(6);
    env.emu.clear_faults();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(env.key_works(&user.key), "another program uses the old key");
    let again = env.run(&["rotate", "--output", "json"]);
    again.success();
    assert_eq!(again.json()["old_key"], "deactivated", "{}", again.stdout());
    assert!(
        env.emu
            .keys("recheck")
            .contains(&(user.key.id.clone(), "Inactive".to_string()))
    );
}

/// Review finding: throttled verification calls are retried, not taken for
/// a failed verification (which rolled back).
#[test]
fn throttled_verification_is_retried() {
    let env = TestEnv::new();
    let user = env.emu.user("throttle1");
    env.simple_profile(&user);
    env.emu.fault(json!({
        "actions": {
            "GetCallerIdentity": { "mode": "throttle", "times": 4, "after": "CreateAccessKey" },
        }
    }));
    let run = env.run(&["rotate", "--verify-timeout", "20"]);
    env.emu.clear_faults();
    run.success();
    env.assert_clean(&user, "default", "throttled verification");
}

/// Review finding: a rollback whose verification fails uses the old key
/// itself, then deactivates it again; that use must not later be taken for
/// "something still uses it" (which made every `rotate` refuse).
#[test]
fn a_failed_rollback_does_not_block_the_next_rotation() {
    let env = TestEnv::new();
    let user = env.emu.user("rbfail");
    env.simple_profile(&user);
    env.run(&["rotate", "--keep-old"]).success();
    std::thread::sleep(Duration::from_millis(2500));
    // Rollback's verification requests reach IAM, their answers are lost.
    env.emu.fail_action("GetCallerIdentity", "lost", -1);
    let rollback = env.run(&["rollback", "--profile", "default", "--verify-timeout", "2"]);
    env.emu.clear_faults();
    rollback.exit(5);
    let again = env.run(&["rotate"]);
    again.success();
    env.assert_clean(&user, "default", "after the failed rollback");
}
