//! What the verifying layer leaves in the request, and (feature `axum`) the extractors that
//! read it.
//!
//! After a request passes [`VerifyWebhookLayer`](crate::layer::VerifyWebhookLayer), its
//! extensions hold the [`VerifiedBytes`]: the exact bytes whose signature was checked, and
//! the name of the route's provider. Only the layer (or [`VerifiedBytes::verify`], which
//! verifies) creates them, so whatever reads them reads verified bytes only.
//!
//! | extractor | gives | on failure |
//! |---|---|---|
//! | [`WebhookEvent<E>`] | `E::parse` of the verified bytes | 400 not JSON, 422 wrong shape, 500 layer missing |
//! | [`VerifiedBytes`] | the verified raw body | 500 layer missing |
//! | `VerifiedJson<T>` | your own `T: DeserializeOwned` from the verified body | 400 not JSON, 422 wrong shape, 500 layer missing |
//!
//! Every failure is a [`Rejection`](crate::rejection::Rejection) answered like the layer's
//! own refusals (same [`RejectionResponse`](crate::rejection::RejectionResponse), same log).
//! None of them reads the body, so they combine in one handler.
//!
//! # Where the event is parsed
//!
//! The handler's extractor is the one place that names the event type, so it parses the
//! verified bytes: the layer cannot be configured for another type than the handler
//! expects, there is nothing to mismatch. And verification and parsing are separate steps
//! on purpose: a durable inbox stores the verified bytes and a worker parses them later
//! with the same [`E::parse`](crate::WebhookPayload::parse), so an event type that changed
//! between deploys re-parses stored deliveries instead of losing them. A plain tower or
//! hyper service does the same with `req.extensions().get::<VerifiedBytes>()` and
//! [`VerifiedBytes::parse`].
//!
//! One layer parses too, so that the body is parsed once: the idempotency layer with
//! [`KeySource::railz`](crate::idempotency::KeySource::railz) parses it as
//! [`railz::Event`](crate::railz::Event) to read its key (`requestId`, `data.event`), and
//! leaves the event in the request. The first `WebhookEvent<railz::Event>` behind it takes
//! that event instead of parsing the bytes (and records it in the metrics and the
//! delivery's span as its own parse would); a second one, or any other type
//! (`VerifiedJson<T>`, [`Event`](crate::Event)), parses the bytes as usual, so a handler
//! that takes no `WebhookEvent<railz::Event>` pays for the layer's parse besides its own.
//! A body that `railz::Event` refuses gets the same key from a lighter JSON pass, and the
//! extractor parses it again to refuse it with the reason. The layer's parse is of the
//! same verified bytes with the same `railz::Event::parse`, so the event is the one the
//! extractor would have built.
#![cfg_attr(
    feature = "axum",
    doc = r#"
```
use axum::{Router, routing::post};
use ledgerhook::{extract::{VerifiedJson, WebhookEvent}, layer::VerifyWebhookLayer, railz};

#[derive(serde::Deserialize)]
struct Envelope {
    #[serde(rename = "requestId")]
    request_id: Option<String>,
}

async fn on_railz(
    WebhookEvent(event): WebhookEvent<railz::Event>,
    VerifiedJson(envelope): VerifiedJson<Envelope>,
) -> String {
    format!("{} {:?}", event.tag(), envelope.request_id)
}

# fn app() -> Result<Router, ledgerhook::ConfigError> {
let app = Router::new().route(
    "/webhooks/railz",
    post(on_railz).route_layer(VerifyWebhookLayer::railz("whsec")?),
);
# Ok(app) }
```
"#
)]

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;

use crate::{VerificationError, Verifier};

#[cfg(feature = "axum")]
mod axum;

#[cfg(feature = "axum")]
pub use self::axum::VerifiedJson;

/// The exact body bytes whose signature the verifying layer checked, and the route's
/// provider name.
///
/// The layer inserts it into the request extensions before calling the inner service (with
/// the route's [`Responder`](crate::rejection::Responder), which
/// [`Responder::from_extensions`](crate::rejection::Responder::from_extensions) finds);
/// layers behind it (idempotency, an inbox) and the extractors read it. Dereferences to
/// [`Bytes`]; clones share the buffer.
///
/// It cannot be built from unverified bytes: there is no public constructor but
/// [`verify`](Self::verify).
///
/// ```compile_fail
/// let forged = ledgerhook::VerifiedBytes(bytes::Bytes::from_static(b"{}"));
/// ```
#[derive(Clone)]
pub struct VerifiedBytes {
    bytes: Bytes,
    // Everything the route hands on with its verified bodies (provider name, responder,
    // metric handles) behind one shared pointer, built once per layer: one reference count
    // per request, and one extension insert for the bytes and the responder together.
    route: Arc<RouteContext>,
}

/// What a verifying layer passes on with each verified body, for the extractors and the
/// layers behind it.
#[derive(Debug, Clone)]
pub(crate) struct RouteContext {
    pub(crate) provider: Arc<str>,
    /// How the route answers a refusal; `None` outside a layer (the default responder).
    pub(crate) responder: Option<crate::rejection::Responder>,
    /// The route's metric handles, if its metrics are recorded (read by the extractor and
    /// the idempotency layer).
    #[cfg(feature = "metrics")]
    #[cfg_attr(not(any(feature = "axum", feature = "idempotency")), allow(dead_code))]
    pub(crate) metrics: Option<Arc<crate::observe::RouteMetrics>>,
}

impl RouteContext {
    /// Verified outside a layer: only the provider's name.
    pub(crate) fn standalone(provider: Arc<str>) -> Self {
        Self {
            provider,
            responder: None,
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }
}

impl VerifiedBytes {
    pub(crate) fn new(bytes: Bytes, route: Arc<RouteContext>) -> Self {
        Self { bytes, route }
    }

    /// The responder of the layer that verified these bytes.
    pub(crate) fn responder(&self) -> Option<&crate::rejection::Responder> {
        self.route.responder.as_ref()
    }

    /// The route's metric handles, if its metrics are recorded.
    #[cfg(all(feature = "metrics", any(feature = "axum", feature = "idempotency")))]
    pub(crate) fn metrics(&self) -> Option<&Arc<crate::observe::RouteMetrics>> {
        self.route.metrics.as_ref()
    }

    /// Verifies `bytes` against `headers` with `verifier` and, only if they verify, wraps
    /// them (with the verifier's provider name): for tests and for services that verify
    /// without the layer.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use ledgerhook::{Verifier, extract::VerifiedBytes};
    ///
    /// let verifier = Verifier::railz("railz-signing-secret")?;
    /// let body = bytes::Bytes::from_static(br#"{"data":{"event":"auth"}}"#);
    /// let headers = verifier.sign(&body, SystemTime::now());
    /// let verified = VerifiedBytes::verify(&verifier, &headers, body.clone())?;
    /// assert_eq!(verified.provider(), "railz");
    /// assert_eq!(*verified, body);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The [`VerificationError`] of [`Verifier::verify`].
    pub fn verify(
        verifier: &Verifier,
        headers: &HeaderMap,
        bytes: Bytes,
    ) -> Result<Self, VerificationError> {
        verifier.verify(headers, &bytes)?;
        let provider = verifier.provider();
        Ok(Self::new(
            bytes,
            Arc::new(RouteContext::standalone(Arc::from(provider))),
        ))
    }

    /// The route's provider name, for metrics and logs: the layer's
    /// [`provider`](crate::layer::VerifyWebhookLayer::provider), by default the verifier's
    /// preset (`railz`, `rootfi`, `rootfi_v3`, `bearer`, `shared_secret`, `hmac`).
    #[must_use]
    pub fn provider(&self) -> &str {
        &self.route.provider
    }

    /// The verified bytes.
    #[must_use]
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The verified bytes, owned.
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// Parses the verified bytes into the event type `E` (what [`WebhookEvent<E>`] does).
    ///
    /// # Errors
    /// A [`Rejection`](crate::rejection::Rejection) of kind
    /// [`Payload`](crate::rejection::RejectionKind::Payload): 400 not JSON, 422 wrong shape.
    #[cfg(feature = "events")]
    pub fn parse<E: crate::WebhookPayload>(&self) -> Result<E, crate::rejection::Rejection> {
        E::parse(&self.bytes).map_err(crate::rejection::Rejection::payload)
    }
}

impl fmt::Debug for VerifiedBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedBytes")
            .field("bytes", &self.bytes)
            .field("provider", &self.route.provider)
            .finish()
    }
}

/// The same bytes from the same route (the metric handles play no part).
impl PartialEq for VerifiedBytes {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes && self.route.provider == other.route.provider
    }
}

impl Eq for VerifiedBytes {}

impl Deref for VerifiedBytes {
    type Target = Bytes;

    fn deref(&self) -> &Bytes {
        &self.bytes
    }
}

impl AsRef<[u8]> for VerifiedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// An event already parsed from the [`VerifiedBytes`] of the same request (by the
/// idempotency layer, to find its key), left for the [`WebhookEvent<E>`] extractor to take
/// instead of parsing the bytes again.
#[cfg(feature = "axum")]
#[derive(Debug, Clone)]
pub(crate) struct Parsed<E>(pub(crate) E);

/// A verified webhook event of type `E`.
///
/// With the `axum` feature it is an extractor: it parses the [`VerifiedBytes`] the layer
/// left in the request with `E::parse` (the one place the event type is named), and
/// refuses with 400/422 (not JSON / wrong shape, logged at WARN with the reason) or 500
/// when the layer is missing. `Option<WebhookEvent<E>>` is `None` without the layer.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent<E>(pub E);

impl<E> WebhookEvent<E> {
    /// The event.
    pub fn into_inner(self) -> E {
        self.0
    }
}

impl<E> Deref for WebhookEvent<E> {
    type Target = E;

    fn deref(&self) -> &E {
        &self.0
    }
}

impl<E> DerefMut for WebhookEvent<E> {
    fn deref_mut(&mut self) -> &mut E {
        &mut self.0
    }
}
