//! Exactly-once handling of at-least-once webhook deliveries.
//!
//! RootFi retries a delivery three times with exponential backoff and Railz retries on any
//! non-2xx answer; neither guarantees order, and a receiver scaled out sees the same event
//! on different instances. [`IdempotencyLayer`] makes sure each event reaches your handler
//! once: it derives a key per delivery, claims it in a [`Store`] shared by the instances,
//! and answers duplicates itself.
//!
//! # Where it goes
//!
//! **After** the verifying layer, so that only verified deliveries can claim keys. The
//! layer reads the [`VerifiedBytes`](crate::VerifiedBytes) the verifying layer leaves in
//! the request extensions; if they are missing it answers `500` (and logs that the
//! `IdempotencyLayer` must run after the `VerifyWebhookLayer`) rather than deduplicate
//! unverified bytes. In axum, the layer added last runs first, so add this one before the
//! verifying layer:
//!
//! ```
//! use axum::{Router, routing::post};
//! use ledgerhook::idempotency::{IdempotencyLayer, KeySource, MemoryStore};
//!
//! async fn on_railz() -> &'static str {
//!     "ok"
//! }
//!
//! let store = MemoryStore::new(); // or RedisStore::open(url)? with the `redis` feature
//! let app: Router = Router::new()
//!     .route("/webhooks/railz", post(on_railz))
//!     .route_layer(
//!         IdempotencyLayer::new(store)
//!             .namespace("railz")
//!             .key(KeySource::railz()),
//!     );
//! // ...then `.route_layer(<the verifying layer>)`, which runs first.
//! # let _ = app;
//! ```
//!
//! # What it does
//!
//! | the key is… | answer | handler called? |
//! |---|---|---|
//! | new (or its record expired) | the handler's answer | yes |
//! | completed within the TTL | `200`, empty body, `x-ledgerhook-duplicate: true` | no |
//! | in flight (being handled elsewhere) | `409` with `retry-after: 1`, so the sender retries | no |
//! | unknown because the store is down | `503` with `retry-after: 1` ([`OutagePolicy::FailClosed`], default) or the handler's answer ([`OutagePolicy::FailOpen`]) | no / yes |
//!
//! After the handler: a `5xx`, `408` or `429` answer, or an error from the inner service,
//! **releases** the key so the sender's retry is handled; any other answer (including
//! `4xx`, which a retry would only repeat) **completes** it. The [`Outcome`] is in the
//! response extensions and the [`IdempotencyKey`] in the request extensions.
//!
//! ```
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use ledgerhook::VerifiedBytes;
//! use ledgerhook::idempotency::{DUPLICATE_HEADER, IdempotencyLayer, KeySource, Outcome};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower::BoxError> {
//! let svc = ServiceBuilder::new()
//!     .layer(IdempotencyLayer::in_memory().key(KeySource::railz()))
//!     .service(service_fn(|_req: Request<()>| async {
//!         Ok::<_, tower::BoxError>(Response::new(String::from("handled")))
//!     }));
//!
//! // What the verifying layer hands on: the request with its verified body.
//! let delivery = || {
//!     let mut req = Request::new(());
//!     let body = Bytes::from_static(br#"{"requestId":"r-1","data":{"event":"auth"}}"#);
//!     req.extensions_mut().insert(VerifiedBytes(body));
//!     req
//! };
//!
//! let first = svc.clone().oneshot(delivery()).await?;
//! assert_eq!(first.body(), "handled");
//!
//! let retry = svc.oneshot(delivery()).await?;
//! assert_eq!(retry.status(), StatusCode::OK);
//! assert_eq!(retry.headers()[DUPLICATE_HEADER], "true");
//! assert_eq!(retry.extensions().get::<Outcome>(), Some(&Outcome::Duplicate));
//! # Ok(())
//! # }
//! ```
//!
//! # Keys
//!
//! [`KeySource`] chooses per route: the provider's event id where there is one
//! ([`KeySource::railz`] reads `requestId`; [`KeySource::json_pointer`] and
//! [`KeySource::header`] for other senders), falling back to the SHA-256 of the verified
//! body, which is also the default ([`KeySource::body_hash`]). RootFi sends no delivery id,
//! so its routes use the body hash. Keys are prefixed with the layer's
//! [`namespace`](IdempotencyLayer::namespace) so routes sharing a store stay apart.
//!
//! # Time limits
//!
//! - **Completed TTL**, default 24 hours ([`IdempotencyLayer::DEFAULT_COMPLETED_TTL`]):
//!   how long a handled event is remembered. It must exceed the verifying layer's replay
//!   tolerance (5 minutes by default), or a captured delivery could be replayed after its
//!   record expired; 24 hours also covers the providers' retry schedules.
//! - **Lease**, default 30 seconds ([`IdempotencyLayer::DEFAULT_LEASE`]): how long an
//!   in-flight claim lasts. A crashed instance, or a response future dropped mid-handler,
//!   blocks its key (`409`) for at most this long; a handler running longer than the lease
//!   may see the event handled a second time in parallel, so keep handlers shorter (put a
//!   timeout inside the layer).
//!
//! # Stores and outages
//!
//! - [`MemoryStore`] (default, no setup): one process, bounded capacity with per-key
//!   expiry; see its docs for eviction.
//! - `RedisStore` (feature `redis`): one view for every instance, atomic transitions
//!   (`SET NX PX` and Lua compare-and-set on an owner [`Token`]), reconnects by itself.
//! - Your own: implement [`Store`]; its docs list the transitions to honour.
//!
//! When the store cannot answer, [`OutagePolicy::FailClosed`] (the default) answers `503`
//! so the sender retries later: nothing is handled twice, and nothing is lost as long as
//! the outage is shorter than the sender's retries. [`OutagePolicy::FailOpen`] calls the
//! handler without deduplication instead: nothing is refused, but duplicates arriving
//! during the outage are handled again.
//!
//! An outage can also strike between the claim and the completion. The layer then keeps
//! retrying the completion (or release) with backoff for up to the lease, holding the
//! handler's answer back meanwhile, so duplicates stay caught through a short outage such
//! as a Redis restart; if the store is down for longer than the lease, the handler's
//! answer is returned and a duplicate arriving after the lease is handled again. A claim
//! whose acknowledgement was lost in the outage keeps its key in flight (`409`) until the
//! lease ends; the sender's retry after that is handled.

mod future;
mod key;
mod layer;
mod memory;
#[cfg(feature = "redis")]
mod redis;
mod service;
mod store;

#[cfg(feature = "redis")]
pub use self::redis::RedisStore;
pub use future::ResponseFuture;
pub use key::KeySource;
pub use layer::{Completion, IdempotencyLayer, OutagePolicy};
pub use memory::MemoryStore;
pub use service::{DUPLICATE_HEADER, Idempotency, IdempotencyKey, Outcome};
pub use store::{Begin, RecordId, Store, StoreError, StoreErrorKind, StoreFuture, Token};
