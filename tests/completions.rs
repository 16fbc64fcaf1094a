//! The committed completion scripts and manual page match what the binary
//! generates from its clap definition. To refresh them after changing the
//! command line: `AWS_REKEY_UPDATE_COMPLETIONS=1 cargo test --test completions`.

mod common;

use common::BIN;
use std::path::Path;
use std::process::Command;

const FILES: &[(&[&str], &str)] = &[
    (&["completions", "bash"], "completions/aws-rekey.bash"),
    (&["completions", "zsh"], "completions/_aws-rekey"),
    (&["completions", "fish"], "completions/aws-rekey.fish"),
    (&["completions", "powershell"], "completions/_aws-rekey.ps1"),
    (&["completions", "elvish"], "completions/aws-rekey.elv"),
    (&["man"], "doc/aws-rekey.1"),
];

#[test]
fn committed_scripts_match_the_command_line() {
    let update = std::env::var_os("AWS_REKEY_UPDATE_COMPLETIONS").is_some();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (args, file) in FILES {
        let out = Command::new(BIN).args(*args).output().unwrap();
        assert!(out.status.success());
        let generated = String::from_utf8(out.stdout).unwrap();
        assert!(generated.contains("aws-rekey"), "{file}");
        let path = root.join(file);
        if update {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{file} is out of date: run AWS_REKEY_UPDATE_COMPLETIONS=1 cargo test --test completions"
        );
    }
}

/// Runs a bash command line and fails the test with its stderr.
fn bash(args: &[&str]) {
    let out = Command::new("bash").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_bash_script_is_valid_bash() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/aws-rekey.bash");
    bash(&["-n", &script.display().to_string()]);
    // And it registers a completion for the command.
    bash(&[
        "-c",
        &format!("source {} && complete -p aws-rekey", script.display()),
    ]);
}

#[test]
fn every_command_is_completed() {
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/aws-rekey.bash"),
    )
    .unwrap();
    for cmd in [
        "rotate",
        "move",
        "status",
        "check",
        "setup",
        "credential-process",
        "completions",
        "find",
    ] {
        assert!(script.contains(cmd), "{cmd}");
    }
    for flag in [
        "--keep-old",
        "--dry-run",
        "--verify-timeout",
        "--max-age",
        "--no-rotate",
        "--include-all",
    ] {
        assert!(script.contains(flag), "{flag}");
    }
}
