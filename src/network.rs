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
mod tests;
