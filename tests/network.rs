//! Networks as the AWS CLI meets them (issue 10, item 1): AWS reached only
//! through an HTTP CONNECT proxy (tinyproxy, from Debian), with server
//! certificates signed by a private CA (made here with openssl) as a
//! TLS-inspecting company proxy presents them. The AWS CLI through the same
//! parts is the reference; the proxy's own log proves the tunnel was used.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Two certificate authorities made for the test: `ca` signed the TLS
/// front's certificate (for 127.0.0.1 and localhost); `other` signed nothing
/// the tests reach.
struct Pki {
    dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl (Debian package openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("ca.cnf"),
            "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = aws-rekey test CA\n\
             [ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier = hash\n",
        )
        .unwrap();
        std::fs::write(
            d.join("server.cnf"),
            "[server]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n\
             extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1,DNS:localhost\n",
        )
        .unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        for name in ["ca", "other"] {
            let mut args = vec!["req", "-x509", "-config", "ca.cnf", "-extensions", "ca"];
            args.extend(ec);
            let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
            args.extend(["-keyout", &key, "-out", &pem, "-days", "2"]);
            openssl(d, &args);
        }
        let mut args = vec!["req", "-new", "-subj", "/CN=localhost"];
        args.extend(ec);
        args.extend(["-keyout", "server.key", "-out", "server.csr"]);
        openssl(d, &args);
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                "2",
                "-days",
                "2",
                "-extfile",
                "server.cnf",
                "-extensions",
                "server",
                "-out",
                "server.pem",
            ],
        );
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The CA that signed the front's certificate.
    fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }

    /// A CA that signed nothing here.
    fn other(&self) -> PathBuf {
        self.path("other.pem")
    }

    /// A file of its own holding `text`.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }
}

/// TLS with the private CA's certificate in front of the emulator's HTTP
/// port (tests/emulator/tls_front.py).
struct TlsFront {
    port: u16,
    child: Child,
    _stdin: ChildStdin,
}

impl TlsFront {
    fn start(pki: &Pki, upstream: u16) -> Self {
        let python = std::env::var("AWS_REKEY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/tls_front.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(pki.path("server.pem"))
            .arg(pki.path("server.key"))
            .arg(upstream.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the TLS front (python3)");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("TLS front did not start: {line:?}"));
        TlsFront {
            port: ready["port"].as_u64().unwrap() as u16,
            child,
            _stdin: stdin,
        }
    }

    fn endpoint(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port on 127.0.0.1 (nothing listens on it once this returns).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// tinyproxy on 127.0.0.1, in the foreground, logging every request line.
struct Proxy {
    port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl Proxy {
    /// `extra`: more tinyproxy configuration (`BasicAuth`, `ConnectPort`).
    fn start(extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("tinyproxy.log");
        let conf = dir.path().join("tinyproxy.conf");
        let port = free_port();
        std::fs::write(
            &conf,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\nLogLevel Connect\nLogFile \"{}\"\n{extra}\n",
                log.display()
            ),
        )
        .unwrap();
        let child = Command::new("tinyproxy")
            .arg("-d")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run tinyproxy (Debian package tinyproxy-bin; scripts/test.sh installs it)");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "tinyproxy did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Proxy { port, child, dir }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The URL with credentials in it, as users write it.
    fn url_with(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@127.0.0.1:{}", self.port)
    }

    /// The request lines the proxy received, e.g. `CONNECT 127.0.0.1:4321 HTTP/1.1`.
    fn requests(&self) -> Vec<String> {
        let log =
            std::fs::read_to_string(self.dir.path().join("tinyproxy.log")).unwrap_or_default();
        log.lines()
            .filter_map(|l| l.split_once("): ").filter(|_| l.contains("Request (")))
            .map(|(_, request)| request.to_string())
            .collect()
    }

    /// The CONNECT requests for `host_port`.
    fn tunnels_to(&self, host_port: &str) -> usize {
        let wanted = format!("CONNECT {host_port} ");
        self.requests()
            .iter()
            .filter(|r| r.starts_with(&wanted))
            .count()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The emulator behind the TLS front, the proxy, and one user whose key the
/// default profile holds.
struct Net {
    env: TestEnv,
    pki: Pki,
    front: TlsFront,
    proxy: Proxy,
    user: User,
}

impl Net {
    fn new(proxy_config: &str) -> Self {
        let env = TestEnv::new();
        let pki = Pki::new();
        let front = TlsFront::start(&pki, env.emu.port());
        let proxy = Proxy::start(proxy_config);
        let user = env.emu.user("netuser");
        env.simple_profile(&user);
        Net {
            env,
            pki,
            front,
            proxy,
            user,
        }
    }

    /// The front as host:port, as CONNECT names it.
    fn front_addr(&self) -> String {
        format!("127.0.0.1:{}", self.front.port)
    }

    fn tunnels(&self) -> usize {
        self.proxy.tunnels_to(&self.front_addr())
    }

    /// aws-rekey with AWS only at the TLS front, reached through the proxy;
    /// no CA bundle set.
    fn rekey(&self, args: &[&str]) -> Command {
        let mut cmd = self.env.cmd(args);
        cmd.env("AWS_ENDPOINT_URL", self.front.endpoint())
            .env("HTTPS_PROXY", self.proxy.url());
        cmd
    }

    /// The AWS CLI, set up the same way.
    fn aws(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("aws");
        cmd.args(args);
        self.env.apply_env(&mut cmd);
        cmd.env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", self.front.endpoint())
            .env("HTTPS_PROXY", self.proxy.url());
        cmd
    }

    /// Nothing changed: the credentials file as it was, IAM's keys as they
    /// were, no request reached IAM or STS, no pending record.
    #[track_caller]
    fn assert_unchanged(&self, credentials: &str, keys: &[(String, String)], context: &str) {
        assert_eq!(self.env.read_credentials(), credentials, "{context}");
        assert_eq!(self.env.emu.keys(&self.user.name), keys, "{context}");
        assert_eq!(
            self.env.emu.log(),
            vec![],
            "{context}: a request reached IAM"
        );
        assert!(self.env.pending_records().is_empty(), "{context}");
    }
}

fn run(cmd: &mut Command) -> Run {
    Run(cmd.output().unwrap())
}

fn cli_identity_arn(run: &Run) -> String {
    run.success();
    run.json()["Arn"].as_str().unwrap().to_string()
}

/// The reference: the AWS CLI reaches the emulator through the proxy with
/// AWS_CA_BUNDLE, and fails its certificate check without it. This proves
/// the parts before aws-rekey is judged by them.
#[test]
fn the_aws_cli_works_through_the_proxy_with_the_private_ca() {
    let net = Net::new("");
    let who = run(net
        .aws(&["sts", "get-caller-identity", "--output", "json"])
        .env("AWS_CA_BUNDLE", net.pki.ca()));
    assert_eq!(cli_identity_arn(&who), net.user.arn);
    assert!(net.tunnels() >= 1, "{:?}", net.proxy.requests());

    let untrusted = run(&mut net.aws(&["sts", "get-caller-identity"]));
    assert_ne!(untrusted.code(), 0);
    assert!(
        untrusted.stderr().contains("CERTIFICATE_VERIFY_FAILED")
            || untrusted.stderr().contains("certificate verify failed"),
        "{}",
        untrusted.stderr()
    );

    // The profile's ca_bundle, read by the AWS CLI the same way.
    net.env.write_config(&format!(
        "[default]\nca_bundle = {}\n",
        net.pki.ca().display()
    ));
    let who = run(&mut net.aws(&["sts", "get-caller-identity", "--output", "json"]));
    assert_eq!(cli_identity_arn(&who), net.user.arn);
}

#[test]
fn rotate_status_and_setup_work_through_the_proxy_with_aws_ca_bundle() {
    let net = Net::new("");
    let ca = net.pki.ca();

    let status = run(net
        .rekey(&["status", "--output", "json"])
        .env("AWS_CA_BUNDLE", &ca));
    status.success();
    assert_eq!(
        status.json()["profiles"][0]["user_arn"],
        net.user.arn.as_str()
    );
    let after_status = net.tunnels();
    assert!(after_status >= 1, "status: {:?}", net.proxy.requests());

    let rotate = run(net.rekey(&["rotate"]).env("AWS_CA_BUNDLE", &ca));
    rotate.success();
    net.env
        .assert_clean(&net.user, "default", "rotated through the proxy");
    assert!(
        net.tunnels() > after_status,
        "rotate: {:?}",
        net.proxy.requests()
    );
    // The AWS CLI reads the rotated key back, through the same proxy and CA.
    let who = run(net
        .aws(&["sts", "get-caller-identity", "--output", "json"])
        .env("AWS_CA_BUNDLE", &ca));
    assert_eq!(cli_identity_arn(&who), net.user.arn);

    let newcomer = net.env.emu.user("netnew");
    let before = net.tunnels();
    let mut setup = net.rekey(&["setup", "--profile", "dev"]);
    setup.env("AWS_CA_BUNDLE", &ca);
    let setup = run_with_stdin(
        setup,
        &format!("{}\n{}\n", newcomer.key.id, newcomer.key.secret),
    );
    setup.success();
    net.env
        .assert_clean(&newcomer, "dev", "set up through the proxy");
    assert!(net.tunnels() > before, "setup: {:?}", net.proxy.requests());
}

/// `ca_bundle` in the profile's config section works as AWS_CA_BUNDLE does;
/// AWS_CA_BUNDLE wins over it, as in botocore.
#[test]
fn the_profiles_ca_bundle_is_honoured_and_aws_ca_bundle_wins() {
    let net = Net::new("");
    net.env.write_config(&format!(
        "[default]\nca_bundle = {}\n\n[profile dev]\nca_bundle = {}\n",
        net.pki.ca().display(),
        net.pki.ca().display()
    ));

    run(&mut net.rekey(&["status"])).success();
    run(&mut net.rekey(&["rotate"])).success();
    net.env
        .assert_clean(&net.user, "default", "rotated with ca_bundle");
    assert!(net.tunnels() >= 2, "{:?}", net.proxy.requests());

    let newcomer = net.env.emu.user("netnew2");
    run_with_stdin(
        net.rekey(&["setup", "--profile", "dev"]),
        &format!("{}\n{}\n", newcomer.key.id, newcomer.key.secret),
    )
    .success();
    net.env
        .assert_clean(&newcomer, "dev", "set up with ca_bundle");

    // The environment wins: a bundle without the front's CA is refused by
    // the TLS check even though the profile names the right one.
    let credentials = net.env.read_credentials();
    let keys = net.env.emu.keys(&net.user.name);
    net.env.emu.clear_log();
    let wrong = run(net.rekey(&["rotate"]).env("AWS_CA_BUNDLE", net.pki.other()));
    wrong.exit(4);
    assert!(
        wrong.stderr().contains("AWS_CA_BUNDLE"),
        "{}",
        wrong.stderr()
    );
    net.assert_unchanged(&credentials, &keys, "AWS_CA_BUNDLE wins");
}

/// Without the CA: a clean failure, nothing changed, and the message says
/// what to set.
#[test]
fn without_the_ca_nothing_changes_and_the_message_says_what_to_set() {
    let net = Net::new("");
    let credentials = net.env.read_credentials();
    let keys = net.env.emu.keys(&net.user.name);
    net.env.emu.clear_log();

    // (status shows a key's error in its table, on stdout.)
    let says_what_to_set = |run: &Run, context: &str| {
        let err = run.all_output();
        assert!(
            err.contains("AWS_CA_BUNDLE") && err.contains("ca_bundle"),
            "{context}: {err}"
        );
        assert!(err.contains("UnknownIssuer"), "{context}: {err}");
    };

    let rotate = run(&mut net.rekey(&["rotate"]));
    rotate.exit(4);
    says_what_to_set(&rotate, "rotate");
    net.assert_unchanged(&credentials, &keys, "rotate without the CA");
    // It got as far as the TLS handshake, through the proxy.
    assert!(net.tunnels() >= 1, "{:?}", net.proxy.requests());

    let status = run(&mut net.rekey(&["status"]));
    status.exit(4);
    says_what_to_set(&status, "status");

    let newcomer = net.env.emu.user("netnew3");
    net.env.emu.clear_log();
    let setup = run_with_stdin(
        net.rekey(&["setup", "--profile", "dev"]),
        &format!("{}\n{}\n", newcomer.key.id, newcomer.key.secret),
    );
    setup.exit(4);
    says_what_to_set(&setup, "setup");
    assert_eq!(net.env.read_credentials(), credentials);
    assert_eq!(net.env.emu.log(), vec![]);
    assert!(
        net.env.key_works(&newcomer.key),
        "the bootstrap key is untouched"
    );
}

/// With a bundle set, exactly that bundle is trusted, as botocore does:
/// the system's store (here SSL_CERT_FILE, which the OS trust store
/// honours) is not added to it. Without one, the system's store is used.
/// A bundle may hold several certificates.
#[test]
fn the_bundle_is_trusted_exactly_and_may_hold_several_certificates() {
    let net = Net::new("");
    let system_trusts_ca = |cmd: &mut Command| {
        cmd.env("SSL_CERT_FILE", net.pki.ca());
    };

    let mut status = net.rekey(&["status"]);
    system_trusts_ca(&mut status);
    run(&mut status).success();

    let mut status = net.rekey(&["status"]);
    system_trusts_ca(&mut status);
    status.env("AWS_CA_BUNDLE", net.pki.other());
    let only_other = run(&mut status);
    only_other.exit(4);
    assert!(
        only_other.all_output().contains("AWS_CA_BUNDLE"),
        "{}",
        only_other.all_output()
    );

    let both = net.pki.file(
        "both.pem",
        &format!("{}{}", net.pki.read("other.pem"), net.pki.read("ca.pem")),
    );
    run(net.rekey(&["status"]).env("AWS_CA_BUNDLE", both)).success();
}

/// A CA bundle that cannot be used is refused up front (exit 3), naming
/// the file and where it was set; nothing is sent.
#[test]
fn an_unusable_ca_bundle_is_refused_before_anything_is_sent() {
    let net = Net::new("");
    let credentials = net.env.read_credentials();
    let keys = net.env.emu.keys(&net.user.name);
    net.env.emu.clear_log();
    let ca = net.pki.read("ca.pem");
    let mut broken_body = ca.replace(
        "-----BEGIN CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n!!",
    );
    broken_body.push('\n');
    let cases = [
        ("missing", net.pki.path("no-such-file.pem")),
        ("empty", net.pki.file("empty.pem", "")),
        (
            "not PEM",
            net.pki.file("text.pem", "this is not a certificate\n"),
        ),
        // A key, not a certificate.
        ("a key", net.pki.path("ca.key")),
        ("bad base64", net.pki.file("broken.pem", &broken_body)),
        (
            "not a certificate inside",
            net.pki.file(
                "garbage.pem",
                "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
            ),
        ),
    ];
    for (what, path) in &cases {
        for args in [&["rotate"][..], &["status"][..]] {
            let r = run(net.rekey(args).env("AWS_CA_BUNDLE", path));
            r.exit(3);
            let err = r.all_output();
            assert!(
                err.contains(&path.display().to_string()) && err.contains("AWS_CA_BUNDLE"),
                "{what} {args:?}: {err}"
            );
            net.assert_unchanged(&credentials, &keys, what);
        }
    }
    // The same from the profile's ca_bundle, named as such.
    net.env.write_config(&format!(
        "[default]\nca_bundle = {}\n",
        net.pki.path("empty.pem").display()
    ));
    let r = run(&mut net.rekey(&["rotate"]));
    r.exit(3);
    assert!(r.stderr().contains("ca_bundle"), "{}", r.stderr());
    assert!(!r.stderr().contains("AWS_CA_BUNDLE"), "{}", r.stderr());
    net.assert_unchanged(&credentials, &keys, "profile ca_bundle");
    assert_eq!(net.tunnels(), 0, "nothing was sent");
}

/// Credentials in the proxy URL are sent to the proxy (Basic), and never
/// shown: not even when the proxy refuses them.
#[test]
fn proxy_credentials_in_the_url_are_used_and_never_shown() {
    let net = Net::new("BasicAuth alice s3cr3t-pw");
    let ca = net.pki.ca();

    // The reference.
    let who = run(net
        .aws(&["sts", "get-caller-identity", "--output", "json"])
        .env("AWS_CA_BUNDLE", &ca)
        .env("HTTPS_PROXY", net.proxy.url_with("alice", "s3cr3t-pw")));
    assert_eq!(cli_identity_arn(&who), net.user.arn);

    let rotate = run(net
        .rekey(&["rotate"])
        .env("AWS_CA_BUNDLE", &ca)
        .env("HTTPS_PROXY", net.proxy.url_with("alice", "s3cr3t-pw")));
    rotate.success();
    net.env.assert_clean(
        &net.user,
        "default",
        "rotated through an authenticating proxy",
    );
    assert!(!rotate.all_output().contains("s3cr3t-pw"));

    let credentials = net.env.read_credentials();
    let keys = net.env.emu.keys(&net.user.name);
    net.env.emu.clear_log();
    let tunnels = net.tunnels();
    for url in [
        net.proxy.url_with("alice", "wr0ng-pw"),
        net.proxy.url(), // no credentials at all
    ] {
        let refused = run(net
            .rekey(&["rotate"])
            .env("AWS_CA_BUNDLE", &ca)
            .env("HTTPS_PROXY", &url));
        refused.exit(4);
        let err = refused.stderr();
        assert!(err.contains(&net.proxy.url()), "{url}: {err}");
        // tinyproxy answers 407 without credentials, 401 with wrong ones.
        assert!(err.contains("credentials"), "{url}: {err}");
        assert!(!refused.all_output().contains("wr0ng-pw"), "{err}");
        net.assert_unchanged(&credentials, &keys, &url);
    }
    assert!(net.tunnels() > tunnels, "the proxy was asked, and said no");
}

/// NO_PROXY (host names, domains, addresses) sends matching hosts
/// directly: the proxy sees nothing, and the call still works. (Each rule
/// against the AWS CLI: `no_proxy_is_matched_as_the_aws_cli_matches_it`.)
#[test]
fn no_proxy_sends_matching_hosts_directly() {
    let net = Net::new("");
    let ca = net.pki.ca();

    // The reference: the AWS CLI skips the proxy for a listed host.
    run(net
        .aws(&["sts", "get-caller-identity"])
        .env("AWS_CA_BUNDLE", &ca)
        .env("NO_PROXY", "127.0.0.1"))
    .success();
    assert_eq!(net.tunnels(), 0, "{:?}", net.proxy.requests());

    let localhost = format!("https://localhost:{}", net.front.port);
    let bypassed: [(&str, &str, &str); 5] = [
        ("NO_PROXY", "127.0.0.1", ""),
        ("no_proxy", "example.com, 127.0.0.1", ""),
        ("NO_PROXY", "*", ""),
        ("NO_PROXY", "localhost", &localhost),
        ("NO_PROXY", ".localhost", &localhost),
    ];
    for (var, value, endpoint) in bypassed {
        let mut cmd = net.rekey(&["status"]);
        cmd.env("AWS_CA_BUNDLE", &ca).env(var, value);
        if !endpoint.is_empty() {
            cmd.env("AWS_ENDPOINT_URL", endpoint);
        }
        run(&mut cmd).success();
        assert_eq!(net.proxy.requests(), Vec::<String>::new(), "{var}={value}");
    }

    // A list that does not match leaves the proxy in the path, and the
    // lower-case spelling of HTTPS_PROXY works as well.
    run(net
        .rekey(&["status"])
        .env("AWS_CA_BUNDLE", &ca)
        .env("NO_PROXY", "example.com,10.0.0.0/8"))
    .success();
    let through = net.tunnels();
    assert!(through >= 1, "{:?}", net.proxy.requests());
    run(net
        .rekey(&["rotate"])
        .env_remove("HTTPS_PROXY")
        .env("https_proxy", net.proxy.url())
        .env("AWS_CA_BUNDLE", &ca))
    .success();
    assert!(net.tunnels() > through, "{:?}", net.proxy.requests());
    net.env.assert_clean(&net.user, "default", "https_proxy");
}

/// A proxy that is down: the message names it (without its password) and
/// the variable it came from, and nothing is changed.
#[test]
fn a_proxy_that_is_down_is_named_and_nothing_changes() {
    let net = Net::new("");
    let credentials = net.env.read_credentials();
    let keys = net.env.emu.keys(&net.user.name);
    net.env.emu.clear_log();
    let closed = free_port();
    for args in [&["rotate"][..], &["status"][..]] {
        let r = run(net.rekey(args).env("AWS_CA_BUNDLE", net.pki.ca()).env(
            "HTTPS_PROXY",
            format!("http://bob:hunter2-pw@127.0.0.1:{closed}"),
        ));
        r.exit(4);
        let err = r.all_output();
        assert!(
            err.contains(&format!("http://127.0.0.1:{closed}")),
            "{args:?}: {err}"
        );
        assert!(err.contains("HTTPS_PROXY"), "{args:?}: {err}");
        assert!(!r.all_output().contains("hunter2-pw"), "{args:?}: {err}");
        net.assert_unchanged(&credentials, &keys, "proxy down");
    }
}

/// A proxy that refuses the tunnel (tinyproxy allows CONNECT to port 443
/// only): named, nothing changed.
#[test]
fn a_proxy_that_refuses_the_tunnel_is_named_and_nothing_changes() {
    let net = Net::new("ConnectPort 443");
    let credentials = net.env.read_credentials();
    let keys = net.env.emu.keys(&net.user.name);
    net.env.emu.clear_log();
    let r = run(net.rekey(&["rotate"]).env("AWS_CA_BUNDLE", net.pki.ca()));
    r.exit(4);
    let err = r.stderr();
    assert!(err.contains(&net.proxy.url()), "{err}");
    assert!(err.contains("refused"), "{err}");
    assert!(net.tunnels() >= 1, "the CONNECT was asked for");
    net.assert_unchanged(&credentials, &keys, "tunnel refused");
}

/// rollback and prune reach AWS the same way (move does too, through the
/// same constructor; its keychain needs a Secret Service, see keychain.rs).
#[test]
fn rollback_and_prune_go_through_the_proxy_too() {
    let net = Net::new("");
    let ca = net.pki.ca();
    run(net
        .rekey(&["rotate", "--keep-old"])
        .env("AWS_CA_BUNDLE", &ca))
    .success();
    assert_eq!(net.env.emu.keys(&net.user.name).len(), 2);

    let before = net.tunnels();
    let dry = run(net
        .rekey(&["prune", "--dry-run", "--output", "json"])
        .env("AWS_CA_BUNDLE", &ca));
    dry.success();
    assert_eq!(
        dry.json()["keys"][0]["action"],
        "would-delete",
        "{}",
        dry.stdout()
    );
    assert!(net.tunnels() > before, "prune: {:?}", net.proxy.requests());

    let before = net.tunnels();
    run(net.rekey(&["rollback"]).env("AWS_CA_BUNDLE", &ca)).success();
    assert_eq!(net.env.file_key("default"), net.user.key);
    assert!(
        net.tunnels() > before,
        "rollback: {:?}",
        net.proxy.requests()
    );

    // Without the CA, prune says what to set too.
    let r = run(&mut net.rekey(&["prune", "--dry-run"]));
    assert!(
        r.all_output().contains("AWS_CA_BUNDLE"),
        "{}",
        r.all_output()
    );
}

/// FIPS and dual-stack endpoints, from the environment or the profile, as
/// the AWS CLI reads them: the SDK's own loader honours them. Seen here in
/// the host names aws-rekey asks the proxy to tunnel to (the proxy refuses
/// every tunnel: nothing leaves 127.0.0.1).
#[test]
fn fips_and_dualstack_settings_pick_the_endpoints() {
    let net = Net::new("ConnectPort 1");
    let hosts = |setting: Option<(&str, &str)>, config: &str| -> Vec<String> {
        net.env.write_config(config);
        let before = net.proxy.requests().len();
        let mut cmd = net.rekey(&["status"]);
        cmd.env_remove("AWS_ENDPOINT_URL");
        if let Some((var, value)) = setting {
            cmd.env(var, value);
        }
        run(&mut cmd).exit(4);
        let mut hosts: Vec<String> = net.proxy.requests()[before..]
            .iter()
            .filter_map(|r| r.strip_prefix("CONNECT "))
            .map(|r| r.split(' ').next().unwrap().to_string())
            .collect();
        hosts.sort();
        hosts.dedup();
        assert!(
            !hosts.is_empty(),
            "{setting:?} {config:?}: no tunnel asked for"
        );
        hosts
    };
    let plain = hosts(None, "");
    assert!(
        plain
            .iter()
            .all(|h| h.ends_with(".amazonaws.com:443") && !h.contains("fips")),
        "{plain:?}"
    );
    for (setting, config) in [
        (Some(("AWS_USE_FIPS_ENDPOINT", "true")), ""),
        (None, "[default]\nuse_fips_endpoint = true\n"),
    ] {
        let fips = hosts(setting, config);
        assert!(fips.iter().all(|h| h.contains("-fips.")), "{fips:?}");
    }
    for (setting, config) in [
        (Some(("AWS_USE_DUALSTACK_ENDPOINT", "true")), ""),
        (None, "[default]\nuse_dualstack_endpoint = true\n"),
    ] {
        let dual = hosts(setting, config);
        assert!(dual.iter().all(|h| h.ends_with(".api.aws:443")), "{dual:?}");
    }
}

/// `credential-process` and `check` make no network call: broken proxy and
/// CA settings change nothing in what they do.
#[test]
fn credential_process_and_check_stay_offline() {
    let env = TestEnv::new();
    let user = env.emu.user("offline");
    env.simple_profile(&user);
    let closed = free_port();
    for args in [
        &["check"][..],
        &["check", "--max-age", "0"][..],
        &["credential-process", "--profile", "default"][..],
    ] {
        let plain = env.run(args);
        let broken = Run(env
            .cmd(args)
            .env("HTTPS_PROXY", format!("http://127.0.0.1:{closed}"))
            .env("HTTP_PROXY", format!("http://127.0.0.1:{closed}"))
            .env("AWS_CA_BUNDLE", "/nonexistent/ca.pem")
            .output()
            .unwrap());
        // (check's own notes are shown once, so only the codes compare.)
        assert_eq!(
            broken.code(),
            plain.code(),
            "{args:?}: {}",
            broken.all_output()
        );
        let out = broken.all_output();
        assert!(
            !out.contains("ca.pem") && !out.contains("proxy"),
            "{args:?}: {out}"
        );
    }
    assert_eq!(env.emu.log(), vec![]);
}

/// HTTP_PROXY carries plain-http endpoints (a local emulator, say), as in
/// the AWS CLI; HTTPS_PROXY alone leaves them direct.
#[test]
fn http_proxy_carries_plain_http_endpoints() {
    let net = Net::new("");
    let emulator = net.env.emu.endpoint.clone();
    // The requests the proxy forwarded to the emulator, so far.
    let through_proxy = |r: &Run| {
        r.success();
        net.proxy
            .requests()
            .iter()
            .filter(|r| r.starts_with(&format!("POST {emulator}/")))
            .count()
    };
    let cli = run(net
        .aws(&["sts", "get-caller-identity"])
        .env("AWS_ENDPOINT_URL", &emulator)
        .env_remove("HTTPS_PROXY")
        .env("HTTP_PROXY", net.proxy.url()));
    let by_cli = through_proxy(&cli);
    assert!(by_cli >= 1, "the reference: {:?}", net.proxy.requests());

    let status = run(net
        .rekey(&["status"])
        .env("AWS_ENDPOINT_URL", &emulator)
        .env_remove("HTTPS_PROXY")
        .env("HTTP_PROXY", net.proxy.url()));
    assert!(
        through_proxy(&status) > by_cli,
        "{:?}",
        net.proxy.requests()
    );

    let before = net.proxy.requests().len();
    let direct = run(net.rekey(&["status"]).env("AWS_ENDPOINT_URL", &emulator));
    direct.success();
    assert_eq!(
        net.proxy.requests().len(),
        before,
        "HTTPS_PROXY is for https only"
    );
}

/// A role profile's `ca_bundle` serves the key it is reached through, as
/// its `mfa_serial` does: `rotate`, `status` and `rollback --profile dev`
/// (dev assumes a role with default's key) trust dev's bundle when default
/// has none; a TLS failure names the profiles it looked in.
#[test]
fn a_role_profiles_ca_bundle_serves_its_source_key() {
    let net = Net::new("");
    let role = |bundle: &Path| {
        net.env.write_config(&format!(
            "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = default\nca_bundle = {}\n",
            bundle.display()
        ))
    };
    role(&net.pki.ca());
    let status = run(&mut net.rekey(&["status", "--profile", "dev", "--output", "json"]));
    status.success();
    assert_eq!(
        status.json()["profiles"][0]["user_arn"],
        net.user.arn.as_str()
    );

    let rotate = run(&mut net.rekey(&["rotate", "--profile", "dev", "--keep-old"]));
    rotate.success();
    assert_ne!(net.env.file_key("default"), net.user.key, "rotated");
    assert!(net.env.key_works(&net.env.file_key("default")));
    let before = net.tunnels();
    run(&mut net.rekey(&["rollback", "--profile", "dev"])).success();
    assert_eq!(net.env.file_key("default"), net.user.key, "rolled back");
    assert!(net.tunnels() > before, "{:?}", net.proxy.requests());

    // A bundle that does not hold the CA: named, with the profile it was
    // read from; nothing changed.
    let credentials = net.env.read_credentials();
    let keys = net.env.emu.keys(&net.user.name);
    net.env.emu.clear_log();
    role(&net.pki.other());
    let wrong = run(&mut net.rekey(&["rotate", "--profile", "dev"]));
    wrong.exit(4);
    let err = wrong.stderr();
    assert!(
        err.contains(&net.pki.other().display().to_string())
            && err.contains("ca_bundle of profile dev"),
        "{err}"
    );
    net.assert_unchanged(&credentials, &keys, "dev's wrong bundle");

    // No bundle anywhere: the message says where it looked.
    net.env.write_config(
        "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = default\n",
    );
    let none = run(&mut net.rekey(&["rotate", "--profile", "dev"]));
    none.exit(4);
    let err = none.stderr();
    assert!(
        err.contains("UnknownIssuer") && err.contains("profile default") && err.contains("dev"),
        "{err}"
    );
    net.assert_unchanged(&credentials, &keys, "no bundle");
}

/// REQUESTS_CA_BUNDLE is botocore's last resort (botocore/endpoint.py):
/// used when neither AWS_CA_BUNDLE nor the profile's ca_bundle is set, and
/// named where it is at fault. An empty AWS_CA_BUNDLE or REQUESTS_CA_BUNDLE
/// turns the AWS CLI's certificate check off; aws-rekey reads it as unset
/// and keeps checking.
#[test]
fn requests_ca_bundle_is_the_last_source_of_trust() {
    let net = Net::new("");
    let (ca, other) = (net.pki.ca(), net.pki.other());

    // The reference.
    let who = run(net
        .aws(&["sts", "get-caller-identity", "--output", "json"])
        .env("REQUESTS_CA_BUNDLE", &ca));
    assert_eq!(cli_identity_arn(&who), net.user.arn);

    run(net.rekey(&["status"]).env("REQUESTS_CA_BUNDLE", &ca)).success();
    // The other two come first.
    let wrong = run(net
        .rekey(&["status"])
        .env("REQUESTS_CA_BUNDLE", &ca)
        .env("AWS_CA_BUNDLE", &other));
    wrong.exit(4);
    assert!(
        wrong.all_output().contains("AWS_CA_BUNDLE"),
        "{}",
        wrong.all_output()
    );
    net.env
        .write_config(&format!("[default]\nca_bundle = {}\n", ca.display()));
    run(net.rekey(&["status"]).env("REQUESTS_CA_BUNDLE", &other)).success();
    net.env.write_config("");

    // At fault: named.
    let wrong = run(net.rekey(&["status"]).env("REQUESTS_CA_BUNDLE", &other));
    wrong.exit(4);
    let out = wrong.all_output();
    assert!(
        out.contains("REQUESTS_CA_BUNDLE") && out.contains(&other.display().to_string()),
        "{out}"
    );
    let empty = net.pki.file("empty.pem", "");
    let refused = run(net.rekey(&["rotate"]).env("REQUESTS_CA_BUNDLE", &empty));
    refused.exit(3);
    assert!(
        refused.stderr().contains("REQUESTS_CA_BUNDLE"),
        "{}",
        refused.stderr()
    );

    // AWS_CA_BUNDLE="": the AWS CLI checks no certificate at all...
    run(net
        .aws(&["sts", "get-caller-identity"])
        .env("AWS_CA_BUNDLE", ""))
    .success();
    // ...aws-rekey reads it as unset: the next source, else the system's.
    run(net
        .rekey(&["status"])
        .env("AWS_CA_BUNDLE", "")
        .env("REQUESTS_CA_BUNDLE", &ca))
    .success();
    run(net.rekey(&["status"]).env("AWS_CA_BUNDLE", "")).exit(4);
    // The same with an empty REQUESTS_CA_BUNDLE.
    run(net
        .aws(&["sts", "get-caller-identity"])
        .env("REQUESTS_CA_BUNDLE", ""))
    .success();
    run(net.rekey(&["status"]).env("REQUESTS_CA_BUNDLE", "")).exit(4);
}

/// NO_PROXY as the AWS CLI reads it (urllib's proxy_bypass_environment on
/// the endpoint's host[:port]), case by case against the AWS CLI itself.
#[test]
fn no_proxy_is_matched_as_the_aws_cli_matches_it() {
    let net = Net::new("");
    let ca = net.pki.ca();
    let port = net.front.port;
    let ip = net.front.endpoint();
    let localhost = format!("https://localhost:{port}");
    let with_port = format!("127.0.0.1:{port}");
    // (NO_PROXY, endpoint, bypassed)
    let cases: Vec<(&str, &str, bool)> = vec![
        ("127.0.0.1", &ip, true),
        ("example.com, 127.0.0.1", &ip, true),
        ("*", &ip, true),
        ("localhost", &localhost, true),
        (".LOCALHOST", &localhost, true),
        // host:port entries match host:port.
        (&with_port, &ip, true),
        ("127.0.0.1:1", &ip, false),
        // urllib matches addresses as text: no CIDR...
        ("127.0.0.0/8", &ip, false),
        // ...and a suffix of an address matches it.
        ("0.0.1", &ip, true),
        // `*` means every host only when it is the whole value.
        ("example.com,*", &localhost, false),
        (" *", &ip, false),
        ("example.com,10.0.0.0/8", &ip, false),
    ];
    let mut wrong = Vec::new();
    for (no_proxy, endpoint, bypassed) in cases {
        let before = net.proxy.requests().len();
        run(net
            .aws(&["sts", "get-caller-identity"])
            .env("AWS_CA_BUNDLE", &ca)
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("NO_PROXY", no_proxy))
        .success();
        let cli = net.proxy.requests().len() == before;
        assert_eq!(cli, bypassed, "the reference, NO_PROXY={no_proxy:?}");

        let before = net.proxy.requests().len();
        run(net
            .rekey(&["status"])
            .env("AWS_CA_BUNDLE", &ca)
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("NO_PROXY", no_proxy))
        .success();
        if (net.proxy.requests().len() == before) != bypassed {
            wrong.push(format!("NO_PROXY={no_proxy:?} to {endpoint}"));
        }
    }
    assert!(wrong.is_empty(), "not as the AWS CLI: {wrong:#?}");
}

/// HTTP_PROXY and HTTPS_PROXY may name different proxies: plain-http
/// endpoints go through the first, https ones through the second, as in
/// the AWS CLI.
#[test]
fn http_proxy_and_https_proxy_may_name_different_proxies() {
    let net = Net::new("");
    let plain = Proxy::start("");
    let emulator = net.env.emu.endpoint.clone();
    let forwarded = || {
        plain
            .requests()
            .iter()
            .filter(|r| r.starts_with(&format!("POST {emulator}/")))
            .count()
    };
    let both = |cmd: &mut Command| {
        cmd.env("HTTPS_PROXY", net.proxy.url())
            .env("HTTP_PROXY", plain.url())
            .env("AWS_CA_BUNDLE", net.pki.ca());
    };

    let mut cli = net.aws(&["sts", "get-caller-identity"]);
    both(&mut cli);
    run(cli.env("AWS_ENDPOINT_URL", &emulator)).success();
    let by_cli = forwarded();
    assert!(by_cli >= 1, "the reference: {:?}", plain.requests());

    let mut status = net.rekey(&["status"]);
    both(&mut status);
    run(status.env("AWS_ENDPOINT_URL", &emulator)).success();
    assert!(forwarded() > by_cli, "plain http: {:?}", plain.requests());
    assert_eq!(net.proxy.requests(), Vec::<String>::new());

    let mut status = net.rekey(&["status"]);
    both(&mut status);
    let sent = plain.requests().len();
    run(&mut status).success();
    assert!(net.tunnels() >= 1, "https: {:?}", net.proxy.requests());
    assert_eq!(plain.requests().len(), sent, "https went to HTTP_PROXY");
}

/// A "proxy" that accepts connections and never says a word.
fn silent_listener() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    port
}

/// A proxy that takes the connection and never opens the tunnel, and an
/// https:// proxy URL pointed at a plain proxy: the message names the
/// proxy (without its password) and its variable; nothing changes.
#[test]
fn a_proxy_that_never_opens_the_tunnel_is_named() {
    let net = Net::new("");
    let credentials = net.env.read_credentials();
    let keys = net.env.emu.keys(&net.user.name);
    net.env.emu.clear_log();
    let silent = silent_listener();
    for (var, url, shown) in [
        (
            "HTTPS_PROXY",
            format!("http://bob:hunter2-pw@127.0.0.1:{silent}"),
            format!("http://127.0.0.1:{silent}"),
        ),
        (
            "https_proxy",
            format!("https://127.0.0.1:{}", net.proxy.port),
            format!("https://127.0.0.1:{}", net.proxy.port),
        ),
    ] {
        let r = run(net
            .rekey(&["rotate"])
            .env_remove("HTTPS_PROXY")
            .env(var, &url)
            .env("AWS_CA_BUNDLE", net.pki.ca()));
        r.exit(4);
        let err = r.stderr();
        assert!(err.contains(&shown) && err.contains(var), "{url}: {err}");
        assert!(!err.contains("hunter2-pw"), "{err}");
        net.assert_unchanged(&credentials, &keys, &url);
    }
}

/// A `/`, `?` or `#` in the proxy URL's user name or password ends the
/// URL's authority early (the host would be read from the user name):
/// refused up front, saying to percent-encode it, the password never
/// shown. Percent-encoded, the credentials reach the proxy decoded.
#[test]
fn an_unescaped_delimiter_in_the_proxy_password_is_refused() {
    let net = Net::new("BasicAuth alice s3cr3t");
    let credentials = net.env.read_credentials();
    let keys = net.env.emu.keys(&net.user.name);
    net.env.emu.clear_log();
    let port = net.proxy.port;
    for password in ["s3/cr3t", "s3?cr3t", "s3#cr3t", "1/cr3t"] {
        let url = format!("http://alice:{password}@127.0.0.1:{port}");
        for args in [&["rotate"][..], &["status"][..]] {
            let r = run(net
                .rekey(args)
                .env("HTTPS_PROXY", &url)
                .env("AWS_CA_BUNDLE", net.pki.ca()));
            r.exit(3);
            let out = r.all_output();
            assert!(
                out.contains("percent-encode") && out.contains("HTTPS_PROXY"),
                "{url}: {out}"
            );
            assert!(!out.contains("cr3t"), "{url}: {out}");
            assert!(!out.contains("alice"), "{url}: {out}");
            net.assert_unchanged(&credentials, &keys, &url);
            assert_eq!(net.proxy.requests(), Vec::<String>::new(), "{url}");
        }
    }
    // `%63` is `c`: the proxy gets `s3cr3t`.
    run(net
        .rekey(&["status"])
        .env(
            "HTTPS_PROXY",
            format!("http://alice:s3%63r3t@127.0.0.1:{port}"),
        )
        .env("AWS_CA_BUNDLE", net.pki.ca()))
    .success();
    assert!(net.tunnels() >= 1);
}

/// A lost answer is explained in words, without the links some error
/// texts carry (rustls's "unexpected EOF" names a docs.rs page).
#[test]
fn a_lost_answer_is_explained_without_links() {
    let net = Net::new("");
    net.env.emu.fail_action("GetCallerIdentity", "lost", -1);
    let status = run(net.rekey(&["status"]).env("AWS_CA_BUNDLE", net.pki.ca()));
    status.exit(4);
    let out = status.all_output();
    assert!(out.contains("no answer from AWS"), "{out}");
    assert!(
        !out.contains("https://docs.rs") && !out.contains("#unexpected-eof"),
        "{out}"
    );

    net.env.emu.clear_faults();
    net.env.emu.fail_action("CreateAccessKey", "lost", 1);
    let rotate = run(net.rekey(&["rotate"]).env("AWS_CA_BUNDLE", net.pki.ca()));
    let out = rotate.all_output();
    assert!(!out.contains("https://docs.rs"), "{out}");
}
