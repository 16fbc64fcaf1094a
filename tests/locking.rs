//! The state lock: a second run waits a bounded time (`--lock-timeout`),
//! says who holds the lock, and gives up changing nothing (exit 6); every
//! writer of the key book takes it, so a concurrent `status` cannot lose a
//! rotation's record of the key it deactivated.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn a_second_run_gives_up_after_the_lock_timeout_and_names_the_holder() {
    let env = TestEnv::new();
    let user = env.emu.user("locked");
    env.simple_profile(&user);
    // Slow enough that the first rotation holds the lock for many seconds.
    env.emu.fault(json!({ "delay_ms": 700 }));
    env.emu.clear_log();
    let first = env.spawn(&["rotate"]);
    let holder = first.id();
    env.wait_for_lock(&first);

    for args in [
        &["rotate", "--lock-timeout", "2s"][..],
        &["prune", "--lock-timeout", "2s"][..],
    ] {
        let started = Instant::now();
        let second = env.run(args);
        let took = started.elapsed();
        second.exit(6);
        let err = second.stderr();
        assert!(
            err.contains(&format!("pid {holder}")) && err.contains("rotate"),
            "{args:?}: the message names the holder: {err}"
        );
        assert!(
            err.contains("nothing was changed"),
            "{args:?}: says nothing changed: {err}"
        );
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_secs(6),
            "{args:?}: gave up after about the limit, took {took:?}"
        );
    }

    let first = Run(first.wait_with_output().unwrap());
    env.emu.clear_faults();
    first.success();
    // Only the first run did anything: one new key, the end state clean.
    assert_eq!(env.emu.count("CreateAccessKey"), 1);
    env.assert_clean(&user, "default", "after a run that gave up waiting");
}

#[test]
fn status_during_a_rotation_keeps_the_rotations_record_of_the_old_key() {
    let env = TestEnv::new();
    let user = env.emu.user("book-race");
    env.simple_profile(&user);
    // Slow requests: the rotation holds the lock for several seconds, and
    // status's own queries end while it still does.
    env.emu.fault(json!({ "delay_ms": 500 }));
    let rotation = env.spawn(&["rotate", "--keep-old"]);
    env.wait_for_lock(&rotation);
    // status learns dates while the rotation runs, and writes the key book.
    let status = env.spawn(&["status"]);
    let rotation = Run(rotation.wait_with_output().unwrap());
    let status = Run(status.wait_with_output().unwrap());
    env.emu.clear_faults();
    rotation.success();
    status.success();
    assert!(
        status.stderr().contains("another aws-rekey run is busy"),
        "status writes the key book under the lock, so it waited: {}",
        status.stderr()
    );
    let book: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.state_dir().join("keys.json")).unwrap()).unwrap();
    assert!(
        book["retired"][&user.key.id].is_object(),
        "the rotation's record of the deactivated key survives: {book:#}"
    );
    // And so prune still finds it.
    let prune = env.run(&["prune", "--dry-run", "--output", "json"]);
    prune.success();
    assert_eq!(
        prune.json()["keys"][0]["access_key_id"],
        user.key.id.as_str()
    );
}
