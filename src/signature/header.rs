//! Strict, allocation-free parsing of signature, timestamp and id headers.
//!
//! Decisions, for every format:
//! - a header must appear on exactly one line: a second line with the same name is
//!   [`InvalidHeader`](VerificationErrorKind::InvalidHeader) (which one would a proxy keep?);
//! - a value with bytes outside visible ASCII, space and tab is `InvalidHeader`;
//! - at most [`MAX_SIGNATURES`] candidate signatures are considered per header; more is
//!   `InvalidHeader`, which caps the work a request can cause.

use http::{HeaderMap, HeaderName, HeaderValue};

use super::error::{VerificationError, VerificationErrorKind};
use super::scheme::KeyValueLayout;

/// The most candidate signatures one signature header may carry.
pub const MAX_SIGNATURES: usize = 8;

/// Candidate signatures as they appear in the header (still encoded), without allocating.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidates<'a> {
    items: [&'a [u8]; MAX_SIGNATURES],
    len: usize,
}

impl<'a> Candidates<'a> {
    pub(crate) const fn new() -> Self {
        Self {
            items: [b""; MAX_SIGNATURES],
            len: 0,
        }
    }

    /// Adds a candidate; `InvalidHeader` once the cap is exceeded.
    pub(crate) fn push(&mut self, signature: &'a [u8]) -> Result<(), VerificationErrorKind> {
        let slot = self
            .items
            .get_mut(self.len)
            .ok_or(VerificationErrorKind::InvalidHeader)?;
        *slot = signature;
        self.len += 1;
        Ok(())
    }

    pub(crate) fn as_slice(&self) -> &[&'a [u8]] {
        self.items.get(..self.len).unwrap_or_default()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Visible ASCII, space or tab: what [`http::HeaderValue::to_str`] accepts, checked
/// without early exit so the loop vectorizes (header values are short; this runs on every
/// request).
fn is_visible_ascii(value: &[u8]) -> bool {
    value.iter().fold(true, |ok, &b| {
        ok & ((b' '..=b'~').contains(&b) | (b == b'\t'))
    })
}

/// The one value of header `name`: `missing` if absent, `InvalidHeader` if it appears
/// more than once or is not visible ASCII.
#[inline]
pub(crate) fn single<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
    missing: VerificationErrorKind,
) -> Result<&'h [u8], VerificationError> {
    let err = |kind| VerificationError::with_header(kind, name.clone());
    let (value, repeated) = lookup(headers, name);
    let value = value.ok_or_else(|| err(missing))?.as_bytes();
    if repeated || !is_visible_ascii(value) {
        return Err(err(VerificationErrorKind::InvalidHeader));
    }
    Ok(value)
}

/// Up to this many distinct names, a header is found by comparing names in order: the map's
/// own lookup first hashes the name byte by byte (FNV), which costs more than that.
const SCAN_KEYS: usize = 6;

/// The first value of header `name`: [`HeaderMap::get`], without hashing the name when the
/// map is small.
#[cfg(feature = "layer")]
#[inline]
pub(crate) fn first<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h HeaderValue> {
    if headers.keys_len() > SCAN_KEYS {
        return headers.get(name);
    }
    headers
        .iter()
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// The first value of header `name` and whether it has another.
#[inline]
fn lookup<'h>(headers: &'h HeaderMap, name: &HeaderName) -> (Option<&'h HeaderValue>, bool) {
    if headers.keys_len() > SCAN_KEYS {
        let mut values = headers.get_all(name).iter();
        return (values.next(), values.next().is_some());
    }
    // The map yields every value of a name right after its first one.
    let mut iter = headers.iter();
    while let Some((key, value)) = iter.next() {
        if key == name {
            return (
                Some(value),
                iter.next().is_some_and(|(next, _)| next == name),
            );
        }
    }
    (None, false)
}

/// A bare signature, maybe after `prefix`.
#[inline]
pub(crate) fn parse_bare<'a>(
    value: &'a [u8],
    prefix: Option<&str>,
    required: bool,
) -> Result<Candidates<'a>, VerificationErrorKind> {
    // Values are visible ASCII by now, so ASCII whitespace means spaces and tabs.
    let value = value.trim_ascii();
    let signature = match prefix.map(|p| value.strip_prefix(p.as_bytes())) {
        Some(Some(rest)) => rest,
        Some(None) if required => return Err(VerificationErrorKind::InvalidHeader),
        Some(None) | None => value,
    };
    if signature.is_empty() {
        return Err(VerificationErrorKind::InvalidHeader);
    }
    let mut candidates = Candidates::new();
    candidates.push(signature)?;
    Ok(candidates)
}

/// The parts of a `key=value,...` signature header.
#[derive(Debug)]
pub(crate) struct KeyValueParts<'a> {
    /// The raw timestamp element value, if a timestamp key was asked for.
    pub(crate) timestamp: Option<&'a [u8]>,
    /// Every element named like the signature key.
    pub(crate) signatures: Candidates<'a>,
}

/// Parses `t=<ts>,v=<sig>,...` (with the layout's separators and keys).
///
/// Strict where it matters: empty elements, elements without `=`, empty keys, empty
/// signature values, a repeated timestamp, a missing timestamp or no signature at all are
/// `InvalidHeader`. Spaces and tabs around elements are tolerated. Elements with unknown
/// keys are ignored, as Stripe does, so senders can add signature versions.
#[inline]
pub(crate) fn parse_key_value<'a>(
    value: &'a [u8],
    layout: &KeyValueLayout,
) -> Result<KeyValueParts<'a>, VerificationErrorKind> {
    use VerificationErrorKind::InvalidHeader;
    let signature_key = layout.signature_key.as_bytes();
    let timestamp_key = layout.timestamp_key.as_deref().map(str::as_bytes);
    let (separator, pair) = (layout.element_separator, layout.pair_separator);
    let mut timestamp = None;
    let mut signatures = Candidates::new();
    // `memchr` finds the separator with SIMD; a byte-by-byte split was most of this
    // function's time on an 80-byte Railz header.
    let mut rest = Some(value);
    while let Some(remaining) = rest {
        let (element, next) = match memchr::memchr(separator, remaining) {
            Some(comma) => (
                remaining.get(..comma).unwrap_or_default(),
                remaining.get(comma + 1..),
            ),
            None => (remaining, None),
        };
        rest = next;
        let element = element.trim_ascii();
        let eq = element
            .iter()
            .position(|&b| b == pair)
            .ok_or(InvalidHeader)?;
        let (key, val) = (
            element.get(..eq).unwrap_or_default(),
            element.get(eq + 1..).unwrap_or_default(),
        );
        if key.is_empty() {
            return Err(InvalidHeader);
        }
        if timestamp_key.is_some_and(|ts_key| same_key(key, ts_key)) {
            if timestamp.replace(val).is_some() {
                return Err(InvalidHeader);
            }
        } else if same_key(key, signature_key) {
            if val.is_empty() {
                return Err(InvalidHeader);
            }
            signatures.push(val)?;
        }
    }
    if (timestamp_key.is_some() && timestamp.is_none()) || signatures.is_empty() {
        return Err(InvalidHeader);
    }
    Ok(KeyValueParts {
        timestamp,
        signatures,
    })
}

/// Parses Standard Webhooks' `v1,<sig> v1,<sig>`: entries separated by spaces (runs of
/// spaces tolerated), each `<version>,<signature>`; other versions ignored; an entry
/// without `,` or with an empty signature, or no entry of `version`, is `InvalidHeader`.
#[inline]
pub(crate) fn parse_versioned<'a>(
    value: &'a [u8],
    version: &str,
) -> Result<Candidates<'a>, VerificationErrorKind> {
    use VerificationErrorKind::InvalidHeader;
    let version = version.as_bytes();
    let mut signatures = Candidates::new();
    for entry in value
        .split(|&b| b == b' ' || b == b'\t')
        .filter(|e| !e.is_empty())
    {
        let comma = entry.iter().position(|&b| b == b',').ok_or(InvalidHeader)?;
        let (v, sig) = (
            entry.get(..comma).unwrap_or_default(),
            entry.get(comma + 1..).unwrap_or_default(),
        );
        if v == version {
            if sig.is_empty() {
                return Err(InvalidHeader);
            }
            signatures.push(sig)?;
        }
    }
    if signatures.is_empty() {
        return Err(InvalidHeader);
    }
    Ok(signatures)
}

/// A Unix timestamp written as plain ASCII decimal digits (no sign, no spaces, no
/// fraction) that fits in a `u64`; otherwise `InvalidTimestamp`.
#[inline]
pub(crate) fn parse_timestamp(raw: &[u8]) -> Result<u64, VerificationErrorKind> {
    use VerificationErrorKind::InvalidTimestamp;
    if raw.is_empty() {
        return Err(InvalidTimestamp);
    }
    // Up to 19 digits always fit in a `u64`: the common case checks and folds each digit in
    // one pass, without overflow checks.
    if raw.len() <= 19 {
        let mut value = 0u64;
        let mut digits = true;
        for &b in raw {
            let digit = b.wrapping_sub(b'0');
            digits &= digit <= 9;
            value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
        }
        return if digits {
            Ok(value)
        } else {
            Err(InvalidTimestamp)
        };
    }
    raw.iter().try_fold(0u64, |acc, &b| {
        let digit = b.is_ascii_digit().then(|| u64::from(b - b'0'));
        digit
            .and_then(|d| acc.checked_mul(10)?.checked_add(d))
            .ok_or(InvalidTimestamp)
    })
}

/// `a == b` for the short keys of a signature header, inline: a call to `bcmp` costs more
/// than comparing one or two bytes.
#[inline]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use VerificationErrorKind::{InvalidHeader, InvalidTimestamp, MissingSignature};

    fn layout(signature: &'static str, timestamp: Option<&'static str>) -> KeyValueLayout {
        KeyValueLayout {
            signature_key: signature.into(),
            timestamp_key: timestamp.map(Into::into),
            element_separator: b',',
            pair_separator: b'=',
        }
    }

    #[test]
    fn key_value_with_other_separators() {
        let paddle = KeyValueLayout {
            element_separator: b';',
            ..layout("h1", Some("ts"))
        };
        let parts = parse_key_value(b"ts=1671552777;h1=aa;h1=bb", &paddle).unwrap();
        assert_eq!(parts.timestamp, Some(&b"1671552777"[..]));
        assert_eq!(parts.signatures.as_slice(), [b"aa", b"bb"]);
        // A `,` is now part of a value, not a separator.
        assert_eq!(
            parse_key_value(b"ts=1,h1=aa", &paddle).unwrap_err(),
            InvalidHeader
        );
    }

    #[test]
    fn key_value_reads_timestamp_and_every_signature() {
        let parts = parse_key_value(b"t=1619201259010,v=aa,v=bb", &layout("v", Some("t"))).unwrap();
        assert_eq!(parts.timestamp, Some(&b"1619201259010"[..]));
        assert_eq!(parts.signatures.as_slice(), [b"aa", b"bb"]);
    }

    #[test]
    fn key_value_tolerates_spaces_around_elements_and_any_order() {
        let parts = parse_key_value(b" v=aa ,\tt=12 , v=bb", &layout("v", Some("t"))).unwrap();
        assert_eq!(parts.timestamp, Some(&b"12"[..]));
        assert_eq!(parts.signatures.as_slice(), [b"aa", b"bb"]);
    }

    #[test]
    fn key_value_ignores_unknown_keys() {
        let parts = parse_key_value(b"t=1,v0=zz,v=aa,x=", &layout("v", Some("t"))).unwrap();
        assert_eq!(parts.signatures.as_slice(), [b"aa"]);
    }

    #[test]
    fn key_value_rejects_malformed_headers() {
        for value in [
            "",
            "t=1,v=aa,",
            ",t=1,v=aa",
            "t=1,,v=aa",
            "t=1,v=aa,garbage",
            "t=1,=aa,v=bb",
            "t=1,v=",
            "t=1,t=1,v=aa",
            "t=1,t=2,v=aa",
            "v=aa",
            "t=1",
            "t=1,v2=aa",
            "t = 1,v=aa",
        ] {
            assert_eq!(
                parse_key_value(value.as_bytes(), &layout("v", Some("t"))).unwrap_err(),
                InvalidHeader,
                "{value:?}"
            );
        }
    }

    #[test]
    fn key_value_without_timestamp_key() {
        let parts = parse_key_value(b"v1=aa", &layout("v1", None)).unwrap();
        assert_eq!(parts.timestamp, None);
        // `t` is then just an unknown element.
        let parts = parse_key_value(b"t=5,v1=aa", &layout("v1", None)).unwrap();
        assert_eq!(parts.signatures.as_slice(), [b"aa"]);
    }

    #[test]
    fn signature_count_is_capped() {
        let eight = "t=1,v=a,v=b,v=c,v=d,v=e,v=f,v=g,v=h";
        assert_eq!(
            parse_key_value(eight.as_bytes(), &layout("v", Some("t")))
                .unwrap()
                .signatures
                .as_slice()
                .len(),
            MAX_SIGNATURES
        );
        let nine = format!("{eight},v=i");
        assert_eq!(
            parse_key_value(nine.as_bytes(), &layout("v", Some("t"))).unwrap_err(),
            InvalidHeader
        );
        let nine_versioned = "v1,a ".repeat(MAX_SIGNATURES + 1);
        assert_eq!(
            parse_versioned(nine_versioned.as_bytes(), "v1").unwrap_err(),
            InvalidHeader
        );
    }

    #[test]
    fn bare_with_optional_and_required_prefix() {
        assert_eq!(
            parse_bare(b"sha256=ab", Some("sha256="), false)
                .unwrap()
                .as_slice(),
            [b"ab"]
        );
        assert_eq!(
            parse_bare(b" ab ", Some("sha256="), false)
                .unwrap()
                .as_slice(),
            [b"ab"]
        );
        assert_eq!(
            parse_bare(b"ab", Some("sha256="), true).unwrap_err(),
            InvalidHeader
        );
        assert_eq!(
            parse_bare(b"sha256=", Some("sha256="), false).unwrap_err(),
            InvalidHeader
        );
        assert_eq!(parse_bare(b"  ", None, false).unwrap_err(), InvalidHeader);
        assert_eq!(parse_bare(b"ab", None, false).unwrap().as_slice(), [b"ab"]);
    }

    #[test]
    fn versioned_list_parsing() {
        let sigs = parse_versioned(b"v1,aa  v2,zz v1,bb", "v1").unwrap();
        assert_eq!(sigs.as_slice(), [b"aa", b"bb"]);
        for value in ["", "v2,zz", "v1", "v1,", "v1,aa junk"] {
            assert_eq!(
                parse_versioned(value.as_bytes(), "v1").unwrap_err(),
                InvalidHeader,
                "{value:?}"
            );
        }
    }

    #[test]
    fn timestamps_are_plain_digits() {
        assert_eq!(parse_timestamp(b"1619201259010"), Ok(1_619_201_259_010));
        assert_eq!(parse_timestamp(b"007"), Ok(7));
        for raw in [
            "",
            "+1",
            "-1",
            "1.5",
            " 1",
            "1e3",
            "0x10",
            "18446744073709551616",
            "١٢",
        ] {
            assert_eq!(
                parse_timestamp(raw.as_bytes()),
                Err(InvalidTimestamp),
                "{raw:?}"
            );
        }
        assert_eq!(parse_timestamp(b"18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn single_header_rules() {
        let name = HeaderName::from_static("x-sig");
        let mut headers = HeaderMap::new();
        assert_eq!(
            single(&headers, &name, MissingSignature)
                .unwrap_err()
                .kind(),
            MissingSignature
        );

        headers.insert(&name, HeaderValue::from_static("abc"));
        assert_eq!(single(&headers, &name, MissingSignature).unwrap(), b"abc");

        headers.append(&name, HeaderValue::from_static("abc"));
        let err = single(&headers, &name, MissingSignature).unwrap_err();
        assert_eq!(err.kind(), InvalidHeader);
        assert_eq!(err.header(), Some(&name));

        headers.insert(&name, HeaderValue::from_bytes(b"ab\xffc").unwrap());
        assert_eq!(
            single(&headers, &name, MissingSignature)
                .unwrap_err()
                .kind(),
            InvalidHeader
        );
    }

    /// Small maps are scanned, larger ones hashed: the same answers, wherever the header is.
    #[test]
    fn single_header_rules_in_maps_of_every_size() {
        let name = HeaderName::from_static("x-sig");
        for others in 0..=2 * SCAN_KEYS {
            for at in 0..=others {
                let mut headers = HeaderMap::new();
                for i in 0..others {
                    if i == at {
                        headers.insert(&name, HeaderValue::from_static("abc"));
                    }
                    let other = HeaderName::try_from(format!("x-other-{i}")).unwrap();
                    headers.insert(other, HeaderValue::from_static("other"));
                }
                headers.insert(http::header::HOST, HeaderValue::from_static("h"));
                let without = {
                    let mut map = headers.clone();
                    map.remove(&name);
                    map
                };
                assert_eq!(
                    single(&without, &name, MissingSignature)
                        .unwrap_err()
                        .kind(),
                    MissingSignature
                );
                headers.insert(&name, HeaderValue::from_static("abc"));
                assert_eq!(
                    single(&headers, &name, MissingSignature).unwrap(),
                    b"abc",
                    "{others} {at}"
                );
                #[cfg(feature = "layer")]
                {
                    assert_eq!(first(&headers, &name), headers.get(&name));
                    assert_eq!(first(&without, &name), None);
                    let host = &http::header::HOST;
                    assert_eq!(first(&headers, host), headers.get(host));
                }
                headers.append(&name, HeaderValue::from_static("abc"));
                assert_eq!(
                    single(&headers, &name, MissingSignature)
                        .unwrap_err()
                        .kind(),
                    InvalidHeader,
                    "{others} {at}"
                );
            }
        }
    }
}
