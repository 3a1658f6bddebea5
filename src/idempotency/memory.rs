//! A bounded, in-process [`Store`] with per-record expiry and per-namespace capacity.

use std::collections::{BTreeMap, HashMap, VecDeque};
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

/// Where each namespace's records are.
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
/// (about 300 bytes per record, up to 500 counting the growth of its tables; the total grows
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
    /// Hashes record keys (one seed for the whole store), outside the lock.
    hasher: Hasher,
}

/// The namespaces (a handful, fixed by the layers' configuration) and their records.
#[derive(Default)]
struct State {
    spaces: Vec<(Arc<str>, Space)>,
    /// Where each namespace is in `spaces`, for those not found by pointer.
    names: Map<Arc<str>, usize>,
}

/// Namespaces looked for by pointer before hashing the name: the layer gives every record
/// of its route the same `Arc`, and comparing a pointer costs less than a hash.
const BY_POINTER: usize = 8;

impl State {
    fn position(&self, namespace: &Arc<str>) -> Option<usize> {
        self.spaces
            .iter()
            .take(BY_POINTER)
            .position(|(held, _)| Arc::ptr_eq(held, namespace))
            .or_else(|| self.names.get(&**namespace).copied())
    }

    /// The namespace's records, created on first use.
    fn space(&mut self, namespace: &Arc<str>) -> &mut Space {
        let at = self.position(namespace).unwrap_or_else(|| {
            self.names.insert(Arc::clone(namespace), self.spaces.len());
            self.spaces.push((Arc::clone(namespace), Space::default()));
            self.spaces.len() - 1
        });
        &mut self.spaces[at].1
    }

    fn get(&self, namespace: &str) -> Option<&Space> {
        let at = *self.names.get(namespace)?;
        Some(&self.spaces[at].1)
    }

    /// Forgets the namespace at `at`.
    fn remove(&mut self, at: usize) {
        let (name, _) = self.spaces.swap_remove(at);
        self.names.remove(&*name);
        if let Some((moved, _)) = self.spaces.get(at)
            && let Some(place) = self.names.get_mut(&**moved)
        {
            *place = at;
        }
    }
}

/// One namespace's records.
#[derive(Default)]
struct Space {
    /// Every record's slot in `slab`, placed by the hash of its key alone: the records of
    /// one key with different bodies share a probe sequence, so one probe finds the record
    /// and notices a key reused for another body. Entries are 8 bytes, so growing the
    /// table moves no record, and a probe reads a record only when 32 bits of hash match.
    index: HashTable<Entry>,
    /// The records, in slots that never move while the record lives (its token names its
    /// slot); `None` slots are listed in `free` and reused first.
    slab: Vec<Option<Record>>,
    free: Vec<u32>,
    /// Expiry order of the records of each duration in use (a layer's lease and TTL):
    /// appending to a queue is cheaper than a tree insert and removal.
    queues: Vec<Queue>,
    /// Expiry order of the records of any further duration, `(expires, seq)` to the
    /// record's slot; entries leave with their record.
    others: BTreeMap<(Instant, u64), u32>,
    /// Queue entries whose record was completed or released since: left in place (dropped
    /// when they reach the front or in a compaction), not searched for.
    stale: usize,
    /// Numbers each record (unique within the namespace), which tells a slot's current
    /// record apart from the one an expiry entry was for, and breaks ties in `others`.
    seq: u64,
}

/// Most expiry queues per namespace.
const MAX_QUEUES: usize = 4;

/// Stale queue entries tolerated beyond one per held record before a compaction.
const STALE_SLACK: usize = 1024;

/// The records given one duration, in the order they expire.
struct Queue {
    after: Duration,
    entries: VecDeque<Expiry>,
}

/// When the record numbered `seq` in `slot` expires.
#[derive(Clone, Copy)]
struct Expiry {
    at: Instant,
    seq: u64,
    slot: u32,
}

/// A record's place in the index: 32 bits of its key's hash and its slot.
#[derive(Clone, Copy)]
struct Entry {
    hash: u32,
    slot: u32,
}

/// The table hash of a 32-bit key hash: its bits both low (bucket) and high (hashbrown's
/// 7-bit tag), so that the index can be rehashed from its entries alone.
fn spread(hash: u32) -> u64 {
    (u64::from(hash) << 32) | u64::from(hash)
}

/// A record within its namespace: key, body digest and state, in its slab slot.
struct Record {
    key: Key,
    digest: [u8; 32],
    status: Status,
    expires: Instant,
    seq: u64,
    /// The 32 hash bits of its index entry, to find that entry again.
    hash: u32,
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

/// Most records one namespace can hold: slots are numbered by `u32`.
const MAX_RECORDS: usize = u32::MAX as usize;

/// A token naming `slot` in its top 32 bits, so that `complete` and `release` find the
/// record without hashing its key. As unique within the process as `unique` (from
/// [`Token::generate`]), whose low 64 bits are a counter; tokens of a memory store never
/// leave the process.
fn token_for(slot: u32, unique: Token) -> Token {
    let unique = unique.as_u128() & ((1 << 96) - 1);
    Token::from_u128((u128::from(slot) << 96) | unique)
}

/// The slot a token of [`token_for`] names; any other token names some slot too, whose
/// record it then does not own.
fn slot_of(token: Token) -> usize {
    (token.as_u128() >> 96) as usize
}
/// Longest `Retry-After` hint of a full namespace: senders rarely wait longer anyway.
const MAX_FULL_RETRY_AFTER: Duration = Duration::from_secs(300);

impl MemoryStore {
    /// The per-namespace capacity of [`MemoryStore::new`]: 100,000 records (roughly
    /// 30 MB per namespace when full).
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
                hasher: Hasher::default(),
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
        self.lock().spaces.iter().map(|(_, s)| s.index.len()).sum()
    }

    /// The number of records held now in `namespace`, including expired ones not yet
    /// dropped.
    #[must_use]
    pub fn len_in(&self, namespace: &str) -> usize {
        self.lock().get(namespace).map_or(0, |s| s.index.len())
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
        let (key, digest) = (record.key().as_bytes(), record.digest());
        // Hashed and numbered before taking the lock, to hold it for less.
        let hash = key_hash(&self.inner.hasher, key);
        let unique = Token::generate();
        let mut guard = self.lock();
        let space = guard.space(record.namespace_arc());
        space.drop_expired(now);
        let mut other_body = false;
        for entry in space.index.iter_hash(spread(hash)) {
            // 32 bits of hash tell almost every other key apart without reading its record.
            let held = match space.live(entry.slot as usize) {
                Some(held) if entry.hash == hash => held,
                _ => continue,
            };
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
        let slot = space.vacant_slot();
        let token = token_for(slot, unique);
        space.insert(slot, hash, record, Status::InFlight(token), now, lease);
        Ok(Begin::Acquired { token, other_body })
    }

    fn complete_now(
        &self,
        record: &RecordId,
        token: Token,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = (self.inner.clock)();
        let (key, digest) = (record.key().as_bytes(), record.digest());
        let mut guard = self.lock();
        let state = &mut *guard;
        let space = state.space(record.namespace_arc());
        space.drop_expired(now);
        // The token's slot first: the record it claimed, unless its lease lapsed.
        let slot = match space.owned(slot_of(token), token, key, digest) {
            Some(slot) => Some(slot),
            None => match space.find(key_hash(&self.inner.hasher, key), key, digest) {
                Some(slot) if space.owned(slot, token, key, digest).is_none() => {
                    return Ok(false);
                }
                found => found,
            },
        };
        if let Some(slot) = slot {
            // Completed in place: the record keeps its slot, only its place in the
            // expiry order moves.
            space.seq = space.seq.wrapping_add(1);
            let seq = space.seq;
            let Some(held) = space.slab[slot].as_ref() else {
                unreachable!("an owned slot holds its record");
            };
            space.unschedule(held.expires, held.seq);
            let expires = space.schedule(slot_u32(slot), seq, now, ttl);
            if let Some(held) = space.slab[slot].as_mut() {
                held.status = Status::Completed;
                held.expires = expires;
                held.seq = seq;
            }
            return Ok(true);
        }
        // The lease lapsed unclaimed: record the completion anyway, if it fits.
        if let Err(err) = space.has_room(self.inner.capacity, now) {
            self.inner.refused.fetch_add(1, Ordering::Relaxed);
            return Err(err);
        }
        let slot = space.vacant_slot();
        space.insert(
            slot,
            key_hash(&self.inner.hasher, key),
            record,
            Status::Completed,
            now,
            ttl,
        );
        Ok(true)
    }

    fn release_now(&self, record: &RecordId, token: Token) -> bool {
        let now = (self.inner.clock)();
        let (key, digest) = (record.key().as_bytes(), record.digest());
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(at) = state.position(record.namespace_arc()) else {
            return false;
        };
        let space = &mut state.spaces[at].1;
        space.drop_expired(now);
        // Only the token's own slot can hold the record it owns: records never move.
        let released = match space.owned(slot_of(token), token, key, digest) {
            Some(slot) => {
                let held = space.remove(slot);
                space.unschedule(held.expires, held.seq);
                true
            }
            None => false,
        };
        if space.index.is_empty() {
            state.remove(at);
        }
        released
    }
}

/// The 32 bits of a key's hash the index keeps.
fn key_hash(hasher: &Hasher, key: &[u8]) -> u32 {
    (hasher.hash_one(key) >> 32) as u32
}

/// A slot number; the capacity check keeps every slot below [`MAX_RECORDS`].
fn slot_u32(slot: usize) -> u32 {
    u32::try_from(slot).unwrap_or_else(|_| unreachable!("more slots than MAX_RECORDS"))
}

/// `now + d`, saturating far in the future instead of overflowing.
fn deadline(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

impl Space {
    /// The record in `slot`, if any.
    fn live(&self, slot: usize) -> Option<&Record> {
        self.slab.get(slot).and_then(Option::as_ref)
    }

    /// `slot`, if it holds the record of `key` and `digest` in flight under `token`.
    fn owned(&self, slot: usize, token: Token, key: &[u8], digest: &[u8; 32]) -> Option<usize> {
        self.live(slot)
            .filter(|held| held.status == Status::InFlight(token) && held.is(key, digest))
            .map(|_| slot)
    }

    /// The slot of the record of `key` and `digest`, if held.
    fn find(&self, hash: u32, key: &[u8], digest: &[u8; 32]) -> Option<usize> {
        self.index
            .find(spread(hash), |entry| {
                entry.hash == hash
                    && self
                        .live(entry.slot as usize)
                        .is_some_and(|held| held.is(key, digest))
            })
            .map(|entry| entry.slot as usize)
    }

    /// A free slot for the next record: the most recently freed (its memory is likely
    /// still cached), else a new one at the end.
    fn vacant_slot(&mut self) -> u32 {
        self.free.pop().unwrap_or_else(|| {
            self.slab.push(None);
            slot_u32(self.slab.len() - 1)
        })
    }

    /// Puts a record in `slot` (from [`vacant_slot`](Self::vacant_slot)).
    fn insert(
        &mut self,
        slot: u32,
        hash: u32,
        record: &RecordId,
        status: Status,
        now: Instant,
        after: Duration,
    ) {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let expires = self.schedule(slot, seq, now, after);
        self.slab[slot as usize] = Some(Record {
            key: Key::new(record.key().as_bytes()),
            digest: *record.digest(),
            status,
            expires,
            seq,
            hash,
        });
        self.index
            .insert_unique(spread(hash), Entry { hash, slot }, |entry| {
                spread(entry.hash)
            });
    }

    /// Takes the record out of `slot` and the index (not out of the expiry order).
    fn remove(&mut self, slot: usize) -> Record {
        let Some(held) = self.slab[slot].take() else {
            unreachable!("only held slots are removed");
        };
        let slot = slot_u32(slot);
        if let Ok(entry) = self
            .index
            .find_entry(spread(held.hash), |entry| entry.slot == slot)
        {
            entry.remove();
        }
        self.free.push(slot);
        held
    }

    /// Enters the record numbered `seq` in `slot` in the expiry order, `after` from `now`;
    /// returns its deadline.
    fn schedule(&mut self, slot: u32, seq: u64, now: Instant, after: Duration) -> Instant {
        let at = deadline(now, after);
        let queue = match self.queues.iter().position(|q| q.after == after) {
            Some(i) => i,
            None if self.queues.len() < MAX_QUEUES => {
                self.queues.push(Queue {
                    after,
                    entries: VecDeque::new(),
                });
                self.queues.len() - 1
            }
            None => {
                self.others.insert((at, seq), slot);
                return at;
            }
        };
        let entries = &mut self.queues[queue].entries;
        // A caller that read the clock before the one ahead of it but took the lock after
        // gets that one's deadline: a few microseconds later than its own, never earlier,
        // and the queue stays in order.
        let at = entries.back().map_or(at, |last| last.at.max(at));
        entries.push_back(Expiry { at, seq, slot });
        at
    }

    /// Takes the record numbered `seq` expiring `at` out of the expiry order.
    fn unschedule(&mut self, at: Instant, seq: u64) {
        if self.others.remove(&(at, seq)).is_none() {
            self.stale += 1;
        }
    }

    /// Whether `entry` is still the expiry of the record in its slot.
    fn is_current(&self, entry: Expiry) -> bool {
        self.live(entry.slot as usize)
            .is_some_and(|held| held.seq == entry.seq)
    }

    fn drop_expired(&mut self, now: Instant) {
        for queue in 0..self.queues.len() {
            while let Some(&first) = self.queues[queue].entries.front() {
                if first.at > now {
                    break;
                }
                self.queues[queue].entries.pop_front();
                if self.is_current(first) {
                    self.remove(first.slot as usize);
                } else {
                    self.stale = self.stale.saturating_sub(1);
                }
            }
        }
        while let Some(first) = self.others.first_entry() {
            if first.key().0 > now {
                break;
            }
            let seq = first.key().1;
            let slot = first.remove() as usize;
            if self.live(slot).is_some_and(|held| held.seq == seq) {
                self.remove(slot);
            }
        }
        if self.stale > self.index.len() + STALE_SLACK {
            self.compact();
        }
    }

    /// Drops every stale queue entry.
    fn compact(&mut self) {
        let mut queues = std::mem::take(&mut self.queues);
        for queue in &mut queues {
            queue.entries.retain(|&entry| self.is_current(entry));
        }
        self.queues = queues;
        self.stale = 0;
    }

    /// Whether one more record fits; a full namespace evicts nothing and says when its
    /// next record expires.
    fn has_room(&mut self, capacity: usize, now: Instant) -> Result<(), StoreError> {
        if self.index.len() < capacity.min(MAX_RECORDS) {
            return Ok(());
        }
        // The earliest deadline of a held record: stale entries ahead of it go first.
        let mut next = self.others.first_key_value().map(|((at, _), _)| *at);
        for queue in 0..self.queues.len() {
            while let Some(&first) = self.queues[queue].entries.front() {
                if self.is_current(first) {
                    next = Some(next.map_or(first.at, |at| at.min(first.at)));
                    break;
                }
                self.queues[queue].entries.pop_front();
                self.stale = self.stale.saturating_sub(1);
            }
        }
        let next = next.map(|at| at.saturating_duration_since(now));
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

    fn slab_len(store: &MemoryStore, namespace: &str) -> usize {
        store.lock().get(namespace).map_or(0, |s| s.slab.len())
    }

    #[test]
    fn freed_slots_are_reused_before_the_slab_grows() {
        let clock = ManualClock::new();
        let store = clock.store(10);
        for round in 0..3 {
            for i in 0..5 {
                let k = rec(&format!("r{round}-{i}"));
                let token = acquired(store.begin_now(&k, LEASE).unwrap());
                assert!(store.complete_now(&k, token, TTL).unwrap());
            }
            assert_eq!(store.len(), 5);
            clock.advance(TTL);
        }
        // Each round's records took the slots the previous round's left.
        assert_eq!(slab_len(&store, "ns"), 5);
        // A released record's slot goes to the next record too.
        acquired(store.begin_now(&rec("kept"), LEASE).unwrap());
        let k = rec("released");
        let token = acquired(store.begin_now(&k, LEASE).unwrap());
        assert!(store.release_now(&k, token));
        acquired(store.begin_now(&rec("next"), LEASE).unwrap());
        assert_eq!(slab_len(&store, "ns"), 5);
    }

    #[test]
    fn a_lapsed_token_owns_nothing_in_its_reused_slot() {
        let clock = ManualClock::new();
        let store = clock.store(10);
        let (first, second) = (rec("first"), rec("second"));
        let stale = acquired(store.begin_now(&first, LEASE).unwrap());
        clock.advance(LEASE);
        // "first" lapses and "second" takes its slot.
        let owner = acquired(store.begin_now(&second, LEASE).unwrap());
        assert_eq!(slab_len(&store, "ns"), 1);
        assert!(!store.release_now(&second, stale));
        assert!(!store.complete_now(&second, stale, TTL).unwrap());
        assert_eq!(store.begin_now(&second, LEASE).unwrap(), Begin::InFlight);
        // The lapsed owner's completion still counts for its own record, in a new slot.
        assert!(store.complete_now(&first, stale, TTL).unwrap());
        assert_eq!(store.begin_now(&first, LEASE).unwrap(), Begin::Completed);
        assert!(store.complete_now(&second, owner, TTL).unwrap());
        assert_eq!(store.begin_now(&second, LEASE).unwrap(), Begin::Completed);
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn the_same_key_and_body_in_another_namespace_is_not_owned_by_a_token() {
        let store = ManualClock::new().store(10);
        let railz = RecordId::new("railz", "k", b"x");
        let rootfi = RecordId::new("rootfi", "k", b"x");
        let a = acquired(store.begin_now(&railz, LEASE).unwrap());
        let b = acquired(store.begin_now(&rootfi, LEASE).unwrap());
        // Both records sit in slot 0 of their namespace; each token owns only its own.
        assert!(!store.release_now(&rootfi, a));
        assert!(!store.complete_now(&railz, b, TTL).unwrap());
        assert!(store.complete_now(&rootfi, b, TTL).unwrap());
        assert!(store.release_now(&railz, a));
        assert_eq!((store.len_in("railz"), store.len_in("rootfi")), (0, 1));
    }

    #[test]
    fn records_are_found_again_after_others_were_freed_and_their_slots_reused() {
        let clock = ManualClock::new();
        let store = clock.store(50_000);
        let body = |key: &str, b: &str| RecordId::new("ns", key, b.as_bytes());
        let tokens: Vec<_> = (0..20_000)
            .map(|i| acquired(store.begin_now(&rec(&format!("k{i}")), LEASE).unwrap()))
            .collect();
        // Free every other record (released), then fill the freed slots with other bodies
        // under the freed keys, and with new keys.
        for (i, token) in tokens.iter().enumerate().step_by(2) {
            assert!(store.release_now(&rec(&format!("k{i}")), *token));
        }
        assert_eq!(store.len(), 10_000);
        let others: Vec<_> = (0..20_000)
            .step_by(2)
            .map(|i| {
                let key = format!("k{i}");
                match store.begin_now(&body(&key, "other"), LEASE).unwrap() {
                    Begin::Acquired { token, other_body } => {
                        assert!(!other_body, "{key}'s first body was released");
                        token
                    }
                    other => panic!("{key}: {other:?}"),
                }
            })
            .collect();
        assert_eq!(slab_len(&store, "ns"), 20_000);
        for i in 20_000..30_000 {
            acquired(store.begin_now(&rec(&format!("k{i}")), LEASE).unwrap());
        }
        assert_eq!(store.len(), 30_000);
        // Every kept record is found by its key and completed with its token.
        for (i, token) in tokens.iter().enumerate().skip(1).step_by(2) {
            let k = rec(&format!("k{i}"));
            assert_eq!(store.begin_now(&k, LEASE).unwrap(), Begin::InFlight);
            assert!(store.complete_now(&k, *token, TTL).unwrap());
        }
        for (n, token) in others.iter().enumerate() {
            let key = format!("k{}", n * 2);
            assert!(
                store
                    .complete_now(&body(&key, "other"), *token, TTL)
                    .unwrap()
            );
            assert_eq!(
                store.begin_now(&body(&key, "other"), LEASE).unwrap(),
                Begin::Completed
            );
            // The released first body is claimable again, and sees the other one.
            assert!(matches!(
                store.begin_now(&rec(&key), LEASE).unwrap(),
                Begin::Acquired {
                    other_body: true,
                    ..
                }
            ));
        }
        clock.advance(TTL);
        acquired(store.begin_now(&rec("last"), LEASE).unwrap());
        assert_eq!(store.len(), 1);
        assert_eq!(slab_len(&store, "ns"), 40_000);
    }

    fn queued(store: &MemoryStore, namespace: &str) -> usize {
        store.lock().get(namespace).map_or(0, |s| {
            s.queues.iter().map(|q| q.entries.len()).sum::<usize>() + s.others.len()
        })
    }

    #[test]
    fn records_of_more_durations_than_queues_expire_on_time() {
        let clock = ManualClock::new();
        let store = clock.store(100);
        // Drops what expired without claiming anything.
        let tick = || store.release_now(&rec("none"), Token::generate());
        for i in 1..=10_u64 {
            let k = rec(&format!("k{i}"));
            let token = acquired(store.begin_now(&k, Duration::from_secs(i)).unwrap());
            if i % 2 == 0 {
                let ttl = Duration::from_secs(100 + i);
                assert!(store.complete_now(&k, token, ttl).unwrap());
            }
        }
        for t in 1..=10_usize {
            clock.advance(Duration::from_millis(999));
            tick();
            assert_eq!(store.len(), 10 - (t - 1).div_ceil(2), "at {t} s - 1 ms");
            clock.advance(Duration::from_millis(1));
            tick();
            assert_eq!(store.len(), 10 - t.div_ceil(2), "at {t} s");
        }
        for i in [2, 4, 6, 8, 10] {
            let k = rec(&format!("k{i}"));
            assert_eq!(store.begin_now(&k, LEASE).unwrap(), Begin::Completed);
        }
        clock.advance(Duration::from_secs(92));
        tick();
        assert_eq!(store.len(), 4);
        clock.advance(Duration::from_secs(8));
        tick();
        assert!(store.is_empty());
    }

    #[test]
    fn completed_and_released_records_leave_a_bounded_expiry_order() {
        let clock = ManualClock::new();
        let store = clock.store(10);
        acquired(store.begin_now(&rec("kept"), LEASE).unwrap());
        for i in 0..5_000 {
            let k = rec(&format!("k{i}"));
            let token = acquired(store.begin_now(&k, LEASE).unwrap());
            assert!(store.release_now(&k, token));
            assert!(queued(&store, "ns") <= store.len() + STALE_SLACK + 2);
        }
        assert_eq!(store.len(), 1);
        // Completions leave their lease entries behind until the lease ends.
        for i in 0..9 {
            let k = rec(&format!("c{i}"));
            let token = acquired(store.begin_now(&k, LEASE).unwrap());
            assert!(store.complete_now(&k, token, TTL).unwrap());
        }
        let err = store.begin_now(&rec("full"), LEASE).unwrap_err();
        assert_eq!(
            err.retry_after(),
            Some(LEASE),
            "the next to expire is \"kept\""
        );
        clock.advance(LEASE);
        acquired(store.begin_now(&rec("room"), LEASE).unwrap());
        assert_eq!(store.len(), 10);
        assert!(queued(&store, "ns") <= 11);
    }

    #[test]
    fn a_caller_that_read_the_clock_earlier_gets_the_deadline_ahead_of_it() {
        let clock = ManualClock::new();
        let store = clock.store(10);
        let at = |s: u64| clock.offset_ms.store(s * 1000, Ordering::SeqCst);
        at(10);
        let first = rec("first");
        acquired(store.begin_now(&first, LEASE).unwrap());
        // Read the clock at 5 s, took the lock after the claim at 10 s.
        at(5);
        let late = rec("late");
        let token = acquired(store.begin_now(&late, LEASE).unwrap());
        at(39);
        assert_eq!(store.begin_now(&late, LEASE).unwrap(), Begin::InFlight);
        at(40);
        acquired(store.begin_now(&first, LEASE).unwrap());
        assert!(!store.release_now(&late, token), "its lease ended at 40 s");
    }

    #[test]
    fn namespaces_are_found_by_pointer_and_by_name_after_others_are_forgotten() {
        let store = ManualClock::new().store(10);
        let names: Vec<Arc<str>> = (0..20).map(|i| Arc::from(format!("ns{i}"))).collect();
        // One shared `Arc` per namespace, like the layer's, and fresh ones.
        let shared = |i: usize, key: &str| RecordId::new(Arc::clone(&names[i]), key, b"x");
        let fresh = |i: usize, key: &str| RecordId::new(format!("ns{i}"), key, b"x");
        let tokens: Vec<_> = (0..20)
            .map(|i| acquired(store.begin_now(&shared(i, "k"), LEASE).unwrap()))
            .collect();
        // Emptied namespaces are forgotten, the last one moving into their place.
        for i in [0, 3, 19, 10] {
            assert!(store.release_now(&fresh(i, "k"), tokens[i]));
            assert_eq!(store.len_in(&format!("ns{i}")), 0);
        }
        assert_eq!(store.len(), 16);
        for i in (0..20).filter(|i| ![0, 3, 19, 10].contains(i)) {
            assert_eq!(store.len_in(&format!("ns{i}")), 1, "ns{i}");
            assert_eq!(
                store.begin_now(&shared(i, "k"), LEASE).unwrap(),
                Begin::InFlight
            );
            assert_eq!(
                store.begin_now(&fresh(i, "k"), LEASE).unwrap(),
                Begin::InFlight
            );
            assert!(store.complete_now(&shared(i, "k"), tokens[i], TTL).unwrap());
        }
        for i in [0, 3, 19, 10] {
            acquired(store.begin_now(&shared(i, "k"), LEASE).unwrap());
        }
        assert_eq!(store.len(), 20);
    }

    #[test]
    fn capacity_is_at_least_one() {
        assert_eq!(MemoryStore::with_capacity(0).capacity(), 1);
        assert_eq!(MemoryStore::new().capacity(), MemoryStore::DEFAULT_CAPACITY);
    }
}
