//! An HTTP client for RootFi's webhook management APIs (feature `setup-client`): HTTP/1
//! over rustls with the system's root certificates, no OpenSSL.
//!
//! ```no_run
//! use ledgerhook::rootfi::WebhookType;
//! use ledgerhook::setup::client::RootfiClient;
//! use ledgerhook::setup::rootfi::{SigningKey, v4::CreateWebhookConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = RootfiClient::v4(std::env::var("ROOTFI_API_KEY")?)?;
//! let key = SigningKey::new(std::env::var("ROOTFI_WEBHOOK_SECRET")?)?;
//! let config = CreateWebhookConfig::new(WebhookType::SyncCompleted, "syncs", "https://example.com/webhooks/rootfi")
//!     .signing_key(key.clone());
//! let created = client.create_webhook_config(&config).await?;
//! println!("config {} ({})", created.config.rootfi_id, created.request_id);
//! let verifier = created.config.verifier(&key)?; // for the receiver
//! # drop(verifier);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;

use super::SetupError;
use super::rootfi::{v3, v4};
use crate::Secret;

/// RootFi's v3 API host.
pub const V3_BASE_URL: &str = "https://api.rootfi.dev";
/// RootFi's (Commenda Integrations) v4 API host.
pub const V4_BASE_URL: &str = "https://api.integrations.commenda.io";

/// The largest answer read (the documented ones are well under 1 KiB).
const MAX_RESPONSE: usize = 1024 * 1024;
/// How much of a refusal's body an error keeps.
const MAX_ERROR_BODY: usize = 2048;
/// Deadline for one request, connection included.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a management API call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The request was refused before sending (see [`SetupError`]).
    Invalid(SetupError),
    /// The base URL is not an absolute `http(s)` URL without query.
    InvalidBaseUrl,
    /// The API key is empty or cannot be sent in a header.
    InvalidApiKey,
    /// The system's root certificates could not be loaded.
    Tls(std::io::Error),
    /// Connecting, sending or reading failed.
    Transport(Box<dyn std::error::Error + Send + Sync>),
    /// No answer within the deadline (30 s).
    Timeout,
    /// RootFi answered with a non-success status.
    Status {
        /// The status.
        status: StatusCode,
        /// The start of the answer's body, as text.
        body: String,
    },
    /// A success answer that is not the documented JSON.
    Decode {
        /// The status.
        status: StatusCode,
        /// The parse error.
        error: serde_json::Error,
    },
}

impl ClientError {
    /// A stable, machine-readable code for this error.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(err) => err.code(),
            Self::InvalidBaseUrl => "invalid_base_url",
            Self::InvalidApiKey => "invalid_api_key",
            Self::Tls(_) => "tls",
            Self::Transport(_) => "transport",
            Self::Timeout => "timeout",
            Self::Status { .. } => "status",
            Self::Decode { .. } => "decode",
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(err) => write!(f, "invalid request: {err}"),
            Self::InvalidBaseUrl => f.write_str("the base URL must be an absolute http(s) URL"),
            Self::InvalidApiKey => f.write_str("the API key is empty or not a valid header value"),
            Self::Tls(err) => write!(f, "cannot load the system's root certificates: {err}"),
            Self::Transport(err) => write!(f, "request failed: {err}"),
            Self::Timeout => write!(f, "no answer within {} s", TIMEOUT.as_secs()),
            Self::Status { status, body } => write!(f, "RootFi answered {status}: {body}"),
            Self::Decode { status, error } => {
                write!(
                    f,
                    "RootFi answered {status} with an unexpected body: {error}"
                )
            }
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Invalid(err) => Some(err),
            Self::Tls(err) => Some(err),
            Self::Transport(err) => Some(&**err),
            Self::Decode { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<SetupError> for ClientError {
    fn from(err: SetupError) -> Self {
        Self::Invalid(err)
    }
}

/// A client for one RootFi API host, authenticated with an `api_key`. Cheap to clone.
/// `Debug` hides the key.
#[derive(Clone)]
pub struct RootfiClient {
    base_url: String,
    api_key: Secret,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl fmt::Debug for RootfiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootfiClient")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

impl RootfiClient {
    /// A client for the API at `base_url` (scheme and host, optionally a path prefix; the
    /// documented paths such as `/v4/core/webhook-config` are appended).
    ///
    /// # Errors
    /// [`ClientError::InvalidBaseUrl`], [`ClientError::InvalidApiKey`], or
    /// [`ClientError::Tls`] when no root certificate can be loaded.
    pub fn new(base_url: &str, api_key: impl AsRef<[u8]>) -> Result<Self, ClientError> {
        let uri: http::Uri = base_url.parse().map_err(|_| ClientError::InvalidBaseUrl)?;
        if !matches!(uri.scheme_str(), Some("http" | "https"))
            || uri.host().is_none_or(str::is_empty)
            || uri.query().is_some()
        {
            return Err(ClientError::InvalidBaseUrl);
        }
        let api_key = Secret::new(api_key.as_ref()).map_err(|_| ClientError::InvalidApiKey)?;
        HeaderValue::from_bytes(api_key.expose()).map_err(|_| ClientError::InvalidApiKey)?;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(ClientError::Tls)?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            http: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// A client for RootFi v3 ([`V3_BASE_URL`]).
    ///
    /// # Errors
    /// As for [`new`](Self::new).
    pub fn v3(api_key: impl AsRef<[u8]>) -> Result<Self, ClientError> {
        Self::new(V3_BASE_URL, api_key)
    }

    /// A client for RootFi v4 ([`V4_BASE_URL`]).
    ///
    /// # Errors
    /// As for [`new`](Self::new).
    pub fn v4(api_key: impl AsRef<[u8]>) -> Result<Self, ClientError> {
        Self::new(V4_BASE_URL, api_key)
    }

    /// The base URL requests go to.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /v3/core/webhooks`; RootFi answers the webhook itself.
    ///
    /// # Errors
    /// A [`ClientError`]; nothing is sent when the webhook does not validate.
    pub async fn create_webhook_v3(
        &self,
        webhook: &v3::WebhookRequest,
    ) -> Result<v3::Webhook, ClientError> {
        let body = webhook.create_body()?;
        self.call(Method::POST, v3::PATH.to_owned(), Some(body))
            .await
    }

    /// `PUT /v3/core/webhooks/{webhook_id}` with every field; RootFi answers `{"data": ...}`,
    /// returned unwrapped.
    ///
    /// # Errors
    /// A [`ClientError`]; [`SetupError::UnsupportedValue`] for an id that is not
    /// alphanumeric (with `-`/`_`).
    pub async fn update_webhook_v3(
        &self,
        webhook_id: &str,
        webhook: &v3::WebhookRequest,
    ) -> Result<v3::Webhook, ClientError> {
        if webhook_id.is_empty()
            || !webhook_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(SetupError::UnsupportedValue {
                field: "webhook_id",
                value: webhook_id.to_owned(),
            }
            .into());
        }
        let body = webhook.update_body()?;
        let path = format!("{}/{webhook_id}", v3::PATH);
        let answer: v3::UpdateResponse = self.call(Method::PUT, path, Some(body)).await?;
        Ok(answer.data)
    }

    /// `POST /v4/core/webhook-config`; RootFi answers `201` with the config.
    ///
    /// # Errors
    /// A [`ClientError`]; nothing is sent when the config does not validate.
    pub async fn create_webhook_config(
        &self,
        config: &v4::CreateWebhookConfig,
    ) -> Result<v4::ConfigResponse, ClientError> {
        let body = config.body()?;
        self.call(Method::POST, v4::PATH.to_owned(), Some(body))
            .await
    }

    /// `PUT /v4/core/webhook-config/{webhookConfigId}` with the fields set.
    ///
    /// # Errors
    /// A [`ClientError`]; nothing is sent when the update does not validate.
    pub async fn update_webhook_config(
        &self,
        config_id: u64,
        update: &v4::UpdateWebhookConfig,
    ) -> Result<v4::ConfigResponse, ClientError> {
        let body = update.body()?;
        let path = format!("{}/{config_id}", v4::PATH);
        self.call(Method::PUT, path, Some(body)).await
    }

    /// `DELETE /v4/core/webhook-config/{webhookConfigId}`; RootFi answers `204`.
    ///
    /// # Errors
    /// A [`ClientError`].
    pub async fn delete_webhook_config(&self, config_id: u64) -> Result<(), ClientError> {
        let path = format!("{}/{config_id}", v4::PATH);
        self.send(Method::DELETE, path, None).await.map(drop)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        body: Option<serde_json::Value>,
    ) -> Result<T, ClientError> {
        let (status, bytes) = self.send(method, path, body).await?;
        serde_json::from_slice(&bytes).map_err(|error| ClientError::Decode { status, error })
    }

    async fn send(
        &self,
        method: Method,
        path: String,
        body: Option<serde_json::Value>,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let mut api_key = HeaderValue::from_bytes(self.api_key.expose())
            .map_err(|_| ClientError::InvalidApiKey)?;
        api_key.set_sensitive(true);
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base_url))
            .header("api_key", api_key)
            .header(header::ACCEPT, "application/json");
        let payload = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(payload))
            .map_err(|_| ClientError::InvalidBaseUrl)?;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| ClientError::Transport(e.into()))?;
            let status = response.status();
            let bytes = Limited::new(response.into_body(), MAX_RESPONSE)
                .collect()
                .await
                .map_err(ClientError::Transport)?
                .to_bytes();
            Ok::<_, ClientError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| ClientError::Timeout)??;
        if !status.is_success() {
            let end = bytes.len().min(MAX_ERROR_BODY);
            return Err(ClientError::Status {
                status,
                body: String::from_utf8_lossy(&bytes[..end]).into_owned(),
            });
        }
        Ok((status, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_and_api_key_are_checked() {
        assert!(matches!(
            RootfiClient::new("api.rootfi.dev", "k"),
            Err(ClientError::InvalidBaseUrl)
        ));
        assert!(matches!(
            RootfiClient::new("ftp://h", "k"),
            Err(ClientError::InvalidBaseUrl)
        ));
        assert!(matches!(
            RootfiClient::new("http://h/?q=1", "k"),
            Err(ClientError::InvalidBaseUrl)
        ));
        assert!(matches!(
            RootfiClient::new("http://h", ""),
            Err(ClientError::InvalidApiKey)
        ));
        assert!(matches!(
            RootfiClient::new("http://h", "a\nb"),
            Err(ClientError::InvalidApiKey)
        ));
        let client = RootfiClient::new("http://127.0.0.1:1/", "the-api-key").unwrap();
        assert_eq!(client.base_url(), "http://127.0.0.1:1");
        assert!(!format!("{client:?}").contains("the-api-key"));
    }
}
