//! Integration tests, one binary.

mod e2e;
mod events;
mod signature;
