//! Unit tests of `network`.

#![allow(clippy::disallowed_methods)] // fixtures are written directly

use super::proxy::{Proxies, bypass, shown};
use super::*;
use std::collections::HashMap;

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

const IAM: &str = "https://iam.amazonaws.com/";

/// The proxy an https request goes through: (variable, shown URL, with
/// credentials).
fn https_proxy(pairs: &[(&str, &str)]) -> Option<(String, String, bool)> {
    let proxies = Proxies::from_vars(&vars(pairs)).ok()?;
    proxies
        .for_uri(IAM)
        .map(|p| (p.var.clone(), p.shown.clone(), p.with_credentials))
}

#[test]
fn proxy_variables_are_read_as_the_aws_cli_reads_them() {
    let pick = https_proxy;
    assert_eq!(pick(&[]), None);
    assert_eq!(
        pick(&[("HTTPS_PROXY", "http://upper:3128")]),
        Some(("HTTPS_PROXY".into(), "http://upper:3128".into(), false))
    );
    // Lower case first, as urllib (and so botocore) reads them.
    assert_eq!(
        pick(&[
            ("HTTPS_PROXY", "http://upper:3128"),
            ("https_proxy", "http://lower:3128")
        ]),
        Some(("https_proxy".into(), "http://lower:3128".into(), false))
    );
    // A lower-case variable set empty turns the proxy off.
    assert_eq!(
        pick(&[("HTTPS_PROXY", "http://upper:3128"), ("https_proxy", "")]),
        None
    );
    assert_eq!(pick(&[("HTTPS_PROXY", "")]), None);
    // No scheme means http, as in botocore.
    assert_eq!(
        pick(&[("HTTPS_PROXY", "proxy.corp:8080")]),
        Some(("HTTPS_PROXY".into(), "http://proxy.corp:8080".into(), false))
    );
    assert_eq!(
        pick(&[("HTTPS_PROXY", "me:pw@proxy.corp:8080")]),
        Some(("HTTPS_PROXY".into(), "http://proxy.corp:8080".into(), true))
    );
    // ALL_PROXY is not the AWS CLI's; HTTP_PROXY is for http only.
    assert_eq!(pick(&[("ALL_PROXY", "socks5://127.0.0.1:1080")]), None);
    assert_eq!(pick(&[("HTTP_PROXY", "http://plain:3128")]), None);
}

#[test]
fn each_request_goes_through_the_proxy_of_its_scheme_unless_no_proxy_matches() {
    let proxies = Proxies::from_vars(&vars(&[
        ("HTTPS_PROXY", "http://tls-proxy:3128"),
        ("http_proxy", "http://plain-proxy:3128"),
        ("NO_PROXY", "internal.example, 127.0.0.1:4566"),
    ]))
    .unwrap();
    let via = |uri: &str| proxies.for_uri(uri).map(|p| p.shown.clone());
    assert_eq!(via(IAM).as_deref(), Some("http://tls-proxy:3128"));
    assert_eq!(
        via("http://localhost:4566/").as_deref(),
        Some("http://plain-proxy:3128")
    );
    assert_eq!(
        via("HTTP://LOCALHOST:4566/").as_deref(),
        Some("http://plain-proxy:3128")
    );
    assert_eq!(via("http://127.0.0.1:4566/"), None);
    assert_eq!(via("https://iam.internal.example/x?y"), None);
    assert_eq!(
        via("https://127.0.0.1:4567/").as_deref(),
        Some("http://tls-proxy:3128")
    );
}

/// urllib's proxy_bypass_environment, case by case (each value checked
/// with Python 3.11's urllib).
#[test]
fn no_proxy_matches_as_urllib_matches() {
    for (no_proxy, netloc, want) in [
        ("*", "iam.amazonaws.com", true),
        (" *", "iam.amazonaws.com", false),
        ("example.com,*", "localhost", false),
        ("*.amazonaws.com", "iam.amazonaws.com", false),
        ("amazonaws.com", "iam.amazonaws.com", true),
        (".amazonaws.com", "iam.amazonaws.com", true),
        ("AMAZONAWS.COM", "iam.amazonaws.com", true),
        ("amazonaws.com", "iam.amazonaws.com:443", true),
        ("zonaws.com", "iam.amazonaws.com", false),
        ("127.0.0.1", "127.0.0.1:4566", true),
        ("127.0.0.1:4566", "127.0.0.1:4566", true),
        ("127.0.0.1:1", "127.0.0.1:4566", false),
        ("127.0.0.0/8", "127.0.0.1", false),
        ("0.0.1", "127.0.0.1", true),
        ("localhost:4566", "localhost:4566", true),
        ("localhost:4566", "localhost", false),
        (" , ,localhost", "localhost", true),
        ("..localhost", "localhost", true),
        ("iam.amazonaws.com:443", "iam.amazonaws.com", false),
        ("[::1]", "[::1]:4566", true),
        ("::1", "[::1]:4566", false),
        ("sts.amazonaws.com", "iam.amazonaws.com", false),
        ("host:", "host", false),
    ] {
        assert_eq!(
            bypass(no_proxy, netloc),
            want,
            "NO_PROXY={no_proxy:?} {netloc}"
        );
    }
}

#[test]
fn a_proxy_url_is_shown_without_its_credentials() {
    for (url, want) in [
        ("http://user:pw@proxy:3128", "http://proxy:3128"),
        ("http://user:p@ss/w#rd@proxy:3128/", "http://proxy:3128"),
        ("https://proxy.corp:443/path?x", "https://proxy.corp:443"),
        ("http://user@proxy:3128", "http://proxy:3128"),
    ] {
        assert_eq!(shown(url), want, "{url}");
    }
    let err = Proxies::from_vars(&vars(&[(
        "HTTPS_PROXY",
        "socks5://me:secret-pw@127.0.0.1:1080",
    )]))
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("socks5://127.0.0.1:1080") && err.contains("HTTPS_PROXY"),
        "{err}"
    );
    assert!(!err.contains("secret-pw"), "{err}");
}

#[test]
fn a_delimiter_in_the_proxy_credentials_is_refused_and_an_at_sign_encoded() {
    for url in [
        "http://alice:s3/cr3t@proxy:3128",
        "http://alice:s3?cr3t@proxy:3128",
        "http://alice:s3#cr3t@proxy:3128",
        "http://al/ice:cr3t@proxy:3128",
    ] {
        let err = Proxies::from_vars(&vars(&[("http_proxy", url)]))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("percent-encode") && err.contains("http://proxy:3128"),
            "{url}: {err}"
        );
        assert!(!err.contains("cr3t") && !err.contains("alice"), "{err}");
    }
    // The AWS CLI reads up to the last `@`; the SDK's client would split at
    // the first.
    let proxies =
        Proxies::from_vars(&vars(&[("HTTPS_PROXY", "http://al@ice:p@ss@proxy:3128")])).unwrap();
    let proxy = proxies.for_uri(IAM).unwrap();
    assert_eq!(proxy.url, "http://al%40ice:p%40ss@proxy:3128");
    assert_eq!(proxy.shown, "http://proxy:3128");
    assert!(!format!("{proxy:?}").contains("ss"), "{proxy:?}");
}

/// An error with a fixed text and an optional cause, to stand for the
/// HTTP client's own (private) error types.
#[derive(Debug)]
struct Link(&'static str, Option<Box<dyn Error + Send + Sync>>);
impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
impl Error for Link {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.1.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

fn untrusted() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
    )
}

fn handshake() -> Link {
    Link(
        "dispatch failure",
        Some(Box::new(Link(
            "TLS handshake failed",
            Some(Box::new(untrusted())),
        ))),
    )
}

fn tls_message(err: &Link, trust: &Trust) -> String {
    match failure(err, trust) {
        Some(Failure::Tls(m)) => m,
        _ => panic!("not a TLS failure"),
    }
}

#[test]
fn a_failed_handshake_says_what_to_set_but_a_later_tls_error_stays_ambiguous() {
    let trust = Trust {
        bundle: None,
        profiles: vec!["default".into(), "dev".into()],
    };
    let m = tls_message(&handshake(), &trust);
    assert!(
        m.contains("UnknownIssuer")
            && m.contains("AWS_CA_BUNDLE")
            && m.contains("ca_bundle in profile default or dev")
            && m.contains("REQUESTS_CA_BUNDLE"),
        "{m}"
    );
    // With a bundle: that bundle, and where it was set.
    let trust = Trust {
        bundle: Some(("/etc/corp.pem".into(), "ca_bundle of profile dev".into())),
        profiles: vec!["default".into(), "dev".into()],
    };
    let m = tls_message(&handshake(), &trust);
    assert!(
        m.contains("/etc/corp.pem (from ca_bundle of profile dev)"),
        "{m}"
    );
    // The same rustls error on a connection already open: the request
    // may have been sent, so it is not explained away.
    let later = Link("io error", Some(Box::new(untrusted())));
    assert!(failure(&later, &trust).is_none());
}

fn through(source: Link) -> ThroughProxy {
    ThroughProxy {
        var: "HTTPS_PROXY".into(),
        shown: "http://proxy.corp:3128".into(),
        with_credentials: true,
        source: Box::new(source),
    }
}

#[test]
fn a_tunnel_failure_names_the_proxy_it_went_through() {
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    let down = through(Link(
        "tunnel error: failed to create underlying connection",
        Some(Box::new(refused)),
    ));
    let auth = through(Link("tunnel error: proxy authorization required", None));
    for (err, needle) in [
        (&down, "could not be reached"),
        (
            &auth,
            "407 Proxy Authentication Required): check the user name and password",
        ),
    ] {
        match failure(err, &Trust::default()) {
            Some(Failure::Proxy(m)) => {
                assert!(
                    m.contains("the proxy http://proxy.corp:3128 (from HTTPS_PROXY)"),
                    "{m}"
                );
                assert!(m.contains(needle), "{m}");
            }
            _ => panic!("not a proxy failure"),
        }
    }
    // No answer through a proxy: still no answer, the proxy named.
    let timeout = through(Link(
        "HTTP connect timeout occurred after 5s",
        Some(Box::new(Link("timed out", None))),
    ));
    match failure(&timeout, &Trust::default()) {
        Some(Failure::ThroughProxy(m)) => assert!(
            m.contains("through the proxy http://proxy.corp:3128 set in HTTPS_PROXY")
                && m.contains("in time")
                && !m.contains('('),
            "{m}"
        ),
        _ => panic!("the proxy is not named"),
    }
    assert!(failure(&Link("connection reset", None), &Trust::default()).is_none());
}

#[test]
fn a_bad_ca_bundle_is_an_error_naming_where_it_was_set() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.pem");
    let error = |pairs: &[(&str, &str)], looked: &[(&str, Option<&str>)]| {
        Network::from_vars(&vars(pairs), looked)
            .err()
            .unwrap()
            .to_string()
    };
    for path in [&empty, &garbage, &missing] {
        let p = path.to_str().unwrap();
        let from_env = error(&[("AWS_CA_BUNDLE", p)], &[("work", None)]);
        assert!(
            from_env.contains(p) && from_env.contains("AWS_CA_BUNDLE"),
            "{from_env}"
        );
        let from_profile = error(&[], &[("work", Some(p))]);
        assert!(
            from_profile.contains(p) && from_profile.contains("ca_bundle of profile work"),
            "{from_profile}"
        );
        let from_requests = error(&[("REQUESTS_CA_BUNDLE", p)], &[("work", None)]);
        assert!(
            from_requests.contains(p) && from_requests.contains("REQUESTS_CA_BUNDLE"),
            "{from_requests}"
        );
    }
    let (missing, empty) = (missing.to_str().unwrap(), empty.to_str().unwrap());
    // AWS_CA_BUNDLE, then the key's profile, then the role profile it was
    // reached through, then REQUESTS_CA_BUNDLE; empty means unset.
    type Vars<'a> = &'a [(&'a str, &'a str)];
    type Looked<'a> = &'a [(&'a str, Option<&'a str>)];
    let order: [(Vars, Looked, &str); 5] = [
        (
            &[("AWS_CA_BUNDLE", missing), ("REQUESTS_CA_BUNDLE", empty)],
            &[("default", Some(empty))],
            "missing.pem (AWS_CA_BUNDLE)",
        ),
        (
            &[("AWS_CA_BUNDLE", ""), ("REQUESTS_CA_BUNDLE", missing)],
            &[("default", Some(empty))],
            "empty.pem (ca_bundle of profile default)",
        ),
        (
            &[("REQUESTS_CA_BUNDLE", missing)],
            &[("default", Some(empty)), ("dev", Some(missing))],
            "empty.pem (ca_bundle of profile default)",
        ),
        (
            &[("REQUESTS_CA_BUNDLE", missing)],
            &[("default", None), ("dev", Some(empty))],
            "empty.pem (ca_bundle of profile dev)",
        ),
        (
            &[("AWS_CA_BUNDLE", ""), ("REQUESTS_CA_BUNDLE", empty)],
            &[("default", None)],
            "empty.pem (REQUESTS_CA_BUNDLE)",
        ),
    ];
    for (pairs, looked, want) in order {
        let got = error(pairs, looked);
        assert!(got.contains(want), "{pairs:?} {looked:?}: {got}");
    }
    assert!(Network::from_vars(&vars(&[("REQUESTS_CA_BUNDLE", "")]), &[("work", None)]).is_ok());
}
