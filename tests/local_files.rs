//! The files aws-rekey writes on this machine: the AWS files keep their
//! mode (never group- or world-writable) and owner across a rewrite, and the
//! state folder, which holds secrets, is used only when it is the user's own
//! and nothing in it is a symlink.

mod common;

use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
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
