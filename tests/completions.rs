//! The committed completion scripts and manual page match what the binary
//! generates from its clap definition. To refresh them after changing the
//! command line: `AWS_REKEY_UPDATE_COMPLETIONS=1 cargo test --test completions`.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{BIN, available};
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

/// Whether `shell` is installed (scripts/test.sh installs zsh and fish).
fn shell(name: &str) -> bool {
    let present = Command::new(name)
        .args(["-c", "exit 0"])
        .status()
        .is_ok_and(|s| s.success());
    available(
        name,
        present,
        "run `bash scripts/test.sh`, which installs it",
    )
}

fn run_in(shell: &str, script: &str) -> String {
    let out = Command::new(shell)
        .args(["-c", script])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// zsh parses the script, and compinit finds it on the fpath and binds it
/// to the command (its `#compdef` line), as a user's zsh would.
#[test]
fn the_zsh_script_is_loaded_by_compinit() {
    if !shell("zsh") {
        return;
    }
    run_in("zsh", "zsh -n completions/_aws-rekey");
    let dump = tempfile::tempdir().unwrap();
    let bound = run_in(
        "zsh",
        &format!(
            "fpath=(completions $fpath); autoload -Uz compinit; compinit -u -d {}/zcompdump; autoload -Uz _aws-rekey; print -r -- ${{_comps[aws-rekey]}}; whence -w _aws-rekey",
            dump.path().display()
        ),
    );
    assert_eq!(bound, "_aws-rekey\n_aws-rekey: function\n");
}

/// fish completes commands and flags from the script.
#[test]
fn the_fish_script_completes_commands_and_flags() {
    if !shell("fish") {
        return;
    }
    let commands = run_in(
        "fish",
        "source completions/aws-rekey.fish; complete -C 'aws-rekey ro'",
    );
    assert!(
        commands.starts_with("rollback\t") || commands.contains("\nrollback\t"),
        "{commands}"
    );
    assert!(commands.contains("rotate\tRotate"), "{commands}");
    let flags = run_in(
        "fish",
        "source completions/aws-rekey.fish; complete -C 'aws-rekey rotate --ke'",
    );
    assert!(flags.starts_with("--keep-old\t"), "{flags}");
}

/// bash completes commands from the script (`compgen` through the
/// function `complete -p` registers, as the shell does on Tab).
#[test]
fn the_bash_script_completes_commands() {
    let out = run_in(
        "bash",
        "source completions/aws-rekey.bash; COMP_WORDS=(aws-rekey ro); COMP_CWORD=1; COMP_LINE='aws-rekey ro'; COMP_POINT=${#COMP_LINE}; _aws__rekey aws-rekey ro aws-rekey; printf '%s\\n' \"${COMPREPLY[@]}\"",
    );
    assert!(out.lines().any(|l| l.trim() == "rotate"), "{out}");
    assert!(out.lines().any(|l| l.trim() == "rollback"), "{out}");
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
