//! The storage contract behind the idempotency layer.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The boxed future every [`Store`] method returns.
///
/// Boxed so that `Store` stays object safe: a layer holds an `Arc<dyn Store>`, and the store
/// can be chosen at run time (in-memory or Redis) without changing the service's type.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Which record a delivery claims: the route's namespace, the delivery's key and the
/// SHA-256 digest of its verified body.
///
/// Records are per `(namespace, key, digest)`: the same key with a different body is a
/// different delivery (Railz reuses one `requestId` across events; RootFi bodies may be
/// identical for distinct events only when their bytes are), so it claims a record of its
/// own and is never answered as a duplicate of the first. Capacity limits apply per
/// namespace, so one route cannot crowd out another's records.
///
/// Shown (`Display`, `Debug`) as `<namespace>:<key>#<first 8 hex digits of the digest>`:
/// the key and a digest prefix, never the body.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RecordId {
    namespace: Arc<str>,
    key: Arc<str>,
    digest: [u8; 32],
}

impl RecordId {
    /// The record of `body` delivered under `key` on the route `namespace`.
    #[must_use]
    pub fn new(namespace: impl Into<Arc<str>>, key: impl Into<Arc<str>>, body: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        Self::from_digest(namespace, key, Sha256::digest(body).into())
    }

    /// The record of the body whose SHA-256 is `digest`.
    #[must_use]
    pub fn from_digest(
        namespace: impl Into<Arc<str>>,
        key: impl Into<Arc<str>>,
        digest: [u8; 32],
    ) -> Self {
        Self {
            namespace: namespace.into(),
            key: key.into(),
            digest,
        }
    }

    /// The route's namespace ([`IdempotencyLayer::namespace`](super::IdempotencyLayer::namespace)).
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The delivery's key, e.g. `id:<requestId>:<event>` or `sha256:<hex of the body>`.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The key as a shared string (cheap to clone).
    #[must_use]
    pub fn key_arc(&self) -> &Arc<str> {
        &self.key
    }

    /// The namespace as a shared string (cheap to clone).
    #[must_use]
    pub fn namespace_arc(&self) -> &Arc<str> {
        &self.namespace
    }

    /// The SHA-256 of the verified body.
    #[must_use]
    pub const fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// The digest as 64 lowercase hex digits.
    #[must_use]
    pub fn digest_hex(&self) -> String {
        const_hex::encode(self.digest)
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = const_hex::encode(&self.digest[..4]);
        write!(f, "{}:{}#{short}", self.namespace, self.key)
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({self})")
    }
}

/// Shared state for idempotency records: who is handling a delivery, and which are done.
///
/// A record ([`RecordId`]: namespace, key, body digest) is in one of three states:
/// *absent*, *in flight* (held by the owner of a [`Token`] until its lease expires) or
/// *completed* (until its TTL expires). The transitions are:
///
/// | call | from | to | returns |
/// |---|---|---|---|
/// | [`try_begin`](Store::try_begin) | absent, or expired | in flight (new token, lease) | [`Begin::Acquired`] |
/// | `try_begin` | in flight | unchanged | [`Begin::InFlight`] |
/// | `try_begin` | completed | unchanged | [`Begin::Completed`] |
/// | [`complete`](Store::complete) | in flight with this token, or absent | completed (TTL) | `true` |
/// | `complete` | in flight with another token, or completed | unchanged | `false` |
/// | [`release`](Store::release) | in flight with this token | absent | `true` |
/// | `release` | anything else | unchanged | `false` |
///
/// Every transition must be atomic with respect to other callers, including callers in
/// other processes when the store is shared: two concurrent `try_begin` calls for one
/// record must never both return `Acquired`. Records with the same namespace and key but
/// different digests are independent; `Acquired { other_body: true, .. }` reports that
/// such a sibling is held (best effort: it only feeds a WARN log).
///
/// A store must never forget a record before its lease or TTL ends to make room: when it
/// is full it fails with [`StoreErrorKind::Full`] (the layer answers `503` + `Retry-After`,
/// so the sender retries and nothing is lost). Capacity, if bounded, is per namespace.
///
/// Implementations: [`MemoryStore`](super::MemoryStore) (one process) and, with the
/// `redis` feature, `RedisStore` (shared by several instances).
pub trait Store: Send + Sync + 'static {
    /// Claims `record` for processing if nobody holds it and it is not completed.
    ///
    /// The claim (the *lease*) lapses by itself after `lease`, so a crashed owner blocks
    /// the record for at most that long.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer or is full; the layer then applies its
    /// [`OutagePolicy`](super::OutagePolicy).
    fn try_begin<'a>(&'a self, record: &'a RecordId, lease: Duration) -> StoreFuture<'a, Begin>;

    /// Marks `record` as completed for `ttl`, if `token` still owns it (or nobody does).
    ///
    /// Returns `false` when another owner holds the record (this owner's lease expired and
    /// it was claimed again) or the record is already completed.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer or is full.
    fn complete<'a>(
        &'a self,
        record: &'a RecordId,
        token: Token,
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Gives up the claim on `record` so the next delivery is processed, if `token` owns it.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    fn release<'a>(&'a self, record: &'a RecordId, token: Token) -> StoreFuture<'a, bool>;
}

/// A shared store is a store, so `Arc<dyn Store>` can be passed wherever a `Store` is expected.
impl<T: Store + ?Sized> Store for Arc<T> {
    fn try_begin<'a>(&'a self, record: &'a RecordId, lease: Duration) -> StoreFuture<'a, Begin> {
        (**self).try_begin(record, lease)
    }

    fn complete<'a>(
        &'a self,
        record: &'a RecordId,
        token: Token,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        (**self).complete(record, token, ttl)
    }

    fn release<'a>(&'a self, record: &'a RecordId, token: Token) -> StoreFuture<'a, bool> {
        (**self).release(record, token)
    }
}

/// The answer of [`Store::try_begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// The caller now owns the record and must call [`Store::complete`] or
    /// [`Store::release`] with this token.
    Acquired {
        /// Proof of ownership.
        token: Token,
        /// Another body was seen under the same namespace and key (a different delivery
        /// reusing the key): worth a WARN, never a reason to refuse.
        other_body: bool,
    },
    /// Another caller owns the record and its lease has not expired.
    InFlight,
    /// The record was completed and its TTL has not expired.
    Completed,
}

impl Begin {
    /// `Acquired` with no other body seen.
    #[must_use]
    pub const fn acquired(token: Token) -> Self {
        Self::Acquired {
            token,
            other_body: false,
        }
    }
}

/// Proof of ownership of an in-flight key: only the holder may complete or release it.
///
/// Unique within a process (a counter) and, with overwhelming probability, across
/// processes (a random per-process prefix), so that an owner whose lease expired cannot
/// complete or release a key that someone else claimed since.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token(u128);

impl Token {
    /// A fresh token, never returned before by this process.
    #[must_use]
    pub fn generate() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Self((u128::from(process_seed()) << 64) | u128::from(n))
    }

    /// A token from its numeric form, e.g. as read back from a store.
    #[must_use]
    pub const fn from_u128(value: u128) -> Self {
        Self(value)
    }

    /// The numeric form of the token.
    #[must_use]
    pub const fn as_u128(self) -> u128 {
        self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({self})")
    }
}

/// 32 lowercase hex digits.
impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// 64 random bits per process, from the OS-seeded keys of std's `RandomState`
/// (avoids a dependency on a random number crate for one value).
fn process_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        if let Ok(since) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            hasher.write_u128(since.as_nanos());
        }
        hasher.finish()
    })
}

/// A store could not answer.
///
/// The layer turns it into its [`OutagePolicy`](super::OutagePolicy): by default a `503`.
#[derive(Debug)]
pub struct StoreError {
    kind: StoreErrorKind,
    retry_after: Option<Duration>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

/// Why a [`Store`] could not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store is unreachable, timed out or answered with an error.
    Unavailable,
    /// The store (or this namespace's share of it) is full of records still inside their
    /// lease or TTL, none of which may be forgotten early. Code `store_full`.
    Full,
}

impl StoreErrorKind {
    /// A stable machine-readable code: `store_unavailable` or `store_full`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Unavailable => "store_unavailable",
            Self::Full => "store_full",
        }
    }
}

impl StoreError {
    /// An error of `kind` without an underlying cause.
    #[must_use]
    pub const fn new(kind: StoreErrorKind) -> Self {
        Self {
            kind,
            retry_after: None,
            source: None,
        }
    }

    /// A [`StoreErrorKind::Full`] error; `retry_after` is when the store expects room
    /// (e.g. when its oldest record expires), if it knows.
    #[must_use]
    pub const fn full(retry_after: Option<Duration>) -> Self {
        Self {
            kind: StoreErrorKind::Full,
            retry_after,
            source: None,
        }
    }

    /// When the store expects to answer again, if it knows.
    #[must_use]
    pub const fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// A [`StoreErrorKind::Unavailable`] error caused by `source` (e.g. a client error).
    #[must_use]
    pub fn unavailable(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            kind: StoreErrorKind::Unavailable,
            retry_after: None,
            source: Some(source.into()),
        }
    }

    /// Why the store could not answer.
    #[must_use]
    pub const fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            StoreErrorKind::Unavailable => f.write_str("idempotency store unavailable"),
            StoreErrorKind::Full => {
                f.write_str("idempotency store full of records still inside their window")
            }
        }
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_share_the_process_prefix() {
        let a = Token::generate();
        let b = Token::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_u128() >> 64, b.as_u128() >> 64);
        assert_eq!(Token::from_u128(a.as_u128()), a);
        assert_eq!(a.to_string().len(), 32);
    }

    #[test]
    fn store_error_keeps_its_source() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = StoreError::unavailable(io);
        assert_eq!(err.kind(), StoreErrorKind::Unavailable);
        assert_eq!(err.to_string(), "idempotency store unavailable");
        assert!(err.source().is_some_and(|s| s.to_string() == "refused"));
        assert!(StoreError::new(StoreErrorKind::Full).source().is_none());
        let full = StoreError::full(Some(Duration::from_secs(3)));
        assert_eq!(full.kind().code(), "store_full");
        assert_eq!(full.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(StoreErrorKind::Unavailable.code(), "store_unavailable");
    }

    #[test]
    fn record_ids_show_the_key_and_a_digest_prefix_never_the_body() {
        let record = RecordId::new("railz", "id:r-1", b"secret body");
        // python3 -c 'import hashlib; print(hashlib.sha256(b"secret body").hexdigest())'
        assert_eq!(
            record.digest_hex(),
            "007eb37ae2002291ecada25cbc5b8b342bd0ce84623487a168c5824d0d945107"
        );
        let shown = format!("{record} {record:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(
            record.to_string(),
            format!("railz:id:r-1#{}", &record.digest_hex()[..8])
        );
        assert_ne!(record, RecordId::new("railz", "id:r-1", b"other body"));
        assert_ne!(record, RecordId::new("rootfi", "id:r-1", b"secret body"));
    }
}
