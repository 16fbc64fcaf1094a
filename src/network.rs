//! How aws-rekey reaches AWS: the proxy and the certificate authorities to
//! trust, read from the environment and the profile as the AWS CLI reads
//! them, and connection failures explained by the setting to look at. The
//! proxying (HTTP CONNECT) and TLS are the SDK's own HTTP client's.

use crate::profile::Profiles;
use aws_smithy_http_client::proxy::{ProxyConfig, ProxyError};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::error::Error;
use std::path::PathBuf;
use thiserror::Error;

/// What the HTTP client is built from. Not `Debug`: the proxy URL may hold
/// a password.
pub struct Network {
    proxy: ProxyConfig,
    tls: TlsContext,
}

#[derive(Debug, Error)]
pub enum NetworkError {
    #[error("could not read the CA bundle {path} ({origin}): {source}")]
    Unreadable {
        path: PathBuf,
        origin: String,
        source: std::io::Error,
    },
    #[error(
        "the CA bundle {path} ({origin}) holds no certificate: it must be a PEM file with one or more -----BEGIN CERTIFICATE----- blocks"
    )]
    NoCertificate { path: PathBuf, origin: String },
    #[error("the CA bundle {path} ({origin}) is not a usable PEM certificate file: {detail}")]
    Invalid {
        path: PathBuf,
        origin: String,
        detail: String,
    },
    /// `shown` is the URL without its credentials.
    #[error("{var} is not a proxy URL aws-rekey can use ({shown}): {detail}")]
    Proxy {
        var: String,
        shown: String,
        detail: String,
    },
    #[error("could not set up TLS: {0}")]
    Tls(String),
}

impl Network {
    /// The settings for calls made as `profile`: the proxy from
    /// `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`; the certificate
    /// authorities from `AWS_CA_BUNDLE`, else the profile's `ca_bundle`,
    /// else the system's trust store. A bundle that cannot be used is an
    /// error here, before anything is sent.
    pub fn from_env(profile: &str, profile_ca_bundle: Option<&str>) -> Result<Self, NetworkError> {
        Self::from_vars(&|name| std::env::var(name).ok(), profile, profile_ca_bundle)
    }

    /// The settings for calls made as profile `name` of `profiles` (its
    /// `ca_bundle` read the way the SDKs read a setting).
    pub fn for_profile(profiles: &Profiles, name: &str) -> Result<Self, NetworkError> {
        Self::from_env(name, profiles.setting(name, "ca_bundle"))
    }

    fn from_vars(
        var: &dyn Fn(&str) -> Option<String>,
        profile: &str,
        profile_ca_bundle: Option<&str>,
    ) -> Result<Self, NetworkError> {
        let bundle = match var("AWS_CA_BUNDLE").filter(|v| !v.is_empty()) {
            Some(path) => Some((path, "AWS_CA_BUNDLE".to_string())),
            None => profile_ca_bundle
                .filter(|v| !v.is_empty())
                .map(|path| (path.to_string(), format!("ca_bundle of profile {profile}"))),
        };
        // With a bundle, exactly its certificates are trusted, as in
        // botocore; without one, the system's store (rustls-native-certs,
        // which also honours SSL_CERT_FILE and SSL_CERT_DIR).
        let trust = match bundle {
            Some((path, origin)) => {
                TrustStore::empty().with_pem_certificate(read_bundle(PathBuf::from(path), origin)?)
            }
            None => TrustStore::default(),
        };
        let tls = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .map_err(|e| NetworkError::Tls(e.to_string()))?;
        Ok(Network {
            proxy: proxy_config(var)?,
            tls,
        })
    }

    /// The SDK's HTTPS client (rustls with ring) with these settings, built
    /// as the SDK builds its default one: one connector per timeout setting.
    pub fn http_client(&self) -> SharedHttpClient {
        let proxy = self.proxy.clone();
        let tls = self.tls.clone();
        Builder::new().build_with_connector_fn(move |settings, components| {
            let mut builder = ConnectorBuilder::default()
                .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
                .tls_context(tls.clone());
            builder.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                builder.set_sleep_impl(components.sleep_impl());
            }
            builder.set_proxy_config(Some(proxy.clone()));
            builder.build()
        })
    }
}

/// Reads and checks a CA bundle the way the SDK's client will load it (it
/// panics on what it cannot parse): every PEM certificate block must parse
/// and be usable as a trust anchor, and there must be at least one.
fn read_bundle(path: PathBuf, origin: String) -> Result<Vec<u8>, NetworkError> {
    let pem = match std::fs::read(&path) {
        Ok(pem) => pem,
        Err(source) => {
            return Err(NetworkError::Unreadable {
                path,
                origin,
                source,
            });
        }
    };
    let mut roots = rustls::RootCertStore::empty();
    let mut count = 0;
    for cert in CertificateDer::pem_slice_iter(&pem) {
        count += 1;
        let added = cert.map_err(|e| e.to_string()).and_then(|cert| {
            roots.add(cert).map_err(|e| match e {
                // Not "invalid peer certificate": it is the bundle's.
                rustls::Error::InvalidCertificate(why) => format!("{why:?}"),
                e => e.to_string(),
            })
        });
        if let Err(detail) = added {
            return Err(NetworkError::Invalid {
                path,
                origin,
                detail: format!("certificate {count}: {detail}"),
            });
        }
    }
    if count == 0 {
        return Err(NetworkError::NoCertificate { path, origin });
    }
    Ok(pem)
}

/// A proxy setting as the AWS CLI reads it (urllib's rules): the lower-case
/// variable first, which when set but empty turns the proxy off; then the
/// upper-case one. `ALL_PROXY` is not read, as by the AWS CLI.
fn env_setting(var: &dyn Fn(&str) -> Option<String>, lower: &str) -> Option<(String, String)> {
    match var(lower) {
        Some(value) => (!value.is_empty()).then(|| (lower.to_string(), value)),
        None => {
            let upper = lower.to_uppercase();
            var(&upper)
                .filter(|v| !v.is_empty())
                .map(|value| (upper, value))
        }
    }
}

/// The proxy in use for HTTPS (every AWS endpoint), for messages: the
/// variable it came from, its URL without credentials, and whether it had
/// any.
fn https_proxy(var: &dyn Fn(&str) -> Option<String>) -> Option<(String, String, bool)> {
    let (name, url) = env_setting(var, "https_proxy")?;
    let url = with_scheme(&url);
    let shown = shown(&url);
    let with_credentials = url.len() > shown.len() && url.contains('@');
    Some((name, shown, with_credentials))
}

/// `host:port` means `http://host:port`, as in botocore.
fn with_scheme(url: &str) -> String {
    if url.starts_with("http:") || url.starts_with("https:") || url.contains("://") {
        url.to_string()
    } else if let Some(rest) = url.strip_prefix("//") {
        format!("http://{rest}")
    } else {
        format!("http://{url}")
    }
}

/// The URL as it may be shown: scheme, host and port, never the
/// credentials (everything up to the last `@` of the authority, which also
/// covers an unescaped `@` or `/` in a password).
fn shown(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = host.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{host}")
}

fn proxy_config(var: &dyn Fn(&str) -> Option<String>) -> Result<ProxyConfig, NetworkError> {
    let https = env_setting(var, "https_proxy");
    let http = env_setting(var, "http_proxy");
    let no_proxy = env_setting(var, "no_proxy").map(|(_, v)| v);
    // `*` sends every host directly (the SDK's matcher would apply it to
    // names only, not to addresses).
    if no_proxy.as_deref().map(str::trim) == Some("*") {
        return Ok(ProxyConfig::disabled());
    }
    // The SDK's client takes one proxy; AWS's endpoints are all HTTPS, so
    // HTTPS_PROXY rules, and HTTP_PROXY serves plain-http endpoints (a local
    // emulator) only when no other proxy is set or it is the same one.
    let config = match (&http, &https) {
        (None, None) => return Ok(ProxyConfig::disabled()),
        (Some(h), Some(s)) if with_scheme(&h.1) == with_scheme(&s.1) => {
            proxy(s, ProxyConfig::all::<String>)?
        }
        (_, Some(s)) => proxy(s, ProxyConfig::https::<String>)?,
        (Some(h), None) => proxy(h, ProxyConfig::http::<String>)?,
    };
    Ok(match no_proxy {
        Some(rules) => config.no_proxy(rules),
        None => config,
    })
}

/// The SDK's proxy configuration for `url` (set by variable `name`), or an
/// error that names both, the URL without its credentials.
fn proxy(
    (name, url): &(String, String),
    make: impl FnOnce(String) -> Result<ProxyConfig, ProxyError>,
) -> Result<ProxyConfig, NetworkError> {
    let url = with_scheme(url);
    let visible = shown(&url);
    let bad = |detail: String| NetworkError::Proxy {
        var: name.clone(),
        shown: visible,
        detail,
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(bad(
            "aws-rekey works through HTTP proxies only (http:// or https://)".into(),
        ));
    }
    make(url).map_err(|e| bad(e.to_string()))
}

/// A connection failure explained by the setting it points to.
pub enum Failure {
    /// The TLS handshake failed, most often an untrusted certificate:
    /// nothing was sent.
    Tls(String),
    /// The proxy could not be reached or did not open the tunnel: nothing
    /// was sent.
    Proxy(String),
}

/// Every link of an error chain, including what an `io::Error` wraps
/// (rustls's errors arrive inside one; its `source()` skips them).
fn chain<'a>(err: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(err), |&e| match e.downcast_ref::<std::io::Error>() {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn Error + 'static)),
        None => e.source(),
    })
}

/// What to tell the user about a request that failed without an answer,
/// when a proxy or TLS is the cause.
pub fn failure(err: &(dyn Error + 'static)) -> Option<Failure> {
    failure_with(err, &|name| std::env::var(name).ok())
}

fn failure_with(
    err: &(dyn Error + 'static),
    var: &dyn Fn(&str) -> Option<String>,
) -> Option<Failure> {
    // hyper-util's tunnel error is not exported: it is known by its text.
    if let Some(tunnel) = chain(err).find(|e| e.to_string().starts_with("tunnel error: ")) {
        let (name, proxy, with_credentials) =
            https_proxy(var).unwrap_or_else(|| ("HTTPS_PROXY".into(), "?".into(), false));
        let credentials = if with_credentials {
            "check the user name and password in the proxy URL"
        } else {
            "if it needs credentials, put them in the proxy URL (http://USER:PASSWORD@HOST:PORT)"
        };
        let text = tunnel.to_string();
        let cause = chain(tunnel)
            .skip(1)
            .last()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        let what = if text.contains("authorization required") {
            format!("asked for credentials (407 Proxy Authentication Required): {credentials}")
        } else if text.contains("unsuccessful") {
            // tinyproxy answers wrong credentials with 401, others with 403:
            // hyper-util does not say which.
            format!(
                "refused to open a tunnel to AWS (its answer to CONNECT was not 200): check that it lets HTTPS through to AWS; {credentials}"
            )
        } else if text.contains("underlying connection") {
            format!(
                "could not be reached{cause}: check that it is running, or set NO_PROXY for hosts reached directly"
            )
        } else {
            format!("failed while opening a tunnel to AWS ({text}{cause})")
        };
        return Some(Failure::Proxy(format!(
            "the proxy {proxy} (from {name}) {what}"
        )));
    }
    // Only a failed handshake (the SDK's client says so in its own words)
    // proves the request was never sent; a TLS error on a connection
    // already open may come after it was.
    let handshake = chain(err).find(|e| e.to_string() == "TLS handshake failed")?;
    let tls = chain(handshake).find_map(|e| e.downcast_ref::<rustls::Error>())?;
    let why = match tls {
        rustls::Error::InvalidCertificate(_) => {
            "the server's certificate is not signed by a certificate authority aws-rekey trusts"
        }
        _ => "TLS could not be set up with the server",
    };
    Some(Failure::Tls(format!(
        "TLS handshake failed ({tls}): {why}. If a proxy or firewall on your network inspects TLS with its own certificate authority, set AWS_CA_BUNDLE (or ca_bundle in the profile) to a PEM file with that authority's certificate; when either is set, only the certificates in that file are trusted"
    )))
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // fixtures are written directly
mod tests {
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
}
