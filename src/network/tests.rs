//! Unit tests of `network`.

#![allow(clippy::disallowed_methods)] // fixtures are written directly

use super::*;
use std::collections::HashMap;

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn proxy_variables_are_read_as_the_aws_cli_reads_them() {
    let pick = |pairs: &[(&str, &str)]| https_proxy(&vars(pairs));
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
    // ALL_PROXY is not the AWS CLI's.
    assert_eq!(pick(&[("ALL_PROXY", "socks5://127.0.0.1:1080")]), None);
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
    let err = proxy_config(&vars(&[(
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

#[test]
fn a_failed_handshake_says_what_to_set_but_a_later_tls_error_stays_ambiguous() {
    let handshake = Link(
        "dispatch failure",
        Some(Box::new(Link(
            "TLS handshake failed",
            Some(Box::new(untrusted())),
        ))),
    );
    match failure_with(&handshake, &vars(&[])) {
        Some(Failure::Tls(m)) => {
            assert!(
                m.contains("UnknownIssuer")
                    && m.contains("AWS_CA_BUNDLE")
                    && m.contains("ca_bundle"),
                "{m}"
            )
        }
        _ => panic!("not a TLS failure"),
    }
    // The same rustls error on a connection already open: the request
    // may have been sent, so it is not explained away.
    let later = Link("io error", Some(Box::new(untrusted())));
    assert!(failure_with(&later, &vars(&[])).is_none());
}

#[test]
fn a_tunnel_failure_names_the_proxy_without_its_password() {
    let env = vars(&[("HTTPS_PROXY", "http://me:pa55word@proxy.corp:3128")]);
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    let down = Link(
        "dispatch failure",
        Some(Box::new(Link(
            "tunnel error: failed to create underlying connection",
            Some(Box::new(refused)),
        ))),
    );
    let auth = Link("tunnel error: proxy authorization required", None);
    for (err, needle) in [(&down, "could not be reached"), (&auth, "407")] {
        match failure_with(err, &env) {
            Some(Failure::Proxy(m)) => {
                assert!(
                    m.contains("http://proxy.corp:3128 (from HTTPS_PROXY)"),
                    "{m}"
                );
                assert!(m.contains(needle), "{m}");
                assert!(!m.contains("pa55word"), "{m}");
            }
            _ => panic!("not a proxy failure"),
        }
    }
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
    for path in [&empty, &garbage, &missing] {
        let p = path.to_str().unwrap();
        let from_env = Network::from_vars(&vars(&[("AWS_CA_BUNDLE", p)]), "work", None)
            .err()
            .unwrap()
            .to_string();
        assert!(
            from_env.contains(p) && from_env.contains("AWS_CA_BUNDLE"),
            "{from_env}"
        );
        let from_profile = Network::from_vars(&vars(&[]), "work", Some(p))
            .err()
            .unwrap()
            .to_string();
        assert!(
            from_profile.contains(p) && from_profile.contains("ca_bundle of profile work"),
            "{from_profile}"
        );
    }
    // The environment wins over the profile, and empty means unset.
    let env_wins = Network::from_vars(
        &vars(&[("AWS_CA_BUNDLE", missing.to_str().unwrap())]),
        "work",
        Some(empty.to_str().unwrap()),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(env_wins.contains("missing.pem"), "{env_wins}");
    let profile_then = Network::from_vars(
        &vars(&[("AWS_CA_BUNDLE", "")]),
        "work",
        Some(empty.to_str().unwrap()),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(profile_then.contains("empty.pem"), "{profile_then}");
    assert!(Network::from_vars(&vars(&[]), "work", None).is_ok());
}
