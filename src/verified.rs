//! The verified raw body, as stored in request extensions by the verifying layer.
//!
//! Defined here (ahead of the layer) so that layers composed after verification, such as
//! the idempotency layer, can read the exact bytes that were verified.

use bytes::Bytes;

/// The exact body bytes whose signature the verifying layer checked.
///
/// The layer inserts it into the request extensions before calling the inner service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBytes(pub Bytes);

impl std::ops::Deref for VerifiedBytes {
    type Target = Bytes;

    fn deref(&self) -> &Bytes {
        &self.0
    }
}
