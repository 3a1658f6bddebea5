//! Where the idempotency key of a delivery comes from.

use std::fmt;

use http::{HeaderMap, HeaderName};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};

use crate::ConfigError;

/// Ids longer than this (or with bytes outside visible ASCII) are hashed before use, so a
/// key stays short and printable in every store.
const MAX_RAW_ID_LEN: usize = 128;

/// How the idempotency layer derives a delivery's key.
///
/// Every source falls back to the SHA-256 of the verified body when the id is missing (no
/// such header or JSON value, an empty value, or a body that is not JSON), so every
/// delivery gets a key. Ids are used as they are when short and printable, and hashed
/// otherwise; keys from an id and keys from a body hash never collide.
///
/// # Security
///
/// Prefer an id inside the signed body ([`railz`](Self::railz),
/// [`json_pointer`](Self::json_pointer)) or the body hash (the default). A
/// [`header`](Self::header) is only as trustworthy as the header: with body-only
/// signatures anyone who captured a delivery can resend it within the replay tolerance
/// with a different id header and have it processed again. Use a header only when the
/// provider signs it (as Standard Webhooks signs `webhook-id`).
#[derive(Clone, PartialEq, Eq)]
pub struct KeySource {
    kind: Kind,
}

#[derive(Clone, PartialEq, Eq)]
enum Kind {
    BodyHash,
    Header(HeaderName),
    Pointer {
        pointer: String,
        tokens: Vec<String>,
    },
}

impl KeySource {
    /// The SHA-256 of the exact verified body (the default).
    ///
    /// Catches exact redeliveries; a provider that re-serialises an event differently on
    /// retry would get a new key, so use an id where the provider sends one.
    #[must_use]
    pub const fn body_hash() -> Self {
        Self {
            kind: Kind::BodyHash,
        }
    }

    /// The Railz envelope's `requestId` (JSON pointer `/requestId`), else the body hash.
    ///
    /// Railz documents `requestId` as the best available delivery id and omits it from
    /// some events, hence the fallback.
    #[must_use]
    pub fn railz() -> Self {
        Self {
            kind: Kind::Pointer {
                pointer: "/requestId".to_owned(),
                tokens: vec!["requestId".to_owned()],
            },
        }
    }

    /// The value of header `name` (its first value), else the body hash.
    ///
    /// See the security note on [`KeySource`].
    #[must_use]
    pub fn header(name: HeaderName) -> Self {
        Self {
            kind: Kind::Header(name),
        }
    }

    /// The string or integer at an [RFC 6901] JSON pointer in the body, else the body hash.
    ///
    /// Only the path to the value is parsed (everything else is skipped without building
    /// a tree). Objects, arrays, `null`, booleans and fractional numbers do not count as
    /// ids; an integer and the string of its digits give the same key.
    ///
    /// ```
    /// use ledgerhook::idempotency::KeySource;
    ///
    /// let source = KeySource::json_pointer("/data/id")?;
    /// # let _ = source;
    /// # Ok::<(), ledgerhook::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`ConfigError`] if `pointer` does not start with `/`, or has a `~` not
    /// followed by `0` or `1`. (The empty pointer, the whole document, is not an id.)
    ///
    /// [RFC 6901]: https://www.rfc-editor.org/rfc/rfc6901
    pub fn json_pointer(pointer: &str) -> Result<Self, ConfigError> {
        let Some(rest) = pointer.strip_prefix('/') else {
            return Err(ConfigError::invalid("json_pointer", "must start with '/'"));
        };
        let tokens = rest
            .split('/')
            .map(unescape_token)
            .collect::<Option<Vec<_>>>()
            .ok_or(ConfigError::invalid(
                "json_pointer",
                "has '~' not followed by '0' or '1'",
            ))?;
        Ok(Self {
            kind: Kind::Pointer {
                pointer: pointer.to_owned(),
                tokens,
            },
        })
    }

    /// The key for one delivery, without a namespace.
    pub(crate) fn key_for(&self, headers: &HeaderMap, body: &[u8]) -> String {
        let id = match &self.kind {
            Kind::BodyHash => None,
            Kind::Header(name) => headers
                .get(name)
                .map(|v| v.as_bytes())
                .filter(|v| !v.is_empty())
                .map(id_key),
            Kind::Pointer { tokens, .. } => lookup(body, tokens)
                .filter(|v| !v.is_empty())
                .map(|v| id_key(v.as_bytes())),
        };
        id.unwrap_or_else(|| format!("sha256:{}", const_hex::encode(Sha256::digest(body))))
    }
}

impl Default for KeySource {
    fn default() -> Self {
        Self::body_hash()
    }
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::BodyHash => f.write_str("KeySource::BodyHash"),
            Kind::Header(name) => f.debug_tuple("KeySource::Header").field(name).finish(),
            Kind::Pointer { pointer, .. } => f
                .debug_tuple("KeySource::JsonPointer")
                .field(pointer)
                .finish(),
        }
    }
}

/// `id:<id>` for short printable ids, `idsha256:<hex>` for anything else.
fn id_key(id: &[u8]) -> String {
    let printable = id.len() <= MAX_RAW_ID_LEN && id.iter().all(u8::is_ascii_graphic);
    match std::str::from_utf8(id) {
        Ok(text) if printable => format!("id:{text}"),
        _ => format!("idsha256:{}", const_hex::encode(Sha256::digest(id))),
    }
}

/// RFC 6901 §4: `~1` is `/`, `~0` is `~`, any other `~` is invalid.
fn unescape_token(token: &str) -> Option<String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The scalar at `tokens` in the JSON `body`, if there is one and the body is valid JSON.
fn lookup(body: &[u8], tokens: &[String]) -> Option<String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let found = Seek { tokens }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    found
}

/// Walks one pointer step per nesting level, skipping everything off the path.
struct Seek<'t> {
    tokens: &'t [String],
}

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = Option<String>;

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        if self.tokens.is_empty() {
            de.deserialize_any(Leaf)
        } else {
            de.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (head, rest) = match self.tokens.split_first() {
            Some(split) => split,
            None => return Ok(None),
        };
        let mut found = None;
        while let Some(matches) = map.next_key_seed(KeyIs(head))? {
            if matches && found.is_none() {
                found = map.next_value_seed(Seek { tokens: rest })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (head, rest) = match self.tokens.split_first() {
            Some(split) => split,
            None => return Ok(None),
        };
        let target = array_index(head);
        let mut found = None;
        let mut index = 0usize;
        loop {
            if Some(index) == target {
                match seq.next_element_seed(Seek { tokens: rest })? {
                    Some(value) => found = value,
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            index = index.saturating_add(1);
        }
        Ok(found)
    }

    // A scalar where the path goes deeper: no value there.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// RFC 6901 array index: `0` or digits without a leading zero.
fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// Compares an object key with a pointer token without allocating.
struct KeyIs<'t>(&'t str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<bool, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// The value at the end of the path: strings and integers are ids, the rest is not.
struct Leaf;

impl<'de> Visitor<'de> for Leaf {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn body_hash_key(body: &[u8]) -> String {
        // The fallback format; the hash itself is checked against Python in `sha256_of_abc`.
        format!("sha256:{}", const_hex::encode(Sha256::digest(body)))
    }

    #[test]
    fn sha256_of_abc() {
        // python3 -c 'import hashlib; print(hashlib.sha256(b"abc").hexdigest())'
        let key = KeySource::body_hash().key_for(&HeaderMap::new(), b"abc");
        assert_eq!(
            key,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn railz_request_id_with_fallback() {
        let source = KeySource::railz();
        let h = HeaderMap::new();
        let body = br#"{"data":{"event":"auth","requestId":"inner"},"requestId":"abc-123"}"#;
        assert_eq!(source.key_for(&h, body), "id:abc-123");
        let no_id = br#"{"data":{"event":"auth"}}"#;
        assert_eq!(source.key_for(&h, no_id), body_hash_key(no_id));
        let not_json = b"{\"requestId\":\"x\"";
        assert_eq!(source.key_for(&h, not_json), body_hash_key(not_json));
        let trailing = b"{\"requestId\":\"x\"} junk";
        assert_eq!(source.key_for(&h, trailing), body_hash_key(trailing));
        let empty = br#"{"requestId":""}"#;
        assert_eq!(source.key_for(&h, empty), body_hash_key(empty));
    }

    #[test]
    fn pointer_walks_objects_and_arrays_and_unescapes() {
        let h = HeaderMap::new();
        let body = br#"{"a":[{"x":1},{"b/c":{"~d":"found"}}],"z":[1,2,{"q":null}]}"#;
        let source = KeySource::json_pointer("/a/1/b~1c/~0d").unwrap();
        assert_eq!(source.key_for(&h, body), "id:found");
        let number = KeySource::json_pointer("/a/0/x").unwrap();
        assert_eq!(number.key_for(&h, body), "id:1");
        for missing in ["/a/2/x", "/a/01/x", "/a/x", "/z/2/q", "/z/2", "/nope", "/a"] {
            let source = KeySource::json_pointer(missing).unwrap();
            assert_eq!(source.key_for(&h, body), body_hash_key(body), "{missing}");
        }
    }

    #[test]
    fn first_duplicate_object_key_wins() {
        let h = HeaderMap::new();
        let body = br#"{"id":"first","id":"second"}"#;
        let source = KeySource::json_pointer("/id").unwrap();
        assert_eq!(source.key_for(&h, body), "id:first");
    }

    #[test]
    fn escaped_keys_and_values_are_decoded() {
        let h = HeaderMap::new();
        let body = br#"{"re\u0071uestId":"a\u002db"}"#;
        assert_eq!(KeySource::railz().key_for(&h, body), "id:a-b");
    }

    #[test]
    fn pointer_syntax_is_checked() {
        assert!(KeySource::json_pointer("").is_err());
        assert!(KeySource::json_pointer("requestId").is_err());
        assert!(KeySource::json_pointer("/a~2").is_err());
        assert!(KeySource::json_pointer("/a~").is_err());
        assert!(KeySource::json_pointer("/").is_ok());
    }

    #[test]
    fn header_source() {
        let source = KeySource::header(HeaderName::from_static("webhook-id"));
        let mut h = HeaderMap::new();
        assert_eq!(source.key_for(&h, b"body"), body_hash_key(b"body"));
        h.insert("webhook-id", HeaderValue::from_static("msg_1"));
        h.append("webhook-id", HeaderValue::from_static("msg_2"));
        assert_eq!(source.key_for(&h, b"body"), "id:msg_1");
    }

    #[test]
    fn long_or_unprintable_ids_are_hashed() {
        let long = "x".repeat(MAX_RAW_ID_LEN + 1);
        let expected = format!(
            "idsha256:{}",
            const_hex::encode(Sha256::digest(long.as_bytes()))
        );
        assert_eq!(id_key(long.as_bytes()), expected);
        assert_eq!(id_key("x".repeat(MAX_RAW_ID_LEN).as_bytes()).len(), 3 + 128);
        assert!(id_key(b"has space").starts_with("idsha256:"));
        assert!(id_key(&[0xff, 0xfe]).starts_with("idsha256:"));
        // An id that looks like a body hash cannot collide with one.
        let h = HeaderMap::new();
        let body = br#"{"requestId":"sha256:00"}"#;
        assert_eq!(KeySource::railz().key_for(&h, body), "id:sha256:00");
    }

    #[test]
    fn debug_names_the_source() {
        let source = KeySource::json_pointer("/data/id").unwrap();
        assert_eq!(
            format!("{source:?}"),
            r#"KeySource::JsonPointer("/data/id")"#
        );
        assert_eq!(format!("{:?}", KeySource::default()), "KeySource::BodyHash");
    }
}
