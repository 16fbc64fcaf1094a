//! `aws-rekey find`: the files under a generated home folder that hold a
//! copy of a profile's key. Offline: the emulator only mints real-looking
//! keys; `find` itself never talks to AWS.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use serde_json::Value;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Two users' keys: `default` and `ci` share the first, `other` holds the
/// second.
fn two_keys(env: &TestEnv) -> (Key, Key) {
    let a = env.emu.user("find-a").key;
    let b = env.emu.user("find-b").key;
    env.write_credentials(&format!(
        "[default]\naws_access_key_id = {0}\naws_secret_access_key = {1}\n\
         [ci]\naws_access_key_id = {0}\naws_secret_access_key = {1}\n\
         [other]\naws_access_key_id = {2}\naws_secret_access_key = {3}\n",
        a.id, a.secret, b.id, b.secret
    ));
    env.write_config("[profile other]\nregion = eu-west-1\n");
    (a, b)
}

/// Writes `text` at `rel` under the home folder, making the folders.
fn plant(env: &TestEnv, rel: &str, text: &str) {
    let path = env.home().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The hits of a JSON run as (path relative to the home, line, key id,
/// secret_in_file), sorted.
fn hits(env: &TestEnv, doc: &Value) -> Vec<(String, u64, String, Option<bool>)> {
    let home = env.home().display().to_string();
    let mut out: Vec<_> = doc["hits"]
        .as_array()
        .expect("a hits array")
        .iter()
        .map(|h| {
            let path = h["path"].as_str().unwrap();
            (
                path.strip_prefix(&format!("{home}/"))
                    .unwrap_or(path)
                    .to_string(),
                h["line"].as_u64().unwrap(),
                h["access_key_id"].as_str().unwrap().to_string(),
                h["secret_in_file"].as_bool(),
            )
        })
        .collect();
    out.sort();
    out
}

fn hit(
    path: &str,
    line: u64,
    key: &Key,
    secret: Option<bool>,
) -> (String, u64, String, Option<bool>) {
    (path.to_string(), line, key.id.clone(), secret)
}

/// Neither key's secret anywhere in what the run printed.
#[track_caller]
fn assert_no_secret(run: &Run, keys: &[&Key]) {
    let all = run.all_output();
    for k in keys {
        assert!(!all.contains(&k.secret), "a secret was printed:\n{all}");
    }
}

/// Runs the command, killing it (and failing the test) if it has not
/// finished within a minute: a walk that follows a link loop never would.
fn run_within_a_minute(mut cmd: Command) -> Run {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("find did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Run(child.wait_with_output().unwrap())
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

#[test]
fn finds_copies_in_ignored_hidden_and_nested_files() {
    let env = TestEnv::new();
    let (a, b) = two_keys(&env);
    // A git repository whose .gitignore hides the .env and a folder, and
    // the other ignore files ripgrep reads: none of them may hide a copy.
    plant(&env, "code/app/.git/HEAD", "ref: refs/heads/main\n");
    plant(&env, "code/app/.gitignore", ".env\nsecrets/\n*.local\n");
    plant(&env, "code/app/.ignore", "*.tfvars\n");
    plant(&env, "code/app/.rgignore", "config.json\n");
    plant(
        &env,
        "code/app/.env",
        &format!(
            "# local settings\nAWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n",
            a.id, a.secret
        ),
    );
    plant(
        &env,
        "code/app/secrets/prod.local",
        &format!("export AWS_ACCESS_KEY_ID=\"{}\"\n", b.id),
    );
    plant(
        &env,
        "code/app/terraform.tfvars",
        &format!(
            "region     = \"eu-west-1\"\naccess_key = \"{}\"\nsecret_key = \"{}\"\n",
            b.id, b.secret
        ),
    );
    plant(
        &env,
        "code/app/deep/er/still/config.json",
        &format!("{{\n  \"id\": \"{}\"\n}}\n", a.id),
    );
    plant(
        &env,
        ".zshrc",
        &format!("alias ll='ls -l'\nexport AWS_ACCESS_KEY_ID={}\n", a.id),
    );
    plant(
        &env,
        ".config/rclone/rclone.conf",
        &format!(
            "[s3]\ntype = s3\naccess_key_id = {}\nsecret_access_key = {}\n",
            b.id, b.secret
        ),
    );
    // Not a copy: the id inside a longer id-like word, and a file with the
    // right secret but another id.
    plant(&env, "notes.txt", &format!("X{}\n{}Z\n", a.id, a.id));
    // A second copy on the same line counts once; two lines twice.
    plant(&env, "twice.env", &format!("{0} {0}\n\n{0}\n", a.id));

    let run = env.run(&["find", "--output", "json"]);
    run.success();
    assert_no_secret(&run, &[&a, &b]);
    let doc = run.json();
    assert_eq!(
        hits(&env, &doc),
        {
            let mut want = vec![
                hit(".config/rclone/rclone.conf", 3, &b, Some(true)),
                hit(".zshrc", 2, &a, Some(false)),
                hit("code/app/.env", 2, &a, Some(true)),
                hit("code/app/deep/er/still/config.json", 2, &a, Some(false)),
                hit("code/app/secrets/prod.local", 1, &b, Some(false)),
                hit("code/app/terraform.tfvars", 2, &b, Some(true)),
                hit("twice.env", 1, &a, Some(false)),
                hit("twice.env", 3, &a, Some(false)),
            ];
            want.sort();
            want
        },
        "{doc:#}"
    );

    // The text output: one line per hit, the id masked, every profile
    // holding the key, and whether the secret is in the same file.
    let run = env.run(&["find"]);
    run.success();
    assert_no_secret(&run, &[&a, &b]);
    let out = run.stdout();
    let line_of = |path: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{}:", env.home().join(path).display())))
            .unwrap_or_else(|| panic!("no line for {path}:\n{out}"))
            .to_string()
    };
    let env_line = line_of("code/app/.env");
    assert!(env_line.starts_with(&format!(
        "{}:2 ",
        env.home().join("code/app/.env").display()
    )));
    assert!(env_line.contains(&mask(&a.id)), "{env_line}");
    assert!(env_line.contains("default, ci"), "{env_line}");
    assert!(env_line.trim_end().ends_with("yes"), "{env_line}");
    assert!(
        !out.contains(&a.id) && !out.contains(&b.id),
        "ids are masked in text:\n{out}"
    );
    let zsh = line_of(".zshrc");
    assert!(
        zsh.trim_end().ends_with("no") && zsh.contains("default, ci"),
        "{zsh}"
    );
    let rclone = line_of(".config/rclone/rclone.conf");
    assert!(
        rclone.contains("other") && rclone.contains(&mask(&b.id)),
        "{rclone}"
    );
    assert_eq!(
        out.lines().count(),
        1 + 8,
        "a header and one line per hit:\n{out}"
    );
}

#[test]
fn skipped_folders_are_reported_only_with_include_all() {
    let env = TestEnv::new();
    let (a, b) = two_keys(&env);
    let copy = format!("AWS_ACCESS_KEY_ID={}\n", a.id);
    let skipped = [
        "code/app/node_modules/pkg/.env",
        "code/app/.git/config",
        "code/app/.hg/hgrc",
        "code/app/.svn/entries",
        "code/rust/target/debug/build.env",
        "code/py/.venv/lib/site.env",
        "code/py/venv/lib/site.env",
        ".cache/tool/creds",
        ".cargo/registry/src/crate/.env",
        ".cargo/git/checkouts/x/.env",
        ".rustup/settings.toml",
        "code/py/__pycache__/mod.env",
    ];
    for rel in skipped {
        plant(&env, rel, &copy);
    }
    // A virtualenv under any name is known by its pyvenv.cfg.
    plant(&env, "code/py/tools-env/pyvenv.cfg", "home = /usr/bin\n");
    plant(&env, "code/py/tools-env/lib/site.env", &copy);
    // The user's own folders with the same last names are searched.
    plant(&env, "code/app/src/registry/.env", &copy);
    plant(&env, "code/rust/.env", &copy);

    let default = env.run(&["find", "--output", "json"]);
    default.success();
    let found: Vec<String> = hits(&env, &default.json())
        .into_iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(
        found,
        vec!["code/app/src/registry/.env", "code/rust/.env"],
        "{}",
        default.stdout()
    );

    let all = env.run(&["find", "--include-all", "--output", "json"]);
    all.success();
    assert_no_secret(&all, &[&a, &b]);
    let found: Vec<String> = hits(&env, &all.json()).into_iter().map(|h| h.0).collect();
    for rel in skipped.iter().chain(&["code/py/tools-env/lib/site.env"]) {
        assert!(
            found.iter().any(|f| f == rel),
            "{rel} with --include-all: {found:?}"
        );
    }
    assert_eq!(found.len(), skipped.len() + 3, "{found:?}");

    // A skipped folder named on the command line is searched: the user
    // asked for it.
    let named = env.run(&[
        "find",
        "--output",
        "json",
        &env.home()
            .join("code/app/node_modules")
            .display()
            .to_string(),
    ]);
    named.success();
    assert_eq!(named.json()["hits"].as_array().unwrap().len(), 1);
}

#[test]
fn the_help_prints_the_skip_list() {
    let env = TestEnv::new();
    let run = env.run(&["find", "--help"]);
    run.success();
    let help = run.stdout();
    for word in [
        "--include-all",
        "--profile",
        "--output",
        ".git",
        "node_modules",
        "target",
        ".cache",
        "~/.cargo/registry",
        "~/.rustup",
        "pyvenv.cfg",
        "16 MiB",
        "binary",
        "Symbolic links are never followed",
    ] {
        assert!(help.contains(word), "{word} not in:\n{help}");
    }
}

#[test]
fn never_prints_a_secret_even_in_a_path() {
    let env = TestEnv::new();
    let (a, b) = two_keys(&env);
    // Secrets on the hit line, on other lines, in JSON, next to the id;
    // and folders whose names spell a secret out (it holds `/`).
    plant(
        &env,
        "app/.env",
        &format!("{}:{}\n{}\n", a.id, a.secret, b.secret),
    );
    plant(
        &env,
        "app/creds.json",
        &format!(
            "{{\"AccessKeyId\":\"{}\",\"SecretAccessKey\":\"{}\"}}",
            b.id, b.secret
        ),
    );
    plant(
        &env,
        &format!("odd/{}/x.env", a.secret),
        &format!("{}\n", a.id),
    );

    for args in [
        vec!["find"],
        vec!["find", "--output", "json"],
        vec!["find", "--include-all"],
        vec!["find", "--profile", "other"],
    ] {
        let run = env.run(&args);
        run.success();
        assert_no_secret(&run, &[&a, &b]);
    }
    let doc = env.run(&["find", "--output", "json"]).json();
    let odd = doc["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["path"].as_str().unwrap().contains("/odd/"))
        .expect("the hit under the odd folder is still reported");
    assert!(odd["path"].as_str().unwrap().contains("[secret]"), "{odd}");
    // A file whose path is given on the command line, which holds the
    // secret: the error names it without the secret.
    let missing = env.home().join(format!("gone/{}", a.secret));
    let run = env.run(&["find", &missing.display().to_string()]);
    run.exit(1);
    assert_no_secret(&run, &[&a, &b]);
}

#[test]
fn does_not_follow_symlinks_out_of_the_tree_and_survives_loops() {
    let env = TestEnv::new();
    let (a, b) = two_keys(&env);
    let home = env.home().join("home");
    let outside = env.home().join("outside");
    std::fs::create_dir_all(home.join("proj/a/b")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("leak.env"), format!("{}\n", a.id)).unwrap();
    std::fs::write(home.join("proj/inside.env"), format!("{}\n", b.id)).unwrap();
    // Out of the tree: to a folder, to a file, to the file system root.
    symlink(&outside, home.join("proj/out-dir")).unwrap();
    symlink(outside.join("leak.env"), home.join("proj/out-file.env")).unwrap();
    symlink("/", home.join("proj/root")).unwrap();
    // Loops: to itself, to an ancestor, and two links to each other.
    symlink(".", home.join("proj/self")).unwrap();
    symlink("../..", home.join("proj/a/b/up")).unwrap();
    symlink("ping", home.join("proj/pong")).unwrap();
    symlink("pong", home.join("proj/ping")).unwrap();
    // Inside the tree: the file it points to is found where it lives, once.
    symlink(home.join("proj/inside.env"), home.join("proj/a/alias.env")).unwrap();

    let run =
        run_within_a_minute(env.cmd(&["find", "--output", "json", &home.display().to_string()]));
    run.success();
    assert_no_secret(&run, &[&a, &b]);
    let doc = run.json();
    let paths: Vec<&str> = doc["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        vec![home.join("proj/inside.env").display().to_string()],
        "{doc:#}"
    );
    assert_eq!(doc["unreadable"], 0, "{doc:#}");
    assert!(!run.stderr().contains("loop"), "{}", run.stderr());

    // A link named on the command line is followed: the user named it.
    let run = env.run(&[
        "find",
        "--output",
        "json",
        &home.join("proj/out-dir").display().to_string(),
    ]);
    run.success();
    let doc = run.json();
    assert_eq!(doc["hits"][0]["access_key_id"], a.id.as_str(), "{doc:#}");
    assert!(
        doc["hits"][0]["path"]
            .as_str()
            .unwrap()
            .starts_with(&home.join("proj/out-dir").display().to_string()),
        "shown under the name given: {doc:#}"
    );
}

#[test]
fn binary_and_oversized_files_are_skipped() {
    let env = TestEnv::new();
    let (a, b) = two_keys(&env);
    // Binary: a NUL byte early on (a sqlite database, an image).
    let mut binary = b"SQLite format 3\0".to_vec();
    binary.extend(format!("\n{}\n", a.id).as_bytes());
    plant_bytes(&env, "data/app.db", &binary);
    // Over 16 MiB, the id at the very start; and one exactly at the limit.
    let limit = 16 * 1024 * 1024;
    let mut big = format!("{}\n", a.id).into_bytes();
    big.resize(limit + 1, b'x');
    plant_bytes(&env, "logs/huge.log", &big);
    big.truncate(limit);
    plant_bytes(&env, "logs/at-limit.log", &big);
    // A NUL far past the first 64 KiB does not make a text file binary.
    let mut late = format!("{}\n", b.id).into_bytes();
    late.resize(100 * 1024, b'y');
    late.push(0);
    plant_bytes(&env, "late-nul.txt", &late);
    // A named pipe nobody writes to: opening it to read would wait forever.
    let status = Command::new("mkfifo")
        .arg(env.home().join("data/pipe.env"))
        .status()
        .unwrap();
    assert!(status.success());

    let run = run_within_a_minute(env.cmd(&["find", "--output", "json"]));
    run.success();
    let doc = run.json();
    let found: Vec<String> = hits(&env, &doc).into_iter().map(|h| h.0).collect();
    assert_eq!(found, vec!["late-nul.txt", "logs/at-limit.log"], "{doc:#}");
    assert_eq!(doc["skipped"]["binary"], 1, "{doc:#}");
    assert_eq!(doc["skipped"]["too_large"], 1, "{doc:#}");
    // --include-all changes the folder list, not these.
    let all = env.run(&["find", "--include-all", "--output", "json"]);
    assert_eq!(hits(&env, &all.json()).len(), 2);
}

fn plant_bytes(env: &TestEnv, rel: &str, bytes: &[u8]) {
    let path = env.home().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn unreadable_files_are_counted_once_not_named() {
    let env = TestEnv::new();
    let (a, b) = two_keys(&env);
    plant(&env, "ok/.env", &format!("{}\n", a.id));
    plant(&env, "locked/one.env", &format!("{}\n", b.id));
    plant(&env, "locked/two.env", &format!("{}\n", b.id));
    plant(&env, "closed/inner.env", &format!("{}\n", b.id));
    let home = env.home();
    for f in ["locked/one.env", "locked/two.env"] {
        std::fs::set_permissions(home.join(f), std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    std::fs::set_permissions(home.join("closed"), std::fs::Permissions::from_mode(0o000)).unwrap();

    // Root reads a mode-000 file anyway, so as root the tool runs as
    // `nobody` (setpriv), for whom the modes hold.
    let as_nobody = is_root();
    if as_nobody {
        if Command::new("setpriv").arg("--version").output().is_err() {
            eprintln!(
                "SKIPPED: running as root without setpriv, so no file is unreadable to the tool"
            );
            return;
        }
        // `nobody` must reach the home folder and read the AWS files.
        std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let find = |args: &[&str]| {
        let mut cmd = if as_nobody {
            let mut cmd = Command::new("setpriv");
            cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]);
            cmd
        } else {
            Command::new(BIN)
        };
        cmd.args(args);
        env.apply_env(&mut cmd);
        run_within_a_minute(cmd)
    };
    let run = find(&["find"]);
    run.success();
    assert_no_secret(&run, &[&a, &b]);
    let out = run.stdout();
    let err = run.stderr();
    assert!(
        out.contains(&home.join("ok/.env").display().to_string()),
        "{out}"
    );
    assert_eq!(
        out.lines().count(),
        2,
        "a header and the readable hit:\n{out}"
    );
    // Reported once, with a count, never file by file.
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("could not be read"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("3 files or folders"), "{err}");
    assert!(!err.contains("one.env") && !err.contains("closed"), "{err}");

    let run = find(&["find", "--output", "json"]);
    run.success();
    assert_eq!(run.json()["unreadable"], 3);
}

#[test]
fn profile_narrows_the_search() {
    let env = TestEnv::new();
    let (a, b) = two_keys(&env);
    env.write_config(
        "[profile other]\nregion = eu-west-1\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = other\n",
    );
    plant(&env, "a.env", &format!("{}\n", a.id));
    plant(&env, "b.env", &format!("{}\n", b.id));

    let ids = |args: &[&str]| -> Vec<String> {
        let run = env.run(args);
        run.success();
        hits(&env, &run.json()).into_iter().map(|h| h.2).collect()
    };
    assert_eq!(
        ids(&["find", "--output", "json", "--profile", "other"]),
        vec![b.id.clone()]
    );
    // A role profile leads to the key its source profile holds.
    assert_eq!(
        ids(&["find", "--output", "json", "--profile", "admin"]),
        vec![b.id.clone()]
    );
    assert_eq!(
        ids(&[
            "find",
            "--output",
            "json",
            "--profile",
            "ci",
            "--profile",
            "other"
        ])
        .len(),
        2
    );
    // Asking about one profile still names every profile holding the key.
    let run = env.run(&["find", "--profile", "ci", "--output", "json"]);
    let doc = run.json();
    assert_eq!(doc["hits"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(
        doc["hits"][0]["profiles"],
        serde_json::json!(["ci", "default"])
    );

    let run = env.run(&["find", "--profile", "nosuch"]);
    run.exit(1);
    assert!(run.stderr().contains("nosuch"), "{}", run.stderr());
}

#[test]
fn the_json_document_and_exit_codes() {
    let env = TestEnv::new();
    let (a, b) = two_keys(&env);
    plant(&env, "p/.env", &format!("AWS_ACCESS_KEY_ID={}\n", a.id));
    plant(&env, "p/pic.png", "\u{0}\u{0}");

    let run = env.run(&["find", "--output", "json"]);
    run.success();
    let doc = run.json();
    let keys = doc["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{doc:#}");
    assert_eq!(keys[0]["access_key_id"], a.id.as_str());
    assert_eq!(keys[0]["profiles"], serde_json::json!(["default", "ci"]));
    assert_eq!(keys[0]["store"], "file");
    assert_eq!(keys[0]["secret_known"], true);
    assert_eq!(keys[1]["access_key_id"], b.id.as_str());
    let h = &doc["hits"][0];
    assert_eq!(h["path"], env.home().join("p/.env").display().to_string());
    assert_eq!(h["line"], 1);
    assert_eq!(h["access_key_id"], a.id.as_str());
    assert_eq!(h["profiles"], serde_json::json!(["default", "ci"]));
    assert_eq!(h["secret_in_file"], false);
    assert_eq!(
        doc["paths"],
        serde_json::json!([env.home().display().to_string()])
    );
    assert!(doc["files_searched"].as_u64().unwrap() >= 1, "{doc:#}");
    assert_eq!(doc["skipped"]["binary"], 1);
    assert_eq!(doc["unreadable"], 0);
    assert!(doc["warnings"].as_array().unwrap().is_empty(), "{doc:#}");
    // The AWS files themselves are never reported: aws-rekey keeps the key
    // there. A copy beside them is.
    plant(
        &env,
        ".aws/credentials.bak",
        &format!("[default]\naws_access_key_id = {}\n", b.id),
    );
    let run = env.run(&["find", "--output", "json", "--include-all"]);
    let found: Vec<String> = hits(&env, &run.json()).into_iter().map(|h| h.0).collect();
    assert_eq!(found, vec![".aws/credentials.bak", "p/.env"]);
    let run = env.run(&["find", &env.credentials().display().to_string()]);
    run.success();
    assert!(
        run.stderr().contains("aws-rekey's own file"),
        "{}",
        run.stderr()
    );

    // No hit: still a search that ran.
    let clean = env.home().join("p/empty");
    std::fs::create_dir_all(&clean).unwrap();
    let run = env.run(&["find", &clean.display().to_string()]);
    run.success();
    assert!(run.stdout().contains("no file holds"), "{}", run.stdout());
    let run = env.run(&["find", "--output", "json", &clean.display().to_string()]);
    run.success();
    assert_eq!(run.json()["hits"], serde_json::json!([]));

    // Failures: a path that does not exist, a credentials file that cannot
    // be parsed. JSON carries the error in place of the result.
    let gone = env.home().join("nope").display().to_string();
    let run = env.run(&["find", &gone]);
    run.exit(1);
    assert!(run.stderr().contains("nope"), "{}", run.stderr());
    let run = env.run(&["find", "--output", "json", &gone]);
    run.exit(1);
    assert_eq!(run.json()["exit_code"], 1);
    assert!(run.json()["error"].as_str().unwrap().contains("nope"));
    env.write_credentials("[default\naws_access_key_id = x\n");
    env.run(&["find"]).exit(1);
    // Usage errors stay usage errors.
    env.run(&["find", "--output", "yaml"]).exit(2);
    assert_no_secret(&run, &[&a, &b]);
}

#[test]
fn a_keychain_that_cannot_be_opened_still_searches_what_is_known() {
    let env = TestEnv::new();
    let (a, b) = two_keys(&env);
    // `kc` keeps its key in the keychain; the key book remembers its id
    // (as a rotation or `status` leaves it).
    let kc = env.emu.user("find-kc").key;
    env.write_config(&format!(
        "[profile kc]\ncredential_process = '{BIN}' credential-process --profile kc\n\
         [profile lost]\ncredential_process = '{BIN}' credential-process --profile lost\n"
    ));
    std::fs::create_dir_all(env.state_dir()).unwrap();
    std::fs::set_permissions(env.state_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(
        env.state_dir().join("keys.json"),
        serde_json::json!({"keys": {kc.id.clone(): {
            "created": "2025-01-01T00:00:00Z", "user_arn": "", "profiles": ["kc"]}}})
        .to_string(),
    )
    .unwrap();
    plant(&env, "kc.env", &format!("{}\n{}\n", kc.id, kc.secret));
    plant(&env, "a.env", &format!("{}\n", a.id));

    // No Secret Service on this bus.
    let mut cmd = env.cmd(&["find", "--output", "json"]);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let run = run_within_a_minute(cmd);
    run.success();
    assert_no_secret(&run, &[&a, &b, &kc]);
    let doc = run.json();
    // The id the book remembers is found; whether its secret is in the
    // file cannot be told.
    assert_eq!(
        hits(&env, &doc),
        vec![
            hit("a.env", 1, &a, Some(false)),
            hit("kc.env", 1, &kc, None),
        ],
        "{doc:#}"
    );
    let warning = doc["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("keychain could not be opened")
            && warning.contains("'kc'")
            && warning.contains("'lost'"),
        "{warning}"
    );
    let mut cmd = env.cmd(&["find"]);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let run = run_within_a_minute(cmd);
    run.success();
    assert!(
        run.stderr().contains("keychain could not be opened"),
        "{}",
        run.stderr()
    );
    assert!(run.stdout().contains("unknown"), "{}", run.stdout());

    // Named, a keychain profile whose id nobody knows cannot be searched.
    let mut cmd = env.cmd(&["find", "--profile", "lost"]);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let run = run_within_a_minute(cmd);
    run.exit(1);
    assert!(run.stderr().contains("lost"), "{}", run.stderr());
}
