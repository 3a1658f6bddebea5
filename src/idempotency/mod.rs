//! Exactly-once handling of at-least-once webhook deliveries.
//!
//! (docs: see below)

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
pub use layer::{IdempotencyLayer, OutagePolicy};
pub use memory::MemoryStore;
pub use service::{DUPLICATE_HEADER, Idempotency, IdempotencyKey, Outcome};
pub use store::{Begin, Store, StoreError, StoreErrorKind, StoreFuture, Token};
