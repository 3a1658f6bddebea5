//! The string type of event fields: short ones inline, longer ones a slice of the received
//! body, shared, not copied.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use bytestring::ByteString;
use compact_str::CompactString;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};

use super::de::{ListItem, ReadField};

/// A string field of an event (ids, names, timestamps).
///
/// A short string (up to 24 bytes on 64-bit targets: most ids, dates and names) is kept
/// inline, with no allocation and no reference count to update. A longer one, when the
/// event was parsed from [`Bytes`] (as [`WebhookPayload::parse`] does) and the string had
/// no escapes on the wire, is a slice of the body, sharing its buffer: no allocation, no
/// copy. Otherwise it owns its text. Either way it reads as a `&str` (through `Deref`),
/// and compares and hashes as one. An event keeps the body's buffer alive as long as one
/// of its long strings lives; convert with `String::from` to let it go.
///
/// ```
/// use bytes::Bytes;
/// use ledgerhook::railz::Event;
/// use ledgerhook::event::Text;
/// use ledgerhook::WebhookPayload;
///
/// let body = Bytes::from_static(br#"{"data":{"event":"auth","connectionId":"CON-1"}}"#);
/// let Event::Auth(auth) = Event::parse(&body)? else { panic!() };
/// let id: &Text = auth.connection_id.as_ref().unwrap();
/// assert_eq!(id, "CON-1");
/// assert_eq!(id.len(), 5);
/// assert_eq!(String::from(id.clone()), "CON-1");
/// assert_eq!(auth.connection_id.as_deref(), Some("CON-1"));
/// # Ok::<(), ledgerhook::ParseError>(())
/// ```
///
/// [`WebhookPayload::parse`]: crate::WebhookPayload::parse
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// At most [`INLINE_MAX`] bytes, held in place.
    Inline(CompactString),
    /// Longer: a slice of the body, or owned.
    Shared(ByteString),
}

/// The longest string [`CompactString`] holds without allocating: its own size.
const INLINE_MAX: usize = std::mem::size_of::<CompactString>();

impl Text {
    /// The text.
    #[must_use]
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline(s) => s,
            Repr::Shared(s) => s,
        }
    }

    /// A string borrowed from the input: inline when short, a slice of `body` when it lies
    /// inside (the usual case for long strings), a copy otherwise.
    #[inline]
    fn borrowed(s: &str, body: Option<&ByteString>) -> Self {
        if let Some(text) = Self::inline(s) {
            return text;
        }
        match body {
            Some(body) if contains(body, s) => Self(Repr::Shared(body.slice_ref(s))),
            _ => Self(Repr::Shared(ByteString::from(s))),
        }
    }

    /// `s` held in place, when it is short enough.
    #[inline]
    fn inline(s: &str) -> Option<Self> {
        (s.len() <= INLINE_MAX).then(|| Self(Repr::Inline(CompactString::new(s))))
    }

    /// Whether the text is a slice of `body`'s buffer.
    #[cfg(test)]
    fn shares(&self, body: &str) -> bool {
        matches!(&self.0, Repr::Shared(s) if contains(body, s))
    }
}

impl Default for Text {
    fn default() -> Self {
        Self(Repr::Inline(CompactString::default()))
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

fn contains(body: &str, part: &str) -> bool {
    let (outer, inner) = (
        body.as_bytes().as_ptr_range(),
        part.as_bytes().as_ptr_range(),
    );
    outer.start <= inner.start && inner.end <= outer.end
}

thread_local! {
    /// The body being parsed on this thread, while [`BodyScope`] lives.
    static BODY: RefCell<Option<ByteString>> = const { RefCell::new(None) };
}

/// Makes the strings borrowed from `body` while it lives slices of it (see [`Text`]).
pub(crate) struct BodyScope(Option<ByteString>);

impl BodyScope {
    pub(crate) fn enter(body: ByteString) -> Self {
        Self(BODY.with(|slot| slot.replace(Some(body))))
    }
}

impl Drop for BodyScope {
    fn drop(&mut self) {
        let previous = self.0.take();
        BODY.with(|slot| *slot.borrow_mut() = previous);
    }
}

/// The body being parsed on this thread, if any.
fn current_body() -> Option<ByteString> {
    BODY.with(|slot| slot.borrow().clone())
}

/// The body being parsed, fetched on first use: a model holds one while it reads an
/// object and hands it to its [`Text`] fields (a thread-local read per object that has
/// strings, not per string).
#[derive(Default)]
pub(crate) struct BodyRef(Option<Option<ByteString>>);

impl BodyRef {
    /// The body, known already.
    pub(crate) fn of(body: ByteString) -> Self {
        Self(Some(Some(body)))
    }

    #[inline]
    fn get(&mut self) -> Option<&ByteString> {
        if self.0.is_none() {
            self.fetch();
        }
        self.0.as_ref().and_then(Option::as_ref)
    }

    /// Only outside [`parse_text_into`](super::de::parse_text_into), which hands the body
    /// down itself.
    #[cold]
    #[inline(never)]
    fn fetch(&mut self) {
        self.0 = Some(current_body());
    }
}

/// The body as text, when it is UTF-8 (the only kind of body that can be JSON).
pub(crate) fn utf8_body(body: &Bytes) -> Option<ByteString> {
    ByteString::try_from(body.clone()).ok()
}

impl Deref for Text {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Self::borrowed(s, None)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self::inline(&s).unwrap_or_else(|| Self(Repr::Shared(ByteString::from(s))))
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        match t.0 {
            Repr::Inline(s) => s.into(),
            Repr::Shared(s) => s.into(),
        }
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

/// A string, or `null` (`None`) when read as a model field.
struct TextVisitor<'b>(Option<&'b ByteString>);

impl<'de> Visitor<'de> for TextVisitor<'_> {
    type Value = Option<Text>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Option<Text>, E> {
        Ok(Some(Text::borrowed(v, self.0)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Text>, E> {
        Ok(Some(Text::from(v)))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Option<Text>, E> {
        Ok(Some(Text::from(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<Text>, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<Text>, E> {
        Ok(None)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        NonNullText(current_body().as_ref()).deserialize(deserializer)
    }
}

/// `null` or a string, in one dispatch.
struct NullableText<'b>(Option<&'b ByteString>);

impl<'de> DeserializeSeed<'de> for NullableText<'_> {
    type Value = Option<Text>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Text>, D::Error> {
        deserializer.deserialize_any(TextVisitor(self.0))
    }
}

impl ListItem for Text {
    #[inline]
    fn push_next<'de, A: SeqAccess<'de>>(
        seq: &mut A,
        list: &mut Vec<Self>,
        body: &mut BodyRef,
    ) -> Result<bool, A::Error> {
        match seq.next_element_seed(NonNullText(body.get()))? {
            Some(text) => {
                list.push(text);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// A string (not `null`), as an element of a list.
struct NonNullText<'b>(Option<&'b ByteString>);

impl<'de> DeserializeSeed<'de> for NonNullText<'_> {
    type Value = Text;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Text, D::Error> {
        match deserializer.deserialize_str(TextVisitor(self.0))? {
            Some(text) => Ok(text),
            None => Err(de::Error::invalid_type(
                de::Unexpected::Unit,
                &TextVisitor(None),
            )),
        }
    }
}

impl ReadField for Text {
    #[inline]
    fn read<'de, A: MapAccess<'de>>(
        map: &mut A,
        body: &mut BodyRef,
    ) -> Result<Option<Self>, A::Error> {
        map.next_value_seed(NullableText(body.get()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 25 bytes: one more than fits inline.
    const LONG: &str = "abcdefghijklmnopqrstuvwxy";

    #[test]
    fn long_strings_of_the_body_share_it_and_others_are_copied() {
        assert_eq!(LONG.len(), INLINE_MAX + 1);
        let body = ByteString::from(format!(r#"["{LONG}","a\u0062cdefghijklmnopqrstuvwxy"]"#));
        let (plain, escaped) = {
            let _scope = BodyScope::enter(body.clone());
            serde_json::from_str::<(Text, Text)>(&body).unwrap()
        };
        assert_eq!((plain.as_str(), escaped.as_str()), (LONG, LONG));
        assert!(plain.shares(&body));
        assert!(!escaped.shares(&body));
        // Outside a scope (or from another buffer), a copy.
        let copy: Text = serde_json::from_str(&format!(r#""{LONG}""#)).unwrap();
        assert!(!copy.shares(&body));
        let other = format!(r#""{LONG}""#);
        let _scope = BodyScope::enter(body.clone());
        let copy: Text = serde_json::from_str(&other).unwrap();
        assert!(!copy.shares(&body));
    }

    #[test]
    fn short_strings_are_inline_and_read_the_same() {
        let body = ByteString::from_static(r#"["abc","a\u0062c",""]"#);
        let _scope = BodyScope::enter(body.clone());
        let texts: Vec<Text> = serde_json::from_str(&body).unwrap();
        assert_eq!(texts, ["abc", "abc", ""]);
        assert!(texts.iter().all(|t| matches!(t.0, Repr::Inline(_))));
        // Inline and shared texts of the same string are equal, hash and order alike.
        let long = Text::from(LONG);
        let short = Text::from(&LONG[..INLINE_MAX]);
        assert!(matches!(long.0, Repr::Shared(_)));
        assert!(matches!(short.0, Repr::Inline(_)));
        assert!(short < long);
        assert_eq!(Text::from(String::from(LONG)), long);
        assert_eq!(String::from(short.clone()), &LONG[..INLINE_MAX]);
        let state = std::collections::hash_map::RandomState::new();
        for text in [&short, &long] {
            use std::hash::BuildHasher;
            assert_eq!(state.hash_one(text), state.hash_one(text.as_str()));
        }
        let set: std::collections::HashSet<Text> =
            [Text::from("abc"), Text::from(String::from("abc"))].into();
        assert_eq!(set.len(), 1);
        assert!(set.contains("abc"));
    }

    #[test]
    fn a_text_is_no_larger_than_a_body_slice() {
        assert_eq!(
            std::mem::size_of::<Text>(),
            std::mem::size_of::<ByteString>()
        );
    }

    #[test]
    fn null_is_not_a_text() {
        assert!(serde_json::from_str::<Text>("null").is_err());
        assert!(serde_json::from_str::<Text>("1").is_err());
    }
}
