//! Secrets: zeroized on drop, redacted in `Debug`, never empty.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

use crate::ConfigError;

/// A webhook signing secret or shared token.
///
/// The bytes are zeroized when the value is dropped and never appear in `Debug` output.
///
/// ```
/// use ledgerhook::Secret;
///
/// let secret = Secret::new("whsec_example")?;
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
/// assert!(Secret::new("").is_err());
/// # Ok::<(), ledgerhook::ConfigError>(())
/// ```
pub struct Secret(Zeroizing<Box<[u8]>>);

impl Secret {
    /// Wraps secret bytes; empty secrets are rejected.
    ///
    /// The input buffer is zeroized after it has been copied, so no stray copy of the secret
    /// is left behind in freed memory.
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] when `bytes` is empty.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let mut bytes = bytes.into();
        if bytes.is_empty() {
            return Err(ConfigError::EmptySecret);
        }
        // Copy into an exactly-sized box instead of `into_boxed_slice`, which may reallocate
        // and free the original buffer without zeroizing it.
        let boxed: Box<[u8]> = Box::from(bytes.as_slice());
        bytes.zeroize();
        Ok(Self(Zeroizing::new(boxed)))
    }

    /// The secret bytes. Never log them.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl Clone for Secret {
    fn clone(&self) -> Self {
        Self(Zeroizing::new(Box::from(&**self.0)))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_secret_is_rejected() {
        assert_eq!(
            Secret::new(Vec::new()).unwrap_err(),
            ConfigError::EmptySecret
        );
        assert_eq!(Secret::new("").unwrap_err(), ConfigError::EmptySecret);
    }

    #[test]
    fn debug_is_redacted() {
        let secret = Secret::new("hunter2-very-secret").unwrap();
        let shown = format!("{secret:?} {secret:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn expose_and_clone_keep_the_bytes() {
        let secret = Secret::new(b"abc".to_vec()).unwrap();
        assert_eq!(secret.expose(), b"abc");
        assert_eq!(secret.clone().expose(), b"abc");
    }
}
