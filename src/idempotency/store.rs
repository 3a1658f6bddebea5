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

/// Shared state for idempotency keys: who is handling a key, and which keys are done.
///
/// A key is in one of three states: *absent*, *in flight* (held by the owner of a
/// [`Token`] until its lease expires) or *completed* (until its TTL expires). The
/// transitions are:
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
/// other processes when the store is shared: two concurrent `try_begin` calls for one key
/// must never both return `Acquired`.
///
/// Implementations: [`MemoryStore`](super::MemoryStore) (one process) and, with the
/// `redis` feature, `RedisStore` (shared by several instances).
pub trait Store: Send + Sync + 'static {
    /// Claims `key` for processing if nobody holds it and it is not completed.
    ///
    /// The claim (the *lease*) lapses by itself after `lease`, so a crashed owner blocks
    /// the key for at most that long.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer; the layer then applies its
    /// [`OutagePolicy`](super::OutagePolicy).
    fn try_begin<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Begin>;

    /// Marks `key` as completed for `ttl`, if `token` still owns it (or nobody does).
    ///
    /// Returns `false` when another owner holds the key (this owner's lease expired and
    /// the key was claimed again) or the key is already completed.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    fn complete<'a>(&'a self, key: &'a str, token: Token, ttl: Duration) -> StoreFuture<'a, bool>;

    /// Gives up the claim on `key` so the next delivery is processed, if `token` owns it.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    fn release<'a>(&'a self, key: &'a str, token: Token) -> StoreFuture<'a, bool>;
}

/// A shared store is a store, so `Arc<dyn Store>` can be passed wherever a `Store` is expected.
impl<T: Store + ?Sized> Store for Arc<T> {
    fn try_begin<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Begin> {
        (**self).try_begin(key, lease)
    }

    fn complete<'a>(&'a self, key: &'a str, token: Token, ttl: Duration) -> StoreFuture<'a, bool> {
        (**self).complete(key, token, ttl)
    }

    fn release<'a>(&'a self, key: &'a str, token: Token) -> StoreFuture<'a, bool> {
        (**self).release(key, token)
    }
}

/// The answer of [`Store::try_begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// The caller now owns the key and must call [`Store::complete`] or
    /// [`Store::release`] with this token.
    Acquired(Token),
    /// Another caller owns the key and its lease has not expired.
    InFlight,
    /// The key was completed and its TTL has not expired.
    Completed,
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
    source: Option<Box<dyn StdError + Send + Sync>>,
}

/// Why a [`Store`] could not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store is unreachable, timed out or answered with an error.
    Unavailable,
    /// The store is full of keys that may not be evicted (all in flight).
    CapacityExhausted,
}

impl StoreError {
    /// An error of `kind` without an underlying cause.
    #[must_use]
    pub const fn new(kind: StoreErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// A [`StoreErrorKind::Unavailable`] error caused by `source` (e.g. a client error).
    #[must_use]
    pub fn unavailable(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            kind: StoreErrorKind::Unavailable,
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
            StoreErrorKind::CapacityExhausted => {
                f.write_str("idempotency store full of in-flight keys")
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
        assert!(
            StoreError::new(StoreErrorKind::CapacityExhausted)
                .source()
                .is_none()
        );
    }
}
