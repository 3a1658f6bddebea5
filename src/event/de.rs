//! Shared deserialisation plumbing: borrowed keys, field storage, failure-path re-runs.

use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use bytestring::ByteString;

use super::ParseError;
use super::text::{BodyRef, BodyScope};

/// An object key: borrowed from the input when it has no escapes (the common case), so
/// matching known keys never allocates.
pub(crate) enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Borrowed(s) => s,
            Self::Owned(s) => s,
        }
    }

    fn into_string(self) -> String {
        match self {
            Self::Borrowed(s) => s.to_owned(),
            Self::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// Any JSON value, checked exactly as [`Value`] checks it (including serde_json's nesting
/// limit) and dropped: what the parse of an unknown event reads the fields it does not
/// type with. serde's `IgnoredAny` is cheaper but skips nesting without a limit, so it
/// would accept bodies that `Value` (and so [`UnknownEvent::raw`](super::UnknownEvent::raw))
/// rejects.
pub(crate) struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Skip;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
                while seq.next_element::<Skip>()?.is_some() {}
                Ok(Skip)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
                while map.next_entry::<Skip, Skip>()?.is_some() {}
                Ok(Skip)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// How a model reads one field's value: `None` for `null`.
///
/// The default goes through serde's `Option`; strings (and the string enums) override it
/// with one `deserialize_any` that sees `null` and the string in a single dispatch,
/// instead of `Option`'s peek followed by a second whitespace skip and type check.
///
/// `body` is the body being parsed (see [`Text`](super::Text)), fetched at most once per
/// object rather than once per string.
pub(crate) trait ReadField: Sized {
    fn read<'de, A: MapAccess<'de>>(
        map: &mut A,
        body: &mut BodyRef,
    ) -> Result<Option<Self>, A::Error>
    where
        Self: Deserialize<'de>,
    {
        let _ = body;
        map.next_value()
    }

    /// [`Self::read`] into the (empty) field itself: models override it to be filled in
    /// place rather than moved out of serde's return values.
    #[inline]
    fn read_into<'de, A: MapAccess<'de>>(
        map: &mut A,
        slot: &mut Option<Self>,
        body: &mut BodyRef,
    ) -> Result<(), A::Error>
    where
        Self: Deserialize<'de>,
    {
        *slot = Self::read(map, body)?;
        Ok(())
    }
}

/// [`ReadField::read_into`] of a model: filled in place, `None` for `null`.
#[inline]
pub(crate) fn read_model_into<'de, T: FillFromObject + Default, A: MapAccess<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    body: &mut BodyRef,
) -> Result<(), A::Error> {
    let value = slot.insert(T::default());
    if !map.next_value_seed(NullableObject(value, body))? {
        *slot = None;
    }
    Ok(())
}

/// A string or `null`, read in one dispatch (see [`ReadField`]).
pub(crate) struct NullableStr<T>(pub(crate) Option<T>);

impl<'de, T: for<'a> From<&'a str> + From<String>> Deserialize<'de> for NullableStr<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<T: for<'a> From<&'a str> + From<String>> Visitor<'_> for V<T> {
            type Value = NullableStr<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NullableStr<T>, E> {
                Ok(NullableStr(Some(T::from(v))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<NullableStr<T>, E> {
                Ok(NullableStr(Some(T::from(v))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<NullableStr<T>, E> {
                Ok(NullableStr(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<NullableStr<T>, E> {
                Ok(NullableStr(None))
            }
        }
        deserializer.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Field types read through serde's `Option` (the default of [`ReadField`]).
macro_rules! read_through_option {
    ($($t:ty),* $(,)?) => { $( impl ReadField for $t {} )* };
}
read_through_option!(Value, super::RawJson);

/// An unsigned integer or `null`, read in one dispatch (see [`ReadField`]); the errors
/// are serde's for the plain type.
struct NullableUint<T>(Option<T>);

macro_rules! read_uint {
    ($($t:ty),*) => {$(
        impl<'de> Deserialize<'de> for NullableUint<$t> {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = NullableUint<$t>;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(stringify!($t))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                        match <$t>::try_from(v) {
                            Ok(v) => Ok(NullableUint(Some(v))),
                            Err(_) => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
                        }
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                        match <$t>::try_from(v) {
                            Ok(v) => Ok(NullableUint(Some(v))),
                            Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
                        }
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                        Ok(NullableUint(None))
                    }
                    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                        Ok(NullableUint(None))
                    }
                }
                deserializer.deserialize_any(V)
            }
        }

        impl ReadField for $t {
            #[inline]
            fn read<'de, A: MapAccess<'de>>(map: &mut A, _: &mut BodyRef) -> Result<Option<Self>, A::Error> {
                Ok(map.next_value::<NullableUint<$t>>()?.0)
            }
        }
    )*};
}
read_uint!(u64, u32);

/// A boolean or `null`, read in one dispatch (see [`ReadField`]).
struct NullableBool(Option<bool>);

impl<'de> Deserialize<'de> for NullableBool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NullableBool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<NullableBool, E> {
                Ok(NullableBool(Some(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<NullableBool, E> {
                Ok(NullableBool(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<NullableBool, E> {
                Ok(NullableBool(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl ReadField for bool {
    #[inline]
    fn read<'de, A: MapAccess<'de>>(
        map: &mut A,
        _: &mut BodyRef,
    ) -> Result<Option<Self>, A::Error> {
        Ok(map.next_value::<NullableBool>()?.0)
    }
}
/// An element type of a list field: read straight into the list's storage (a model is
/// filled in place, not moved through serde's return values).
pub(crate) trait ListItem: Sized {
    fn push_next<'de, A: de::SeqAccess<'de>>(
        seq: &mut A,
        list: &mut Vec<Self>,
        body: &mut BodyRef,
    ) -> Result<bool, A::Error>;
}

/// Fills a default model pushed onto the list (the seed runs only when there is one more
/// element).
struct PushModel<'a, 'b, T>(&'a mut Vec<T>, &'b mut BodyRef);

impl<'de, T: FillFromObject + Default> DeserializeSeed<'de> for PushModel<'_, '_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.0.push(T::default());
        match self.0.last_mut() {
            Some(item) => deserializer.deserialize_map(ObjectVisitor(item, self.1)),
            None => Ok(()),
        }
    }
}

/// [`ListItem`] of a model: fills it in place.
pub(crate) fn push_model<'de, T: FillFromObject + Default, A: de::SeqAccess<'de>>(
    seq: &mut A,
    list: &mut Vec<T>,
    body: &mut BodyRef,
) -> Result<bool, A::Error> {
    Ok(seq.next_element_seed(PushModel(list, body))?.is_some())
}

/// A list field or `null`, in one dispatch.
struct NullableList<'b, T>(&'b mut BodyRef, std::marker::PhantomData<T>);

impl<'de, T: ListItem> DeserializeSeed<'de> for NullableList<'_, T> {
    type Value = Option<Vec<T>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        struct V<'b, T>(&'b mut BodyRef, std::marker::PhantomData<T>);
        impl<'de, T: ListItem> Visitor<'de> for V<'_, T> {
            type Value = Option<Vec<T>>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut list = Vec::new();
                while T::push_next(&mut seq, &mut list, self.0)? {}
                Ok(Some(list))
            }
        }
        deserializer.deserialize_any(V(self.0, self.1))
    }
}

impl<T: ListItem> ReadField for Vec<T> {
    #[inline]
    fn read<'de, A: MapAccess<'de>>(
        map: &mut A,
        body: &mut BodyRef,
    ) -> Result<Option<Self>, A::Error> {
        map.next_value_seed(NullableList(body, std::marker::PhantomData))
    }
}
impl<T> ReadField for Box<T> {}

/// Whether `extra` holds `key` (checked without a search in the usual empty case).
#[inline]
pub(crate) fn has_key(extra: &Map<String, Value>, key: &str) -> bool {
    !extra.is_empty() && extra.contains_key(key)
}

/// Stores a known field; `null` goes to `extra` so that it serialises back as `null`.
#[inline]
pub(crate) fn store<T, E: de::Error>(
    slot: &mut Option<T>,
    extra: &mut Map<String, Value>,
    wire: &'static str,
    value: Option<T>,
) -> Result<(), E> {
    if slot.is_some() || has_key(extra, wire) {
        return Err(E::duplicate_field(wire));
    }
    match value {
        Some(v) => *slot = Some(v),
        None => {
            extra.insert(wire.to_owned(), Value::Null);
        }
    }
    Ok(())
}

/// Stores an unknown field's value in `extra`.
pub(crate) fn store_extra<'de, A: MapAccess<'de>>(
    extra: &mut Map<String, Value>,
    key: Key<'de>,
    map: &mut A,
) -> Result<(), A::Error> {
    let value: Value = map.next_value()?;
    match extra.entry(key.into_string()) {
        serde_json::map::Entry::Vacant(slot) => {
            slot.insert(value);
            Ok(())
        }
        serde_json::map::Entry::Occupied(slot) => Err(de::Error::custom(format_args!(
            "duplicate field `{}`",
            slot.key()
        ))),
    }
}

/// A known field sent as `null`, kept in `extra` (out of line: rare, and the models'
/// hot loops stay small).
#[cold]
#[inline(never)]
pub(crate) fn keep_null(extra: &mut Map<String, Value>, wire: &'static str) {
    extra.insert(wire.to_owned(), Value::Null);
}

/// The error for a second `wire` key in one object (out of line, as [`keep_null`]).
#[cold]
#[inline(never)]
pub(crate) fn duplicate<E: de::Error>(wire: &'static str) -> E {
    E::duplicate_field(wire)
}

/// Moves a field that the variant does not use into `extra` (out of line, as
/// [`keep_null`]).
#[cold]
#[inline(never)]
pub(crate) fn spill<T: Serialize>(extra: &mut Map<String, Value>, wire: &str, v: &T) {
    super::wire::put_back(extra, wire, to_value(v));
}

/// Converts a typed field back to JSON (only for fields a variant does not use).
pub(crate) fn to_value<T: Serialize>(v: &T) -> Value {
    // Every model type serialises to JSON with string keys, so this cannot fail.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Writes a model's wire fields (and its `extra`) into an open JSON object.
pub(crate) trait SerializeFields {
    fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

/// A type filled in place from a JSON object, so that the large field sets are never
/// moved through serde's return values (the moves showed up in the parse benchmark).
///
/// `body` is the body being parsed, handed down from object to object (see
/// [`Text`](super::Text)).
pub(crate) trait FillFromObject {
    fn fill<'de, A: MapAccess<'de>>(&mut self, map: A, body: &mut BodyRef) -> Result<(), A::Error>;
}

/// The visitor of a [`FillFromObject`] type: a JSON object into an existing value.
pub(crate) struct ObjectVisitor<'a, 'b, T>(pub(crate) &'a mut T, pub(crate) &'b mut BodyRef);

impl<'de, T: FillFromObject> Visitor<'de> for ObjectVisitor<'_, '_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.fill(map, self.1)
    }
}

/// A seed for a [`FillFromObject`] value that may be `null`: fills it from an object
/// (`true`), or reports `null` (`false`).
pub(crate) struct NullableObject<'a, 'b, T>(pub(crate) &'a mut T, pub(crate) &'b mut BodyRef);

impl<'de, T: FillFromObject> DeserializeSeed<'de> for NullableObject<'_, '_, T> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        struct V<'a, 'b, T>(&'a mut T, &'b mut BodyRef);
        impl<'de, T: FillFromObject> Visitor<'de> for V<'_, '_, T> {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_none<E: de::Error>(self) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
                d.deserialize_map(ObjectVisitor(self.0, self.1))
                    .map(|()| true)
            }
        }
        deserializer.deserialize_option(V(self.0, self.1))
    }
}

/// Parses a whole body into `out` (the fast path: no path tracking), with the strings
/// borrowed from it made slices of it (see [`Text`](super::Text)).
///
/// The body was checked for UTF-8 once, up front, and is parsed as `str`: one
/// vectorised pass is cheaper than serde_json checking every string on its own.
pub(crate) fn parse_text_into<T: FillFromObject>(
    body: &ByteString,
    out: &mut T,
) -> Result<(), serde_json::Error> {
    let _scope = BodyScope::enter(body.clone());
    let mut de = serde_json::Deserializer::from_str(body);
    let mut body = BodyRef::of(body.clone());
    Deserializer::deserialize_map(&mut de, ObjectVisitor(out, &mut body))?;
    de.end()
}

/// Why a body that is not UTF-8 is not JSON (`Value` checks every string, so it says
/// where).
pub(crate) fn not_utf8(body: &[u8]) -> serde_json::Error {
    match serde_json::from_slice::<Skip>(body) {
        Err(e) => e,
        Ok(Skip) => de::Error::custom("invalid UTF-8"),
    }
}

/// A [`FillFromObject`] type as a `Deserialize` one, for the failure-path re-run under
/// `serde_path_to_error` that finds where a body failed.
pub(crate) struct PathProbe<T>(pub(crate) T);

impl<'de, T: FillFromObject + Default> Deserialize<'de> for PathProbe<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut out = T::default();
        deserializer.deserialize_map(ObjectVisitor(&mut out, &mut BodyRef::default()))?;
        Ok(Self(out))
    }
}

/// A model serialised with its tag entry first: `{"webhook_type": "...", ...fields}`.
pub(crate) struct WithTag<'a, F> {
    pub(crate) key: &'static str,
    pub(crate) tag: &'a str,
    pub(crate) fields: &'a F,
}

impl<F: SerializeFields> Serialize for WithTag<'_, F> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(self.key, self.tag)?;
        self.fields.serialize_fields(&mut map)?;
        map.end()
    }
}

/// Re-runs a failed parse under `serde_path_to_error` to learn where it failed.
///
/// Only called after the fast parse failed, so the success path never pays for paths.
///
/// A streaming parse can meet a wrong type before it meets the end of a truncated body,
/// so a data error is first checked against a plain syntax pass: a body that is not
/// JSON is always a syntax error, whatever the typed parse saw first.
pub(crate) fn error_with_path<T>(body: &[u8], first: &serde_json::Error) -> ParseError
where
    T: for<'de> Deserialize<'de>,
{
    if first.is_data()
        && let Err(e) = serde_json::from_slice::<de::IgnoredAny>(body)
    {
        return ParseError::from_json(&e, String::new());
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        // The first error may come from a plain syntax pass (a body that is not UTF-8 is
        // checked that way): the typed re-run can then meet a wrong type before the
        // syntax error. The body is not JSON, and that is what is reported.
        Err(e) if !first.is_data() && e.inner().is_data() => {
            ParseError::from_json(first, String::new())
        }
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            ParseError::from_json(e.inner(), path)
        }
        Ok(_) => match de.end() {
            Err(e) => ParseError::from_json(&e, String::new()),
            Ok(()) => ParseError::from_json(first, String::new()),
        },
    }
}

/// Parses a part of the body (already known to be valid JSON) that sits at `prefix`.
pub(crate) fn parse_part<T>(json: &str, prefix: &str) -> Result<T, ParseError>
where
    T: for<'de> Deserialize<'de>,
{
    serde_json::from_str(json)
        .map_err(|e| error_with_path::<T>(json.as_bytes(), &e).prefixed(prefix))
}

/// The first key of the top-level object, if it can be read without unescaping.
///
/// A cheap hint for provider detection; a wrong guess only costs a second parse.
pub(crate) fn first_key(body: &[u8]) -> Option<&[u8]> {
    let is_ws = |b: &u8| matches!(b, b' ' | b'\n' | b'\r' | b'\t');
    let mut i = body.iter().position(|b| !is_ws(b))?;
    if body.get(i) != Some(&b'{') {
        return None;
    }
    i += 1 + body.get(i + 1..)?.iter().position(|b| !is_ws(b))?;
    if body.get(i) != Some(&b'"') {
        return None;
    }
    let rest = body.get(i + 1..)?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    (rest.get(end) == Some(&b'"'))
        .then(|| rest.get(..end))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_key_reads_plain_keys_only() {
        assert_eq!(first_key(b" {\n \"data\": {}}"), Some(&b"data"[..]));
        assert_eq!(first_key(b"{\"\"}"), Some(&b""[..]));
        assert_eq!(first_key(b"{\"da\\u0074a\": 1}"), None);
        assert_eq!(first_key(b"[1]"), None);
        assert_eq!(first_key(b"{"), None);
        assert_eq!(first_key(b"{\"dat"), None);
        assert_eq!(first_key(b""), None);
        assert_eq!(first_key(b"{}"), None);
    }

    #[test]
    fn escaped_keys_are_owned_and_still_match() {
        let k: Key<'_> = serde_json::from_str("\"a\\u0062\"").unwrap();
        assert!(matches!(k, Key::Owned(_)));
        assert_eq!(k.as_str(), "ab");
        let k: Key<'_> = serde_json::from_str("\"ab\"").unwrap();
        assert!(matches!(k, Key::Borrowed("ab")));
    }
}
