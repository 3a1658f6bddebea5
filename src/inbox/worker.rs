//! The processing end: a consumer-group member that runs the user's handler.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, timeout};
use tower::{BoxError, Service};

use super::envelope::{Envelope, EnvelopeId};
use super::store::InboxStore;
use crate::WebhookPayload;

/// The future a [`Handler`] returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'static>>;

/// One envelope handed to a handler: the typed event and what was stored with it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Job<E> {
    /// The event, parsed from the stored bytes with [`WebhookPayload::parse`].
    pub event: E,
    /// The stored envelope (its body is the exact verified bytes).
    pub envelope: Envelope,
}

/// What a [`Worker`] calls for each envelope.
///
/// Implemented for async functions of the event (`async fn(E) -> Result<(), Err>`) and,
/// through [`from_service`], for any tower `Service<Job<E>>`. `Ok` acknowledges the
/// envelope; an error is retried with backoff, or dead-lettered at once when it is (or
/// wraps) a [`Permanent`] error.
pub trait Handler<E>: Send + Sync + 'static {
    /// Handles one job.
    fn handle(&self, job: Job<E>) -> HandlerFuture;
}

impl<E, F, Fut, Err> Handler<E> for F
where
    E: Send + 'static,
    F: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Err>> + Send + 'static,
    Err: Into<BoxError>,
{
    fn handle(&self, job: Job<E>) -> HandlerFuture {
        let fut = self(job.event);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

/// A tower `Service` as a [`Handler`]; see [`from_service`].
#[derive(Debug, Clone)]
pub struct ServiceHandler<S>(S);

/// Uses a tower `Service<Job<E>>` (cloned per job) as the handler.
///
/// ```
/// use ledgerhook::inbox::{Job, from_service};
/// use tower::service_fn;
///
/// let handler = from_service(service_fn(|job: Job<bytes::Bytes>| async move {
///     println!("{} bytes", job.event.len());
///     Ok::<_, std::io::Error>(())
/// }));
/// # let _ = handler;
/// ```
pub fn from_service<S>(service: S) -> ServiceHandler<S> {
    ServiceHandler(service)
}

impl<E, S> Handler<E> for ServiceHandler<S>
where
    E: Send + 'static,
    S: Service<Job<E>> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    fn handle(&self, job: Job<E>) -> HandlerFuture {
        let mut service = self.0.clone();
        Box::pin(async move {
            std::future::poll_fn(|cx| service.poll_ready(cx))
                .await
                .map_err(Into::into)?;
            service.call(job).await.map(drop).map_err(Into::into)
        })
    }
}

/// An error that retrying cannot fix: the worker dead-letters the envelope at once.
///
/// ```
/// use ledgerhook::inbox::Permanent;
///
/// async fn handle(event: bytes::Bytes) -> Result<(), tower::BoxError> {
///     if event.is_empty() {
///         return Err(Permanent::new("empty event").into());
///     }
///     Ok(())
/// }
/// # let _ = handle;
/// ```
#[derive(Debug)]
pub struct Permanent(BoxError);

impl Permanent {
    /// Marks `error` as permanent.
    pub fn new(error: impl Into<BoxError>) -> Self {
        Self(error.into())
    }
}

impl fmt::Display for Permanent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for Permanent {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.0)
    }
}

fn is_permanent(err: &BoxError) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(&**err);
    while let Some(e) = current {
        if e.is::<Permanent>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// Exponential backoff with jitter between handler attempts.
///
/// The delay before retry `n` (1 after the first failure) is drawn uniformly from
/// `[d/2, d]` with `d = min(max, base × 2^(n-1))` ("equal jitter"): retries of many
/// envelopes failing together spread out, and no delay is shorter than half the nominal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
}

impl Default for Backoff {
    /// 1 s doubling up to 5 minutes.
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(300))
    }
}

impl Backoff {
    /// Starts at `base` and doubles up to `max`.
    #[must_use]
    pub const fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }

    /// The nominal delay (before jitter) before retry `attempt` (1-based).
    #[must_use]
    pub fn nominal(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The delay before retry `attempt`, jittered.
    #[must_use]
    pub fn delay(&self, attempt: u32) -> Duration {
        let nominal = self.nominal(attempt);
        let half = nominal / 2;
        half + half.mul_f64(random_unit())
    }
}

/// A number in `[0, 1)` from std's randomly keyed hasher (one value per call; avoids a
/// dependency on a random number crate for jitter).
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// What a [`Worker`] did during [`run`](Worker::run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerReport {
    /// Handler runs that succeeded (envelope acknowledged).
    pub succeeded: u64,
    /// Failed runs scheduled for a retry.
    pub retried: u64,
    /// Envelopes moved to the dead letters (attempts exhausted, permanent error,
    /// unparsable bytes, or too many deliveries without an outcome).
    pub dead_lettered: u64,
    /// Envelopes taken over from a crashed or hung consumer.
    pub reclaimed: u64,
    /// In-flight envelopes handed back unprocessed at shutdown.
    pub handed_back: u64,
    /// Settlements refused because another consumer had reclaimed the envelope.
    pub lost_ownership: u64,
    /// Store calls that failed (the envelope stays pending and is reclaimed later).
    pub store_errors: u64,
}

#[derive(Default)]
struct Counters {
    succeeded: AtomicU64,
    retried: AtomicU64,
    dead_lettered: AtomicU64,
    reclaimed: AtomicU64,
    handed_back: AtomicU64,
    lost_ownership: AtomicU64,
    store_errors: AtomicU64,
}

impl Counters {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn report(&self) -> WorkerReport {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WorkerReport {
            succeeded: get(&self.succeeded),
            retried: get(&self.retried),
            dead_lettered: get(&self.dead_lettered),
            reclaimed: get(&self.reclaimed),
            handed_back: get(&self.handed_back),
            lost_ownership: get(&self.lost_ownership),
            store_errors: get(&self.store_errors),
        }
    }
}

/// A member of the inbox's consumer group: reads envelopes, parses the typed event `E`
/// from the stored bytes, runs the [`Handler`], and settles each envelope.
///
/// | the handler… | the worker |
/// |---|---|
/// | returns `Ok` | acknowledges: the envelope is gone |
/// | fails (or exceeds [`handler_timeout`](Self::handler_timeout)) before [`max_attempts`](Self::max_attempts) | schedules a retry after [`Backoff::delay`] |
/// | fails for the last allowed attempt, or with a [`Permanent`] error | dead-letters it with the error |
/// | is not called: the stored bytes do not parse as `E` | dead-letters it at once (retrying cannot help) |
///
/// While a handler runs, the worker extends its hold every third of the
/// [`visibility_timeout`](Self::visibility_timeout); envelopes not extended for longer than
/// that (their worker crashed, or hangs) are reclaimed by another worker; one handed out more than `max_attempts` times without an
/// outcome (a handler that crashes its process) is dead-lettered. Delivery is
/// therefore **at least once**: make the handler idempotent (the
/// [`Envelope::dedup_key`] is a natural key), since a crash after the handler's effect
/// and before the acknowledgement runs it again.
///
/// Any number of workers, in any number of processes, may share one store and group;
/// give each a distinct [`consumer`](Self::consumer) name.
///
/// ```no_run
/// use ledgerhook::inbox::{MemoryInbox, Worker};
/// use ledgerhook::railz;
///
/// async fn on_event(event: railz::Event) -> Result<(), std::io::Error> {
///     println!("railz {}", event.tag());
///     Ok(())
/// }
///
/// # async fn run(store: MemoryInbox) {
/// let report = Worker::<railz::Event>::new(store, on_event)
///     .concurrency(8)
///     .run(async { tokio::signal::ctrl_c().await.ok(); })
///     .await;
/// println!("{report:?}");
/// # }
/// ```
#[must_use]
pub struct Worker<E> {
    store: Arc<dyn InboxStore>,
    handler: Arc<dyn Handler<E>>,
    settings: Settings,
    _event: PhantomData<fn() -> E>,
}

#[derive(Debug, Clone)]
struct Settings {
    consumer: String,
    concurrency: usize,
    max_attempts: u32,
    backoff: Backoff,
    visibility_timeout: Duration,
    handler_timeout: Duration,
    poll_interval: Duration,
    shutdown_grace: Duration,
}

impl<E: WebhookPayload> Worker<E> {
    /// A worker on `store` running `handler`, with a fresh consumer name and defaults:
    /// concurrency 16, 8 attempts, [`Backoff::default`], visibility timeout 60 s, handler
    /// timeout 30 s, poll interval 200 ms, shutdown grace 10 s.
    pub fn new(store: impl InboxStore, handler: impl Handler<E>) -> Self {
        Self::from_arc(Arc::new(store), handler)
    }

    /// Like [`new`](Self::new), with a store already shared.
    pub fn from_arc(store: Arc<dyn InboxStore>, handler: impl Handler<E>) -> Self {
        Self {
            store,
            handler: Arc::new(handler),
            settings: Settings {
                consumer: format!(
                    "worker-{}-{:08x}",
                    std::process::id(),
                    (random_unit() * f64::from(u32::MAX)) as u32
                ),
                concurrency: 16,
                max_attempts: 8,
                backoff: Backoff::default(),
                visibility_timeout: Duration::from_secs(60),
                handler_timeout: Duration::from_secs(30),
                poll_interval: Duration::from_millis(200),
                shutdown_grace: Duration::from_secs(10),
            },
            _event: PhantomData,
        }
    }

    /// This member's name in the consumer group (unique per worker; keep it stable
    /// across restarts of one process slot to take back its own pending envelopes at
    /// once).
    pub fn consumer(mut self, name: impl Into<String>) -> Self {
        self.settings.consumer = name.into();
        self
    }

    /// Most handler runs at once (default 16, at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.settings.concurrency = n.max(1);
        self
    }

    /// Handler runs per envelope before it is dead-lettered (default 8, at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.settings.max_attempts = n.max(1);
        self
    }

    /// Delay between attempts (default [`Backoff::default`]).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.settings.backoff = backoff;
        self
    }

    /// How long an envelope may stay with one consumer before others reclaim it
    /// (default 60 s). Keep it above the [`handler_timeout`](Self::handler_timeout).
    pub fn visibility_timeout(mut self, d: Duration) -> Self {
        self.settings.visibility_timeout = d;
        self
    }

    /// Longest handler run; a run exceeding it counts as a failed attempt (default 30 s).
    pub fn handler_timeout(mut self, d: Duration) -> Self {
        self.settings.handler_timeout = d;
        self
    }

    /// How long to wait before asking again when the inbox was empty (default 200 ms).
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.settings.poll_interval = d;
        self
    }

    /// How long shutdown waits for in-flight runs before handing them back (default 10 s).
    pub fn shutdown_grace(mut self, d: Duration) -> Self {
        self.settings.shutdown_grace = d;
        self
    }

    /// This worker's consumer name.
    #[must_use]
    pub fn consumer_name(&self) -> &str {
        &self.settings.consumer
    }

    /// Processes envelopes until `shutdown` completes, then stops reading, lets in-flight
    /// runs finish for up to the shutdown grace, hands back the rest, and reports.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> WorkerReport {
        let ctx = Arc::new(Ctx {
            store: self.store,
            handler: self.handler,
            settings: self.settings,
            counters: Counters::default(),
        });
        let s = &ctx.settings;
        let reclaim_every = (s.visibility_timeout / 2)
            .clamp(Duration::from_millis(100), Duration::from_secs(24 * 3600));
        let mut tasks: JoinSet<()> = JoinSet::new();
        let mut held: HashMap<tokio::task::Id, EnvelopeId> = HashMap::new();
        let mut next_reclaim = Instant::now();
        tokio::pin!(shutdown);

        'run: loop {
            while let Some(done) = tasks.try_join_next_with_id() {
                forget(&mut held, done);
            }
            let free = s.concurrency.saturating_sub(tasks.len());
            if free == 0 {
                tokio::select! {
                    () = &mut shutdown => break 'run,
                    Some(done) = tasks.join_next_with_id() => forget(&mut held, done),
                }
                continue;
            }
            let mut batch = Vec::new();
            let mut failed = false;
            if Instant::now() >= next_reclaim {
                next_reclaim = Instant::now()
                    .checked_add(reclaim_every)
                    .unwrap_or_else(Instant::now);
                match ctx
                    .store
                    .reclaim(&s.consumer, s.visibility_timeout, free)
                    .await
                {
                    Ok(found) => {
                        ctx.counters
                            .reclaimed
                            .fetch_add(found.len() as u64, Ordering::Relaxed);
                        batch = found;
                    }
                    Err(err) => {
                        failed = true;
                        ctx.store_error("reclaim", &err);
                    }
                }
            }
            if !failed && batch.len() < free {
                match ctx.store.read(&s.consumer, free - batch.len()).await {
                    Ok(found) => batch.extend(found),
                    Err(err) => {
                        failed = true;
                        ctx.store_error("read", &err);
                    }
                }
            }
            if batch.is_empty() || failed {
                tokio::select! {
                    () = &mut shutdown => break 'run,
                    () = sleep(s.poll_interval) => {}
                    Some(done) = tasks.join_next_with_id() => forget(&mut held, done),
                }
            }
            for envelope in batch {
                let id = envelope.id.clone();
                let task = tasks.spawn(Arc::clone(&ctx).process(envelope));
                held.insert(task.id(), id);
            }
        }

        // Shutdown: no more reads; let runs finish, then hand back what is left.
        let grace = sleep(s.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                done = tasks.join_next_with_id() => match done {
                    Some(done) => forget(&mut held, done),
                    None => break,
                },
                () = &mut grace => break,
            }
        }
        tasks.abort_all();
        while let Some(done) = tasks.join_next_with_id().await {
            if let Ok((id, ())) = done {
                held.remove(&id);
            }
        }
        for id in held.values() {
            match ctx.store.release(&s.consumer, id).await {
                Ok(true) => Counters::bump(&ctx.counters.handed_back),
                Ok(false) => {}
                Err(err) => ctx.store_error("release", &err),
            }
        }
        ctx.counters.report()
    }
}

/// A finished task no longer holds its envelope (a panicked one is left to be
/// reclaimed after the visibility timeout).
fn forget(
    held: &mut HashMap<tokio::task::Id, EnvelopeId>,
    done: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
) {
    match done {
        Ok((id, ())) => {
            held.remove(&id);
        }
        Err(err) => {
            held.remove(&err.id());
        }
    }
}

impl<E> fmt::Debug for Worker<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

struct Ctx<E> {
    store: Arc<dyn InboxStore>,
    handler: Arc<dyn Handler<E>>,
    settings: Settings,
    counters: Counters,
}

enum Settle {
    Ack,
    Retry(Duration, String),
    Dead(String),
}

impl<E: WebhookPayload> Ctx<E> {
    async fn process(self: Arc<Self>, envelope: Envelope) {
        let s = &self.settings;
        let id = envelope.id.clone();
        let settle = if envelope.deliveries > s.max_attempts {
            Settle::Dead(format!(
                "handed out {} times without an outcome (handler crashing its worker?)",
                envelope.deliveries
            ))
        } else {
            match E::parse(&envelope.body) {
                Err(err) => Settle::Dead(format!("stored bytes do not parse: {err}")),
                Ok(event) => {
                    let attempt = envelope.attempts.saturating_add(1);
                    let run = timeout(
                        s.handler_timeout,
                        self.handler.handle(Job { event, envelope }),
                    );
                    let outcome = tokio::select! {
                        outcome = run => outcome,
                        () = self.keep_alive(&id) => {
                            // Reclaimed by another worker (we were too slow to extend):
                            // it runs the envelope now; stop here without settling.
                            Counters::bump(&self.counters.lost_ownership);
                            return;
                        }
                    };
                    let error = match outcome {
                        Ok(Ok(())) => None,
                        Ok(Err(err)) if is_permanent(&err) => {
                            Some((true, format!("permanent: {}", chain(&*err))))
                        }
                        Ok(Err(err)) => Some((false, chain(&*err))),
                        Err(_) => Some((
                            false,
                            format!("handler timed out after {:?}", s.handler_timeout),
                        )),
                    };
                    match error {
                        None => Settle::Ack,
                        Some((permanent, error)) if permanent || attempt >= s.max_attempts => {
                            Settle::Dead(error)
                        }
                        Some((_, error)) => Settle::Retry(s.backoff.delay(attempt), error),
                    }
                }
            }
        };
        let c = &self.counters;
        let (result, counter) = match &settle {
            Settle::Ack => (self.store.ack(&s.consumer, &id).await, &c.succeeded),
            Settle::Retry(delay, error) => (
                self.store
                    .retry_later(&s.consumer, &id, *delay, error)
                    .await,
                &c.retried,
            ),
            Settle::Dead(error) => (
                self.store.dead_letter(&s.consumer, &id, error).await,
                &c.dead_lettered,
            ),
        };
        match result {
            Ok(true) => Counters::bump(counter),
            // An ack of an envelope someone else settled first still means it ran.
            Ok(false) if matches!(settle, Settle::Ack) => Counters::bump(counter),
            Ok(false) => Counters::bump(&c.lost_ownership),
            Err(err) => self.store_error("settle", &err),
        }
        #[cfg(feature = "tracing")]
        match &settle {
            Settle::Ack => {}
            Settle::Retry(delay, error) => tracing::warn!(
                target: "ledgerhook",
                envelope = %id,
                ?delay,
                error = %error,
                "inbox handler failed; retrying later"
            ),
            Settle::Dead(error) => tracing::error!(
                target: "ledgerhook",
                envelope = %id,
                error = %error,
                "inbox envelope dead-lettered"
            ),
        }
    }

    /// While a handler runs, restarts the envelope's idle time every third of the
    /// visibility timeout so other workers do not reclaim it; returns only if this
    /// worker lost the envelope.
    async fn keep_alive(&self, id: &EnvelopeId) {
        let s = &self.settings;
        let every = (s.visibility_timeout / 3).max(Duration::from_millis(50));
        loop {
            sleep(every).await;
            match self.store.extend(&s.consumer, id).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(err) => self.store_error("extend", &err),
            }
        }
    }

    fn store_error(&self, during: &'static str, err: &super::InboxError) {
        Counters::bump(&self.counters.store_errors);
        #[cfg(feature = "tracing")]
        tracing::warn!(target: "ledgerhook", during, error = %chain(err), "inbox store call failed");
        #[cfg(not(feature = "tracing"))]
        let _ = (during, err);
    }
}

/// An error and its sources, `: `-separated.
fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters_within_half() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        assert_eq!(b.nominal(1), Duration::from_secs(1));
        assert_eq!(b.nominal(2), Duration::from_secs(2));
        assert_eq!(b.nominal(4), Duration::from_secs(8));
        assert_eq!(b.nominal(5), Duration::from_secs(10));
        assert_eq!(b.nominal(100), Duration::from_secs(10));
        let delays: Vec<_> = (0..50).map(|_| b.delay(3)).collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_secs(2) && *d <= Duration::from_secs(4))
        );
        assert!(delays.iter().any(|d| *d != delays[0]), "jitter varies");
    }

    #[test]
    fn permanent_is_found_through_sources() {
        let direct: BoxError = Permanent::new("bad").into();
        assert!(is_permanent(&direct));
        let plain: BoxError = "oops".into();
        assert!(!is_permanent(&plain));
        #[derive(Debug)]
        struct Wrap(Permanent);
        impl fmt::Display for Wrap {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("wrapped")
            }
        }
        impl StdError for Wrap {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let wrapped: BoxError = Wrap(Permanent::new("deep")).into();
        assert!(is_permanent(&wrapped));
    }
}
