//! The tower layer that refuses every webhook the provider did not sign.
//!
//! [`VerifyWebhookLayer`] wraps a service (an axum route, a hyper service, any tower
//! stack). For each request [`VerifyWebhook`]:
//!
//! 1. looks at the headers only, without reading the body, and refuses the request
//!    - with 401 or 400 if [`Verifier::precheck`](crate::Verifier::precheck)
//!      fails: the signature header is missing or malformed, or (RootFi v3, bearer) the
//!      shared-secret token is wrong, which is the whole check for those schemes;
//!    - then with 413 if `Content-Length` exceeds the route's limit;
//!    - then with 415 if a JSON content type is required and missing;
//!    - then with 503 + `Retry-After` if the shared [`BufferBudget`] cannot hold the
//!      declared length;
//! 2. buffers the body, at most [`max_body_size`](VerifyWebhookLayer::max_body_size) bytes
//!    (413 beyond), charging each chunk to the budget (503 when it runs out), within the
//!    [`body_timeout`](VerifyWebhookLayer::body_timeout) (30 s by default, 408 after);
//! 3. verifies the signature (or shared token) over the exact received bytes with its
//!    [`Verifier`](crate::Verifier) (401), against the signature header as parsed and
//!    decoded in step 1 (the header is not parsed again, and the timestamp tolerance is the
//!    one checked when the headers arrived); the key ring is read at this point, so a
//!    secret revoked or expired while the body was arriving is refused;
//! 4. calls the inner service with a [`VerifiedBody`](crate::body::VerifiedBody) holding the
//!    same bytes, and with [`VerifiedBytes`](crate::extract::VerifiedBytes) and the route's
//!    [`Responder`](crate::rejection::Responder) in the request extensions;
//! 5. when the answer is ready (its own refusal, or whatever came back from the inner
//!    service), decides the request's one [outcome](crate::observe::outcome): counted in the
//!    metrics (feature `metrics`) and recorded in the delivery's span (feature `tracing`),
//!    inside which everything behind the layer runs. See [`observe`](crate::observe).
//!
//! The layer does not parse: the handler's [`WebhookEvent<E>`](crate::extract::WebhookEvent)
//! extractor parses the verified bytes with `E::parse` (400 not JSON, 422 wrong shape), so
//! the event type is named in exactly one place. The [`extract`](crate::extract) module
//! docs say why.
//!
//! A refused request never reaches the inner service. It is answered through the
//! [`rejection`](crate::rejection) mechanism (by default the status and its reason phrase
//! as plain text), with the full [`Rejection`](crate::rejection::Rejection) in the response
//! extensions and in the log.
//!
//! # Example: the defaults
//!
//! Add the layer with the method router's `route_layer` (`post(handler).route_layer(..)`),
//! so that a `GET` (or any other method) on a webhook route is answered `405` by the
//! router, not `401` by the layer. (`Router::route_layer` and `.layer` also wrap the
//! router's 405 fallback.)
//!
//! ```
//! use axum::{Router, routing::post};
//! use ledgerhook::{extract::WebhookEvent, layer::VerifyWebhookLayer, railz, rootfi};
//!
//! async fn on_railz(WebhookEvent(event): WebhookEvent<railz::Event>) -> &'static str {
//!     println!("railz {} (known: {})", event.tag(), event.is_known());
//!     "ok"
//! }
//!
//! async fn on_rootfi(WebhookEvent(event): WebhookEvent<rootfi::Event>) -> &'static str {
//!     println!("rootfi {}", event.tag());
//!     "ok"
//! }
//!
//! # fn app() -> Result<Router, ledgerhook::ConfigError> {
//! let app = Router::new()
//!     .route(
//!         "/webhooks/railz",
//!         post(on_railz).route_layer(VerifyWebhookLayer::railz("railz-signing-secret")?),
//!     )
//!     .route(
//!         "/webhooks/rootfi",
//!         post(on_rootfi).route_layer(VerifyWebhookLayer::rootfi("rootfi-signing-key")?),
//!     );
//! # Ok(app) }
//! # app().unwrap();
//! ```
//!
//! # Example: customised
//!
//! A smaller body limit, a shorter deadline, a budget of its own, a required JSON content
//! type, an empty-bodied rejection, and any [`Verifier`](crate::Verifier). This one uses a
//! plain tower stack without axum, and parses in the service:
//!
//! ```
//! use std::{convert::Infallible, time::Duration};
//!
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use ledgerhook::{
//!     Verifier, body::VerifiedBody, extract::VerifiedBytes,
//!     layer::{BufferBudget, VerifyWebhookLayer}, rejection::Rejection, rootfi,
//! };
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # async fn run() -> Result<(), tower::BoxError> {
//! let verifier = Verifier::rootfi_v4("rootfi-signing-key")?;
//! let layer = VerifyWebhookLayer::new(verifier)
//!     .max_body_size(1024 * 1024)
//!     .body_timeout(Duration::from_secs(10))
//!     .buffer_budget(BufferBudget::new(32 * 1024 * 1024))
//!     .require_json_content_type(true)
//!     .rejection_response(|rejection: &Rejection| {
//!         let mut response = Response::new(Bytes::new());
//!         *response.status_mut() = rejection.status();
//!         response
//!     });
//!
//! let service = ServiceBuilder::new().layer(layer).service_fn(
//!     |req: Request<VerifiedBody>| async move {
//!         if let Some(bytes) = req.extensions().get::<VerifiedBytes>() {
//!             let event: rootfi::Event = bytes.parse()?; // handle it
//!             let _ = event;
//!         }
//!         Ok::<_, tower::BoxError>(Response::new(Full::new(Bytes::from("ok"))))
//!     },
//! );
//!
//! // Unsigned, so refused: the inner service is not called.
//! let request = Request::post("/webhooks/rootfi")
//!     .header("content-type", "application/json")
//!     .body(Full::new(Bytes::from(r#"{"event":"connection.changed","company_id":496}"#)))?;
//! let response = service.oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! assert!(response.extensions().get::<Rejection>().is_some());
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
//! ```
//!
//! # Security
//!
//! - **What is checked.** The signature (or shared token) over the exact bytes received,
//!   compared in constant time by the [`Verifier`](crate::Verifier); for Railz also the
//!   signed timestamp against the replay window. Only the layer (or
//!   [`VerifiedBytes::verify`](crate::extract::VerifiedBytes::verify)) creates
//!   `VerifiedBytes`, and the extractors parse nothing else, so unauthenticated bytes never
//!   reach the JSON parser or your handler.
//! - **Generic answers.** The caller only sees a status and its reason phrase; the detailed
//!   reason goes to the response extensions and the log, never to the caller.
//! - **Unauthenticated callers are refused before their body is read.** A request without
//!   a well-formed signature header, or with a wrong RootFi v3 / bearer token, is answered
//!   from its headers alone, before the size, content-type and budget checks: such callers
//!   get 401/400 whatever they send and learn nothing about the limits. (For HMAC schemes a
//!   well-formed but forged header still reaches the buffering, since only the body can
//!   prove it false.)
//! - **Bounded memory.** Each request holds at most its route's limit (256 KiB for Railz,
//!   16 MiB for RootFi), all requests together at most their [`BufferBudget`] (128 MiB
//!   process-wide by default), and a slow sender at most the body deadline (30 s). Serve
//!   with a header-read timeout and a connection limit too (see `examples/receiver.rs`).
//! - **Quiet logs under a flood.** Refusals of callers who proved nothing are logged at
//!   DEBUG, with one WARN for the first of each interval and one summary line with counts
//!   per code after it; refusals of verified deliveries stay at WARN each.
//! - **Raw bytes.** Anything that rewrites the body before this layer (a proxy that
//!   re-encodes JSON, a decompression layer placed outside it) breaks the signature: put
//!   this layer outermost on the webhook route, before any body-transforming middleware.
//! - **Replay.** A valid delivery can be replayed within the timestamp tolerance (Railz) or
//!   at any time (RootFi, whose schemes carry no timestamp). Deduplicate deliveries where
//!   replays matter.
//! - **CSRF layers.** Webhook endpoints receive cross-site `POST`s by design; exempt them
//!   from CSRF protection and rely on this layer instead.

mod budget;
mod defaults;
mod explain;
mod future;
// Named like its siblings in tower-http's module layout; the lint's concern (a lone
// module repeating its parent's name) does not apply to this layer/service/future split.
#[allow(clippy::module_inception)]
mod layer;
mod service;

#[cfg(test)]
mod tests;

pub use self::budget::{BufferBudget, BufferBudgetBuilder};
pub use self::defaults::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_SIZE, RAILZ_MAX_BODY_SIZE, ROOTFI_MAX_BODY_SIZE,
};
pub use self::future::ResponseFuture;
pub use self::layer::VerifyWebhookLayer;
pub use self::service::VerifyWebhook;
