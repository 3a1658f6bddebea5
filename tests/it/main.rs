//! Integration tests, one binary.

mod corpus;
mod e2e;
mod events;
mod idempotency;
mod idempotency_http;
mod idempotency_receiver;
mod idempotency_redis;
mod metrics;
mod properties;
mod signature;
