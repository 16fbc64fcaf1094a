//! Post-rotation hooks: the user's command, run through the shell after a
//! successful rotation, with the new key on its stdin as credential_process
//! JSON. Never on its command line, never in its environment (where other
//! processes could read it). A failing hook is reported; the rotation stands.
//!
//! Hooks run after the state lock is released (a hook may run aws-rekey
//! itself), and each within a time limit: on Unix the hook gets its own
//! process group, so when the limit passes (or aws-rekey is interrupted
//! while waiting) the hook is stopped together with everything it started,
//! not just the shell.

use crate::secret::AccessKey;
use serde::Serialize;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The config setting naming a profile's hook.
pub const SETTING: &str = "aws_rekey_exec";

/// How long a hook's processes get to exit after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

/// How often a running hook is checked on.
const POLL: Duration = Duration::from_millis(50);

#[derive(Debug, Serialize)]
pub struct HookReport {
    /// Never printed, not even in the JSON report: a hook's command line
    /// may hold a token (`curl -H "Authorization: …"`).
    #[serde(skip)]
    pub command: String,
    pub ok: bool,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
}

/// Signals that would have reached a hook in aws-rekey's own process group
/// (Ctrl-C, a closed terminal, `kill`). The hook runs in a group of its
/// own, so aws-rekey catches them while a hook runs and stops the hook
/// itself, instead of dying and leaving the hook running. Made once, before
/// the first hook, so that no signal between two hooks goes unnoticed.
pub struct Interrupts {
    #[cfg(unix)]
    signals: Vec<(tokio::signal::unix::Signal, &'static str)>,
    /// The signal that stopped a hook: later hooks are not started.
    caught: Option<&'static str>,
}

impl Interrupts {
    pub fn catch() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = [
                (SignalKind::interrupt(), "SIGINT"),
                (SignalKind::terminate(), "SIGTERM"),
                (SignalKind::hangup(), "SIGHUP"),
            ]
            .into_iter()
            .filter_map(|(kind, name)| signal(kind).ok().map(|s| (s, name)))
            .collect();
            Interrupts {
                signals,
                caught: None,
            }
        }
        #[cfg(not(unix))]
        Interrupts { caught: None }
    }

    /// Resolves with the signal's name when one arrives.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            if self.signals.is_empty() {
                return std::future::pending().await;
            }
            let waits = self.signals.iter_mut().map(|(s, name)| {
                Box::pin(async move {
                    s.recv().await;
                    *name
                })
            });
            futures_util::future::select_all(waits).await.0
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// Runs the hook and waits for it at most `limit`.
pub async fn run(
    command: &str,
    profile: &str,
    key: &AccessKey,
    limit: Duration,
    interrupts: &mut Interrupts,
) -> HookReport {
    let report = |ok, exit_code, error| HookReport {
        command: command.to_string(),
        ok,
        exit_code,
        error,
    };
    if let Some(signal) = interrupts.caught {
        return report(
            false,
            None,
            Some(format!("not run: aws-rekey was interrupted by {signal}")),
        );
    }
    let mut child = match spawn(command, profile) {
        Ok(c) => c,
        Err(e) => return report(false, None, Some(format!("could not start: {e}"))),
    };
    // Wiped on drop: the hook's input holds the new secret.
    let doc = crate::secret::process_json(key);
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is not an error. The document
        // is far smaller than a pipe's buffer, so this never blocks.
        let _ = stdin.write_all(doc.as_bytes());
    }
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return report(true, Some(0), None),
            Ok(Some(status)) => {
                return report(false, status.code(), Some(format!("exited with {status}")));
            }
            Ok(None) => {}
            Err(e) => return report(false, None, Some(e.to_string())),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            stop(&mut child);
            return report(
                false,
                None,
                Some(format!(
                    "did not finish within {} (--exec-timeout); it was stopped, with every process it started",
                    crate::state::seconds(limit)
                )),
            );
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL.min(left)) => {}
            signal = interrupts.next() => {
                interrupts.caught = Some(signal);
                stop(&mut child);
                return report(
                    false,
                    None,
                    Some(format!("interrupted by {signal}; it was stopped, with every process it started")),
                );
            }
        }
    }
}

/// Starts the hook through the platform's shell, in a process group of
/// its own (whose id is the shell's pid: what a time limit kills), its
/// stdout going to our stderr: stdout is for aws-rekey's result.
fn spawn(command: &str, profile: &str) -> std::io::Result<Child> {
    let mut cmd = if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(command);
        c
    };
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.env("AWS_REKEY_PROFILE", profile)
        .stdin(Stdio::piped())
        .stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::inherit())
        .spawn()
}

/// Stops the hook's whole process group: SIGTERM, a grace period for the
/// shell to exit, then SIGKILL for whatever is left (children that ignore
/// SIGTERM, or that the shell started in the background).
#[cfg(unix)]
fn stop(child: &mut Child) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    let Ok(id) = i32::try_from(child.id()) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    let group = Pid::from_raw(id);
    // ESRCH (the group is already empty) is fine.
    let _ = killpg(group, Signal::SIGTERM);
    let until = Instant::now() + GRACE;
    while Instant::now() < until && matches!(child.try_wait(), Ok(None)) {
        std::thread::sleep(POLL);
    }
    // Sent even when the shell has exited: its children may not have. The
    // group's id cannot be handed to a new group while any of them lives.
    let _ = killpg(group, Signal::SIGKILL);
    let _ = child.wait();
}

#[cfg(not(unix))]
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}
