//! An event whose tag this version does not know, kept whole.

use serde::{Serialize, Serializer};
use serde_json::Value;

/// An event whose tag this version does not know: the whole body, as received.
///
/// The tag is read from the body where the provider puts it (`webhook_type` or v4 `event`
/// for RootFi, `data.event` for Railz), so it is stored once.
///
/// ```
/// use ledgerhook::rootfi::Event;
///
/// let event = Event::from_slice(br#"{"event":"sync.completed","company_id":496}"#)?;
/// let Event::Unknown(unknown) = &event else { panic!() };
/// assert_eq!(unknown.tag(), "sync.completed");
/// assert_eq!(unknown.raw()["company_id"], 496);
/// # Ok::<(), ledgerhook::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownEvent {
    raw: Value,
    at: TagAt,
}

/// Where the tag of an unknown event is in its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagAt {
    /// A top-level key (`webhook_type`, `event`).
    Top(&'static str),
    /// `data.event`.
    DataEvent,
}

impl UnknownEvent {
    /// `raw` must hold a string at `at` (the parsers check it).
    pub(crate) fn new(raw: Value, at: TagAt) -> Self {
        Self { raw, at }
    }

    /// The tag exactly as on the wire.
    #[must_use]
    pub fn tag(&self) -> &str {
        let tag = match self.at {
            TagAt::Top(key) => self.raw.get(key),
            TagAt::DataEvent => self.raw.get("data").and_then(|d| d.get("event")),
        };
        tag.and_then(Value::as_str).unwrap_or_default()
    }

    /// The whole body.
    #[must_use]
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Takes the whole body out.
    #[must_use]
    pub fn into_raw(self) -> Value {
        self.raw
    }
}

impl Serialize for UnknownEvent {
    /// The body as received.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}
