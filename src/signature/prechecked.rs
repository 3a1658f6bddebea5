//! What a passed precheck learnt from the headers, kept so that verifying the body after
//! buffering does not look up, parse and decode the same headers (or read the clock) again.

use super::engine::Tag;
use super::parsed::ParsedSignature;
use super::scheme::HmacScheme;

/// The longest timestamp kept inline; longer ones (leading zeros) are parsed again.
const MAX_KEPT_TIMESTAMP: usize = 20;

/// The outcome of a passed [`Verifier::precheck_keeping`](super::Verifier::precheck_keeping),
/// for [`Verifier::verify_prechecked`](super::Verifier::verify_prechecked).
///
/// Owned (no borrow of the headers), fixed size, no allocation: it can travel in a
/// response future beside the request parts.
#[derive(Debug, Clone)]
pub(crate) struct Prechecked(Kept);

#[derive(Debug, Clone)]
enum Kept {
    /// An HMAC scheme whose signed content names no header, with exactly one candidate:
    /// all the body's verification needs from the headers.
    Hmac {
        timestamp: [u8; MAX_KEPT_TIMESTAMP],
        timestamp_len: u8,
        mac: Tag,
    },
    /// Anything else (shared-secret tokens, several candidates, header placeholders): the
    /// verification parses the headers again.
    Reparse,
}

impl Prechecked {
    /// Nothing kept: verify the headers again.
    pub(crate) const fn reparse() -> Self {
        Self(Kept::Reparse)
    }

    /// Keeps `parsed` when it is all the verification needs.
    #[inline]
    pub(crate) fn keep(scheme: &HmacScheme, parsed: &ParsedSignature<'_>) -> Self {
        let raw = parsed.timestamp.map_or(&[][..], |ts| ts.raw);
        let (&[mac], Ok(timestamp_len)) = (parsed.macs(), u8::try_from(raw.len())) else {
            return Self::reparse();
        };
        let mut timestamp = [0u8; MAX_KEPT_TIMESTAMP];
        match timestamp.get_mut(..raw.len()) {
            Some(slot) if !scheme.content.names_headers() => slot.copy_from_slice(raw),
            _ => return Self::reparse(),
        }
        Self(Kept::Hmac {
            timestamp,
            timestamp_len,
            mac,
        })
    }

    /// The kept signed timestamp (empty for schemes without one) and MAC, if kept.
    #[inline]
    pub(crate) fn kept(&self) -> Option<(&[u8], &Tag)> {
        match &self.0 {
            Kept::Hmac {
                timestamp,
                timestamp_len,
                mac,
            } => Some((
                timestamp
                    .get(..usize::from(*timestamp_len))
                    .unwrap_or_default(),
                mac,
            )),
            Kept::Reparse => None,
        }
    }
}
