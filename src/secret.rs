//! Secrets: zeroized on drop, redacted in `Debug`. (stub: the verification work fills this in)

use crate::ConfigError;

/// A webhook signing secret or shared token.
pub struct Secret(zeroize::Zeroizing<Box<[u8]>>);

impl Secret {
    /// Wraps secret bytes; empty secrets are rejected.
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] when `bytes` is empty.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Err(ConfigError::EmptySecret);
        }
        Ok(Self(zeroize::Zeroizing::new(bytes.into_boxed_slice())))
    }

    /// The secret bytes. Never log them.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}
