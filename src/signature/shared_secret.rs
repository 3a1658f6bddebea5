//! Shared-secret headers: RootFi v3 custom headers (e.g. `api_key: <token>`) and Railz's
//! optional `Authorization: Bearer <token>`.
//!
//! The presented value and every configured token are compared as SHA-256 digests with
//! [`subtle::ConstantTimeEq`]: the comparison takes the same time whatever the value, and
//! does not even reveal the token's length.

use http::{HeaderMap, HeaderName};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroizing;

use super::clock::TimeSource;
use super::engine::insert;
use super::error::{VerificationError, VerificationErrorKind};
use super::header;
use super::keys::{KeyMaterial, KeySet};

/// The `Bearer` authentication scheme name, compared case-insensitively (RFC 9110 §11.1).
const BEARER: &str = "bearer";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SharedSecretScheme {
    pub(crate) header: HeaderName,
    /// Expect `Bearer <token>` rather than the bare token.
    pub(crate) bearer: bool,
    /// The lower-case preset name, see [`Verifier::provider`](crate::Verifier::provider).
    pub(crate) provider: &'static str,
}

impl SharedSecretScheme {
    /// The token part of the header value; `None` when a `Bearer` value lacks the scheme.
    fn token<'a>(&self, value: &'a [u8]) -> Option<&'a [u8]> {
        if !self.bearer {
            return Some(value);
        }
        let space = value.iter().position(|&b| b == b' ')?;
        let (scheme, token) = value.split_at(space);
        scheme
            .eq_ignore_ascii_case(BEARER.as_bytes())
            .then(|| token.trim_ascii_start())
    }

    pub(crate) fn verify(
        &self,
        keys: &KeySet,
        clock: &TimeSource,
        headers: &HeaderMap,
    ) -> Result<(), VerificationError> {
        let mismatch = || {
            VerificationError::with_header(
                VerificationErrorKind::TokenMismatch,
                self.header.clone(),
            )
        };
        let value = header::single(headers, &self.header, VerificationErrorKind::MissingToken)?;
        let token = self.token(value).ok_or_else(mismatch)?;
        let presented: [u8; 32] = Sha256::digest(token).into();
        let now = keys.needs_clock().then(|| clock.now());
        let matched = keys
            .entries
            .iter()
            .filter(|entry| now.is_none_or(|now| entry.is_active(now)))
            .fold(Choice::from(0), |acc, entry| {
                acc | entry.key.token_digest.ct_eq(&presented)
            });
        if bool::from(matched) {
            Ok(())
        } else {
            Err(mismatch())
        }
    }

    pub(crate) fn sign(&self, key: &KeyMaterial) -> HeaderMap {
        let mut headers = HeaderMap::new();
        // Tokens were checked to be visible ASCII when added to the key ring, so this
        // borrows; the `Bearer` copy is zeroized. The returned header value is the caller's
        // copy (a sender has to put the token on the wire).
        let token = String::from_utf8_lossy(key.secret.expose());
        if self.bearer {
            let value = Zeroizing::new(format!("Bearer {token}"));
            insert(&mut headers, &self.header, &value);
        } else {
            insert(&mut headers, &self.header, &token);
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token_extraction() {
        let scheme = SharedSecretScheme {
            header: http::header::AUTHORIZATION,
            bearer: true,
            provider: "bearer",
        };
        assert_eq!(scheme.token(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(scheme.token(b"bearer  abc"), Some(&b"abc"[..]));
        assert_eq!(scheme.token(b"BEARER abc def"), Some(&b"abc def"[..]));
        assert_eq!(scheme.token(b"Basic abc"), None);
        assert_eq!(scheme.token(b"Bearerabc"), None);
        assert_eq!(scheme.token(b"abc"), None);

        let plain = SharedSecretScheme {
            header: HeaderName::from_static("api_key"),
            bearer: false,
            provider: "shared_secret",
        };
        assert_eq!(plain.token(b"Bearer abc"), Some(&b"Bearer abc"[..]));
    }
}
