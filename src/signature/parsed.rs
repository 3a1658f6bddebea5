//! A signature header parsed and decoded: everything `verify` needs from the headers, and
//! all the precheck looks at.
//!
//! Parsing is the precheck: a request whose headers do not parse here is refused before its
//! body is read, and `verify` runs the same parse before its key loop, so the two can never
//! disagree. Fixed arrays, no allocation.

use std::time::Duration;

use http::{HeaderMap, HeaderName};

use super::clock::TimeSource;
use super::content::{HeaderValues, Parts};
use super::engine::{Tag, check_tolerance_since, decode};
use super::error::{VerificationError, VerificationErrorKind};
use super::header::{self, Candidates, MAX_SIGNATURES};
use super::scheme::{Format, HmacScheme, TimestampSource};

/// Whether the timestamp tolerance is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimestampCheck {
    Enforce,
    Ignore,
}

/// A signed timestamp as written in the header, and its value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timestamp<'h> {
    pub(crate) raw: &'h [u8],
    pub(crate) value: u64,
}

/// The parsed signature header of one request.
#[derive(Debug, Clone)]
pub(crate) struct ParsedSignature<'h> {
    /// The signed timestamp, for schemes that have one.
    pub(crate) timestamp: Option<Timestamp<'h>>,
    /// The values of the headers the signed content names (ids, ...), in order.
    pub(crate) signed_headers: HeaderValues<'h>,
    macs: Macs,
    len: usize,
    /// The clock reading taken for the tolerance (since the Unix epoch), reused for key
    /// expiry.
    pub(crate) now: Option<Duration>,
}

impl<'h> ParsedSignature<'h> {
    /// The candidates that decoded to a MAC of the right length (at least one).
    pub(crate) fn macs(&self) -> &[Tag] {
        self.macs.slots().get(..self.len).unwrap_or_default()
    }

    /// What the signed content template refers to, besides the body.
    pub(crate) fn parts(&self) -> Parts<'h> {
        Parts {
            timestamp: self.timestamp.map_or(&[][..], |ts| ts.raw),
            headers: self.signed_headers,
        }
    }
}

/// Room for the decoded candidates: only the variant in use is initialised, so the usual
/// one-signature header does not zero room for [`MAX_SIGNATURES`].
// The size difference is the point: boxing `Many` would allocate per request.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum Macs {
    One(Tag),
    Many([Tag; MAX_SIGNATURES]),
}

impl Macs {
    fn for_candidates(count: usize) -> Self {
        if count <= 1 {
            Self::One([0; 32])
        } else {
            Self::Many([[0; 32]; MAX_SIGNATURES])
        }
    }

    fn slots(&self) -> &[Tag] {
        match self {
            Self::One(mac) => std::slice::from_ref(mac),
            Self::Many(macs) => macs,
        }
    }

    fn slots_mut(&mut self) -> &mut [Tag] {
        match self {
            Self::One(mac) => std::slice::from_mut(mac),
            Self::Many(macs) => macs,
        }
    }
}

/// Parses and checks what the headers alone can tell, in this order:
///
/// 1. the signature header: present once, visible ASCII, well-formed for the scheme's
///    format (`MissingSignature`, `InvalidHeader`);
/// 2. the timestamp, if the scheme has one (`InvalidTimestamp`), and every other header the
///    signed content names (`MissingSignature`, `InvalidHeader`);
/// 3. at least one candidate decodes to a 32-byte MAC (`SignatureMismatch` otherwise: no
///    body can make such a header verify);
/// 4. with [`TimestampCheck::Enforce`], the timestamp is inside the tolerance
///    (`TimestampTooOld`, `TimestampInFuture`), so a stale or forged-stale header never
///    costs a buffered body.
#[cfg(feature = "explain")]
pub(crate) fn parse<'h>(
    scheme: &HmacScheme,
    clock: &TimeSource,
    headers: &'h HeaderMap,
    check: TimestampCheck,
) -> Result<ParsedSignature<'h>, VerificationError> {
    parse_then(scheme, clock, headers, check, ParsedSignature::clone)
}

/// [`parse`], handing the parsed header to `then` where it was built: on the hot path the
/// parse (with its 256 bytes of decoded MACs) is not moved out through `Result`s.
#[inline]
pub(crate) fn parse_then<'h, R>(
    scheme: &HmacScheme,
    clock: &TimeSource,
    headers: &'h HeaderMap,
    check: TimestampCheck,
    then: impl FnOnce(&ParsedSignature<'h>) -> R,
) -> Result<R, VerificationError> {
    let on_sig = |kind| VerificationError::with_header(kind, scheme.header.clone());
    let value = header::single(
        headers,
        &scheme.header,
        VerificationErrorKind::MissingSignature,
    )?;
    let (element_ts, candidates) = split(scheme, value).map_err(on_sig)?;
    let timestamp = timestamp(scheme, headers, element_ts)?;
    let signed_headers = HeaderValues::read(&scheme.content, headers)?;
    let mut parsed = ParsedSignature {
        timestamp,
        signed_headers,
        macs: Macs::for_candidates(candidates.as_slice().len()),
        len: 0,
        now: None,
    };
    // Decoded in place: the room is not moved.
    parsed.len = decode_all(scheme, &candidates, parsed.macs.slots_mut());
    if parsed.len == 0 {
        return Err(on_sig(VerificationErrorKind::SignatureMismatch));
    }
    if let (TimestampCheck::Enforce, Some(tolerance), Some(ts)) =
        (check, scheme.tolerance, parsed.timestamp)
    {
        let now = clock.since_epoch();
        parsed.now = Some(now);
        check_tolerance_since(ts.value, scheme.unit, tolerance, now).map_err(|kind| {
            VerificationError::with_header(kind, timestamp_header(scheme).clone())
        })?;
    }
    Ok(then(&parsed))
}

/// The header a timestamp error names: the timestamp's own header, or the signature header
/// the timestamp is an element of.
pub(crate) fn timestamp_header(scheme: &HmacScheme) -> &HeaderName {
    match scheme.timestamp_source() {
        Some(TimestampSource::Header(name)) => name,
        _ => &scheme.header,
    }
}

/// The signature header's timestamp element (if the format has one) and its candidates.
#[inline]
fn split<'h>(
    scheme: &HmacScheme,
    value: &'h [u8],
) -> Result<(Option<&'h [u8]>, Candidates<'h>), VerificationErrorKind> {
    Ok(match &scheme.format.0 {
        Format::Bare { prefix, required } => (
            None,
            header::parse_bare(value, prefix.as_deref(), *required)?,
        ),
        Format::KeyValue(layout) => {
            let parts = header::parse_key_value(value, layout)?;
            (parts.timestamp, parts.signatures)
        }
        Format::Versioned { version } => (None, header::parse_versioned(value, version)?),
    })
}

/// The scheme's timestamp, raw (signed as written) and as a number.
#[inline]
fn timestamp<'h>(
    scheme: &HmacScheme,
    headers: &'h HeaderMap,
    element: Option<&'h [u8]>,
) -> Result<Option<Timestamp<'h>>, VerificationError> {
    let (raw, name) = match scheme.timestamp_source() {
        None => return Ok(None),
        Some(TimestampSource::Element) => (element.unwrap_or_default(), &scheme.header),
        Some(TimestampSource::Header(name)) => (
            header::single(headers, name, VerificationErrorKind::MissingSignature)?,
            name,
        ),
    };
    let value = header::parse_timestamp(raw)
        .map_err(|kind| VerificationError::with_header(kind, name.clone()))?;
    Ok(Some(Timestamp { raw, value }))
}

/// Decodes every candidate once into `macs`, returning how many decoded; those of the wrong
/// length or alphabet are dropped (they could never match).
#[inline]
fn decode_all(scheme: &HmacScheme, candidates: &Candidates<'_>, macs: &mut [Tag]) -> usize {
    let mut len = 0;
    for candidate in candidates.as_slice() {
        if let Some(slot) = macs.get_mut(len)
            && decode(scheme.encoding, candidate, slot)
        {
            len += 1;
        }
    }
    len
}
