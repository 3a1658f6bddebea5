//! Integration tests, one binary.

mod budget;
mod corpus;
mod e2e;
mod events;
mod idempotency;
mod idempotency_http;
mod idempotency_receiver;
mod idempotency_redis;
#[cfg(feature = "inbox")]
mod inbox;
mod inbox_bench;
mod inbox_redis;
mod inbox_reliability;
mod metrics;
mod properties;
mod signature;
