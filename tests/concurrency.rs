//! Runs that overlap: two rotations of one profile, a rotation racing
//! `move`, and another program editing the credentials file mid-rotation.
//! Never two new keys at once, never a lost secret, never a torn file.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use serde_json::json;
use std::process::Child;
use std::time::{Duration, Instant};

/// Polls IAM while the children run: the user never has more than two keys.
fn watch(env: &TestEnv, user: &str, children: Vec<Child>) -> Vec<Run> {
    let mut children: Vec<Option<Child>> = children.into_iter().map(Some).collect();
    let mut runs: Vec<Option<Run>> = children.iter().map(|_| None).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while runs.iter().any(Option::is_none) {
        assert!(Instant::now() < deadline, "runs did not finish");
        let keys = env.emu.keys(user);
        assert!(keys.len() <= 2, "more than two keys at once: {keys:?}");
        for (slot, run) in children.iter_mut().zip(runs.iter_mut()) {
            if let Some(child) = slot
                && child.try_wait().unwrap().is_some()
            {
                *run = Some(Run(slot.take().unwrap().wait_with_output().unwrap()));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    runs.into_iter().map(Option::unwrap).collect()
}

#[test]
fn two_rotations_of_one_profile_take_turns() {
    let env = TestEnv::new();
    let user = env.emu.user("twice");
    env.simple_profile(&user);
    env.emu.fault(json!({ "delay_ms": 100 }));
    env.emu.clear_log();
    let a = env.spawn(&["rotate"]);
    env.wait_for_lock(&a);
    let b = env.spawn(&["rotate"]);
    let runs = watch(&env, "twice", vec![a, b]);
    env.emu.clear_faults();
    for run in &runs {
        run.success();
    }
    assert!(
        runs.iter()
            .any(|r| r.stderr().contains("another aws-rekey run is busy")),
        "one run waited for the other"
    );
    // Two rotations, one after the other: two creates, the end state clean.
    let creates = env.emu.count("CreateAccessKey");
    assert_eq!(creates, 2);
    env.assert_clean(&user, "default", "after two overlapping runs");
}

#[test]
fn a_rotation_racing_move_to_the_keychain() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let user = env.emu.user("race-move");
    let profile = "race-move";
    env.write_credentials(&format!(
        "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.key.id, user.key.secret
    ));
    env.emu.fault(json!({ "delay_ms": 100 }));
    let rotate = env.spawn(&["rotate", "--profile", profile]);
    env.wait_for_lock(&rotate);
    let mv = env.spawn(&["move", "--profile", profile, "--to", "keychain"]);
    let runs = watch(&env, profile, vec![rotate, mv]);
    env.emu.clear_faults();
    for run in &runs {
        run.success();
    }
    // The move waited, then moved the rotated key.
    let config = std::fs::read_to_string(env.config()).unwrap();
    assert!(config.contains("credential-process"), "{config}");
    assert!(!env.read_credentials().contains("aws_access_key_id"));
    env.assert_clean(&user, profile, "rotation then move");
    env.aws(&["sts", "get-caller-identity", "--profile", profile])
        .success();
}

#[test]
fn another_program_editing_the_file_mid_rotation_is_not_clobbered() {
    let env = TestEnv::new();
    let user = env.emu.user("edited");
    env.simple_profile(&user);
    // Slow requests leave time for the other program to write.
    env.emu.fault(json!({ "delay_ms": 200 }));
    env.emu.clear_log();
    let child = env.spawn(&["rotate"]);
    // The rotation has read the file once its first call is answered; its
    // write comes after at least two more slow calls (list, create).
    wait_until("the rotation's first call is answered", || {
        env.emu.count("GetCallerIdentity") > 0
    });
    // Another program (an editor, `aws configure`) appends a profile, the
    // way such programs do: write a temp file, rename it over.
    let mut text = env.read_credentials();
    text.push_str("\n[added-meanwhile]\naws_access_key_id = AKIAADDED00000000000\naws_secret_access_key = added\n");
    let tmp = env.home().join(".aws/credentials.tmp");
    std::fs::write(&tmp, &text).unwrap();
    std::fs::rename(&tmp, env.credentials()).unwrap();
    let run = Run(child.wait_with_output().unwrap());
    env.emu.clear_faults();
    run.success();
    let after = env.read_credentials();
    assert!(
        after.contains("[added-meanwhile]\naws_access_key_id = AKIAADDED00000000000"),
        "{after}"
    );
    env.assert_clean(&user, "default", "edited meanwhile");
}
