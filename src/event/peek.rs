//! A cheap look at a body's event tag, without parsing it into an event: one scan that
//! builds nothing (values are skipped) and allocates only for escaped strings.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::de::Key;

/// What decides an event's tag, read from the top level of a body (and `data.event`).
#[derive(Default)]
pub(crate) struct TagPeek<'de> {
    /// Any of RootFi's `webhook_type`, `event` or `data_model` keys is present.
    pub(crate) rootfi_key: bool,
    /// A `data` key is present.
    pub(crate) data_key: bool,
    pub(crate) webhook_type: Option<Key<'de>>,
    pub(crate) event: Option<Key<'de>>,
    pub(crate) data_model: bool,
    /// `data.event`, when `data` is an object.
    pub(crate) data_event: Option<Key<'de>>,
}

impl<'de> TagPeek<'de> {
    /// Scans `body`; `None` when it is not a JSON object. A tag that is not a string is
    /// taken as absent (a parser would reject or ignore it).
    pub(crate) fn of(body: &'de [u8]) -> Option<Self> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let peek = Self::deserialize(&mut de).ok()?;
        de.end().ok()?;
        Some(peek)
    }
}

impl<'de> Deserialize<'de> for TagPeek<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TagPeek<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a webhook JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TagPeek<'de>, A::Error> {
                let mut peek = TagPeek::default();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match key.as_str() {
                        "webhook_type" => {
                            peek.rootfi_key = true;
                            peek.webhook_type = map.next_value::<Tag<'de>>()?.0;
                        }
                        "event" => {
                            peek.rootfi_key = true;
                            peek.event = map.next_value::<Tag<'de>>()?.0;
                        }
                        "data_model" => {
                            peek.rootfi_key = true;
                            peek.data_model = map.next_value::<Option<IgnoredAny>>()?.is_some();
                        }
                        "data" => {
                            peek.data_key = true;
                            peek.data_event = map.next_value::<DataEvent<'de>>()?.0;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(peek)
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// Skips a value the peek has no use for (whatever its type), answering `None`.
macro_rules! skip_other_values {
    ($value:ty) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<$value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Default::default())
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$value, E> {
            Ok(Default::default())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$value, E> {
            Ok(Default::default())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$value, E> {
            Ok(Default::default())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$value, E> {
            Ok(Default::default())
        }
        fn visit_unit<E: de::Error>(self) -> Result<$value, E> {
            Ok(Default::default())
        }
    };
}

/// A tag value: the string, or `None` for any other JSON value (a parser reports those).
#[derive(Default)]
struct Tag<'de>(Option<Key<'de>>);

impl<'de> Deserialize<'de> for Tag<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tag<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Tag<'de>, E> {
                Ok(Tag(Some(Key::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Tag<'de>, E> {
                Ok(Tag(Some(Key::Owned(v.to_owned()))))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tag<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Tag(None))
            }
            skip_other_values!(Tag<'de>);
        }
        deserializer.deserialize_any(V)
    }
}

/// `data.event` when `data` is an object; any other `data` is skipped.
#[derive(Default)]
struct DataEvent<'de>(Option<Key<'de>>);

impl<'de> Deserialize<'de> for DataEvent<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DataEvent<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DataEvent<'de>, A::Error> {
                let mut event = None;
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    if key.as_str() == "event" {
                        event = map.next_value::<Tag<'de>>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(DataEvent(event))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<DataEvent<'de>, E> {
                Ok(DataEvent(None))
            }
            skip_other_values!(DataEvent<'de>);
        }
        deserializer.deserialize_any(V)
    }
}

/// The `'static` spelling of a known wire value (`None` when it is not one).
pub(crate) fn known<T: AsRef<str> + 'static>(
    known: &'static [T],
    value: &str,
) -> Option<&'static str> {
    known.iter().map(AsRef::as_ref).find(|k| *k == value)
}
