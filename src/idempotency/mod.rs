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
//! the request extensions; if they are missing it answers `500` (refusal code
//! `missing_layer`, logged at ERROR: it must run after the verifying layer) rather than
//! deduplicate unverified bytes. In axum, the layer added last runs first, so add this one before the
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
//! Each delivery claims a record named by the route's namespace, its key and the SHA-256
//! digest of its verified body ([`RecordId`]).
//!
//! Refusals are answered through the route's [`Responder`](crate::rejection::Responder)
//! (the verifying layer's [`RejectionResponse`](crate::rejection::RejectionResponse)), like
//! every other refusal of the crate, with the [`Rejection`](crate::Rejection) and its
//! stable code in the response extensions.
//!
//! | the record (key **and** body) is… | answer | handler called? |
//! |---|---|---|
//! | new (or its record expired) | the handler's answer | yes |
//! | completed within its window | `200`, empty body, `x-ledgerhook-duplicate: true` | no |
//! | in flight (being handled elsewhere) | `409`, `retry-after: 1`, refusal code `in_flight` | no |
//! | unknown because the store is down | `503`, `retry-after: 1`, refusal code `store_unavailable` ([`OutagePolicy::FailClosed`], default) or the handler's answer ([`OutagePolicy::FailOpen`]) | no / yes |
//! | new, but the route's share of the store is full | `503`, `Retry-After`, refusal code `store_full` (whatever the policy) | no |
//!
//! The same key with a **different body** is a different delivery: it claims a record of
//! its own, is handled, and the layer logs a WARN naming the key (never the body). Railz's
//! own samples reuse one `requestId` across different events, and a provider that
//! re-serialises a retry would otherwise be taken for a new event only if its bytes differ.
//!
//! After the handler: by default only a `2xx` **completes** the record; any other answer
//! (`3xx`, `4xx` such as a `422` for an event that arrived before the record it refers to,
//! `408`, `429`, `5xx`) and any error from the inner service **releases** it, so the
//! provider's retry is handled. [`Completion`] (on [`IdempotencyLayer::complete_on`])
//! makes `4xx` final, or any rule. A response future dropped mid-handler (the client went
//! away) releases its claim at once from `Drop` (for Redis, the release is spawned on the
//! current tokio runtime); dropped after a successful handler, it completes the record
//! instead. The [`Outcome`] is in the response extensions and the [`IdempotencyKey`] in the
//! request extensions.
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
//!         Ok::<_, tower::BoxError>(Response::new(Bytes::from_static(b"handled")))
//!     }));
//!
//! // What the verifying layer hands on: the request with its verified body.
//! let verifier = ledgerhook::Verifier::railz("railz-signing-secret")?;
//! let delivery = || {
//!     let mut req = Request::new(());
//!     let body = Bytes::from_static(br#"{"requestId":"r-1","data":{"event":"auth"}}"#);
//!     let headers = verifier.sign(&body, std::time::SystemTime::now());
//!     req.extensions_mut().insert(VerifiedBytes::verify(&verifier, &headers, body).unwrap());
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
//! # Keys and windows
//!
//! [`KeySource`] chooses per route: the provider's event identity where there is one,
//! falling back to the SHA-256 of the verified body, which is also the default
//! ([`KeySource::body_hash`]). Keys are prefixed with the layer's
//! [`namespace`](IdempotencyLayer::namespace) so routes sharing a store stay apart.
//!
//! - [`KeySource::railz`]: `requestId` combined with the event tag (`data.event`), since
//!   Railz reuses a `requestId` across events; the body hash when there is no `requestId`.
//! - [`KeySource::rootfi`]: a natural identity where the RootFi event type carries one (a
//!   sync id and status; data model, operation and `created_at`; ...), else the body hash.
//! - [`KeySource::json_pointer`] and [`KeySource::header`] for other senders.
//!
//! A key from an identity is remembered for
//! [`completed_ttl`](IdempotencyLayer::completed_ttl), 24 hours by default
//! ([`IdempotencyLayer::DEFAULT_COMPLETED_TTL`]): a distinct event has a distinct
//! identity, so a long memory blocks nothing genuine. A key from the body hash is
//! remembered only for a much shorter window derived from the provider's retry horizon
//! ([`KeySource::body_hash_window`], overridden by
//! [`body_hash_ttl`](IdempotencyLayer::body_hash_ttl)), because two genuine events can have
//! identical bytes:
//!
//! - **Railz**, 10 minutes ([`KeySource::RAILZ_BODY_HASH_WINDOW`]): Railz retries a
//!   delivery that got no `2xx` within 60 seconds twice and then marks it failed, so its
//!   retries come within minutes; its signed timestamp limits replays to the verifying
//!   layer's 5-minute tolerance, which the window covers.
//! - **RootFi** and the generic sources, 30 minutes
//!   ([`KeySource::DEFAULT_BODY_HASH_WINDOW`]): RootFi documents "retried 3 times with an
//!   exponential delay" but not the delays; 30 minutes covers three doubling delays
//!   starting at up to 4 minutes. (RootFi v4's delivery logs list each attempt's
//!   `createdAt`: check them against this window for your account.)
//!
//! A replay that arrives after its window is handled again; that is true of any window,
//! and matters for RootFi, whose deliveries carry no signed timestamp, so a captured one
//! can be replayed at any time. Handled again, it blocks identical bytes for one more
//! window only, never for a day.
//!
//! ## RootFi
//!
//! These RootFi deliveries carry nothing that tells a new event from a retry, and fall
//! back to the body hash and its window:
//!
//! - v4 `{"event":"connection.changed","company_id":N}`: only the company id. Two changes
//!   of one company within the window have identical bytes, and the second is answered as
//!   a duplicate.
//! - Bodies whose `created_at` is a date without a time of day (the legacy
//!   `"2022-01-23"`), bodies without `created_at`, and `SYNC_*` events without `data.id`.
//!
//! A handler of such an event should treat it as "something changed for this company" and
//! **re-fetch the current state** from the RootFi API (the company's connection status,
//! the sync's jobs) rather than act on the notification's content, and keep a periodic
//! reconciliation (e.g. a re-fetch every window) for changes whose notification was
//! merged with an earlier identical one.
//!
//! # Time limits
//!
//! - **Windows**: see above. They must exceed the verifying layer's replay tolerance
//!   (5 minutes by default) wherever the provider signs a timestamp, or a captured
//!   delivery could be replayed after its record expired.
//! - **Lease**, default 30 seconds ([`IdempotencyLayer::DEFAULT_LEASE`]): how long an
//!   in-flight claim lasts. A crashed instance blocks its key (`409`) for at most this
//!   long; a handler running longer than the lease may see the event handled a second
//!   time in parallel, so keep handlers shorter (put a timeout inside the layer).
//!
//! # Stores and outages
//!
//! - [`MemoryStore`] (default, no setup): one process, a bounded capacity **per
//!   namespace** with per-record expiry. It never forgets a record inside its window to
//!   make room: a full namespace is answered `503` + `Retry-After` (`store_full`), so one
//!   route flooded with valid deliveries can neither flush another route's records nor
//!   get a replay of its own past deduplication.
//! - `RedisStore` (feature `redis`): one view for every instance, atomic transitions
//!   (Lua compare-and-set on an owner [`Token`]), reconnects by itself.
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
