//! Exactly-once handling of at-least-once webhook deliveries.
//!
//! (docs: see below)

mod future;
mod key;
mod layer;
mod memory;
mod service;
mod store;

pub use future::ResponseFuture;
pub use key::KeySource;
pub use layer::{IdempotencyLayer, OutagePolicy};
pub use memory::MemoryStore;
pub use service::{DUPLICATE_HEADER, Idempotency, IdempotencyKey, Outcome};
pub use store::{Begin, Store, StoreError, StoreErrorKind, StoreFuture, Token};
