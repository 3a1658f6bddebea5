//! A bounded, in-process [`Store`] with per-key expiry.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::store::{Begin, Store, StoreError, StoreErrorKind, StoreFuture, Token};

/// An in-memory [`Store`] for a single process: no setup, bounded, with per-key expiry.
///
/// Cloning is cheap and clones share the same records, so one `MemoryStore` can back the
/// layers of several routes (give each a different [`namespace`]).
///
/// # Bounds and eviction
///
/// The store holds at most [`capacity`](Self::capacity) keys (default
/// [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY)). Expired keys are dropped on every call,
/// oldest first. When a new key arrives and the store is still full, the **completed** key
/// that would expire soonest is evicted early (with one TTL for all keys, the oldest one);
/// a duplicate of that event arriving later is then processed again, so size the capacity
/// for the number of deliveries you expect within the completed TTL (about 200 bytes per
/// key plus the key itself). In-flight keys are never evicted: if every slot holds one, the
/// new key is refused with [`StoreErrorKind::CapacityExhausted`], which the layer treats like
/// an outage (by default a `503`, so the sender retries).
///
/// [`evictions`](Self::evictions) counts early evictions so you can tell when the capacity
/// is too small.
///
/// # Example
///
/// ```
/// use ledgerhook::idempotency::{IdempotencyLayer, MemoryStore};
///
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
    clock: Arc<dyn Fn() -> Instant + Send + Sync>,
}

#[derive(Default)]
struct State {
    entries: HashMap<Arc<str>, Entry>,
    /// Expiry order of the in-flight and the completed keys; `seq` breaks ties.
    in_flight: BTreeMap<(Instant, u64), Arc<str>>,
    completed: BTreeMap<(Instant, u64), Arc<str>>,
    seq: u64,
    evictions: u64,
}

struct Entry {
    status: Status,
    expires: Instant,
    seq: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    InFlight(Token),
    Completed,
}

impl MemoryStore {
    /// The capacity of [`MemoryStore::new`]: 100,000 keys (roughly 25 MB at most).
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store holding at most [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY) keys.
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// A store holding at most `capacity` keys (at least one).
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_clock(capacity, Arc::new(Instant::now))
    }

    fn with_clock(capacity: usize, clock: Arc<dyn Fn() -> Instant + Send + Sync>) -> Self {
        Self {
            inner: Arc::new(Inner {
                capacity: capacity.max(1),
                state: Mutex::new(State::default()),
                clock,
            }),
        }
    }

    /// The most keys this store holds.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// The number of keys held now, including expired ones not yet dropped.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no key is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many completed keys were evicted before their TTL because the store was full.
    #[must_use]
    pub fn evictions(&self) -> u64 {
        self.lock().evictions
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // No code path panics while holding the lock; if one ever did, the maps are
        // still consistent enough to keep serving.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn begin_now(&self, key: &str, lease: Duration) -> Result<Begin, StoreError> {
        let now = (self.inner.clock)();
        let mut state = self.lock();
        state.drop_expired(now);
        if let Some(entry) = state.entries.get(key) {
            return Ok(match entry.status {
                Status::InFlight(_) => Begin::InFlight,
                Status::Completed => Begin::Completed,
            });
        }
        state.make_room(self.inner.capacity)?;
        let token = Token::generate();
        state.insert(key.into(), Status::InFlight(token), deadline(now, lease));
        Ok(Begin::Acquired(token))
    }

    fn complete_now(&self, key: &str, token: Token, ttl: Duration) -> Result<bool, StoreError> {
        let now = (self.inner.clock)();
        let mut state = self.lock();
        state.drop_expired(now);
        let key: Arc<str> = match state.entries.get_key_value(key) {
            Some((_, entry)) if entry.status != Status::InFlight(token) => return Ok(false),
            Some((held, _)) => {
                let held = Arc::clone(held);
                state.remove(&held);
                held
            }
            None => {
                state.make_room(self.inner.capacity)?;
                key.into()
            }
        };
        state.insert(key, Status::Completed, deadline(now, ttl));
        Ok(true)
    }

    fn release_now(&self, key: &str, token: Token) -> bool {
        let now = (self.inner.clock)();
        let mut state = self.lock();
        state.drop_expired(now);
        match state.entries.get(key) {
            Some(entry) if entry.status == Status::InFlight(token) => {
                state.remove(key);
                true
            }
            _ => false,
        }
    }
}

/// `now + d`, saturating far in the future instead of overflowing.
fn deadline(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

impl State {
    fn insert(&mut self, key: Arc<str>, status: Status, expires: Instant) {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let index = match status {
            Status::InFlight(_) => &mut self.in_flight,
            Status::Completed => &mut self.completed,
        };
        index.insert((expires, seq), Arc::clone(&key));
        self.entries.insert(
            key,
            Entry {
                status,
                expires,
                seq,
            },
        );
    }

    fn remove(&mut self, key: &str) {
        if let Some(entry) = self.entries.remove(key) {
            let index = match entry.status {
                Status::InFlight(_) => &mut self.in_flight,
                Status::Completed => &mut self.completed,
            };
            index.remove(&(entry.expires, entry.seq));
        }
    }

    fn drop_expired(&mut self, now: Instant) {
        for index in [&mut self.in_flight, &mut self.completed] {
            while let Some(entry) = index.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let key = entry.remove();
                self.entries.remove(&key);
            }
        }
    }

    /// Frees one slot if the store is full, evicting the completed key nearest expiry.
    fn make_room(&mut self, capacity: usize) -> Result<(), StoreError> {
        if self.entries.len() < capacity {
            return Ok(());
        }
        match self.completed.pop_first() {
            Some((_, key)) => {
                self.entries.remove(&key);
                self.evictions += 1;
                Ok(())
            }
            None => Err(StoreError::new(StoreErrorKind::CapacityExhausted)),
        }
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
    fn try_begin<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Begin> {
        let result = self.begin_now(key, lease);
        Box::pin(std::future::ready(result))
    }

    fn complete<'a>(&'a self, key: &'a str, token: Token, ttl: Duration) -> StoreFuture<'a, bool> {
        let result = self.complete_now(key, token, ttl);
        Box::pin(std::future::ready(result))
    }

    fn release<'a>(&'a self, key: &'a str, token: Token) -> StoreFuture<'a, bool> {
        let result = self.release_now(key, token);
        Box::pin(std::future::ready(Ok(result)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

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
            MemoryStore::with_clock(
                capacity,
                Arc::new(move || {
                    clock.start + Duration::from_millis(clock.offset_ms.load(Ordering::SeqCst))
                }),
            )
        }
    }

    const LEASE: Duration = Duration::from_secs(30);
    const TTL: Duration = Duration::from_secs(3600);

    fn acquired(begin: Begin) -> Token {
        match begin {
            Begin::Acquired(token) => token,
            other => panic!("expected Acquired, got {other:?}"),
        }
    }

    #[test]
    fn absent_then_in_flight_then_completed() {
        let clock = ManualClock::new();
        let store = clock.store(10);
        let token = acquired(store.begin_now("k", LEASE).unwrap());
        assert_eq!(store.begin_now("k", LEASE).unwrap(), Begin::InFlight);
        assert!(store.complete_now("k", token, TTL).unwrap());
        assert_eq!(store.begin_now("k", LEASE).unwrap(), Begin::Completed);
        // Completing twice does not happen silently.
        assert!(!store.complete_now("k", token, TTL).unwrap());
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn release_makes_the_key_available_again() {
        let store = ManualClock::new().store(10);
        let token = acquired(store.begin_now("k", LEASE).unwrap());
        assert!(store.release_now("k", token));
        assert!(store.is_empty());
        let again = acquired(store.begin_now("k", LEASE).unwrap());
        assert_ne!(again, token);
    }

    #[test]
    fn only_the_owner_may_complete_or_release() {
        let store = ManualClock::new().store(10);
        let owner = acquired(store.begin_now("k", LEASE).unwrap());
        let stranger = Token::generate();
        assert!(!store.release_now("k", stranger));
        assert!(!store.complete_now("k", stranger, TTL).unwrap());
        assert_eq!(store.begin_now("k", LEASE).unwrap(), Begin::InFlight);
        assert!(store.complete_now("k", owner, TTL).unwrap());
        // A completed key cannot be released, not even by its former owner.
        assert!(!store.release_now("k", owner));
        assert_eq!(store.begin_now("k", LEASE).unwrap(), Begin::Completed);
    }

    #[test]
    fn an_expired_lease_can_be_claimed_and_the_old_owner_loses() {
        let clock = ManualClock::new();
        let store = clock.store(10);
        let first = acquired(store.begin_now("k", LEASE).unwrap());
        clock.advance(LEASE - Duration::from_millis(1));
        assert_eq!(store.begin_now("k", LEASE).unwrap(), Begin::InFlight);
        clock.advance(Duration::from_millis(1));
        let second = acquired(store.begin_now("k", LEASE).unwrap());
        assert!(!store.complete_now("k", first, TTL).unwrap());
        assert!(!store.release_now("k", first));
        assert!(store.complete_now("k", second, TTL).unwrap());
    }

    #[test]
    fn completion_after_the_lease_lapsed_unclaimed_still_counts() {
        let clock = ManualClock::new();
        let store = clock.store(10);
        let token = acquired(store.begin_now("k", LEASE).unwrap());
        clock.advance(LEASE * 2);
        assert!(store.complete_now("k", token, TTL).unwrap());
        assert_eq!(store.begin_now("k", LEASE).unwrap(), Begin::Completed);
    }

    #[test]
    fn completed_keys_expire_after_their_ttl() {
        let clock = ManualClock::new();
        let store = clock.store(10);
        let token = acquired(store.begin_now("k", LEASE).unwrap());
        assert!(store.complete_now("k", token, TTL).unwrap());
        clock.advance(TTL - Duration::from_millis(1));
        assert_eq!(store.begin_now("k", LEASE).unwrap(), Begin::Completed);
        clock.advance(Duration::from_millis(1));
        acquired(store.begin_now("k", LEASE).unwrap());
    }

    #[test]
    fn expired_keys_are_dropped_so_memory_does_not_grow() {
        let clock = ManualClock::new();
        let store = clock.store(1_000);
        for i in 0..500 {
            let key = format!("k{i}");
            let token = acquired(store.begin_now(&key, LEASE).unwrap());
            store.complete_now(&key, token, TTL).unwrap();
        }
        assert_eq!(store.len(), 500);
        clock.advance(TTL);
        acquired(store.begin_now("fresh", LEASE).unwrap());
        assert_eq!(store.len(), 1);
        assert_eq!(store.evictions(), 0);
    }

    #[test]
    fn a_full_store_evicts_the_completed_key_nearest_expiry() {
        let clock = ManualClock::new();
        let store = clock.store(3);
        for key in ["a", "b", "c"] {
            let token = acquired(store.begin_now(key, LEASE).unwrap());
            store.complete_now(key, token, TTL).unwrap();
            clock.advance(Duration::from_secs(1));
        }
        acquired(store.begin_now("d", LEASE).unwrap());
        assert_eq!(store.len(), 3);
        assert_eq!(store.evictions(), 1);
        // "a" was the oldest: it is gone, "b" and "c" are still known.
        acquired(store.begin_now("a", LEASE).unwrap());
        assert_eq!(store.evictions(), 2);
        assert_eq!(store.begin_now("c", LEASE).unwrap(), Begin::Completed);
    }

    #[test]
    fn in_flight_keys_are_never_evicted() {
        let store = ManualClock::new().store(2);
        acquired(store.begin_now("a", LEASE).unwrap());
        acquired(store.begin_now("b", LEASE).unwrap());
        let err = store.begin_now("c", LEASE).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::CapacityExhausted);
        assert_eq!(store.begin_now("a", LEASE).unwrap(), Begin::InFlight);
        assert_eq!(store.begin_now("b", LEASE).unwrap(), Begin::InFlight);
    }

    #[test]
    fn huge_durations_saturate_instead_of_panicking() {
        let store = ManualClock::new().store(2);
        let token = acquired(store.begin_now("k", Duration::MAX).unwrap());
        assert!(store.complete_now("k", token, Duration::MAX).unwrap());
        assert_eq!(
            store.begin_now("k", Duration::MAX).unwrap(),
            Begin::Completed
        );
    }

    #[test]
    fn capacity_is_at_least_one() {
        assert_eq!(MemoryStore::with_capacity(0).capacity(), 1);
        assert_eq!(MemoryStore::new().capacity(), MemoryStore::DEFAULT_CAPACITY);
    }
}
