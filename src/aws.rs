//! IAM and STS: the few calls the rotation makes, behind a small trait so the
//! protocol can be unit-tested with an in-memory IAM, and errors sorted into
//! what callers decide on.

use crate::network::{self, Network, NetworkError};
use crate::profile::Profiles;
use crate::secret::{AccessKey, Secret};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_runtime::retries::classifiers::THROTTLING_ERRORS;
use aws_sdk_iam::types::StatusType;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use jiff::Timestamp;
use std::time::Duration;
use thiserror::Error;

/// The region to send IAM and STS calls to: the environment, then the
/// profile's own, then us-east-1. The region picks the partition, so a
/// GovCloud or China profile reaches its own IAM.
pub fn region_for(profile_region: Option<&str>) -> String {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .or_else(|| profile_region.map(str::to_owned))
        .unwrap_or_else(|| "us-east-1".to_string())
}

#[derive(Debug, Clone)]
pub struct KeyMeta {
    pub id: String,
    pub active: bool,
    pub created: Option<Timestamp>,
}

#[derive(Debug, Clone, Default)]
pub struct LastUsed {
    pub date: Option<Timestamp>,
    pub service: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug)]
pub struct Created {
    pub key: AccessKey,
    pub created: Timestamp,
}

#[derive(Debug, Error)]
pub enum AwsError {
    /// The key itself was not accepted: deleted, inactive, wrong secret, or
    /// (for a new key) not yet propagated.
    #[error("the key was rejected ({code}): {message}")]
    Rejected { code: String, message: String },
    #[error("access denied: {0}")]
    Denied(String),
    /// AWS answered that the request was throttled (or, with a 503, that it
    /// was shed): it was not executed, and may be tried again after a pause.
    #[error("throttled by AWS ({code}): {message}")]
    Throttled { code: String, message: String },
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    NotFound(String),
    /// No answer: the request may or may not have reached AWS.
    #[error("no answer from AWS ({0}); check the network and re-run")]
    Unreachable(String),
    /// The TLS handshake failed (an untrusted certificate, most often): the
    /// request was never sent. The message says what to set.
    #[error("{0}")]
    Tls(String),
    /// The proxy could not be reached or did not open the tunnel: the
    /// request was never sent. The message names the proxy.
    #[error("{0}")]
    Proxy(String),
    #[error("{code}: {message}")]
    Other {
        code: String,
        message: String,
        /// An answer that does not say whether the request ran: an HTTP 5xx
        /// other than a 503 or throttling (see `classify`).
        server: bool,
    },
}

impl AwsError {
    /// The request may have taken effect although no answer said so (the
    /// rule is `classify`'s).
    pub fn ambiguous(&self) -> bool {
        matches!(
            self,
            AwsError::Unreachable(_) | AwsError::Other { server: true, .. }
        )
    }

    pub fn rejected(&self) -> bool {
        matches!(self, AwsError::Rejected { .. })
    }

    pub fn throttled(&self) -> bool {
        matches!(self, AwsError::Throttled { .. })
    }

    /// Worth another try within a polling loop: a key still propagating, a
    /// lost answer, throttling, or a proxy that did not answer this time.
    pub fn transient(&self) -> bool {
        self.rejected()
            || self.ambiguous()
            || self.throttled()
            || matches!(self, AwsError::Proxy(_))
    }
}

/// Sorts an SDK error into what callers decide on. What matters most is
/// which failures are *ambiguous*: after which CreateAccessKey may have made
/// a key although no answer said so. The rule:
///
/// - Not sent at all (the request could not be built or signed): nothing
///   happened.
/// - An AWS error answer with an HTTP 4xx status (Throttling, LimitExceeded,
///   AccessDenied, a validation error...), or a 4xx without a readable body
///   (a proxy's refusal): the request was refused before it ran. Not
///   ambiguous.
/// - Throttling, by the error codes the SDK itself retries as throttling
///   (whatever the status), and a 503 or `ServiceUnavailable` with a
///   readable AWS error: the request was shed before it ran; worth retrying.
///   Not ambiguous.
/// - Any other 5xx (500 InternalFailure or ServiceFailure, 502, 504), with
///   or without a readable error: ambiguous. IAM describes ServiceFailure as
///   "an unknown error, exception or failure", which does not promise the
///   key was not made, and a 502 or 504 comes from something between
///   aws-rekey and IAM that may have passed the request on. Treating these
///   as ambiguous is cheap (the next CreateAccessKey settles the question,
///   see `rotation`), while the opposite mistake strands a key.
/// - No answer, or an answer that could not be read: a timeout, a reset
///   connection, a dispatch failure, a truncated body. Ambiguous.
fn classify<E>(err: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let Some(code) = ctx.err().code() else {
                // No AWS error to read: only the HTTP status speaks.
                return AwsError::Other {
                    code: format!("HTTP {status}"),
                    message: DisplayErrorContext(&err).to_string(),
                    server: !(400..500).contains(&status),
                };
            };
            let code = code.to_string();
            let message = ctx.err().message().unwrap_or_default().to_string();
            match code.as_str() {
                "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
                | "AuthFailure"
                | "InvalidAccessKeyId"
                | "UnrecognizedClientException" => AwsError::Rejected { code, message },
                "AccessDenied" | "AccessDeniedException" => AwsError::Denied(message),
                "LimitExceeded" => AwsError::LimitExceeded(message),
                "NoSuchEntity" => AwsError::NotFound(message),
                c if THROTTLING_ERRORS.contains(&c)
                    || c == "ServiceUnavailable"
                    || status == 503 =>
                {
                    AwsError::Throttled { code, message }
                }
                _ => AwsError::Other {
                    code,
                    message,
                    server: status >= 500,
                },
            }
        }
        SdkError::ConstructionFailure(_) => AwsError::Other {
            code: "NotSent".into(),
            message: DisplayErrorContext(&err).to_string(),
            server: false,
        },
        SdkError::ResponseError(_) => AwsError::Other {
            code: "UnreadableResponse".into(),
            message: DisplayErrorContext(&err).to_string(),
            server: true,
        },
        _ => match network::failure(&err) {
            Some(network::Failure::Tls(message)) => AwsError::Tls(message),
            Some(network::Failure::Proxy(message)) => AwsError::Proxy(message),
            None => AwsError::Unreachable(root_cause(&err)),
        },
    }
}

/// The last two links of an error chain ("tcp connect error: Connection
/// refused"): what a person can act on, without the SDK's nested Debug.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if chain.last() != Some(&text) {
            chain.push(text);
        }
        current = e.source();
    }
    let start = chain.len().saturating_sub(2);
    chain[start..].join(": ")
}

/// For a delete: a key that is already gone (a retried or repeated
/// delete, or one made by hand) is what the caller wanted.
pub fn not_found_ok(e: AwsError) -> Result<(), AwsError> {
    match e {
        AwsError::NotFound(_) => Ok(()),
        e => Err(e),
    }
}

/// What the rotation needs from IAM and STS. Every call is made with the
/// key it is given, never with credentials found elsewhere.
#[allow(async_fn_in_trait)]
pub trait KeyApi {
    /// The ARN of the key's owner (`sts GetCallerIdentity`).
    async fn caller_arn(&self, key: &AccessKey) -> Result<String, AwsError>;
    /// The caller's own keys (`iam ListAccessKeys`, no user name).
    async fn list_keys(&self, key: &AccessKey) -> Result<Vec<KeyMeta>, AwsError>;
    async fn last_used(&self, key: &AccessKey, id: &str) -> Result<LastUsed, AwsError>;
    /// `iam CreateAccessKey`, one request per call (the SDK does not retry
    /// it): it is not idempotent, and a blind retry after a lost answer could
    /// make a second key whose secret is lost too. The rotation decides when
    /// another may be sent (`rotation::create`).
    async fn create_key(&self, key: &AccessKey) -> Result<Created, AwsError>;
    async fn delete_key(&self, key: &AccessKey, id: &str) -> Result<(), AwsError>;
    async fn set_active(&self, key: &AccessKey, id: &str, active: bool) -> Result<(), AwsError>;
}

/// How long a connection may take to open, and one attempt to be answered.
/// Each CreateAccessKey is one attempt (no SDK retries), so these two bound
/// how long after it was sent IAM can have created a key whose answer was
/// lost.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);

/// The AWS SDK, configured the standard way for a profile: its region,
/// `AWS_ENDPOINT_URL*` and the profile's endpoint settings (`endpoint_url`,
/// `use_fips_endpoint`, `use_dualstack_endpoint` and their environment
/// variables) are honoured by the SDK's own loader; the proxy and CA bundle
/// come in `network`; only the credentials are set here, per call.
pub struct Sdk {
    base: SdkConfig,
    /// An MFA session (`sts GetSessionToken`): when set, every IAM call is
    /// signed with it, for policies that deny key management without MFA.
    /// STS calls (verification) still use the key they are given.
    session: Option<Credentials>,
}

impl Sdk {
    async fn new(profile: &str, region: &str, network: &Network) -> Self {
        let http = network.http_client();
        let base = aws_config::defaults(BehaviorVersion::latest())
            .profile_name(profile)
            .region(Region::new(region.to_string()))
            // A placeholder: each call gets the key it must be signed with.
            .credentials_provider(Credentials::new("unset", "unset", None, None, "aws-rekey"))
            .http_client(http)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .load()
            .await;
        Sdk {
            base,
            session: None,
        }
    }

    /// The SDK for a profile: its region (`region_for`), its endpoints, its
    /// proxy and CA bundle. Every command that talks to AWS gets its client
    /// here. A CA bundle or proxy URL that cannot be used is an error before
    /// anything is sent.
    pub async fn for_profile(
        profiles: &Profiles,
        profile: &str,
        region: Option<&str>,
    ) -> Result<Self, NetworkError> {
        let network = Network::for_profile(profiles, profile)?;
        Ok(Self::with_network(profile, region, &network).await)
    }

    /// The same, with the profile's network settings already read (status
    /// reads them with its other checks, to refuse a profile up front).
    pub async fn with_network(profile: &str, region: Option<&str>, network: &Network) -> Self {
        Sdk::new(profile, &region_for(region), network).await
    }

    /// Signs every IAM call from now on with this MFA session.
    pub fn use_session(&mut self, session: Credentials) {
        self.session = Some(session);
    }

    /// Gets an MFA session (`sts GetSessionToken`) with `key`.
    pub async fn mfa_session(
        &self,
        key: &AccessKey,
        serial: &str,
        code: &str,
    ) -> Result<Credentials, AwsError> {
        let out = self
            .sts(key)
            .get_session_token()
            .serial_number(serial)
            .token_code(code)
            // Long enough for a slow propagation and a retry, no longer.
            .duration_seconds(900)
            .send()
            .await
            .map_err(classify)?;
        let creds = out.credentials().ok_or_else(|| AwsError::Other {
            code: "NoCredentials".into(),
            message: "GetSessionToken returned no credentials".into(),
            server: true,
        })?;
        Ok(Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_string()),
            None,
            "aws-rekey-mfa",
        ))
    }

    fn credentials(key: &AccessKey) -> Credentials {
        Credentials::new(
            key.id.clone(),
            key.secret.expose().to_string(),
            None,
            None,
            "aws-rekey",
        )
    }

    fn iam(&self, key: &AccessKey) -> aws_sdk_iam::Client {
        let creds = match &self.session {
            Some(session) => session.clone(),
            None => Self::credentials(key),
        };
        let conf = aws_sdk_iam::config::Builder::from(&self.base)
            .credentials_provider(creds)
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    fn sts(&self, key: &AccessKey) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::config::Builder::from(&self.base)
            .credentials_provider(Self::credentials(key))
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }
}

fn timestamp(dt: &aws_smithy_types::DateTime) -> Option<Timestamp> {
    Timestamp::new(dt.secs(), dt.subsec_nanos() as i32).ok()
}

impl KeyApi for Sdk {
    async fn caller_arn(&self, key: &AccessKey) -> Result<String, AwsError> {
        let out = self
            .sts(key)
            .get_caller_identity()
            .send()
            .await
            .map_err(classify)?;
        out.arn().map(str::to_owned).ok_or_else(|| AwsError::Other {
            code: "NoArn".into(),
            message: "GetCallerIdentity returned no ARN".into(),
            server: false,
        })
    }

    async fn list_keys(&self, key: &AccessKey) -> Result<Vec<KeyMeta>, AwsError> {
        let out = self
            .iam(key)
            .list_access_keys()
            .send()
            .await
            .map_err(classify)?;
        Ok(out
            .access_key_metadata()
            .iter()
            .filter_map(|m| {
                Some(KeyMeta {
                    id: m.access_key_id()?.to_string(),
                    active: m.status() == Some(&StatusType::Active),
                    created: m.create_date().and_then(timestamp),
                })
            })
            .collect())
    }

    async fn last_used(&self, key: &AccessKey, id: &str) -> Result<LastUsed, AwsError> {
        let out = self
            .iam(key)
            .get_access_key_last_used()
            .access_key_id(id)
            .send()
            .await
            .map_err(classify)?;
        let used = out.access_key_last_used();
        let known = |s: &str| (!s.is_empty() && s != "N/A").then(|| s.to_string());
        Ok(LastUsed {
            date: used.and_then(|u| u.last_used_date()).and_then(timestamp),
            service: used.and_then(|u| known(u.service_name())),
            region: used.and_then(|u| known(u.region())),
        })
    }

    async fn create_key(&self, key: &AccessKey) -> Result<Created, AwsError> {
        let out = self
            .iam(key)
            .create_access_key()
            .customize()
            .config_override(
                aws_sdk_iam::config::Builder::default().retry_config(RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(classify)?;
        let created = out.access_key().ok_or_else(|| AwsError::Other {
            code: "NoAccessKey".into(),
            message: "CreateAccessKey returned no key".into(),
            server: true,
        })?;
        Ok(Created {
            key: AccessKey::new(
                created.access_key_id(),
                Secret::new(created.secret_access_key()),
            ),
            created: created
                .create_date()
                .and_then(timestamp)
                .unwrap_or_else(Timestamp::now),
        })
    }

    async fn delete_key(&self, key: &AccessKey, id: &str) -> Result<(), AwsError> {
        self.iam(key)
            .delete_access_key()
            .access_key_id(id)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn set_active(&self, key: &AccessKey, id: &str, active: bool) -> Result<(), AwsError> {
        let status = if active {
            StatusType::Active
        } else {
            StatusType::Inactive
        };
        self.iam(key)
            .update_access_key()
            .access_key_id(id)
            .status(status)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
