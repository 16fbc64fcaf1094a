//! `aws-rekey setup`: onboarding from a bootstrap key on stdin or in the
//! environment, idempotent, and leaving nothing behind when it refuses.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;

fn setup(env: &TestEnv, args: &[&str], stdin: &str) -> Run {
    let mut all = vec!["setup"];
    all.extend_from_slice(args);
    env.run_stdin(&all, stdin)
}

fn create_access_key_json(key: &Key) -> String {
    serde_json::json!({"AccessKey": {"UserName": "x", "AccessKeyId": key.id, "Status": "Active",
        "SecretAccessKey": key.secret, "CreateDate": "2026-01-01T00:00:00Z"}})
    .to_string()
}

#[test]
fn from_create_access_key_json_the_bootstrap_key_dies() {
    let env = TestEnv::new();
    let user = env.emu.user("new1");
    let run = setup(
        &env,
        &[
            "--profile",
            "dev",
            "--region",
            "eu-west-1",
            "--output",
            "json",
        ],
        &create_access_key_json(&user.key),
    );
    run.success();
    let doc = run.json();
    assert_eq!(doc["rotated"], true);
    assert_eq!(doc["user_arn"], user.arn.as_str());
    let key = env.file_key("dev");
    assert_eq!(doc["access_key_id"], key.id.as_str());
    assert_ne!(key.id, user.key.id);
    assert!(
        !env.key_works(&user.key),
        "the bootstrap key is rejected afterwards"
    );
    env.assert_clean(&user, "dev", "after setup");
    assert_eq!(
        std::fs::read_to_string(env.config()).unwrap(),
        "[profile dev]\nregion = eu-west-1\n"
    );
    env.assert_cli_reaches("dev", user.arn.as_str());
    assert!(
        !run.all_output().contains(&user.key.secret) && !run.all_output().contains(&key.secret)
    );
    // The age is known for check.
    env.run(&["check", "--max-age", "0"]).exit(10);

    // Idempotent: the same command again leaves the working profile alone.
    let before = env.read_credentials();
    let again = setup(
        &env,
        &["--profile", "dev", "--region", "eu-west-1"],
        &create_access_key_json(&user.key),
    );
    again.success();
    assert!(
        again.stdout().contains("already set up"),
        "{}",
        again.stdout()
    );
    assert_eq!(env.read_credentials(), before);
}

#[test]
fn two_lines_and_no_rotate_keep_the_bootstrap_key() {
    let env = TestEnv::new();
    let user = env.emu.user("new2");
    env.write_credentials("# existing\n[other]\naws_access_key_id = AKIAOTHER00000000000\naws_secret_access_key = o\n");
    let run = setup(
        &env,
        &["--profile", "dev", "--no-rotate"],
        &format!("{}\n{}\n", user.key.id, user.key.secret),
    );
    run.success();
    assert_eq!(
        env.read_credentials(),
        format!(
            "# existing\n[other]\naws_access_key_id = AKIAOTHER00000000000\naws_secret_access_key = o\n\n[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.key.id, user.key.secret
        )
    );
    assert!(env.key_works(&user.key));
    // Its age is recorded even without a rotation.
    let check = env.run(&["check", "--max-age", "0"]);
    assert!(check.stdout().contains("'dev'"), "{}", check.stdout());
}

#[test]
fn from_the_environment() {
    let env = TestEnv::new();
    let user = env.emu.user("new3");
    let run = Run(env
        .cmd(&["setup", "--profile", "dev"])
        .env("AWS_ACCESS_KEY_ID", &user.key.id)
        .env("AWS_SECRET_ACCESS_KEY", &user.key.secret)
        .output()
        .unwrap());
    run.success();
    assert!(run.stderr().contains("unset them"), "{}", run.stderr());
    env.assert_clean(&user, "dev", "from env");
    assert!(!env.key_works(&user.key));
}

fn refused(env: &TestEnv, args: &[&str], stdin: &str, code: i32, needle: &str, secret: &str) {
    let creds = std::fs::read(env.credentials()).ok();
    let config = std::fs::read(env.config()).ok();
    let run = setup(env, args, stdin);
    run.exit(code);
    assert!(
        run.stderr().contains(needle),
        "expected {needle:?}: {}",
        run.stderr()
    );
    assert!(!run.all_output().contains(secret), "the secret was echoed");
    assert_eq!(
        std::fs::read(env.credentials()).ok(),
        creds,
        "credentials written"
    );
    assert_eq!(std::fs::read(env.config()).ok(), config, "config written");
}

#[test]
fn refusals_leave_nothing_behind() {
    let env = TestEnv::new();
    let user = env.emu.user("new4");
    refused(
        &env,
        &["--profile", "dev"],
        "{\"AccessKey\": {",
        3,
        "not valid JSON",
        "zzz",
    );
    refused(
        &env,
        &["--profile", "dev"],
        "{\"Something\": 1}",
        3,
        "AccessKeyId",
        "zzz",
    );
    refused(
        &env,
        &["--profile", "dev"],
        "AKIAONLYONELINE00000",
        3,
        "two lines",
        "zzz",
    );
    refused(
        &env,
        &["--profile", "dev"],
        "",
        3,
        "no bootstrap key",
        "zzz",
    );
    let wrong = format!("{}\nnot-the-right-secret-value\n", user.key.id);
    refused(
        &env,
        &["--profile", "dev"],
        &wrong,
        4,
        "does not work",
        "not-the-right-secret-value",
    );
    assert!(!env.credentials().exists() && !env.config().exists());
    assert_eq!(env.emu.keys("new4").len(), 1, "IAM unchanged");

    // A role profile of that name is never overwritten.
    env.write_config(
        "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n",
    );
    refused(
        &env,
        &["--profile", "dev", "--force"],
        &create_access_key_json(&user.key),
        3,
        "assumes a role",
        &user.key.secret,
    );
}

#[test]
fn an_existing_working_profile_needs_force_and_its_key_is_kept() {
    let env = TestEnv::new();
    let old = env.emu.user("prev");
    let user = env.emu.user("new5");
    env.write_credentials(&format!(
        "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        old.key.id, old.key.secret
    ));
    let before = env.read_credentials();
    let run = setup(
        &env,
        &["--profile", "dev"],
        &create_access_key_json(&user.key),
    );
    run.success();
    assert!(run.stdout().contains("already set up"));
    assert_eq!(env.read_credentials(), before);
    assert_eq!(env.emu.keys("new5").len(), 1);

    let run = setup(
        &env,
        &["--profile", "dev", "--force"],
        &create_access_key_json(&user.key),
    );
    run.success();
    env.assert_clean(&user, "dev", "forced");
    let kept = env
        .state_dir()
        .join("replaced")
        .join(format!("{}.json", old.key.id));
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(kept).unwrap()).unwrap();
    assert_eq!(
        saved["secret_access_key"],
        old.key.secret.as_str(),
        "the replaced key's secret is kept"
    );
    assert!(
        env.key_works(&old.key),
        "the replaced key itself is not touched"
    );
}
