//! Where the idempotency key of a delivery comes from.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use http::{HeaderMap, HeaderName};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
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
/// Whatever the key, the layer's record also remembers the digest of the body: the same
/// key with different bytes is a different delivery and is handled (see the
/// [module docs](crate::idempotency#keys-and-windows)).
///
/// # Two windows
///
/// A key from an id is remembered for the layer's
/// [`completed_ttl`](super::IdempotencyLayer::completed_ttl) (24 h by default): a distinct
/// event carries a distinct id, so remembering it long blocks nothing genuine. A key from
/// the body hash is remembered only for [`body_hash_window`](Self::body_hash_window), much
/// shorter and derived from the provider's retry horizon, because two genuine events can
/// have identical bytes.
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
    Railz,
    Rootfi,
}

/// A delivery's key, and whether it came from the body hash (short window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DerivedKey {
    pub(crate) text: String,
    pub(crate) from_body_hash: bool,
}

impl KeySource {
    /// Body-hash window for Railz: 10 minutes.
    ///
    /// Railz retries a delivery that got no `2xx` within 60 seconds twice, then gives up:
    /// its retries arrive within a few minutes. Its signature covers a timestamp that the
    /// verifying layer accepts for 5 minutes, so a captured delivery can only be replayed
    /// within those 5 minutes: 10 minutes covers both, with margin for clock skew.
    pub const RAILZ_BODY_HASH_WINDOW: Duration = Duration::from_secs(10 * 60);

    /// Body-hash window for RootFi (and the generic sources): 30 minutes.
    ///
    /// RootFi documents "retried 3 times with an exponential delay" without the delays;
    /// 30 minutes covers three doubling delays starting at up to 4 minutes
    /// (4 + 8 + 16 = 28 min). RootFi v3 signs nothing with a timestamp, so a captured
    /// delivery can be replayed at any time: a replay after the window is handled again
    /// (as it was after any window), and then blocks identical bytes for this window only.
    pub const DEFAULT_BODY_HASH_WINDOW: Duration = Duration::from_secs(30 * 60);

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

    /// The Railz envelope's `requestId` combined with the event tag (`/data/event`), else
    /// the body hash (with [`RAILZ_BODY_HASH_WINDOW`](Self::RAILZ_BODY_HASH_WINDOW)).
    ///
    /// Railz documents `requestId` as the best available delivery id, omits it from some
    /// events (hence the fallback), and its own samples reuse one `requestId` across
    /// different events, hence the tag: the key is `id:<requestId>:<event>`.
    ///
    /// With the `axum` feature, the layer finds both by parsing the body as
    /// [`railz::Event`](crate::railz::Event), and hands the event on to the handler's
    /// `WebhookEvent<railz::Event>`, which then does not parse again (see
    /// [where the event is parsed](crate::extract#where-the-event-is-parsed)).
    #[must_use]
    pub const fn railz() -> Self {
        Self { kind: Kind::Railz }
    }

    /// A RootFi event's natural identity where its type carries one, else the body hash
    /// (with [`DEFAULT_BODY_HASH_WINDOW`](Self::DEFAULT_BODY_HASH_WINDOW)).
    ///
    /// RootFi sends no delivery id. The identities used (the key is
    /// `id:rootfi:<parts joined by ':'>`):
    ///
    /// | body | identity |
    /// |---|---|
    /// | `webhook_type` `SYNC_*` with `data.id` | type, `company_id`, `data.id`, `data.status` |
    /// | v4 `event` `sync.*` with `sync_id` | event, `company_id`, `sync_id`, `status` |
    /// | `DATA_MODEL_CHANGES` with a timed `created_at` | type, `company_id`, `data_model`, `type` (operation), `created_at` |
    /// | `CONNECTION_CHANGED` with a timed `created_at` | type, `company_id`, `connection_status`, `created_at` |
    /// | any other `webhook_type` with a timed `created_at` | type, `company_id`, `created_at` |
    ///
    /// A *timed* `created_at` has a time of day (`2023-01-01T00:00:00.000Z`); the legacy
    /// date-only form (`2022-01-23`) does not tell events apart. Everything else falls back
    /// to the body hash, notably RootFi v4's `{"event":"connection.changed","company_id":N}`,
    /// which carries no timestamp: see the [module docs](crate::idempotency#rootfi) for what
    /// a handler should do about those.
    #[must_use]
    pub const fn rootfi() -> Self {
        Self { kind: Kind::Rootfi }
    }

    /// How long a key taken from the body hash is remembered by default: see
    /// [`RAILZ_BODY_HASH_WINDOW`](Self::RAILZ_BODY_HASH_WINDOW) and
    /// [`DEFAULT_BODY_HASH_WINDOW`](Self::DEFAULT_BODY_HASH_WINDOW). The layer's
    /// [`body_hash_ttl`](super::IdempotencyLayer::body_hash_ttl) overrides it.
    #[must_use]
    pub const fn body_hash_window(&self) -> Duration {
        match self.kind {
            Kind::Railz => Self::RAILZ_BODY_HASH_WINDOW,
            _ => Self::DEFAULT_BODY_HASH_WINDOW,
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

    /// The key for one delivery, without a namespace. `digest` is the body's SHA-256.
    pub(crate) fn key_for(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        digest: &[u8; 32],
    ) -> DerivedKey {
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
            Kind::Railz => railz_key(body),
            Kind::Rootfi => rootfi_identity(body).map(|id| id_key(id.as_bytes())),
        };
        derived(id, digest)
    }
}

/// An event the idempotency layer parsed to derive a key, to be handed on to the
/// handler's [`WebhookEvent`](crate::WebhookEvent) extractor.
#[cfg(feature = "axum")]
#[derive(Debug)]
pub(crate) enum ParsedEvent {
    Railz(crate::railz::Event),
}

#[cfg(feature = "axum")]
impl ParsedEvent {
    /// Leaves the event in `extensions`, where the extractor of its type takes it.
    pub(crate) fn hand_on(self, extensions: &mut http::Extensions) {
        match self {
            Self::Railz(event) => extensions.insert(crate::extract::Parsed(event)),
        };
    }
}

#[cfg(feature = "axum")]
impl KeySource {
    /// [`key_for`](Self::key_for), and the typed event where this source parses the
    /// body as one to find the key ([`railz`](Self::railz)): the same key as
    /// `key_for`, from one parse that the handler's extractor then reuses.
    ///
    /// A body the typed parse refuses gets `key_for`'s key (the extractor parses it
    /// again to report why it is refused).
    pub(crate) fn key_and_event(
        &self,
        headers: &HeaderMap,
        body: &bytes::Bytes,
        digest: &[u8; 32],
    ) -> (DerivedKey, Option<ParsedEvent>) {
        use crate::WebhookPayload;

        if matches!(self.kind, Kind::Railz)
            && let Ok(event) = crate::railz::Event::parse(body)
        {
            let id = railz_event_key(&event).unwrap_or_else(|| railz_key(body));
            return (derived(id, digest), Some(ParsedEvent::Railz(event)));
        }
        (self.key_for(headers, body, digest), None)
    }
}

/// The key from an id, else from the body's digest.
fn derived(id: Option<String>, digest: &[u8; 32]) -> DerivedKey {
    match id {
        Some(text) => DerivedKey {
            text,
            from_body_hash: false,
        },
        None => DerivedKey {
            text: format!("sha256:{}", const_hex::encode(digest)),
            from_body_hash: true,
        },
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
            Kind::Railz => f.write_str("KeySource::Railz"),
            Kind::Rootfi => f.write_str("KeySource::Rootfi"),
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

/// `<requestId>:<event>` (or `<requestId>` without a tag), if the body has a `requestId`.
///
/// One pass over the body finds both, as `lookup` of `/requestId` and of `/data/event`
/// would (the first duplicate key with a value wins).
#[cfg(test)]
fn railz_id(body: &[u8]) -> Option<String> {
    let (request, event) = railz_parts(body)?;
    Some(match event {
        Some(event) => format!("{request}:{event}"),
        None => request.into_owned(),
    })
}

/// `requestId` and the non-empty event tag, borrowed from the body where unescaped.
fn railz_parts(body: &[u8]) -> Option<(Cow<'_, str>, Option<Cow<'_, str>>)> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let (request, event) = de::Deserializer::deserialize_any(&mut de, RailzIds).ok()?;
    de.end().ok()?;
    let request = request.filter(|v| !v.is_empty())?;
    Some((request, event.filter(|v| !v.is_empty())))
}

/// [`id_key`] of [`railz_id`], built in one string.
fn railz_key(body: &[u8]) -> Option<String> {
    let (request, event) = railz_parts(body)?;
    Some(railz_id_key(&request, event.as_deref()))
}

/// [`id_key`] of `<request>:<event>` (or `<request>`), built in one string.
fn railz_id_key(request: &str, event: Option<&str>) -> String {
    let len = request.len() + event.map_or(0, |e| 1 + e.len());
    let mut key = String::with_capacity(3 + len);
    key.push_str("id:");
    key.push_str(request);
    if let Some(event) = event {
        key.push(':');
        key.push_str(event);
    }
    let id = &key.as_bytes()[3..];
    if id.len() <= MAX_RAW_ID_LEN && id.iter().all(u8::is_ascii_graphic) {
        key
    } else {
        id_key(id)
    }
}

/// What [`railz_key`] gives for the body `event` was parsed from, read off the parsed
/// event; `None` when the event cannot tell (an unknown tag).
///
/// A known event parsed without error has a `data` object with exactly one string
/// `event`, and at most one top-level `requestId`, a string or `null` (the typed parse
/// refuses duplicate keys and other types), so the seek pass would find the same two
/// values; an unknown event keeps its body as a `serde_json::Value`, which keeps the
/// last of duplicate keys and drops non-string ids: the seek pass decides for those.
#[cfg(feature = "axum")]
fn railz_event_key(event: &crate::railz::Event) -> Option<Option<String>> {
    if !event.is_known() {
        return None;
    }
    Some(
        event
            .request_id()
            .filter(|id| !id.is_empty())
            .map(|request| railz_id_key(request, Some(event.tag()))),
    )
}

/// The top level of a Railz body: `requestId`, and `event` inside `data`.
struct RailzIds;

impl<'de> Visitor<'de> for RailzIds {
    type Value = (Option<Cow<'de, str>>, Option<Cow<'de, str>>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut request, mut event) = (None, None);
        while let Some(field) = map.next_key_seed(RailzField)? {
            match field {
                Some(RailzKey::RequestId) if request.is_none() => {
                    request = map.next_value_seed(Seek {
                        tokens: &[] as &[&str],
                    })?;
                }
                Some(RailzKey::Data) if event.is_none() => {
                    event = map.next_value_seed(Seek { tokens: &["event"] })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((request, event))
    }

    // Anything but an object has neither.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok((None, None))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok((None, None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok((None, None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok((None, None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok((None, None))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok((None, None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok((None, None))
    }
}

/// The top-level keys [`RailzIds`] reads.
enum RailzKey {
    RequestId,
    Data,
}

/// Tells which [`RailzKey`] an object key is, if any, without allocating.
struct RailzField;

impl<'de> DeserializeSeed<'de> for RailzField {
    type Value = Option<RailzKey>;

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for RailzField {
    type Value = Option<RailzKey>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(match key {
            "requestId" => Some(RailzKey::RequestId),
            "data" => Some(RailzKey::Data),
            _ => None,
        })
    }
}

/// The fields of a RootFi body that can identify an event; everything else is skipped.
#[derive(Deserialize)]
struct RootfiFields<'a> {
    #[serde(borrow)]
    webhook_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    company_id: Option<&'a RawValue>,
    #[serde(borrow)]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data_model: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type")]
    operation: Option<Cow<'a, str>>,
    #[serde(borrow)]
    connection_status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    /// v4 spellings: `event` (`sync.completed`), `sync_id`, `status`.
    #[serde(borrow)]
    event: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sync_id: Option<&'a RawValue>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
}

/// `data` of a sync event: the sync (job) id and its status.
#[derive(Deserialize)]
struct SyncData<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
}

/// `rootfi:<parts>` for the RootFi bodies that carry a natural identity (see
/// [`KeySource::rootfi`]).
fn rootfi_identity(body: &[u8]) -> Option<String> {
    let fields: RootfiFields<'_> = serde_json::from_slice(body).ok()?;
    let company = fields.company_id.map_or("", |raw| scalar_text(raw));
    if let (Some(event), Some(sync)) = (fields.event.as_deref(), fields.sync_id) {
        // v4 `{"event":"sync.completed","company_id":N,"sync_id":..,"status":..}`.
        let id = scalar_text(sync);
        if event.starts_with("sync.") && !id.is_empty() {
            let status = fields.status.as_deref().unwrap_or("");
            return Some(format!("rootfi:{event}:{company}:{id}:{status}"));
        }
    }
    let kind = fields.webhook_type.as_deref().filter(|t| !t.is_empty())?;
    let timed = fields.created_at.as_deref().filter(|at| at.contains('T'));
    let parts: Vec<&str> = if kind.starts_with("SYNC_") {
        let data = fields.data.filter(|d| d.get().starts_with('{'))?;
        let sync: SyncData<'_> = serde_json::from_str(data.get()).ok()?;
        let id = sync.id.map(scalar_text).filter(|id| !id.is_empty())?;
        let status = sync.status.unwrap_or_default();
        return Some(format!("rootfi:{kind}:{company}:{id}:{status}"));
    } else {
        let at = timed?;
        match kind {
            "DATA_MODEL_CHANGES" => vec![
                kind,
                company,
                fields.data_model.as_deref().unwrap_or(""),
                fields.operation.as_deref().unwrap_or(""),
                at,
            ],
            "CONNECTION_CHANGED" => vec![
                kind,
                company,
                fields.connection_status.as_deref().unwrap_or(""),
                at,
            ],
            _ => vec![kind, company, at],
        }
    };
    Some(format!("rootfi:{}", parts.join(":")))
}

/// A JSON scalar as text: strings without their quotes (when unescaped), numbers as written.
fn scalar_text(raw: &RawValue) -> &str {
    let text = raw.get();
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|t| !t.contains('\\'))
        .unwrap_or(text)
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
fn lookup<'b, T: AsRef<str>>(body: &'b [u8], tokens: &[T]) -> Option<Cow<'b, str>> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let found = Seek { tokens }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    found
}

/// Walks one pointer step per nesting level, skipping everything off the path.
struct Seek<'t, T> {
    tokens: &'t [T],
}

impl<'de, T: AsRef<str>> DeserializeSeed<'de> for Seek<'_, T> {
    type Value = Option<Cow<'de, str>>;

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        if self.tokens.is_empty() {
            de.deserialize_any(Leaf)
        } else {
            de.deserialize_any(self)
        }
    }
}

impl<'de, T: AsRef<str>> Visitor<'de> for Seek<'_, T> {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (head, rest) = match self.tokens.split_first() {
            Some(split) => split,
            None => return Ok(None),
        };
        let mut found = None;
        while let Some(matches) = map.next_key_seed(KeyIs(head.as_ref()))? {
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
        let target = array_index(head.as_ref());
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
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
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

    fn key_of(source: &KeySource, headers: &HeaderMap, body: &[u8]) -> String {
        source
            .key_for(headers, body, &Sha256::digest(body).into())
            .text
    }

    fn body_hash_key(body: &[u8]) -> String {
        // The fallback format; the hash itself is checked against Python in `sha256_of_abc`.
        format!("sha256:{}", const_hex::encode(Sha256::digest(body)))
    }

    #[test]
    fn sha256_of_abc() {
        // python3 -c 'import hashlib; print(hashlib.sha256(b"abc").hexdigest())'
        let key = key_of(&KeySource::body_hash(), &HeaderMap::new(), b"abc");
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
        assert_eq!(key_of(&source, &h, body), "id:abc-123:auth");
        let untagged = br#"{"data":{},"requestId":"abc-123"}"#;
        assert_eq!(key_of(&source, &h, untagged), "id:abc-123");
        let no_id = br#"{"data":{"event":"auth"}}"#;
        assert_eq!(key_of(&source, &h, no_id), body_hash_key(no_id));
        let not_json = b"{\"requestId\":\"x\"";
        assert_eq!(key_of(&source, &h, not_json), body_hash_key(not_json));
        let trailing = b"{\"requestId\":\"x\"} junk";
        assert_eq!(key_of(&source, &h, trailing), body_hash_key(trailing));
        let empty = br#"{"requestId":""}"#;
        assert_eq!(key_of(&source, &h, empty), body_hash_key(empty));
    }

    /// The one-pass Railz lookup answers as the two pointer lookups it replaced.
    #[test]
    fn railz_id_matches_the_two_pointer_lookups() {
        let two_lookups = |body: &[u8]| {
            let request = lookup(body, &["requestId"]).filter(|v| !v.is_empty())?;
            Some(
                match lookup(body, &["data", "event"]).filter(|v| !v.is_empty()) {
                    Some(event) => format!("{request}:{event}"),
                    None => request.into_owned(),
                },
            )
        };
        let bodies: &[&[u8]] = &[
            br#"{"data":{"event":"auth","requestId":"inner"},"requestId":"abc-123"}"#,
            br#"{"requestId":"r","data":{"event":"e"}}"#,
            br#"{"requestId":{"x":1},"requestId":"second","data":[1],"data":{"event":"e2"}}"#,
            br#"{"requestId":"first","requestId":"second","data":{"event":""}}"#,
            br#"{"requestId":12,"data":{"event":7}}"#,
            br#"{"requestId":"","data":{"event":"e"}}"#,
            br#"{"requestId":1.5,"data":{"event":true}}"#,
            br#"{"requ\u0065stId":"escaped","data":{"ev\u0065nt":"x\ny"}}"#,
            br#"["requestId","r"]"#,
            br#""requestId""#,
            br#"{"requestId":"x"} junk"#,
            br#"{"requestId":"x""#,
            b"",
            include_bytes!("../../tests/fixtures/railz_data_per_type.json"),
            include_bytes!("../../tests/fixtures/railz_data_simple.json"),
            include_bytes!("../../tests/fixtures/railz_customer_request.json"),
        ];
        for body in bodies {
            assert_eq!(
                railz_id(body),
                two_lookups(body),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            railz_id(bodies[2]).as_deref(),
            Some("second:e2"),
            "the first duplicate with a value wins"
        );
    }

    /// The Railz fixtures, each as published.
    #[cfg(feature = "axum")]
    const RAILZ_FIXTURES: &[&[u8]] = &[
        include_bytes!("../../tests/fixtures/railz_auth.json"),
        include_bytes!("../../tests/fixtures/railz_batch_push.json"),
        include_bytes!("../../tests/fixtures/railz_connection_status.json"),
        include_bytes!("../../tests/fixtures/railz_customer_request.json"),
        include_bytes!("../../tests/fixtures/railz_data_full.json"),
        include_bytes!("../../tests/fixtures/railz_data_full_no_envelope_extras.json"),
        include_bytes!("../../tests/fixtures/railz_data_per_type.json"),
        include_bytes!("../../tests/fixtures/railz_data_per_type_simple.json"),
        include_bytes!("../../tests/fixtures/railz_data_simple.json"),
        include_bytes!("../../tests/fixtures/railz_delete.json"),
        include_bytes!("../../tests/fixtures/railz_login.json"),
        include_bytes!("../../tests/fixtures/railz_push_validation_errors.json"),
    ];

    /// The key from the typed parse next to the seek pass's, and whether the typed parse
    /// gave an event.
    #[cfg(feature = "axum")]
    fn both_keys(body: &[u8]) -> (DerivedKey, DerivedKey, bool) {
        let (h, source) = (HeaderMap::new(), KeySource::railz());
        let digest = Sha256::digest(body).into();
        let body = bytes::Bytes::copy_from_slice(body);
        let seek = source.key_for(&h, &body, &digest);
        let (typed, event) = source.key_and_event(&h, &body, &digest);
        (seek, typed, event.is_some())
    }

    #[cfg(feature = "axum")]
    #[test]
    fn typed_railz_key_is_the_seek_pass_key_on_every_fixture() {
        for body in RAILZ_FIXTURES {
            let (seek, typed, parsed) = both_keys(body);
            assert!(parsed, "{}", String::from_utf8_lossy(body));
            assert_eq!(typed, seek, "{}", String::from_utf8_lossy(body));
        }
    }

    #[cfg(feature = "axum")]
    #[test]
    fn typed_railz_key_is_the_seek_pass_key_on_edge_cases() {
        // 123 + ":auth" is the longest id kept as it is.
        let long = format!(
            r#"{{"data":{{"event":"auth"}},"requestId":"{}"}}"#,
            "r".repeat(123)
        );
        let long_key = format!("id:{}:auth", "r".repeat(123));
        let longer = format!(
            r#"{{"data":{{"event":"auth"}},"requestId":"{}"}}"#,
            "r".repeat(200)
        );
        // (body, whether the typed parse gives an event, the key: `None` for the body hash,
        // `idsha256:` for a hashed id)
        let cases: &[(&[u8], bool, Option<&str>)] = &[
            (
                br#"{"data":{"event":"auth"},"requestId":"r"}"#,
                true,
                Some("id:r:auth"),
            ),
            (
                br#"{"requestId":"r","data":{"connectionId":"c","event":"push"}}"#,
                true,
                Some("id:r:push"),
            ),
            // Escaped keys and values, decoded alike.
            (
                br#"{"data":{"ev\u0065nt":"a\u0075th"},"requ\u0065stId":"a\u002db"}"#,
                true,
                Some("id:a-b:auth"),
            ),
            // A tag is case-sensitive: `Auth` is an unknown tag.
            (
                br#"{"data":{"event":"Auth"},"requestId":"r"}"#,
                true,
                Some("id:r:Auth"),
            ),
            (
                br#"{"data":{"event":"subscriptionRenewed","x":[1]},"requestId":"r"}"#,
                true,
                Some("id:r:subscriptionRenewed"),
            ),
            // Empty tag: the id alone.
            (
                br#"{"data":{"event":""},"requestId":"r"}"#,
                true,
                Some("id:r"),
            ),
            // Unknown tags: duplicates and non-string ids, decided by the seek pass.
            (
                br#"{"data":{"event":"new"},"requestId":"first","requestId":"second"}"#,
                true,
                Some("id:first:new"),
            ),
            (
                br#"{"data":{"event":"new"},"requestId":12}"#,
                true,
                Some("id:12:new"),
            ),
            (
                br#"{"data":{"event":"new"},"requestId":null,"requestId":"late"}"#,
                true,
                Some("id:late:new"),
            ),
            // Known tags: what the typed parse refuses gets the seek pass's key.
            (
                br#"{"data":{"event":"auth"},"requestId":"first","requestId":"second"}"#,
                false,
                Some("id:first:auth"),
            ),
            (
                br#"{"data":{"event":"auth"},"requestId":12}"#,
                false,
                Some("id:12:auth"),
            ),
            (
                br#"{"data":{"event":"auth"},"requestId":null,"requestId":"late"}"#,
                false,
                Some("id:late:auth"),
            ),
            (
                br#"{"data":{"event":"auth","event":"push"},"requestId":"r"}"#,
                false,
                Some("id:r:auth"),
            ),
            (
                br#"{"data":{"event":"push","status":7},"requestId":"r"}"#,
                false,
                Some("id:r:push"),
            ),
            // The seek pass reads an integer tag as its digits.
            (
                br#"{"data":{"event":7},"requestId":"r"}"#,
                false,
                Some("id:r:7"),
            ),
            (br#"{"data":null,"requestId":"r"}"#, false, Some("id:r")),
            (
                br#"{"data":[1],"data":{"event":"auth"},"requestId":"r"}"#,
                false,
                Some("id:r:auth"),
            ),
            (br#"{"requestId":"r"}"#, false, Some("id:r")),
            (br#"{"data":{},"requestId":"r"}"#, false, Some("id:r")),
            // Another provider's envelope keys (kept as extras).
            (
                br#"{"data":{"event":"auth"},"event":"sync.completed","requestId":"r"}"#,
                true,
                Some("id:r:auth"),
            ),
            // Long or unprintable ids are hashed alike.
            (long.as_bytes(), true, Some(&long_key)),
            (longer.as_bytes(), true, Some("idsha256:")),
            (
                br#"{"data":{"event":"auth"},"requestId":"has space"}"#,
                true,
                Some("idsha256:"),
            ),
            (
                br#"{"data":{"event":"auth"},"requestId":"caf\u00e9"}"#,
                true,
                Some("idsha256:"),
            ),
            // No id: the body hash.
            (br#"{"data":{"event":"auth"}}"#, true, None),
            (br#"{"data":{"event":"auth"},"requestId":""}"#, true, None),
            (br#"{"data":{"event":"auth"},"requestId":null}"#, true, None),
            (
                br#"{"data":{"event":"auth"},"requestId":"r"} junk"#,
                false,
                None,
            ),
            (br#"{"data":{"event":"auth"},"requestId":"r""#, false, None),
            (br#"["requestId","r"]"#, false, None),
            (b"", false, None),
        ];
        for (body, parses, key) in cases {
            let text = String::from_utf8_lossy(body);
            let (seek, typed, parsed) = both_keys(body);
            assert_eq!(typed, seek, "{text}");
            assert_eq!(parsed, *parses, "{text}");
            match key {
                Some(hashed @ "idsha256:") => assert!(typed.text.starts_with(hashed), "{text}"),
                Some(key) => assert_eq!(typed.text, *key, "{text}"),
                None => assert_eq!(typed.text, body_hash_key(body), "{text}"),
            }
        }
    }

    #[cfg(feature = "axum")]
    proptest::proptest! {
        // Cheap cases, and only about one in six is a known event with an id.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

        /// Railz-like bodies assembled from entries (ids and tags of every JSON type,
        /// escaped, sometimes duplicated, other fields, in any order; most of them bodies
        /// the typed parse accepts): the typed derivation gives the seek pass's key.
        #[test]
        fn typed_railz_key_is_the_seek_pass_key_on_assembled_bodies(
            id in proptest::option::weighted(0.9, 0..IDS.len()),
            second_id in proptest::option::weighted(0.1, 0..IDS.len()),
            tag in proptest::option::weighted(0.95, 0..TAGS.len()),
            second_tag in proptest::option::weighted(0.1, 0..TAGS.len()),
            fields in proptest::collection::vec(0..FIELDS.len(), 0..4),
            tag_at in 0..5usize,
            data in proptest::option::weighted(0.9, proptest::strategy::Just(())),
            extras in proptest::collection::vec(0..EXTRAS.len(), 0..2),
            at in proptest::collection::vec(0..4usize, 4),
        ) {
            let mut inner: Vec<&str> = fields.iter().map(|&i| FIELDS[i]).collect();
            for (tag, at) in [(tag, tag_at), (second_tag, 0)] {
                if let Some(t) = tag {
                    inner.insert(at.min(inner.len()), TAGS[t]);
                }
            }
            let object = format!(r#""data":{{{}}}"#, inner.join(","));
            let mut entries: Vec<String> = extras.iter().map(|&i| EXTRAS[i].to_owned()).collect();
            let placed = [
                id.map(|i| IDS[i].to_owned()),
                data.map(|()| object),
                second_id.map(|i| IDS[i].to_owned()),
            ];
            for (entry, at) in placed.into_iter().zip(at) {
                if let Some(entry) = entry {
                    entries.insert(at.min(entries.len()), entry);
                }
            }
            let body = format!("{{{}}}", entries.join(","));
            let (seek, typed, _) = both_keys(body.as_bytes());
            proptest::prop_assert_eq!(typed, seek, "{}", body);
        }
    }

    /// `requestId` entries of the assembled bodies.
    #[cfg(feature = "axum")]
    const IDS: &[&str] = &[
        r#""requestId":"r-1""#,
        r#""requestId":"428ebd8f-7cb2-4fa7-9cdb-00f083044324""#,
        r#""requ\u0065stId":"r\u002d3""#,
        r#""requestId":"""#,
        r#""requestId":null"#,
        r#""requestId":12"#,
        r#""requestId":1.5"#,
        r#""requestId":"with space""#,
        r#""requestId":"caf\u00e9""#,
        r#""requestId":"rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr""#,
        r#""requestId":{"id":"x"}"#,
    ];

    /// `data.event` entries of the assembled bodies.
    #[cfg(feature = "axum")]
    const TAGS: &[&str] = &[
        r#""event":"auth""#,
        r#""event":"login""#,
        r#""event":"dataPerType""#,
        r#""event":"push""#,
        r#""event":"connectionStatus""#,
        r#""ev\u0065nt":"a\u0075th""#,
        r#""event":"Auth""#,
        r#""event":"subscriptionRenewed""#,
        r#""event":"""#,
        r#""event":7"#,
        r#""event":null"#,
    ];

    /// Other `data` entries of the assembled bodies.
    #[cfg(feature = "axum")]
    const FIELDS: &[&str] = &[
        r#""connectionId":"CON-1""#,
        r#""businessName":"B\u00e9""#,
        r#""serviceName":"xero""#,
        r#""status":"failed""#,
        r#""status":7"#,
        r#""requestId":"inner""#,
        r#""nested":{"event":"login","requestId":"n"}"#,
    ];

    /// Other top-level entries of the assembled bodies.
    #[cfg(feature = "axum")]
    const EXTRAS: &[&str] = &[
        r#""extra":{"requestId":"inner"}"#,
        r#""event":"sync.completed""#,
        r#""data":null"#,
        r#""meta":[1,{"data":{"event":"push"}}]"#,
    ];

    #[test]
    fn pointer_walks_objects_and_arrays_and_unescapes() {
        let h = HeaderMap::new();
        let body = br#"{"a":[{"x":1},{"b/c":{"~d":"found"}}],"z":[1,2,{"q":null}]}"#;
        let source = KeySource::json_pointer("/a/1/b~1c/~0d").unwrap();
        assert_eq!(key_of(&source, &h, body), "id:found");
        let number = KeySource::json_pointer("/a/0/x").unwrap();
        assert_eq!(key_of(&number, &h, body), "id:1");
        for missing in ["/a/2/x", "/a/01/x", "/a/x", "/z/2/q", "/z/2", "/nope", "/a"] {
            let source = KeySource::json_pointer(missing).unwrap();
            assert_eq!(key_of(&source, &h, body), body_hash_key(body), "{missing}");
        }
    }

    #[test]
    fn first_duplicate_object_key_wins() {
        let h = HeaderMap::new();
        let body = br#"{"id":"first","id":"second"}"#;
        let source = KeySource::json_pointer("/id").unwrap();
        assert_eq!(key_of(&source, &h, body), "id:first");
    }

    #[test]
    fn escaped_keys_and_values_are_decoded() {
        let h = HeaderMap::new();
        let body = br#"{"re\u0071uestId":"a\u002db"}"#;
        assert_eq!(key_of(&KeySource::railz(), &h, body), "id:a-b");
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
        assert_eq!(key_of(&source, &h, b"body"), body_hash_key(b"body"));
        h.insert("webhook-id", HeaderValue::from_static("msg_1"));
        h.append("webhook-id", HeaderValue::from_static("msg_2"));
        assert_eq!(key_of(&source, &h, b"body"), "id:msg_1");
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
        assert_eq!(key_of(&KeySource::railz(), &h, body), "id:sha256:00");
    }

    #[test]
    fn railz_samples_sharing_a_request_id_get_distinct_keys() {
        // The published samples reuse one requestId for different events.
        let h = HeaderMap::new();
        let data = include_bytes!("../../tests/fixtures/railz_data_simple.json");
        let gdpr = include_bytes!("../../tests/fixtures/railz_customer_request.json");
        let (a, b) = (
            key_of(&KeySource::railz(), &h, data),
            key_of(&KeySource::railz(), &h, gdpr),
        );
        assert!(
            a.starts_with("id:a3b4fc83-3e24-41aa-ba99-13cab09b0b7a:"),
            "{a}"
        );
        assert!(
            b.starts_with("id:a3b4fc83-3e24-41aa-ba99-13cab09b0b7a:"),
            "{b}"
        );
        assert_ne!(a, b);
    }

    #[test]
    fn rootfi_natural_identities() {
        let h = HeaderMap::new();
        let src = KeySource::rootfi();
        let sync = br#"{"webhook_type":"SYNC_COMPLETED","company_id":285,"created_at":"2023-01-01T00:00:00.000Z","data":{"id":"sync-9","status":"SUCCESS","jobs":[]}}"#;
        assert_eq!(
            key_of(&src, &h, sync),
            "id:rootfi:SYNC_COMPLETED:285:sync-9:SUCCESS"
        );
        let changes = br#"{"webhook_type":"DATA_MODEL_CHANGES","company_id":"285","type":"CREATE","data_model":"INVOICES","created_at":"2023-01-01T10:11:12.345Z","data":[{"rootfi_id":1}]}"#;
        assert_eq!(
            key_of(&src, &h, changes),
            "id:rootfi:DATA_MODEL_CHANGES:285:INVOICES:CREATE:2023-01-01T10:11:12.345Z"
        );
        let connection = br#"{"webhook_type":"CONNECTION_CHANGED","company_id":285,"integration_type":"ZOHO_BOOKS","connection_status":"HEALTHY","created_at":"2023-01-01T00:00:00.000Z"}"#;
        assert_eq!(
            key_of(&src, &h, connection),
            "id:rootfi:CONNECTION_CHANGED:285:HEALTHY:2023-01-01T00:00:00.000Z"
        );
        let derived = src.key_for(&h, connection, &Sha256::digest(connection).into());
        assert!(!derived.from_body_hash);
        let v4_sync = include_bytes!("../../tests/fixtures/rootfi_v4_sync_completed_event.json");
        assert_eq!(
            key_of(&src, &h, v4_sync),
            "id:rootfi:sync.completed:496:b1f0c8e2-4d7a-4e19-9c3b-7a5d2e1f0c84:PARTIAL_SUCCESS"
        );
        let v3_sync = include_bytes!("../../tests/fixtures/rootfi_sync_completed.json");
        assert_eq!(
            key_of(&src, &h, v3_sync),
            "id:rootfi:SYNC_COMPLETED:1244:ZqpzbJNs4MvzrFz:SUCCESS"
        );
    }

    #[test]
    fn rootfi_bodies_without_an_identity_use_the_body_hash_and_its_short_window() {
        let h = HeaderMap::new();
        let src = KeySource::rootfi();
        for body in [
            // v4: no timestamp at all.
            &include_bytes!("../../tests/fixtures/rootfi_v4_connection_changed.json")[..],
            br#"{"event":"connection.changed","company_id":496}"#,
            include_bytes!("../../tests/fixtures/rootfi_legacy_data_model_changes.json"),
            // Legacy: a date without a time of day.
            br#"{"company_id":1,"created_at":"2022-01-23","data_model":"INVOICES","type":"CREATE","data":{}}"#,
            br#"{"webhook_type":"DATA_MODEL_CHANGES","company_id":1,"created_at":"2022-01-23"}"#,
            // A sync event without a sync id.
            br#"{"webhook_type":"SYNC_COMPLETED","company_id":1,"data":{"status":"SUCCESS"}}"#,
            b"not json",
        ] {
            let derived = src.key_for(&h, body, &Sha256::digest(body).into());
            assert!(derived.from_body_hash, "{}", String::from_utf8_lossy(body));
            assert_eq!(derived.text, body_hash_key(body));
        }
        assert_eq!(src.body_hash_window(), KeySource::DEFAULT_BODY_HASH_WINDOW);
        assert_eq!(
            KeySource::railz().body_hash_window(),
            KeySource::RAILZ_BODY_HASH_WINDOW
        );
        assert!(KeySource::RAILZ_BODY_HASH_WINDOW < KeySource::DEFAULT_BODY_HASH_WINDOW);
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
