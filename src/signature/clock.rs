//! The time source for timestamp tolerance and key expiry, injectable for tests.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// A source of the current wall-clock time.
///
/// The verifier asks it for the time when it checks a timestamp against the tolerance and
/// when it decides whether a rotated-out key has expired. [`SystemClock`] is the default;
/// [`ManualClock`] lets tests move time by hand.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's wall clock ([`SystemTime::now`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to. Clones share the same time, so a test can keep one
/// handle and give a clone to a [`Verifier`](crate::Verifier).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use ledgerhook::signature::{Clock, ManualClock};
///
/// let clock = ManualClock::new(SystemTime::UNIX_EPOCH);
/// let shared = clock.clone();
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(shared.now(), SystemTime::UNIX_EPOCH + Duration::from_secs(5));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    /// A clock stopped at `now`.
    #[must_use]
    pub fn new(now: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    /// Sets the time.
    pub fn set(&self, now: SystemTime) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Moves the time forward by `by` (saturating at the largest representable time).
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(later) = now.checked_add(by) {
            *now = later;
        }
    }

    /// Moves the time backward by `by` (stays put if that is not representable).
    pub fn rewind(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(earlier) = now.checked_sub(by) {
            *now = earlier;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_millis(1));
        assert_eq!(clock.now(), start + Duration::from_millis(1));
        clock.rewind(Duration::from_millis(2));
        assert_eq!(clock.now(), start - Duration::from_millis(1));
        clock.set(start);
        assert_eq!(clock.clone().now(), start);
    }

    #[test]
    fn system_clock_is_after_2020() {
        let floor = SystemTime::UNIX_EPOCH + Duration::from_secs(1_577_836_800);
        assert!(SystemClock.now() > floor);
    }
}
