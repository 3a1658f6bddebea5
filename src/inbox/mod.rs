//! A durable inbox: answer `2xx` only once a verified delivery is stored, and process it
//! later, with retries and a dead-letter stream.
//!
//! Railz gives a receiver 60 s and retries twice; RootFi retries three times. When the
//! handler (or the database behind it) is down for longer, an in-request handler loses
//! the event. With the inbox, the request path only stores:
//!
//! ```text
//! provider ──▶ VerifyWebhookLayer ──▶ InboxService ──append──▶ InboxStore ◀──read/ack── Worker ──▶ your handler
//!               (verify, bounded)      (200 once stored)       (memory, Redis)      (retry, dead-letter)
//! ```
//!
//! - [`InboxService`] takes the handler's place behind the verifying layer: it reads the
//!   [`VerifiedBytes`](crate::VerifiedBytes), derives a dedup key with a
//!   [`KeySource`](crate::idempotency::KeySource), appends a [`NewEnvelope`] and answers
//!   `200` once the store confirmed it, `503` + `Retry-After` when it could not.
//! - [`Worker`] is a consumer-group member: it parses the typed event from the stored bytes
//!   with [`WebhookPayload::parse`](crate::WebhookPayload::parse) (no second verification:
//!   only verified bytes are stored), calls your [`Handler`], acknowledges on success,
//!   retries with [`Backoff`] on failure and dead-letters after the last attempt.
//! - [`InboxStore`] is the storage contract: [`MemoryInbox`] (default, in process) and,
//!   with feature `inbox-redis`, `RedisInbox` (Redis Streams, one server or a cluster).
//!   Dead letters are listed, inspected and requeued through the same trait.
//!
//! Why parse in the worker and not at receive time: a stored envelope outlives the
//! request, and the event type can change between deploys; storing the exact verified
//! bytes keeps every delivery replayable, and a body the current code cannot parse is a
//! dead letter to fix and requeue, not a lost event.
//!
//! # Guarantees
//!
//! - **No acknowledged delivery is dropped by the crate**: `200` is sent only after
//!   `append` returned; every failure to store is a `503`, so the provider retries.
//!   What the store itself keeps after a crash is its durability (below).
//! - **At least once** to the handler: an envelope leaves the store only when acknowledged
//!   after a successful run, dead-lettered, or trimmed as a dead letter. A worker crash
//!   between the handler's effect and the acknowledgement runs it again after the
//!   visibility timeout: make handlers idempotent (e.g. on [`Envelope::dedup_key`]).
//! - **Deduplication at the door**: with a dedup key, the key claim and the append are
//!   one atomic step: never a claimed key without its envelope, never one envelope twice.
//!
//! # Durability (Redis)
//!
//! `200` means Redis executed the append in memory. What survives a crash of Redis is set
//! by its persistence configuration:
//!
//! | Redis persistence | a Redis *process* crash loses | a machine / power loss loses |
//! |---|---|---|
//! | `appendonly yes`, `appendfsync always` | nothing acknowledged | nothing acknowledged (fsync before the reply) |
//! | `appendonly yes`, `appendfsync everysec` | nothing (the OS has the writes) | up to ~1 s (2 s worst case) of acknowledged deliveries |
//! | `appendonly yes`, `appendfsync no` | nothing | whatever the OS had not flushed (often ~30 s) |
//! | RDB snapshots only | everything since the last snapshot | the same |
//! | no persistence | everything | everything |
//!
//! For financial data: `appendonly yes` + `appendfsync always`, `maxmemory-policy
//! noeviction` (an evicted stream is lost work), and a replica; a primary's failover to a
//! replica can still lose writes the replica had not received (Redis replication is
//! asynchronous). `docs/INBOX.md` has the details, the key layout and the retention policy.
//!
//! # Example
//!
//! ```
//! use axum::{Router, routing::post_service};
//! use ledgerhook::idempotency::KeySource;
//! use ledgerhook::inbox::{InboxService, MemoryInbox, Worker};
//! use ledgerhook::railz;
//!
//! async fn on_railz(event: railz::Event) -> Result<(), std::io::Error> {
//!     println!("railz {}", event.tag()); // write to your database here
//!     Ok(())
//! }
//!
//! # async fn run() {
//! let store = MemoryInbox::new(); // RedisInbox::open(url, "railz")? with `inbox-redis`
//! let app: Router = Router::new().route(
//!     "/webhooks/railz",
//!     post_service(InboxService::new("railz", store.clone()).key(KeySource::railz())),
//! );
//! // ...`.route_layer(<the verifying layer>)`, which runs first; then serve `app`.
//! tokio::spawn(Worker::<railz::Event>::new(store, on_railz).run(std::future::pending()));
//! # let _ = app;
//! # }
//! ```

mod envelope;
mod memory;
#[cfg(feature = "inbox-redis")]
mod redis;
mod service;
mod store;
mod worker;

pub use envelope::{Appended, Envelope, EnvelopeId, NewEnvelope};
pub use memory::MemoryInbox;
#[cfg(feature = "inbox-redis")]
pub use redis::RedisInbox;
pub use service::{DUPLICATE_HEADER, InboxOutcome, InboxService};
pub use store::{InboxError, InboxErrorKind, InboxFuture, InboxStats, InboxStore, Retention};
pub use worker::{
    Backoff, Handler, HandlerFuture, Job, Permanent, ServiceHandler, Worker, WorkerReport,
    from_service,
};
