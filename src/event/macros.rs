//! Macros that generate the event model's boilerplate: string enums and field structs.
//!
//! Both are hand-rolled instead of `#[derive(Deserialize)]` so that known keys and known
//! values are matched straight from the borrowed input (no allocation), unknown keys are
//! kept, and no intermediate `Content` tree is built.

/// Generates a `#[non_exhaustive]` string enum with an `Other(String)` fallback.
///
/// Known values parse without allocating; `as_str` returns the wire string; `Display`,
/// `Serialize` and `Deserialize` all use the wire string, so unknown values round-trip.
///
/// Values that RootFi spells differently in v3 and v4 go after a `;` as
/// `Variant = "V3_SPELLING" | "V4_SPELLING"`: one variant `Variant(ApiVersion)` for both,
/// so that matching `Variant(_)` sees every delivery, while the spelling received is
/// kept (and serialised back). `ApiVersion` must be in scope where the macro is used.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
            $( ;
                $( $(#[$smeta:meta])* $spelled:ident = $v3:literal | $v4:literal, )+
            )?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[doc = concat!("`", $wire, "`")]
                $(#[$vmeta])*
                $variant,
            )+
            $($(
                #[doc = concat!("`", $v3, "` (v3) or `", $v4, "` (v4): the version says which was received.")]
                $(#[$smeta])*
                $spelled(ApiVersion),
            )+)?
            /// A value this version does not know, kept exactly as received.
            ///
            /// Build values with `From<&str>`, which picks the known variant when there is
            /// one: an `Other` holding a known wire string does not compare equal to it.
            Other(String),
        }

        impl $name {
            /// Every value this version knows, in declaration order (both spellings of
            /// the values whose spelling depends on the API version).
            pub const KNOWN: &'static [Self] = &[
                $(Self::$variant,)+
                $($(Self::$spelled(ApiVersion::V3), Self::$spelled(ApiVersion::V4),)+)?
            ];

            /// The value exactly as on the wire.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    $($(
                        Self::$spelled(ApiVersion::V3) => $v3,
                        Self::$spelled(ApiVersion::V4) => $v4,
                    )+)?
                    Self::Other(s) => s,
                }
            }

            /// Whether this version knows the value (it is not [`Self::Other`]).
            #[must_use]
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }

            $(
                /// The API version whose spelling was received, for a value that v3 and
                /// v4 spell differently; `None` for a value spelled the same in both, or
                /// unknown.
                #[must_use]
                pub fn api_version(&self) -> Option<ApiVersion> {
                    match self {
                        $(Self::$spelled(v) => Some(*v),)+
                        _ => None,
                    }
                }

                /// The same value as spelled by `version` (values spelled the same in
                /// both versions, and unknown ones, are returned unchanged).
                #[must_use]
                pub fn spelled_for(&self, version: ApiVersion) -> Self {
                    match self {
                        $(Self::$spelled(_) => Self::$spelled(version),)+
                        other => other.clone(),
                    }
                }
            )?

            fn from_known(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some(Self::$variant),)+
                    $($(
                        $v3 => Some(Self::$spelled(ApiVersion::V3)),
                        $v4 => Some(Self::$spelled(ApiVersion::V4)),
                    )+)?
                    _ => None,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::from_known(s).unwrap_or_else(|| Self::Other(s.to_owned()))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self::from_known(&s).unwrap_or(Self::Other(s))
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(s))
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl $crate::event::de::ReadField for $name {
            #[inline]
            fn read<'de, A: serde::de::MapAccess<'de>>(
                map: &mut A,
                _: &mut $crate::event::text::BodyRef,
            ) -> Result<Option<Self>, A::Error> {
                Ok(map.next_value::<$crate::event::de::NullableStr<Self>>()?.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::from(v))
                    }
                    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<$name, E> {
                        Ok($name::from(v))
                    }
                }
                deserializer.deserialize_str(V)
            }
        }
    };
}

/// Generates a struct whose wire fields are all `Option`, plus an `extra` map.
///
/// The generated `Deserialize` reads a JSON object in one pass: known keys are matched
/// from the borrowed key (no allocation) and go to their typed field; a known key sent as
/// `null` and every unknown key go to `extra`, so serialising gives back the same JSON
/// value. Duplicate keys are a data error. Fields after `;` are plain (not on the wire in
/// this object) and start as `Default`.
macro_rules! model {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $wire:literal, )*
        }
        $( ; $( $(#[$pmeta:meta])* $pfield:ident : $pty:ty, )* )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        #[non_exhaustive]
        $vis struct $name {
            $(
                $(#[$fmeta])*
                #[doc = concat!("\n\nWire name: `", $wire, "`.")]
                $vis $field: Option<$ty>,
            )*
            /// Fields this version does not know (and known fields sent as `null`), kept
            /// as received so that nothing is lost.
            $vis extra: serde_json::Map<String, serde_json::Value>,
            $($( $(#[$pmeta])* $vis $pfield: $pty, )*)?
        }

        #[allow(dead_code)]
        impl $name {
            /// Reads the value of one entry of the JSON object into its field.
            ///
            /// `seen` has one bit per wire field, set once it was read (even as `null`):
            /// a second one is a duplicate, found without searching `extra`.
            pub(crate) fn read_entry<'de, A: serde::de::MapAccess<'de>>(
                &mut self,
                key: $crate::event::de::Key<'de>,
                map: &mut A,
                seen: &mut u64,
                body: &mut $crate::event::text::BodyRef,
            ) -> Result<(), A::Error> {
                match self.read_known(key, map, seen, body)? {
                    None => Ok(()),
                    Some(key) => $crate::event::de::store_extra(&mut self.extra, key, map),
                }
            }

            /// [`Self::read_entry`] for this model's wire fields only: any other key is
            /// given back, unread, for the caller to place.
            #[inline(always)]
            pub(crate) fn read_known<'de, A: serde::de::MapAccess<'de>>(
                &mut self,
                key: $crate::event::de::Key<'de>,
                map: &mut A,
                seen: &mut u64,
                body: &mut $crate::event::text::BodyRef,
            ) -> Result<Option<$crate::event::de::Key<'de>>, A::Error> {
                /// The bit of each wire field in `seen`.
                #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
                enum Bit { $($field,)* }
                const _: () = assert!([$(stringify!($field)),*].len() <= 64);
                match key.as_str() {
                    $(
                        $wire => {
                            // Read straight into the field (no move of the value through
                            // a helper); a `null` is kept in `extra`.
                            let bit = 1u64 << (Bit::$field as u32);
                            if *seen & bit != 0 {
                                return Err($crate::event::de::duplicate($wire));
                            }
                            *seen |= bit;
                            <$ty as $crate::event::de::ReadField>::read_into(map, &mut self.$field, body)?;
                            if self.$field.is_none() {
                                $crate::event::de::keep_null(&mut self.extra, $wire);
                            }
                            Ok(None)
                        }
                    )*
                    _ => Ok(Some(key)),
                }
            }

            /// Copies every field still set into `extra`, as JSON (for fields a variant does not use).
            pub(crate) fn spill_into(&mut self, extra: &mut serde_json::Map<String, serde_json::Value>) {
                $(
                    if let Some(v) = &self.$field {
                        $crate::event::de::spill(extra, $wire, v);
                    }
                )*
                extra.append(&mut self.extra);
            }
        }

        impl $crate::event::de::FillFromObject for $name {
            fn fill<'de, A: serde::de::MapAccess<'de>>(
                &mut self,
                mut map: A,
                body: &mut $crate::event::text::BodyRef,
            ) -> Result<(), A::Error> {
                let mut seen = 0;
                while let Some(key) = map.next_key::<$crate::event::de::Key<'de>>()? {
                    self.read_entry(key, &mut map, &mut seen, body)?;
                }
                Ok(())
            }
        }

        impl $crate::event::de::ReadField for $name {
            #[inline]
            fn read_into<'de, A: serde::de::MapAccess<'de>>(
                map: &mut A,
                slot: &mut Option<Self>,
                body: &mut $crate::event::text::BodyRef,
            ) -> Result<(), A::Error> {
                $crate::event::de::read_model_into(map, slot, body)
            }
        }

        impl $crate::event::de::ListItem for $name {
            #[inline]
            fn push_next<'de, A: serde::de::SeqAccess<'de>>(
                seq: &mut A,
                list: &mut Vec<Self>,
                body: &mut $crate::event::text::BodyRef,
            ) -> Result<bool, A::Error> {
                $crate::event::de::push_model(seq, list, body)
            }
        }

        impl $crate::event::de::SerializeFields for $name {
            fn serialize_fields<M: serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                $(
                    if let Some(v) = &self.$field {
                        map.serialize_entry($wire, v)?;
                    }
                )*
                for (k, v) in &self.extra {
                    map.serialize_entry(k, v)?;
                }
                Ok(())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(None)?;
                $crate::event::de::SerializeFields::serialize_fields(self, &mut map)?;
                map.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let mut out = Self::default();
                deserializer.deserialize_map($crate::event::de::ObjectVisitor(
                    &mut out,
                    &mut $crate::event::text::BodyRef::default(),
                ))?;
                Ok(out)
            }
        }
    };
}

/// Generates what every provider's `Event` has in common, written once: the enum with
/// its `Unknown` variant, `from_slice` (the skeleton in `event::wire`), `tag`, `is_known`
/// and the [`WebhookPayload`] impl. The provider supplies the variants, `metric_tag` (the
/// `'static` tag of each known variant) and the doc comments.
///
/// [`WebhookPayload`]: crate::WebhookPayload
macro_rules! provider_event {
    (
        $(#[$meta:meta])*
        pub enum Event {
            $( $(#[$vmeta:meta])* $variant:ident($ty:ty), )+
        }
        unknown_tag = $tag_field:literal;
        $(#[$from_slice:meta])*
        fn from_slice;
        fn metric_tag { $($metric_tag:tt)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Event {
            $( $(#[$vmeta])* $variant($ty), )+
            #[doc = concat!("An event whose tag (", $tag_field, ") this version does not know, kept losslessly.")]
            Unknown($crate::event::UnknownEvent),
        }

        impl Event {
            $(#[$from_slice])*
            ///
            /// # Errors
            ///
            /// [`ParseError`]: `Syntax` when the body is not JSON, `Data` when it is JSON of
            /// the wrong shape (see the [module docs](self)).
            ///
            /// The body is copied once, so that the event's strings can share it; when
            /// you have [`Bytes`](bytes::Bytes), [`WebhookPayload::parse`](crate::WebhookPayload::parse)
            /// shares them without the copy.
            pub fn from_slice(body: &[u8]) -> Result<Self, ParseError> {
                Self::from_bytes(&bytes::Bytes::copy_from_slice(body))
            }

            /// [`Self::from_slice`] without the copy.
            pub(crate) fn from_bytes(body: &bytes::Bytes) -> Result<Self, ParseError> {
                $crate::event::wire::parse(body)
            }

            #[doc = concat!("The tag exactly as on the wire (", $tag_field, ").")]
            #[must_use]
            pub fn tag(&self) -> &str {
                match self {
                    Self::Unknown(unknown) => unknown.tag(),
                    known => known.metric_tag(),
                }
            }

            /// Whether this crate knows the tag (the event is not [`Event::Unknown`]).
            #[must_use]
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }

            /// The tag of a known event, [`UNKNOWN_TAG`](crate::event::UNKNOWN_TAG)
            /// (`"unknown"`) otherwise: a bounded set of `'static` strings, fit for a
            /// metric label.
            #[must_use]
            pub fn metric_tag(&self) -> &'static str {
                match self {
                    $($metric_tag)*
                    Self::Unknown(_) => $crate::event::UNKNOWN_TAG,
                }
            }

            /// The [`metric_tag`](Self::metric_tag) that parsing `body` gives when it
            /// succeeds, found by a scan that builds nothing: cheaper than a parse, for
            /// labelling verified bytes before (or without) parsing them. A body that
            /// would not parse gives `"unknown"` or a tag; never panics.
            #[must_use]
            pub fn peek_metric_tag(body: &[u8]) -> &'static str {
                $crate::event::wire::peek_metric_tag::<Self>(body)
            }
        }

        webhook_payload_for_event!();
    };
}

/// Implements `WebhookPayload` for the `Event` in scope through its inherent methods
/// (`from_slice`, `tag`, `metric_tag`, `peek_metric_tag`).
macro_rules! webhook_payload_for_event {
    () => {
        impl $crate::event::WebhookPayload for Event {
            fn parse(body: &bytes::Bytes) -> Result<Self, $crate::ParseError> {
                Self::from_bytes(body)
            }
            fn tag(&self) -> &str {
                self.tag()
            }
            fn metric_tag(&self) -> &'static str {
                self.metric_tag()
            }
            fn peek_metric_tag(body: &[u8]) -> &'static str {
                Self::peek_metric_tag(body)
            }
        }
    };
}
