//! An event whose tag this version does not know, kept whole.

use std::fmt;
use std::sync::OnceLock;

use bytestring::ByteString;
use serde::{Serialize, Serializer};
use serde_json::Value;

/// An event whose tag this version does not know: the whole body, as received.
///
/// The parse only checks that the body is JSON and reads the tag (`webhook_type` or v4
/// `event` for RootFi, `data.event` for Railz); the body is kept as text, and turned into
/// a [`Value`] the first time [`UnknownEvent::raw`] (or serialising) asks for it.
///
/// ```
/// use ledgerhook::rootfi::Event;
///
/// let event = Event::from_slice(br#"{"event":"sync.completed","company_id":496}"#)?;
/// let Event::Unknown(unknown) = &event else { panic!() };
/// assert_eq!(unknown.tag(), "sync.completed");
/// assert_eq!(unknown.raw()["company_id"], 496);
/// assert_eq!(unknown.raw_json(), r#"{"event":"sync.completed","company_id":496}"#);
/// # Ok::<(), ledgerhook::ParseError>(())
/// ```
#[derive(Clone)]
pub struct UnknownEvent {
    /// The body, checked to be one JSON object.
    text: ByteString,
    tag: String,
    /// `text` as a value, built on first use.
    value: OnceLock<Value>,
}

impl UnknownEvent {
    /// `body` must be a JSON object whose tag (the string at the place the provider puts
    /// it) is `tag`: the parsers check both.
    pub(crate) fn new(body: &ByteString, tag: String) -> Self {
        Self {
            text: body.clone(),
            tag,
            value: OnceLock::new(),
        }
    }

    /// The tag exactly as on the wire.
    #[must_use]
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The whole body as a JSON value (parsed from [`UnknownEvent::raw_json`] on the first
    /// call, then kept).
    #[must_use]
    pub fn raw(&self) -> &Value {
        self.value.get_or_init(|| to_value(&self.text))
    }

    /// The whole body exactly as received.
    #[must_use]
    pub fn raw_json(&self) -> &str {
        &self.text
    }

    /// Takes the whole body out as a JSON value.
    #[must_use]
    pub fn into_raw(self) -> Value {
        match self.value.into_inner() {
            Some(value) => value,
            None => to_value(&self.text),
        }
    }
}

/// The text was checked to be JSON when the body was parsed, so this cannot fail.
fn to_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// Compares the tags and the bodies as JSON values (not as text).
impl PartialEq for UnknownEvent {
    fn eq(&self, other: &Self) -> bool {
        self.tag == other.tag && self.raw() == other.raw()
    }
}

impl fmt::Debug for UnknownEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnknownEvent")
            .field("tag", &self.tag)
            .field("raw", &&*self.text)
            .finish()
    }
}

impl Serialize for UnknownEvent {
    /// The body as a JSON value: the same value as received.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw().serialize(serializer)
    }
}
