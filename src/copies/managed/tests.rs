//! Unit tests of `managed`: each format the issue lists, byte for byte,
//! the refusals, and the edit's round trip.

#![allow(clippy::disallowed_methods)] // fixtures are written directly

use super::*;
use crate::secret::Secret;
use proptest::prelude::*;

const OLD_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const OLD_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const NEW_ID: &str = "AKIAZZZZNEWKEY000001";
const NEW_SECRET: &str = "Nw+3/abcdefghijklmnopqrstuvwxyz012345678";

fn old() -> AccessKey {
    AccessKey::new(OLD_ID, Secret::new(OLD_SECRET))
}

fn new() -> AccessKey {
    AccessKey::new(NEW_ID, Secret::new(NEW_SECRET))
}

/// `text` with `{id}` and `{secret}` filled in with the old key, then
/// with the new one: what a managed file holds before and after.
fn before_after(text: &str) -> (String, String) {
    let fill = |id, secret| text.replace("{id}", id).replace("{secret}", secret);
    (fill(OLD_ID, OLD_SECRET), fill(NEW_ID, NEW_SECRET))
}

fn listed(path: &Path) -> Listed {
    Listed {
        path: path.to_path_buf(),
        optional: false,
    }
}

/// Writes `before`, swaps, and checks the file is exactly `after`; then
/// swaps back and checks it is exactly `before` again.
#[track_caller]
fn round_trip(name: &str, text: &str, copies: usize) {
    let (before, after) = before_after(text);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, &before).unwrap();
    let l = listed(&path);
    assert_eq!(check(&l, &old()).unwrap(), Some(Holds::Copies(copies)));
    assert_eq!(swap(&l, &old(), &new()).unwrap(), Swapped::Changed(copies));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), after, "{name}");
    // Again: nothing left to change.
    assert_eq!(swap(&l, &old(), &new()).unwrap(), Swapped::Nothing);
    assert_eq!(swap(&l, &new(), &old()).unwrap(), Swapped::Changed(copies));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before, "{name}");
}

#[test]
fn dotenv_with_export_and_quotes() {
    round_trip(
        ".env",
        "# shop\nexport AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY=\"{secret}\"\n\
         OTHER='x'\nexport  BACKUP_KEY='{id}'\nBACKUP_SECRET='{secret}'\r\n",
        2,
    );
}

#[test]
fn shell_and_fish_rc_lines() {
    round_trip(
        ".zshrc",
        "alias ll='ls -l'\nexport AWS_ACCESS_KEY_ID={id} AWS_SECRET_ACCESS_KEY={secret}\n",
        1,
    );
    round_trip(
        "config.fish",
        "set -gx AWS_ACCESS_KEY_ID {id}\nset -gx AWS_SECRET_ACCESS_KEY {secret}\nset -x PATH $PATH ~/bin\n",
        1,
    );
}

#[test]
fn ini_under_any_key_names() {
    round_trip(
        ".s3cfg",
        "[default]\naccess_key = {id}\nbucket_location = US\nsecret_key = {secret}\nhost_base = s3.amazonaws.com\n",
        1,
    );
    round_trip(
        "rclone.conf",
        "[s3]\ntype = s3\nprovider = AWS\naccess_key_id = {id}\nsecret_access_key = {secret}\nregion = eu-west-1\n\n[gdrive]\ntype = drive\n",
        1,
    );
    round_trip(
        ".boto",
        "[Credentials]\naws_access_key_id={id}\naws_secret_access_key={secret}\n\n[Boto]\nhttps_validate_certificates = True\n",
        1,
    );
    round_trip(".passwd-s3fs", "{id}:{secret}\n", 1);
}

#[test]
fn json_yaml_and_tfvars() {
    round_trip(
        "creds.json",
        "{\"AccessKeyId\":\"{id}\",\"SecretAccessKey\":\"{secret}\",\"Version\":1}\n",
        1,
    );
    round_trip(
        "values.yaml",
        "aws:\n  access_key_id: {id}\n  secret_access_key: \"{secret}\"\n  region: us-east-1\n",
        1,
    );
    round_trip(
        "terraform.tfvars",
        "access_key = \"{id}\"\nsecret_key = \"{secret}\"\ntags = { owner = \"me\" }\n",
        1,
    );
}

#[test]
fn a_longer_token_around_the_key_is_another_value() {
    // `X{id}` is another id-like word, `{secret}=` another base64 value:
    // neither is this key, and neither is changed.
    let glued = format!("OTHER=X{OLD_ID}\nPADDED={OLD_SECRET}=\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, format!("K={OLD_ID}\nS={OLD_SECRET}\n{glued}")).unwrap();
    assert_eq!(
        swap(&listed(&path), &old(), &new()).unwrap(),
        Swapped::Changed(1)
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("K={NEW_ID}\nS={NEW_SECRET}\n{glued}")
    );
}

#[test]
fn refusals_name_the_file_and_line_and_never_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("# note\nK={id}\n", "line 2", "not its secret"),
        ("S={secret}\n", "line 1", "but not the key id"),
        ("K={id}\nS={secret}\n# was {id}\n", "lines 1, 3", "twice"),
        ("K={id}\nS={secret}\nS2={secret}\n", "lines 2, 3", "once"),
    ];
    for (text, line, what) in cases {
        let (before, _) = before_after(text);
        let path = dir.path().join(".env");
        std::fs::write(&path, &before).unwrap();
        let l = listed(&path);
        for err in [
            check(&l, &old()).unwrap_err(),
            swap(&l, &old(), &new()).unwrap_err(),
        ] {
            assert!(err.is_refusal());
            let msg = err.to_string();
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(msg.contains(line) && msg.contains(what), "{text}: {msg}");
            assert!(!msg.contains(OLD_SECRET) && !msg.contains(OLD_ID), "{msg}");
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    }
}

#[test]
fn a_copy_with_a_stray_id_is_refused() {
    // A third id, in a note (after a JSON `\n` escape, which does not glue
    // it to anything), makes the counts differ.
    let (before, _) = before_after(
        "{\"AccessKeyId\": \"{id}\", \"SecretAccessKey\": \"{secret}\", \"Note\": \"a\\n{id}b\"}",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creds.json");
    std::fs::write(&path, &before).unwrap();
    let err = check(&listed(&path), &old()).unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
}

#[test]
fn missing_files_are_refused_unless_optional() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.env");
    let err = check(&listed(&path), &old()).unwrap_err();
    assert!(matches!(err, CopyError::Missing { .. }) && err.is_refusal());
    assert!(err.to_string().contains("?"), "{err}");
    let optional = Listed {
        path: path.clone(),
        optional: true,
    };
    assert_eq!(check(&optional, &old()).unwrap(), None);
    assert_eq!(swap(&optional, &old(), &new()).unwrap(), Swapped::Missing);
    assert!(!path.exists());
    // A folder is not a file.
    let err = check(&listed(dir.path()), &old()).unwrap_err();
    assert!(matches!(err, CopyError::NotAFile { .. }));
}

#[test]
fn a_file_without_the_key_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, "NOTHING=here\n").unwrap();
    assert_eq!(check(&listed(&path), &old()).unwrap(), Some(Holds::Nothing));
    assert_eq!(
        swap(&listed(&path), &old(), &new()).unwrap(),
        Swapped::Nothing
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "NOTHING=here\n");
}

#[cfg(unix)]
#[test]
fn the_mode_and_a_symlink_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("dotfiles-s3cfg");
    let link = dir.path().join(".s3cfg");
    let (before, after) = before_after("access_key = {id}\nsecret_key = {secret}\n");
    std::fs::write(&real, &before).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    assert_eq!(
        swap(&listed(&link), &old(), &new()).unwrap(),
        Swapped::Changed(1)
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&real).unwrap(), after);
    let mode = std::fs::metadata(&real).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
}

#[cfg(unix)]
#[test]
fn a_pipe_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let err = check(&listed(&fifo), &old()).unwrap_err();
    assert!(matches!(err, CopyError::NotAFile { .. }), "{err}");
}

#[test]
fn an_edit_is_applied_to_what_the_file_holds_when_it_is_written() {
    // Loaded, then changed by another program: the swap computed from the
    // first read is not written over the change (atomic::replace's check),
    // and a fresh swap keeps the other program's line.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    let (before, _) = before_after("K={id}\nS={secret}\n");
    std::fs::write(&path, &before).unwrap();
    let first = load(&listed(&path)).unwrap().unwrap();
    let (_, stale) = first.swapped(&old(), &new()).unwrap().unwrap();
    std::fs::write(&path, format!("{before}ADDED=1\n")).unwrap();
    assert!(!atomic::replace(&path, Some(first.bytes()), &stale).unwrap());
    assert_eq!(
        swap(&listed(&path), &old(), &new()).unwrap(),
        Swapped::Changed(1)
    );
    let (_, after) = before_after("K={id}\nS={secret}\nADDED=1\n");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), after);
}

proptest! {
    /// Whatever surrounds the copies, glued to them or not, an edit that
    /// is made changes only their bytes, and swapping back gives the
    /// original bytes.
    #[test]
    fn swapping_back_restores_every_byte(
        parts in proptest::collection::vec(
            ("[ -~\n]{0,8}", "(|\n|=|\"|'| |x|A|/|:)", "(|\n|=|\"|'| |x|A|/|:)"),
            1..6,
        ),
    ) {
        let mut text = String::new();
        for (i, (p, glue_before, glue_after)) in parts.iter().enumerate() {
            text.push_str(p);
            text.push_str(glue_before);
            text.push_str(if i % 2 == 0 { "{id}" } else { "{secret}" });
            text.push_str(glue_after);
        }
        let (before, _) = before_after(&text);
        let f = Loaded { path: "/x".into(), bytes: Zeroizing::new(before.clone().into_bytes()) };
        let Ok(Some((n, swapped))) = f.swapped(&old(), &new()) else {
            return Ok(());
        };
        let g = Loaded { path: "/x".into(), bytes: swapped };
        prop_assert_eq!(g.holds(&new()).unwrap(), Holds::Copies(n));
        prop_assert_eq!(g.holds(&old()).unwrap(), Holds::Nothing);
        let (_, back) = g.swapped(&new(), &old()).unwrap().unwrap();
        prop_assert_eq!(back.as_slice(), before.as_bytes());
    }
}
