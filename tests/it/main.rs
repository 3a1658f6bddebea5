//! Integration tests, one binary.

mod e2e;
mod events;
mod idempotency;
mod idempotency_receiver;
mod idempotency_redis;
mod signature;
mod corpus;
mod properties;
