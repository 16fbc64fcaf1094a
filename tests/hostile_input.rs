//! The safety promises of issue 9, each attacked through the built binary:
//! absurd numbers are usage errors that change nothing; error messages
//! never quote a secret or a command line; a crash cannot dump core; a
//! profile name can neither inject shell code into `credential_process`
//! nor sections into the shared files.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;

/// A profile holding the user's key, and snapshots to prove nothing moved.
struct Before {
    credentials: Option<Vec<u8>>,
    config: Option<Vec<u8>>,
    keys: Vec<(String, String)>,
}

fn snapshot(env: &TestEnv, user: &User) -> Before {
    Before {
        credentials: std::fs::read(env.credentials()).ok(),
        config: std::fs::read(env.config()).ok(),
        keys: env.emu.keys(&user.name),
    }
}

#[track_caller]
fn assert_unchanged(env: &TestEnv, user: &User, before: &Before, context: &str) {
    assert_eq!(
        std::fs::read(env.credentials()).ok(),
        before.credentials,
        "{context}: the credentials file changed"
    );
    assert_eq!(
        std::fs::read(env.config()).ok(),
        before.config,
        "{context}: the config file changed"
    );
    assert_eq!(
        env.emu.keys(&user.name),
        before.keys,
        "{context}: IAM changed"
    );
}

// ---- Item 8: absurd numbers are usage errors, never a crash ----

/// The three commands from the issue, and their neighbours: each must be a
/// usage error (exit 2) with a human message, before anything is touched.
/// `--verify-timeout 18446744073709551615` used to abort after the profile
/// was rewritten, leaving two active keys.
#[test]
fn absurd_durations_are_usage_errors_that_change_nothing() {
    let env = TestEnv::new();
    let user = env.emu.user("ada");
    env.simple_profile(&user);
    let cases: &[(&[&str], &str)] = &[
        (&["check", "--max-age", "1e20"], "36500"),
        (&["rotate", "--older-than", "1e20"], "36500"),
        (
            &["rotate", "--verify-timeout", "18446744073709551615"],
            "1 hour",
        ),
        (&["check", "--max-age", "NaN"], "days"),
        (&["check", "--max-age", "inf"], "days"),
        (&["check", "--max-age=-1"], "days"),
        (&["status", "--max-age", "36501"], "36500"),
        (&["rotate", "--older-than=-0.5d"], "days"),
        (&["rotate", "--verify-timeout", "3601"], "1 hour"),
        (&["rotate", "--verify-timeout", "99999999999h"], "1 hour"),
        (&["rotate", "--verify-timeout=-5s"], "1 hour"),
        (&["setup", "--profile", "x", "--verify-timeout", "1e20"], ""),
        (
            &["rollback", "--verify-timeout", "18446744073709551615"],
            "1 hour",
        ),
    ];
    // Every case runs (and is reported) even after one fails.
    let mut failures = Vec::new();
    for (args, needle) in cases {
        let before = snapshot(&env, &user);
        let run = env.run(args);
        let context = args.join(" ");
        let err = run.stderr();
        let mut wrong = Vec::new();
        if run.code() != 2 {
            wrong.push(format!("exit {}", run.code()));
        }
        if !err.contains("invalid value") || !err.contains(needle) {
            wrong.push(format!("no 'invalid value' and {needle:?}"));
        }
        // Only the human half: no parser internals, no panic text.
        for internal in [
            "panicked",
            "jiff",
            "parameter",
            "overflow",
            "failed to parse",
        ] {
            if err.contains(internal) {
                wrong.push(format!("{internal:?} in the message"));
            }
        }
        if !run.stdout().is_empty() {
            wrong.push("output on stdout".into());
        }
        if std::fs::read(env.credentials()).ok() != before.credentials {
            wrong.push("the credentials file changed".into());
        }
        if env.emu.keys(&user.name) != before.keys {
            wrong.push(format!("IAM changed: {:?}", env.emu.keys(&user.name)));
        }
        if !wrong.is_empty() {
            let first_line = err.lines().next().unwrap_or("");
            failures.push(format!("{context}: {} ({first_line})", wrong.join(", ")));
            // Put things back for the next case.
            if let Some(bytes) = &before.credentials {
                std::fs::write(env.credentials(), bytes).unwrap();
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    // The bounds themselves are accepted: a young key is skipped.
    let before = snapshot(&env, &user);
    env.run(&["check", "--max-age", "36500"]).success();
    env.run(&[
        "rotate",
        "--older-than",
        "36500d",
        "--verify-timeout",
        "3600",
    ])
    .success();
    assert_unchanged(&env, &user, &before, "a young key is skipped");
}

/// With `panic = "abort"`, a crash would dump core, and the dump would hold
/// every secret in memory. aws-rekey lowers its core-size limit to 0 first
/// thing. Attacked by raising the soft limit before exec (as a shell with
/// `ulimit -c unlimited` does), then reading the running process's limits
/// while `setup` waits for its key on stdin.
#[cfg(target_os = "linux")]
#[test]
fn a_running_process_cannot_dump_core() {
    use std::process::{Command, Stdio};
    let env = TestEnv::new();
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        r#"ulimit -S -c "$(ulimit -H -c)" && echo "core limit $(ulimit -S -c)" >&2 && exec "$0" "$@""#,
        BIN,
        "setup",
        "--profile",
        "coreless",
    ]);
    env.apply_env(&mut cmd);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let proc_dir = std::path::PathBuf::from(format!("/proc/{}", child.id()));
    let core_limits = || -> Option<(String, String)> {
        let exe = std::fs::read_link(proc_dir.join("exe")).ok()?;
        if !exe.ends_with("aws-rekey") {
            return None; // still the shell
        }
        let limits = std::fs::read_to_string(proc_dir.join("limits")).ok()?;
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max core file size"))?;
        let mut cols = line["Max core file size".len()..].split_whitespace();
        Some((cols.next()?.to_string(), cols.next()?.to_string()))
    };
    // Running, blocked on stdin: poll until the limit is down, or 5 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut seen = None;
    while std::time::Instant::now() < deadline {
        seen = core_limits();
        if seen.as_ref().is_some_and(|(soft, _)| soft == "0") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("core limit 0\n"),
        "the hard limit is 0 here, so this test cannot attack: {stderr}"
    );
    let (soft, hard) = seen.expect("the process was never seen running");
    assert_eq!(
        soft, "0",
        "core dumps are still on (soft limit {soft}, hard {hard}); started with: {stderr}"
    );
}

// ---- Item 6: error messages never quote secrets or command lines ----

/// A secret-looking string, none of whose 6-character windows is an
/// ordinary word that a message could contain by chance.
const PASTED: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYq8Rk3Tmz";

/// The longest run of `secret` (6 characters or more) found in `text`.
fn leaked(text: &str, secret: &str) -> Option<String> {
    let chars: Vec<char> = secret.chars().collect();
    for len in (6..=chars.len()).rev() {
        for w in chars.windows(len) {
            let s: String = w.iter().collect();
            if text.contains(&s) {
                return Some(s);
            }
        }
    }
    None
}

/// A damaged credentials or config file with a secret pasted where it does
/// not belong: `check` (at every shell start), `rotate` and `status`, in
/// text and JSON, name the file and the line and quote none of it.
#[test]
fn parse_errors_name_the_line_but_never_quote_it() {
    let env = TestEnv::new();
    let user = env.emu.user("bea");
    let key = format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.key.id, user.key.secret
    );
    // (credentials, config, the file and line the message must name)
    let cases: Vec<(String, String, &str)> = vec![
        // A secret on a line of its own.
        (
            format!("{key}{PASTED}\n"),
            String::new(),
            "credentials: line 4",
        ),
        // A secret after a key name, without '='.
        (
            format!("{key}[work]\naws_secret_access_key {PASTED}\n"),
            String::new(),
            "credentials: line 5",
        ),
        // A token with '=' padding before any section: it parses as a key.
        (
            format!("{PASTED}==\n{key}"),
            String::new(),
            "credentials: line 1",
        ),
        // The same token twice in a section: a duplicate "key".
        (
            format!("{key}{PASTED}=1\n{PASTED}=2\n"),
            String::new(),
            "credentials: line 5",
        ),
        // A header that never closes.
        (
            format!("{key}[{PASTED}\n"),
            String::new(),
            "credentials: line 4",
        ),
        // In the config file.
        (
            key.clone(),
            format!("[default]\nregion = us-east-1\n{PASTED}\n"),
            "config: line 3",
        ),
    ];
    let commands: &[&[&str]] = &[
        &["check"],
        &["rotate"],
        &["rotate", "--output", "json"],
        &["status"],
        &["status", "--output", "json"],
        &["status", "--profile", "default", "--output", "json"],
    ];
    let mut failures = Vec::new();
    for (creds, config, names) in &cases {
        env.write_credentials(creds);
        env.write_config(config);
        for args in commands {
            let run = env.run(args);
            let out = run.all_output();
            let context = format!("{} with {names}", args.join(" "));
            if matches!(run.code(), 0 | 3 | 1) && !out.contains(names) {
                failures.push(format!("{context}: does not name {names:?}: {out}"));
            }
            if !matches!(run.code(), 0 | 1 | 3) {
                failures.push(format!("{context}: exit {}", run.code()));
            }
            if let Some(s) = leaked(&out, PASTED) {
                failures.push(format!("{context}: quotes {s:?}: {out}"));
            }
            if let Some(s) = leaked(&out, &user.key.secret) {
                failures.push(format!("{context}: quotes the key's secret {s:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert_eq!(env.emu.keys(&user.name).len(), 1);
}

/// A `credential_process` line can hold a token; no error repeats it.
#[test]
fn credential_process_lines_stay_out_of_errors() {
    let env = TestEnv::new();
    let user = env.emu.user("cal");
    env.simple_profile(&user);
    env.write_config("[profile vault]\ncredential_process = /bin/tool --token SECRETTOKEN\n");
    let mut failures = Vec::new();
    for args in [
        &["rotate", "--profile", "vault"][..],
        &["rotate", "--profile", "vault", "--output", "json"],
        &["status", "--profile", "vault"],
        &["status", "--profile", "vault", "--output", "json"],
        &["move", "--profile", "vault", "--to", "file"],
        &[
            "move",
            "--profile",
            "vault",
            "--to",
            "keychain",
            "--output",
            "json",
        ],
        &["setup", "--profile", "vault"],
    ] {
        let run = env.run(args);
        let out = run.all_output();
        if out.contains("SECRETTOKEN") || out.contains("/bin/tool") {
            failures.push(format!("{}: {out}", args.join(" ")));
        }
        if run.code() == 0 {
            failures.push(format!("{}: succeeded", args.join(" ")));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// A hook's command line can hold a token: a failing hook is reported
/// without repeating it (the rotation stands, exit 7).
#[test]
fn a_failing_hook_is_reported_without_its_command_line() {
    let env = TestEnv::new();
    let user = env.emu.user("dee");
    env.simple_profile(&user);
    env.write_config("[default]\naws_rekey_exec = false --from-config CONF1GT0K3N\n");
    let run = env.run(&["rotate", "--exec", "false --token T0K3N"]);
    run.exit(7);
    let err = run.stderr();
    assert!(err.contains("hook"), "{err}");
    assert!(!run.all_output().contains("T0K3N"), "{}", run.all_output());

    // From the profile's setting, with --output json: the error and the
    // messages leave the command out.
    let run = env.run(&["rotate", "--output", "json"]);
    run.exit(7);
    assert!(!run.stderr().contains("T0K3N"), "{}", run.stderr());
    let doc = run.json();
    assert_eq!(doc["hook"]["ok"], false);
    assert!(!doc.to_string().contains("T0K3N"), "{doc}");
    // Nor a time limit of zero, which would fail every hook after an
    // irreversible rotation: a usage error that changes nothing.
    let before = env.read_credentials();
    env.run(&["rotate", "--exec", "true", "--exec-timeout", "0"])
        .exit(2);
    assert_eq!(env.read_credentials(), before);
    env.assert_clean(&user, "default", "after two rotations with failing hooks");
}

// ---- Item 5: a profile name injects neither shell code nor sections ----

/// Names that would add sections to the shared files (`]`, `[`, line
/// breaks) or not read back as themselves (edge spaces) are usage errors
/// for the commands that write a section header, before anything is read,
/// verified or written. `setup` with `$'a]\n[evil'` used to append
/// `[a]` and `[evil]` to the credentials file.
#[test]
fn profile_names_cannot_inject_sections() {
    let env = TestEnv::new();
    let user = env.emu.user("eve");
    env.simple_profile(&user);
    env.write_config("[default]\nregion = us-east-1\n");
    let bootstrap = env.emu.extra_key("eve", true);
    let stdin = format!("{}\n{}\n", bootstrap.id, bootstrap.secret);
    let mut failures = Vec::new();
    for name in [
        "a]\n[evil",
        "a]",
        "[a",
        "a\nb",
        "a\rb",
        " a",
        "a ",
        "",
        "a\u{7}b",
        // configparser's defaults for every profile, not a profile.
        "DEFAULT",
    ] {
        for args in [
            vec!["setup", "--profile", name],
            vec!["setup", "--profile", name, "--store", "keychain"],
            vec!["setup", "--profile", name, "--region", "eu-west-1"],
            vec!["move", "--profile", name, "--to", "keychain"],
            vec!["move", "--profile", name, "--to", "file"],
        ] {
            // An empty name means `default` for move (as AWS_PROFILE=''
            // does in the AWS CLI), and default is a fine name.
            if name.is_empty() && args[0] == "move" {
                continue;
            }
            let before = snapshot(&env, &user);
            let run = env.run_stdin(&args, &stdin);
            let context = format!("{:?}", args);
            if run.code() != 2 {
                failures.push(format!("{context}: exit {}: {}", run.code(), run.stderr()));
            } else if !run.stderr().contains("profile name") {
                failures.push(format!("{context}: message: {}", run.stderr()));
            }
            let after = (
                std::fs::read(env.credentials()).ok(),
                std::fs::read(env.config()).ok(),
                env.emu.keys(&user.name),
            );
            if after
                != (
                    before.credentials.clone(),
                    before.config.clone(),
                    before.keys.clone(),
                )
            {
                failures.push(format!("{context}: changed the files or IAM"));
                std::fs::write(env.credentials(), before.credentials.unwrap()).unwrap();
                std::fs::write(env.config(), before.config.unwrap()).unwrap();
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(
        env.key_works(&bootstrap),
        "the bootstrap key was never rotated away"
    );
}

/// What a line gives to botocore's split (`shlex.split`, POSIX), run by the
/// real Python the AWS CLI uses in the tests.
fn shlex_split(line: &str) -> Vec<String> {
    let python = std::env::var("AWS_REKEY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1])))",
            line,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `move --profile 'dev;touch${IFS}MARKER' --to keychain` wrote a
/// `credential_process` line that, run through `sh -c` as the Rust and Go
/// SDKs run it, ran `touch`. Attacked with `;`, `$(...)`, backticks and a
/// quote: the marker files are never created, neither by aws-rekey (whose
/// verification now runs the line through `sh -c` too) nor by running the
/// written line through `sh -c`; botocore's split gives exactly the
/// intended words; and the AWS CLI authenticates through the profile.
#[test]
fn a_profile_name_cannot_inject_shell_code_into_credential_process() {
    if !secret_service() {
        return;
    }
    let env = TestEnv::new();
    let marker = |n: u32| env.home().join(format!("injected-{n}"));
    let m = |n: u32| marker(n).display().to_string();
    // Unique per run: the keyring is shared by tests running in parallel.
    let tag = env
        .home()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    let mut failures = Vec::new();

    // Names with shell syntax are refused before anything is written:
    // no AWS SDK reads them as profile names anyway.
    let user = env.emu.user("sc-refused");
    let hostile = [
        format!("sc-{tag};touch${{IFS}}{}", m(1)),
        format!("sc-{tag}$(touch${{IFS}}{})", m(2)),
        format!("sc-{tag}`touch${{IFS}}{}`", m(3)),
        format!("sc-{tag}&&touch${{IFS}}{}||", m(4)),
        format!("sc-{tag}'q $(touch {})'", m(5)),
        format!("sc-{tag} \"$(touch {})\\", m(6)),
        format!("-sc-{tag}"),
        format!("sc-{tag}#1"),
    ];
    let mut creds = String::new();
    for name in &hostile {
        creds.push_str(&format!(
            "[{name}]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n",
            user.key.id, user.key.secret
        ));
    }
    env.write_credentials(&creds);
    env.write_config("");
    for name in &hostile {
        // `--profile=NAME`: a leading '-' must reach aws-rekey's own check.
        let run = env.run(&["move", &format!("--profile={name}"), "--to", "keychain"]);
        if run.code() != 2 || !run.stderr().contains("profile name") {
            failures.push(format!("{name:?}: exit {}: {}", run.code(), run.stderr()));
        }
    }
    if std::fs::read_to_string(env.credentials()).unwrap() != creds
        || !std::fs::read_to_string(env.config()).unwrap().is_empty()
    {
        failures.push("a refused move changed the files".into());
    }

    // The binary itself at a path full of shell syntax: the line quotes it
    // for `sh -c` (the Rust and Go SDKs) and for botocore's shlex split.
    let dir = env
        .home()
        .join(format!("bin $(touch {}) `x` 'q' \"d\"", m(7)));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("aws-rekey");
    std::fs::copy(BIN, &exe).unwrap();
    let exe = std::fs::canonicalize(&exe).unwrap().display().to_string();
    let name = format!("sc-{tag}");
    let user = env.emu.user("sc-path");
    env.write_credentials(&format!(
        "[{name}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.key.id, user.key.secret
    ));
    env.write_config(&format!("[profile {name}]\nregion = us-east-1\n"));
    let mut cmd = std::process::Command::new(&exe);
    cmd.args(["move", "--profile", &name, "--to", "keychain"]);
    env.apply_env(&mut cmd);
    let run = Run(cmd.output().unwrap());
    if run.code() != 0 {
        failures.push(format!("move from {exe:?} failed: {}", run.stderr()));
    } else {
        let text = std::fs::read_to_string(env.config()).unwrap();
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("credential_process = "))
            .unwrap_or_else(|| panic!("no credential_process: {text}"))
            .to_string();
        // botocore's split: exactly the intended words.
        let words = shlex_split(&line);
        if words
            != [
                exe.as_str(),
                "credential-process",
                "--profile",
                name.as_str(),
            ]
        {
            failures.push(format!("shlex.split({line}) = {words:?}"));
        }
        // The Rust and Go SDKs: `sh -c LINE`.
        let mut sh = std::process::Command::new("sh");
        sh.args(["-c", &line]);
        env.apply_env(&mut sh);
        let out = Run(sh.output().unwrap());
        let served = serde_json::from_slice::<serde_json::Value>(&out.0.stdout).ok();
        if served.as_ref().map(|v| v["AccessKeyId"].clone()) != Some(user.key.id.clone().into()) {
            failures.push(format!("sh -c {line} served {}", out.all_output()));
        }
        // botocore itself, through the profile.
        let who = env.aws(&["sts", "get-caller-identity", "--profile", &name]);
        if !who.0.status.success() || who.json()["Arn"] != user.arn.as_str() {
            failures.push(format!("the AWS CLI: {}", who.all_output()));
        }
        // Leave the shared keyring clean.
        let _ = env.run(&["move", "--profile", &name, "--to", "file"]);
    }
    for n in 1..=7 {
        if marker(n).exists() {
            failures.push(format!("injected code ran: {} exists", m(n)));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
