//! Receive webhooks from **RootFi** (Commenda Integrations, API v3 and v4) and **Railz**
//! (Accounting Data as a Service) in any tower, hyper or axum service.
//!
//! [`VerifyWebhookLayer`] sits in front of your handler. It refuses a request whose
//! signature header is missing or malformed (or whose RootFi v3 token is wrong) from its
//! headers alone, buffers the body up to a limit, verifies the provider's signature over
//! the exact bytes in constant time, parses them into a typed event, and only then calls
//! the handler. Every refusal gets a generic answer (`401`, `400`, `408`, `413`, `415` or
//! `422`) with the detailed [`Rejection`] kept in the response extensions and logged.
//!
//! # Modules
//!
//! | module | what it holds |
//! |---|---|
//! | [`layer`] | [`VerifyWebhookLayer`] and its service: bounded buffering, verification, parsing |
//! | [`signature`] | [`Verifier`]: Railz, RootFi v4, RootFi v3 shared secret, bearer tokens, any HMAC-SHA256 scheme; key rotation. Usable without any framework |
//! | [`event`], [`rootfi`], [`railz`] | the typed events; [`Event`] detects the provider from the body |
//! | [`extract`] | [`WebhookEvent`], [`VerifiedBytes`] and (feature `axum`) `VerifiedJson`: what the layer leaves in the request, and the axum extractors reading it |
//! | [`rejection`] | [`Rejection`] (why a request was refused) and `RejectionResponse` (how it is answered) |
//! | [`body`] | [`VerifiedBody`](body::VerifiedBody), the body the inner service receives |
//! | [`idempotency`] | [`IdempotencyLayer`]: each delivery handled once despite the providers' retries, with an in-memory or Redis store |
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
//!             post(on_railz).layer(
//!                 // Top to bottom: verify first, then answer retried deliveries.
//!                 ServiceBuilder::new()
//!                     .layer(VerifyWebhookLayer::railz(railz_secret)?)
//!                     .layer(IdempotencyLayer::in_memory().namespace("railz").key(KeySource::railz())),
//!             ),
//!         )
//!         .route(
//!             "/webhooks/rootfi",
//!             post(on_rootfi).layer(VerifyWebhookLayer::rootfi(rootfi_secret)?),
//!         );
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! A complete receiver (three routes, secrets from the environment, Redis-backed
//! deduplication) is `examples/receiver.rs`: `cargo run --example receiver`.
//!
//! # tower and hyper
//!
//! The layer wraps any `Service<Request<VerifiedBody>>` and accepts any request body, so it
//! works in a plain tower stack or a hyper server; the inner service finds the
//! [`WebhookEvent<E>`](WebhookEvent) and [`VerifiedBytes`] in the request extensions. The
//! [`layer`] module docs have a tower example with every setting; serving one with hyper:
//!
//! ```no_run
//! use std::convert::Infallible;
//!
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use hyper::{server::conn::http1, service::service_fn};
//! use hyper_util::rt::TokioIo;
//! use ledgerhook::{VerifyWebhookLayer, WebhookEvent, body::VerifiedBody, railz};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let webhooks = ServiceBuilder::new()
//!     .layer(VerifyWebhookLayer::railz("railz-signing-secret")?)
//!     .service_fn(|req: Request<VerifiedBody>| async move {
//!         let tag = req.extensions().get::<WebhookEvent<railz::Event>>().map(|e| e.tag().to_owned());
//!         println!("railz {tag:?}");
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
//! verifier.check_headers(&headers)?; // optional: refuse unsigned requests before reading the body
//! verifier.verify(&headers, body)?; // the signature over these exact bytes
//! let event = railz::Event::from_slice(body)?;
//! assert_eq!(event.tag(), "auth");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! | feature | default | enables |
//! |---|---|---|
//! | `axum` | yes | the [`WebhookEvent`], [`VerifiedBytes`] and `VerifiedJson` extractors (depends on `axum-core` only) |
//! | `tracing` | yes | one `tracing` event per rejection (target `ledgerhook`, level WARN) |
//! | `redis` | no | `RedisStore`, an idempotency store shared between receiver instances |
//!
//! # Security
//!
//! - Nothing reaches your handler unless its signature (or RootFi v3 token) verified over
//!   the exact bytes received, compared in constant time; the body is parsed only after.
//! - Unsigned requests and wrong v3 tokens are refused before the body is read; every
//!   body is bounded (8 MiB by default) and can be given a deadline.
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

pub mod body;
pub mod event;
pub mod extract;
pub mod idempotency;
pub mod layer;
pub mod rejection;
pub mod signature;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

mod config;
mod secret;
mod verified;

pub use config::ConfigError;
pub use event::{Event, ParseError, ParseErrorKind, WebhookPayload, railz, rootfi};
pub use idempotency::IdempotencyLayer;
pub use secret::Secret;
pub use signature::{VerificationError, VerificationErrorKind, Verifier};
pub use verified::VerifiedBytes;

pub use extract::WebhookEvent;
pub use layer::VerifyWebhookLayer;
pub use rejection::Rejection;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
