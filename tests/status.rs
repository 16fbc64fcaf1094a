//! `aws-rekey status`: text and JSON, shared keys, the other key, and the
//! key book it fills for `check`.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;

#[test]
fn shows_every_profile_and_records_dates() {
    let env = TestEnv::new();
    let a = env.emu.user("st1");
    let b = env.emu.user("st2");
    let other = env.emu.extra_key("st2", false);
    env.write_credentials(&format!(
        "[default]\naws_access_key_id = {0}\naws_secret_access_key = {1}\n[ci]\naws_access_key_id = {0}\naws_secret_access_key = {1}\n\
         [second]\naws_access_key_id = {2}\naws_secret_access_key = {3}\n[temp]\naws_access_key_id = ASIAX\naws_secret_access_key = x\naws_session_token = t\n",
        a.key.id, a.key.secret, b.key.id, b.key.secret
    ));
    env.write_config(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = default\n",
    );

    let run = env.run(&["status"]);
    run.success();
    let out = run.stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("PROFILE")
            && lines[0].contains("LAST USED")
            && lines[0].contains("DUE"),
        "{out}"
    );
    let shared = lines
        .iter()
        .find(|l| l.starts_with("default, ci"))
        .expect("one row for the shared key");
    assert!(shared.contains(&format!("{}…{}", &a.key.id[..4], &a.key.id[16..])));
    assert!(
        shared.contains("file") && shared.trim_end().ends_with("no"),
        "{shared}"
    );
    let second = lines.iter().find(|l| l.starts_with("second")).unwrap();
    assert!(
        second.contains("(inactive)") && second.contains(&other.id[16..]),
        "{second}"
    );
    assert!(
        !out.contains("temp") && !out.contains("admin"),
        "only long-lived keys: {out}"
    );
    assert!(
        !out.contains(&a.key.id) && !out.contains(&a.key.secret),
        "{out}"
    );
    // Columns line up.
    let col = lines[0].find("STORE").unwrap();
    assert!(
        lines[1..3].iter().all(|l| &l[col..col + 4] == "file"),
        "{out}"
    );

    // The dates are now known offline.
    let check = env.run(&["check", "--max-age", "0"]);
    check.exit(10);
    assert!(!check.stdout().contains("unknown"), "{}", check.stdout());
}

#[test]
fn json_is_one_document_with_whole_ids() {
    let env = TestEnv::new();
    let a = env.emu.user("st3");
    env.simple_profile(&a);
    env.key_works(&a.key); // a use to report
    let run = env.run(&["status", "--output", "json"]);
    run.success();
    let doc = run.json();
    assert_eq!(doc["max_age_days"], 90.0);
    let row = &doc["profiles"][0];
    assert_eq!(row["profile"], "default");
    assert_eq!(row["store"], "file");
    assert_eq!(row["access_key_id"], a.key.id.as_str());
    assert_eq!(row["user_arn"], a.arn.as_str());
    assert_eq!(row["due"], false);
    assert!(row["age_days"].as_f64().unwrap() < 1.0);
    assert!(row["created"].as_str().unwrap().starts_with("20"));
    // The last use is the key's latest request (moto, like IAM, counts
    // status's own calls too).
    assert!(row["last_used"]["date"].as_str().unwrap().starts_with("20"));
    assert!(["sts", "iam"].contains(&row["last_used"]["service"].as_str().unwrap()));
    assert!(row["other_key"].is_null());
    assert!(!run.all_output().contains(&a.key.secret));
}

#[test]
fn a_broken_key_is_reported_not_fatal_to_the_others() {
    let env = TestEnv::new();
    let a = env.emu.user("st4");
    env.write_credentials(&format!(
        "[good]\naws_access_key_id = {}\naws_secret_access_key = {}\n[bad]\naws_access_key_id = AKIANOSUCHKEY0000000\naws_secret_access_key = x\n",
        a.key.id, a.key.secret
    ));
    let run = env.run(&["status", "--output", "json"]);
    run.exit(4);
    let doc = run.json();
    let rows = doc["profiles"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0]["error"].is_null());
    assert!(rows[1]["error"].as_str().unwrap().contains("rejected"));
}

#[test]
fn a_named_profile_that_cannot_be_shown() {
    let env = TestEnv::new();
    let a = env.emu.user("st5");
    env.simple_profile(&a);
    let run = env.run(&["status", "--profile", "nope"]);
    run.exit(3);
    assert!(run.stdout().contains("not found"), "{}", run.stdout());
}

#[test]
fn a_named_role_profile_shows_its_source_key() {
    let env = TestEnv::new();
    let a = env.emu.user("st6");
    env.simple_profile(&a);
    env.write_config(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = default\n",
    );
    let run = env.run(&["status", "--profile", "admin", "--output", "json"]);
    run.success();
    let row = &run.json()["profiles"][0];
    assert_eq!(row["profile"], "admin");
    assert_eq!(row["access_key_id"], a.key.id.as_str());
}

#[test]
fn nothing_to_show_leaves_no_state_folder() {
    let env = TestEnv::new();
    // No AWS files at all, then a file with no long-lived key.
    let run = env.run(&["status"]);
    run.success();
    assert!(run.stdout().contains("no profile"), "{}", run.stdout());
    env.write_credentials(
        "[temp]\naws_access_key_id = ASIAX\naws_secret_access_key = x\naws_session_token = t\n",
    );
    env.run(&["status"]).success();
    env.run(&["status", "--profile", "nope"]).exit(3);
    assert!(
        !env.state_dir().exists(),
        "status made the state folder with nothing to write"
    );
}

#[test]
fn a_row_that_could_not_be_queried_has_no_due_legend() {
    let env = TestEnv::new();
    env.write_credentials(
        "[bad]\naws_access_key_id = AKIANOSUCHKEY0000000\naws_secret_access_key = x\n",
    );
    let run = env.run(&["status"]);
    run.exit(4);
    let out = run.stdout();
    assert!(out.contains("error:"), "{out}");
    assert!(!out.contains("(due:"), "{out}");
    // Nothing learned, nothing written.
    assert!(!env.state_dir().exists());

    // With a row that has a verdict, the legend explains it.
    let a = env.emu.user("st7");
    env.write_credentials(&format!(
        "[good]\naws_access_key_id = {}\naws_secret_access_key = {}\n[bad]\naws_access_key_id = AKIANOSUCHKEY0000000\naws_secret_access_key = x\n",
        a.key.id, a.key.secret
    ));
    let run = env.run(&["status"]);
    run.exit(4);
    assert!(
        run.stdout().contains("(due: older than 90 days)"),
        "{}",
        run.stdout()
    );
}

#[test]
fn the_help_describes_the_table() {
    let env = TestEnv::new();
    let help = env.run(&["status", "--help"]);
    help.success();
    let out = help.stdout();
    assert!(!out.contains("one-line summary"), "{out}");
    assert!(out.contains("table"), "{out}");
}

#[test]
fn the_man_command_is_listed_in_the_help() {
    let env = TestEnv::new();
    let help = env.run(&["--help"]);
    help.success();
    assert!(
        help.stdout()
            .lines()
            .any(|l| l.trim_start().starts_with("man ")),
        "{}",
        help.stdout()
    );
}

/// The README's AWS CLI alias (`rekey = !aws-rekey` in ~/.aws/cli/alias):
/// `aws rekey status` runs aws-rekey through the real AWS CLI. The AWS CLI
/// keeps its own global options (`--profile`, `--output`) for itself and
/// does not pass them to a shell alias, as the README warns; the profile
/// goes in AWS_PROFILE instead.
#[test]
fn the_aws_cli_alias_runs_aws_rekey() {
    let env = TestEnv::new();
    let a = env.emu.user("st8");
    env.simple_profile(&a);
    let alias_dir = env.home().join(".aws/cli");
    std::fs::create_dir_all(&alias_dir).unwrap();
    std::fs::write(alias_dir.join("alias"), "[toplevel]\nrekey = !aws-rekey\n").unwrap();
    // `!aws-rekey` is looked up on PATH: the built binary's folder first.
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let aws = |args: &[&str], profile: Option<&str>| {
        let mut cmd = std::process::Command::new("aws");
        cmd.args(args);
        env.apply_env(&mut cmd);
        cmd.env("PATH", &path);
        if let Some(p) = profile {
            cmd.env("AWS_PROFILE", p);
        }
        Run(cmd.output().expect("run the AWS CLI"))
    };
    let run = aws(&["rekey", "status"], None);
    run.success();
    assert!(run.stdout().starts_with("PROFILE"), "{}", run.all_output());
    assert!(run.stdout().contains(&mask(&a.key.id)), "{}", run.stdout());

    // The profile through AWS_PROFILE reaches aws-rekey...
    let named = aws(&["rekey", "rotate", "--dry-run"], Some("nope"));
    named.exit(3);
    assert!(
        named
            .stderr()
            .contains("'nope' (from $AWS_PROFILE) not found"),
        "{}",
        named.stderr()
    );
    // ...while `--profile` after the alias is the AWS CLI's, never passed on.
    let swallowed = aws(&["rekey", "status", "--profile", "nope"], None);
    swallowed.success();
    assert!(
        swallowed.stdout().contains(&mask(&a.key.id)),
        "{}",
        swallowed.all_output()
    );
}
