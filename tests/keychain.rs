//! The keychain store against a real Secret Service: GNOME Keyring in a
//! private D-Bus session (scripts/with-keyring.sh, run by scripts/test.sh).
//! Every test uses its own profile names: the keyring is shared by the
//! tests running in parallel.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use serde_json::json;

fn setup(profile: &str, user: &User, env: &TestEnv) {
    env.write_credentials(&format!(
        "# mine\n[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\nregion = us-east-1\n\n[other]\naws_access_key_id = AKIAOTHER00000000000\naws_secret_access_key = other\n",
        user.key.id, user.key.secret
    ));
    env.write_config(&format!("# config\n[profile {profile}]\noutput = json\n"));
}

#[test]
fn move_rotate_and_move_back() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let user = env.emu.user("kc1");
    let profile = "kc-roundtrip";
    setup(profile, &user, &env);

    let run = env.run(&["move", "--profile", profile, "--to", "keychain"]);
    run.success();
    let creds = env.read_credentials();
    assert!(
        !creds.contains(&user.key.secret),
        "the secret left the credentials file"
    );
    assert!(!creds.contains(&user.key.id));
    assert!(
        creds.contains(&format!("[{profile}]\nregion = us-east-1\n")),
        "other settings stay: {creds}"
    );
    assert!(creds.contains("[other]\naws_access_key_id = AKIAOTHER00000000000"));
    let config = std::fs::read_to_string(env.config()).unwrap();
    assert!(
        config.starts_with(&format!(
            "# config\n[profile {profile}]\noutput = json\ncredential_process = "
        )),
        "{config}"
    );
    assert!(
        config.contains(&format!("credential-process --profile {profile}")),
        "{config}"
    );

    // credential-process serves Version 1 JSON and nothing else.
    let served = env.run(&["credential-process", "--profile", profile]);
    served.success();
    assert_eq!(
        served.json(),
        json!({"Version": 1, "AccessKeyId": user.key.id, "SecretAccessKey": user.key.secret})
    );
    assert!(served.stderr().is_empty(), "{}", served.stderr());

    // The AWS CLI authenticates through credential_process.
    env.assert_cli_reaches(profile, user.arn.as_str());

    // Rotation works unchanged for a keychain profile.
    let rot = env.run(&["rotate", "--profile", profile, "--output", "json"]);
    rot.success();
    let doc = rot.json();
    let new = env.profile_key(profile);
    assert_eq!(doc["new_key_id"], new.id.as_str());
    assert_ne!(new.id, user.key.id);
    assert!(
        !rot.all_output().contains(&new.secret) && !rot.all_output().contains(&user.key.secret)
    );
    assert_eq!(
        env.read_credentials(),
        creds,
        "the credentials file is not touched"
    );
    env.assert_cli_reaches(profile, user.arn.as_str());
    assert!(!env.key_works(&user.key), "the old key is rejected");
    env.assert_clean(&user, profile, "after keychain rotation");

    // And back to the file.
    env.run(&["move", "--profile", profile, "--to", "file"])
        .success();
    assert_eq!(env.file_key(profile), new);
    let config = std::fs::read_to_string(env.config()).unwrap();
    assert_eq!(
        config,
        format!("# config\n[profile {profile}]\noutput = json\n"),
        "config restored byte for byte"
    );
    let gone = env.run(&["credential-process", "--profile", profile]);
    gone.exit(3);
    assert!(gone.stdout().is_empty());
    let who = env.aws(&["sts", "get-caller-identity", "--profile", profile]);
    who.success();
}

#[test]
fn moving_a_profile_that_only_has_a_key_drops_its_section() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let user = env.emu.user("kc2");
    let profile = "kc-bare";
    env.write_credentials(&format!(
        "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.key.id, user.key.secret
    ));
    env.run(&["move", "--profile", profile, "--to", "keychain"])
        .success();
    assert_eq!(env.read_credentials(), "");
    let config = std::fs::read_to_string(env.config()).unwrap();
    assert!(
        config.starts_with(&format!("[profile {profile}]\ncredential_process = ")),
        "{config}"
    );
    env.aws(&["sts", "get-caller-identity", "--profile", profile])
        .success();
    // Moving again is a no-op.
    let again = env.run(&[
        "move",
        "--profile",
        profile,
        "--to",
        "keychain",
        "--output",
        "json",
    ]);
    again.success();
    assert_eq!(again.json()["already"], true);
    env.run(&["move", "--profile", profile, "--to", "file"])
        .success();
    assert_eq!(
        env.read_credentials(),
        format!(
            "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.key.id, user.key.secret
        )
    );
    assert_eq!(std::fs::read_to_string(env.config()).unwrap(), "");
}

#[test]
fn a_key_that_does_not_work_is_not_moved() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let user = env.emu.user("kc3");
    let profile = "kc-broken";
    env.write_credentials(&format!(
        "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = not-the-secret\n",
        user.key.id
    ));
    let before = env.read_credentials();
    let run = env.run(&["move", "--profile", profile, "--to", "keychain"]);
    run.exit(4);
    assert_eq!(env.read_credentials(), before);
    assert!(!env.config().exists() || std::fs::read_to_string(env.config()).unwrap().is_empty());
    env.run(&["credential-process", "--profile", profile])
        .exit(3);
}

#[test]
fn no_secret_service_is_a_clear_error_that_changes_nothing() {
    let env = TestEnv::new();
    let user = env.emu.user("kc4");
    let profile = "kc-nobus";
    setup(profile, &user, &env);
    let before = env.read_credentials();
    let run = Run(env
        .cmd(&["move", "--profile", profile, "--to", "keychain"])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .output()
        .unwrap());
    run.exit(3);
    assert!(run.stderr().contains("Secret Service"), "{}", run.stderr());
    assert_eq!(env.read_credentials(), before);
    let cp = Run(env
        .cmd(&["credential-process", "--profile", profile])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .output()
        .unwrap());
    assert_ne!(cp.code(), 0);
    assert!(cp.stdout().is_empty());
}

#[test]
fn keychain_rotation_survives_a_fault_at_every_request() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let base = env.emu.user("kcbase");
    setup("kc-fault-base", &base, &env);
    env.run(&["move", "--profile", "kc-fault-base", "--to", "keychain"])
        .success();
    env.emu.clear_log();
    env.run(&["rotate", "--profile", "kc-fault-base"]).success();
    let requests = env.emu.log().len();
    for mode in ["lost", "outage"] {
        for n in 1..=requests {
            let context = format!("keychain, {mode} at request {n}");
            let profile = format!("kc-fault-{mode}-{n}");
            let user = env.emu.user(&format!("kc-{mode}-{n}"));
            setup(&profile, &user, &env);
            env.run(&["move", "--profile", &profile, "--to", "keychain"])
                .success();
            env.emu.fault(json!({ "fail_nth": n, "mode": mode }));
            let run = env.run(&["rotate", "--profile", &profile, "--verify-timeout", "3"]);
            env.emu.clear_faults();
            assert!(
                [0, 4, 5, 6].contains(&run.code()),
                "{context}: exit {}: {}",
                run.code(),
                run.stderr()
            );
            env.assert_safe(&user, &profile, &context);
            let again = env.run(&["rotate", "--profile", &profile]);
            assert_eq!(again.code(), 0, "{context}: re-run: {}", again.stderr());
            env.assert_clean(&user, &profile, &context);
        }
    }
}

#[test]
fn status_and_check_see_keychain_profiles() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let user = env.emu.user("kc5");
    let profile = "kc-status";
    setup(profile, &user, &env);
    env.run(&["move", "--profile", profile, "--to", "keychain"])
        .success();
    // Never seen by rotate or status: the age is unknown to check.
    let first = env.run(&["check"]);
    assert!(
        first.stdout().contains(profile) && first.stdout().contains("unknown"),
        "{}",
        first.stdout()
    );

    let run = env.run(&["status", "--profile", profile, "--output", "json"]);
    run.success();
    let row = &run.json()["profiles"][0];
    assert_eq!(row["store"], "keychain");
    assert_eq!(row["access_key_id"], user.key.id.as_str());
    let text = env.run(&["status", "--profile", profile]);
    text.success();
    assert!(
        text.stdout().lines().nth(1).unwrap().contains("keychain"),
        "{}",
        text.stdout()
    );

    let due = env.run(&["check", "--max-age", "0"]);
    due.exit(10);
    assert!(
        due.stdout().contains(&format!("'{profile}'")),
        "{}",
        due.stdout()
    );
}

#[test]
fn setup_into_the_keychain() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let user = env.emu.user("kc6");
    let profile = "kc-setup";
    let bootstrap =
        json!({"AccessKey": {"AccessKeyId": user.key.id, "SecretAccessKey": user.key.secret}});
    let run = env.run_stdin(
        &[
            "setup",
            "--profile",
            profile,
            "--store",
            "keychain",
            "--region",
            "us-east-1",
        ],
        &bootstrap.to_string(),
    );
    run.success();
    assert!(!env.credentials().exists() || !env.read_credentials().contains(profile));
    let config = std::fs::read_to_string(env.config()).unwrap();
    assert!(
        config.contains(&format!("[profile {profile}]\ncredential_process = ")),
        "{config}"
    );
    assert!(config.contains("region = us-east-1"), "{config}");
    env.assert_cli_reaches(profile, user.arn.as_str());
    assert!(!env.key_works(&user.key), "the bootstrap key is rejected");
    env.assert_clean(&user, profile, "setup into keychain");
}

#[test]
fn rotate_all_covers_both_stores() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let kc_user = env.emu.user("kc7");
    let file_user = env.emu.user("kc7-file");
    let profile = "kc-all";
    setup(profile, &kc_user, &env);
    env.run(&["move", "--profile", profile, "--to", "keychain"])
        .success();
    let mut creds = env.read_credentials();
    creds.push_str(&format!(
        "\n[plain]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        file_user.key.id, file_user.key.secret
    ));
    // The [other] profile's fake key cannot be rotated: drop it.
    creds = creds.replace(
        "[other]\naws_access_key_id = AKIAOTHER00000000000\naws_secret_access_key = other\n",
        "",
    );
    env.write_credentials(&creds);
    let run = env.run(&["rotate", "--all", "--output", "json"]);
    run.success();
    let doc = run.json();
    let rotated: Vec<&str> = doc["rotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["profile"].as_str().unwrap())
        .collect();
    assert_eq!(rotated.len(), 2, "{doc:#}");
    assert!(
        rotated.contains(&profile) && rotated.contains(&"plain"),
        "{rotated:?}"
    );
    env.assert_clean(&kc_user, profile, "keychain via --all");
    env.assert_clean(&file_user, "plain", "file via --all");
}

#[test]
fn a_key_split_across_stores_is_refused_not_half_rotated() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let user = env.emu.user("kc8");
    env.write_credentials(&format!(
        "[kc-split-a]\naws_access_key_id = {0}\naws_secret_access_key = {1}\n[kc-split-b]\naws_access_key_id = {0}\naws_secret_access_key = {1}\n",
        user.key.id, user.key.secret
    ));
    let moved = env.run(&["move", "--profile", "kc-split-a", "--to", "keychain"]);
    moved.success();
    assert!(
        moved.stderr().contains("kc-split-b still hold"),
        "{}",
        moved.stderr()
    );
    let creds = env.read_credentials();
    for args in [
        &["rotate", "--profile", "kc-split-b"][..],
        &["rotate", "--profile", "kc-split-a"][..],
    ] {
        let run = env.run(args);
        run.exit(3);
        assert!(run.stderr().contains("held both"), "{}", run.stderr());
    }
    assert_eq!(env.read_credentials(), creds);
    assert_eq!(env.emu.keys("kc8").len(), 1, "IAM unchanged");
    // Moving the other one too makes it rotatable.
    env.run(&["move", "--profile", "kc-split-b", "--to", "keychain"])
        .success();
    env.run(&["rotate", "--profile", "kc-split-a"]).success();
    assert_eq!(env.profile_key("kc-split-a"), env.profile_key("kc-split-b"));
    env.assert_clean(&user, "kc-split-b", "both in the keychain");
}

/// A locked keychain: a clear error that says what to do, nothing changed.
/// Locking is done in a keyring session of the test's own (a nested
/// scripts/with-keyring.sh), so the other tests' keyring stays unlocked.
#[test]
fn a_locked_keychain_is_a_clear_error_that_changes_nothing() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let user = env.emu.user("kc9");
    let script = r#"
set -e
printf '%s\n%s\n' "$KC_ID" "$KC_SECRET" | "$KC_BIN" setup --profile kc-locked --store keychain --no-rotate >/dev/null 2>&1
dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
  org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null
set +e
"$KC_BIN" credential-process --profile kc-locked; echo "credential-process exit $?"
"$KC_BIN" rotate --profile kc-locked; echo "rotate exit $?"
"$KC_BIN" move --profile kc-locked --to file; echo "move exit $?"
"#;
    let mut cmd = std::process::Command::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/with-keyring.sh"),
    );
    cmd.args(["bash", "-c", script]);
    env.apply_env(&mut cmd);
    cmd.env("KC_BIN", BIN)
        .env("KC_ID", &user.key.id)
        .env("KC_SECRET", &user.key.secret)
        .env_remove("AWS_REKEY_KEYRING_SESSION");
    let run = Run(cmd.output().unwrap());
    let out = run.all_output();
    // A refusal (exit 3) from each command alike (README, "Exit codes").
    for command in ["credential-process", "rotate", "move"] {
        assert!(
            out.contains(&format!("{command} exit 3\n")),
            "{command} should refuse with exit 3: {out}"
        );
    }
    assert!(out.matches("the keychain is locked").count() >= 3, "{out}");
    assert!(!out.contains(&user.key.secret), "{out}");
    assert!(!env.credentials().exists() || !env.read_credentials().contains(&user.key.id));
    assert_eq!(env.emu.keys("kc9").len(), 1, "IAM unchanged");
}

#[test]
fn keychain_rotation_survives_sigkill_at_many_instants() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let delay = 120;
    for i in 0..10u64 {
        let at = std::time::Duration::from_millis(40 + i * 90);
        let context = format!("keychain, killed after {at:?}");
        let profile = format!("kc-kill-{i}");
        let user = env.emu.user(&profile);
        setup(&profile, &user, &env);
        env.run(&["move", "--profile", &profile, "--to", "keychain"])
            .success();
        env.emu.fault(json!({ "delay_ms": delay }));
        env.kill_after(&["rotate", "--profile", &profile], at);
        std::thread::sleep(std::time::Duration::from_millis(delay + 100));
        env.emu.clear_faults();
        env.assert_safe(&user, &profile, &context);
        let again = env.run(&["rotate", "--profile", &profile]);
        assert_eq!(again.code(), 0, "{context}: re-run: {}", again.stderr());
        env.assert_clean(&user, &profile, &context);
    }
}

/// Issue 9.4: keychain profiles sharing one key are switched one entry at a
/// time. Killed between two writes, the next run (through either profile,
/// or `--all`) must switch every holder before it retires the old key;
/// before the fix it finished only the profile it was run for and deleted
/// the key the other profile still served.
#[test]
fn a_half_switched_pair_of_keychain_profiles_is_finished_before_retiring() {
    if !secret_service() {
        return;
    }
    for (i, how) in [&["--profile", "kch-a1"][..], &["--all"][..]]
        .iter()
        .enumerate()
    {
        let env = TestEnv::new();
        let user = env.emu.user(&format!("kchalf{i}"));
        let (a, b) = (format!("kch-a{}", i + 1), format!("kch-b{}", i + 1));
        let how: Vec<&str> = how
            .iter()
            .map(|w| if *w == "kch-a1" { a.as_str() } else { w })
            .collect();
        env.write_credentials(&format!(
            "[{a}]\naws_access_key_id = {id}\naws_secret_access_key = {s}\n[{b}]\naws_access_key_id = {id}\naws_secret_access_key = {s}\n",
            id = user.key.id,
            s = user.key.secret
        ));
        env.write_config(&format!(
            "[profile {a}]\nregion = us-east-1\n[profile {b}]\nregion = us-east-1\n"
        ));
        env.run(&["move", "--profile", &a, "--to", "keychain"])
            .success();
        env.run(&["move", "--profile", &b, "--to", "keychain"])
            .success();

        // The state a kill between the two entry writes leaves: the new key
        // exists, its secret is in the record, entry a holds it, b does not.
        let new = env.emu.extra_key(&user.name, true);
        env.run_stdin(
            &[
                "setup",
                "--profile",
                &a,
                "--store",
                "keychain",
                "--force",
                "--no-rotate",
            ],
            &format!("{}\n{}\n", new.id, new.secret),
        )
        .success();
        std::fs::remove_dir_all(env.state_dir().join("replaced")).unwrap();
        assert_eq!(env.profile_key(&a), new);
        assert_eq!(env.profile_key(&b), user.key);
        let now = rfc3339_ago(0);
        let record = json!({
            "version": 2,
            "profile": a,
            "location": format!("keychain entry aws-rekey/{a}"),
            "user_arn": user.arn,
            "started": now,
            "phase": "created",
            "old_key_id": user.key.id,
            "old_secret": user.key.secret,
            "new_key": { "id": new.id, "secret": new.secret, "created": now },
            "keep_old": false,
            "create_sent": now,
            "holders": [a, b],
            "switched": now,
            "retire": null,
        });
        let pending = env.state_dir().join("pending");
        std::fs::create_dir_all(&pending).unwrap();
        std::fs::write(
            pending.join(format!("{}.json", user.key.id)),
            serde_json::to_vec_pretty(&record).unwrap(),
        )
        .unwrap();

        let mut args = vec!["rotate"];
        args.extend(&how);
        let run = env.run(&args);
        run.success();
        assert_eq!(env.profile_key(&b), new, "{how:?}: b was finished too");
        assert_eq!(env.profile_key(&a), new);
        env.assert_cli_reaches(&b, &user.arn);
        env.assert_cli_reaches(&a, &user.arn);
        assert_eq!(
            env.emu.keys(&user.name),
            vec![(new.id.clone(), "Active".to_string())],
            "{how:?}: one rotation, the old key retired once both switched"
        );
        assert!(env.pending_records().is_empty());
        env.run(&["move", "--profile", &a, "--to", "file"])
            .success();
        env.run(&["move", "--profile", &b, "--to", "file"])
            .success();
    }
}

/// A pending-rotation record naming `key`, as an interrupted rotation
/// leaves it (the "created" phase, before the new key's answer came).
fn plant_pending(env: &TestEnv, profile: &str, user: &User) {
    let dir = env.state_dir().join("pending");
    std::fs::create_dir_all(&dir).unwrap();
    let record = json!({
        "version": 1,
        "profile": profile,
        "location": "keychain",
        "user_arn": user.arn,
        "started": "2024-01-01T00:00:00Z",
        "phase": "creating",
        "old_key_id": user.key.id,
        "old_secret": user.key.secret,
        "new_key": null,
    });
    std::fs::write(
        dir.join(format!("{}.json", user.key.id)),
        record.to_string(),
    )
    .unwrap();
}

/// A profile (and IAM user) of that name whose key was moved to the
/// keychain.
fn in_keychain(profile: &str) -> (TestEnv, User) {
    let env = TestEnv::new();
    let user = env.emu.user(profile);
    setup(profile, &user, &env);
    env.run(&["move", "--profile", profile, "--to", "keychain"])
        .success();
    (env, user)
}

#[test]
fn move_to_file_waits_for_an_interrupted_rotation_to_be_finished() {
    if !secret_service() {
        return;
    }
    let profile = "kc-pending-back";
    let (env, user) = in_keychain(profile);
    plant_pending(&env, profile, &user);
    let (creds, config) = (
        env.read_credentials(),
        std::fs::read_to_string(env.config()).unwrap(),
    );
    let run = env.run(&["move", "--profile", profile, "--to", "file"]);
    run.exit(3);
    assert!(run.stderr().contains("interrupted"), "{}", run.stderr());
    assert_eq!(env.read_credentials(), creds, "nothing was changed");
    assert_eq!(std::fs::read_to_string(env.config()).unwrap(), config);
    assert_eq!(
        env.profile_key(profile).id,
        user.key.id,
        "still in the keychain"
    );
}

#[test]
fn a_failed_setup_force_puts_back_the_keychain_entry_it_overwrote() {
    if !secret_service() {
        return;
    }
    let profile = "kc-force-undo";
    let (env, user) = in_keychain(profile);
    let bootstrap = env.emu.extra_key("kc-force-undo", true);
    // Requests: the existing key works (1), the bootstrap key works (2),
    // the bootstrap key through the profile's keychain entry (3): denied.
    env.emu.fault(json!({ "fail_nth": 3, "mode": "deny" }));
    let run = env.run_stdin(
        &[
            "setup",
            "--profile",
            profile,
            "--store",
            "keychain",
            "--force",
            "--no-rotate",
        ],
        &format!("{}\n{}\n", bootstrap.id, bootstrap.secret),
    );
    env.emu.clear_faults();
    run.exit(4);
    assert_eq!(
        env.profile_key(profile),
        user.key,
        "the entry holds the key it held before"
    );
    env.assert_cli_reaches(profile, &user.arn);
}

#[test]
fn credential_process_fails_when_it_cannot_write_its_output() {
    if !secret_service() {
        return;
    }
    let profile = "kc-full-stdout";
    let (env, user) = in_keychain(profile);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = env
        .cmd(&["credential-process", "--profile", profile])
        .stdout(full)
        .output()
        .unwrap();
    let run = Run(out);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(run.stderr().contains("could not write"), "{}", run.stderr());
    assert!(!run.stderr().contains(&user.key.secret));
}

/// `find` reads a keychain profile's key from the keychain itself, so it
/// can tell whether a copy also holds the secret.
#[test]
fn find_sees_keychain_profiles_and_their_secret() {
    let profile = "kc-find";
    let (env, user) = in_keychain(profile);
    let copy = env.home().join("project/.env");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::write(
        &copy,
        format!(
            "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n",
            user.key.id, user.key.secret
        ),
    )
    .unwrap();
    let run = env.run(&["find", "--profile", profile, "--output", "json"]);
    run.success();
    assert!(!run.all_output().contains(&user.key.secret));
    let doc = run.json();
    assert_eq!(doc["keys"][0]["store"], "keychain", "{doc:#}");
    assert_eq!(doc["keys"][0]["secret_known"], true, "{doc:#}");
    assert_eq!(
        doc["hits"][0]["path"],
        copy.display().to_string(),
        "{doc:#}"
    );
    assert_eq!(doc["hits"][0]["secret_in_file"], true, "{doc:#}");
    assert!(doc["warnings"].as_array().unwrap().is_empty(), "{doc:#}");
}
