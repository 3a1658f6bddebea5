//! The time source for timestamp tolerance and key expiry, injectable for tests.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current wall-clock time.
///
/// The verifier asks it for the time when it checks a timestamp against the tolerance and
/// when it decides whether a rotated-out key has expired. [`SystemClock`] is the default;
/// [`ManualClock`] lets tests move time by hand.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's wall clock. On Linux it is read as of the kernel's last timer tick
/// (`CLOCK_REALTIME_COARSE`: at most a tick, a few milliseconds, behind, and a fraction of the
/// cost of a precise read, which matters on every request); elsewhere [`SystemTime::now`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        system_now()
    }
}

/// [`SystemClock`]'s reading.
#[inline]
fn system_now() -> SystemTime {
    coarse_since_epoch()
        .and_then(|since| UNIX_EPOCH.checked_add(since))
        .unwrap_or_else(SystemTime::now)
}

/// The coarse wall clock since the Unix epoch (`None` before it, or where there is none).
#[inline]
fn coarse_since_epoch() -> Option<Duration> {
    #[cfg(target_os = "linux")]
    {
        use nix::time::{ClockId, clock_gettime};
        let now = clock_gettime(ClockId::CLOCK_REALTIME_COARSE).ok()?;
        let (Ok(secs), Ok(nanos)) = (u64::try_from(now.tv_sec()), u32::try_from(now.tv_nsec()))
        else {
            return None;
        };
        Some(Duration::new(secs, nanos))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// The clock a key ring reads: the system clock called directly (no dynamic dispatch on the
/// request path), or the one given to [`Verifier::with_clock`](crate::Verifier::with_clock).
#[derive(Clone)]
pub(crate) struct TimeSource(Option<Arc<dyn Clock>>);

impl TimeSource {
    /// [`SystemClock`].
    pub(crate) const fn system() -> Self {
        Self(None)
    }

    pub(crate) fn custom(clock: Arc<dyn Clock>) -> Self {
        Self(Some(clock))
    }

    /// The current time.
    #[inline]
    pub(crate) fn now(&self) -> SystemTime {
        match &self.0 {
            None => system_now(),
            Some(clock) => clock.now(),
        }
    }

    /// The current time since the Unix epoch (zero at or before it), for the tolerance
    /// check: the system clock's reading is not turned into a `SystemTime` and back.
    #[inline]
    pub(crate) fn since_epoch(&self) -> Duration {
        if self.0.is_none()
            && let Some(since) = coarse_since_epoch()
        {
            return since;
        }
        self.now().duration_since(UNIX_EPOCH).unwrap_or_default()
    }
}

impl fmt::Debug for TimeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => fmt::Debug::fmt(&SystemClock, f),
            Some(clock) => fmt::Debug::fmt(clock, f),
        }
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
        assert!(TimeSource::system().now() > floor);
        let since = TimeSource::system().since_epoch();
        assert!(UNIX_EPOCH + since > floor);
        let manual = TimeSource::custom(Arc::new(ManualClock::new(floor)));
        assert_eq!(UNIX_EPOCH + manual.since_epoch(), floor);
        let before = TimeSource::custom(Arc::new(ManualClock::new(
            UNIX_EPOCH - Duration::from_secs(1),
        )));
        assert_eq!(before.since_epoch(), Duration::ZERO);
        // At most a timer tick behind the precise clock.
        let precise = SystemTime::now();
        let coarse = SystemClock.now();
        assert!(coarse <= SystemTime::now());
        assert!(precise.duration_since(coarse).unwrap_or_default() < Duration::from_secs(1));
    }
}
