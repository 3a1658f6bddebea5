//! Strict, allocation-free parsing of signature, timestamp and id headers.
//!
//! Decisions, for every format:
//! - a header must appear on exactly one line: a second line with the same name is
//!   [`InvalidHeader`](VerificationErrorKind::InvalidHeader) (which one would a proxy keep?);
//! - a value with bytes outside visible ASCII, space and tab is `InvalidHeader`;
//! - at most [`MAX_SIGNATURES`] candidate signatures are considered per header; more is
//!   `InvalidHeader`, which caps the work a request can cause.

use http::{HeaderMap, HeaderName};

use super::error::{VerificationError, VerificationErrorKind};

/// The most candidate signatures one signature header may carry.
pub const MAX_SIGNATURES: usize = 8;

/// Candidate signatures as they appear in the header (still encoded), without allocating.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidates<'a> {
    items: [&'a str; MAX_SIGNATURES],
    len: usize,
}

impl<'a> Candidates<'a> {
    pub(crate) const fn new() -> Self {
        Self {
            items: [""; MAX_SIGNATURES],
            len: 0,
        }
    }

    /// Adds a candidate; `InvalidHeader` once the cap is exceeded.
    pub(crate) fn push(&mut self, signature: &'a str) -> Result<(), VerificationErrorKind> {
        let slot = self
            .items
            .get_mut(self.len)
            .ok_or(VerificationErrorKind::InvalidHeader)?;
        *slot = signature;
        self.len += 1;
        Ok(())
    }

    pub(crate) fn as_slice(&self) -> &[&'a str] {
        self.items.get(..self.len).unwrap_or_default()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The one value of header `name`: `MissingHeader` if absent, `InvalidHeader` if it appears
/// more than once or is not visible ASCII.
pub(crate) fn single<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<&'h str, VerificationError> {
    let mut values = headers.get_all(name).iter();
    let err = |kind| VerificationError::with_header(kind, name.clone());
    let value = values
        .next()
        .ok_or_else(|| err(VerificationErrorKind::MissingHeader))?;
    if values.next().is_some() {
        return Err(err(VerificationErrorKind::InvalidHeader));
    }
    value
        .to_str()
        .map_err(|_| err(VerificationErrorKind::InvalidHeader))
}

/// Trims the optional whitespace allowed around elements.
fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// A bare signature, maybe after `prefix`.
pub(crate) fn parse_bare<'a>(
    value: &'a str,
    prefix: Option<&str>,
    required: bool,
) -> Result<Candidates<'a>, VerificationErrorKind> {
    let value = trim_ows(value);
    let signature = match prefix.map(|p| value.strip_prefix(p)) {
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
    pub(crate) timestamp: Option<&'a str>,
    /// Every element named like the signature key.
    pub(crate) signatures: Candidates<'a>,
}

/// Parses `t=<ts>,v=<sig>,...`.
///
/// Strict where it matters: empty elements, elements without `=`, empty keys, empty
/// signature values, a repeated timestamp, a missing timestamp or no signature at all are
/// `InvalidHeader`. Spaces and tabs around elements are tolerated. Elements with unknown
/// keys are ignored, as Stripe does, so senders can add signature versions.
pub(crate) fn parse_key_value<'a>(
    value: &'a str,
    signature_key: &str,
    timestamp_key: Option<&str>,
) -> Result<KeyValueParts<'a>, VerificationErrorKind> {
    use VerificationErrorKind::InvalidHeader;
    let mut timestamp = None;
    let mut signatures = Candidates::new();
    for element in value.split(',') {
        let (key, val) = trim_ows(element).split_once('=').ok_or(InvalidHeader)?;
        if key.is_empty() {
            return Err(InvalidHeader);
        }
        if Some(key) == timestamp_key {
            if timestamp.replace(val).is_some() {
                return Err(InvalidHeader);
            }
        } else if key == signature_key {
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
pub(crate) fn parse_versioned<'a>(
    value: &'a str,
    version: &str,
) -> Result<Candidates<'a>, VerificationErrorKind> {
    use VerificationErrorKind::InvalidHeader;
    let mut signatures = Candidates::new();
    for entry in value.split([' ', '\t']).filter(|e| !e.is_empty()) {
        let (v, sig) = entry.split_once(',').ok_or(InvalidHeader)?;
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
pub(crate) fn parse_timestamp(raw: &str) -> Result<u64, VerificationErrorKind> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerificationErrorKind::InvalidTimestamp);
    }
    raw.parse()
        .map_err(|_| VerificationErrorKind::InvalidTimestamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use VerificationErrorKind::{InvalidHeader, InvalidTimestamp, MissingHeader};
    use http::HeaderValue;

    #[test]
    fn key_value_reads_timestamp_and_every_signature() {
        let parts = parse_key_value("t=1619201259010,v=aa,v=bb", "v", Some("t")).unwrap();
        assert_eq!(parts.timestamp, Some("1619201259010"));
        assert_eq!(parts.signatures.as_slice(), ["aa", "bb"]);
    }

    #[test]
    fn key_value_tolerates_spaces_around_elements_and_any_order() {
        let parts = parse_key_value(" v=aa ,\tt=12 , v=bb", "v", Some("t")).unwrap();
        assert_eq!(parts.timestamp, Some("12"));
        assert_eq!(parts.signatures.as_slice(), ["aa", "bb"]);
    }

    #[test]
    fn key_value_ignores_unknown_keys() {
        let parts = parse_key_value("t=1,v0=zz,v=aa,x=", "v", Some("t")).unwrap();
        assert_eq!(parts.signatures.as_slice(), ["aa"]);
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
                parse_key_value(value, "v", Some("t")).unwrap_err(),
                InvalidHeader,
                "{value:?}"
            );
        }
    }

    #[test]
    fn key_value_without_timestamp_key() {
        let parts = parse_key_value("v1=aa", "v1", None).unwrap();
        assert_eq!(parts.timestamp, None);
        // `t` is then just an unknown element.
        let parts = parse_key_value("t=5,v1=aa", "v1", None).unwrap();
        assert_eq!(parts.signatures.as_slice(), ["aa"]);
    }

    #[test]
    fn signature_count_is_capped() {
        let eight = "t=1,v=a,v=b,v=c,v=d,v=e,v=f,v=g,v=h";
        assert_eq!(
            parse_key_value(eight, "v", Some("t"))
                .unwrap()
                .signatures
                .as_slice()
                .len(),
            MAX_SIGNATURES
        );
        let nine = format!("{eight},v=i");
        assert_eq!(
            parse_key_value(&nine, "v", Some("t")).unwrap_err(),
            InvalidHeader
        );
        let nine_versioned = "v1,a ".repeat(MAX_SIGNATURES + 1);
        assert_eq!(
            parse_versioned(&nine_versioned, "v1").unwrap_err(),
            InvalidHeader
        );
    }

    #[test]
    fn bare_with_optional_and_required_prefix() {
        assert_eq!(
            parse_bare("sha256=ab", Some("sha256="), false)
                .unwrap()
                .as_slice(),
            ["ab"]
        );
        assert_eq!(
            parse_bare(" ab ", Some("sha256="), false)
                .unwrap()
                .as_slice(),
            ["ab"]
        );
        assert_eq!(
            parse_bare("ab", Some("sha256="), true).unwrap_err(),
            InvalidHeader
        );
        assert_eq!(
            parse_bare("sha256=", Some("sha256="), false).unwrap_err(),
            InvalidHeader
        );
        assert_eq!(parse_bare("  ", None, false).unwrap_err(), InvalidHeader);
        assert_eq!(parse_bare("ab", None, false).unwrap().as_slice(), ["ab"]);
    }

    #[test]
    fn versioned_list_parsing() {
        let sigs = parse_versioned("v1,aa  v2,zz v1,bb", "v1").unwrap();
        assert_eq!(sigs.as_slice(), ["aa", "bb"]);
        for value in ["", "v2,zz", "v1", "v1,", "v1,aa junk"] {
            assert_eq!(
                parse_versioned(value, "v1").unwrap_err(),
                InvalidHeader,
                "{value:?}"
            );
        }
    }

    #[test]
    fn timestamps_are_plain_digits() {
        assert_eq!(parse_timestamp("1619201259010"), Ok(1_619_201_259_010));
        assert_eq!(parse_timestamp("007"), Ok(7));
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
            assert_eq!(parse_timestamp(raw), Err(InvalidTimestamp), "{raw:?}");
        }
        assert_eq!(parse_timestamp("18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn single_header_rules() {
        let name = HeaderName::from_static("x-sig");
        let mut headers = HeaderMap::new();
        assert_eq!(single(&headers, &name).unwrap_err().kind(), MissingHeader);

        headers.insert(&name, HeaderValue::from_static("abc"));
        assert_eq!(single(&headers, &name).unwrap(), "abc");

        headers.append(&name, HeaderValue::from_static("abc"));
        let err = single(&headers, &name).unwrap_err();
        assert_eq!(err.kind(), InvalidHeader);
        assert_eq!(err.header(), Some(&name));

        headers.insert(&name, HeaderValue::from_bytes(b"ab\xffc").unwrap());
        assert_eq!(single(&headers, &name).unwrap_err().kind(), InvalidHeader);
    }
}
