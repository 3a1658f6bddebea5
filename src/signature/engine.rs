//! The one HMAC-SHA256 engine behind every HMAC scheme: verify and sign.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use hmac::Mac;
use hmac::digest::FixedOutput;
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use super::clock::TimeSource;
use super::content::{HeaderValues, MAX_HEADER_PIECES, Parts};
use super::error::{VerificationError, VerificationErrorKind};
use super::keys::{KeyMaterial, KeySet};
use super::parsed::{self, TimestampCheck};
use super::scheme::{Encoding, Format, HmacScheme, TimestampSource, TimestampUnit};

/// A decoded or computed HMAC-SHA256 output.
pub(crate) type Tag = [u8; 32];

/// The MAC of the signed content under `key`.
///
/// Finalized with `finalize_fixed`, as `Mac::verify_slice` does: `Mac::finalize` wraps the
/// output in a `CtOutput` whose copy and byte-wise volatile zeroing on drop cost time on
/// every request (BENCHMARKS.md). The MAC of received content is not key material; the
/// keyed state it came from is still zeroized.
fn tag(key: &KeyMaterial, scheme: &HmacScheme, parts: &Parts<'_>, body: &[u8]) -> Tag {
    let mut mac = key.mac.clone();
    scheme.content.feed(parts, body, |bytes| mac.update(bytes));
    mac.finalize_fixed().into()
}

/// Whether the MAC of the signed content under the raw key `key` equals one of `macs`
/// (for the explainer, off the hot path: keys the HMAC afresh).
#[cfg(feature = "explain")]
pub(crate) fn matches_raw_key(
    key: &[u8],
    scheme: &HmacScheme,
    parts: &Parts<'_>,
    body: &[u8],
    macs: &[Tag],
) -> bool {
    use hmac::{Hmac, KeyInit};
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return false;
    };
    scheme.content.feed(parts, body, |bytes| mac.update(bytes));
    let expected: Tag = mac.finalize_fixed().into();
    macs.iter()
        .fold(Choice::from(0), |acc, candidate| {
            acc | ct_eq(candidate, &expected)
        })
        .into()
}

/// Standard alphabet; padding accepted whether present or not.
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes one candidate into `out`; anything that is not exactly 32 bytes in the
/// configured encoding (truncated, extended, bad characters) is `false` and never matches
/// (`out` is then left in an unspecified state). Hex is accepted in either case.
pub(crate) fn decode(encoding: Encoding, candidate: &[u8], out: &mut Tag) -> bool {
    match encoding {
        Encoding::Hex => {
            // Exactly 64 digits: `const_hex` also accepts a `0x` prefix, which no sender
            // writes and the docs do not allow (found by fuzzing, see fuzz/regressions).
            candidate.len() == 2 * out.len() && const_hex::decode_to_slice(candidate, out).is_ok()
        }
        Encoding::Base64 => {
            // A 32-byte MAC is 43 characters unpadded, 44 padded: rejecting other lengths
            // first keeps oversized candidates from costing a decode.
            (43..=44).contains(&candidate.len())
                && BASE64_LENIENT
                    .decode_slice(candidate, out)
                    .is_ok_and(|written| written == out.len())
        }
    }
}

/// [`decode`] into a new array.
#[cfg(any(test, feature = "explain"))]
pub(crate) fn decoded(encoding: Encoding, candidate: &[u8]) -> Option<Tag> {
    let mut out = [0u8; 32];
    decode(encoding, candidate, &mut out).then_some(out)
}

/// Constant-time equality of two MACs with [`subtle`], compared as four 64-bit words: the
/// vetted primitive does the comparison (no hand-rolled fold), and words cost a quarter of
/// the optimisation barriers that a per-byte `ct_eq` on 32 bytes would.
fn ct_eq(a: &Tag, b: &Tag) -> Choice {
    fn words(tag: &Tag) -> [u64; 4] {
        let mut out = [0u64; 4];
        for (word, chunk) in out.iter_mut().zip(tag.as_chunks::<8>().0) {
            *word = u64::from_ne_bytes(*chunk);
        }
        out
    }
    words(a).as_slice().ct_eq(words(b).as_slice())
}

fn encode(encoding: Encoding, tag: &Tag) -> String {
    match encoding {
        Encoding::Hex => const_hex::encode(tag),
        Encoding::Base64 => STANDARD.encode(tag),
    }
}

/// `since_epoch` expressed in `unit` (saturating at `u64::MAX`), in `u64` arithmetic.
pub(crate) fn to_unit(since_epoch: Duration, unit: TimestampUnit) -> u64 {
    match unit {
        TimestampUnit::Seconds => since_epoch.as_secs(),
        TimestampUnit::Milliseconds => since_epoch
            .as_secs()
            .saturating_mul(1000)
            .saturating_add(u64::from(since_epoch.subsec_millis())),
    }
}

/// Checks `timestamp` against `now` in the timestamp's own unit; exactly `tolerance` away
/// is accepted.
#[cfg(test)]
pub(crate) fn check_tolerance(
    timestamp: u64,
    unit: TimestampUnit,
    tolerance: Duration,
    now: SystemTime,
) -> Result<(), VerificationErrorKind> {
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    check_tolerance_since(timestamp, unit, tolerance, since_epoch)
}

/// [`check_tolerance`] at `since_epoch` after the Unix epoch (zero at or before it).
pub(crate) fn check_tolerance_since(
    timestamp: u64,
    unit: TimestampUnit,
    tolerance: Duration,
    since_epoch: Duration,
) -> Result<(), VerificationErrorKind> {
    let now = to_unit(since_epoch, unit);
    let tolerance = to_unit(tolerance, unit);
    if now.saturating_sub(timestamp) > tolerance {
        Err(VerificationErrorKind::TimestampTooOld)
    } else if timestamp.saturating_sub(now) > tolerance {
        Err(VerificationErrorKind::TimestampInFuture)
    } else {
        Ok(())
    }
}

/// Verifies `headers` + `body` against every active key: the [`parsed`](super::parsed)
/// header first (every refusal the headers alone can justify, the tolerance included),
/// then one HMAC over the signed content per active key until one matches.
pub(crate) fn verify(
    scheme: &HmacScheme,
    keys: &KeySet,
    clock: &TimeSource,
    headers: &HeaderMap,
    body: &[u8],
    check: TimestampCheck,
) -> Result<(), VerificationError> {
    let hit = parsed::parse_then(scheme, clock, headers, check, |parsed| {
        // The tolerance's reading, unless it was at or before the epoch (then not exact).
        let now = || {
            parsed
                .now
                .filter(|since| !since.is_zero())
                .and_then(|since| UNIX_EPOCH.checked_add(since))
                .unwrap_or_else(|| clock.now())
        };
        matches_a_key(scheme, keys, now, &parsed.parts(), parsed.macs(), body)
    })?;
    matched(scheme, hit)
}

/// Verifies `body` against what a passed precheck kept of the headers (`timestamp` as
/// signed, the one candidate `mac`): the headers were parsed and the tolerance checked then.
#[cfg(feature = "layer")]
pub(crate) fn verify_kept(
    scheme: &HmacScheme,
    keys: &KeySet,
    clock: &TimeSource,
    (timestamp, mac): (&[u8], &Tag),
    body: &[u8],
) -> Result<(), VerificationError> {
    let parts = Parts {
        timestamp,
        headers: HeaderValues::default(),
    };
    // Read only when a key expires: expiry is decided now, not when the headers came.
    let now = || clock.now();
    matched(
        scheme,
        matches_a_key(scheme, keys, now, &parts, std::slice::from_ref(mac), body),
    )
}

fn matched(scheme: &HmacScheme, hit: bool) -> Result<(), VerificationError> {
    if hit {
        Ok(())
    } else {
        Err(VerificationError::with_header(
            VerificationErrorKind::SignatureMismatch,
            scheme.header.clone(),
        ))
    }
}

/// Whether any active key's MAC of the signed content equals one of `macs`; `now` is asked
/// only when a key expires.
#[inline]
fn matches_a_key(
    scheme: &HmacScheme,
    keys: &KeySet,
    now: impl FnOnce() -> SystemTime,
    parts: &Parts<'_>,
    macs: &[Tag],
    body: &[u8],
) -> bool {
    let now = (keys.needs_clock()).then(now);
    keys.entries
        .iter()
        .filter(|entry| now.is_none_or(|now| entry.is_active(now)))
        .any(|entry| {
            let expected = tag(&entry.key, scheme, parts, body);
            // Constant time per comparison; stopping after a match only reveals that the
            // request was genuine, which is not secret.
            let hit = macs.iter().fold(Choice::from(0), |acc, candidate| {
                acc | ct_eq(candidate, &expected)
            });
            bool::from(hit)
        })
}

/// The headers a sender attaches: signed with `key` at `now`.
pub(crate) fn sign(
    scheme: &HmacScheme,
    key: &KeyMaterial,
    body: &[u8],
    now: SystemTime,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let timestamp = scheme.timestamp_source().map(|_| {
        to_unit(
            now.duration_since(UNIX_EPOCH).unwrap_or_default(),
            scheme.unit,
        )
        .to_string()
    });
    let ts = timestamp.as_deref().unwrap_or_default();
    // A deterministic id for every header the content names: the same body at the same
    // time gets the same id, which is what a retried delivery looks like.
    let digest = Sha256::new()
        .chain_update(ts.as_bytes())
        .chain_update(b".")
        .chain_update(body)
        .finalize();
    let id = format!(
        "msg_{}",
        const_hex::encode(digest.get(..12).unwrap_or_default())
    );
    let ids = [id.as_bytes(); MAX_HEADER_PIECES];
    for name in scheme.content.headers() {
        insert(&mut headers, name, &id);
    }
    let parts = Parts {
        timestamp: ts.as_bytes(),
        headers: HeaderValues::from_slice(&ids),
    };
    let signature = encode(scheme.encoding, &tag(key, scheme, &parts, body));
    let value = match &scheme.format.0 {
        Format::Bare {
            prefix: Some(prefix),
            required: true,
        } => format!("{prefix}{signature}"),
        Format::Bare { .. } => signature,
        Format::KeyValue(layout) => {
            let (sep, pair) = (
                char::from(layout.element_separator),
                char::from(layout.pair_separator),
            );
            match &layout.timestamp_key {
                Some(ts_key) => {
                    format!(
                        "{ts_key}{pair}{ts}{sep}{}{pair}{signature}",
                        layout.signature_key
                    )
                }
                None => format!("{}{pair}{signature}", layout.signature_key),
            }
        }
        Format::Versioned { version } => format!("{version},{signature}"),
    };
    insert(&mut headers, &scheme.header, &value);
    if let Some(TimestampSource::Header(name)) = scheme.timestamp_source() {
        insert(&mut headers, name, ts);
    }
    headers
}

/// Inserts a value built from validated configuration and ASCII encodings; such a value is
/// always a valid header value, so the error branch is unreachable in practice.
pub(crate) fn insert(headers: &mut HeaderMap, name: &HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use VerificationErrorKind::{TimestampInFuture, TimestampTooOld};

    const MS: TimestampUnit = TimestampUnit::Milliseconds;
    const S: TimestampUnit = TimestampUnit::Seconds;

    fn at_ms(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn tolerance_edges_in_milliseconds() {
        let tol = Duration::from_secs(300);
        let now = at_ms(1_000_000_000);
        assert_eq!(check_tolerance(1_000_000_000, MS, tol, now), Ok(()));
        assert_eq!(
            check_tolerance(1_000_000_000 - 300_000, MS, tol, now),
            Ok(())
        );
        assert_eq!(
            check_tolerance(1_000_000_000 - 300_001, MS, tol, now),
            Err(TimestampTooOld)
        );
        assert_eq!(
            check_tolerance(1_000_000_000 + 300_000, MS, tol, now),
            Ok(())
        );
        assert_eq!(
            check_tolerance(1_000_000_000 + 300_001, MS, tol, now),
            Err(TimestampInFuture)
        );
    }

    #[test]
    fn tolerance_edges_in_seconds() {
        let tol = Duration::from_secs(300);
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(check_tolerance(1_000_000 - 300, S, tol, now), Ok(()));
        assert_eq!(
            check_tolerance(1_000_000 - 301, S, tol, now),
            Err(TimestampTooOld)
        );
        assert_eq!(check_tolerance(1_000_000 + 300, S, tol, now), Ok(()));
        assert_eq!(
            check_tolerance(1_000_000 + 301, S, tol, now),
            Err(TimestampInFuture)
        );
    }

    #[test]
    fn tolerance_extremes_do_not_overflow() {
        let tol = Duration::from_secs(300);
        assert_eq!(
            check_tolerance(u64::MAX, MS, tol, at_ms(0)),
            Err(TimestampInFuture)
        );
        assert_eq!(
            check_tolerance(0, MS, tol, at_ms(u64::MAX)),
            Err(TimestampTooOld)
        );
        assert_eq!(
            check_tolerance(0, S, Duration::MAX, at_ms(u64::MAX)),
            Ok(())
        );
        let before_epoch = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(check_tolerance(0, S, tol, before_epoch), Ok(()));
    }

    #[test]
    fn hex_candidates_decode_to_exactly_32_bytes() {
        let hex64 = "e7081c7b8e7f081fbeae78a57c2617f7332035a2729700dda43bc52e87491434";
        let tag = decoded(Encoding::Hex, hex64.as_bytes()).unwrap();
        assert_eq!(tag[..2], [0xe7, 0x08]);
        assert_eq!(tag[31], 0x34);
        assert_eq!(
            decoded(Encoding::Hex, hex64.to_uppercase().as_bytes()),
            Some(tag)
        );
        assert_eq!(decoded(Encoding::Hex, &hex64.as_bytes()[..62]), None);
        assert_eq!(
            decoded(Encoding::Hex, format!("{hex64}00").as_bytes()),
            None
        );
        assert_eq!(
            decoded(Encoding::Hex, hex64.replace('e', "g").as_bytes()),
            None
        );
        assert_eq!(
            decoded(Encoding::Hex, format!("0x{}", &hex64[2..]).as_bytes()),
            None
        );
        assert_eq!(
            decoded(Encoding::Hex, format!("0x{hex64}").as_bytes()),
            None
        );
        assert_eq!(encode(Encoding::Hex, &tag), hex64);
    }

    #[test]
    fn base64_candidates_with_or_without_padding() {
        let tag: Tag = core::array::from_fn(|i| u8::try_from(i * 7).unwrap());
        let b64 = STANDARD.encode(tag);
        assert_eq!(b64.len(), 44);
        assert_eq!(encode(Encoding::Base64, &tag), b64);
        assert_eq!(decoded(Encoding::Base64, b64.as_bytes()), Some(tag));
        assert_eq!(
            decoded(Encoding::Base64, b64.trim_end_matches('=').as_bytes()),
            Some(tag)
        );
        assert_eq!(decoded(Encoding::Base64, &b64.as_bytes()[..40]), None);
        assert_eq!(
            decoded(Encoding::Base64, STANDARD.encode([0u8; 33]).as_bytes()),
            None
        );
        assert_eq!(decoded(Encoding::Base64, b"!!!!"), None);
        assert_eq!(decoded(Encoding::Base64, "!".repeat(44).as_bytes()), None);
    }

    #[test]
    fn ct_eq_sees_every_byte() {
        let a = [0x5a; 32];
        for i in 0..32 {
            let mut b = a;
            b[i] ^= 0x01;
            assert!(!bool::from(ct_eq(&a, &b)), "byte {i}");
        }
        assert!(bool::from(ct_eq(&a, &a)));
    }
}
