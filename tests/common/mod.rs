//! The end-to-end test environment: a throwaway home folder, the IAM/STS
//! emulator (moto behind a fault-injecting forwarder, see
//! tests/emulator/emulator.py), and helpers to run the built binary and the
//! real AWS CLI against them. Nothing here talks beyond 127.0.0.1.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_aws-rekey");

pub struct Emulator {
    pub endpoint: String,
    child: Child,
    _stdin: ChildStdin,
}

impl Emulator {
    pub fn start() -> Self {
        let python = std::env::var("AWS_REKEY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/emulator.py");
        let mut cmd = Command::new(python);
        clear_network_env(&mut cmd);
        let mut child = cmd
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the emulator (python3 with moto; see README)");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("emulator did not start: {line:?}"));
        Emulator {
            endpoint: ready["endpoint"].as_str().unwrap().to_string(),
            child,
            _stdin: stdin,
        }
    }

    pub fn port(&self) -> u16 {
        self.endpoint.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// A call to the harness's control API.
    pub fn harness(&self, method: &str, path: &str, body: &Value) -> Value {
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let mut s = TcpStream::connect(("127.0.0.1", self.port())).unwrap();
        write!(
            s,
            "{method} /_harness/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let (head, body) = resp.split_once("\r\n\r\n").unwrap();
        assert!(
            head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
            "{resp}"
        );
        serde_json::from_str(body).unwrap()
    }

    /// A new IAM user with one active key and a policy to manage its keys.
    pub fn user(&self, name: &str) -> User {
        self.user_from(self.harness("POST", "user", &serde_json::json!({ "name": name })))
    }

    /// A new IAM user with one active key and this IAM policy (JSON).
    pub fn user_with_policy(&self, name: &str, policy: &str) -> User {
        self.user_from(self.harness(
            "POST",
            "user",
            &serde_json::json!({ "name": name, "policy": policy }),
        ))
    }

    fn user_from(&self, v: Value) -> User {
        User {
            name: v["arn"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string(),
            arn: v["arn"].as_str().unwrap().into(),
            key: Key {
                id: v["access_key_id"].as_str().unwrap().into(),
                secret: v["secret_access_key"].as_str().unwrap().into(),
            },
        }
    }

    /// Adds a key to a user, as if made elsewhere (the console, a colleague).
    pub fn extra_key(&self, user: &str, active: bool) -> Key {
        let status = if active { "Active" } else { "Inactive" };
        let v = self.harness(
            "POST",
            "key",
            &serde_json::json!({ "user": user, "status": status }),
        );
        Key {
            id: v["access_key_id"].as_str().unwrap().into(),
            secret: v["secret_access_key"].as_str().unwrap().into(),
        }
    }

    /// The user's keys as IAM has them: (id, status).
    pub fn keys(&self, user: &str) -> Vec<(String, String)> {
        let v = self.harness("GET", &format!("keys?user={user}"), &Value::Null);
        v.as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["id"].as_str().unwrap().into(),
                    k["status"].as_str().unwrap().into(),
                )
            })
            .collect()
    }

    pub fn fault(&self, spec: Value) {
        self.harness("POST", "fault", &spec);
    }

    /// Fails the next `times` requests of one IAM/STS action (`-1`: every
    /// one) with `mode`: "500", "lost", "deny" or "throttle".
    pub fn fail_action(&self, action: &str, mode: &str, times: i64) {
        self.fault(serde_json::json!({
            "actions": { action: { "mode": mode, "times": times } }
        }));
    }

    pub fn clear_faults(&self) {
        self.fault(serde_json::json!({}));
    }

    /// (action, key id, status) of every request since the last clear.
    pub fn log(&self) -> Vec<(String, String, String)> {
        let v = self.harness("GET", "log", &Value::Null);
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap_or("").into(),
                    e["key"].as_str().unwrap_or("").into(),
                    e["status"].to_string().trim_matches('"').to_string(),
                )
            })
            .collect()
    }

    /// How many logged requests were `action`.
    pub fn count(&self, action: &str) -> usize {
        self.log().iter().filter(|(a, ..)| a == action).count()
    }

    pub fn clear_log(&self) {
        self.harness("POST", "clear-log", &Value::Null);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub id: String,
    pub secret: String,
}

#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub arn: String,
    pub key: Key,
}

/// A throwaway home with its own AWS files and state folder.
pub struct TestEnv {
    pub emu: Emulator,
    pub dir: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        TestEnv {
            emu: Emulator::start(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn credentials(&self) -> PathBuf {
        self.home().join(".aws/credentials")
    }

    pub fn config(&self) -> PathBuf {
        self.home().join(".aws/config")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.home().join("state")
    }

    pub fn write_credentials(&self, text: &str) {
        std::fs::create_dir_all(self.home().join(".aws")).unwrap();
        std::fs::write(self.credentials(), text).unwrap();
    }

    pub fn write_config(&self, text: &str) {
        std::fs::create_dir_all(self.home().join(".aws")).unwrap();
        std::fs::write(self.config(), text).unwrap();
    }

    pub fn read_credentials(&self) -> String {
        std::fs::read_to_string(self.credentials()).unwrap()
    }

    /// The environment every process in a test gets: only the temp files,
    /// only the emulator, never the instance-metadata address, and no proxy
    /// or CA bundle from the machine running the tests.
    pub fn apply_env(&self, cmd: &mut Command) {
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") {
                cmd.env_remove(k);
            }
        }
        clear_network_env(cmd);
        cmd.env("HOME", self.home())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", self.config())
            .env("AWS_SHARED_CREDENTIALS_FILE", self.credentials())
            .env("AWS_ENDPOINT_URL", &self.emu.endpoint)
            .env("AWS_REKEY_STATE_DIR", self.state_dir())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
    }

    /// Waits until `child` holds the state folder's lock: the holder note
    /// it writes into the lock file names its pid.
    pub fn wait_for_lock(&self, child: &Child) {
        let lock = self.state_dir().join("lock");
        wait_until("the first run holds the lock", || {
            std::fs::read(&lock)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .is_some_and(|note| note["pid"] == child.id())
        });
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args);
        self.apply_env(&mut cmd);
        cmd
    }

    /// Starts the binary with its output captured, to run beside another.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Starts the binary, output discarded, and kills it with SIGKILL
    /// after `at`.
    pub fn kill_after(&self, args: &[&str], at: std::time::Duration) {
        let mut child = self
            .cmd(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run(self.cmd(args).output().unwrap())
    }

    /// Runs the binary with `stdin` piped in. A process that exits before
    /// reading it (a usage error, say) is not a test failure: the exit code
    /// and output say what happened.
    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        run_with_stdin(self.cmd(args), stdin)
    }

    /// The real AWS CLI, reading the files as aws-rekey left them.
    pub fn aws(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new("aws");
        cmd.args(args);
        self.apply_env(&mut cmd);
        cmd.env("AWS_DEFAULT_REGION", "us-east-1");
        Run(cmd
            .output()
            .expect("run the AWS CLI (pip install awscli; see README)"))
    }

    /// The AWS CLI, through `profile` as aws-rekey left it, reaches `arn`.
    #[track_caller]
    pub fn assert_cli_reaches(&self, profile: &str, arn: &str) {
        let who = self.aws(&[
            "sts",
            "get-caller-identity",
            "--profile",
            profile,
            "--output",
            "json",
        ]);
        who.success();
        assert_eq!(who.json()["Arn"], arn, "profile {profile}");
    }

    /// The AWS CLI with explicit credentials, to test a key outside any profile.
    pub fn key_works(&self, key: &Key) -> bool {
        let mut cmd = Command::new("aws");
        cmd.args(["sts", "get-caller-identity"]);
        self.apply_env(&mut cmd);
        cmd.env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", &key.id)
            .env("AWS_SECRET_ACCESS_KEY", &key.secret)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
        cmd.output().unwrap().status.success()
    }

    /// The key a profile holds: in the credentials file, or else what its
    /// keychain entry serves through `aws-rekey credential-process`.
    pub fn profile_key(&self, profile: &str) -> Key {
        if let Some(key) = self.try_file_key(profile) {
            return key;
        }
        let run = self.run(&["credential-process", "--profile", profile]);
        run.success();
        let v = run.json();
        assert_eq!(v["Version"], 1);
        Key {
            id: v["AccessKeyId"].as_str().unwrap().into(),
            secret: v["SecretAccessKey"].as_str().unwrap().into(),
        }
    }

    /// The key a profile holds in the credentials file.
    pub fn file_key(&self, profile: &str) -> Key {
        self.try_file_key(profile)
            .unwrap_or_else(|| panic!("[{profile}] holds no key in the credentials file"))
    }

    fn try_file_key(&self, profile: &str) -> Option<Key> {
        let text = std::fs::read_to_string(self.credentials()).unwrap_or_default();
        let mut in_section = false;
        let (mut id, mut secret) = (None, None);
        for line in text.lines() {
            let line = line.trim();
            if let Some(header) = line.strip_prefix('[') {
                // As botocore reads a header: up to the last ']', so a
                // comment may follow (`[work] # my key`).
                in_section = header.rfind(']').map(|end| &header[..end]) == Some(profile);
            } else if in_section && let Some((k, v)) = line.split_once(['=', ':']) {
                match k.trim() {
                    "aws_access_key_id" => id = Some(v.trim().to_string()),
                    "aws_secret_access_key" => secret = Some(v.trim().to_string()),
                    _ => {}
                }
            }
        }
        Some(Key {
            id: id?,
            secret: secret?,
        })
    }

    /// The pending-rotation records in the state folder: its `*.json`
    /// files, as aws-rekey reads them (a kill during a write can leave a
    /// `.aws-rekey-*.tmp` file, which no run reads).
    pub fn pending_records(&self) -> Vec<Value> {
        let dir = self.state_dir().join("pending");
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    /// Secrets held in pending-rotation records, by key id.
    pub fn pending_secrets(&self) -> Vec<Key> {
        let mut out = Vec::new();
        for v in self.pending_records() {
            out.push(Key {
                id: v["old_key_id"].as_str().unwrap().into(),
                secret: v["old_secret"].as_str().unwrap().into(),
            });
            if let Some(n) = v["new_key"].as_object() {
                out.push(Key {
                    id: n["id"].as_str().unwrap().into(),
                    secret: n["secret"].as_str().unwrap().into(),
                });
            }
        }
        out
    }

    /// The invariant after any failure: the profile holds a working key,
    /// the user has at most two keys, and every live key's secret is stored
    /// somewhere (the file or a pending record).
    pub fn assert_safe(&self, user: &User, profile: &str, context: &str) {
        let keys = self.emu.keys(&user.name);
        assert!(keys.len() <= 2, "{context}: more than two keys: {keys:?}");
        let in_file = self.profile_key(profile);
        assert!(
            self.key_works(&in_file),
            "{context}: the profile's key {} does not work; IAM has {keys:?}",
            in_file.id
        );
        let known = self.pending_secrets();
        // A CreateAccessKey whose answer was lost (or whose process was
        // killed before the answer) leaves a key whose secret never arrived:
        // acceptable only while a pending record in the "creating" phase
        // says so, for the next run to delete that key.
        let creating = self.pending_records().iter().any(|r| {
            r["phase"] == "creating" && keys.iter().any(|(id, _)| r["old_key_id"] == id.as_str())
        });
        let unheld: Vec<&String> = keys
            .iter()
            .map(|(id, _)| id)
            .filter(|id| in_file.id != **id && !known.iter().any(|k| k.id == **id))
            .collect();
        assert!(
            unheld.is_empty() || (unheld.len() == 1 && creating),
            "{context}: the secret of live key {unheld:?} is stored nowhere"
        );
    }

    /// The end state of every successful rotation or recovery: exactly one
    /// key, the one in the file, working; no pending record left.
    pub fn assert_clean(&self, user: &User, profile: &str, context: &str) {
        let keys = self.emu.keys(&user.name);
        let in_file = self.profile_key(profile);
        assert_eq!(
            keys,
            vec![(in_file.id.clone(), "Active".to_string())],
            "{context}: IAM should hold exactly the file's key"
        );
        assert!(
            self.key_works(&in_file),
            "{context}: file key does not work"
        );
        let left = self
            .pending_records()
            .into_iter()
            .filter(|r| r["user_arn"] == user.arn.as_str())
            .count();
        assert_eq!(left, 0, "{context}: a pending record is left");
    }

    /// A credentials file with one profile holding the user's key.
    pub fn simple_profile(&self, user: &User) {
        self.write_credentials(&format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.key.id, user.key.secret
        ));
    }
}

/// Runs `cmd` with `stdin` piped in; a process that exits before reading
/// it is not a test failure (see `TestEnv::run_stdin`).
pub fn run_with_stdin(mut cmd: Command, stdin: &str) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    Run(child.wait_with_output().unwrap())
}

/// The proxy and CA settings the AWS CLI and aws-rekey read: a test sets
/// them itself (tests/network.rs), never inherits them from the machine.
pub const NETWORK_VARS: [&str; 10] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
];

pub fn clear_network_env(cmd: &mut Command) {
    for var in NETWORK_VARS {
        cmd.env_remove(var);
    }
}

/// A key id as aws-rekey shows it: `AKIA…WXYZ`.
/// Whether a test's outside part is here. In CI it must be (CI=true): a
/// missing part fails the test there. Elsewhere the test is skipped, saying
/// what it needs and which command sets it up.
pub fn available(what: &str, present: bool, how: &str) -> bool {
    if present {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} is missing, and CI must run every test: {how}"
    );
    eprintln!("skipped: needs {what}; {how}");
    false
}

/// The private, unlocked GNOME Keyring of scripts/with-keyring.sh (never
/// the desktop's own keyring).
pub fn secret_service() -> bool {
    available(
        "the test Secret Service",
        std::env::var_os("AWS_REKEY_TEST_KEYRING").is_some()
            && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run `bash scripts/test.sh`, or `scripts/with-keyring.sh cargo test`",
    )
}

/// Waits (up to a minute) for an event another process makes observable,
/// so a test never depends on which of two processes the OS starts first.
pub fn wait_until(what: &str, mut happened: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !happened() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

pub fn mask(id: &str) -> String {
    format!("{}…{}", &id[..4], &id[id.len() - 4..])
}

/// The UTC instant `secs` seconds ago, as the state files write instants.
pub fn rfc3339_ago(secs: u64) -> String {
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(secs);
    let unix = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{unix}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.0.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout(),
                self.stderr()
            )
        })
    }
    #[track_caller]
    pub fn success(&self) -> &Self {
        assert_eq!(
            self.code(),
            0,
            "stdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
        self
    }
    #[track_caller]
    pub fn exit(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "stdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
        self
    }
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout(), self.stderr())
    }
}
