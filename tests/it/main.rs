//! Integration tests, one binary.

mod events;
mod signature;
mod corpus;
mod properties;
