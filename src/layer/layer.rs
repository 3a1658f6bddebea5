use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use tower::Layer;

use super::budget::BufferBudget;
use super::defaults::{self, DEFAULT_BODY_TIMEOUT};
use super::explain::FailureExplainer;
use super::service::VerifyWebhook;
use crate::extract::RouteContext;
use crate::observe::RouteObserver;
use crate::rejection::{RejectionResponse, Responder};
use crate::{ConfigError, Secret, Verifier};

/// Layer that applies [`VerifyWebhook`]: header precheck, bounded buffering under a shared
/// budget, signature verification, and [`VerifiedBytes`](crate::extract::VerifiedBytes) in
/// the request for the handler's extractor to parse.
///
/// No type parameter: the event type is named once, by the handler's
/// [`WebhookEvent<E>`](crate::extract::WebhookEvent). See the [module docs](crate::layer)
/// for examples.
#[derive(Clone)]
#[must_use]
pub struct VerifyWebhookLayer {
    config: Arc<Config>,
}

/// Settings shared by the layer and every service (and in-flight future) it builds.
#[derive(Clone)]
pub(super) struct Config {
    pub(super) verifier: Verifier,
    pub(super) provider: Arc<str>,
    pub(super) max_body_size: usize,
    pub(super) body_timeout: Option<Duration>,
    pub(super) require_json: bool,
    pub(super) responder: Responder,
    pub(super) budget: BufferBudget,
    /// Off (`None`) unless [`VerifyWebhookLayer::explain_failures`] turned it on.
    pub(super) explain_failures: Option<Arc<FailureExplainer>>,
    pub(super) observer: RouteObserver,
    /// What admitted requests carry with their verified bytes: derived from the fields
    /// above, rebuilt whenever one of them changes.
    pub(super) route: Arc<RouteContext>,
}

impl VerifyWebhookLayer {
    /// Railz deliveries: `Railz-Signature: t=<ms>,v=<hex>` checked with `secret` (the
    /// endpoint's signing secret from the Railz dashboard); body limit
    /// [`RAILZ_MAX_BODY_SIZE`](super::RAILZ_MAX_BODY_SIZE).
    ///
    /// # Errors
    /// [`ConfigError`] when the secret is empty.
    pub fn railz(secret: impl Into<crate::Secret>) -> Result<Self, ConfigError> {
        Verifier::railz(secret).map(Self::new)
    }

    /// RootFi (Commenda Integrations) v4 deliveries, checked with the webhook's
    /// `signing_key` using the default v4 scheme of [`Verifier::rootfi_v4`]; body limit
    /// [`ROOTFI_MAX_BODY_SIZE`](super::ROOTFI_MAX_BODY_SIZE).
    ///
    /// # Errors
    /// [`ConfigError`] when the secret is empty.
    pub fn rootfi(secret: impl Into<crate::Secret>) -> Result<Self, ConfigError> {
        Verifier::rootfi_v4(secret).map(Self::new)
    }

    /// RootFi v3 deliveries, which carry no signature: the custom header `header` you
    /// configured on the webhook must carry `token` (compared in constant time). Provider
    /// name `rootfi_v3`, body limit [`ROOTFI_MAX_BODY_SIZE`](super::ROOTFI_MAX_BODY_SIZE).
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

    /// `Authorization: Bearer <token>` (Railz's optional bearer authorization); body limit
    /// [`RAILZ_MAX_BODY_SIZE`](super::RAILZ_MAX_BODY_SIZE).
    ///
    /// # Errors
    /// [`ConfigError`] when the token is empty or not visible ASCII.
    pub fn bearer(token: impl Into<Secret>) -> Result<Self, ConfigError> {
        Verifier::bearer(token).map(Self::new)
    }

    /// Verifies with any [`Verifier`], with the defaults for its provider: the body limit
    /// (`railz` 256 KiB, `rootfi` 16 MiB, others 1 MiB), a
    /// [30 s body deadline](super::DEFAULT_BODY_TIMEOUT), the
    /// [process-wide buffer budget](BufferBudget::process_default) and the
    /// [`DefaultRejectionResponse`](crate::rejection::DefaultRejectionResponse).
    pub fn new(verifier: Verifier) -> Self {
        let provider = verifier.provider();
        let max_body_size = defaults::max_body_size_for(provider);
        let provider: Arc<str> = Arc::from(provider);
        let observer = RouteObserver::new(&provider);
        let responder = Responder::default();
        Self {
            config: Arc::new(Config {
                verifier,
                route: route_context(&provider, &responder, &observer),
                observer,
                provider,
                max_body_size,
                body_timeout: Some(DEFAULT_BODY_TIMEOUT),
                require_json: false,
                responder,
                budget: BufferBudget::process_default(),
                explain_failures: None,
            }),
        }
    }

    fn config(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// The route name found in [`VerifiedBytes::provider`](crate::extract::VerifiedBytes::provider),
    /// for metrics and logs (default: the verifier's preset name). Setting it does not
    /// change the body limit.
    pub fn provider(mut self, name: impl Into<Arc<str>>) -> Self {
        let config = self.config();
        config.provider = name.into();
        config.observer = config.observer.renamed(&config.provider);
        config.refresh_route();
        self
    }

    /// Whether this route's deliveries are counted in the [metrics](crate::observe::metrics)
    /// (default `true`; `false` leaves the route out, as if the feature were off).
    #[cfg(feature = "metrics")]
    pub fn record_metrics(mut self, record: bool) -> Self {
        let config = self.config();
        config.observer.record_metrics(&config.provider, record);
        config.refresh_route();
        self
    }

    /// The largest body accepted, in bytes (default per provider, see [`new`](Self::new)).
    ///
    /// A larger `Content-Length` is refused with 413 before the body is read (but only once
    /// the signature header passed the [precheck](crate::Verifier::precheck): other
    /// callers get 401/400 first); a body that streams past the limit is refused with 413
    /// as soon as it does.
    pub fn max_body_size(mut self, limit: usize) -> Self {
        self.config().max_body_size = limit;
        self
    }

    /// Refuses with 408 a request whose body has not fully arrived `timeout` after the
    /// layer started reading it (default [30 s](super::DEFAULT_BODY_TIMEOUT)).
    ///
    /// The deadline uses `tokio::time`: requests are served inside a Tokio runtime with
    /// the time driver enabled, as hyper and axum servers are.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.config().body_timeout = Some(timeout);
        self
    }

    /// No body deadline: only your server's own timeouts bound a slow sender.
    pub fn without_body_timeout(mut self) -> Self {
        self.config().body_timeout = None;
        self
    }

    /// When `true`, refuses with 415 a request whose `Content-Type` is not
    /// `application/json` (or `application/*+json`), before reading the body.
    /// Off by default: the signature, not the content type, proves the sender.
    pub fn require_json_content_type(mut self, require: bool) -> Self {
        self.config().require_json = require;
        self
    }

    /// Shares `budget` between this layer and every other holding a clone of it (default:
    /// [`BufferBudget::process_default`]). See [`BufferBudget`] for sizing.
    pub fn buffer_budget(mut self, budget: BufferBudget) -> Self {
        self.config().budget = budget;
        self
    }

    /// Answers every refusal on this route with `hook`: this layer's, and those of the
    /// idempotency layer and the extractors behind it (the [`Responder`] travels in the
    /// request extensions). The [`Rejection`](crate::rejection::Rejection) is still
    /// inserted into the response extensions and logged.
    pub fn rejection_response(mut self, hook: impl RejectionResponse) -> Self {
        let config = self.config();
        config.responder = Responder::new(hook);
        config.refresh_route();
        self
    }

    /// How often refusals of unauthenticated callers are summarised in one WARN line
    /// (default [`DEFAULT_SUMMARY_INTERVAL`](crate::rejection::DEFAULT_SUMMARY_INTERVAL));
    /// each is also logged at DEBUG. Keeps the hook set by
    /// [`rejection_response`](Self::rejection_response).
    pub fn log_summary_interval(mut self, interval: Duration) -> Self {
        let config = self.config();
        config.responder = config.responder.clone().with_summary_interval(interval);
        config.refresh_route();
        self
    }

    /// Logs why a delivery's signature failed verification (which common mistake would
    /// have made it verify: see [`Verifier::explain`]), at most once per `interval` for
    /// this layer and its clones, at WARN with target `ledgerhook` (needs the `tracing` and
    /// `explain` features, both on by default). Off by default.
    ///
    /// A misconfigured endpoint (a secret with a trailing newline, a body re-serialised
    /// before the layer, ...) then explains itself in its logs. Only deliveries whose
    /// signature header passed the precheck and whose body was read are explained, and at
    /// most one per interval: a flood of forgeries cannot turn the explainer's few hundred
    /// HMACs into a CPU amplifier. The findings never reach the caller and never contain a
    /// secret.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ledgerhook::layer::VerifyWebhookLayer;
    ///
    /// let layer = VerifyWebhookLayer::railz("railz-signing-secret")?
    ///     .explain_failures(Duration::from_secs(60));
    /// # let _ = layer;
    /// # Ok::<(), ledgerhook::ConfigError>(())
    /// ```
    pub fn explain_failures(mut self, interval: Duration) -> Self {
        self.config().explain_failures = Some(Arc::new(FailureExplainer::new(interval)));
        self
    }

    /// The verifier in use. It shares its key ring with every clone, so secrets can be
    /// rotated at runtime through `layer.verifier().keys()` (or through a clone of the
    /// verifier kept before building the layer).
    #[must_use]
    pub fn verifier(&self) -> &Verifier {
        &self.config.verifier
    }

    pub(super) fn shared_config(&self) -> Arc<Config> {
        Arc::clone(&self.config)
    }
}

impl Config {
    fn refresh_route(&mut self) {
        self.route = route_context(&self.provider, &self.responder, &self.observer);
    }
}

fn route_context(
    provider: &Arc<str>,
    responder: &Responder,
    observer: &RouteObserver,
) -> Arc<RouteContext> {
    let _ = observer;
    Arc::new(RouteContext {
        provider: Arc::clone(provider),
        responder: Some(responder.clone()),
        #[cfg(feature = "metrics")]
        metrics: observer.metrics(),
    })
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Verifier`'s own `Debug` redacts its secrets.
        f.debug_struct("Config")
            .field("verifier", &self.verifier)
            .field("provider", &self.provider)
            .field("max_body_size", &self.max_body_size)
            .field("body_timeout", &self.body_timeout)
            .field("require_json_content_type", &self.require_json)
            .field("budget", &self.budget)
            .field("explain_failures", &self.explain_failures)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for VerifyWebhookLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VerifyWebhookLayer")
            .field(&self.config)
            .finish()
    }
}

impl<S> Layer<S> for VerifyWebhookLayer {
    type Service = VerifyWebhook<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyWebhook::from_parts(inner, self.shared_config())
    }
}
