//! The exit-code rule (README, "Exit codes"): each kind of failure exits
//! with the same code from every command, and a command that handles
//! several profiles or keys exits with the most serious of their results,
//! whatever their order.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;

/// A credentials file no AWS tool can read.
const MALFORMED: &str = "[default]\naws_access_key_id = AKIAEXAMPLE\nthis line is not a setting\n";

#[test]
fn a_malformed_file_is_a_refusal_from_every_command() {
    let env = TestEnv::new();
    env.write_credentials(MALFORMED);
    let before = env.read_credentials();
    let commands: [&[&str]; 6] = [
        &["rotate"],
        &["status"],
        &["status", "--profile", "default"],
        &["prune"],
        &["rollback", "--profile", "default"],
        &["move", "--profile", "default", "--to", "keychain"],
    ];
    for args in commands {
        let run = env.run(args);
        assert_eq!(run.code(), 3, "{args:?}: {}", run.stderr());
        assert!(
            run.stderr().contains("line 3"),
            "{args:?} names the line: {}",
            run.stderr()
        );
        assert_eq!(env.read_credentials(), before, "{args:?} changed the file");
    }
}

#[test]
fn several_profiles_exit_with_the_most_serious_result_in_any_order() {
    let env = TestEnv::new();
    let user = env.emu.user("pat");
    env.write_credentials(&format!(
        "[work]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.key.id, user.key.secret
    ));
    // `ghost` is refused (exit 3); `work` fails at AWS (exit 4). A refusal
    // needs the user, a failed AWS call only a re-run: 3 wins either way.
    for order in [["ghost", "work"], ["work", "ghost"]] {
        env.emu.fail_action("GetCallerIdentity", "deny", -1);
        let run = env.run(&[
            "rotate",
            "--profile",
            order[0],
            "--profile",
            order[1],
            "--output",
            "json",
        ]);
        env.emu.clear_faults();
        assert_eq!(run.code(), 3, "{order:?}: {}", run.stderr());
        let doc = run.json();
        let codes: Vec<u64> = doc["rotations"]
            .as_array()
            .expect("one result per profile")
            .iter()
            .map(|r| r["exit_code"].as_u64().expect("each failure has its code"))
            .collect();
        assert_eq!(codes.len(), 2, "{doc:#}");
        assert!(codes.contains(&3) && codes.contains(&4), "{doc:#}");
        assert_eq!(env.emu.keys(&user.name).len(), 1, "nothing was created");
    }
}
