//! Signature verification, independent of any web framework.
//! (stub: the verification work replaces this file's bodies; the signatures below are the contract)

use http::HeaderMap;

mod error;
pub use error::{VerificationError, VerificationErrorKind};

use crate::ConfigError;

/// Verifies one provider's signature scheme over the raw body. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Verifier {
    _private: (),
}

impl Verifier {
    /// Railz: `Railz-Signature: t=<ms>,v=<hex>`, HMAC-SHA256 over `<t>.<body>`.
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] for an empty secret.
    pub fn railz(secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let _ = crate::Secret::new(secret.as_ref())?;
        Ok(Self { _private: () })
    }

    /// RootFi v4: `X-RootFi-Signature: [sha256=]<hex HMAC-SHA256 of the body>`.
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] for an empty secret.
    pub fn rootfi(secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let _ = crate::Secret::new(secret.as_ref())?;
        Ok(Self { _private: () })
    }

    /// A shared-secret header (RootFi v3 custom headers, Railz `Authorization: Bearer`).
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] for an empty token.
    pub fn shared_secret(
        header: http::HeaderName,
        token: impl AsRef<[u8]>,
    ) -> Result<Self, ConfigError> {
        let _ = (header, crate::Secret::new(token.as_ref())?);
        Ok(Self { _private: () })
    }

    /// Checks `headers` and `body`.
    ///
    /// # Errors
    /// A [`VerificationError`] saying why the request is not authentic.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerificationError> {
        let _ = (headers, body);
        Err(VerificationError::new(
            VerificationErrorKind::SignatureMismatch,
        ))
    }

    /// The headers a sender would attach to `body` at `now` (for tests and local senders).
    #[must_use]
    pub fn sign(&self, body: &[u8], now: std::time::SystemTime) -> HeaderMap {
        let _ = (body, now);
        HeaderMap::new()
    }
}
