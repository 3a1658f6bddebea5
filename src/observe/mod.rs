//! What the receiver did with each delivery, for operators: one outcome per request that
//! reaches the verifying layer, counted through the `metrics` facade (feature `metrics`)
//! and carried by one `tracing` span per delivery (feature `tracing`).
//!
//! # Outcomes
//!
//! Every request that reaches [`VerifyWebhookLayer`](crate::layer::VerifyWebhookLayer) ends
//! in exactly one [`outcome`], a label from the closed set [`OUTCOMES`]:
//!
//! | outcome | answer |
//! |---|---|
//! | `accepted` | the handler answered `2xx` |
//! | `duplicate` | the idempotency layer answered a completed delivery's retry (`200`) |
//! | `handler_rejected` | the handler answered anything else below `500` (`4xx`, `3xx`) |
//! | `handler_failed` | the handler answered `5xx`, or the inner service returned an error |
//! | every [`RejectionKind::code`](crate::rejection::RejectionKind::code) | the crate refused it: the verifying layer (`missing_signature`, `signature_mismatch`, `stale_timestamp`, `too_large`, `overloaded`, …), the idempotency layer (`in_flight`, `store_unavailable`, `store_full`) or an extractor (`invalid_json`, `invalid_shape`, `missing_layer`) |
//!
//! The outcome is decided once, by the verifying layer's response future when the answer
//! is ready: the refusals of the layers and extractors behind it carry their
//! [`Rejection`] in the response extensions, a duplicate carries the idempotency
//! [`Outcome`](crate::idempotency::Outcome), and anything else is the handler's own answer,
//! classified by status. So a delivery is counted once however many layers it crossed. A
//! request whose connection closed before the answer was ready is not counted.
//!
//! # Metrics (feature `metrics`)
//!
//! Recorded through the [`metrics`](https://docs.rs/metrics) facade: install a recorder
//! (e.g. `metrics-exporter-prometheus`) **before serving** (each route registers its
//! handles on its first delivery and keeps them), and call
//! [`metrics::describe`] once for the help texts. The names and labels are in the
//! [`metrics`] module. Labels are the route's provider name (set by you, or the preset's
//! name), a value of [`OUTCOMES`], an event tag from the crate's fixed set of known tags (or
//! `unknown`) and a store operation: never a secret, a key, body content or anything else a
//! sender chooses.
//!
//! # Tracing (feature `tracing`)
//!
//! The verifying layer opens one INFO span named `webhook` (target `ledgerhook`) per
//! request and polls everything behind it inside that span, so whatever your handler logs
//! carries the span's fields:
//!
//! | field | filled | by |
//! |---|---|---|
//! | `provider` | at once | the verifying layer (the route's provider name) |
//! | `event` | after parsing | the [`WebhookEvent`](crate::extract::WebhookEvent) extractor: the tag of a known event, else `unknown` |
//! | `request_id` | after parsing | the extractor, for Railz events with a `requestId` (visible ASCII only, at most 64 characters) |
//! | `dedup` | when decided | the idempotency layer: its [`Outcome::code`](crate::idempotency::Outcome::code) |
//! | `outcome` | at the end | the verifying layer: the delivery's outcome (above) |
//!
//! To see them, log with `tracing-subscriber`'s `fmt` layer, which prints the fields of the
//! spans an event happens in. `with_span_events(FmtSpan::CLOSE)` also prints one line per
//! request when it ends, with every field: handy while debugging, but forged requests get
//! one too, so it undoes the [rate-limited refusal log](crate::rejection) on an endpoint
//! anyone can reach.
//!
//! ```no_run
//! tracing_subscriber::fmt().with_env_filter("info").init();
//! // A handler's `tracing::info!("stored")` then prints as
//! // INFO webhook{provider="railz" event="auth" request_id="r-1"}: my_app: stored
//! ```
//!
//! The span is created for every request, but costs next to nothing when no subscriber
//! wants INFO spans of target `ledgerhook`; `request_id` is read only when it is enabled.

use http::Response;

use crate::rejection::Rejection;

#[cfg(feature = "metrics")]
pub mod metrics;
mod span;

#[cfg(feature = "metrics")]
pub(crate) use self::metrics::RouteMetrics;
pub(crate) use self::span::DeliverySpan;

/// Every outcome a delivery can end in: the label values of `outcome`.
///
/// The first four are decided from the handler's answer; the others are the
/// [`RejectionKind::code`](crate::rejection::RejectionKind::code) of every refusal the
/// crate gives (see the [module docs](self)).
pub const OUTCOMES: &[&str] = &[
    ACCEPTED,
    DUPLICATE,
    HANDLER_REJECTED,
    HANDLER_FAILED,
    "missing_signature",
    "missing_token",
    "malformed_header",
    "signature_mismatch",
    "token_mismatch",
    "stale_timestamp",
    "future_timestamp",
    "too_large",
    "body_timeout",
    "body_read",
    "unsupported_media_type",
    "invalid_json",
    "invalid_shape",
    "overloaded",
    "in_flight",
    "store_unavailable",
    "store_full",
    "missing_layer",
];

const ACCEPTED: &str = "accepted";
const DUPLICATE: &str = "duplicate";
const HANDLER_REJECTED: &str = "handler_rejected";
const HANDLER_FAILED: &str = "handler_failed";

/// The outcome (a value of [`OUTCOMES`]) of the answer `response`, as the verifying layer
/// counts it: the code of the [`Rejection`] it carries, `duplicate` for the idempotency
/// layer's answer to a retry, else the handler's status class.
///
/// ```
/// use http::{Response, StatusCode};
/// use ledgerhook::observe::outcome;
///
/// let mut response = Response::new(());
/// assert_eq!(outcome(&response), "accepted");
/// *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
/// assert_eq!(outcome(&response), "handler_rejected");
/// ```
#[must_use]
pub fn outcome<B>(response: &Response<B>) -> &'static str {
    let extensions = response.extensions();
    if let Some(rejection) = extensions.get::<Rejection>() {
        return rejection.kind().code();
    }
    #[cfg(feature = "idempotency")]
    if extensions.get::<crate::idempotency::Outcome>()
        == Some(&crate::idempotency::Outcome::Duplicate)
    {
        return DUPLICATE;
    }
    let status = response.status();
    if status.is_success() {
        ACCEPTED
    } else if status.is_server_error() {
        HANDLER_FAILED
    } else {
        HANDLER_REJECTED
    }
}

/// What one verifying layer observes, shared by its services and futures.
#[derive(Debug, Clone)]
pub(crate) struct RouteObserver {
    #[cfg(feature = "metrics")]
    metrics: Option<std::sync::Arc<RouteMetrics>>,
}

impl RouteObserver {
    pub(crate) fn new(provider: &std::sync::Arc<str>) -> Self {
        let _ = provider;
        Self {
            #[cfg(feature = "metrics")]
            metrics: Some(std::sync::Arc::new(RouteMetrics::new(
                std::sync::Arc::clone(provider),
            ))),
        }
    }

    /// The same settings for a route now named `provider`.
    #[must_use]
    pub(crate) fn renamed(&self, provider: &std::sync::Arc<str>) -> Self {
        let _ = provider;
        Self {
            #[cfg(feature = "metrics")]
            metrics: self
                .metrics
                .as_ref()
                .map(|_| std::sync::Arc::new(RouteMetrics::new(std::sync::Arc::clone(provider)))),
        }
    }

    /// Stops (or restarts) recording this route's metrics.
    #[cfg(feature = "metrics")]
    pub(crate) fn record_metrics(&mut self, provider: &std::sync::Arc<str>, record: bool) {
        self.metrics =
            record.then(|| std::sync::Arc::new(RouteMetrics::new(std::sync::Arc::clone(provider))));
    }

    /// The route's metric handles, for the verified bytes to carry to the extractor and the
    /// idempotency layer.
    #[cfg(feature = "metrics")]
    pub(crate) fn metrics(&self) -> Option<std::sync::Arc<RouteMetrics>> {
        self.metrics.clone()
    }

    /// A verified body of `len` bytes is handed on: its size is recorded.
    #[inline]
    pub(crate) fn admitted(&self, len: usize) {
        let _ = len;
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.body_size(len);
        }
    }
}

/// The observation of one request: its span, and when its handler started.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) span: DeliverySpan,
    pub(crate) timer: HandlerTimer,
}

impl Delivery {
    pub(crate) fn start(provider: &str) -> Self {
        Self {
            span: DeliverySpan::new(provider),
            timer: HandlerTimer::default(),
        }
    }

    /// The answer is ready: count it once, record the handler's duration and the outcome.
    pub(crate) fn finish<B, E>(&self, route: &RouteObserver, output: &Result<Response<B>, E>) {
        let decide = || match output {
            Ok(response) => outcome(response),
            Err(_) => HANDLER_FAILED,
        };
        // Nothing to decide when nobody is told (no metrics, the span disabled).
        if self.span.is_enabled() {
            self.span.record_outcome(decide());
        }
        let _ = route;
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &route.metrics {
            let outcome = decide();
            metrics.delivery(outcome);
            if let Some(started) = self.timer.started {
                metrics.handler_duration(started.elapsed());
            }
        }
    }
}

/// When the inner service was called, if the route records metrics (nothing without the
/// `metrics` feature).
#[derive(Debug, Default)]
pub(crate) struct HandlerTimer {
    #[cfg(feature = "metrics")]
    started: Option<quanta::Instant>,
}

impl HandlerTimer {
    pub(crate) fn start(&mut self, route: &RouteObserver) {
        let _ = route;
        #[cfg(feature = "metrics")]
        if route.metrics.is_some() {
            self.started = Some(quanta::Instant::now());
        }
    }
}

/// The verified body `verified` was parsed into `event` by the `WebhookEvent` extractor:
/// count the event by its bounded tag, and record the tag (and the Railz `requestId`) into
/// the span.
#[cfg(feature = "axum")]
pub(crate) fn event_parsed<E: crate::WebhookPayload>(verified: &crate::VerifiedBytes, event: &E) {
    let _ = verified;
    #[cfg(any(feature = "metrics", feature = "tracing"))]
    {
        // A `'static` tag from the fixed set of known tags (`unknown` otherwise): never text
        // from the body.
        let tag = event.metric_tag();
        #[cfg(feature = "metrics")]
        if let Some(metrics) = verified.metrics() {
            metrics.event(tag);
        }
        span::record_event(tag, || request_id(event));
    }
    #[cfg(not(any(feature = "metrics", feature = "tracing")))]
    let _ = event;
}

/// The Railz `requestId` of `event`, if it is a Railz event that has one.
#[cfg(all(feature = "axum", feature = "tracing"))]
fn request_id<E: 'static>(event: &E) -> Option<&str> {
    use std::any::Any;

    let any = event as &dyn Any;
    if let Some(e) = any.downcast_ref::<crate::railz::Event>() {
        return e.request_id();
    }
    match any.downcast_ref::<crate::Event>() {
        Some(crate::Event::Railz(e)) => e.request_id(),
        _ => None,
    }
}

#[cfg(all(feature = "axum", feature = "metrics", not(feature = "tracing")))]
fn request_id<E: 'static>(_: &E) -> Option<&str> {
    None
}

/// The idempotency layer decided `outcome` for the current delivery.
#[cfg(feature = "idempotency")]
pub(crate) fn dedup(outcome: crate::idempotency::Outcome) {
    span::record_dedup(outcome.code());
}

/// Times the idempotency store's calls for the route's metrics (nothing without them).
#[cfg(feature = "idempotency")]
#[derive(Debug, Clone, Default)]
pub(crate) struct StoreTimer {
    #[cfg(feature = "metrics")]
    metrics: Option<std::sync::Arc<RouteMetrics>>,
}

/// An idempotency store operation, the `operation` label of the store latency.
#[cfg(feature = "idempotency")]
#[derive(Debug, Clone, Copy)]
pub(crate) enum StoreOp {
    Begin,
    Complete,
    Release,
}

#[cfg(feature = "idempotency")]
impl StoreTimer {
    pub(crate) fn of(verified: &crate::VerifiedBytes) -> Self {
        let _ = verified;
        Self {
            #[cfg(feature = "metrics")]
            metrics: verified.metrics().cloned(),
        }
    }

    /// Awaits the store call `call`, recording how long it took.
    pub(crate) async fn time<F: std::future::Future>(&self, op: StoreOp, call: F) -> F::Output {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            let started = quanta::Instant::now();
            let output = call.await;
            metrics.store_latency(op, started.elapsed());
            return output;
        }
        let _ = op;
        call.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rejection::RejectionKind;
    use crate::{ParseErrorKind, VerificationErrorKind};

    #[test]
    fn every_refusal_code_is_an_outcome() {
        let kinds = [
            RejectionKind::Verification(VerificationErrorKind::MissingSignature),
            RejectionKind::Verification(VerificationErrorKind::MissingToken),
            RejectionKind::Verification(VerificationErrorKind::InvalidHeader),
            RejectionKind::Verification(VerificationErrorKind::InvalidTimestamp),
            RejectionKind::Verification(VerificationErrorKind::TimestampTooOld),
            RejectionKind::Verification(VerificationErrorKind::TimestampInFuture),
            RejectionKind::Verification(VerificationErrorKind::SignatureMismatch),
            RejectionKind::Verification(VerificationErrorKind::TokenMismatch),
            #[cfg(feature = "events")]
            RejectionKind::Payload(ParseErrorKind::Syntax),
            #[cfg(feature = "events")]
            RejectionKind::Payload(ParseErrorKind::Data),
            RejectionKind::BodyTooLarge,
            RejectionKind::BodyTimeout,
            RejectionKind::BodyRead,
            RejectionKind::UnsupportedMediaType,
            RejectionKind::Overloaded,
            RejectionKind::InFlight,
            RejectionKind::StoreUnavailable,
            RejectionKind::StoreFull,
            RejectionKind::MissingLayer,
        ];
        for kind in kinds {
            // Fails to compile when a kind is added: list it above, and its code in OUTCOMES.
            match kind {
                RejectionKind::Verification(_)
                | RejectionKind::BodyTooLarge
                | RejectionKind::BodyTimeout
                | RejectionKind::BodyRead
                | RejectionKind::UnsupportedMediaType
                | RejectionKind::Overloaded
                | RejectionKind::InFlight
                | RejectionKind::StoreUnavailable
                | RejectionKind::StoreFull
                | RejectionKind::MissingLayer => {}
                #[cfg(feature = "events")]
                RejectionKind::Payload(_) => {}
            }
            assert!(OUTCOMES.contains(&kind.code()), "{kind:?}");
        }
        let mut sorted = OUTCOMES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), OUTCOMES.len(), "no outcome twice");
    }

    #[test]
    fn answers_are_classified_by_rejection_then_status() {
        let mut response = Response::new(());
        assert_eq!(outcome(&response), "accepted");
        *response.status_mut() = http::StatusCode::FOUND;
        assert_eq!(outcome(&response), "handler_rejected");
        *response.status_mut() = http::StatusCode::BAD_GATEWAY;
        assert_eq!(outcome(&response), "handler_failed");
        // A refusal is its code whatever its status.
        response
            .extensions_mut()
            .insert(Rejection::body_too_large(1));
        assert_eq!(outcome(&response), "too_large");
        #[cfg(feature = "idempotency")]
        {
            let mut duplicate = Response::new(());
            duplicate
                .extensions_mut()
                .insert(crate::idempotency::Outcome::Duplicate);
            assert_eq!(outcome(&duplicate), "duplicate");
            let mut processed = Response::new(());
            processed
                .extensions_mut()
                .insert(crate::idempotency::Outcome::Processed);
            assert_eq!(outcome(&processed), "accepted");
        }
    }

    #[cfg(all(feature = "axum", any(feature = "metrics", feature = "tracing")))]
    #[test]
    fn event_labels_are_known_tags_or_unknown() {
        use crate::{railz, rootfi};
        let auth = railz::Event::from_slice(br#"{"data":{"event":"auth"}}"#).unwrap();
        assert_eq!(auth.metric_tag(), "auth");
        let sender_text =
            railz::Event::from_slice(br#"{"data":{"event":"anything at all"}}"#).unwrap();
        assert_eq!(sender_text.metric_tag(), "unknown");
        let v4 =
            rootfi::Event::from_slice(br#"{"event":"connection.changed","company_id":1}"#).unwrap();
        assert_eq!(v4.metric_tag(), "connection.changed");
        let detected =
            crate::Event::from_slice(br#"{"webhook_type":"SYNC_STARTED","company_id":1}"#).unwrap();
        assert_eq!(detected.metric_tag(), "SYNC_STARTED");
        assert_eq!(
            crate::WebhookPayload::metric_tag(&bytes::Bytes::new()),
            "unknown"
        );
    }
}
