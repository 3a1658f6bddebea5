//! The tower layer that refuses every webhook the provider did not sign.
//!
//! [`VerifyWebhookLayer`] wraps a service (an axum route, a hyper service, any tower
//! stack). For each request [`VerifyWebhook`]:
//!
//! 1. looks at the headers only, without reading the body, and refuses the request
//!    - with 401 or 400 if [`Verifier::precheck`](crate::Verifier::precheck)
//!      fails: the signature header is missing or malformed, or (RootFi v3, bearer) the
//!      shared-secret token is wrong, which is the whole check for those schemes;
//!    - then with 413 if `Content-Length` exceeds the limit;
//!    - then with 415 if a JSON content type is required and missing;
//! 2. buffers the body, at most [`max_body_size`](VerifyWebhookLayer::max_body_size) bytes
//!    (413 beyond), within the optional [`body_timeout`](VerifyWebhookLayer::body_timeout)
//!    (408);
//! 3. verifies the signature (or shared token) over the exact received bytes with its
//!    [`Verifier`](crate::Verifier) (401, or 400 for a malformed header or timestamp);
//! 4. parses the bytes into the event type `E` (400 not JSON, 422 wrong shape);
//! 5. calls the inner service with a [`VerifiedBody`](crate::body::VerifiedBody) holding the
//!    same bytes, and with [`WebhookEvent<E>`](crate::extract::WebhookEvent) and
//!    [`VerifiedBytes`](crate::VerifiedBytes) in the request extensions.
//!
//! A refused request never reaches the inner service. It is answered by a
//! [`RejectionResponse`](crate::rejection::RejectionResponse) (by default the status and
//! its reason phrase as plain text), with the full [`Rejection`](crate::rejection::Rejection)
//! in the response extensions and in a `tracing` event (feature `tracing`, target
//! `ledgerhook`, level WARN).
//!
//! # Example: the defaults
//!
//! ```
//! use axum::{Json, Router, routing::post};
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
//!         post(on_railz).layer(VerifyWebhookLayer::railz("railz-signing-secret")?),
//!     )
//!     .route(
//!         "/webhooks/rootfi",
//!         post(on_rootfi).layer(VerifyWebhookLayer::rootfi("rootfi-signing-key")?),
//!     );
//! # Ok(app) }
//! # app().unwrap();
//! ```
//!
//! # Example: customised
//!
//! A smaller body limit, a deadline for slow bodies, a required JSON content type, an
//! empty-bodied rejection, and any [`Verifier`](crate::Verifier). This one uses a plain tower
//! stack without axum:
//!
//! ```
//! use std::{convert::Infallible, time::Duration};
//!
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use ledgerhook::{
//!     Verifier, body::VerifiedBody, extract::WebhookEvent, layer::VerifyWebhookLayer,
//!     rejection::Rejection, rootfi,
//! };
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::rootfi_v4("rootfi-signing-key")?;
//! let layer = VerifyWebhookLayer::<rootfi::Event>::new(verifier)
//!     .max_body_size(1024 * 1024)
//!     .body_timeout(Duration::from_secs(10))
//!     .require_json_content_type(true)
//!     .with_rejection_response(|rejection: &Rejection| {
//!         let mut response = Response::new(Full::<Bytes>::default());
//!         *response.status_mut() = rejection.status();
//!         response
//!     });
//!
//! let service = ServiceBuilder::new().layer(layer).service_fn(
//!     |req: Request<VerifiedBody>| async move {
//!         let event = req.extensions().get::<WebhookEvent<rootfi::Event>>();
//!         let _ = event; // handle it
//!         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("ok"))))
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
//!   signed timestamp against the replay window. The event is parsed only after that, so
//!   unauthenticated bytes never reach the JSON parser or your handler.
//! - **Generic answers.** The caller only sees a status and its reason phrase; the detailed
//!   reason goes to the response extensions and the log, never to the caller.
//! - **Unauthenticated callers are refused before their body is read.** A request without
//!   a well-formed signature header, or with a wrong RootFi v3 / bearer token, is answered
//!   from its headers alone, and this check comes before the size and content-type
//!   checks: such callers get 401/400 whatever they send and learn nothing about the
//!   limits. (For HMAC schemes a well-formed but forged header still reaches the 413 check
//!   and the buffering, since only the body can prove it false.)
//! - **Bounded memory.** The whole body must be buffered to check it, so each request holds
//!   up to `max_body_size` bytes (8 MiB by default). Bound concurrency to bound the total,
//!   and set `body_timeout` (or your server's timeouts) against slow senders.
//! - **Raw bytes.** Anything that rewrites the body before this layer (a proxy that
//!   re-encodes JSON, a decompression layer placed outside it) breaks the signature: put
//!   this layer outermost on the webhook route, before any body-transforming middleware.
//! - **Replay.** A valid delivery can be replayed within the timestamp tolerance (Railz) or
//!   at any time (RootFi, whose schemes carry no timestamp). Deduplicate deliveries where
//!   replays matter.
//! - **CSRF layers.** Webhook endpoints receive cross-site `POST`s by design; exempt them
//!   from CSRF protection and rely on this layer instead.

// Named like its siblings in tower-http's module layout; the lint's concern (a lone
// module repeating its parent's name) does not apply to this layer/service/future split.
mod future;
#[allow(clippy::module_inception)]
mod layer;
mod service;

#[cfg(test)]
mod tests;

pub use self::future::ResponseFuture;
pub use self::layer::{DEFAULT_MAX_BODY_SIZE, VerifyWebhookLayer};
pub use self::service::VerifyWebhook;
