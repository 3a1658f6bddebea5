//! Per-request verification errors. (stub: refined by the verification work)

use http::StatusCode;
use std::fmt;

/// Why a request failed verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerificationErrorKind {
    /// The signature (or token) header is absent.
    MissingHeader,
    /// The header is present but malformed (bad syntax, non-ASCII, duplicate element).
    InvalidHeader,
    /// The timestamp is not a valid number in range.
    InvalidTimestamp,
    /// The timestamp is older than the tolerance allows.
    TimestampTooOld,
    /// The timestamp is further in the future than the tolerance allows.
    TimestampInFuture,
    /// No signature in the header matches any configured secret.
    SignatureMismatch,
    /// The shared-secret header does not match.
    TokenMismatch,
}

/// A request that failed verification, with its reason. Allocation-free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationError {
    kind: VerificationErrorKind,
}

impl VerificationError {
    /// An error of `kind`.
    #[must_use]
    pub fn new(kind: VerificationErrorKind) -> Self {
        Self { kind }
    }

    /// The reason.
    #[must_use]
    pub fn kind(&self) -> VerificationErrorKind {
        self.kind
    }

    /// The HTTP status a receiver should answer with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self.kind {
            VerificationErrorKind::InvalidHeader | VerificationErrorKind::InvalidTimestamp => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

impl fmt::Display for VerificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "webhook verification failed: {:?}", self.kind)
    }
}

impl std::error::Error for VerificationError {}
