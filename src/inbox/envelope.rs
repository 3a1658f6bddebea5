//! What the inbox stores for one delivery.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

/// The identity of a stored envelope in one [`InboxStore`](super::InboxStore).
///
/// For Redis it is the stream entry id (`<ms>-<seq>`); an envelope that is retried later,
/// handed back or requeued from the dead letters gets a new id (it is a new entry). Ids
/// are opaque text: compare them, print them, pass them back to the store that gave them.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnvelopeId(Arc<str>);

impl EnvelopeId {
    /// An id from its text form, e.g. as printed by a CLI.
    #[must_use]
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvelopeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EnvelopeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnvelopeId({})", self.0)
    }
}

/// A verified delivery about to be appended (see [`InboxStore::append`](super::InboxStore::append)).
///
/// [`InboxService`](super::InboxService) builds one per request; build one yourself to
/// feed an inbox from elsewhere (e.g. a backfill).
///
/// ```
/// use bytes::Bytes;
/// use ledgerhook::inbox::NewEnvelope;
///
/// let envelope = NewEnvelope::new("railz", Bytes::from_static(b"{}"))
///     .tag("auth")
///     .dedup_key("id:req-1");
/// assert_eq!(envelope.provider, "railz");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct NewEnvelope {
    /// The provider or route name (e.g. `railz`), for routing and metrics.
    pub provider: String,
    /// The event's tag (e.g. `auth`, `invoice.created`), if known at receive time.
    pub tag: Option<String>,
    /// The deduplication key: a second append with this key and the same body is
    /// answered [`Appended::Duplicate`] instead of being stored again.
    pub dedup_key: Option<String>,
    /// When the delivery was received.
    pub received_at: SystemTime,
    /// The exact bytes whose signature was verified.
    pub body: Bytes,
    /// The request headers kept for the worker (only those the service was told to keep).
    pub headers: HeaderMap,
}

impl NewEnvelope {
    /// An envelope for `body` from `provider`, received now, without tag, key or headers.
    #[must_use]
    pub fn new(provider: impl Into<String>, body: Bytes) -> Self {
        Self {
            provider: provider.into(),
            tag: None,
            dedup_key: None,
            received_at: SystemTime::now(),
            body,
            headers: HeaderMap::new(),
        }
    }

    /// Sets the event tag.
    #[must_use]
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }

    /// Sets the deduplication key.
    #[must_use]
    pub fn dedup_key(mut self, key: impl Into<String>) -> Self {
        self.dedup_key = Some(key.into());
        self
    }

    /// Sets the receive time.
    #[must_use]
    pub fn received_at(mut self, at: SystemTime) -> Self {
        self.received_at = at;
        self
    }

    /// Adds a header for the worker.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }
}

/// The body is not printed (it may hold customer data); its length is.
impl fmt::Debug for NewEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewEnvelope")
            .field("provider", &self.provider)
            .field("tag", &self.tag)
            .field("dedup_key", &self.dedup_key)
            .field("received_at", &self.received_at)
            .field("body_len", &self.body.len())
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A stored delivery, as a worker or an operator reads it back.
#[derive(Clone)]
#[non_exhaustive]
pub struct Envelope {
    /// Its id in the store (changes when it is retried, handed back or requeued).
    pub id: EnvelopeId,
    /// The provider or route name given at append.
    pub provider: String,
    /// The event tag given at append.
    pub tag: Option<String>,
    /// The deduplication key given at append.
    pub dedup_key: Option<String>,
    /// When the delivery was received (milliseconds precision in Redis).
    pub received_at: SystemTime,
    /// The exact verified bytes.
    pub body: Bytes,
    /// The headers kept at append.
    pub headers: HeaderMap,
    /// Handler runs that failed so far (0 for a fresh delivery; reset by a requeue).
    pub attempts: u32,
    /// How many times this entry has been handed to a consumer, including this time: 1
    /// after a read, more after a reclaim (a worker crashed or timed out holding it).
    pub deliveries: u32,
    /// The error of the last failed run, if any.
    pub last_error: Option<String>,
}

/// The body is not printed (it may hold customer data); its length is.
impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("tag", &self.tag)
            .field("dedup_key", &self.dedup_key)
            .field("received_at", &self.received_at)
            .field("body_len", &self.body.len())
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("attempts", &self.attempts)
            .field("deliveries", &self.deliveries)
            .field("last_error", &self.last_error)
            .finish()
    }
}

/// The answer of [`InboxStore::append`](super::InboxStore::append).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Appended {
    /// Stored under this id; it will be handed to a worker.
    Stored(EnvelopeId),
    /// The same dedup key with the same body was stored before (within the dedup TTL)
    /// under this id; nothing was stored now.
    Duplicate(EnvelopeId),
}

/// Headers as `name:value\n` lines: names never hold `:` and values never hold `\n`
/// (both forbidden by `http`), so the encoding is unambiguous and keeps non-UTF-8 bytes.
#[cfg_attr(not(feature = "inbox-redis"), allow(dead_code))]
pub(crate) fn encode_headers(headers: &HeaderMap) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.push(b':');
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out
}

/// The inverse of [`encode_headers`]; lines that are not a valid header are skipped.
#[cfg_attr(not(feature = "inbox-redis"), allow(dead_code))]
pub(crate) fn decode_headers(bytes: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_with_repeats_and_opaque_bytes() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", HeaderValue::from_static("1: two"));
        headers.append("x-a", HeaderValue::from_static("3"));
        headers.append("x-b", HeaderValue::from_bytes(b"caf\xe9\t ok").unwrap());
        let back = decode_headers(&encode_headers(&headers));
        assert_eq!(back, headers);
        assert!(decode_headers(b"no colon\n:empty name\n").is_empty());
    }

    #[test]
    fn debug_hides_the_body() {
        let e = NewEnvelope::new("railz", Bytes::from_static(b"secret-ish payload"));
        let shown = format!("{e:?}");
        assert!(!shown.contains("payload"), "{shown}");
        assert!(shown.contains("body_len: 18"), "{shown}");
    }
}
