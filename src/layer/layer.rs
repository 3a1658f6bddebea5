use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderName;
use tower::Layer;

use super::service::{Config, VerifyWebhook};
use crate::rejection::DefaultRejectionResponse;
use crate::{ConfigError, Verifier, WebhookPayload, railz, rootfi};

/// Default body limit: 8 MiB. See [`VerifyWebhookLayer::max_body_size`].
pub const DEFAULT_MAX_BODY_SIZE: usize = 8 * 1024 * 1024;

/// Layer that applies [`VerifyWebhook`]: bounded buffering, signature verification and
/// parsing into the event type `E`, with refusals answered by `R`.
///
/// See the [module docs](crate::layer) for examples.
#[must_use]
pub struct VerifyWebhookLayer<E, R = DefaultRejectionResponse> {
    config: Config<R>,
    _event: PhantomData<fn() -> E>,
}

impl VerifyWebhookLayer<railz::Event> {
    /// Railz deliveries: `Railz-Signature: t=<ms>,v=<hex>` checked with `secret` (the
    /// endpoint's signing secret from the Railz dashboard), parsed into [`railz::Event`].
    ///
    /// # Errors
    /// [`ConfigError`] when the secret is empty.
    pub fn railz(secret: impl Into<crate::Secret>) -> Result<Self, ConfigError> {
        Verifier::railz(secret).map(Self::new)
    }
}

impl VerifyWebhookLayer<rootfi::Event> {
    /// RootFi (Commenda Integrations) v4 deliveries, checked with the webhook's
    /// `signing_key` using the default v4 scheme of [`Verifier::rootfi_v4`], parsed into
    /// [`rootfi::Event`].
    ///
    /// # Errors
    /// [`ConfigError`] when the secret is empty.
    pub fn rootfi(secret: impl Into<crate::Secret>) -> Result<Self, ConfigError> {
        Verifier::rootfi_v4(secret).map(Self::new)
    }

    /// RootFi v3 deliveries, which carry no signature: the custom header `header` you
    /// configured on the webhook must carry `token` (compared in constant time).
    ///
    /// Note that some proxies (nginx by default) drop header names with underscores such as
    /// `api_key`.
    ///
    /// # Errors
    /// [`ConfigError`] when `header` is not a valid header name,
    /// [`ConfigError`] when the token is empty.
    pub fn rootfi_v3<H>(header: H, token: impl Into<crate::Secret>) -> Result<Self, ConfigError>
    where
        H: TryInto<HeaderName>,
    {
        Verifier::rootfi_v3(token)?
            .with_header(header)
            .map(Self::new)
    }
}

impl<E: WebhookPayload> VerifyWebhookLayer<E> {
    /// Verifies with any [`Verifier`] and parses into `E`, with the default settings.
    ///
    /// Name the event type when it cannot be inferred:
    /// `VerifyWebhookLayer::<ledgerhook::Event>::new(verifier)`, or use `Bytes` (see
    /// [`verify_only`](Self::verify_only)) to skip parsing.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            config: Config {
                verifier,
                max_body_size: DEFAULT_MAX_BODY_SIZE,
                body_timeout: None,
                require_json: false,
                rejection_response: DefaultRejectionResponse,
            },
            _event: PhantomData,
        }
    }
}

impl<E, R> VerifyWebhookLayer<E, R> {
    /// The largest body accepted, in bytes (default [`DEFAULT_MAX_BODY_SIZE`], 8 MiB).
    ///
    /// A larger `Content-Length` is refused with 413 before the body is read (but only once
    /// the signature header is present and well-formed, or the shared-secret token right:
    /// other callers get 401/400 first); a body that streams past the limit is refused with
    /// 413 as soon as it does. The limit bounds the
    /// memory one request can hold, since the whole body must be buffered to check its
    /// signature.
    ///
    /// The default is four times axum's 2 MiB because RootFi `DATA_MODEL_CHANGES`
    /// deliveries carry whole batches of unified records (every record again as `UPDATE`
    /// on a full sync) and RootFi documents no page size; Railz bodies are a few KiB.
    /// Lower it if you know your deliveries are small, and bound concurrency (e.g.
    /// `tower::limit::ConcurrencyLimitLayer`) to bound total memory.
    pub fn max_body_size(mut self, limit: usize) -> Self {
        self.config.max_body_size = limit;
        self
    }

    /// Refuses with 408 a request whose body has not fully arrived `timeout` after the
    /// layer started reading it. Off by default (your server's own timeouts apply).
    ///
    /// # Panics
    /// The deadline uses `tokio::time`: requests must then be served inside a Tokio
    /// runtime with the time driver enabled, as hyper and axum servers are.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.config.body_timeout = Some(timeout);
        self
    }

    /// When `true`, refuses with 415 a request whose `Content-Type` is not
    /// `application/json` (or `application/*+json`), before reading the body.
    /// Off by default: the signature, not the content type, proves the sender.
    pub fn require_json_content_type(mut self, require: bool) -> Self {
        self.config.require_json = require;
        self
    }

    /// Replaces the response sent for refused requests, e.g. with a closure
    /// `Fn(&Rejection) -> Response<B>`. The [`Rejection`](crate::rejection::Rejection)
    /// is still inserted into the response extensions and logged.
    pub fn with_rejection_response<R2>(self, rejection_response: R2) -> VerifyWebhookLayer<E, R2> {
        let Config {
            verifier,
            max_body_size,
            body_timeout,
            require_json,
            ..
        } = self.config;
        VerifyWebhookLayer {
            config: Config {
                verifier,
                max_body_size,
                body_timeout,
                require_json,
                rejection_response,
            },
            _event: PhantomData,
        }
    }

    /// Verifies without parsing: the inner service gets the verified bytes only
    /// (`WebhookEvent<Bytes>` and [`VerifiedBytes`](crate::VerifiedBytes) in the extensions).
    pub fn verify_only(self) -> VerifyWebhookLayer<Bytes, R> {
        VerifyWebhookLayer {
            config: self.config,
            _event: PhantomData,
        }
    }

    /// The verifier in use. It shares its key ring with every clone, so secrets can be
    /// rotated at runtime through `layer.verifier().keys()` (or through a clone of the
    /// verifier kept before building the layer).
    #[must_use]
    pub fn verifier(&self) -> &Verifier {
        &self.config.verifier
    }

    pub(super) fn into_config(self) -> Config<R> {
        self.config
    }
}

impl<E, R: Clone> Clone for VerifyWebhookLayer<E, R> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            _event: PhantomData,
        }
    }
}

impl<E, R> fmt::Debug for VerifyWebhookLayer<E, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("VerifyWebhookLayer");
        d.field("event", &std::any::type_name::<E>());
        self.config.fmt_fields(&mut d);
        d.finish()
    }
}

impl<S, E, R: Clone> Layer<S> for VerifyWebhookLayer<E, R> {
    type Service = VerifyWebhook<S, E, R>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyWebhook::from_parts(inner, Arc::new(self.config.clone()))
    }
}
