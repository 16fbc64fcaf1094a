//! The files aws-rekey writes on this machine: the AWS files keep their
//! mode (never group- or world-writable) and owner across a rewrite, and the
//! state folder, which holds secrets, is used only when it is the user's own
//! and nothing in it is a symlink.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn is_root() -> bool {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

#[test]
fn a_rotation_keeps_the_credentials_files_mode_minus_group_and_world_write() {
    for (before, after) in [
        (0o640, 0o640),
        (0o600, 0o600),
        (0o644, 0o644),
        (0o666, 0o644),
    ] {
        let env = TestEnv::new();
        let user = env.emu.user("modes");
        env.simple_profile(&user);
        set_mode(&env.credentials(), before);
        env.run(&["rotate"]).success();
        assert_ne!(env.file_key("default").id, user.key.id, "rotated");
        assert_eq!(
            mode(&env.credentials()),
            after,
            "a {before:o} file became {:o}",
            mode(&env.credentials())
        );
    }
}

#[test]
fn a_rotation_as_root_keeps_the_credentials_files_owner() {
    if !is_root() {
        // Giving a file to another user needs root; CI runs as root.
        eprintln!("skipped: changing a file's owner needs root");
        return;
    }
    let env = TestEnv::new();
    let user = env.emu.user("owner");
    env.simple_profile(&user);
    // As under `sudo`: the file is the user's, the process is root's.
    std::os::unix::fs::chown(env.credentials(), Some(1234), Some(2345)).unwrap();
    set_mode(&env.credentials(), 0o640);
    env.run(&["rotate"]).success();
    assert_ne!(env.file_key("default").id, user.key.id, "rotated");
    let meta = std::fs::metadata(env.credentials()).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1234, 2345), "the owner is kept");
    assert_eq!(mode(&env.credentials()), 0o640);
}

/// A run that must refuse the state folder: exit 1 (damaged local state,
/// not a profile that cannot be rotated), the message naming `needle`, and
/// nothing changed: the profile, IAM, and no secret anywhere new.
fn refuses_the_state_folder(env: &TestEnv, user: &User, args: &[&str], needle: &str) {
    let before = env.read_credentials();
    let run = env.run(args);
    run.exit(1);
    assert!(run.stderr().contains(needle), "{}", run.stderr());
    assert!(
        run.stderr().contains("nothing was changed"),
        "{}",
        run.stderr()
    );
    assert_eq!(env.read_credentials(), before);
    assert_eq!(
        env.emu.keys(&user.name),
        vec![(user.key.id.clone(), "Active".into())]
    );
}

/// Every file under `dir`, following no links, that holds `secret`.
fn holding_secret(dir: &Path, secret: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            found.extend(holding_secret(&path, secret));
        } else if meta.is_file() && std::fs::read_to_string(&path).is_ok_and(|t| t.contains(secret))
        {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn a_symlinked_pending_folder_is_refused() {
    let env = TestEnv::new();
    let user = env.emu.user("pending-link");
    env.simple_profile(&user);
    let elsewhere = env.home().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(env.state_dir()).unwrap();
    symlink(&elsewhere, env.state_dir().join("pending")).unwrap();
    refuses_the_state_folder(&env, &user, &["rotate"], "symlink");
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "nothing was written through the link"
    );
}

#[test]
fn a_planted_symlink_for_a_secret_file_is_refused() {
    let env = TestEnv::new();
    let user = env.emu.user("retired-link");
    env.simple_profile(&user);
    // Where `rotate --keep-old` keeps the old key's secret, a link to a file
    // someone else could read.
    let elsewhere = env.home().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let retired = env.state_dir().join("retired");
    std::fs::create_dir_all(&retired).unwrap();
    symlink(
        elsewhere.join("stolen.json"),
        retired.join(format!("{}.json", user.key.id)),
    )
    .unwrap();
    let before = env.read_credentials();
    let run = env.run(&["rotate", "--keep-old"]);
    let leaked = holding_secret(&elsewhere, &user.key.secret);
    assert!(
        leaked.is_empty(),
        "the secret landed at the link's target: {leaked:?}"
    );
    run.exit(1);
    assert!(run.stderr().contains("symlink"), "{}", run.stderr());
    assert_eq!(
        env.read_credentials(),
        before,
        "refused before changing anything"
    );
    assert_eq!(env.emu.keys(&user.name).len(), 1);
}

#[test]
fn a_state_folder_owned_by_someone_else_is_refused() {
    if !is_root() {
        eprintln!("skipped: giving a folder to another user needs root");
        return;
    }
    let env = TestEnv::new();
    let user = env.emu.user("retired-owner");
    env.simple_profile(&user);
    let retired = env.state_dir().join("retired");
    std::fs::create_dir_all(&retired).unwrap();
    std::os::unix::fs::chown(&retired, Some(1234), None).unwrap();
    refuses_the_state_folder(&env, &user, &["rotate", "--keep-old"], "1234");
    assert!(holding_secret(&retired, &user.key.secret).is_empty());
}

/// Review finding: a `lock` file hard-linked to a file elsewhere had that
/// file truncated by the next run (the lock is truncated and rewritten).
#[test]
fn a_hard_linked_state_file_is_refused_and_its_other_name_untouched() {
    let env = TestEnv::new();
    let user = env.emu.user("hardlink");
    env.simple_profile(&user);
    let precious = env.home().join("precious");
    std::fs::write(&precious, "[x]\nimportant = yes\n").unwrap();
    std::fs::create_dir_all(env.state_dir()).unwrap();
    std::fs::hard_link(&precious, env.state_dir().join("lock")).unwrap();
    refuses_the_state_folder(&env, &user, &["rotate"], "hard link");
    assert_eq!(
        std::fs::read_to_string(&precious).unwrap(),
        "[x]\nimportant = yes\n"
    );
}

/// A kill -9 in the middle of an atomic write leaves its temp file behind:
/// in the state folder it holds a pending record's secrets, beside the
/// credentials file a whole copy of the file. The next run that holds the
/// lock (so no other aws-rekey run is writing) removes every one of them.
#[test]
fn temp_files_a_killed_run_left_are_removed_by_the_next_run() {
    let env = TestEnv::new();
    let user = env.emu.user("sweep");
    env.simple_profile(&user);
    env.run(&["rotate", "--dry-run"]).success();
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let left: Vec<std::path::PathBuf> = [
        env.state_dir().join(".aws-rekey-Ab12Cd.tmp"),
        env.state_dir()
            .join("pending")
            .join(".aws-rekey-Ef34Gh.tmp"),
        env.home().join(".aws").join(".aws-rekey-Ij56Kl.tmp"),
    ]
    .into_iter()
    .collect();
    for path in &left {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, format!("{{\"old_secret\": \"{secret}\"}}")).unwrap();
    }
    // Another program's temp file is not aws-rekey's to remove.
    let theirs = env.home().join(".aws").join(".credentials.swp");
    std::fs::write(&theirs, "editor").unwrap();
    env.run(&["rotate"]).success();
    for path in &left {
        assert!(!path.exists(), "{} was left behind", path.display());
    }
    assert!(theirs.exists(), "another program's file was removed");
}
