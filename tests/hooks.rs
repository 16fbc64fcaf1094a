//! Post-rotation hooks against their two ways of holding everything up: a
//! hook that itself runs aws-rekey (which needs the state lock), and a hook
//! that never ends (`--exec-timeout` stops it and all it started).

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Waits for `child` at most `limit`; on expiry kills it and fails.
fn finish_within(mut child: Child, limit: Duration, what: &str) -> (Run, Duration) {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return (Run(child.wait_with_output().unwrap()), started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what}: still running after {limit:?} (deadlocked?)\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The pids of processes whose command line contains `marker`.
fn running(marker: &str) -> Vec<String> {
    let out = Command::new("pgrep").args(["-f", marker]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_hook_that_runs_aws_rekey_finishes() {
    let env = TestEnv::new();
    let user = env.emu.user("hook-calls-us");
    env.simple_profile(&user);
    let marker = env.home().join("inner-ran");
    // The hook runs aws-rekey twice: status (which writes the key book) and
    // a dry-run rotation, both taking the state lock.
    let hook = format!(
        "'{BIN}' status >&2 && '{BIN}' rotate --dry-run >&2 && touch '{}'",
        marker.display()
    );
    let child = env
        .cmd(&["rotate", "--exec", &hook, "--output", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (run, _) = finish_within(child, Duration::from_secs(60), "rotate with a hook");
    run.success();
    assert_eq!(run.json()["hook"]["ok"], true, "{}", run.stderr());
    assert!(marker.exists(), "both inner runs finished");
    env.assert_clean(&user, "default", "after a hook that ran aws-rekey");
}

#[test]
fn a_hook_past_its_time_limit_is_stopped_with_all_it_started() {
    let env = TestEnv::new();
    let user = env.emu.user("hook-hangs");
    env.simple_profile(&user);
    // A background grandchild and a foreground child, both ignoring SIGTERM:
    // only killing the whole process group, to the end, stops them.
    let marker = "1000.4242";
    assert!(running(marker).is_empty(), "left over from an earlier run");
    // Its output goes elsewhere, so that survivors, if any, cannot keep
    // this test waiting on aws-rekey's stderr.
    let hook = format!("exec >/dev/null 2>&1; trap '' TERM; sleep {marker}1 & sleep {marker}2");
    let child = env
        .cmd(&[
            "rotate",
            "--exec",
            &hook,
            "--exec-timeout",
            "2s",
            "--output",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (run, took) = finish_within(child, Duration::from_secs(60), "rotate with a hanging hook");
    let left = running(marker);
    for pid in &left {
        // Clean up after a failure, by pid.
        let _ = Command::new("kill").args(["-9", pid]).status();
    }
    run.exit(7);
    assert!(left.is_empty(), "hook processes left running: {left:?}");
    let doc = run.json();
    assert_eq!(doc["hook"]["ok"], false);
    let error = doc["hook"]["error"].as_str().unwrap();
    assert!(error.contains("2s"), "the message names the limit: {error}");
    assert!(
        took < Duration::from_secs(20),
        "stopped in about the limit, took {took:?}"
    );
    // The rotation stands.
    assert_eq!(doc["old_key"], "deleted");
    env.assert_clean(&user, "default", "after a hook that timed out");
}

#[test]
fn interrupting_aws_rekey_stops_its_hook_too() {
    let env = TestEnv::new();
    let user = env.emu.user("hook-interrupted");
    env.simple_profile(&user);
    // The hook has its own process group, so Ctrl-C at the terminal reaches
    // only aws-rekey: it must stop the hook itself rather than leave it.
    let marker = "1000.5151";
    assert!(running(marker).is_empty(), "left over from an earlier run");
    let hook = format!("exec >/dev/null 2>&1; sleep {marker}1 & sleep {marker}2");
    let child = env
        .cmd(&["rotate", "--exec", &hook, "--output", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    // Anchored: aws-rekey's own command line holds the hook's text too.
    while running(&format!("^sleep {marker}2")).is_empty() {
        assert!(Instant::now() < deadline, "the hook never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let (run, _) = finish_within(child, Duration::from_secs(20), "rotate after SIGINT");
    let left = running(marker);
    for pid in &left {
        let _ = Command::new("kill").args(["-9", pid]).status();
    }
    assert!(left.is_empty(), "hook processes left running: {left:?}");
    run.exit(7);
    let error = run.json()["hook"]["error"].as_str().unwrap().to_owned();
    assert!(error.contains("SIGINT"), "{error}");
    env.assert_clean(&user, "default", "after an interrupted hook");
}
