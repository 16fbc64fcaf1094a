//! Every shape of the shared AWS files that the AWS CLI reads (issue 10,
//! item 4): section headers with a comment after them, and the AWS SDKs'
//! shared profile-parser cases, read by aws-rekey, by botocore (the AWS
//! CLI's reader, from the test venv) and checked against the cases' own
//! expected output.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;

/// `[work] # my work key`: botocore and the SDKs read a comment after a
/// section header. A rotation keeps every byte but the two values, and the
/// AWS CLI reads the rotated file.
#[test]
fn a_header_with_a_comment_is_rotated_byte_for_byte() {
    let env = TestEnv::new();
    let user = env.emu.user("commented");
    let template = |key: &Key| {
        format!(
            "# keys\n[work] # my work key\naws_access_key_id = {}\n\
             aws_secret_access_key = {}\n\n[other] ; not mine\n\
             aws_access_key_id = AKIAOTHER00000000000\naws_secret_access_key = x\n",
            key.id, key.secret
        )
    };
    env.write_credentials(&template(&user.key));
    env.write_config("[profile work]\t; eu\nregion = eu-west-1\n");
    env.assert_cli_reaches("work", &user.arn);

    env.run(&["rotate", "--profile", "work"]).success();

    let new = env.file_key("work");
    assert_ne!(new.id, user.key.id);
    assert_eq!(env.read_credentials(), template(&new));
    env.assert_cli_reaches("work", &user.arn);
    assert!(!env.key_works(&user.key), "the old key is rejected");
    env.assert_clean(&user, "work", "after rotating [work] # my work key");
}

/// A file that the AWS CLI reads one way and the AWS SDKs another is
/// refused by every command, naming the file and the line and what to
/// change, quoting nothing (here a secret sits in the comment the SDKs cut
/// off), and nothing is changed in the file or in IAM.
#[test]
fn a_file_the_readers_read_differently_is_refused_and_left_alone() {
    let env = TestEnv::new();
    let user = env.emu.user("ambiguous");
    let old = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYq8Rk3Tmz";
    let cases = [
        (
            format!(
                "[default]\naws_access_key_id = {}\naws_secret_access_key = {} # was {old}\n",
                user.key.id, user.key.secret
            ),
            "credentials: line 3",
            "put the comment on a line of its own",
        ),
        (
            format!(
                "[default]\naws_access_key_id = {}\naws_secret_access_key: {}\n",
                user.key.id, user.key.secret
            ),
            "credentials: line 3",
            "write 'name = value'",
        ),
        (
            format!(
                "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n  # {old}\n",
                user.key.id, user.key.secret
            ),
            "credentials: line 4",
            "start the comment at the beginning of the line",
        ),
        (
            format!(
                "[ default ]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                user.key.id, user.key.secret
            ),
            "credentials: line 1",
            "no other spaces inside the brackets",
        ),
    ];
    let mut failures = Vec::new();
    for (text, place, fix) in &cases {
        env.write_credentials(text);
        for args in [
            &["rotate"][..],
            &["status"],
            &["rotate", "--output", "json"],
            &["check"],
        ] {
            let run = env.run(args);
            let out = run.all_output();
            let context = format!("{args:?} on {place}");
            // As for any file aws-rekey cannot read: `rotate` and `status`
            // refuse (README, "Exit codes"), `check` (at every shell start)
            // says so and never fails the shell.
            let expected_code = match args[0] {
                "rotate" | "status" => 3,
                _ => 0,
            };
            if run.code() != expected_code || !out.contains(place) || !out.contains(fix) {
                failures.push(format!("{context}: exit {}: {out}", run.code()));
            }
            for secret in [old, &user.key.secret] {
                if out.contains(&secret[..8]) {
                    failures.push(format!("{context}: quotes a secret: {out}"));
                }
            }
        }
        if env.read_credentials() != *text {
            failures.push(format!("{place}: the file changed"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert_eq!(env.emu.keys(&user.name).len(), 1, "IAM was not touched");
}

// ---- The SDKs' shared profile-parser cases, and botocore ----

use aws_rekey::ini::{Document, FileKind};
use aws_rekey::profile::{AwsFiles, Profiles};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_runtime::env_config::section::EnvConfigSections;
use aws_runtime::env_config::source;
use aws_types::os_shim_internal::{Env, Fs};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A value as a reader has it: text, or the `name = value` lines of a value
/// that starts on the next line, as a map (botocore splits those itself;
/// the SDKs keep the text and split it where they use it).
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Text(String),
    Nested(BTreeMap<String, String>),
}

type Reading = BTreeMap<String, BTreeMap<String, Val>>;

/// A reader's result: its profiles, or its refusal.
type Outcome = Result<Reading, String>;

const SDK_WS: &[char] = &[' ', '\t'];

/// A value as the SDKs have it: sub-properties split at LF and '=' and
/// trimmed of spaces and tabs (`parse_sub_properties`).
fn sdk_val(v: &str) -> Val {
    if !v.starts_with('\n') {
        return Val::Text(v.to_string());
    }
    Val::Nested(
        v.split('\n')
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| {
                (
                    k.trim_matches(SDK_WS).to_string(),
                    v.trim_matches(SDK_WS).to_string(),
                )
            })
            .collect(),
    )
}

/// Where `cargo` keeps the sources of the `aws-runtime` crate this build
/// uses (a dependency of aws-config): its package ships the SDKs' shared
/// `test-data/profile-parser-tests.json` (Apache-2.0; read from there at
/// test time, not copied into this repository).
fn parser_cases_path() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .arg("--manifest-path")
        .arg(&manifest)
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let package = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "aws-runtime")
        .expect("aws-runtime is in the dependency tree (through aws-config)");
    let path = Path::new(package["manifest_path"].as_str().unwrap())
        .parent()
        .unwrap()
        .join("test-data/profile-parser-tests.json");
    assert!(path.exists(), "{} is missing", path.display());
    path
}

/// The Rust SDK's reading, through aws-config's own loader.
fn sdk_read(config: Option<&str>, credentials: Option<&str>, keys: &BTreeSet<String>) -> Outcome {
    let mut files = EnvConfigFiles::builder();
    for (kind, text) in [
        (EnvConfigFileKind::Config, config),
        (EnvConfigFileKind::Credentials, credentials),
    ] {
        if let Some(text) = text {
            files = files.with_contents(kind, text);
        }
    }
    if config.is_none() && credentials.is_none() {
        return Ok(Reading::new());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let source = runtime
        .block_on(source::load(
            &Env::from_slice(&[]),
            &Fs::from_slice(&[]),
            &files.build(),
        ))
        .map_err(|e| format!("{e}"))?;
    let set = EnvConfigSections::parse(source).map_err(|e| format!("{e}"))?;
    // The SDK lists its profiles, not their keys: each key any line could
    // define is asked for.
    Ok(set
        .profiles()
        .map(|name| {
            let profile = set.get_profile(name).unwrap();
            let settings = keys
                .iter()
                .filter_map(|k| profile.get(k).map(|v| (k.clone(), sdk_val(v))))
                .collect();
            (name.to_string(), settings)
        })
        .collect())
}

/// Every key a line of these texts could define for the SDKs.
fn candidate_keys<'a>(texts: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    texts
        .into_iter()
        .flat_map(str::lines)
        .filter_map(|l| l.trim_matches(SDK_WS).split_once('='))
        .map(|(k, _)| k.trim_matches(SDK_WS).to_ascii_lowercase())
        .collect()
}

/// botocore's readings of several cases, in one Python process.
fn botocore_read(
    dir: &Path,
    cases: &[(Option<&str>, Option<&str>)],
    check_session: bool,
) -> Vec<Outcome> {
    let mut list = Vec::new();
    for (i, (config, credentials)) in cases.iter().enumerate() {
        let mut item = serde_json::Map::new();
        for (key, text) in [("config", config), ("credentials", credentials)] {
            if let Some(text) = text {
                let path = dir.join(format!("{i}-{key}"));
                std::fs::write(&path, text).unwrap();
                item.insert(key.into(), json!(path));
            }
        }
        list.push(Value::Object(item));
    }
    let python = std::env::var("AWS_REKEY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/botocore_profiles.py");
    let mut child = Command::new(python)
        .arg(script)
        .args(check_session.then_some("check_session"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python with botocore (source scripts/test-deps.sh)");
    serde_json::to_writer(child.stdin.take().unwrap(), &list).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "tests/botocore_profiles.py failed");
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    results
        .into_iter()
        .map(|r| {
            if let Some(e) = r.get("error") {
                return Err(e.as_str().unwrap().to_string());
            }
            let nested = &r["nested"];
            Ok(r["profiles"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(name, values)| {
                    let settings = values
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| {
                            let val = match nested[name].get(k) {
                                Some(map) => Val::Nested(
                                    map.as_object()
                                        .unwrap()
                                        .iter()
                                        .map(|(a, b)| (a.clone(), b.as_str().unwrap().into()))
                                        .collect(),
                                ),
                                None => Val::Text(v.as_str().unwrap().into()),
                            };
                            (k.clone(), val)
                        })
                        .collect();
                    (name.clone(), settings)
                })
                .collect())
        })
        .collect()
}

/// aws-rekey's reading: what `Profiles` gives for each profile it lists,
/// the config file's settings overlaid by the credentials file's.
fn rekey_read(profiles: &Profiles) -> Reading {
    // botocore's own split of a nested value (`_parse_nested`: Python's
    // `splitlines` and `strip`), for comparing with its map.
    let py_space = |c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c);
    let py_break = |c: char| "\n\r\u{b}\u{c}\u{1c}\u{1d}\u{1e}\u{85}\u{2028}\u{2029}".contains(c);
    let val = |v: &str| -> Val {
        if !v.starts_with('\n') {
            return Val::Text(v.to_string());
        }
        Val::Nested(
            v.split(py_break)
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| {
                    (
                        k.trim_matches(py_space).to_string(),
                        v.trim_matches(py_space).to_string(),
                    )
                })
                .collect(),
        )
    };
    let mut reading = Reading::new();
    for name in profiles.names() {
        let mut settings = BTreeMap::new();
        let sections = [
            (&profiles.config, profiles.config_section(&name)),
            (
                &profiles.credentials,
                profiles
                    .credentials
                    .has_section(&name)
                    .then(|| name.clone()),
            ),
        ];
        for (doc, section) in sections {
            let Some(section) = section else { continue };
            for key in doc.keys(&section) {
                let value = doc.get(&section, key).unwrap();
                settings.insert(key.to_lowercase(), val(value));
            }
        }
        reading.insert(name, settings);
    }
    reading
}

fn rekey_load(dir: &Path, config: Option<&str>, credentials: Option<&str>) -> Outcome {
    let files = AwsFiles {
        config: dir.join("config"),
        credentials: dir.join("credentials"),
    };
    for (path, text) in [(&files.config, config), (&files.credentials, credentials)] {
        let _ = std::fs::remove_file(path);
        if let Some(text) = text {
            std::fs::write(path, text).unwrap();
        }
    }
    Profiles::load(files)
        .map(|p| rekey_read(&p))
        .map_err(|e| e.to_string())
}

/// Whether two readers read the same: the same profiles and values, or
/// both refuse.
fn same(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => a == b,
        (Err(_), Err(_)) => true,
        _ => false,
    }
}

fn summary(o: &Outcome) -> String {
    match o {
        Ok(r) => format!("{r:?}")
            .replace("Text(", "(")
            .replace("Nested(", "("),
        Err(e) => format!("refused: {e}"),
    }
}

/// The cases on which botocore (1.43, the AWS CLI's) and the SDKs disagree,
/// by name as in the JSON file (one name appears twice there). aws-rekey
/// refuses each; on every other case it reads what both read.
const DISAGREEING: &[&str] = &[
    // botocore reads a profile `foo!bar`; the SDKs skip the name.
    "Profile names support alphanumeric characters and - / . % @ _ : +",
    // botocore reads `key : value`; the SDKs fail the file.
    "Property definitions must contain an equals sign.",
    // ` # ...` and ` ; ...` after a value: part of it for botocore, a
    // comment for the SDKs.
    "Pound sign comments are ignored.",
    "Semicolon sign comments are ignored.",
    "All comment types can be used together.",
    "Comments can be empty.",
    // Duplicate sections or keys: botocore fails the file (strict
    // configparser), the SDKs merge them.
    "Duplicate profiles in the same file merge properties.",
    "Duplicate properties in a profile use the last one defined.",
    "Duplicate properties in duplicate profiles use the last one defined.",
    "Duplicate properties in duplicate profiles use the last one defined (case insensitive).",
    // `[profile default]` then `[default]`: botocore reads the last, the
    // SDKs the prefixed one.
    "Default profile with profile prefix overrides default profile without prefix when profile prefix is first.",
    // `[in valid 2]` in credentials: a profile for botocore only.
    "Invalid profile names are ignored.",
    // `in valid = value`: a key for botocore only.
    "Invalid property names are ignored.",
    // ` = value` under `s3 =`: botocore reads an empty sub-key, the SDKs
    // fail the file.
    "Sub-property definitions cannot have an empty name.",
    "Default profiles with mixed prefixes in the config file ignore the one without prefix when merging.",
    "Default profiles with mixed prefixes merge with credentials",
    // `[profile foo]` in credentials: profile "profile foo" for botocore.
    "Credentials profiles with prefix are ignored.",
    // Spaces inside the brackets: botocore keeps them in the name.
    "profile name with extra whitespace",
    "profile name with extra whitespace in credentials",
];

/// Every case of the SDKs' shared profile-parser tests (issue 10): the Rust
/// SDK reads what the case expects; where botocore (the AWS CLI) reads the
/// same, aws-rekey reads it too; where they disagree, aws-rekey refuses the
/// file, naming it and the line.
#[test]
fn the_sdks_profile_parser_cases() {
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(parser_cases_path()).unwrap()).unwrap();
    let cases = cases["tests"].as_array().unwrap();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let dir = tempfile::tempdir().unwrap();
    let inputs: Vec<(Option<&str>, Option<&str>)> = cases
        .iter()
        .map(|c| {
            (
                c["input"]["configFile"].as_str(),
                c["input"]["credentialsFile"].as_str(),
            )
        })
        .collect();
    let boto = botocore_read(dir.path(), &inputs, true);
    let mut failures = Vec::new();
    let mut disagreeing = Vec::new();
    let mut report = String::new();
    for (i, ((case, &(config, credentials)), boto)) in
        cases.iter().zip(&inputs).zip(boto).enumerate()
    {
        let name = case["name"].as_str().unwrap();
        let output = &case["output"];
        let expected: Outcome = match output.get("errorContaining") {
            Some(e) => Err(e.as_str().unwrap().to_string()),
            None => Ok(output["config"]["profiles"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(n, p)| {
                    let settings = p
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), sdk_val(v.as_str().unwrap())))
                        .collect();
                    (n.clone(), settings)
                })
                .collect()),
        };
        let mut keys = candidate_keys(config.into_iter().chain(credentials));
        if let Ok(r) = &expected {
            keys.extend(r.values().flat_map(|p| p.keys().cloned()));
        }
        let sdk = sdk_read(config, credentials, &keys);
        // The harness reads the SDK as the case says it reads.
        let as_expected = match (&sdk, &expected) {
            (Err(got), Err(want)) => got.contains(want.as_str()),
            _ => sdk == expected,
        };
        if !as_expected {
            failures.push(format!(
                "{name}: the Rust SDK read {sdk:?}, the case expects {expected:?}"
            ));
        }
        let rekey_dir = dir.path().join(format!("rekey-{i}"));
        std::fs::create_dir(&rekey_dir).unwrap();
        let rekey = rekey_load(&rekey_dir, config, credentials);
        let agree = same(&boto, &sdk);
        if agree {
            if !same(&rekey, &boto) {
                failures.push(format!(
                    "{name}: botocore and the SDK read {}, aws-rekey {}",
                    summary(&boto),
                    summary(&rekey)
                ));
            }
        } else {
            disagreeing.push(name);
            match &rekey {
                Err(e) if e.contains(": line ") => {}
                _ => failures.push(format!(
                    "{name}: botocore reads {}, the SDK {}, and aws-rekey does not refuse the file with its line: {}",
                    summary(&boto),
                    summary(&sdk),
                    summary(&rekey)
                )),
            }
            report.push_str(&format!(
                "\n{name}\n  input: config {config:?} credentials {credentials:?}\n  botocore: {}\n  SDK: {}\n  aws-rekey: {}\n",
                summary(&boto),
                summary(&sdk),
                summary(&rekey).replace(dir.path().to_str().unwrap(), "DIR")
            ));
        }
    }
    eprintln!("cases where botocore and the SDKs disagree:{report}");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert_eq!(disagreeing, DISAGREEING, "the disagreeing cases changed");
}

/// Lines of the shapes people write, and of the shapes where botocore and
/// the SDKs part ways.
fn grammar_line() -> impl Strategy<Value = String> {
    let usual = prop_oneof![
        Just(String::new()),
        "\\[(profile )?(default|work|a-b_c\\.d)\\]( # note| ;x|)",
        "(aws_access_key_id|region|s3|k) ?= ?(v|AKIA0|x=y|)",
        "  (x = 1|y = 2)",
        "[#;] note",
    ];
    prop_oneof![8 => usual, 2 => unusual_line()]
}

fn unusual_line() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        6 => "\\[(profile |profile  |profile\t|profiles | profile |sso-session |)(default|work|a-b_c\\.d|DEFAULT|x!y|\"q w\"| w |w x)\\]([ \t]{0,2}[#;][ a-z\\]]{0,6}| x|)",
        8 => "(aws_access_key_id|region|Name|s3|in valid|a:b|k)[ \t]{0,2}[=:][ \t]{0,2}(v|AKIA0|x=y|v #c|v;c|v ;c|ü|)[ \t]{0,1}",
        3 => "[ \t]{1,3}(x = 1|= 2|y|# c|; c|\\[b\\]|)",
        2 => "[ \t]{0,1}[#;][ -~]{0,10}",
        1 => "[\u{a0}\u{c}\u{1c}]{1,2}",
    ]
}

fn grammar_file() -> impl Strategy<Value = (bool, String)> {
    (
        any::<bool>(),
        prop::bool::weighted(0.03),
        proptest::collection::vec(
            (
                grammar_line(),
                prop_oneof![6 => Just("\n"), 3 => Just("\r\n"), 1 => Just("\r")],
            ),
            0..8,
        ),
    )
        .prop_map(|(config, bom, lines)| {
            let mut text = String::from(if bom { "\u{feff}" } else { "" });
            for (line, eol) in lines {
                text.push_str(&line);
                text.push_str(eol);
            }
            (config, text)
        })
}

/// Generated files of either kind, read by aws-rekey, by botocore (the AWS
/// CLI) and by the Rust SDK's parser: aws-rekey reads a file only when
/// both read it, and then reads what they read; it refuses a file only
/// when they read it differently (or one of them refuses it). This checks
/// aws-rekey's model of the SDK reader against the real one, and its
/// botocore grammar against botocore. More cases:
/// `AWS_REKEY_GRAMMAR_CASES=20000 cargo test --test profile_grammar`.
#[test]
fn generated_files_are_read_as_both_readers_read_them_or_refused() {
    let n: usize = std::env::var("AWS_REKEY_GRAMMAR_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let mut runner = TestRunner::default();
    let files: Vec<(bool, String)> = (0..n)
        .map(|_| grammar_file().new_tree(&mut runner).unwrap().current())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let inputs: Vec<(Option<&str>, Option<&str>)> = files
        .iter()
        .map(|(config, text)| match config {
            true => (Some(text.as_str()), None),
            false => (None, Some(text.as_str())),
        })
        .collect();
    let boto = botocore_read(dir.path(), &inputs, false);
    let (mut read, mut refused, mut failures) = (0, 0, Vec::new());
    for (((config, text), &(c, k)), boto) in files.iter().zip(&inputs).zip(&boto) {
        let sdk = sdk_read(c, k, &candidate_keys([text.as_str()]));
        let kind = if *config {
            FileKind::Config
        } else {
            FileKind::Credentials
        };
        let empty = |kind| Document::parse("", kind).unwrap();
        let rekey: Outcome = Document::parse(text.as_str(), kind)
            .map(|doc| {
                let (credentials, config) = match kind {
                    FileKind::Config => (empty(FileKind::Credentials), doc),
                    FileKind::Credentials => (doc, empty(FileKind::Config)),
                };
                rekey_read(&Profiles {
                    files: AwsFiles {
                        credentials: "/c".into(),
                        config: "/f".into(),
                    },
                    credentials,
                    config,
                })
            })
            .map_err(|e| e.to_string());
        let fine = match &rekey {
            Ok(_) => {
                read += 1;
                same(&rekey, boto) && same(&rekey, &sdk) && boto.is_ok()
            }
            Err(e) => {
                refused += 1;
                e.starts_with("line ") && !same(boto, &sdk)
                    || (boto.is_err() && sdk.is_err())
                    // Deliberately refused though both readers agree: a
                    // second `[DEFAULT]` (configparser merges them).
                    || text.matches("[DEFAULT]").count() > 1
            }
        };
        if !fine {
            failures.push(format!(
                "{kind:?} {text:?}\n  botocore: {}\n  SDK: {}\n  aws-rekey: {}",
                summary(boto),
                summary(&sdk),
                summary(&rekey)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} files:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Both outcomes are well represented, or the test proves little.
    assert!(
        read * 6 > n && refused * 6 > n,
        "{read} read, {refused} refused"
    );
}
