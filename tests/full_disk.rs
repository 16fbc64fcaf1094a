//! A full disk at the writes that matter: the pending record (before
//! anything is created), the credentials file (after the new key exists),
//! and setup's clearing of the file.
//!
//! Each runs twice. Everywhere, with the write failing for real through the
//! file layer without root: the binary runs under a file-size limit
//! (`prlimit --fsize`, SIGXFSZ ignored), so a write past the limit fails
//! with EFBIG exactly where a full disk fails with ENOSPC; the limit is set
//! between the sizes of the files that must still be written and the one
//! that must fail. And on a tiny tmpfs filled to the brim (ENOSPC itself),
//! which needs root to mount (CI runs as root); where mounting is not
//! allowed that variant says so on stderr and is skipped.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A 64 KiB tmpfs, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path) -> Option<Self> {
        let root = Command::new("id").arg("-u").output().ok()?;
        if String::from_utf8_lossy(&root.stdout).trim() != "0" {
            eprintln!("skipped: mounting a tmpfs needs root (CI runs as root)");
            return None;
        }
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // A container may forbid mounts even to root.
            eprintln!("skipped: could not mount a tmpfs at {}", at.display());
            return None;
        }
        Some(Tmpfs(at.to_path_buf()))
    }

    /// Fills what is left, so the next write fails with ENOSPC.
    fn fill(&self) {
        let err = std::fs::write(self.0.join("filler"), vec![0u8; 128 * 1024]).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(28), "expected ENOSPC, got {err}");
    }
}

/// Runs aws-rekey so that any write making a file larger than `max` bytes
/// fails (EFBIG), as a full disk would fail it (ENOSPC).
fn run_limited(env: &TestEnv, max: u64, args: &[&str], stdin: Option<&str>) -> Run {
    use std::io::Write;
    let mut cmd = Command::new("sh");
    // An ignored signal stays ignored across exec: the write returns an
    // error instead of the signal killing the process.
    cmd.arg("-c")
        .arg(r#"trap '' XFSZ; exec prlimit --fsize="$0" -- "$@""#)
        .arg(max.to_string())
        .arg(BIN)
        .args(args);
    env.apply_env(&mut cmd);
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sh and prlimit (util-linux)");
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or_default().as_bytes());
    Run(child.wait_with_output().unwrap())
}

/// A credentials-file comment that makes the file larger than any limit
/// used here, so its rewrite is the write that fails.
fn padding() -> String {
    format!("# {}\n", "padding ".repeat(1024))
}

/// `setup --store keychain --force` over `profile`, whose key is in the
/// credentials file.
fn setup_args(profile: &str) -> [&str; 6] {
    [
        "setup",
        "--profile",
        profile,
        "--store",
        "keychain",
        "--force",
    ]
}

/// A setup that could not clear the credentials file changed nothing: the
/// file, the config, the keychain entry, and every key still works.
fn setup_changed_nothing(env: &TestEnv, run: &Run, original: &str, profile: &str, keys: &[&Key]) {
    assert_ne!(run.code(), 0, "{}", run.stderr());
    assert!(
        run.stderr().contains("nothing was changed"),
        "{}",
        run.stderr()
    );
    assert_eq!(env.read_credentials(), original, "the file is untouched");
    let config = std::fs::read_to_string(env.config()).unwrap_or_default();
    assert!(!config.contains("credential_process"), "{config}");
    env.run(&["credential-process", "--profile", profile])
        .exit(3);
    // Neither key was rotated away.
    for key in keys {
        assert!(env.key_works(key));
    }
}

/// A rotation whose credentials-file write failed rolled back: the file as
/// it was, IAM clean, no secret in the output.
fn rolled_back(env: &TestEnv, run: &Run, original: &str, user: &User) {
    assert!(run.stderr().contains("Rolled back"), "{}", run.stderr());
    assert_eq!(env.read_credentials(), original, "the file is untouched");
    env.assert_clean(user, "default", "after a failed write");
    assert!(!run.all_output().contains(&user.key.secret));
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_under_the_state_folder_changes_nothing() {
    let env = TestEnv::new();
    let user = env.emu.user("full-state");
    env.simple_profile(&user);
    let Some(disk) = Tmpfs::mount(&env.state_dir()) else {
        return;
    };
    std::fs::create_dir_all(env.state_dir().join("pending")).unwrap();
    disk.fill();
    let before = env.read_credentials();
    let run = env.run(&["rotate"]);
    run.exit(1);
    assert!(
        run.stderr().contains("nothing was changed"),
        "{}",
        run.stderr()
    );
    assert_eq!(env.read_credentials(), before);
    assert_eq!(
        env.emu.keys("full-state"),
        vec![(user.key.id.clone(), "Active".into())]
    );
    assert!(env.key_works(&user.key));
}

#[test]
fn a_full_disk_under_the_credentials_file_rolls_back() {
    let env = TestEnv::new();
    let user = env.emu.user("full-creds");
    let mnt = env.home().join("disk");
    let Some(disk) = Tmpfs::mount(&mnt) else {
        return;
    };
    // The credentials file lives on the small disk (through a symlink, as
    // with a dotfiles folder); the state folder does not.
    let original = format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.key.id, user.key.secret
    );
    std::fs::write(mnt.join("credentials"), &original).unwrap();
    std::fs::create_dir_all(env.home().join(".aws")).unwrap();
    std::os::unix::fs::symlink(mnt.join("credentials"), env.credentials()).unwrap();
    disk.fill();
    let run = env.run(&["rotate"]);
    assert_ne!(run.code(), 0, "{}", run.stderr());
    rolled_back(&env, &run, &original, &user);
}

/// `setup --store keychain --force` over a profile whose key is in the
/// credentials file must take that key out of the file: left there, it
/// would shadow the keychain entry (the file wins, as in the SDKs) and the
/// next rotation would rotate it instead. When the file cannot be written,
/// the keychain half is undone too: nothing half-done.
#[test]
fn setup_into_the_keychain_that_cannot_clear_the_file_changes_nothing() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let user = env.emu.user("full-setup");
    let profile = "full-setup";
    let mnt = env.home().join("disk");
    let Some(disk) = Tmpfs::mount(&mnt) else {
        return;
    };
    // Another profile stays in the file, so its rewrite needs disk space.
    let original = format!(
        "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n[other]\nregion = us-east-1\n",
        user.key.id, user.key.secret
    );
    std::fs::write(mnt.join("credentials"), &original).unwrap();
    std::fs::create_dir_all(env.home().join(".aws")).unwrap();
    std::os::unix::fs::symlink(mnt.join("credentials"), env.credentials()).unwrap();
    disk.fill();
    let bootstrap = env.emu.extra_key("full-setup", true);
    let run = env.run_stdin(
        &setup_args(profile),
        &format!("{}\n{}\n", bootstrap.id, bootstrap.secret),
    );
    setup_changed_nothing(&env, &run, &original, profile, &[&user.key, &bootstrap]);
}

/// The pending record (which holds secrets and is hundreds of bytes) cannot
/// be written; the lock's small holder note can.
#[test]
fn a_failed_write_of_the_pending_record_changes_nothing_without_root() {
    let env = TestEnv::new();
    let user = env.emu.user("limit-state");
    env.simple_profile(&user);
    let before = env.read_credentials();
    let run = run_limited(&env, 200, &["rotate"], None);
    run.exit(1);
    assert!(
        run.stderr().contains("nothing was changed") && run.stderr().contains("File too large"),
        "{}",
        run.stderr()
    );
    assert_eq!(env.read_credentials(), before);
    assert_eq!(
        env.emu.keys("limit-state"),
        vec![(user.key.id.clone(), "Active".into())]
    );
    assert!(env.key_works(&user.key));
    assert!(env.pending_records().is_empty());
}

/// The state folder's records fit; the credentials file (8 KiB) does not:
/// its rewrite fails after the new key exists, and the run rolls back.
#[test]
fn a_failed_write_of_the_credentials_file_rolls_back_without_root() {
    let env = TestEnv::new();
    let user = env.emu.user("limit-creds");
    let original = format!(
        "{}[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        padding(),
        user.key.id,
        user.key.secret
    );
    env.write_credentials(&original);
    let run = run_limited(&env, 4096, &["rotate"], None);
    assert_eq!(run.code(), 5, "{}", run.stderr());
    assert!(
        run.stderr().contains("File too large"),
        "the write itself failed: {}",
        run.stderr()
    );
    rolled_back(&env, &run, &original, &user);
}

#[test]
fn setup_into_the_keychain_that_cannot_clear_the_file_changes_nothing_without_root() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let user = env.emu.user("limit-setup");
    let profile = "limit-setup";
    let original = format!(
        "{}[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n[other]\nregion = us-east-1\n",
        padding(),
        user.key.id,
        user.key.secret
    );
    env.write_credentials(&original);
    let bootstrap = env.emu.extra_key("limit-setup", true);
    let run = run_limited(
        &env,
        4096,
        &setup_args(profile),
        Some(&format!("{}\n{}\n", bootstrap.id, bootstrap.secret)),
    );
    assert!(run.stderr().contains("File too large"), "{}", run.stderr());
    setup_changed_nothing(&env, &run, &original, profile, &[&user.key, &bootstrap]);
}
