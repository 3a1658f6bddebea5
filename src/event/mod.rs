//! The typed event model: turns a verified webhook body into a value to `match` on.
//!
//! - [`rootfi::Event`]: RootFi (Commenda Integrations) v3, v4 and pre-v3 bodies.
//! - [`railz::Event`]: Railz bodies (`{"data": {"event": ...}, "requestId": ...}`).
//! - [`Event`]: either, with the provider detected from the body's shape.
//!
//! # Forward compatibility
//!
//! A tag the crate does not know becomes an `Unknown { tag, raw }` variant holding the
//! whole body, never an error. An enum value it does not know becomes `Other(String)`.
//! A field it does not know lands in the struct's `extra` map. Every event implements
//! `Serialize`, and parsing then serialising gives back the same JSON value.
//!
//! # Speed
//!
//! Each body is read in one pass into a "union of all known fields" (no intermediate
//! `Value` or serde `Content` tree; known keys and enum values are matched from the
//! borrowed input without allocating), then the tag picks the variant. String fields are
//! [`Text`]: held inline when short, slices of the body's `Bytes` when longer; no heap copy
//! unless the string had escapes. Once a tag turns out to be unknown,
//! the rest of the body is only checked to be JSON; [`UnknownEvent`] keeps the text and
//! builds a `Value` when asked. Error paths are computed only after a failure, by parsing
//! a second time under `serde_path_to_error`.
//!
//! # Example
//!
//! ```
//! use ledgerhook::{Event, railz, rootfi};
//!
//! let body = br#"{"data":{"event":"auth","connectionId":"CON-1","serviceName":"quickbooks"},
//!                 "requestId":"a3b4fc83"}"#;
//! match Event::from_slice(body)? {
//!     Event::Railz(railz::Event::Auth(auth)) => {
//!         assert_eq!(auth.connection_id.as_deref(), Some("CON-1"));
//!     }
//!     Event::RootFi(rootfi::Event::SyncCompleted(sync)) => { /* ... */ }
//!     other => println!("ignoring {}", other.tag()),
//! }
//! # Ok::<(), ledgerhook::ParseError>(())
//! ```

use std::fmt;

use bytes::Bytes;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

#[macro_use]
mod macros;
mod de;
mod error;
mod peek;
pub mod railz;
mod raw;
pub mod rootfi;
pub(crate) mod text;
mod unknown;
mod wire;

pub use error::{ParseError, ParseErrorKind};

/// What `metric_tag()` returns for an event whose tag this version does not know.
pub const UNKNOWN_TAG: &str = "unknown";
pub use raw::RawJson;
pub use text::Text;
pub use unknown::UnknownEvent;

/// A payload type the verifying layer can parse verified bytes into.
///
/// Implemented for [`Event`], [`rootfi::Event`], [`railz::Event`], and for [`Bytes`]
/// (no parsing: the handler gets the verified bytes).
///
/// ```
/// use bytes::Bytes;
/// use ledgerhook::{WebhookPayload, rootfi};
///
/// let body = Bytes::from_static(br#"{"event":"connection.changed","company_id":496}"#);
/// let event = rootfi::Event::parse(&body)?;
/// assert_eq!(event.tag(), "connection.changed");
/// assert_eq!(Bytes::parse(&body)?, body);
/// # Ok::<(), ledgerhook::ParseError>(())
/// ```
pub trait WebhookPayload: Sized + Clone + Send + Sync + 'static {
    /// Parses the verified body.
    ///
    /// # Errors
    /// [`ParseError`] of kind `Syntax` (not JSON: 400) or `Data` (wrong shape: 422).
    fn parse(body: &Bytes) -> Result<Self, ParseError>;

    /// The event's tag exactly as on the wire (the default, for payloads that have no
    /// tag, is [`WebhookPayload::metric_tag`]).
    fn tag(&self) -> &str {
        self.metric_tag()
    }

    /// The tag of a known event, [`UNKNOWN_TAG`] otherwise: a bounded set of `'static`
    /// strings, fit for a metric label (the default is [`UNKNOWN_TAG`]).
    fn metric_tag(&self) -> &'static str {
        UNKNOWN_TAG
    }

    /// The [`WebhookPayload::metric_tag`] that parsing `body` would give, found without
    /// parsing it (a scan that builds nothing): for labelling verified bytes that are
    /// parsed later, or not at all. The default is [`UNKNOWN_TAG`].
    ///
    /// ```
    /// use ledgerhook::{Event, WebhookPayload, railz};
    ///
    /// let body = br#"{"data":{"event":"auth","connectionId":"CON-1"}}"#;
    /// assert_eq!(railz::Event::peek_metric_tag(body), "auth");
    /// assert_eq!(<Event as WebhookPayload>::peek_metric_tag(body), "auth");
    /// assert_eq!(Event::peek_metric_tag(br#"{"webhook_type":"NEW_KIND"}"#), "unknown");
    /// assert_eq!(Event::peek_metric_tag(b"not json"), "unknown");
    /// ```
    fn peek_metric_tag(body: &[u8]) -> &'static str {
        let _ = body;
        UNKNOWN_TAG
    }
}

/// No parsing: the layer only verifies and hands on the bytes (tags are [`UNKNOWN_TAG`]).
impl WebhookPayload for Bytes {
    fn parse(body: &Bytes) -> Result<Self, ParseError> {
        Ok(body.clone())
    }
}

/// An event from either provider, detected from the body's shape.
///
/// # Detection rule
///
/// 1. A top-level `webhook_type`, `event` or `data_model` key means RootFi.
/// 2. Otherwise a top-level `data` key means Railz.
/// 3. Otherwise the body is a [`ParseErrorKind::Data`] error.
///
/// The rule is applied without an extra pass in the common case: when the body's first
/// key is `data` it is parsed as Railz, otherwise as RootFi, and the result is kept if it
/// agrees with the rule. Only when it does not (or the parse fails) are the top-level
/// keys scanned and the right parser run again, which also produces the error.
///
/// ```
/// use ledgerhook::Event;
///
/// let rootfi = Event::from_slice(br#"{"webhook_type":"SYNC_STARTED","company_id":1}"#)?;
/// assert!(matches!(rootfi, Event::RootFi(_)));
/// let railz = Event::from_slice(br#"{"requestId":"r","data":{"event":"login"}}"#)?;
/// assert!(matches!(railz, Event::Railz(_)));
/// assert_eq!(railz.tag(), "login");
/// # Ok::<(), ledgerhook::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
// Boxing the Railz event would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// A RootFi (Commenda Integrations) event.
    RootFi(rootfi::Event),
    /// A Railz event.
    Railz(railz::Event),
}

impl Event {
    /// Parses a body from either provider (see the detection rule above).
    ///
    /// # Errors
    ///
    /// [`ParseError`]: `Syntax` when the body is not JSON; `Data` when it is JSON but not
    /// an object, has none of the keys in the detection rule, or fails the provider's
    /// own shape checks.
    ///
    /// The body is copied once, so that the event's strings can share it; when you have
    /// [`Bytes`], [`WebhookPayload::parse`] shares them without the copy.
    pub fn from_slice(body: &[u8]) -> Result<Self, ParseError> {
        Self::from_bytes(&Bytes::copy_from_slice(body))
    }

    /// [`Event::from_slice`] without the copy.
    pub(crate) fn from_bytes(body: &Bytes) -> Result<Self, ParseError> {
        if de::first_key(body) == Some(b"data") {
            if let Some(e) = wire::parse_if_own(body) {
                return Ok(Self::Railz(e));
            }
        } else if let Some(e) = wire::parse_if_own(body) {
            return Ok(Self::RootFi(e));
        }
        match detect(body)? {
            Provider::RootFi => rootfi::Event::from_bytes(body).map(Self::RootFi),
            Provider::Railz => railz::Event::from_bytes(body).map(Self::Railz),
        }
    }

    /// The tag exactly as on the wire (see [`rootfi::Event::tag`], [`railz::Event::tag`]).
    #[must_use]
    pub fn tag(&self) -> &str {
        match self {
            Self::RootFi(e) => e.tag(),
            Self::Railz(e) => e.tag(),
        }
    }

    /// The tag of a known event, [`UNKNOWN_TAG`] otherwise: a bounded set of `'static`
    /// strings, fit for a metric label.
    #[must_use]
    pub fn metric_tag(&self) -> &'static str {
        match self {
            Self::RootFi(e) => e.metric_tag(),
            Self::Railz(e) => e.metric_tag(),
        }
    }

    /// The [`Event::metric_tag`] that parsing `body` gives when it succeeds, without
    /// parsing it (one scan that builds nothing; the detection rule above picks the
    /// provider).
    ///
    /// ```
    /// use ledgerhook::Event;
    ///
    /// assert_eq!(Event::peek_metric_tag(br#"{"company_id":1,"webhook_type":"SYNC_STARTED"}"#), "SYNC_STARTED");
    /// assert_eq!(Event::peek_metric_tag(br#"{"data":{"event":"push"}}"#), "push");
    /// ```
    #[must_use]
    pub fn peek_metric_tag(body: &[u8]) -> &'static str {
        match peek::TagPeek::of(body) {
            Some(p) if p.rootfi_key => <rootfi::Event as wire::WireFormat>::metric_tag_of(&p),
            Some(p) if p.data_key => <railz::Event as wire::WireFormat>::metric_tag_of(&p),
            _ => UNKNOWN_TAG,
        }
    }

    /// Whether this crate knows the event's tag.
    ///
    /// ```
    /// use ledgerhook::Event;
    ///
    /// assert!(!Event::from_slice(br#"{"data":{"event":"brandNew"}}"#)?.is_known());
    /// # Ok::<(), ledgerhook::ParseError>(())
    /// ```
    #[must_use]
    pub fn is_known(&self) -> bool {
        match self {
            Self::RootFi(e) => e.is_known(),
            Self::Railz(e) => e.is_known(),
        }
    }
}

impl Serialize for Event {
    /// Serialises back to the provider's wire form.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::RootFi(e) => e.serialize(serializer),
            Self::Railz(e) => e.serialize(serializer),
        }
    }
}

webhook_payload_for_event!();

enum Provider {
    RootFi,
    Railz,
}

/// Scans the top-level keys (values are skipped, not built) to apply the detection rule.
struct Detect(Option<Provider>);

impl<'de> Deserialize<'de> for Detect {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Detect;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a webhook JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Detect, A::Error> {
                let (mut rootfi, mut railz) = (false, false);
                while let Some(key) = map.next_key::<de::Key<'de>>()? {
                    match key.as_str() {
                        "webhook_type" | "event" | "data_model" => rootfi = true,
                        "data" => railz = true,
                        _ => {}
                    }
                    map.next_value::<IgnoredAny>()?;
                }
                Ok(Detect(match (rootfi, railz) {
                    (true, _) => Some(Provider::RootFi),
                    (false, true) => Some(Provider::Railz),
                    (false, false) => None,
                }))
            }
        }
        deserializer.deserialize_map(V)
    }
}

fn detect(body: &[u8]) -> Result<Provider, ParseError> {
    let found = serde_json::from_slice::<Detect>(body)
        .map_err(|e| de::error_with_path::<Detect>(body, &e))?;
    found.0.ok_or_else(|| {
        ParseError::data(
            "",
            "not a RootFi or Railz webhook: no `webhook_type`, `event`, `data_model` or `data` field",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_follows_the_documented_rule_whatever_the_key_order() {
        let cases: &[(&str, bool)] = &[
            (r#"{"data":{"event":"login"}}"#, false),
            (r#"{"requestId":"r","data":{"event":"login"}}"#, false),
            (r#"{"data":{"event":"login"},"webhook_type":"X"}"#, true),
            (r#"{"data":[],"webhook_type":"DATA_MODEL_CHANGES"}"#, true),
            (
                r#"{"data":{},"data_model":"ACCOUNTS","type":"UPDATE"}"#,
                true,
            ),
            (r#"{"event":"connection.changed","company_id":496}"#, true),
            (r#"{"da\u0074a":{"event":"auth"}}"#, false),
        ];
        for (body, is_rootfi) in cases {
            let e = Event::from_slice(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(matches!(e, Event::RootFi(_)), *is_rootfi, "{body}");
        }
    }

    #[test]
    fn detection_errors() {
        for (body, kind) in [
            ("", ParseErrorKind::Syntax),
            ("{\"data\":", ParseErrorKind::Syntax),
            ("{}", ParseErrorKind::Data),
            ("[1]", ParseErrorKind::Data),
            (r#"{"requestId":"r"}"#, ParseErrorKind::Data),
            (r#"{"data":{"connectionId":"c"}}"#, ParseErrorKind::Data),
        ] {
            let err = Event::from_slice(body.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), kind, "{body}: {err}");
        }
        let err = Event::from_slice(br#"{"data":{"event":"push","status":1}}"#).unwrap_err();
        assert_eq!(err.path(), Some("data.status"));
    }
}
