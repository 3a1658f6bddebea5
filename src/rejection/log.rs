//! Logging refusals without letting a flood fill the disk.
//!
//! Anyone can send a request without (or with a forged) signature, so those refusals are
//! logged at DEBUG, plus at WARN only for the first one of an interval and then as one
//! summary line per interval with counts per code. Refusals of verified deliveries (a body
//! the provider signed but that does not parse) mean lost data and stay at WARN each; a
//! missing layer is a configuration error, at ERROR.

use std::time::Duration;

use super::Rejection;

/// How often the summary of unauthenticated refusals is written: every 60 seconds (by
/// the first refusal after the interval ends, so a quiet receiver writes nothing).
pub const DEFAULT_SUMMARY_INTERVAL: Duration = Duration::from_secs(60);

#[cfg(feature = "tracing")]
pub(crate) use self::enabled::RejectionLog;

#[cfg(feature = "tracing")]
mod enabled {
    use std::sync::Mutex;
    use std::time::Duration;

    use tokio::time::Instant;

    use super::Rejection;
    use crate::rejection::RejectionKind;

    /// Counts of unauthenticated refusals since the window started.
    #[derive(Debug)]
    pub(crate) struct RejectionLog {
        interval: Duration,
        window: Mutex<Option<Window>>,
    }

    #[derive(Debug)]
    struct Window {
        started: Instant,
        // A handful of codes: a vector beats a map.
        counts: Vec<(&'static str, u64)>,
    }

    impl RejectionLog {
        pub(crate) fn new(interval: Duration) -> Self {
            Self {
                interval,
                window: Mutex::new(None),
            }
        }

        pub(crate) fn record(&self, rejection: &Rejection, path: &str) {
            let kind = rejection.kind();
            let (status, code) = (rejection.status().as_u16(), kind.code());
            if !kind.is_unauthenticated() {
                match kind {
                    RejectionKind::MissingLayer => tracing::error!(
                        target: "ledgerhook", status, code, path, reason = %rejection,
                        "webhook route misconfigured",
                    ),
                    RejectionKind::InFlight => tracing::debug!(
                        target: "ledgerhook", status, code, path, reason = %rejection,
                        "webhook rejected",
                    ),
                    _ => tracing::warn!(
                        target: "ledgerhook", status, code, path, reason = %rejection,
                        "webhook rejected",
                    ),
                }
                return;
            }
            tracing::debug!(
                target: "ledgerhook", status, code, path, reason = %rejection,
                "webhook rejected",
            );
            let now = Instant::now();
            let mut window = self
                .window
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let Some(open) = window.as_mut() else {
                // The first of a window is shown in full, so a misconfigured secret is
                // visible at once.
                tracing::warn!(
                    target: "ledgerhook", status, code, path, reason = %rejection,
                    "webhook rejected (unauthenticated; further ones are summarised every {:?})",
                    self.interval,
                );
                *window = Some(Window {
                    started: now,
                    counts: vec![(code, 1)],
                });
                return;
            };
            match open.counts.iter_mut().find(|(c, _)| *c == code) {
                Some((_, n)) => *n += 1,
                None => open.counts.push((code, 1)),
            }
            let elapsed = now.duration_since(open.started);
            if elapsed >= self.interval {
                let total: u64 = open.counts.iter().map(|(_, n)| n).sum();
                let counts = open
                    .counts
                    .iter()
                    .map(|(c, n)| format!("{c}={n}"))
                    .collect::<Vec<_>>()
                    .join(",");
                tracing::warn!(
                    target: "ledgerhook", total, counts = %counts, seconds = elapsed.as_secs(),
                    "unauthenticated webhook requests rejected",
                );
                open.started = now;
                open.counts.clear();
            }
        }
    }
}

/// Without `tracing` there is nothing to write, and so nothing to count.
#[cfg(not(feature = "tracing"))]
#[derive(Debug)]
pub(crate) struct RejectionLog;

#[cfg(not(feature = "tracing"))]
impl RejectionLog {
    pub(crate) fn new(_interval: Duration) -> Self {
        Self
    }

    pub(crate) fn record(&self, _rejection: &Rejection, _path: &str) {}
}
