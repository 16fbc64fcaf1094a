//! `aws-rekey check`, the shell-startup reminder: offline, silent when
//! nothing is due, one line per due profile, unknown ages named once.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use serde_json::json;

/// A credentials file with the given profiles (fake keys: check never
/// talks to IAM) and a key book with the given ages in hours.
fn with_ages(env: &TestEnv, profiles: &[(&str, Option<f64>)]) {
    let mut creds = String::new();
    let mut keys = serde_json::Map::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    for (i, (name, hours)) in profiles.iter().enumerate() {
        let id = format!("AKIATESTKEY{i:09}");
        creds.push_str(&format!(
            "[{name}]\naws_access_key_id = {id}\naws_secret_access_key = s{i}\n"
        ));
        if let Some(h) = hours {
            let created = now - h * 3600.0;
            let ts = format!("{}Z", chrono_like(created));
            keys.insert(
                id,
                json!({ "created": ts, "user_arn": "", "profiles": [name] }),
            );
        }
    }
    env.write_credentials(&creds);
    std::fs::create_dir_all(env.state_dir()).unwrap();
    std::fs::write(
        env.state_dir().join("keys.json"),
        json!({ "keys": keys }).to_string(),
    )
    .unwrap();
}

/// RFC 3339 without a date library: days from the civil calendar.
fn chrono_like(unix: f64) -> String {
    let secs = unix.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn check(env: &TestEnv, args: &[&str]) -> Run {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    // Offline: the endpoint is a closed port, and nothing may reach the emulator.
    env.emu.clear_log();
    let run = Run(env
        .cmd(&all)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap());
    assert!(env.emu.log().is_empty(), "check made a request");
    assert!(
        run.stderr().is_empty(),
        "check wrote to stderr: {}",
        run.stderr()
    );
    run
}

#[test]
fn silent_when_nothing_is_due() {
    let env = TestEnv::new();
    with_ages(
        &env,
        &[("default", Some(24.0)), ("work", Some(89.0 * 24.0))],
    );
    let run = check(&env, &[]);
    run.exit(0);
    assert_eq!(run.stdout(), "");
}

#[test]
fn one_line_per_due_profile_with_the_command() {
    let env = TestEnv::new();
    with_ages(
        &env,
        &[
            ("default", Some(24.0)),
            ("old", Some(120.0 * 24.0)),
            ("older", Some(400.0 * 24.0)),
        ],
    );
    let run = check(&env, &[]);
    run.exit(10);
    let out = run.stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("'old'")
            && lines[0].contains("120 days")
            && lines[0].contains("aws-rekey rotate --profile old"),
        "{out}"
    );
    assert!(
        lines[1].contains("'older'") && lines[1].contains("400 days"),
        "{out}"
    );
}

#[test]
fn max_age_accepts_days_with_or_without_d_and_compares_exactly() {
    let env = TestEnv::new();
    with_ages(
        &env,
        &[
            ("fresh", Some(1.0 / 60.0)),
            ("week", Some(7.0 * 24.0 + 1.0)),
        ],
    );
    // A key created a minute ago is due with --max-age 0.
    let run = check(&env, &["--max-age", "0"]);
    run.exit(10);
    assert!(
        run.stdout().contains("'fresh'") && run.stdout().contains("'week'"),
        "{}",
        run.stdout()
    );
    // 7 days and an hour is older than 7d, but not than 8.
    let run = check(&env, &["--max-age", "7d"]);
    run.exit(10);
    assert!(!run.stdout().contains("'fresh'") && run.stdout().contains("'week'"));
    check(&env, &["--max-age", "8"]).exit(0);
    let bad = env.run(&["check", "--max-age", "soon"]);
    bad.exit(2);
}

#[test]
fn unknown_ages_are_mentioned_once_and_never_due() {
    let env = TestEnv::new();
    with_ages(
        &env,
        &[("known", Some(24.0)), ("mystery", None), ("enigma", None)],
    );
    let first = check(&env, &["--max-age", "0.5"]);
    first.exit(10);
    let out = first.stdout();
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("'known'"));
    let unknown = out.lines().find(|l| l.contains("unknown")).unwrap();
    assert!(
        unknown.contains("mystery, enigma") && unknown.contains("aws-rekey status"),
        "{unknown}"
    );
    let second = check(&env, &["--max-age", "0.5"]);
    assert!(
        !second.stdout().contains("unknown"),
        "mentioned again: {}",
        second.stdout()
    );
    // Never due, whatever the maximum age.
    assert!(!second.stdout().contains("mystery"));
}

#[test]
fn a_corrupt_state_file_never_breaks_the_shell() {
    let env = TestEnv::new();
    with_ages(&env, &[("default", Some(1000.0 * 24.0))]);
    std::fs::write(env.state_dir().join("keys.json"), "{ this is not json").unwrap();
    let run = check(&env, &[]);
    run.exit(0);
    assert!(run.stdout().lines().count() <= 1, "{}", run.stdout());
    // A state path that cannot be read at all.
    std::fs::remove_file(env.state_dir().join("keys.json")).unwrap();
    std::fs::create_dir(env.state_dir().join("keys.json")).unwrap();
    let run = check(&env, &[]);
    run.exit(0);
    assert!(run.stdout().lines().count() <= 1);
    // A state folder that is a file.
    let run = Run(env
        .cmd(&["check"])
        .env("AWS_REKEY_STATE_DIR", env.credentials())
        .output()
        .unwrap());
    run.exit(0);
    assert!(run.stdout().lines().count() <= 1);
}

#[test]
fn no_files_at_all_is_silence() {
    let env = TestEnv::new();
    let run = check(&env, &[]);
    run.exit(0);
    assert_eq!(run.stdout(), "");
    assert!(
        !env.state_dir().exists(),
        "check created the state folder for nothing"
    );
}

#[test]
fn a_rotation_makes_the_age_known() {
    let env = TestEnv::new();
    let user = env.emu.user("chk");
    env.simple_profile(&user);
    let first = check(&env, &[]);
    assert!(first.stdout().contains("unknown"), "{}", first.stdout());
    env.run(&["rotate"]).success();
    check(&env, &[]).exit(0);
    let run = check(&env, &["--max-age", "0"]);
    run.exit(10);
    assert!(
        run.stdout().contains("'default'") && run.stdout().contains("seconds"),
        "{}",
        run.stdout()
    );
}

#[test]
fn an_interrupted_rotation_is_named_at_every_shell_start() {
    let env = TestEnv::new();
    with_ages(&env, &[("work", Some(1.0))]);
    let pending = env.state_dir().join("pending");
    std::fs::create_dir_all(&pending).unwrap();
    std::fs::write(
        pending.join("AKIATESTKEY000000000.json"),
        json!({ "profile": "work", "old_secret": "not-read" }).to_string(),
    )
    .unwrap();
    for _ in 0..2 {
        let run = check(&env, &[]);
        run.exit(10);
        assert!(
            run.stdout()
                .contains("rotation of profile 'work' was interrupted")
                && run.stdout().contains("aws-rekey rotate --profile work"),
            "{}",
            run.stdout()
        );
        assert!(!run.stdout().contains("not-read"));
    }
}

/// A reader that went away (`aws-rekey check | head -0` in an rc file)
/// must not crash `check` (a panic aborts the process): the reminder is
/// lost, the exit code stays.
#[test]
fn a_closed_pipe_on_stdout_is_not_a_crash() {
    let env = TestEnv::new();
    with_ages(&env, &[("default", Some(100.0 * 24.0))]);
    // A pipe whose reading end is already closed: every write gets EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let run = Run(env.cmd(&["check"]).stdout(writer).output().unwrap());
    run.exit(10);
    assert!(run.stderr().is_empty(), "{}", run.stderr());
}
