//! The integration-test binary: one module per area.

mod idempotency;
mod idempotency_redis;
mod signature;
