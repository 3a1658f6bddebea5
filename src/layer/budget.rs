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
/// # Sizing
///
/// Memory for bodies is at most the budget (plus one chunk per request in flight). Take
/// the memory you can spare for webhook bodies; it should hold at least the largest body
/// you expect (a RootFi `DATA_MODEL_CHANGES` batch, up to the route's 16 MiB limit) a few
/// times over, so a burst of genuine deliveries fits while a flood is being refused. The
/// 128 MiB default holds eight maximal RootFi batches or five hundred maximal Railz
/// bodies.
///
/// ```
/// use ledgerhook::layer::{BufferBudget, VerifyWebhookLayer};
///
/// let budget = BufferBudget::new(64 * 1024 * 1024);
/// let railz = VerifyWebhookLayer::railz("railz-secret")?.buffer_budget(budget.clone());
/// let rootfi = VerifyWebhookLayer::rootfi("rootfi-key")?.buffer_budget(budget.clone());
/// assert_eq!(budget.available(), 64 * 1024 * 1024);
/// # let _ = (railz, rootfi);
/// # Ok::<(), ledgerhook::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct BufferBudget {
    shared: Arc<Shared>,
}

struct Shared {
    capacity: usize,
    available: AtomicUsize,
    retry_after: Duration,
}

impl BufferBudget {
    /// The default budget: 128 MiB.
    pub const DEFAULT_CAPACITY: usize = 128 * 1024 * 1024;

    /// The default `Retry-After` for a request the budget cannot hold: 1 second.
    pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

    /// A budget of `capacity` bytes, shared by its clones.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self::with_retry_after(capacity, Self::DEFAULT_RETRY_AFTER)
    }

    /// A budget of `capacity` bytes whose refusals ask the sender to wait `retry_after`.
    #[must_use]
    pub fn with_retry_after(capacity: usize, retry_after: Duration) -> Self {
        Self {
            shared: Arc::new(Shared {
                capacity,
                available: AtomicUsize::new(capacity),
                retry_after,
            }),
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

    /// The total number of bytes.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// The bytes not charged to a request right now.
    #[must_use]
    pub fn available(&self) -> usize {
        self.shared.available.load(Ordering::Acquire)
    }

    pub(crate) fn retry_after(&self) -> Duration {
        self.shared.retry_after
    }

    /// Charges `bytes` (possibly 0), or `None` when they do not fit.
    pub(crate) fn charge(&self, bytes: usize) -> Option<Charge> {
        let mut charge = Charge {
            budget: self.clone(),
            bytes: 0,
        };
        charge.grow_to(bytes).then_some(charge)
    }
}

impl fmt::Debug for BufferBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferBudget")
            .field("capacity", &self.capacity())
            .field("available", &self.available())
            .field("retry_after", &self.shared.retry_after)
            .finish()
    }
}

/// Bytes charged to one request, returned to the budget on drop.
pub(crate) struct Charge {
    budget: BufferBudget,
    bytes: usize,
}

impl Charge {
    /// Makes the charge at least `total` bytes; `false` (charge unchanged) if they do not fit.
    pub(crate) fn grow_to(&mut self, total: usize) -> bool {
        let Some(more) = total.checked_sub(self.bytes).filter(|&n| n > 0) else {
            return true;
        };
        let taken = self.budget.shared.available.fetch_update(
            Ordering::AcqRel,
            Ordering::Acquire,
            |available| available.checked_sub(more),
        );
        if taken.is_ok() {
            self.bytes = total;
        }
        taken.is_ok()
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget
            .shared
            .available
            .fetch_add(self.bytes, Ordering::AcqRel);
    }
}

impl fmt::Debug for Charge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Charge")
            .field("bytes", &self.bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_are_shared_by_clones_and_returned_on_drop() {
        let budget = BufferBudget::new(100);
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
}
