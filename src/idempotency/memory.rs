//! A bounded, in-process [`Store`] with per-record expiry and per-namespace capacity.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hashbrown::HashTable;

use super::store::{Begin, RecordId, Store, StoreError, StoreFuture, Token};

/// Hashes for the store's tables. Keys are derived from verified bodies (or headers of
/// verified deliveries), so only a signer can choose them; foldhash, seeded per store, is
/// several times cheaper than SipHash on these 70-byte keys.
type Hasher = foldhash::fast::RandomState;

/// The namespaces (a handful, fixed by the layers' configuration).
type Map<K, V> = HashMap<K, V, Hasher>;

/// Where a [`MemoryStore`] takes its notion of "now" from.
type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// An in-memory [`Store`] for a single process: no setup, bounded, with per-record expiry.
///
/// Cloning is cheap and clones share the same records, so one `MemoryStore` can back the
/// layers of several routes (give each a different [`namespace`]).
///
/// # Bounds: per namespace, and nothing forgotten early
///
/// Each namespace holds at most [`capacity`](Self::capacity) records (default
/// [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY)), so a flood of valid deliveries on one
/// route cannot push another route's records out. Expired records are dropped on every
/// call. A record is **never evicted before its lease or TTL ends**: forgetting a
/// completed record inside its window would let a replay of that delivery be handled a
/// second time. When a namespace is full the claim fails with
/// [`StoreErrorKind::Full`](super::StoreErrorKind::Full), which the layer answers `503`
/// with `Retry-After` (the time until that namespace's next record expires, at least 1 s):
/// the sender retries and nothing is lost or handled twice.
///
/// Size the capacity for the deliveries one route receives within its longest window
/// (up to about 400 bytes per record, counting the growth of its table; the total grows
/// with the number of namespaces, which the layers' configuration fixes).
/// [`refused`](Self::refused) counts the claims refused because a namespace was full, so
/// you can tell when it is too small.
///
/// # Clock
///
/// Time comes from [`tokio::time::Instant::now`] by default, so tests on tokio's paused
/// clock (`#[tokio::test(start_paused = true)]`, `tokio::time::advance`) drive leases and
/// TTLs; [`with_clock`](Self::with_clock) injects any other clock.
///
/// # Example
///
/// ```
/// use ledgerhook::idempotency::{IdempotencyLayer, MemoryStore};
///
/// // At most 10,000 records for each of the two routes.
/// let store = MemoryStore::with_capacity(10_000);
/// let railz = IdempotencyLayer::new(store.clone()).namespace("railz");
/// let rootfi = IdempotencyLayer::new(store).namespace("rootfi");
/// # let _ = (railz, rootfi);
/// ```
///
/// [`namespace`]: super::IdempotencyLayer::namespace
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    capacity: usize,
    state: Mutex<State>,
    clock: Clock,
    refused: AtomicU64,
}

#[derive(Default)]
struct State {
    spaces: Map<Arc<str>, Space>,
    /// Hashes record keys; one seed for the whole store.
    hasher: Hasher,
}

/// One namespace's records.
#[derive(Default)]
struct Space {
    /// Every record, one table slot each, placed by the hash of its key alone: the
    /// records of one key with different bodies share a probe sequence, so one probe
    /// finds the record and notices a key reused for another body.
    records: HashTable<Record>,
    /// Expiry order of every record, `(expires, seq)` to the record's key hash; `seq`
    /// (unique within the namespace) breaks ties and finds the record again.
    expiries: BTreeMap<(Instant, u64), u64>,
    seq: u64,
}

/// A record within its namespace: key, body digest and state, in its table slot.
struct Record {
    key: Key,
    digest: [u8; 32],
    status: Status,
    expires: Instant,
    seq: u64,
}

impl Record {
    fn is(&self, key: &[u8], digest: &[u8; 32]) -> bool {
        self.digest == *digest && self.key.as_bytes() == key
    }
}

/// Longest key kept inside its record; every key the layer derives fits (ids of up to
/// 40 bytes with their event tag, `sha256:<hex>`), longer ones are boxed.
const INLINE_KEY: usize = 80;

/// A record's key bytes: inline, so that a record is no allocation of its own.
enum Key {
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    Boxed(Box<[u8]>),
}

impl Key {
    fn new(key: &[u8]) -> Self {
        match u8::try_from(key.len()) {
            Ok(len) if key.len() <= INLINE_KEY => {
                let mut bytes = [0; INLINE_KEY];
                bytes[..key.len()].copy_from_slice(key);
                Self::Inline { len, bytes }
            }
            _ => Self::Boxed(key.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Boxed(bytes) => bytes,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    InFlight(Token),
    Completed,
}

/// Longest `Retry-After` hint of a full namespace: senders rarely wait longer anyway.
const MAX_FULL_RETRY_AFTER: Duration = Duration::from_secs(300);

impl MemoryStore {
    /// The per-namespace capacity of [`MemoryStore::new`]: 100,000 records (roughly
    /// 40 MB per namespace when full).
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store holding at most [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY) records per
    /// namespace.
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// A store holding at most `capacity` records (at least one) per namespace.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_clock(capacity, || tokio::time::Instant::now().into_std())
    }

    /// A store holding at most `capacity` records per namespace, reading the time from
    /// `clock` (monotonic, like [`Instant::now`]).
    ///
    /// ```
    /// use std::time::Instant;
    /// use ledgerhook::idempotency::MemoryStore;
    ///
    /// let store = MemoryStore::with_clock(1_000, Instant::now);
    /// # let _ = store;
    /// ```
    #[must_use]
    pub fn with_clock(
        capacity: usize,
        clock: impl Fn() -> Instant + Send + Sync + 'static,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                capacity: capacity.max(1),
                state: Mutex::new(State::default()),
                clock: Arc::new(clock),
                refused: AtomicU64::new(0),
            }),
        }
    }

    /// The most records this store holds per namespace.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// The number of records held now over all namespaces, including expired ones not
    /// yet dropped.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().spaces.values().map(|s| s.records.len()).sum()
    }

    /// The number of records held now in `namespace`, including expired ones not yet
    /// dropped.
    #[must_use]
    pub fn len_in(&self, namespace: &str) -> usize {
        self.lock()
            .spaces
            .get(namespace)
            .map_or(0, |s| s.records.len())
    }

    /// Whether no record is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many claims were refused because their namespace was full.
    #[must_use]
    pub fn refused(&self) -> u64 {
        self.inner.refused.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // No code path panics while holding the lock; if one ever did, the maps are
        // still consistent enough to keep serving.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn begin_now(&self, record: &RecordId, lease: Duration) -> Result<Begin, StoreError> {
        let now = (self.inner.clock)();
        let mut guard = self.lock();
        let state = &mut *guard;
        let hash = state.hasher.hash_one(record.key().as_bytes());
        let space = space(&mut state.spaces, record.namespace_arc());
        space.drop_expired(now);
        let (key, digest) = (record.key().as_bytes(), record.digest());
        let mut other_body = false;
        for held in space.records.iter_hash(hash) {
            if held.key.as_bytes() == key {
                if held.digest == *digest {
                    return Ok(match held.status {
                        Status::InFlight(_) => Begin::InFlight,
                        Status::Completed => Begin::Completed,
                    });
                }
                other_body = true;
            }
        }
        if let Err(err) = space.has_room(self.inner.capacity, now) {
            self.inner.refused.fetch_add(1, Ordering::Relaxed);
            return Err(err);
        }
        let token = Token::generate();
        space.insert(
            &state.hasher,
            hash,
            record,
            Status::InFlight(token),
            deadline(now, lease),
        );
        Ok(Begin::Acquired { token, other_body })
    }

    fn complete_now(
        &self,
        record: &RecordId,
        token: Token,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = (self.inner.clock)();
        let mut guard = self.lock();
        let state = &mut *guard;
        let hash = state.hasher.hash_one(record.key().as_bytes());
        let space = space(&mut state.spaces, record.namespace_arc());
        space.drop_expired(now);
        let (key, digest) = (record.key().as_bytes(), record.digest());
        match space.records.find_mut(hash, |held| held.is(key, digest)) {
            Some(held) if held.status != Status::InFlight(token) => return Ok(false),
            Some(held) => {
                // Completed in place: the record keeps its slot, only its place in the
                // expiry order moves.
                space.seq = space.seq.wrapping_add(1);
                let old = (held.expires, held.seq);
                held.status = Status::Completed;
                held.expires = deadline(now, ttl);
                held.seq = space.seq;
                space.expiries.remove(&old);
                space.expiries.insert((held.expires, held.seq), hash);
                return Ok(true);
            }
            None => {
                // The lease lapsed unclaimed: record the completion anyway, if it fits.
                if let Err(err) = space.has_room(self.inner.capacity, now) {
                    self.inner.refused.fetch_add(1, Ordering::Relaxed);
                    return Err(err);
                }
            }
        }
        space.insert(
            &state.hasher,
            hash,
            record,
            Status::Completed,
            deadline(now, ttl),
        );
        Ok(true)
    }

    fn release_now(&self, record: &RecordId, token: Token) -> bool {
        let now = (self.inner.clock)();
        let mut guard = self.lock();
        let state = &mut *guard;
        let hash = state.hasher.hash_one(record.key().as_bytes());
        let Some(space) = state.spaces.get_mut(record.namespace()) else {
            return false;
        };
        space.drop_expired(now);
        let (key, digest) = (record.key().as_bytes(), record.digest());
        let released = match space.records.find_entry(hash, |held| held.is(key, digest)) {
            Ok(held) if held.get().status == Status::InFlight(token) => {
                let (held, _) = held.remove();
                space.expiries.remove(&(held.expires, held.seq));
                true
            }
            _ => false,
        };
        if space.records.is_empty() {
            state.spaces.remove(record.namespace());
        }
        released
    }
}

/// The namespace's records, created on first use.
fn space<'s>(spaces: &'s mut Map<Arc<str>, Space>, namespace: &Arc<str>) -> &'s mut Space {
    // Looked up by `&str` first: no reference count traffic on the common path.
    if !spaces.contains_key(&**namespace) {
        spaces.insert(Arc::clone(namespace), Space::default());
    }
    spaces
        .get_mut(&**namespace)
        .unwrap_or_else(|| unreachable!())
}

/// `now + d`, saturating far in the future instead of overflowing.
fn deadline(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

impl Space {
    fn insert(
        &mut self,
        hasher: &Hasher,
        hash: u64,
        record: &RecordId,
        status: Status,
        expires: Instant,
    ) {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        self.expiries.insert((expires, seq), hash);
        self.records.insert_unique(
            hash,
            Record {
                key: Key::new(record.key().as_bytes()),
                digest: *record.digest(),
                status,
                expires,
                seq,
            },
            |held| hasher.hash_one(held.key.as_bytes()),
        );
    }

    fn drop_expired(&mut self, now: Instant) {
        while let Some(first) = self.expiries.first_entry() {
            let (expires, seq) = *first.key();
            if expires > now {
                break;
            }
            let hash = first.remove();
            if let Ok(held) = self.records.find_entry(hash, |held| held.seq == seq) {
                held.remove();
            }
        }
    }

    /// Whether one more record fits; a full namespace evicts nothing and says when its
    /// next record expires.
    fn has_room(&self, capacity: usize, now: Instant) -> Result<(), StoreError> {
        if self.records.len() < capacity {
            return Ok(());
        }
        let next = self
            .expiries
            .first_key_value()
            .map(|((at, _), _)| at.saturating_duration_since(now));
        let hint = next
            .unwrap_or(Duration::ZERO)
            .max(Duration::from_secs(1))
            .min(MAX_FULL_RETRY_AFTER);
        Err(StoreError::full(Some(hint)))
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("capacity", &self.inner.capacity)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl Store for MemoryStore {
    fn try_begin<'a>(&'a self, record: &'a RecordId, lease: Duration) -> StoreFuture<'a, Begin> {
        let result = self.begin_now(record, lease);
        Box::pin(std::future::ready(result))
    }

    fn complete<'a>(
        &'a self,
        record: &'a RecordId,
        token: Token,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let result = self.complete_now(record, token, ttl);
        Box::pin(std::future::ready(result))
    }

    fn release<'a>(&'a self, record: &'a RecordId, token: Token) -> StoreFuture<'a, bool> {
        let result = self.release_now(record, token);
        Box::pin(std::future::ready(Ok(result)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::StoreErrorKind;

    /// A clock that only moves when told to.
    #[derive(Clone)]
    struct ManualClock {
        start: Instant,
        offset_ms: Arc<AtomicU64>,
    }

    impl ManualClock {
        fn new() -> Self {
            Self {
                start: Instant::now(),
                offset_ms: Arc::new(AtomicU64::new(0)),
            }
        }
        fn advance(&self, d: Duration) {
            let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
            self.offset_ms.fetch_add(ms, Ordering::SeqCst);
        }
        fn store(&self, capacity: usize) -> MemoryStore {
            let clock = self.clone();
            MemoryStore::with_clock(capacity, move || {
                clock.start + Duration::from_millis(clock.offset_ms.load(Ordering::SeqCst))
            })
        }
    }

    const LEASE: Duration = Duration::from_secs(30);
    const TTL: Duration = Duration::from_secs(3600);

    fn rec(key: &str) -> RecordId {
        RecordId::new("ns", key, key.as_bytes())
    }

    fn acquired(begin: Begin) -> Token {
        match begin {
            Begin::Acquired { token, .. } => token,
            other => panic!("expected Acquired, got {other:?}"),
        }
    }

    #[test]
    fn absent_then_in_flight_then_completed() {
        let clock = ManualClock::new();
        let store = clock.store(10);
        let k = rec("k");
        let token = acquired(store.begin_now(&k, LEASE).unwrap());
        assert_eq!(store.begin_now(&k, LEASE).unwrap(), Begin::InFlight);
        assert!(store.complete_now(&k, token, TTL).unwrap());
        assert_eq!(store.begin_now(&k, LEASE).unwrap(), Begin::Completed);
        // Completing twice does not happen silently.
        assert!(!store.complete_now(&k, token, TTL).unwrap());
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn the_same_key_with_another_body_is_another_record() {
        let store = ManualClock::new().store(10);
        let first = RecordId::new("ns", "id:r-1", b"body one");
        let second = RecordId::new("ns", "id:r-1", b"body two");
        let token = acquired(store.begin_now(&first, LEASE).unwrap());
        assert!(store.complete_now(&first, token, TTL).unwrap());
        match store.begin_now(&second, LEASE).unwrap() {
            Begin::Acquired { other_body, .. } => assert!(other_body),
            other => panic!("another body must be claimable, got {other:?}"),
        }
        assert_eq!(store.begin_now(&first, LEASE).unwrap(), Begin::Completed);
        assert_eq!(store.begin_now(&second, LEASE).unwrap(), Begin::InFlight);
        // A fresh key sees no other body.
        assert!(matches!(
            store.begin_now(&rec("fresh"), LEASE).unwrap(),
            Begin::Acquired {
                other_body: false,
                ..
            }
        ));
    }

    #[test]
    fn release_makes_the_record_available_again() {
        let store = ManualClock::new().store(10);
        let k = rec("k");
        let token = acquired(store.begin_now(&k, LEASE).unwrap());
        assert!(store.release_now(&k, token));
        assert!(store.is_empty());
        let again = acquired(store.begin_now(&k, LEASE).unwrap());
        assert_ne!(again, token);
    }

    #[test]
    fn only_the_owner_may_complete_or_release() {
        let store = ManualClock::new().store(10);
        let k = rec("k");
        let owner = acquired(store.begin_now(&k, LEASE).unwrap());
        let stranger = Token::generate();
        assert!(!store.release_now(&k, stranger));
        assert!(!store.complete_now(&k, stranger, TTL).unwrap());
        assert_eq!(store.begin_now(&k, LEASE).unwrap(), Begin::InFlight);
        assert!(store.complete_now(&k, owner, TTL).unwrap());
        // A completed record cannot be released, not even by its former owner.
        assert!(!store.release_now(&k, owner));
        assert_eq!(store.begin_now(&k, LEASE).unwrap(), Begin::Completed);
    }

    #[test]
    fn an_expired_lease_can_be_claimed_and_the_old_owner_loses() {
        let clock = ManualClock::new();
        let store = clock.store(10);
        let k = rec("k");
        let first = acquired(store.begin_now(&k, LEASE).unwrap());
        clock.advance(LEASE - Duration::from_millis(1));
        assert_eq!(store.begin_now(&k, LEASE).unwrap(), Begin::InFlight);
        clock.advance(Duration::from_millis(1));
        let second = acquired(store.begin_now(&k, LEASE).unwrap());
        assert!(!store.complete_now(&k, first, TTL).unwrap());
        assert!(!store.release_now(&k, first));
        assert!(store.complete_now(&k, second, TTL).unwrap());
    }

    #[test]
    fn completion_after_the_lease_lapsed_unclaimed_still_counts() {
        let clock = ManualClock::new();
        let store = clock.store(10);
        let k = rec("k");
        let token = acquired(store.begin_now(&k, LEASE).unwrap());
        clock.advance(LEASE * 2);
        assert!(store.complete_now(&k, token, TTL).unwrap());
        assert_eq!(store.begin_now(&k, LEASE).unwrap(), Begin::Completed);
    }

    #[test]
    fn completed_records_expire_after_their_ttl() {
        let clock = ManualClock::new();
        let store = clock.store(10);
        let k = rec("k");
        let token = acquired(store.begin_now(&k, LEASE).unwrap());
        assert!(store.complete_now(&k, token, TTL).unwrap());
        clock.advance(TTL - Duration::from_millis(1));
        assert_eq!(store.begin_now(&k, LEASE).unwrap(), Begin::Completed);
        clock.advance(Duration::from_millis(1));
        acquired(store.begin_now(&k, LEASE).unwrap());
    }

    #[test]
    fn expired_records_are_dropped_so_memory_does_not_grow() {
        let clock = ManualClock::new();
        let store = clock.store(1_000);
        for i in 0..500 {
            let k = rec(&format!("k{i}"));
            let token = acquired(store.begin_now(&k, LEASE).unwrap());
            store.complete_now(&k, token, TTL).unwrap();
        }
        assert_eq!(store.len(), 500);
        clock.advance(TTL);
        acquired(store.begin_now(&rec("fresh"), LEASE).unwrap());
        assert_eq!(store.len(), 1);
        assert_eq!(store.refused(), 0);
    }

    #[test]
    fn a_full_namespace_refuses_instead_of_forgetting_a_record_inside_its_window() {
        let clock = ManualClock::new();
        let store = clock.store(3);
        for key in ["a", "b", "c"] {
            let k = rec(key);
            let token = acquired(store.begin_now(&k, LEASE).unwrap());
            store.complete_now(&k, token, TTL).unwrap();
            clock.advance(Duration::from_secs(1));
        }
        let err = store.begin_now(&rec("d"), LEASE).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Full);
        // "a" expires first, TTL - 3 s from now (capped to the longest hint).
        assert_eq!(err.retry_after(), Some(MAX_FULL_RETRY_AFTER));
        assert_eq!(store.refused(), 1);
        // Every record is still known.
        for key in ["a", "b", "c"] {
            assert_eq!(store.begin_now(&rec(key), LEASE).unwrap(), Begin::Completed);
        }
        // Room again once the oldest expires, and the hint says when.
        clock.advance(TTL - Duration::from_secs(3) - Duration::from_secs(2));
        let err = store.begin_now(&rec("d"), LEASE).unwrap_err();
        assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
        clock.advance(Duration::from_secs(2));
        acquired(store.begin_now(&rec("d"), LEASE).unwrap());
        assert_eq!(store.begin_now(&rec("b"), LEASE).unwrap(), Begin::Completed);
    }

    #[test]
    fn capacity_is_per_namespace() {
        let store = ManualClock::new().store(2);
        let railz = |key: &str| RecordId::new("railz", key, b"x");
        let flood = |key: &str| RecordId::new("rootfi-v3", key, b"x");
        let token = acquired(store.begin_now(&railz("captured"), LEASE).unwrap());
        assert!(store.complete_now(&railz("captured"), token, TTL).unwrap());
        acquired(store.begin_now(&flood("1"), LEASE).unwrap());
        acquired(store.begin_now(&flood("2"), LEASE).unwrap());
        let err = store.begin_now(&flood("3"), LEASE).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Full);
        // The other route still has its record and its own room.
        assert_eq!(
            store.begin_now(&railz("captured"), LEASE).unwrap(),
            Begin::Completed
        );
        acquired(store.begin_now(&railz("next"), LEASE).unwrap());
        assert_eq!((store.len_in("railz"), store.len_in("rootfi-v3")), (2, 2));
    }

    #[test]
    fn huge_durations_saturate_instead_of_panicking() {
        let store = ManualClock::new().store(2);
        let k = rec("k");
        let token = acquired(store.begin_now(&k, Duration::MAX).unwrap());
        assert!(store.complete_now(&k, token, Duration::MAX).unwrap());
        assert_eq!(
            store.begin_now(&k, Duration::MAX).unwrap(),
            Begin::Completed
        );
    }

    #[test]
    fn bodies_under_one_key_are_independent_records() {
        let clock = ManualClock::new();
        let store = clock.store(10);
        let body = |b: &str| RecordId::new("ns", "id:r-1", b.as_bytes());
        let first = store.begin_now(&body("a"), LEASE).unwrap();
        assert!(matches!(
            first,
            Begin::Acquired {
                other_body: false,
                ..
            }
        ));
        let a = acquired(first);
        let b = acquired(store.begin_now(&body("b"), LEASE).unwrap());
        let c = store.begin_now(&body("c"), LEASE).unwrap();
        assert!(matches!(
            c,
            Begin::Acquired {
                other_body: true,
                ..
            }
        ));
        assert!(store.release_now(&body("b"), b));
        assert!(store.complete_now(&body("a"), a, TTL).unwrap());
        assert_eq!(store.len(), 2);
        assert_eq!(
            store.begin_now(&body("a"), LEASE).unwrap(),
            Begin::Completed
        );
        assert_eq!(store.begin_now(&body("c"), LEASE).unwrap(), Begin::InFlight);
        // "c"'s lease lapses; "a" is kept for its TTL and still counts as another body.
        clock.advance(LEASE);
        assert_eq!(store.len(), 2, "expired records go on the next call");
        let again = store.begin_now(&body("c"), LEASE).unwrap();
        assert!(matches!(
            again,
            Begin::Acquired {
                other_body: true,
                ..
            }
        ));
        assert_eq!(store.len(), 2);
        assert_eq!(
            store.begin_now(&body("a"), LEASE).unwrap(),
            Begin::Completed
        );
        // Once "a" expires too, a new body under the key sees no other.
        clock.advance(TTL);
        let alone = store.begin_now(&body("d"), LEASE).unwrap();
        assert!(matches!(
            alone,
            Begin::Acquired {
                other_body: false,
                ..
            }
        ));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn records_survive_the_table_growing_and_all_expire() {
        let clock = ManualClock::new();
        let store = clock.store(20_000);
        let tokens: Vec<_> = (0..10_000)
            .map(|i| acquired(store.begin_now(&rec(&format!("k{i}")), LEASE).unwrap()))
            .collect();
        // Every other record completed (moved in the expiry order), the rest in flight.
        for (i, token) in tokens.iter().enumerate().step_by(2) {
            assert!(
                store
                    .complete_now(&rec(&format!("k{i}")), *token, TTL)
                    .unwrap()
            );
        }
        for i in 0..10_000 {
            let expected = if i % 2 == 0 {
                Begin::Completed
            } else {
                Begin::InFlight
            };
            assert_eq!(
                store.begin_now(&rec(&format!("k{i}")), LEASE).unwrap(),
                expected
            );
        }
        clock.advance(LEASE);
        acquired(store.begin_now(&rec("k1"), LEASE).unwrap());
        assert_eq!(store.len(), 5_001);
        clock.advance(TTL);
        acquired(store.begin_now(&rec("k0"), LEASE).unwrap());
        assert_eq!(store.len(), 1);
        // A released record leaves nothing behind in the expiry order either.
        let token = acquired(store.begin_now(&rec("k2"), LEASE).unwrap());
        assert!(store.release_now(&rec("k2"), token));
        clock.advance(LEASE);
        acquired(store.begin_now(&rec("k3"), LEASE).unwrap());
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn a_completion_after_a_lapsed_lease_needs_room() {
        let clock = ManualClock::new();
        let store = clock.store(1);
        let k = rec("k");
        let token = acquired(store.begin_now(&k, LEASE).unwrap());
        clock.advance(LEASE);
        let other = rec("other");
        let other_token = acquired(store.begin_now(&other, LEASE).unwrap());
        let err = store.complete_now(&k, token, TTL).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Full);
        assert!(store.complete_now(&other, other_token, TTL).unwrap());
    }

    #[test]
    fn keys_of_every_length_are_kept_whole() {
        let store = ManualClock::new().store(100);
        let keys: Vec<String> = [0, 1, INLINE_KEY - 1, INLINE_KEY, INLINE_KEY + 1, 300]
            .iter()
            .flat_map(|&n| ["a".repeat(n), format!("{}b", "a".repeat(n))])
            .collect();
        for key in &keys {
            let k = RecordId::new("ns", key.as_str(), b"x");
            let token = acquired(store.begin_now(&k, LEASE).unwrap());
            assert!(store.complete_now(&k, token, TTL).unwrap());
        }
        assert_eq!(store.len(), keys.len());
        for key in &keys {
            let k = RecordId::new("ns", key.as_str(), b"x");
            assert_eq!(
                store.begin_now(&k, LEASE).unwrap(),
                Begin::Completed,
                "{key}"
            );
        }
    }

    #[test]
    fn capacity_is_at_least_one() {
        assert_eq!(MemoryStore::with_capacity(0).capacity(), 1);
        assert_eq!(MemoryStore::new().capacity(), MemoryStore::DEFAULT_CAPACITY);
    }
}
