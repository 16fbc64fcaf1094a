//! End-to-end rotations against the emulator, checked with the real AWS CLI.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;

const OLD_ID: &str = "@OLD_ID@";
const OLD_SECRET: &str = "@OLD_SECRET@";

/// Comments of both kinds (after a section header too), odd spacing,
/// key order reversed, unknown keys, a nested value, a shared key, an
/// unrelated profile, a missing final newline. (No `key: value`: the AWS
/// CLI reads it but the AWS SDKs refuse it, so aws-rekey refuses it too,
/// issue 10.)
fn realistic(eol: &str) -> String {
    [
        "# AWS credentials, edited by hand",
        "; a second comment style",
        "",
        "[default] # my own key",
        "aws_access_key_id=@OLD_ID@",
        "aws_secret_access_key   =   @OLD_SECRET@   ",
        "# a comment inside the section",
        "toolkit_artifact_guid = 1234",
        "",
        "[ci];the build's copy",
        "aws_secret_access_key\t= @OLD_SECRET@",
        "aws_access_key_id =@OLD_ID@",
        "output=json",
        "",
        "[unrelated]",
        "aws_access_key_id = AKIAUNRELATED0000000",
        "aws_secret_access_key = unrelated/secret+value",
        "s3 =",
        "    max_concurrent_requests = 10",
    ]
    .join(eol)
}

fn fill(template: &str, key: &Key) -> String {
    template
        .replace(OLD_ID, &key.id)
        .replace(OLD_SECRET, &key.secret)
}

fn rotate_realistic_file(eol: &str, symlink: bool) {
    let env = TestEnv::new();
    let user = env.emu.user("alice");
    let original = fill(&realistic(eol), &user.key);
    std::fs::create_dir_all(env.home().join(".aws")).unwrap();
    let target = if symlink {
        let real = env.home().join("dotfiles/aws-credentials");
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::fs::write(&real, &original).unwrap();
        std::os::unix::fs::symlink(&real, env.credentials()).unwrap();
        real
    } else {
        env.write_credentials(&original);
        env.credentials()
    };
    use std::os::unix::fs::PermissionsExt;
    // A mode of the user's choosing, group-readable: it is kept.
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();

    let run = env.run(&["rotate"]);
    run.success();

    let new = env.file_key("default");
    assert_ne!(new.id, user.key.id);
    assert_eq!(
        env.file_key("ci"),
        new,
        "the profile sharing the key moves too"
    );
    // Only the bytes of the two values changed.
    let expected = fill(&realistic(eol), &new);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), expected);
    if symlink {
        let meta = std::fs::symlink_metadata(env.credentials()).unwrap();
        assert!(meta.file_type().is_symlink(), "the symlink stays a symlink");
    }
    let mode = std::fs::metadata(&target).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640, "the file's mode is kept");

    // The AWS CLI reads the rewritten file and reaches the same user.
    for profile in ["default", "ci"] {
        env.assert_cli_reaches(profile, user.arn.as_str());
    }
    assert!(!env.key_works(&user.key), "the old key is rejected");
    env.assert_clean(&user, "default", "after rotation");

    // No secret, and no whole key id, in what a person sees.
    let out = run.all_output();
    for secret in [&user.key.secret, &new.secret] {
        assert!(!out.contains(secret.as_str()), "a secret leaked: {out}");
    }
    assert!(
        !out.contains(&new.id) && !out.contains(&user.key.id),
        "unmasked id: {out}"
    );
    assert!(
        out.contains(&format!("{}…{}", &new.id[..4], &new.id[16..])),
        "{out}"
    );
}

#[test]
fn rotates_a_realistic_file_byte_for_byte() {
    rotate_realistic_file("\n", false);
}

#[test]
fn rotates_a_crlf_file_through_a_symlink() {
    rotate_realistic_file("\r\n", true);
}

#[test]
fn json_output_is_one_document_with_the_outcome() {
    let env = TestEnv::new();
    let user = env.emu.user("bob");
    env.simple_profile(&user);
    let run = env.run(&["rotate", "--output", "json"]);
    run.success();
    let doc = run.json();
    let new = env.file_key("default");
    assert_eq!(doc["profile"], "default");
    assert_eq!(doc["old_key_id"], user.key.id.as_str());
    assert_eq!(doc["new_key_id"], new.id.as_str());
    assert_eq!(doc["user_arn"], user.arn.as_str());
    assert_eq!(doc["old_key"], "deleted");
    assert!(doc["verify_seconds"].as_f64().unwrap() >= 0.0);
    assert!(!run.all_output().contains(&new.secret));
    assert!(!run.all_output().contains(&user.key.secret));
}

#[test]
fn uses_aws_profile_and_the_profiles_region() {
    let env = TestEnv::new();
    let user = env.emu.user("carol");
    env.write_credentials(&format!(
        "[work]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.key.id, user.key.secret
    ));
    env.write_config("[profile work]\nregion = eu-west-1\n");
    env.emu.clear_log();
    let run = Run(env
        .cmd(&["rotate"])
        .env("AWS_PROFILE", "work")
        .output()
        .unwrap());
    run.success();
    let log = env.emu.harness("GET", "log", &serde_json::Value::Null);
    let regions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["region"].as_str().unwrap())
        .collect();
    assert!(
        !regions.is_empty() && regions.iter().all(|r| *r == "eu-west-1"),
        "{regions:?}"
    );
    env.assert_clean(&user, "work", "AWS_PROFILE");
}

#[test]
fn falls_back_to_us_east_1_without_a_region() {
    let env = TestEnv::new();
    let user = env.emu.user("dave");
    env.simple_profile(&user);
    env.emu.clear_log();
    env.run(&["rotate"]).success();
    let log = env.emu.harness("GET", "log", &serde_json::Value::Null);
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|e| e["region"] == "us-east-1")
    );
}

#[test]
fn keep_old_deactivates_and_the_next_rotation_deletes_it() {
    let env = TestEnv::new();
    let user = env.emu.user("erin");
    env.simple_profile(&user);
    let run = env.run(&["rotate", "--keep-old", "--output", "json"]);
    run.success();
    assert_eq!(run.json()["old_key"], "deactivated");
    let second = env.file_key("default");
    let keys = env.emu.keys("erin");
    assert_eq!(keys.len(), 2);
    assert!(keys.contains(&(user.key.id.clone(), "Inactive".into())));
    assert!(!env.key_works(&user.key), "an inactive key is rejected");
    assert!(env.key_works(&second));

    let run = env.run(&["rotate", "--output", "json"]);
    run.success();
    assert_eq!(run.json()["deleted_leftovers"][0], user.key.id.as_str());
    env.assert_clean(&user, "default", "second rotation");
    assert!(!env.key_works(&second));
}

#[test]
fn dry_run_changes_nothing() {
    let env = TestEnv::new();
    let user = env.emu.user("frank");
    env.simple_profile(&user);
    let before = env.read_credentials();
    let run = env.run(&["rotate", "--dry-run", "--output", "json"]);
    run.success();
    let doc = run.json();
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["old_key"], "would-delete");
    assert_eq!(env.read_credentials(), before);
    assert_eq!(
        env.emu.keys("frank"),
        vec![(user.key.id.clone(), "Active".into())]
    );
    let creates = env.emu.count("CreateAccessKey");
    assert_eq!(creates, 0);
}

#[test]
fn waits_for_propagation_and_survives_a_flapping_key() {
    let env = TestEnv::new();
    let user = env.emu.user("gina");
    env.simple_profile(&user);
    // The new key is refused for 2 s, then on every other request for 2 s.
    env.emu
        .fault(serde_json::json!({ "propagation_s": 2, "flap_s": 2 }));
    let run = env.run(&["rotate", "--output", "json"]);
    run.success();
    let waited = run.json()["verify_seconds"].as_f64().unwrap();
    assert!(
        waited >= 1.5,
        "verified before the key propagated: {waited}"
    );
    let refused = env
        .emu
        .log()
        .iter()
        .filter(|(_, _, s)| s == "propagating")
        .count();
    assert!(refused >= 2, "the wait was not exercised");
    env.emu.clear_faults();
    env.assert_clean(&user, "default", "after propagation");
}

#[test]
fn a_key_that_never_verifies_is_rolled_back() {
    let env = TestEnv::new();
    let user = env.emu.user("hank");
    env.simple_profile(&user);
    let before = env.read_credentials();
    env.emu.fault(serde_json::json!({ "propagation_s": 600 }));
    let run = env.run(&["rotate", "--verify-timeout", "3"]);
    run.exit(5);
    assert!(run.stderr().contains("Rolled back"), "{}", run.stderr());
    env.emu.clear_faults();
    assert_eq!(
        env.read_credentials(),
        before,
        "the old key is back, byte for byte"
    );
    env.assert_clean(&user, "default", "after roll-back");
    assert!(!run.all_output().contains(&user.key.secret));
}

#[test]
fn exported_credentials_are_warned_about_not_used() {
    let env = TestEnv::new();
    let user = env.emu.user("ivy");
    env.simple_profile(&user);
    let run = Run(env
        .cmd(&["rotate"])
        .env("AWS_ACCESS_KEY_ID", "AKIAEXPORTEDINSHELL0")
        .env("AWS_SECRET_ACCESS_KEY", "exported-secret")
        .output()
        .unwrap());
    run.success();
    assert!(
        run.stderr().contains("AWS_ACCESS_KEY_ID"),
        "{}",
        run.stderr()
    );
    env.assert_clean(&user, "default", "env vars set");
}

#[test]
fn several_profiles_in_one_run() {
    let env = TestEnv::new();
    let a = env.emu.user("jane");
    let b = env.emu.user("kyle");
    env.write_credentials(&format!(
        "[a]\naws_access_key_id = {}\naws_secret_access_key = {}\n[b]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        a.key.id, a.key.secret, b.key.id, b.key.secret
    ));
    let run = env.run(&[
        "rotate",
        "--profile",
        "a",
        "--profile",
        "b",
        "--output",
        "json",
    ]);
    run.success();
    let doc = run.json();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["rotations"].as_array().unwrap().len(), 2);
    env.assert_clean(&a, "a", "a");
    env.assert_clean(&b, "b", "b");
}

/// The SDK's own endpoint settings reach the emulator too: per-service
/// variables, and `endpoint_url` in the profile.
#[test]
fn service_endpoint_variables_and_profile_endpoint_url() {
    let env = TestEnv::new();
    let a = env.emu.user("ep-svc");
    env.simple_profile(&a);
    let run = Run(env
        .cmd(&["rotate"])
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ENDPOINT_URL_IAM", &env.emu.endpoint)
        .env("AWS_ENDPOINT_URL_STS", &env.emu.endpoint)
        .output()
        .unwrap());
    run.success();
    env.assert_clean(&a, "default", "AWS_ENDPOINT_URL_IAM/_STS");

    let b = env.emu.user("ep-cfg");
    env.simple_profile(&b);
    env.write_config(&format!("[default]\nendpoint_url = {}\n", env.emu.endpoint));
    let run = Run(env
        .cmd(&["rotate"])
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap());
    run.success();
    env.assert_clean(&b, "default", "endpoint_url in the profile");
}

/// An empty AWS_PROFILE means unset, as in the AWS CLI: `default`.
#[test]
fn an_empty_aws_profile_means_default() {
    let env = TestEnv::new();
    let a = env.emu.user("empty-profile");
    env.simple_profile(&a);
    Run(env
        .cmd(&["rotate"])
        .env("AWS_PROFILE", "")
        .output()
        .unwrap())
    .success();
    env.assert_clean(&a, "default", "AWS_PROFILE=\"\"");
}
