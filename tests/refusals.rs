//! Everything aws-rekey refuses: a clear message, a non-zero exit, the
//! files byte-identical and IAM unchanged.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;

/// Runs `rotate` with the given files and checks that nothing changed.
fn refused(env: &TestEnv, user: &User, args: &[&str], code: i32, needles: &[&str]) -> Run {
    let creds_before = std::fs::read(env.credentials()).ok();
    let config_before = std::fs::read(env.config()).ok();
    let keys_before = env.emu.keys(&user.name);
    let run = env.run(args);
    run.exit(code);
    let err = run.stderr();
    for needle in needles {
        assert!(err.contains(needle), "expected {needle:?} in: {err}");
    }
    assert_eq!(
        std::fs::read(env.credentials()).ok(),
        creds_before,
        "credentials changed"
    );
    assert_eq!(
        std::fs::read(env.config()).ok(),
        config_before,
        "config changed"
    );
    assert_eq!(env.emu.keys(&user.name), keys_before, "IAM changed");
    assert!(
        !run.all_output().contains(&user.key.secret),
        "secret in output"
    );
    assert!(
        run.stdout().is_empty() || args.contains(&"json"),
        "stdout: {}",
        run.stdout()
    );
    run
}

fn env_with(creds: &str, config: &str) -> (TestEnv, User) {
    let env = TestEnv::new();
    let user = env.emu.user("pat");
    let fill = |t: &str| {
        t.replace("@ID@", &user.key.id)
            .replace("@SECRET@", &user.key.secret)
    };
    env.write_credentials(&fill(creds));
    env.write_config(&fill(config));
    (env, user)
}

const KEY: &str = "[default]\naws_access_key_id = @ID@\naws_secret_access_key = @SECRET@\n";

#[test]
fn unknown_profile() {
    let (env, user) = env_with(KEY, "");
    refused(
        &env,
        &user,
        &["rotate", "--profile", "nope"],
        3,
        &["'nope' not found", "known profiles: default"],
    );
    // Nothing to write, so no state folder (with a lock and an empty
    // `pending/`) is left behind; with --all and several names too.
    assert!(
        !env.state_dir().exists(),
        "a refused rotate made the state folder"
    );
    env.run(&["rotate", "--profile", "nope", "--profile", "nada"])
        .exit(3);
    assert!(!env.state_dir().exists());
}

#[test]
fn session_token_profile() {
    let (env, user) = env_with(
        "[temp]\naws_access_key_id = ASIAXXXXXXXXXXXXXXXX\naws_secret_access_key = s\naws_session_token = t\n",
        "",
    );
    refused(
        &env,
        &user,
        &["rotate", "--profile", "temp"],
        3,
        &["temporary credentials"],
    );
}

#[test]
fn role_profile_without_a_source_profile() {
    let (env, user) = env_with(
        KEY,
        "[profile ec2]\nrole_arn = arn:aws:iam::123456789012:role/admin\ncredential_source = Ec2InstanceMetadata\n",
    );
    refused(
        &env,
        &user,
        &["rotate", "--profile", "ec2"],
        3,
        &["no long-lived key"],
    );
}

#[test]
fn sso_profile() {
    let (env, user) = env_with(
        KEY,
        "[profile corp]\nsso_session = corp\nsso_account_id = 1\n",
    );
    refused(
        &env,
        &user,
        &["rotate", "--profile", "corp"],
        3,
        &["IAM Identity Center"],
    );
}

#[test]
fn credential_process_profile() {
    let (env, user) = env_with(
        KEY,
        "[profile vault]\ncredential_process = /usr/bin/vault-creds\n",
    );
    refused(
        &env,
        &user,
        &["rotate", "--profile", "vault"],
        3,
        // The command line itself is never shown: it may hold a token.
        &["'vault'", "credential_process program"],
    );
}

#[test]
fn malformed_file_names_the_line() {
    let (env, user) = env_with(
        "[default]\naws_access_key_id = @ID@\nthis line is junk\naws_secret_access_key = @SECRET@\n",
        "",
    );
    refused(&env, &user, &["rotate"], 3, &["credentials: line 3"]);
}

#[test]
fn malformed_config_file_names_the_line() {
    let (env, user) = env_with(KEY, "[default\nregion = x\n");
    refused(&env, &user, &["rotate"], 3, &["config: line 1"]);
}

#[test]
fn an_unknown_second_key_is_shown_and_left_alone() {
    let (env, user) = env_with(KEY, "");
    let other = env.emu.extra_key("pat", true);
    let masked = format!("{}…{}", &other.id[..4], &other.id[16..]);
    let run = refused(
        &env,
        &user,
        &["rotate"],
        3,
        &["second access key", &masked, "active", "never used"],
    );
    assert!(
        !run.all_output().contains(&other.id),
        "the other key's id is masked"
    );
    assert!(env.key_works(&other));
}

#[test]
fn an_unknown_inactive_key_is_not_deleted_either() {
    let (env, user) = env_with(KEY, "");
    env.emu.extra_key("pat", false);
    refused(
        &env,
        &user,
        &["rotate"],
        3,
        &["second access key", "inactive"],
    );
}

#[test]
fn a_key_that_does_not_work() {
    let (env, user) = env_with(
        "[default]\naws_access_key_id = @ID@\naws_secret_access_key = wrong-secret\n",
        "",
    );
    refused(&env, &user, &["rotate"], 4, &["does not work"]);
}

#[test]
fn no_network() {
    let (env, user) = env_with(KEY, "");
    // A port nothing listens on: the connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let before = env.read_credentials();
    let run = Run(env
        .cmd(&["rotate"])
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .output()
        .unwrap());
    run.exit(4);
    assert!(
        run.stderr().contains("no answer from AWS"),
        "{}",
        run.stderr()
    );
    assert_eq!(env.read_credentials(), before);
    assert_eq!(env.emu.keys(&user.name).len(), 1);
}

#[test]
fn no_credentials_file_at_all() {
    let env = TestEnv::new();
    let user = env.emu.user("quin");
    let run = env.run(&["rotate"]);
    run.exit(3);
    // A first run: the message says the files are missing and how to make
    // a profile, not only that the name is not in them.
    let err = run.stderr();
    for needle in [
        "'default' not found",
        &format!("neither {} nor", env.credentials().display()),
        "exists",
        "aws-rekey setup --profile default",
        "aws configure",
    ] {
        assert!(err.contains(needle), "expected {needle:?} in: {err}");
    }
    assert_eq!(env.emu.keys(&user.name).len(), 1);
    assert!(!env.credentials().exists());
    // Refused before anything was written: no state folder either.
    assert!(
        !env.state_dir().exists(),
        "a refused rotate made the state folder"
    );
}

#[test]
fn a_missing_credentials_file_is_named_when_the_config_exists() {
    let env = TestEnv::new();
    env.write_config("[default]\nregion = eu-west-1\n");
    let run = env.run(&["rotate", "--profile", "work"]);
    run.exit(3);
    let err = run.stderr();
    assert!(
        err.contains(&format!("{} does not exist", env.credentials().display())),
        "{err}"
    );
    assert!(err.contains("known profiles: default"), "{err}");
}

#[test]
fn a_profile_from_aws_profile_is_named_as_such() {
    let (env, user) = env_with(KEY, "");
    let run = Run(env
        .cmd(&["rotate"])
        .env("AWS_PROFILE", "work")
        .output()
        .unwrap());
    run.exit(3);
    assert!(
        run.stderr()
            .contains("profile 'work' (from $AWS_PROFILE) not found"),
        "{}",
        run.stderr()
    );
    assert_eq!(env.emu.keys(&user.name).len(), 1);
    // A name typed on the command line is not attributed to the variable.
    let typed = env.run(&["rotate", "--profile", "typed"]);
    typed.exit(3);
    assert!(
        !typed.stderr().contains("AWS_PROFILE"),
        "{}",
        typed.stderr()
    );
}

#[test]
fn a_bad_verify_timeout_says_only_what_to_type() {
    let out = std::process::Command::new(BIN)
        .args(["rotate", "--verify-timeout", "abc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    // The whole first line: the human half, with no parser explanation.
    assert_eq!(
        err.lines().next(),
        Some(
            "error: invalid value 'abc' for '--verify-timeout <SECS>': expected seconds or a duration like 90s or 2m, at most 1 hour"
        ),
        "{err}"
    );
}

#[test]
fn a_damaged_pending_record_stops_everything() {
    let (env, user) = env_with(KEY, "");
    std::fs::create_dir_all(env.state_dir().join("pending")).unwrap();
    std::fs::write(
        env.state_dir()
            .join("pending")
            .join(format!("{}.json", user.key.id)),
        "{",
    )
    .unwrap();
    refused(&env, &user, &["rotate"], 1, &["damaged"]);
}

#[test]
fn json_errors_are_a_document_too() {
    let (env, user) = env_with(KEY, "");
    let run = refused(
        &env,
        &user,
        &["rotate", "--profile", "nope", "--output", "json"],
        3,
        &["not found"],
    );
    let doc = run.json();
    assert_eq!(doc["exit_code"], 3);
    assert!(doc["error"].as_str().unwrap().contains("nope"));
}
