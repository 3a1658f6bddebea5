//! Unparsed JSON kept exactly as received.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::ParseError;
use super::de::parse_part;

/// A piece of JSON kept exactly as received (valid JSON, never re-encoded).
///
/// Used where the providers send free-form data (RootFi record bodies, INTEGRATION
/// payloads): the crate checks that it is JSON and hands it over unparsed, so you pay for
/// parsing only if you look, and you choose the type.
///
/// # Example
///
/// ```
/// use ledgerhook::event::RawJson;
///
/// let raw: RawJson = serde_json::from_str(r#"{"name": "Revenue"}"#).unwrap();
/// assert_eq!(raw.get(), r#"{"name": "Revenue"}"#);
///
/// #[derive(serde::Deserialize)]
/// struct Account { name: String }
/// assert_eq!(raw.deserialize::<Account>().unwrap().name, "Revenue");
/// assert_eq!(raw.to_value().unwrap()["name"], "Revenue");
/// ```
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// The JSON text as received.
    #[must_use]
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The JSON as a `serde_json` raw value.
    #[must_use]
    pub fn as_raw_value(&self) -> &RawValue {
        &self.0
    }

    /// Deserialises the JSON into your own type.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] of kind `Data`, with the path inside this value, when the JSON
    /// does not fit `T`.
    pub fn deserialize<T>(&self) -> Result<T, ParseError>
    where
        T: for<'de> Deserialize<'de>,
    {
        parse_part(self.get(), "")
    }

    /// Parses the JSON into a [`serde_json::Value`].
    ///
    /// # Errors
    ///
    /// None in practice: the text was checked when the body was parsed.
    pub fn to_value(&self) -> Result<Value, ParseError> {
        self.deserialize()
    }

    /// Takes the raw value out.
    #[must_use]
    pub fn into_inner(self) -> Box<RawValue> {
        self.0
    }

    /// The first byte of the JSON text (`[`, `{`, `"`, ...): tells the JSON type cheaply.
    pub(crate) fn first_byte(&self) -> Option<u8> {
        self.get().bytes().next()
    }
}

impl From<Box<RawValue>> for RawJson {
    fn from(raw: Box<RawValue>) -> Self {
        Self(raw)
    }
}

/// Compares the JSON text byte for byte.
impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for RawJson {}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawJson").field(&self.get()).finish()
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(Self)
    }
}
