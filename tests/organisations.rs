//! What real organisations need: MFA-protected key management, role
//! profiles with source chains, `rotate --all`, `--older-than`, the retire
//! procedure AWS recommends (`prune`, `rollback`, last use), and hooks.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::Duration;

/// Denies every key-management call unless the request carries MFA, as the
/// IAM user guide's example policy does.
const MFA_POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:UpdateAccessKey",
     "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "sts:GetSessionToken"], "Resource": "*"},
  {"Effect": "Deny", "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:UpdateAccessKey",
     "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"], "Resource": "*",
   "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}"#;

fn mfa_user(env: &TestEnv, name: &str) -> (User, String) {
    let user = env.emu.user_with_policy(name, MFA_POLICY);
    let serial = format!("arn:aws:iam::123456789012:mfa/{name}");
    env.emu.harness(
        "POST",
        "mfa",
        &json!({ "user": name, "serial": serial, "code": "246810" }),
    );
    (user, serial)
}

fn log_entries(env: &TestEnv) -> Vec<Value> {
    env.emu
        .harness("GET", "log", &Value::Null)
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn mfa_code_buys_a_session_for_the_iam_calls() {
    let env = TestEnv::new();
    let (user, serial) = mfa_user(&env, "mfa1");
    env.simple_profile(&user);
    env.write_config(&format!("[default]\nmfa_serial = {serial}\n"));
    env.emu.clear_log();
    let run = env.run(&["rotate", "--mfa-code", "246810", "--output", "json"]);
    run.success();
    let new = env.profile_key("default");
    let log = log_entries(&env);
    let session = log
        .iter()
        .find(|e| e["action"] == "GetSessionToken")
        .expect("GetSessionToken was called");
    assert_eq!(session["mfa"], true);
    assert_eq!(
        session["key"],
        user.key.id.as_str(),
        "the session is bought with the old key"
    );
    for e in &log {
        let action = e["action"].as_str().unwrap();
        let key = e["key"].as_str().unwrap();
        if action.contains("AccessKey") {
            assert!(
                key.starts_with("ASIA"),
                "{action} was not signed with the MFA session: {key}"
            );
        }
        if action == "GetCallerIdentity" {
            assert!(
                key == user.key.id || key == new.id,
                "verification uses long-lived keys"
            );
        }
    }
    assert!(
        log.iter()
            .any(|e| e["action"] == "GetCallerIdentity" && e["key"] == new.id.as_str())
    );
    env.assert_clean(&user, "default", "MFA rotation");
    assert!(!run.all_output().contains(&new.secret));
}

#[test]
fn mfa_without_code_or_terminal_changes_nothing() {
    let env = TestEnv::new();
    let (user, serial) = mfa_user(&env, "mfa2");
    env.simple_profile(&user);
    env.write_config(&format!("[default]\nmfa_serial = {serial}\n"));
    let before = env.read_credentials();
    env.emu.clear_log();
    let run = env.run(&["rotate"]);
    run.exit(3);
    assert!(run.stderr().contains("--mfa-code"), "{}", run.stderr());
    assert_eq!(env.read_credentials(), before);
    assert_eq!(env.emu.keys("mfa2").len(), 1);
    assert!(env.emu.log().is_empty(), "nothing was sent");

    // A wrong code: IAM says no, nothing changes.
    let run = env.run(&["rotate", "--mfa-code", "000000"]);
    run.exit(4);
    assert!(run.stderr().contains("MFA"), "{}", run.stderr());
    assert_eq!(env.read_credentials(), before);
    assert_eq!(env.emu.keys("mfa2").len(), 1);
}

#[test]
fn an_mfa_deny_without_mfa_serial_says_what_to_add() {
    let env = TestEnv::new();
    let (user, _) = mfa_user(&env, "mfa3");
    env.simple_profile(&user);
    let before = env.read_credentials();
    let run = env.run(&["rotate"]);
    run.exit(4);
    assert!(
        run.stderr().contains("mfa_serial = arn:aws:iam::"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("[profile default]"),
        "{}",
        run.stderr()
    );
    assert_eq!(env.read_credentials(), before);
    assert_eq!(env.emu.keys("mfa3").len(), 1);
}

#[test]
fn a_role_profile_rotates_the_key_at_the_end_of_its_source_chain() {
    let env = TestEnv::new();
    let user = env.emu.user("roles");
    env.simple_profile(&user);
    env.write_config(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = hop\n\
         [profile hop]\nrole_arn = arn:aws:iam::123456789012:role/hop\nsource_profile = default\n",
    );
    let run = env.run(&["rotate", "--profile", "admin", "--output", "json"]);
    run.success();
    assert!(
        run.stderr()
            .contains("its long-lived key is in profile default"),
        "{}",
        run.stderr()
    );
    let doc = run.json();
    assert_eq!(doc["profile"], "default");
    assert!(doc["warnings"][0].as_str().unwrap().contains("admin"));
    env.assert_clean(&user, "default", "role chain");
    assert!(!env.key_works(&user.key));
}

#[test]
fn all_rotates_every_key_once_and_one_failure_spares_the_others() {
    let env = TestEnv::new();
    let a = env.emu.user("all-a");
    let b = env.emu.user("all-b");
    // c may not delete keys: its rotation fails part-way, after the switch.
    let no_delete = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
        ["iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"], "Resource": "*"}]}"#;
    let c = env.emu.user_with_policy("all-c", no_delete);
    let entry = |p: &str, u: &User| {
        format!(
            "[{p}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            u.key.id, u.key.secret
        )
    };
    env.write_credentials(&format!(
        "{}{}{}{}[temp]\naws_access_key_id = ASIAX\naws_secret_access_key = x\naws_session_token = t\n",
        entry("a", &a),
        entry("b", &b),
        entry("b-too", &b),
        entry("c", &c)
    ));
    env.write_config(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = a\n",
    );
    let run = env.run(&[
        "rotate",
        "--all",
        "--verify-timeout",
        "3",
        "--output",
        "json",
    ]);
    run.exit(6);
    let doc = run.json();
    assert_eq!(doc["ok"], false);
    let rotations = doc["rotations"].as_array().unwrap();
    assert_eq!(rotations.len(), 3, "one rotation per key: {doc:#}");
    env.assert_clean(&a, "a", "a");
    env.assert_clean(&b, "b", "b");
    assert_eq!(
        env.file_key("b-too"),
        env.file_key("b"),
        "profiles sharing a key move together"
    );
    let failed = rotations.iter().find(|r| r["profile"] == "c").unwrap();
    assert_eq!(failed["exit_code"], 6);
    // c's new key is in place and works; its old key could not be deleted.
    env.assert_safe(&c, "c", "c failed part-way");
    assert_ne!(env.file_key("c"), c.key);

    // The text summary is a table.
    let run = env.run(&["rotate", "--all", "--older-than", "1"]);
    let out = run.stdout();
    assert!(out.starts_with("PROFILE"), "{out}");
    assert!(out.contains("skipped"), "{out}");
}

#[test]
fn older_than_skips_young_keys() {
    let env = TestEnv::new();
    let a = env.emu.user("young");
    env.simple_profile(&a);
    let run = env.run(&["rotate", "--all", "--older-than", "90", "--output", "json"]);
    run.success();
    let doc = run.json();
    assert_eq!(doc["rotations"][0]["old_key"], "kept");
    assert!(
        doc["rotations"][0]["skipped"]
            .as_str()
            .unwrap()
            .contains("not older than 90 days")
    );
    assert_eq!(env.file_key("default"), a.key);
    let run = env.run(&["rotate", "--all", "--older-than", "0d", "--output", "json"]);
    run.success();
    assert_eq!(run.json()["rotations"][0]["old_key"], "deleted");
    env.assert_clean(&a, "default", "older-than 0");
}

#[test]
fn prune_deletes_what_keep_old_left_once_unused() {
    let env = TestEnv::new();
    let a = env.emu.user("prune1");
    env.simple_profile(&a);
    env.run(&["rotate", "--keep-old"]).success();
    assert_eq!(env.emu.keys("prune1").len(), 2);
    let dry = env.run(&["prune", "--dry-run", "--output", "json"]);
    dry.success();
    assert_eq!(dry.json()["keys"][0]["action"], "would-delete");
    assert_eq!(env.emu.keys("prune1").len(), 2);
    let run = env.run(&["prune", "--output", "json"]);
    run.success();
    assert_eq!(run.json()["keys"][0]["action"], "deleted");
    assert_eq!(run.json()["keys"][0]["access_key_id"], a.key.id.as_str());
    env.assert_clean(&a, "default", "after prune");
    assert!(
        !env.state_dir()
            .join("retired")
            .join(format!("{}.json", a.key.id))
            .exists()
    );
    let again = env.run(&["prune"]);
    again.success();
    assert!(again.stdout().contains("no inactive keys"));
}

#[test]
fn prune_keeps_a_key_something_still_tries_to_use() {
    let env = TestEnv::new();
    let a = env.emu.user("prune2");
    env.simple_profile(&a);
    env.run(&["rotate", "--keep-old"]).success();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!env.key_works(&a.key), "inactive");
    let run = env.run(&["prune", "--output", "json"]);
    run.success();
    let key = &run.json()["keys"][0];
    assert_eq!(key["action"], "kept");
    assert!(key["detail"].as_str().unwrap().contains("sts"), "{key}");
    assert_eq!(env.emu.keys("prune2").len(), 2);
}

#[test]
fn rollback_brings_the_old_key_back_and_can_be_rotated_away() {
    let env = TestEnv::new();
    let a = env.emu.user("rb1");
    env.simple_profile(&a);
    let original = env.read_credentials();
    env.run(&["rotate", "--keep-old"]).success();
    let second = env.file_key("default");
    let run = env.run(&["rollback", "--output", "json"]);
    run.success();
    let doc = run.json();
    assert_eq!(doc["restored_key_id"], a.key.id.as_str());
    assert_eq!(doc["deactivated_key_id"], second.id.as_str());
    assert_eq!(
        env.read_credentials(),
        original,
        "the profile holds the old key again, byte for byte"
    );
    assert!(env.key_works(&a.key));
    // Read from IAM, not by trying the key: a try is a use after its
    // deactivation, which (rightly) makes the next rotation keep it.
    assert!(
        env.emu
            .keys("rb1")
            .contains(&(second.id.clone(), "Inactive".into())),
        "the new key is inactive"
    );
    env.aws(&["sts", "get-caller-identity", "--profile", "default"])
        .success();
    // The next rotation deletes the key rollback left inactive.
    let run = env.run(&["rotate", "--output", "json"]);
    run.success();
    assert_eq!(run.json()["deleted_leftovers"][0], second.id.as_str());
    env.assert_clean(&a, "default", "rotated after rollback");
}

#[test]
fn rollback_needs_a_kept_old_key() {
    let env = TestEnv::new();
    let a = env.emu.user("rb2");
    env.simple_profile(&a);
    env.run(&["rotate"]).success();
    let before = env.read_credentials();
    let run = env.run(&["rollback"]);
    run.exit(3);
    assert!(run.stderr().contains("--keep-old"), "{}", run.stderr());
    assert_eq!(env.read_credentials(), before);
}

#[test]
fn an_old_key_still_in_use_is_deactivated_not_deleted() {
    let env = TestEnv::new();
    let a = env.emu.user("inuse");
    env.simple_profile(&a);
    // The new key takes 6 s to propagate; meanwhile something else uses the
    // old key (well after the tool's own last use of it).
    env.emu.fault(json!({ "propagation_s": 6 }));
    let child = env
        .cmd(&["rotate", "--output", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(3000));
    assert!(
        env.key_works(&a.key),
        "the old key still works during the wait"
    );
    let run = Run(child.wait_with_output().unwrap());
    env.emu.clear_faults();
    run.success();
    let doc = run.json();
    assert_eq!(doc["old_key"], "deactivated");
    let warning = doc["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("sts") && warning.contains("us-east-1"),
        "{warning}"
    );
    assert!(!env.key_works(&a.key));
    assert_eq!(env.emu.keys("inuse").len(), 2);
    // prune later deletes it once nothing tries it.
}

#[test]
fn hooks_get_the_new_key_on_stdin_only() {
    let env = TestEnv::new();
    let a = env.emu.user("hook1");
    env.simple_profile(&a);
    let out = env.home().join("hook-out.json");
    let envdump = env.home().join("hook-env.txt");
    let cmd = format!(
        "cat > '{}'; env > '{}'; echo from-hook",
        out.display(),
        envdump.display()
    );
    let run = env.run(&["rotate", "--exec", &cmd, "--output", "json"]);
    run.success();
    let new = env.file_key("default");
    let got: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(
        got,
        json!({"Version": 1, "AccessKeyId": new.id, "SecretAccessKey": new.secret})
    );
    let environment = std::fs::read_to_string(&envdump).unwrap();
    assert!(
        !environment.contains(&new.secret),
        "the secret is not in the hook's environment"
    );
    assert!(environment.contains("AWS_REKEY_PROFILE=default"));
    let doc = run.json();
    assert_eq!(doc["hook"]["ok"], true);
    assert!(
        !run.stdout().lines().any(|l| l.trim() == "from-hook")
            && run.stderr().contains("from-hook"),
        "the hook's stdout goes to stderr, off ours"
    );
    assert!(!run.all_output().contains(&new.secret));

    // From the profile's config, and failing: reported, the rotation stands.
    env.write_config("[default]\naws_rekey_exec = exit 3\n");
    let run = env.run(&["rotate", "--output", "json"]);
    run.exit(7);
    let doc = run.json();
    assert_eq!(doc["hook"]["ok"], false);
    assert_eq!(doc["hook"]["exit_code"], 3);
    assert_eq!(doc["old_key"], "deleted");
    env.assert_clean(&a, "default", "after a failing hook");
}

/// The MFA prompt on a real terminal: `script` gives the tool a pseudo-
/// terminal, and the code is typed into it.
#[test]
fn mfa_code_asked_for_on_the_terminal() {
    let env = TestEnv::new();
    let (user, serial) = mfa_user(&env, "mfa-tty");
    env.simple_profile(&user);
    env.write_config(&format!("[default]\nmfa_serial = {serial}\n"));
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &format!("{BIN} rotate"), "/dev/null"]);
    env.apply_env(&mut cmd);
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs the tool on a pseudo-terminal");
    // The terminal's output, read as it comes: the code is typed once the
    // prompt is on the screen, not after a guessed delay.
    let screen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = {
        let screen = screen.clone();
        let mut out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = out.read(&mut buf) {
                screen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let prompt = format!("MFA code for {serial}");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !String::from_utf8_lossy(&screen.lock().unwrap()).contains(&prompt) {
        assert!(
            std::time::Instant::now() < deadline,
            "no prompt: {}",
            String::from_utf8_lossy(&screen.lock().unwrap())
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"246810\n").unwrap();
    let run = Run(child.wait_with_output().unwrap());
    reader.join().unwrap();
    let screen = String::from_utf8_lossy(&screen.lock().unwrap()).to_string() + &run.stderr();
    assert!(
        screen.contains(&format!("MFA code for {serial}")),
        "{screen}"
    );
    assert!(
        !screen.contains("246810"),
        "the code is not echoed: {screen}"
    );
    assert!(screen.contains("old key deleted"), "{screen}");
    env.assert_clean(&user, "default", "MFA code from the terminal");
}

#[test]
fn a_rollback_whose_undo_fails_says_what_is_left() {
    let env = TestEnv::new();
    let a = env.emu.user("rb-undo");
    env.simple_profile(&a);
    env.run(&["rotate", "--keep-old"]).success();
    let second = env.file_key("default");
    // The old key is reactivated (request 1) but never verifies (2, denied);
    // putting the new key back works, deactivating the old one again (3)
    // does not.
    env.emu.fault(json!({
        "fail_nth": 3,
        "mode": "deny",
        "actions": { "GetCallerIdentity": { "mode": "deny", "times": -1 } }
    }));
    let run = env.run(&["rollback"]);
    env.emu.clear_faults();
    assert_ne!(run.code(), 0);
    assert_ne!(run.code(), 5, "not 'rolled back': the undo was not whole");
    let err = run.stderr();
    let old = format!("{}…{}", &a.key.id[..4], &a.key.id[16..]);
    assert!(
        err.contains(&old) && err.contains("still active"),
        "names the old key left active: {err}"
    );
    assert_eq!(env.file_key("default"), second, "the new key is back");
    assert!(env.key_works(&second));
}
