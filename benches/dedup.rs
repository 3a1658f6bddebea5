//! The in-memory dedup path, absolute times: `Store::try_begin` + `Store::complete` of a
//! new delivery on a `MemoryStore` already holding N records (N = 1k and 500k, keys like
//! the layer derives for Railz, `id:<uuid>:dataPerType`, namespace `railz`), beside the
//! map people write by hand (`Mutex<HashMap<String, Instant>>`, insert if absent).
//!
//! Both sides stay at N records: the store's clock advances one tick per delivery and every
//! record lives N ticks, so each delivery also expires the oldest one; the hand-rolled map
//! removes the key of N deliveries ago. Keys are built outside the timed part.
//!
//! Run: `cargo bench --bench dedup -- --warm-up-time 1 --measurement-time 3`. Instruction
//! counts of 10,000 deliveries: `DEDUP_COUNT=500000 valgrind --tool=callgrind
//! --toggle-collect='*deliver_counted*' <the bench binary>`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::Write as _;
use std::future::Future;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion};
use ledgerhook::idempotency::{Begin, MemoryStore, RecordId, Store};

const SIZES: [(u64, &str); 2] = [(1_000, "1k"), (500_000, "500k")];

/// The answer of a future that completes without waiting (the memory store's do).
fn now_or_never<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("the memory store never waits"),
    }
}

/// The key of delivery `n`: a Railz `requestId` (a v4 UUID) with its event.
fn key(n: u64) -> String {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    let mut key = String::with_capacity(52);
    write!(
        key,
        "id:{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}:dataPerType",
        z >> 32,
        (z >> 16) & 0xffff,
        z & 0xfff,
        n & 0xfff,
        n & 0xffff_ffff_ffff
    )
    .unwrap();
    key
}

fn record(namespace: &Arc<str>, n: u64) -> RecordId {
    let mut digest = [0x5a; 32];
    digest[..8].copy_from_slice(&n.to_le_bytes());
    RecordId::from_digest(Arc::clone(namespace), key(n), digest)
}

/// A `MemoryStore` on a clock that moves one nanosecond per delivery.
struct Ours {
    store: MemoryStore,
    ticks: Arc<AtomicU64>,
    window: Duration,
}

impl Ours {
    fn new(held: u64) -> Self {
        let ticks = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let clock = Arc::clone(&ticks);
        let store = MemoryStore::with_clock(usize::try_from(held).unwrap() * 2, move || {
            start + Duration::from_nanos(clock.load(Ordering::Relaxed))
        });
        Self {
            store,
            ticks,
            window: Duration::from_nanos(held),
        }
    }

    fn deliver(&self, record: &RecordId) {
        self.ticks.fetch_add(1, Ordering::Relaxed);
        let Begin::Acquired { token, .. } =
            now_or_never(self.store.try_begin(record, self.window)).unwrap()
        else {
            panic!("a new key must be acquired");
        };
        assert!(now_or_never(self.store.complete(record, token, self.window)).unwrap());
    }
}

/// What people write: a map of keys to when they were first seen.
type Naive = Mutex<HashMap<String, Instant>>;

fn naive_deliver(map: &Naive, key: String, oldest: &str) -> bool {
    let now = Instant::now();
    let mut map = map.lock().unwrap();
    map.remove(oldest);
    match map.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(now);
            true
        }
        Entry::Occupied(_) => false,
    }
}

fn dedup(c: &mut Criterion) {
    let namespace: Arc<str> = Arc::from("railz");
    let mut group = c.benchmark_group("dedup");
    for (held, name) in SIZES {
        let ours = Ours::new(held);
        for n in 0..held {
            ours.deliver(&record(&namespace, n));
        }
        assert_eq!(ours.store.len(), usize::try_from(held).unwrap());
        let mut next = held;
        group.bench_function(format!("memory_store/{name}"), |b| {
            b.iter_batched(
                || {
                    next += 1;
                    record(&namespace, next)
                },
                |record| {
                    ours.deliver(black_box(&record));
                    record
                },
                BatchSize::SmallInput,
            );
        });
        // Still at N: one record expired per delivery.
        assert!(ours.store.len() <= usize::try_from(held).unwrap() + 1);
        drop(ours);

        let naive: Naive = Mutex::new((0..held).map(|n| (key(n), Instant::now())).collect());
        let mut next = held;
        group.bench_function(format!("naive_mutex_hashmap/{name}"), |b| {
            b.iter_batched(
                || {
                    next += 1;
                    (key(next), key(next - held))
                },
                |(key, oldest)| {
                    assert!(naive_deliver(&naive, black_box(key), &oldest));
                    oldest
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

/// One delivery, alone in its function so that callgrind can count it
/// (`--toggle-collect='*deliver_counted*'`).
#[inline(never)]
fn deliver_counted(ours: &Ours, record: &RecordId) {
    ours.deliver(record);
}

/// `DEDUP_COUNT=<held>`: fills a store with `held` records, then makes 10,000 deliveries
/// through [`deliver_counted`] (for instruction counts under callgrind) instead of timing.
fn count(held: u64) {
    let namespace: Arc<str> = Arc::from("railz");
    let ours = Ours::new(held);
    for n in 0..held {
        ours.deliver(&record(&namespace, n));
    }
    for n in held..held + 10_000 {
        let record = record(&namespace, n);
        deliver_counted(&ours, black_box(&record));
    }
}

fn main() {
    if let Ok(held) = std::env::var("DEDUP_COUNT") {
        count(held.parse().expect("DEDUP_COUNT: a number of records"));
        return;
    }
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    dedup(&mut c);
    c.final_summary();
}
