//! Which proxy each request goes through, decided as the AWS CLI decides it
//! (botocore asks urllib): `HTTPS_PROXY` for https endpoints, `HTTP_PROXY`
//! for plain-http ones, `NO_PROXY` matched against the endpoint's
//! `host[:port]` by urllib's rules. The proxying itself (HTTP CONNECT,
//! Basic credentials) is the SDK's own client's: one client per proxy and
//! one direct, and a small router in front that picks one per request.

use super::NetworkError;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use std::fmt;

/// A proxy in use. Its `Debug` shows no credentials.
#[derive(Clone)]
pub(super) struct Proxy {
    /// The variable it was read from, as spelt (`HTTPS_PROXY`, `https_proxy`).
    pub var: String,
    /// Scheme, host and port only: what messages show.
    pub shown: String,
    pub with_credentials: bool,
    /// The URL with its credentials, for the SDK's client only.
    pub url: String,
    config: ProxyConfig,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.shown, self.var)
    }
}

/// The proxy settings of the environment, as urllib reads them.
#[derive(Clone, Debug, Default)]
pub(super) struct Proxies {
    http: Option<Proxy>,
    https: Option<Proxy>,
    no_proxy: Option<String>,
}

impl Proxies {
    /// `ALL_PROXY` is not read, as by the AWS CLI. A URL that cannot be
    /// used is an error naming its variable.
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Result<Self, NetworkError> {
        let read = |lower: &str| -> Result<Option<Proxy>, NetworkError> {
            env_setting(var, lower)
                .map(|(name, url)| proxy(name, &url))
                .transpose()
        };
        Ok(Proxies {
            http: read("http_proxy")?,
            https: read("https_proxy")?,
            no_proxy: env_setting(var, "no_proxy").map(|(_, v)| v),
        })
    }

    /// The proxy for a request to `uri`, as botocore picks it: none when
    /// `NO_PROXY` matches the URL's `host[:port]`, else the one for its
    /// scheme.
    pub fn for_uri(&self, uri: &str) -> Option<&Proxy> {
        let (scheme, rest) = uri.split_once("://")?;
        let netloc = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if self.no_proxy.as_deref().is_some_and(|n| bypass(n, netloc)) {
            return None;
        }
        match scheme.to_ascii_lowercase().as_str() {
            "http" => self.http.as_ref(),
            "https" => self.https.as_ref(),
            _ => None,
        }
    }

    /// Each proxy once (HTTP_PROXY and HTTPS_PROXY are often the same).
    fn distinct(&self) -> Vec<&Proxy> {
        let mut out: Vec<&Proxy> = Vec::new();
        for p in [&self.http, &self.https].into_iter().flatten() {
            if !out.iter().any(|q| same(q, p)) {
                out.push(p);
            }
        }
        out
    }
}

fn same(a: &Proxy, b: &Proxy) -> bool {
    a.url == b.url
}

/// A proxy setting as urllib's `getproxies_environment` reads it: the
/// lower-case variable first, which when set but empty turns the setting
/// off; then the upper-case one.
pub(super) fn env_setting(
    var: &dyn Fn(&str) -> Option<String>,
    lower: &str,
) -> Option<(String, String)> {
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

/// urllib's `proxy_bypass_environment`, which botocore asks with the
/// endpoint URL's `netloc`: `*` alone bypasses every host; otherwise each
/// comma-separated entry (trimmed, leading dots dropped, case ignored)
/// matches the host or the `host:port` exactly, or as a suffix after a
/// dot. Addresses are matched as text: no CIDR ranges, and `0.0.1`
/// matches `127.0.0.1`.
pub(super) fn bypass(no_proxy: &str, netloc: &str) -> bool {
    if no_proxy == "*" {
        return true;
    }
    let host = netloc.to_lowercase();
    let host_only = split_port(&host);
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| name.trim_start_matches('.').to_lowercase())
        .any(|name| {
            let dotted = format!(".{name}");
            host_only == name
                || host == name
                || host_only.ends_with(&dotted)
                || host.ends_with(&dotted)
        })
}

/// urllib's `_splitport`: the text before the last `:` when only digits
/// (or nothing) follow it.
fn split_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// `host:port` means `http://host:port`, as in botocore.
pub(super) fn with_scheme(url: &str) -> String {
    if url.starts_with("http:") || url.starts_with("https:") || url.contains("://") {
        url.to_string()
    } else if let Some(rest) = url.strip_prefix("//") {
        format!("http://{rest}")
    } else {
        format!("http://{url}")
    }
}

/// The URL as it may be shown: scheme, host and port, never the
/// credentials (everything up to the last `@`, which also covers an
/// unescaped `@` or `/` in a password).
pub(super) fn shown(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = host.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{host}")
}

/// The SDK's proxy configuration for `url` (set by variable `var`), or an
/// error that names both, the URL without its credentials.
fn proxy(var: String, url: &str) -> Result<Proxy, NetworkError> {
    let url = with_scheme(url);
    let visible = shown(&url);
    let bad = |detail: &str| NetworkError::Proxy {
        var: var.clone(),
        shown: visible.clone(),
        detail: detail.to_string(),
    };
    let Some((scheme, rest)) = url
        .split_once("://")
        .filter(|(s, _)| *s == "http" || *s == "https")
    else {
        return Err(bad(
            "aws-rekey works through HTTP proxies only (http:// or https://)",
        ));
    };
    let url = match rest.rsplit_once('@') {
        // A `/`, `?` or `#` ends the host part of a URL: in a password it
        // would make the rest of the password the host (the AWS CLI cannot
        // read such a URL either).
        Some((userinfo, _)) if userinfo.contains(['/', '?', '#']) => {
            return Err(bad(
                "its user name or password holds a '/', '?' or '#', which ends the host part of a URL: percent-encode it (%2F, %3F, %23)",
            ));
        }
        // An `@` in a password is read by the AWS CLI up to the last `@`;
        // the SDK's client splits at the first, so it is encoded for it.
        Some((userinfo, host)) if userinfo.contains('@') => {
            format!("{scheme}://{}@{host}", userinfo.replace('@', "%40"))
        }
        _ => url.clone(),
    };
    let with_credentials = rest.contains('@');
    let config = ProxyConfig::all(url.as_str()).map_err(|e| bad(&e.to_string()))?;
    Ok(Proxy {
        var,
        shown: visible,
        with_credentials,
        url,
        config,
    })
}

/// The SDK's client for each way out: directly, and through each proxy.
#[derive(Debug)]
pub(super) struct Router {
    proxies: Proxies,
    direct: SharedHttpClient,
    through: Vec<(Proxy, SharedHttpClient)>,
}

impl Router {
    /// `client` makes the SDK's client for a proxy configuration.
    pub fn new(proxies: Proxies, client: impl Fn(ProxyConfig) -> SharedHttpClient) -> Self {
        let through = proxies
            .distinct()
            .into_iter()
            .map(|p| (p.clone(), client(p.config.clone())))
            .collect();
        Router {
            direct: client(ProxyConfig::disabled()),
            through,
            proxies,
        }
    }
}

impl HttpClient for Router {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        // The clients cache their connectors per settings: this is cheap.
        SharedHttpConnector::new(Routes {
            proxies: self.proxies.clone(),
            direct: self.direct.http_connector(settings, components),
            through: self
                .through
                .iter()
                .map(|(p, c)| (p.clone(), c.http_connector(settings, components)))
                .collect(),
        })
    }

    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.direct.validate_base_client_config(components, cfg)?;
        for (_, c) in &self.through {
            c.validate_base_client_config(components, cfg)?;
        }
        Ok(())
    }

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.direct.validate_final_config(components, cfg)?;
        for (_, c) in &self.through {
            c.validate_final_config(components, cfg)?;
        }
        Ok(())
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.direct.connector_metadata()
    }
}

#[derive(Debug)]
struct Routes {
    proxies: Proxies,
    direct: SharedHttpConnector,
    through: Vec<(Proxy, SharedHttpConnector)>,
}

impl HttpConnector for Routes {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let Some(proxy) = self.proxies.for_uri(request.uri()) else {
            return self.direct.call(request);
        };
        let Some((proxy, connector)) = self.through.iter().find(|(p, _)| same(p, proxy)) else {
            // Every proxy has its client (`Router::new`); were one missing,
            // the request must not slip past the proxy.
            return HttpConnectorFuture::ready(Err(ConnectorError::user(
                format!("no client for the proxy {}", proxy.shown).into(),
            )));
        };
        let proxy = proxy.clone();
        let sent = connector.call(request);
        HttpConnectorFuture::new(async move { sent.await.map_err(|e| through(e, &proxy)) })
    }
}

/// The error of a request that went through a proxy, marked with it, the
/// kind (which the SDK's retries go by) unchanged.
fn through(err: ConnectorError, proxy: &Proxy) -> ConnectorError {
    let connection = err.connection_metadata().cloned();
    let kind = (err.is_timeout(), err.is_io(), err.is_user(), err.as_other());
    let marked: BoxError = Box::new(ThroughProxy {
        var: proxy.var.clone(),
        shown: proxy.shown.clone(),
        with_credentials: proxy.with_credentials,
        source: err.into_source(),
    });
    let err = match kind {
        (true, ..) => ConnectorError::timeout(marked),
        (_, true, ..) => ConnectorError::io(marked),
        (_, _, true, _) => ConnectorError::user(marked),
        (.., other) => ConnectorError::other(marked, other),
    };
    match connection {
        Some(c) => err.with_connection(c),
        None => err,
    }
}

/// A link in an error chain: the request went through this proxy.
#[derive(Debug)]
pub(super) struct ThroughProxy {
    pub var: String,
    pub shown: String,
    pub with_credentials: bool,
    pub source: BoxError,
}

impl ThroughProxy {
    /// "the proxy http://HOST:PORT (from HTTPS_PROXY)".
    pub fn named(&self) -> String {
        format!("the proxy {} (from {})", self.shown, self.var)
    }
}

impl fmt::Display for ThroughProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "through {}", self.named())
    }
}

impl std::error::Error for ThroughProxy {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}
