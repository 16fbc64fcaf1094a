//! Post-rotation hooks: the user's command, run through the shell after a
//! successful rotation, with the new key on its stdin as credential_process
//! JSON. Never on its command line, never in its environment (where other
//! processes could read it). A failing hook is reported; the rotation stands.

use crate::secret::AccessKey;
use serde::Serialize;
use std::io::Write;
use std::process::{Command, Stdio};

/// The config setting naming a profile's hook.
pub const SETTING: &str = "aws_rekey_exec";

#[derive(Debug, Serialize)]
pub struct HookReport {
    pub command: String,
    pub ok: bool,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
}

pub fn run(command: &str, profile: &str, key: &AccessKey) -> HookReport {
    let report = |ok, exit_code, error| HookReport {
        command: command.to_string(),
        ok,
        exit_code,
        error,
    };
    let mut cmd = if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(command);
        c
    };
    // The hook's stdout goes to our stderr: stdout is for aws-rekey's result.
    let child = cmd
        .env("AWS_REKEY_PROFILE", profile)
        .stdin(Stdio::piped())
        .stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return report(false, None, Some(format!("could not start: {e}"))),
    };
    // Wiped on drop: the hook's input holds the new secret.
    let doc = crate::secret::process_json(key);
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is not an error.
        let _ = stdin.write_all(doc.as_bytes());
    }
    match child.wait() {
        Ok(status) if status.success() => report(true, Some(0), None),
        Ok(status) => report(false, status.code(), Some(format!("exited with {status}"))),
        Err(e) => report(false, None, Some(e.to_string())),
    }
}
