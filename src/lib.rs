//! Receive webhooks from **RootFi** (Commenda Integrations, API v3 and v4) and **Railz**
//! (Accounting Data as a Service) in any tower, hyper or axum service.
//!
//! [`VerifyWebhookLayer`] sits in front of your handler. It refuses a request whose
//! signature header is missing or malformed (or whose RootFi v3 token is wrong) from its
//! headers alone, buffers the body within a per-route limit, a shared budget and a
//! deadline, verifies the provider's signature over the exact bytes in constant time, and
//! only then calls the handler, whose [`WebhookEvent<E>`](WebhookEvent) extractor parses
//! the verified bytes into a typed event. Every refusal gets a generic answer (`400`,
//! `401`, `408`, `413`, `415`, `422`, `503` …) with the detailed [`Rejection`] (and its
//! stable [code](RejectionKind::code)) kept in the response extensions and logged.
//!
//! # Modules
//!
//! | module | feature | what it holds |
//! |---|---|---|
//! | [`signature`] | always | [`Verifier`]: Railz, RootFi v4, RootFi v3 shared secret, bearer tokens, any HMAC-SHA256 scheme; key rotation. Needs no framework, no tower, no tokio |
//! | `event`, `rootfi`, `railz` | `events` | the typed events; `Event` detects the provider from the body |
//! | `layer` | `layer` | `VerifyWebhookLayer`, its service and future, the shared `BufferBudget`, per-provider defaults |
//! | `extract` | `layer` | `VerifiedBytes` (what the layer leaves in the request), `WebhookEvent`, and (feature `axum`) the extractors reading them |
//! | `rejection` | `layer` | `Rejection` and `RejectionKind` (why, with a stable code), `RejectionResponse` and `Responder` (how every refusal is answered), the rate-limited log |
//! | `body` | `layer` | `VerifiedBody`, the body the inner service receives |
//! | `observe` | `layer` | every delivery's outcome; (feature `metrics`) its metrics, (feature `tracing`) its span |
//! | `idempotency` | `idempotency` | `IdempotencyLayer`: each delivery handled once despite the providers' retries, with an in-memory or (feature `redis`) Redis store |
//! | `inbox` | `inbox` | durable inbox: `InboxService` stores verified deliveries and answers `2xx`, `Worker` processes them later with retries and dead letters, in memory or (feature `inbox-redis`) on Redis Streams |
//!
//! # axum
//!
//! ```no_run
//! use axum::{Router, routing::post};
//! use ledgerhook::idempotency::{IdempotencyLayer, KeySource};
//! use ledgerhook::{VerifyWebhookLayer, WebhookEvent, railz, rootfi};
//! use tower::ServiceBuilder;
//!
//! async fn on_railz(WebhookEvent(event): WebhookEvent<railz::Event>) -> &'static str {
//!     // Only reached for deliveries Railz signed, each once; `event` is already parsed.
//!     match event {
//!         railz::Event::Auth(auth) => println!("connected: {:?}", auth.connection_id),
//!         other => println!("railz {} (known: {})", other.tag(), other.is_known()),
//!     }
//!     "ok"
//! }
//!
//! async fn on_rootfi(WebhookEvent(event): WebhookEvent<rootfi::Event>) -> &'static str {
//!     println!("rootfi {}", event.tag());
//!     "ok"
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let railz_secret = std::env::var("RAILZ_WEBHOOK_SECRET")?;
//!     let rootfi_secret = std::env::var("ROOTFI_WEBHOOK_SECRET")?;
//!     let app = Router::new()
//!         .route(
//!             "/webhooks/railz",
//!             // `route_layer`: a GET meets the router's 405, not the layer's 401.
//!             post(on_railz).route_layer(
//!                 // Top to bottom: verify first, then answer retried deliveries.
//!                 ServiceBuilder::new()
//!                     .layer(VerifyWebhookLayer::railz(railz_secret)?)
//!                     .layer(IdempotencyLayer::in_memory().namespace("railz").key(KeySource::railz())),
//!             ),
//!         )
//!         .route(
//!             "/webhooks/rootfi",
//!             post(on_rootfi).route_layer(VerifyWebhookLayer::rootfi(rootfi_secret)?),
//!         );
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! `axum::serve` keeps the example short but has no header-read timeout; the complete
//! receiver in `examples/receiver.rs` (three routes, secrets from the environment,
//! Redis-backed deduplication) serves with hyper directly, with a header-read timeout, a
//! connection limit and graceful shutdown: `cargo run --example receiver`.
//!
//! # tower and hyper
//!
//! The layer wraps any `Service<Request<VerifiedBody>>` and accepts any request body, so it
//! works in a plain tower stack or a hyper server; the inner service finds the
//! [`VerifiedBytes`] in the request extensions and parses them with
//! [`VerifiedBytes::parse`]. The [`layer`] module docs have a tower example with every
//! setting; serving one with hyper:
//!
//! ```no_run
//! use std::convert::Infallible;
//!
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use hyper::{server::conn::http1, service::service_fn};
//! use hyper_util::rt::TokioIo;
//! use ledgerhook::{VerifiedBytes, VerifyWebhookLayer, body::VerifiedBody, railz};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let webhooks = ServiceBuilder::new()
//!     .layer(VerifyWebhookLayer::railz("railz-signing-secret")?)
//!     .service_fn(|req: Request<VerifiedBody>| async move {
//!         let event = req.extensions().get::<VerifiedBytes>().map(|b| b.parse::<railz::Event>());
//!         println!("railz {:?}", event.map(|e| e.map(|e| e.tag().to_owned())));
//!         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
//!     });
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     let webhooks = webhooks.clone();
//!     tokio::spawn(async move {
//!         let service = service_fn(move |req| webhooks.clone().oneshot(req));
//!         let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
//!     });
//! }
//! # }
//! ```
//!
//! # Verifying without the layer
//!
//! With another framework, or to check stored deliveries, use a [`Verifier`] on the headers
//! and raw body bytes directly, then parse:
//!
//! ```
//! use std::time::SystemTime;
//! use ledgerhook::{Verifier, railz};
//!
//! let verifier = Verifier::railz("railz-signing-secret")?;
//!
//! // As received (here signed by the verifier itself, as Railz would sign it).
//! let body = br#"{"data":{"event":"auth","connectionId":"CON-1","serviceName":"xero"}}"#;
//! let headers = verifier.sign(body, SystemTime::now());
//!
//! verifier.precheck(&headers)?; // optional: refuse unsigned requests before reading the body
//! verifier.verify(&headers, body)?; // the signature over these exact bytes
//! let event = railz::Event::from_slice(body)?;
//! assert_eq!(event.tag(), "auth");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! Features follow modules; the verification core is always there and pulls no tower,
//! tokio or serde.
//!
//! | feature | default | enables |
//! |---|---|---|
//! | `events` | via `axum` | the typed events (`event`, `railz`, `rootfi`; serde) |
//! | `layer` | via `axum` | the verifying tower layer (`layer`, `extract`, `rejection`, `body`; tower, http-body, tokio's timer) |
//! | `axum` | yes | `layer` + `events` + the `WebhookEvent`, `VerifiedBytes` and `VerifiedJson` extractors (axum-core only) |
//! | `idempotency` | yes | `layer` + `IdempotencyLayer` with its in-memory store |
//! | `tracing` | yes | rejections logged through `tracing` (target `ledgerhook`: unauthenticated ones at DEBUG plus a WARN summary, others at WARN) and one span per delivery (`observe`) |
//! | `metrics` | no | `layer` + delivery, event, body-size, handler and store metrics through the `metrics` facade (`observe::metrics`) |
//! | `redis` | no | `idempotency` + `RedisStore`, a store shared between receiver instances |
//! | `inbox` | no | `idempotency` + `events` + the durable inbox: store each verified delivery, answer `2xx`, process it later in a `Worker` |
//! | `inbox-redis` | no | `inbox` + `redis` + `RedisInbox`: the inbox on Redis Streams (one server or a cluster) |
//!
//! # Security
//!
//! - Nothing reaches your handler unless its signature (or RootFi v3 token) verified over
//!   the exact bytes received, compared in constant time; the body is parsed only after.
//! - Unsigned requests and wrong v3 tokens are refused before the body is read; every
//!   body is bounded (256 KiB for Railz, 16 MiB for RootFi), all bodies together by a
//!   shared budget (128 MiB), and each must arrive within 30 s.
//! - Callers get only a status; the reason goes to the [`Rejection`] and the log. Secrets
//!   are zeroized on drop and never printed.
//! - Railz timestamps must be within 5 minutes; a delivery can be replayed inside that
//!   window, and at any time for RootFi (no timestamp): use [`idempotency`] where that
//!   matters.
//! - Place the layer before anything that rewrites the body, or signatures will not match.
//!
//! Details: the [security model in the
//! README](https://github.com/ledgerhook/ledgerhook#security-model), and the `Security`
//! sections of the [`signature`](signature#security) and [`layer`](layer#security) modules.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod macros;

#[cfg(feature = "setup")]
pub mod setup;

#[cfg(feature = "inbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "inbox")))]
pub mod inbox;
pub mod signature;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

#[cfg(feature = "events")]
pub mod event;

#[cfg(feature = "layer")]
pub mod body;
#[cfg(feature = "layer")]
pub mod extract;
#[cfg(feature = "layer")]
pub mod layer;
#[cfg(feature = "layer")]
pub mod observe;
#[cfg(feature = "layer")]
pub mod rejection;

#[cfg(feature = "idempotency")]
pub mod idempotency;

mod config;
mod secret;

pub use config::{ConfigError, ConfigErrorKind};
pub use secret::Secret;
pub use signature::{VerificationError, VerificationErrorKind, Verifier};

#[cfg(feature = "events")]
pub use event::{Event, ParseError, ParseErrorKind, WebhookPayload, railz, rootfi};

#[cfg(feature = "layer")]
pub use extract::{VerifiedBytes, WebhookEvent};
#[cfg(feature = "layer")]
pub use layer::VerifyWebhookLayer;
#[cfg(feature = "layer")]
pub use rejection::{Rejection, RejectionKind};

#[cfg(feature = "idempotency")]
pub use idempotency::IdempotencyLayer;

#[cfg(all(
    doctest,
    feature = "axum",
    feature = "idempotency",
    feature = "tracing"
))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
