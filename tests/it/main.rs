//! The single integration-test binary.

mod signature;
