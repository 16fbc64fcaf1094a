//! How aws-rekey reaches AWS: the proxy and the certificate authorities to
//! trust, read from the environment and the profile as the AWS CLI reads
//! them, and connection failures explained by the setting to look at. The
//! proxying (HTTP CONNECT) and TLS are the SDK's own HTTP client's; which
//! proxy a request takes is `proxy`'s.

use crate::profile::Profiles;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::error::Error;
use std::path::PathBuf;
use thiserror::Error;

mod proxy;
use proxy::{Proxies, Router, ThroughProxy};

/// What the HTTP client is built from. Not `Debug`: the proxy URL may hold
/// a password.
pub struct Network {
    proxies: Proxies,
    tls: TlsContext,
    trust: Trust,
}

/// Where the certificate authorities aws-rekey trusts come from, to say so
/// when a certificate is not trusted.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    /// The CA bundle in use, and where it was set.
    bundle: Option<(PathBuf, String)>,
    /// The profiles whose `ca_bundle` was looked for, in order.
    profiles: Vec<String>,
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
    /// The settings for calls made with the key of profile `name`, reached
    /// through role profile `via` if any: the proxy from `HTTPS_PROXY`,
    /// `HTTP_PROXY` and `NO_PROXY`; the certificate authorities from
    /// `AWS_CA_BUNDLE`, else `ca_bundle` of `name`, else that of `via` (as
    /// `mfa_serial` is found, `Profiles::mfa_serial`), else
    /// `REQUESTS_CA_BUNDLE`, else the system's trust store. A bundle or
    /// proxy URL that cannot be used is an error here, before anything is
    /// sent.
    pub fn for_profile(
        profiles: &Profiles,
        name: &str,
        via: Option<&str>,
    ) -> Result<Self, NetworkError> {
        let looked: Vec<(&str, Option<&str>)> = std::iter::once(name)
            .chain(via.filter(|v| *v != name))
            .map(|p| (p, profiles.setting(p, "ca_bundle")))
            .collect();
        Self::from_vars(&|name| std::env::var(name).ok(), &looked)
    }

    /// `looked`: each profile whose `ca_bundle` counts, in order, with it.
    fn from_vars(
        var: &dyn Fn(&str) -> Option<String>,
        looked: &[(&str, Option<&str>)],
    ) -> Result<Self, NetworkError> {
        // An empty variable is unset (botocore would check no certificate
        // at all: not followed, see README).
        let env = |name: &str| {
            var(name)
                .filter(|v| !v.is_empty())
                .map(|path| (path, name.to_string()))
        };
        let bundle = env("AWS_CA_BUNDLE")
            .or_else(|| {
                looked.iter().find_map(|(profile, bundle)| {
                    bundle
                        .filter(|b| !b.is_empty())
                        .map(|b| (b.to_string(), format!("ca_bundle of profile {profile}")))
                })
            })
            // botocore's last resort (botocore/endpoint.py).
            .or_else(|| env("REQUESTS_CA_BUNDLE"))
            .map(|(path, origin)| (PathBuf::from(path), origin));
        // With a bundle, exactly its certificates are trusted, as in
        // botocore; without one, the system's store (rustls-native-certs,
        // which also honours SSL_CERT_FILE and SSL_CERT_DIR).
        let trust_store = match &bundle {
            Some((path, origin)) => {
                TrustStore::empty().with_pem_certificate(read_bundle(path.clone(), origin.clone())?)
            }
            None => TrustStore::default(),
        };
        let tls = TlsContext::builder()
            .with_trust_store(trust_store)
            .build()
            .map_err(|e| NetworkError::Tls(e.to_string()))?;
        Ok(Network {
            proxies: Proxies::from_vars(var)?,
            tls,
            trust: Trust {
                bundle,
                profiles: looked.iter().map(|(p, _)| p.to_string()).collect(),
            },
        })
    }

    /// Where trust comes from, for `failure`.
    pub fn trust(&self) -> Trust {
        self.trust.clone()
    }

    /// The SDK's HTTPS client (rustls with ring) with these settings, built
    /// as the SDK builds its default one (one connector per timeout
    /// setting): one for direct requests and one per proxy, each request
    /// sent through the one the AWS CLI would use (`proxy`).
    pub fn http_client(&self) -> SharedHttpClient {
        let tls = self.tls.clone();
        let client = move |proxy: ProxyConfig| {
            let tls = tls.clone();
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
        };
        SharedHttpClient::new(Router::new(self.proxies.clone(), client))
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

/// A connection failure explained by the setting it points to.
pub enum Failure {
    /// The TLS handshake failed, most often an untrusted certificate:
    /// nothing was sent.
    Tls(String),
    /// The proxy could not be reached or did not open the tunnel: nothing
    /// was sent.
    Proxy(String),
    /// No answer, on a request sent through a proxy: what to add to the
    /// message (the proxy, and what to check). Whether the request was
    /// sent is not known.
    ThroughProxy(String),
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
/// when a proxy or TLS is the cause or was on the way; `trust` says where
/// the certificate authorities came from.
pub fn failure(err: &(dyn Error + 'static), trust: &Trust) -> Option<Failure> {
    let proxy = chain(err).find_map(|e| e.downcast_ref::<ThroughProxy>());
    // hyper-util's tunnel error is not exported: it is known by its text.
    if let Some(tunnel) = chain(err).find(|e| e.to_string().starts_with("tunnel error: ")) {
        let credentials = if proxy.is_some_and(|p| p.with_credentials) {
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
        let named = proxy.map_or_else(|| "the proxy".to_string(), ThroughProxy::named);
        return Some(Failure::Proxy(format!("{named} {what}")));
    }
    // Only a failed handshake (the SDK's client says so in its own words)
    // proves the request was never sent; a TLS error on a connection
    // already open may come after it was.
    if let Some(tls) = chain(err)
        .find(|e| e.to_string() == "TLS handshake failed")
        .and_then(|h| chain(h).find_map(|e| e.downcast_ref::<rustls::Error>()))
    {
        return Some(Failure::Tls(trust.explain(tls)));
    }
    let proxy = proxy?;
    // The connect timeout covers the way through the proxy: a proxy that
    // never answers CONNECT, or TLS spoken to a plain proxy. (No
    // parentheses: the note goes inside the caller's.)
    let set_in = format!("through the proxy {} set in {}", proxy.shown, proxy.var);
    let note = if !chain(err).any(|e| e.to_string().contains("connect timeout")) {
        set_in
    } else if proxy.shown.starts_with("https://") {
        format!(
            "{set_in}, which did not let the connection through in time: an https:// proxy URL is only for a proxy that itself speaks TLS; most are reached with http://, even for HTTPS traffic"
        )
    } else {
        format!(
            "{set_in}, which did not let the connection through in time: check that it is running and answers as an HTTP proxy"
        )
    };
    Some(Failure::ThroughProxy(note))
}

impl Trust {
    /// A failed handshake explained by where trust came from, and what to
    /// set.
    fn explain(&self, tls: &rustls::Error) -> String {
        let untrusted = matches!(tls, rustls::Error::InvalidCertificate(_));
        match &self.bundle {
            Some((path, origin)) => {
                let why = if untrusted {
                    "the server's certificate is not signed by a certificate authority in"
                } else {
                    "TLS could not be set up with the server, trusting only"
                };
                format!(
                    "TLS handshake failed ({tls}): {why} the CA bundle {} (from {origin}); while a bundle is set, only its certificates are trusted. If a proxy or firewall on your network inspects TLS with its own certificate authority, that file must hold the authority's certificate",
                    path.display()
                )
            }
            None => {
                let why = if untrusted {
                    "the server's certificate is not signed by a certificate authority in the system's trust store"
                } else {
                    "TLS could not be set up with the server, trusting the system's trust store"
                };
                let profiles = if self.profiles.is_empty() {
                    "the profile".to_string()
                } else {
                    format!("profile {}", self.profiles.join(" or "))
                };
                let first = self
                    .profiles
                    .first()
                    .map_or_else(|| "the profile".to_string(), |p| format!("profile {p}"));
                format!(
                    "TLS handshake failed ({tls}): {why} (no CA bundle is set: not AWS_CA_BUNDLE, ca_bundle in {profiles}, nor REQUESTS_CA_BUNDLE). If a proxy or firewall on your network inspects TLS with its own certificate authority, set AWS_CA_BUNDLE (or ca_bundle in {first}) to a PEM file with that authority's certificate; when one is set, only the certificates in that file are trusted"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests;
