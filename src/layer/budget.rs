//! A bound on the bytes buffered by all in-flight requests together.

use std::fmt;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How many body bytes the verifying layers sharing this budget may hold at once.
///
/// A body must be buffered whole before its signature can be checked, so without a shared
/// bound a flood of well-formed but forged requests, each streaming up to the route's
/// limit and holding back its last byte, pins `connections × limit` bytes. Every request
/// is charged up front by its `Content-Length` and then by the chunks that arrive beyond
/// it; one that does not fit is answered `503` with `Retry-After` (code `overloaded`)
/// without its body being read, which providers retry. The charge is returned when the
/// response is ready (or the request is dropped).
///
/// Clones share the budget: give one clone to every layer whose routes should share it.
/// Layers without an explicit budget share [`BufferBudget::process_default`].
///
/// # A reserve for small bodies
///
/// A bound on memory does not say who gets it: forged bodies of the route's maximal size
/// can keep the budget full, and a genuine delivery that arrives then would be refused.
/// Genuine webhooks are almost always small, so part of the budget (by default an eighth)
/// is kept for requests that *declare* a small body: a `Content-Length` of at most
/// [`small_body_limit`](BufferBudget::small_body_limit) (256 KiB by default, the Railz
/// route's whole limit). They use the shared part first and the reserve only when the
/// shared part is full; larger or chunked bodies never use the reserve. A flood of large
/// forgeries then cannot refuse a small genuine delivery; to fill the reserve as well, a
/// forger has to hold `reserve / small_body_limit` small bodies open at once (64 with the
/// defaults), each until the route's body deadline cuts it.
///
/// # Sizing
///
/// Memory for bodies is at most the budget (plus one chunk per request in flight). Take
/// the memory you can spare for webhook bodies; it should hold at least the largest body
/// you expect (a RootFi `DATA_MODEL_CHANGES` batch, up to the route's 16 MiB limit) a few
/// times over, so a burst of genuine deliveries fits while a flood is being refused. The
/// 128 MiB default holds seven maximal RootFi batches besides its 16 MiB reserve, which
/// alone holds sixteen thousand 1 KiB deliveries.
///
/// ```
/// use std::time::Duration;
/// use ledgerhook::layer::{BufferBudget, VerifyWebhookLayer};
///
/// let budget = BufferBudget::new(64 * 1024 * 1024);
/// let railz = VerifyWebhookLayer::railz("railz-secret")?.buffer_budget(budget.clone());
/// let rootfi = VerifyWebhookLayer::rootfi("rootfi-key")?.buffer_budget(budget.clone());
/// assert_eq!(budget.available(), 64 * 1024 * 1024);
/// assert_eq!(budget.small_body_reserve(), 8 * 1024 * 1024);
///
/// // Or every setting by name:
/// let tuned = BufferBudget::builder(256 * 1024 * 1024)
///     .small_body_reserve(32 * 1024 * 1024)
///     .small_body_limit(64 * 1024)
///     .retry_after(Duration::from_secs(5))
///     .build();
/// assert_eq!(tuned.small_body_limit(), 64 * 1024);
/// # let _ = (railz, rootfi);
/// # Ok::<(), ledgerhook::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct BufferBudget {
    shared: Arc<Shared>,
}

struct Shared {
    capacity: usize,
    reserve: usize,
    small_body_limit: usize,
    /// Free bytes of the part every request may use (`capacity - reserve` when idle).
    general: AtomicUsize,
    /// Free bytes of the reserve for small declared bodies (`reserve` when idle).
    reserved: AtomicUsize,
    retry_after: Duration,
}

impl BufferBudget {
    /// The default budget: 128 MiB.
    pub const DEFAULT_CAPACITY: usize = 128 * 1024 * 1024;

    /// The default `Retry-After` for a request the budget cannot hold: 1 second.
    pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

    /// The default largest declared body that may use the small-body reserve: 256 KiB.
    pub const DEFAULT_SMALL_BODY_LIMIT: usize = 256 * 1024;

    /// A budget of `capacity` bytes, shared by its clones, an eighth of it reserved for
    /// small declared bodies (see [the type docs](BufferBudget#a-reserve-for-small-bodies)).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self::builder(capacity).build()
    }

    /// Every setting of a budget of `capacity` bytes, by name.
    pub fn builder(capacity: usize) -> BufferBudgetBuilder {
        BufferBudgetBuilder {
            capacity,
            reserve: capacity / 8,
            small_body_limit: Self::DEFAULT_SMALL_BODY_LIMIT,
            retry_after: Self::DEFAULT_RETRY_AFTER,
        }
    }

    /// The budget shared by every layer that was not given one:
    /// [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY) for the whole process.
    #[must_use]
    pub fn process_default() -> Self {
        static DEFAULT: OnceLock<BufferBudget> = OnceLock::new();
        DEFAULT
            .get_or_init(|| Self::new(Self::DEFAULT_CAPACITY))
            .clone()
    }

    /// The total number of bytes, the reserve included.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// The bytes kept for small declared bodies.
    #[must_use]
    pub fn small_body_reserve(&self) -> usize {
        self.shared.reserve
    }

    /// The largest `Content-Length` that may use the reserve.
    #[must_use]
    pub fn small_body_limit(&self) -> usize {
        self.shared.small_body_limit
    }

    /// The bytes not charged to a request right now, the reserve's included.
    #[must_use]
    pub fn available(&self) -> usize {
        self.shared.general.load(Ordering::Acquire) + self.shared.reserved.load(Ordering::Acquire)
    }

    pub(crate) fn retry_after(&self) -> Duration {
        self.shared.retry_after
    }

    /// Charges a request that declared `declared` bytes (0: nothing declared, the chunks
    /// are charged as they arrive), or `None` when they do not fit.
    pub(crate) fn charge(&self, declared: usize) -> Option<Charge> {
        let mut charge = Charge {
            budget: self.clone(),
            bytes: 0,
            pool: Pool::General,
            may_use_reserve: declared > 0 && declared <= self.shared.small_body_limit,
        };
        charge.grow_to(declared).then_some(charge)
    }
}

impl fmt::Debug for BufferBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferBudget")
            .field("capacity", &self.capacity())
            .field("available", &self.available())
            .field("small_body_reserve", &self.shared.reserve)
            .field("small_body_limit", &self.shared.small_body_limit)
            .field("retry_after", &self.shared.retry_after)
            .finish()
    }
}

/// The settings of a [`BufferBudget`], from [`BufferBudget::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct BufferBudgetBuilder {
    capacity: usize,
    reserve: usize,
    small_body_limit: usize,
    retry_after: Duration,
}

impl BufferBudgetBuilder {
    /// Bytes of the capacity kept for small declared bodies (default: an eighth; at most
    /// the capacity; 0 turns the reserve off).
    pub fn small_body_reserve(mut self, bytes: usize) -> Self {
        self.reserve = bytes;
        self
    }

    /// The largest `Content-Length` that may use the reserve (default
    /// [`DEFAULT_SMALL_BODY_LIMIT`](BufferBudget::DEFAULT_SMALL_BODY_LIMIT)).
    pub fn small_body_limit(mut self, bytes: usize) -> Self {
        self.small_body_limit = bytes;
        self
    }

    /// The `Retry-After` of a refusal (default
    /// [`DEFAULT_RETRY_AFTER`](BufferBudget::DEFAULT_RETRY_AFTER)).
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The budget.
    #[must_use]
    pub fn build(self) -> BufferBudget {
        let reserve = self.reserve.min(self.capacity);
        BufferBudget {
            shared: Arc::new(Shared {
                capacity: self.capacity,
                reserve,
                small_body_limit: self.small_body_limit,
                general: AtomicUsize::new(self.capacity - reserve),
                reserved: AtomicUsize::new(reserve),
                retry_after: self.retry_after,
            }),
        }
    }
}

/// Which part of the budget a charge holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pool {
    General,
    Reserve,
}

/// Bytes charged to one request, returned to the budget on drop.
pub(crate) struct Charge {
    budget: BufferBudget,
    bytes: usize,
    pool: Pool,
    may_use_reserve: bool,
}

impl Charge {
    /// Makes the charge at least `total` bytes; `false` (charge unchanged) if they do not fit.
    pub(crate) fn grow_to(&mut self, total: usize) -> bool {
        if total <= self.bytes {
            return true;
        }
        let small = self.may_use_reserve && total <= self.budget.shared.small_body_limit;
        match self.pool {
            Pool::General if self.take(Pool::General, total - self.bytes) => {}
            // The shared part is full: a small declared body moves to the reserve whole.
            Pool::General if small && self.take(Pool::Reserve, total) => {
                self.give_back();
                self.pool = Pool::Reserve;
            }
            Pool::Reserve if small && self.take(Pool::Reserve, total - self.bytes) => {}
            // Grown past what the reserve is for (or the reserve is full): all of it
            // moves to the shared part, or the growth is refused.
            Pool::Reserve if self.take(Pool::General, total) => {
                self.give_back();
                self.pool = Pool::General;
            }
            _ => return false,
        }
        self.bytes = total;
        true
    }

    fn counter(&self, pool: Pool) -> &AtomicUsize {
        match pool {
            Pool::General => &self.budget.shared.general,
            Pool::Reserve => &self.budget.shared.reserved,
        }
    }

    fn take(&self, pool: Pool, bytes: usize) -> bool {
        self.counter(pool)
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |free| {
                free.checked_sub(bytes)
            })
            .is_ok()
    }

    /// Returns what this charge holds to its pool (the caller resets `bytes` or moves it).
    fn give_back(&self) {
        self.counter(self.pool)
            .fetch_add(self.bytes, Ordering::AcqRel);
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.give_back();
    }
}

impl fmt::Debug for Charge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Charge")
            .field("bytes", &self.bytes)
            .field("pool", &self.pool)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn without_reserve(capacity: usize) -> BufferBudget {
        BufferBudget::builder(capacity)
            .small_body_reserve(0)
            .build()
    }

    #[test]
    fn charges_are_shared_by_clones_and_returned_on_drop() {
        let budget = without_reserve(100);
        let other = budget.clone();
        let mut a = budget.charge(60).expect("fits");
        assert_eq!(other.available(), 40);
        assert!(other.charge(41).is_none(), "does not fit");
        let b = other.charge(40).expect("fits exactly");
        assert_eq!(budget.available(), 0);
        assert!(!a.grow_to(61), "no room to grow");
        assert!(a.grow_to(60), "already charged");
        drop(b);
        assert!(a.grow_to(100));
        assert_eq!(budget.available(), 0);
        drop(a);
        assert_eq!(budget.available(), 100);
    }

    /// Large bodies that fill the shared part leave room for small declared ones.
    #[test]
    fn large_bodies_cannot_take_the_reserve_from_small_declared_ones() {
        let budget = BufferBudget::builder(1000)
            .small_body_reserve(200)
            .small_body_limit(100)
            .build();
        assert_eq!(budget.small_body_reserve(), 200);
        let large = budget.charge(800).expect("the shared part holds it");
        assert!(budget.charge(101).is_none(), "too large for the reserve");
        // A chunked body (nothing declared) never uses the reserve, however small.
        let mut chunked = budget.charge(0).expect("nothing charged yet");
        assert!(!chunked.grow_to(1), "the shared part is full");
        let small = budget.charge(100).expect("the reserve holds a small body");
        let other = budget.charge(100).expect("and another");
        assert_eq!(budget.available(), 0);
        assert!(budget.charge(1).is_none(), "reserve full too");
        drop((large, small, other, chunked));
        assert_eq!(budget.available(), 1000);
    }

    /// A reserved charge that grows past the small-body limit moves to the shared part
    /// whole, or is refused and keeps what it had.
    #[test]
    fn a_reserved_charge_growing_past_the_limit_moves_or_is_refused() {
        let budget = BufferBudget::builder(1000)
            .small_body_reserve(200)
            .small_body_limit(100)
            .build();
        let large = budget.charge(750).expect("fits");
        let mut small = budget.charge(80).expect("goes to the reserve");
        assert_eq!(budget.available(), 170);
        assert!(!small.grow_to(120), "50 bytes free in the shared part");
        assert_eq!(
            budget.available(),
            170,
            "the refused growth left nothing behind"
        );
        drop(large);
        assert!(small.grow_to(120), "moves to the shared part");
        assert_eq!(budget.available(), 880);
        drop(small);
        assert_eq!(budget.available(), 1000);
    }

    /// Small declared bodies use the shared part first, so the reserve is left for when
    /// it is full.
    #[test]
    fn small_bodies_use_the_shared_part_first() {
        let budget = BufferBudget::builder(1000)
            .small_body_reserve(100)
            .small_body_limit(100)
            .build();
        let small: Vec<_> = (0..9).map(|_| budget.charge(100).expect("fits")).collect();
        assert_eq!(budget.available(), 100);
        let last = budget
            .charge(100)
            .expect("the reserve, once the rest is full");
        assert!(budget.charge(1).is_none());
        drop((small, last));
        assert_eq!(budget.available(), 1000);
    }

    #[test]
    fn the_reserve_is_at_most_the_capacity() {
        let budget = BufferBudget::builder(10).small_body_reserve(50).build();
        assert_eq!(budget.small_body_reserve(), 10);
        assert_eq!(budget.available(), 10);
        assert_eq!(BufferBudget::new(800).small_body_reserve(), 100);
    }
}
