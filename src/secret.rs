//! Secrets: zeroized on drop, redacted in `Debug`.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

use crate::ConfigError;

/// A webhook signing secret or shared token: what every [`Verifier`](crate::Verifier)
/// constructor and [`KeyRing`](crate::signature::KeyRing) method takes.
///
/// Built from `&str`, `String`, `&[u8]`, `Vec<u8>` (and references to them) with `From`,
/// so constructors accept any of them. The bytes are zeroized when the value is dropped
/// (an owned `String`/`Vec<u8>` handed over is zeroized once copied) and never appear in
/// `Debug` output. An empty secret is refused by the verifier it is given to.
///
/// ```
/// use ledgerhook::{Secret, Verifier};
///
/// let secret = Secret::from(std::env::var("NO_SUCH_VAR").unwrap_or("whsec_example".into()));
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
/// let verifier = Verifier::railz(secret)?;
/// assert!(Secret::new("").is_err());
/// # Ok::<(), ledgerhook::ConfigError>(())
/// ```
pub struct Secret(Zeroizing<Box<[u8]>>);

impl Secret {
    /// Wraps secret bytes; empty secrets are rejected.
    ///
    /// # Errors
    /// [`ConfigError`] for setting `secret` when `bytes` is empty.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let secret = Self::from(bytes.into());
        if secret.expose().is_empty() {
            return Err(ConfigError::empty("secret"));
        }
        Ok(secret)
    }

    /// The secret bytes. Never log them.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    fn copy(bytes: &[u8]) -> Self {
        Self(Zeroizing::new(Box::from(bytes)))
    }
}

impl From<Vec<u8>> for Secret {
    /// Copies into an exactly-sized box (instead of `into_boxed_slice`, which may
    /// reallocate and free the original buffer without zeroizing it), then zeroizes `bytes`.
    fn from(mut bytes: Vec<u8>) -> Self {
        let secret = Self::copy(&bytes);
        bytes.zeroize();
        secret
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Self::from(text.into_bytes())
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Self::copy(text.as_bytes())
    }
}

impl From<&String> for Secret {
    fn from(text: &String) -> Self {
        Self::copy(text.as_bytes())
    }
}

impl From<&[u8]> for Secret {
    fn from(bytes: &[u8]) -> Self {
        Self::copy(bytes)
    }
}

impl From<&Vec<u8>> for Secret {
    fn from(bytes: &Vec<u8>) -> Self {
        Self::copy(bytes)
    }
}

impl<const N: usize> From<&[u8; N]> for Secret {
    fn from(bytes: &[u8; N]) -> Self {
        Self::copy(bytes)
    }
}

impl From<&Self> for Secret {
    fn from(secret: &Self) -> Self {
        secret.clone()
    }
}

impl Clone for Secret {
    fn clone(&self) -> Self {
        Self::copy(self.expose())
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
        assert_eq!(Secret::new(Vec::new()).unwrap_err().setting(), "secret");
        assert!(Secret::new("").is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let secret = Secret::new("hunter2-very-secret").unwrap();
        let shown = format!("{secret:?} {secret:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn every_form_gives_the_same_bytes() {
        let forms = [
            Secret::from("abc"),
            Secret::from(String::from("abc")),
            Secret::from(&String::from("abc")),
            Secret::from(&b"abc"[..]),
            Secret::from(b"abc"),
            Secret::from(b"abc".to_vec()),
            Secret::from(&b"abc".to_vec()),
            Secret::new("abc").unwrap().clone(),
        ];
        for secret in forms {
            assert_eq!(secret.expose(), b"abc");
        }
    }
}
