//! Managed copies of a key (issue 12 item 2): files named by
//! `aws_rekey_also` or `--also` are updated with the profile, byte for
//! byte, read back by the real AWS CLI and boto3, put back by a failed
//! verification and by `rollback`, refused (changing nothing) when they do
//! not pair the key up, and finished or rolled back after a kill -9.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every format the issue names, each where a developer keeps it.
const FORMATS: &[(&str, &str)] = &[
    (
        "code/shop/.env",
        "# shop\nexport AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY=\"{secret}\"\nREGION='eu-west-1'\n",
    ),
    (
        ".envrc",
        "export AWS_ACCESS_KEY_ID='{id}'\r\nexport AWS_SECRET_ACCESS_KEY='{secret}'\r\n",
    ),
    (
        ".zshrc",
        "alias ll='ls -l'\nexport AWS_ACCESS_KEY_ID={id} AWS_SECRET_ACCESS_KEY={secret}\n",
    ),
    (
        ".config/fish/config.fish",
        "set -gx AWS_ACCESS_KEY_ID {id}\nset -gx AWS_SECRET_ACCESS_KEY {secret}\n",
    ),
    (
        ".s3cfg",
        "[default]\naccess_key = {id}\nbucket_location = US\nsecret_key = {secret}\n",
    ),
    (
        ".config/rclone/rclone.conf",
        "[s3]\ntype = s3\nprovider = AWS\naccess_key_id = {id}\nsecret_access_key = {secret}\n",
    ),
    (
        ".boto",
        "[Credentials]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n",
    ),
    (
        "code/app/creds.json",
        "{\n  \"AccessKeyId\": \"{id}\",\n  \"SecretAccessKey\": \"{secret}\"\n}",
    ),
    (
        "code/app/values.yaml",
        "aws:\n  access_key_id: {id}\n  secret_access_key: \"{secret}\"\n",
    ),
    (
        "My Projects/infra/terraform.tfvars",
        "access_key = \"{id}\"\nsecret_key = \"{secret}\"\nregion     = \"us-east-1\"\n",
    ),
];

fn fill(template: &str, key: &Key) -> String {
    template
        .replace("{id}", &key.id)
        .replace("{secret}", &key.secret)
}

/// Writes `files` (relative to home) holding `key`.
fn write_copies(env: &TestEnv, files: &[(&str, &str)], key: &Key) -> Vec<PathBuf> {
    files
        .iter()
        .map(|(rel, template)| {
            let path = env.home().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, fill(template, key)).unwrap();
            path
        })
        .collect()
}

/// `~/a ~/b "~/with space"`: the setting's value for `files`.
fn also_value(files: &[(&str, &str)]) -> String {
    files
        .iter()
        .map(|(rel, _)| {
            if rel.contains(' ') {
                format!("\"~/{rel}\"")
            } else {
                format!("~/{rel}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[track_caller]
fn assert_copies(env: &TestEnv, files: &[(&str, &str)], key: &Key, context: &str) {
    for (rel, template) in files {
        let path = env.home().join(rel);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            fill(template, key),
            "{context}: {rel}"
        );
    }
}

fn statuses(doc: &Value) -> Vec<(String, String)> {
    doc["also"]
        .as_array()
        .unwrap_or_else(|| panic!("no also array: {doc:#}"))
        .iter()
        .map(|a| {
            (
                a["path"].as_str().unwrap().to_string(),
                a["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_format_is_updated_byte_exactly() {
    let env = TestEnv::new();
    let user = env.emu.user("formats");
    env.simple_profile(&user);
    let (in_config, on_command_line) = FORMATS.split_at(FORMATS.len() - 2);
    let paths = write_copies(&env, FORMATS, &user.key);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&paths[4], std::fs::Permissions::from_mode(0o600)).unwrap();
    // The last two on an indented continuation line, as the README shows.
    let (first, rest) = in_config.split_at(in_config.len() - 2);
    env.write_config(&format!(
        "[default]\nregion = us-east-1\naws_rekey_also = {}\n    {}\n",
        also_value(first),
        also_value(rest)
    ));
    let mut args = vec!["rotate", "--output", "json"];
    let extra: Vec<String> = on_command_line
        .iter()
        .map(|(rel, _)| env.home().join(rel).display().to_string())
        .collect();
    for p in &extra {
        args.extend(["--also", p]);
    }
    let run = env.run(&args);
    run.success();
    let new = env.file_key("default");
    assert_ne!(new.id, user.key.id);
    assert_copies(&env, FORMATS, &new, "after the rotation");
    let mode = std::fs::metadata(&paths[4]).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the mode is kept");
    let doc = run.json();
    let got = statuses(&doc);
    assert_eq!(got.len(), FORMATS.len(), "{doc:#}");
    for (path, status) in &got {
        assert_eq!(status, "updated", "{path}");
    }
    assert!(!run.all_output().contains(&new.secret));
    assert!(!run.all_output().contains(&user.key.secret));
    env.assert_clean(&user, "default", "after the rotation");

    // Text output lists the updated files; a second rotation moves them on.
    let run = env.run(&["rotate", "--also", &extra[0], "--also", &extra[1]]);
    run.success();
    let newer = env.file_key("default");
    assert_copies(&env, FORMATS, &newer, "after the second rotation");
    let out = run.stdout();
    for (rel, _) in FORMATS {
        let name = Path::new(rel).file_name().unwrap().to_string_lossy();
        assert!(out.contains(&*name), "{rel} not listed: {out}");
    }
}

/// The rotated copies are read back by the programs that use them: a shell
/// sourcing the `.env` for the AWS CLI, botocore reading `~/.boto`, boto3
/// given the values of an s3cmd file.
#[test]
fn the_aws_cli_and_boto3_read_the_rotated_copies() {
    let env = TestEnv::new();
    let user = env.emu.user("readers");
    env.simple_profile(&user);
    let files = [FORMATS[0], FORMATS[4], FORMATS[6]];
    write_copies(&env, &files, &user.key);
    env.write_config(&format!(
        "[default]\naws_rekey_also = {}\n",
        also_value(&files)
    ));
    env.run(&["rotate"]).success();
    let new = env.file_key("default");
    assert!(!env.key_works(&user.key), "the old key was deleted");

    let outside_profiles = |cmd: &mut Command| {
        env.apply_env(cmd);
        cmd.env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_DEFAULT_REGION", "us-east-1");
    };
    let mut sourced = Command::new("sh");
    sourced.args([
        "-c",
        "set -a; . \"$HOME/code/shop/.env\"; exec aws sts get-caller-identity --output json",
    ]);
    outside_profiles(&mut sourced);
    let out = Run(sourced.output().unwrap());
    out.success();
    assert_eq!(
        out.json()["Arn"],
        user.arn.as_str(),
        ".env through the shell"
    );

    let mut boto = Command::new("aws");
    boto.args(["sts", "get-caller-identity", "--output", "json"]);
    outside_profiles(&mut boto);
    boto.env("BOTO_CONFIG", env.home().join(".boto"));
    let out = Run(boto.output().unwrap());
    out.success();
    assert_eq!(
        out.json()["Arn"],
        user.arn.as_str(),
        "~/.boto through botocore"
    );

    let python = std::env::var("AWS_REKEY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut s3cfg = Command::new(python);
    s3cfg.args([
        "-c",
        "import configparser, os, boto3\n\
         c = configparser.RawConfigParser()\n\
         c.read(os.path.expanduser('~/.s3cfg'))\n\
         d = c['default']\n\
         sts = boto3.client('sts', aws_access_key_id=d['access_key'], aws_secret_access_key=d['secret_key'])\n\
         print(sts.get_caller_identity()['Arn'])\n",
    ]);
    outside_profiles(&mut s3cfg);
    let out = Run(s3cfg.output().unwrap());
    out.success();
    assert_eq!(out.stdout().trim(), user.arn, "~/.s3cfg through boto3");
    assert!(env.key_works(&new));
}

#[test]
fn refusals_change_nothing() {
    let env = TestEnv::new();
    let user = env.emu.user("refused");
    env.simple_profile(&user);
    let good = [FORMATS[0]];
    write_copies(&env, &good, &user.key);
    let cases: &[(&str, &str, &str)] = &[
        ("lonely.env", "AWS_ACCESS_KEY_ID={id}\n", "line 1"),
        (
            "secret-only.env",
            "# x\nAWS_SECRET_ACCESS_KEY={secret}\n",
            "line 2",
        ),
        (
            "twice.env",
            "K={id}\nS={secret}\n# old: {id}\n",
            "lines 1, 3",
        ),
    ];
    let credentials = env.read_credentials();
    for (name, template, line) in cases {
        let path = write_copies(&env, &[(name, template)], &user.key).remove(0);
        env.write_config(&format!(
            "[default]\naws_rekey_also = {} ~/{name}\n",
            also_value(&good)
        ));
        env.emu.clear_log();
        let run = env.run(&["rotate"]);
        run.exit(3);
        let err = run.stderr();
        assert!(
            err.contains(&path.display().to_string()) && err.contains(line),
            "{name}: {err}"
        );
        assert!(!run.all_output().contains(&user.key.secret));
        assert_eq!(env.emu.count("CreateAccessKey"), 0, "{name}");
        assert_eq!(env.read_credentials(), credentials, "{name}");
        assert_copies(&env, &good, &user.key, name);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            fill(template, &user.key)
        );
        std::fs::remove_file(&path).unwrap();
    }
    // A missing file is refused, unless listed as optional.
    let gone = env.home().join("gone.env").display().to_string();
    env.write_config("[default]\n");
    let run = env.run(&["rotate", "--also", &gone]);
    run.exit(3);
    assert!(run.stderr().contains(&gone), "{}", run.stderr());
    assert_eq!(env.emu.count("CreateAccessKey"), 0);
    assert!(env.pending_records().is_empty());
    // A daily `--older-than` run that rotates nothing is not refused for a
    // copy it would not touch.
    let young = env.run(&["rotate", "--also", &gone, "--older-than", "1"]);
    young.success();
    assert!(young.stdout().contains("skipped"), "{}", young.stdout());
    let run = env.run(&["rotate", "--also", &format!("?{gone}"), "--output", "json"]);
    run.success();
    assert_eq!(statuses(&run.json()), [(gone, "unchanged".to_string())]);
}

#[test]
fn a_failed_verification_puts_every_copy_back() {
    let env = TestEnv::new();
    let user = env.emu.user("unverified");
    env.simple_profile(&user);
    let files = [FORMATS[0], FORMATS[4], FORMATS[9]];
    write_copies(&env, &files, &user.key);
    env.write_config(&format!(
        "[default]\naws_rekey_also = {}\n",
        also_value(&files)
    ));
    env.emu.fault(json!({ "propagation_s": 600 }));
    let run = env.run(&["rotate", "--verify-timeout", "2", "--output", "json"]);
    env.emu.clear_faults();
    run.exit(5);
    assert!(
        run.all_output().contains("3 managed copies"),
        "{}",
        run.all_output()
    );
    assert_copies(&env, &files, &user.key, "after the roll-back");
    env.assert_clean(&user, "default", "after the roll-back");
}

#[test]
fn rollback_restores_every_managed_copy() {
    let env = TestEnv::new();
    let user = env.emu.user("rolled");
    env.simple_profile(&user);
    let files = [FORMATS[1], FORMATS[5], FORMATS[7]];
    write_copies(&env, &files, &user.key);
    env.write_config(&format!(
        "[default]\naws_rekey_also = {}\n",
        also_value(&files)
    ));
    env.run(&["rotate", "--keep-old"]).success();
    let new = env.file_key("default");
    assert_copies(&env, &files, &new, "after the rotation");
    let run = env.run(&["rollback", "--profile", "default", "--output", "json"]);
    run.success();
    assert_eq!(env.file_key("default"), user.key);
    assert_copies(&env, &files, &user.key, "after the rollback");
    let got = statuses(&run.json());
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|(_, s)| s == "restored"), "{got:?}");
    assert!(env.key_works(&user.key));
}

/// Kill -9 at many instants of a rotation with three managed files: after
/// each kill every copy holds a working key, the same one as the profile
/// or the other of the two; a re-run leaves all of them on the profile's
/// one key.
#[test]
fn sigkill_at_many_instants_with_three_managed_files() {
    let env = TestEnv::new();
    let files = [FORMATS[0], FORMATS[4], FORMATS[8]];
    env.write_config(&format!(
        "[default]\naws_rekey_also = {}\n",
        also_value(&files)
    ));
    let delay = 120;
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..16u64 {
        let at = std::time::Duration::from_millis(40 + i * 70);
        let context = format!("killed after {at:?}");
        let user = env.emu.user(&format!("kill{i}"));
        env.simple_profile(&user);
        write_copies(&env, &files, &user.key);
        env.emu.fault(json!({ "delay_ms": delay }));
        env.kill_after(&["rotate"], at);
        std::thread::sleep(std::time::Duration::from_millis(delay + 100));
        env.emu.clear_faults();
        env.assert_safe(&user, "default", &context);
        let profile = env.file_key("default");
        for (rel, template) in &files {
            let text = std::fs::read_to_string(env.home().join(rel)).unwrap();
            let holds = [&profile, &user.key]
                .into_iter()
                .chain(env.pending_secrets().iter())
                .find(|k| text == fill(template, k))
                .cloned()
                .unwrap_or_else(|| panic!("{context}: {rel} holds no known key: {text}"));
            assert!(env.key_works(&holds), "{context}: {rel} holds a dead key");
            seen.insert(if holds == user.key { "old" } else { "new" });
        }
        let again = env.run(&["rotate"]);
        assert_eq!(again.code(), 0, "{context}: {}", again.stderr());
        env.assert_clean(
            &user,
            "default",
            &format!("{context}, after re-run: {}", again.stderr()),
        );
        let now = env.file_key("default");
        assert_copies(&env, &files, &now, &format!("{context}, after re-run"));
    }
    assert_eq!(
        seen.len(),
        2,
        "the kills never caught a switched copy: {seen:?}"
    );
}
