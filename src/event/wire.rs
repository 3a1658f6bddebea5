//! The one parsing skeleton both providers run: a single pass into the provider's
//! envelope, then the tag picks the variant; the failure path and unknown tags are here.

use serde_json::{Map, Value};

use super::ParseError;
use bytes::Bytes;
use bytestring::ByteString;

use super::de::{FillFromObject, PathProbe, Skip, error_with_path, not_utf8, parse_text_into};
use super::peek::TagPeek;
use super::text::utf8_body;
use super::unknown::UnknownEvent;

/// What a provider's parser supplies; [`parse`] and [`parse_if_own`] do the rest.
pub(crate) trait WireFormat: Sized {
    /// Everything the single pass reads: every known field of every event, typed, and
    /// the rest as JSON values.
    type Envelope: FillFromObject + Default;

    /// Whether a body that was read without error is this provider's (for detection).
    fn is_own(envelope: &Self::Envelope) -> bool;

    /// Picks the variant from the tag and moves the fields into it. An unknown tag
    /// becomes [`WireFormat::unknown`] holding `body`, without a second pass.
    fn build(envelope: &mut Self::Envelope, body: &ByteString) -> Result<Self, ParseError>;

    /// The failure path: the tag, when the body is a JSON object with a tag this version
    /// does not know (such a body is never an error, whatever its other fields hold).
    fn unknown_tag(body: &[u8]) -> Option<String>;

    /// An event with a tag this version does not know.
    fn unknown(event: UnknownEvent) -> Self;

    /// The `metric_tag` that parsing a body with these tags gives, when it succeeds.
    fn metric_tag_of(peek: &TagPeek<'_>) -> &'static str;
}

/// The `metric_tag` of a body without parsing it into an event (see [`TagPeek`]).
pub(crate) fn peek_metric_tag<F: WireFormat>(body: &[u8]) -> &'static str {
    TagPeek::of(body).map_or(super::UNKNOWN_TAG, |peek| F::metric_tag_of(&peek))
}

/// Parses a body: one pass, then the tag picks the variant.
pub(crate) fn parse<F: WireFormat>(body: &Bytes) -> Result<F, ParseError> {
    let Some(text) = utf8_body(body) else {
        return recover(body, &not_utf8(body));
    };
    let mut envelope = F::Envelope::default();
    match parse_text_into(&text, &mut envelope) {
        Ok(()) => F::build(&mut envelope, &text),
        Err(e) => recover(body, &e),
    }
}

/// Parses only when the single pass succeeds and finds this provider's body (used by
/// provider detection, which handles every other case itself).
pub(crate) fn parse_if_own<F: WireFormat>(body: &Bytes) -> Option<F> {
    let text = utf8_body(body)?;
    let mut envelope = F::Envelope::default();
    parse_text_into(&text, &mut envelope).ok()?;
    if !F::is_own(&envelope) {
        return None;
    }
    F::build(&mut envelope, &text).ok()
}

/// An unknown tag is never an error; anything else gets its field path.
fn recover<F: WireFormat>(body: &Bytes, e: &serde_json::Error) -> Result<F, ParseError> {
    if e.is_data()
        && let Some(tag) = F::unknown_tag(body)
        // Whatever found the tag skipped other values without checking them as `Value`.
        && serde_json::from_slice::<Skip>(body).is_ok()
        && let Some(text) = utf8_body(body)
    {
        return Ok(F::unknown(UnknownEvent::new(&text, tag)));
    }
    Err(error_with_path::<PathProbe<F::Envelope>>(body, e))
}

/// Puts a field back into the object it was read from, unless a later duplicate of the
/// same key is already there (the last one wins, as in [`Value`]).
pub(crate) fn put_back(object: &mut Map<String, Value>, key: &str, value: Value) {
    object.entry(key).or_insert(value);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Parses `body`, checks that it serialises back to the same JSON value.
    pub(crate) fn round_trip<F: WireFormat + serde::Serialize>(body: &str) -> F {
        let event: F = parse(&Bytes::copy_from_slice(body.as_bytes()))
            .unwrap_or_else(|e| panic!("{body}: {e}"));
        let expected: Value = serde_json::from_str(body).unwrap();
        assert_eq!(serde_json::to_value(&event).unwrap(), expected, "{body}");
        event
    }
}
