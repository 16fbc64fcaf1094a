//! Failure at every step: each request the protocol makes fails in turn
//! (an HTTP 500, a lost response, an outage), and the tool is killed with
//! SIGKILL at many instants. After each, the invariant holds (the profile's
//! key works, at most two keys, no live key's secret lost) and a plain
//! re-run ends with exactly one key, the one in the file.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

/// How many requests a clean rotation makes, and which one creates the key.
fn baseline(env: &TestEnv) -> (usize, usize) {
    let user = env.emu.user("baseline");
    env.simple_profile(&user);
    env.emu.clear_log();
    env.run(&["rotate"]).success();
    let log = env.emu.log();
    let create = log
        .iter()
        .position(|(a, ..)| a == "CreateAccessKey")
        .unwrap()
        + 1;
    (log.len(), create)
}

fn fail_each_request(mode: &str) {
    let env = TestEnv::new();
    let (requests, _) = baseline(&env);
    assert!(
        requests >= 5,
        "a rotation makes at least 5 requests, saw {requests}"
    );
    for n in 1..=requests {
        let context = format!("{mode} at request {n}");
        let user = env.emu.user(&format!("u{n}"));
        env.simple_profile(&user);
        env.emu.fault(json!({ "fail_nth": n, "mode": mode }));
        let run = env.run(&["rotate", "--verify-timeout", "3"]);
        env.emu.clear_faults();
        assert!(
            [0, 4, 5, 6].contains(&run.code()),
            "{context}: unexpected exit {}: {}",
            run.code(),
            run.stderr()
        );
        assert!(
            !run.all_output().contains(&user.key.secret),
            "{context}: secret in output"
        );
        env.assert_safe(&user, "default", &context);
        let again = env.run(&["rotate"]);
        assert_eq!(
            again.code(),
            0,
            "{context}: re-run failed: {}",
            again.stderr()
        );
        env.assert_clean(&user, "default", &format!("{context}, after re-run"));
    }
}

#[test]
fn each_request_answered_with_a_500() {
    fail_each_request("500");
}

#[test]
fn each_request_losing_its_response() {
    fail_each_request("lost");
}

#[test]
fn an_outage_from_each_request_on() {
    fail_each_request("outage");
}

#[test]
fn a_lost_response_then_an_outage() {
    fail_each_request("lost_outage");
}

/// CreateAccessKey takes effect but its answer is lost: the key it made
/// (whose secret never arrived) is found and deleted, and only then is a
/// second CreateAccessKey sent; the rotation completes with one key.
#[test]
fn a_lost_create_answer_leaves_no_orphan_key() {
    let env = TestEnv::new();
    let (_, create) = baseline(&env);
    let user = env.emu.user("orphan");
    env.simple_profile(&user);
    env.emu.clear_log();
    env.emu.fault(json!({ "fail_nth": create, "mode": "lost" }));
    let run = env.run(&["rotate"]);
    env.emu.clear_faults();
    run.success();
    assert!(
        run.stderr().contains("whose answer never arrived"),
        "{}",
        run.stderr()
    );
    assert_ne!(env.file_key("default"), user.key);
    env.assert_clean(&user, "default", "orphan deleted, then rotated");
    // The lost create was not retried (by the SDK or aws-rekey) before its
    // key was deleted: a blind retry would make a second key nobody holds.
    let log = env.emu.log();
    let actions: Vec<&str> = log.iter().map(|(a, ..)| a.as_str()).collect();
    let lost = log
        .iter()
        .position(|(a, _, s)| a == "CreateAccessKey" && s.starts_with("lost"))
        .expect("the lost create");
    let next = lost
        + 1
        + actions[lost + 1..]
            .iter()
            .position(|a| *a == "CreateAccessKey")
            .expect("a second create");
    assert!(
        actions[lost..next].contains(&"DeleteAccessKey"),
        "the orphan is deleted before the next create: {actions:?}"
    );
    assert_eq!(env.emu.count("CreateAccessKey"), 2, "{actions:?}");
}

#[test]
fn a_lost_create_answer_during_an_outage_is_cleaned_up_by_the_next_run() {
    let env = TestEnv::new();
    let (_, create) = baseline(&env);
    let user = env.emu.user("orphan2");
    env.simple_profile(&user);
    env.emu
        .fault(json!({ "fail_nth": create, "mode": "lost_outage" }));
    let run = env.run(&["rotate"]);
    env.emu.clear_faults();
    run.exit(6);
    assert_eq!(
        env.emu.keys("orphan2").len(),
        2,
        "the orphan exists until the next run"
    );
    let again = env.run(&["rotate"]);
    again.success();
    assert!(again.stderr().contains("interrupted"), "{}", again.stderr());
    env.assert_clean(&user, "default", "after re-run");
}

#[test]
fn sigkill_at_many_instants() {
    let env = TestEnv::new();
    // Slow every request so the kills land inside the rotation.
    let delay = 120;
    let mut phases = std::collections::BTreeSet::new();
    for i in 0..18u64 {
        let at = Duration::from_millis(30 + i * 60);
        let context = format!("killed after {at:?}");
        let user = env.emu.user(&format!("k{i}"));
        env.simple_profile(&user);
        env.emu.fault(json!({ "delay_ms": delay }));
        env.kill_after(&["rotate"], at);
        // Let the request in flight at the kill reach IAM.
        std::thread::sleep(Duration::from_millis(delay + 100));
        env.emu.clear_faults();
        env.assert_safe(&user, "default", &context);
        phases.extend(env.pending_records().iter().map(|r| r["phase"].to_string()));
        if env.file_key("default") != user.key {
            phases.insert("file written".into());
        }
        let again = env.run(&["rotate"]);
        assert_eq!(
            again.code(),
            0,
            "{context}: re-run failed: {}",
            again.stderr()
        );
        env.assert_clean(&user, "default", &format!("{context}, after re-run"));
    }
    // The kills landed inside the rotation, at more than one step.
    assert!(
        phases.len() >= 2,
        "kills interrupted too few steps: {phases:?}"
    );
}
