//! Per-request verification errors: allocation-free, with the reason and the header involved.

use std::fmt;

use http::{HeaderName, StatusCode};

/// Why a request failed verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerificationErrorKind {
    /// A header the signature scheme needs (signature, timestamp or id) is absent. 401.
    MissingSignature,
    /// The shared-secret or bearer token header is absent. 401.
    MissingToken,
    /// A header is present but malformed: bad syntax, bytes that are not visible ASCII, a
    /// duplicate element or a duplicate header line, too many signatures. 400.
    InvalidHeader,
    /// The timestamp is not a plain decimal number that fits the range. 400.
    InvalidTimestamp,
    /// The timestamp is older than the tolerance allows (possible replay). 401.
    TimestampTooOld,
    /// The timestamp is further in the future than the tolerance allows. 401.
    TimestampInFuture,
    /// No signature in the header matches any active secret (includes signatures that are
    /// truncated or not decodable). 401.
    SignatureMismatch,
    /// The shared-secret header does not carry the configured token. 401.
    TokenMismatch,
}

impl VerificationErrorKind {
    /// A short, fixed description of the reason.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingSignature => "signature header is missing",
            Self::MissingToken => "token header is missing",
            Self::InvalidHeader => "header is malformed",
            Self::InvalidTimestamp => "timestamp is malformed",
            Self::TimestampTooOld => "timestamp is older than the tolerance",
            Self::TimestampInFuture => "timestamp is further in the future than the tolerance",
            Self::SignatureMismatch => "no signature matches",
            Self::TokenMismatch => "token does not match",
        }
    }

    /// The HTTP status a receiver should answer with: 400 for a malformed header or
    /// timestamp, 401 for everything else.
    #[must_use]
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidHeader | Self::InvalidTimestamp => StatusCode::BAD_REQUEST,
            Self::MissingSignature
            | Self::MissingToken
            | Self::TimestampTooOld
            | Self::TimestampInFuture
            | Self::SignatureMismatch
            | Self::TokenMismatch => StatusCode::UNAUTHORIZED,
        }
    }
}

impl VerificationErrorKind {
    /// A stable, machine-readable code for metrics, logs and users' own error bodies:
    /// `missing_signature`, `missing_token`, `malformed_header` (a malformed timestamp is a
    /// malformed header too), `signature_mismatch`, `token_mismatch`, `stale_timestamp`,
    /// `future_timestamp`. These strings never change.
    ///
    /// ```
    /// use ledgerhook::VerificationErrorKind;
    /// assert_eq!(VerificationErrorKind::SignatureMismatch.code(), "signature_mismatch");
    /// ```
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::MissingToken => "missing_token",
            Self::InvalidHeader | Self::InvalidTimestamp => "malformed_header",
            Self::TimestampTooOld => "stale_timestamp",
            Self::TimestampInFuture => "future_timestamp",
            Self::SignatureMismatch => "signature_mismatch",
            Self::TokenMismatch => "token_mismatch",
        }
    }
}

impl fmt::Display for VerificationErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request that failed verification: the reason and the header it concerns.
///
/// Creating one never allocates (header names are static or reference-counted), so rejecting
/// a flood of forged requests costs no more than accepting genuine ones.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use ledgerhook::{Verifier, VerificationErrorKind};
///
/// let verifier = Verifier::railz("railz_test_secret")?;
/// let err = verifier.verify(&HeaderMap::new(), b"{}").unwrap_err();
/// assert_eq!(err.kind(), VerificationErrorKind::MissingSignature);
/// assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(err.header().map(|h| h.as_str()), Some("railz-signature"));
/// # Ok::<(), ledgerhook::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationError {
    kind: VerificationErrorKind,
    header: Option<HeaderName>,
}

impl VerificationError {
    /// An error of `kind` that concerns no particular header.
    #[must_use]
    pub fn new(kind: VerificationErrorKind) -> Self {
        Self { kind, header: None }
    }

    /// An error of `kind` concerning `header`.
    #[must_use]
    pub fn with_header(kind: VerificationErrorKind, header: HeaderName) -> Self {
        Self {
            kind,
            header: Some(header),
        }
    }

    /// The reason.
    #[must_use]
    pub fn kind(&self) -> VerificationErrorKind {
        self.kind
    }

    /// The header that was missing, malformed or did not match, if any.
    #[must_use]
    pub fn header(&self) -> Option<&HeaderName> {
        self.header.as_ref()
    }

    /// The HTTP status a receiver should answer with (see [`VerificationErrorKind::status`]).
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }
}

impl fmt::Display for VerificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "webhook verification failed: {}", self.kind)?;
        if let Some(header) = &self.header {
            write!(f, " (header `{header}`)")?;
        }
        Ok(())
    }
}

impl std::error::Error for VerificationError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_headers_are_400_and_failed_checks_401() {
        use VerificationErrorKind::*;
        for kind in [InvalidHeader, InvalidTimestamp] {
            assert_eq!(kind.status(), StatusCode::BAD_REQUEST, "{kind:?}");
        }
        for kind in [
            MissingSignature,
            MissingToken,
            TimestampTooOld,
            TimestampInFuture,
            SignatureMismatch,
            TokenMismatch,
        ] {
            assert_eq!(kind.status(), StatusCode::UNAUTHORIZED, "{kind:?}");
        }
    }

    #[test]
    fn codes_are_the_documented_strings() {
        use VerificationErrorKind::*;
        let codes: Vec<_> = [
            MissingSignature,
            MissingToken,
            InvalidHeader,
            InvalidTimestamp,
            SignatureMismatch,
            TokenMismatch,
            TimestampTooOld,
            TimestampInFuture,
        ]
        .map(VerificationErrorKind::code)
        .into();
        assert_eq!(
            codes,
            [
                "missing_signature",
                "missing_token",
                "malformed_header",
                "malformed_header",
                "signature_mismatch",
                "token_mismatch",
                "stale_timestamp",
                "future_timestamp"
            ]
        );
    }

    #[test]
    fn display_names_reason_and_header() {
        let err = VerificationError::with_header(
            VerificationErrorKind::SignatureMismatch,
            HeaderName::from_static("railz-signature"),
        );
        assert_eq!(
            err.to_string(),
            "webhook verification failed: no signature matches (header `railz-signature`)"
        );
        let bare = VerificationError::new(VerificationErrorKind::TimestampTooOld);
        assert_eq!(
            bare.to_string(),
            "webhook verification failed: timestamp is older than the tolerance"
        );
        assert_eq!(bare.header(), None);
    }
}
