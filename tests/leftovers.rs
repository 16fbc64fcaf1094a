//! Never delete a key a local file still holds (issue 12 item 3): before
//! the old key is retired, the usual places (shell rc files, s3cmd, boto,
//! rclone, direnv) and a profile's `aws_rekey_find` folders are searched
//! for its id; a copy keeps it alive, inactive, until `prune` finds the
//! copy gone. `status` shows each managed copy and whether it is current.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;

#[test]
fn an_unmanaged_copy_in_zshrc_keeps_the_old_key_until_the_line_is_gone() {
    let env = TestEnv::new();
    let user = env.emu.user("zsh");
    env.simple_profile(&user);
    let zshrc = env.home().join(".zshrc");
    let line = format!(
        "export AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={}\n",
        user.key.id, user.key.secret
    );
    std::fs::write(&zshrc, format!("alias ll='ls -l'\n{line}")).unwrap();

    let run = env.run(&["rotate", "--output", "json"]);
    run.success();
    let doc = run.json();
    assert_eq!(doc["old_key"], "deactivated", "{doc:#}");
    let warnings = doc["warnings"].to_string();
    assert!(
        warnings.contains("~/.zshrc line 2") && warnings.contains("aws_rekey_also"),
        "{warnings}"
    );
    assert!(!run.all_output().contains(&user.key.secret));
    let keys = env.emu.keys("zsh");
    assert!(
        keys.contains(&(user.key.id.clone(), "Inactive".to_string())),
        "{keys:?}"
    );

    // prune keeps it while the line is there, and says where.
    let prune = env.run(&["prune"]);
    prune.success();
    assert!(
        prune.stdout().contains("kept") && prune.stdout().contains("~/.zshrc line 2"),
        "{}",
        prune.stdout()
    );
    assert_eq!(env.emu.keys("zsh").len(), 2);

    // The line is gone: prune deletes it.
    std::fs::write(&zshrc, "alias ll='ls -l'\n").unwrap();
    let prune = env.run(&["prune"]);
    prune.success();
    assert!(prune.stdout().contains("deleted"), "{}", prune.stdout());
    env.assert_clean(&user, "default", "after prune");
}

#[test]
fn a_copy_under_an_aws_rekey_find_folder_keeps_the_old_key() {
    let env = TestEnv::new();
    let user = env.emu.user("found");
    env.simple_profile(&user);
    let env_file = env.home().join("code/shop/.env");
    std::fs::create_dir_all(env_file.parent().unwrap()).unwrap();
    std::fs::write(
        &env_file,
        format!("# x\nAWS_ACCESS_KEY_ID={}\n", user.key.id),
    )
    .unwrap();
    // Under a skipped folder: not a copy of the user's own.
    let vendored = env.home().join("code/shop/node_modules/pkg/.env");
    std::fs::create_dir_all(vendored.parent().unwrap()).unwrap();
    std::fs::write(&vendored, &user.key.id).unwrap();

    // Not searched without the setting: deleted.
    env.run(&["rotate"]).success();
    let second = env.file_key("default");
    assert_eq!(env.emu.keys("found").len(), 1, "deleted");
    std::fs::write(&env_file, format!("# x\nAWS_ACCESS_KEY_ID={}\n", second.id)).unwrap();
    std::fs::write(&vendored, &second.id).unwrap();

    env.write_config("[default]\naws_rekey_find = ~/code ?~/gone\n");
    let run = env.run(&["rotate"]);
    run.success();
    let err = run.stderr();
    assert!(err.contains("~/code/shop/.env line 2"), "{err}");
    assert!(!err.contains("node_modules"), "{err}");
    assert!(
        env.emu
            .keys("found")
            .contains(&(second.id.clone(), "Inactive".to_string()))
    );
}

#[test]
fn status_shows_each_managed_copy_and_whether_it_is_current() {
    let env = TestEnv::new();
    let user = env.emu.user("shown");
    env.simple_profile(&user);
    let s3cfg = env.home().join(".s3cfg");
    let env_file = env.home().join("app.env");
    let write = |path: &std::path::Path, key: &Key| {
        std::fs::write(path, format!("K={}\nS={}\n", key.id, key.secret)).unwrap()
    };
    write(&s3cfg, &user.key);
    write(&env_file, &user.key);
    env.write_config("[default]\naws_rekey_also = ~/.s3cfg ~/app.env ?~/missing.env\n");
    env.run(&["rotate"]).success();
    // A copy put back by hand to the old key: not current.
    write(&env_file, &user.key);

    let run = env.run(&["status", "--output", "json"]);
    run.success();
    let doc = run.json();
    let also = &doc["profiles"][0]["also"];
    let rows: Vec<(String, serde_json::Value)> = also
        .as_array()
        .unwrap_or_else(|| panic!("{doc:#}"))
        .iter()
        .map(|a| {
            (
                a["path"].as_str().unwrap().to_string(),
                a["current"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (s3cfg.display().to_string(), serde_json::json!(true)),
            (env_file.display().to_string(), serde_json::json!(false)),
            (
                env.home().join("missing.env").display().to_string(),
                serde_json::Value::Null
            ),
        ],
        "{doc:#}"
    );
    let text = env.run(&["status"]);
    text.success();
    assert!(text.stdout().contains("app.env"), "{}", text.stdout());
}

/// The status IAM gives a key, or `None` once it is deleted.
fn iam_status(env: &TestEnv, user: &str, id: &str) -> Option<String> {
    env.emu
        .keys(user)
        .into_iter()
        .find(|(k, _)| k == id)
        .map(|(_, s)| s)
}

/// A retired key that `~/.zshrc` still holds is kept by `prune`, and the
/// next rotation (which must make room for its new key) does not delete it
/// either: it refuses, naming the file, and creates nothing.
#[test]
fn the_next_rotation_does_not_delete_a_retired_key_a_file_still_holds() {
    let env = TestEnv::new();
    let user = env.emu.user("still-in-zshrc");
    env.simple_profile(&user);
    let zshrc = env.home().join(".zshrc");
    std::fs::write(
        &zshrc,
        format!("export AWS_ACCESS_KEY_ID={}\n", user.key.id),
    )
    .unwrap();
    env.run(&["rotate"]).success();
    assert_eq!(
        iam_status(&env, &user.name, &user.key.id).as_deref(),
        Some("Inactive")
    );
    let again = env.run(&["rotate"]);
    assert_eq!(again.code(), 3, "{}", again.stderr());
    assert!(again.stderr().contains(".zshrc"), "{}", again.stderr());
    assert!(
        iam_status(&env, &user.name, &user.key.id).is_some(),
        "the key ~/.zshrc holds was deleted"
    );
    assert_eq!(env.emu.keys(&user.name).len(), 2, "nothing created");
}

/// A profile in the config file holding the same static key (the AWS CLI
/// reads keys there too) is a copy: the old key is kept, not deleted.
#[test]
fn a_profile_in_the_config_file_holding_the_key_keeps_it_alive() {
    let env = TestEnv::new();
    let user = env.emu.user("key-in-config");
    env.simple_profile(&user);
    env.write_config(&format!(
        "[profile ci]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.key.id, user.key.secret
    ));
    let run = env.run(&["rotate"]);
    run.success();
    assert_eq!(
        iam_status(&env, &user.name, &user.key.id).as_deref(),
        Some("Inactive"),
        "deleted although [profile ci] in the config file holds it"
    );
    assert!(
        run.stderr().contains("~/.aws/config line 2"),
        "{}",
        run.stderr()
    );
}

/// A `rollback` killed after it wrote the old key back into the profile
/// leaves the key book saying that key is retired: `prune` must not delete
/// the key a profile holds.
#[test]
fn prune_never_deletes_a_key_a_profile_holds() {
    use std::io::{BufRead, BufReader};
    let env = TestEnv::new();
    let user = env.emu.user("rollback-killed");
    env.simple_profile(&user);
    env.run(&["rotate", "--keep-old"]).success();
    env.emu.fault(serde_json::json!({ "delay_ms": 1500 }));
    let mut child = env.spawn(&["rollback", "--profile", "default"]);
    let err = child.stderr.take().unwrap();
    for line in BufReader::new(err).lines() {
        if line.unwrap().contains("wrote") {
            let _ = child.kill();
            break;
        }
    }
    child.wait().unwrap();
    env.emu.clear_faults();
    let held = env.file_key("default");
    let prune = env.run(&["prune"]);
    assert!(
        env.key_works(&held),
        "prune deleted the profile's key: {}",
        prune.all_output()
    );
}

/// A managed file that leads (through a link) into the state folder, or to
/// the credentials or config file, is refused before anything is created:
/// rewritten as a "copy", a pending record would lose the old key's secret.
#[test]
fn a_managed_file_leading_to_aws_rekeys_own_files_is_refused() {
    let env = TestEnv::new();
    let user = env.emu.user("own-files");
    env.simple_profile(&user);
    env.run(&["rotate", "--dry-run"]).success();
    std::fs::create_dir_all(env.state_dir().join("pending")).unwrap();
    let targets = [
        env.state_dir()
            .join("pending")
            .join(format!("{}.json", user.key.id)),
        env.credentials(),
        env.config(),
    ];
    for (i, target) in targets.iter().enumerate() {
        let link = env.home().join(format!("link{i}"));
        std::os::unix::fs::symlink(target, &link).unwrap();
        let run = env.run(&["rotate", "--also", &format!("?{}", link.display())]);
        assert_eq!(run.code(), 3, "{}: {}", target.display(), run.stderr());
        assert!(run.stderr().contains("keeps itself"), "{}", run.stderr());
        assert_eq!(env.emu.keys(&user.name).len(), 1, "nothing created");
    }
}

/// A file too large to search (find skips those over 16 MiB) under an
/// `aws_rekey_find` folder may hold the key: the old key is kept, and the
/// message says why, rather than deleted on a search that never looked.
#[test]
fn a_file_too_large_to_search_keeps_the_old_key() {
    let env = TestEnv::new();
    let user = env.emu.user("too-large");
    env.simple_profile(&user);
    let code = env.home().join("code");
    std::fs::create_dir_all(&code).unwrap();
    let mut big = vec![b'x'; 17 * 1024 * 1024];
    big.extend_from_slice(format!("\nAWS_ACCESS_KEY_ID={}\n", user.key.id).as_bytes());
    std::fs::write(code.join("dump.sql"), big).unwrap();
    env.write_config("[default]\naws_rekey_find = ~/code\n");
    let run = env.run(&["rotate"]);
    run.success();
    assert_eq!(
        iam_status(&env, &user.name, &user.key.id).as_deref(),
        Some("Inactive"),
        "deleted on a search that skipped the file"
    );
    assert!(run.stderr().contains("too large"), "{}", run.stderr());
}
