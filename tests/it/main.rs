//! Integration tests, one binary.

mod events;
mod signature;
