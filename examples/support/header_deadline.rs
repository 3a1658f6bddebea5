//! A header-read deadline kept per connection: a client that has not sent its next request
//! head within `timeout` of connecting or of its previous answer is disconnected.
//!
//! hyper's own `header_read_timeout` does this with a timer it allocates, registers in
//! tokio's timer wheel and drops again for every request. Here a connection has one
//! `Sleep`, armed when the connection is accepted and reset only when it fires; a request
//! costs two counter updates and a clock read. Shared by examples/receiver.rs and the tools/
//! test receiver, which serve alike.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

/// One connection's header-read deadline: wrap its service with [`track`](Self::track),
/// run the connection with [`run`](Self::run).
pub(crate) struct HeaderDeadline {
    progress: Arc<Progress>,
    timeout: Duration,
}

/// What one connection has done, written by its service and read by its deadline.
struct Progress {
    /// When the connection was accepted.
    epoch: Instant,
    /// Request heads received.
    started: AtomicU64,
    /// Answers produced.
    answered: AtomicU64,
    /// When the last answer was produced, in nanoseconds since `epoch`.
    idle_since: AtomicU64,
}

impl Progress {
    /// When the next head is due, or `None` while a request is in flight (its body and
    /// handler are bounded by the layers' deadlines, not by this one).
    fn head_due(&self, timeout: Duration) -> Option<Instant> {
        let answered = self.answered.load(Ordering::Relaxed);
        if self.started.load(Ordering::Relaxed) != answered {
            return None;
        }
        let idle_since = Duration::from_nanos(self.idle_since.load(Ordering::Relaxed));
        Some(self.epoch + idle_since + timeout)
    }
}

impl HeaderDeadline {
    /// A deadline for a connection accepted now.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            progress: Arc::new(Progress {
                epoch: Instant::now(),
                started: AtomicU64::new(0),
                answered: AtomicU64::new(0),
                idle_since: AtomicU64::new(0),
            }),
            timeout,
        }
    }

    /// `service`, telling this deadline when a head arrives and when it is answered.
    pub(crate) fn track<S>(&self, service: S) -> Tracked<S> {
        Tracked {
            inner: service,
            progress: Arc::clone(&self.progress),
        }
    }

    /// Runs `connection` to its end, or drops it (closing the socket) once a head is
    /// overdue; `None` then.
    pub(crate) async fn run<C: Future>(self, connection: C) -> Option<C::Output> {
        let mut connection = pin!(connection);
        let sleep = tokio::time::sleep(self.timeout);
        let mut sleep = pin!(sleep);
        loop {
            tokio::select! {
                biased;
                output = &mut connection => return Some(output),
                () = &mut sleep => {
                    let now = Instant::now();
                    match self.progress.head_due(self.timeout) {
                        Some(due) if due <= now => return None,
                        Some(due) => sleep.as_mut().reset(due),
                        None => sleep.as_mut().reset(now + self.timeout),
                    }
                }
            }
        }
    }
}

/// A connection's service that reports its heads and answers to its [`HeaderDeadline`].
#[derive(Clone)]
pub(crate) struct Tracked<S> {
    inner: S,
    progress: Arc<Progress>,
}

impl<S, Req> hyper::service::Service<Req> for Tracked<S>
where
    S: hyper::service::Service<Req>,
    S::Future: Unpin,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Answer<S::Future>;

    fn call(&self, req: Req) -> Self::Future {
        self.progress.started.fetch_add(1, Ordering::Relaxed);
        Answer {
            inner: self.inner.call(req),
            progress: Arc::clone(&self.progress),
        }
    }
}

/// The answer to one request; marks the connection idle when it is ready.
pub(crate) struct Answer<F> {
    inner: F,
    progress: Arc<Progress>,
}

impl<F: Future + Unpin> Future for Answer<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let output = std::task::ready!(Pin::new(&mut self.inner).poll(cx));
        let progress = &self.progress;
        let since = u64::try_from(progress.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        progress.idle_since.store(since, Ordering::Relaxed);
        progress.answered.fetch_add(1, Ordering::Relaxed);
        Poll::Ready(output)
    }
}
