//! The idempotency `Layer` and its configuration.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use tower::Layer;

use super::key::KeySource;
use super::memory::MemoryStore;
use super::service::Idempotency;
use super::store::Store;

/// Answers duplicate deliveries without calling the handler, so each event is handled once.
///
/// Must run **after** the verifying layer (it reads the
/// [`VerifiedBytes`](crate::VerifiedBytes) that layer leaves in the request extensions;
/// without them it answers `500`). See the [module docs](crate::idempotency) for the
/// semantics and examples.
///
/// Defaults: [`KeySource::body_hash`], namespace `"default"`, keys from ids kept for
/// [`DEFAULT_COMPLETED_TTL`](Self::DEFAULT_COMPLETED_TTL) (24 h), keys from the body hash
/// for the key source's [`body_hash_window`](KeySource::body_hash_window), leases of
/// [`DEFAULT_LEASE`](Self::DEFAULT_LEASE) (30 s), [`OutagePolicy::FailClosed`],
/// [`Completion::success_only`].
#[derive(Clone)]
#[must_use]
pub struct IdempotencyLayer {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) config: Arc<Config>,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) key: KeySource,
    pub(crate) namespace: String,
    pub(crate) completed_ttl: Duration,
    pub(crate) body_hash_ttl: Option<Duration>,
    pub(crate) lease: Duration,
    pub(crate) outage: OutagePolicy,
    pub(crate) completion: Completion,
}

impl Config {
    /// How long a completed record of this kind of key is kept.
    pub(crate) fn ttl(&self, from_body_hash: bool) -> Duration {
        if from_body_hash {
            self.body_hash_ttl
                .unwrap_or_else(|| self.key.body_hash_window())
        } else {
            self.completed_ttl
        }
    }
}

/// Which handler answers complete a delivery's record (later duplicates are then answered
/// by the layer); every other answer, and every error, releases it so the sender's retry
/// is handled.
///
/// The default, [`success_only`](Self::success_only), completes on `2xx` only: a handler
/// that refuses an event (say `422` because it arrived before the record it refers to)
/// gets it again on the provider's retry.
///
/// ```
/// use http::StatusCode;
/// use ledgerhook::idempotency::{Completion, IdempotencyLayer};
///
/// // A 4xx is final for this handler: do not process the retries.
/// let layer = IdempotencyLayer::in_memory().complete_on(Completion::success_and_client_errors());
/// // Or any rule.
/// let custom = Completion::when(|status| status.is_success() || status == StatusCode::GONE);
/// # let _ = (layer, custom);
/// ```
#[derive(Clone)]
pub struct Completion(Arc<dyn Fn(StatusCode) -> bool + Send + Sync>);

impl Completion {
    /// Only a `2xx` completes (the default).
    #[must_use]
    pub fn success_only() -> Self {
        Self::when(|status| status.is_success())
    }

    /// `2xx` and `4xx` complete, except `408` and `429`, which ask for a retry.
    #[must_use]
    pub fn success_and_client_errors() -> Self {
        Self::when(|status| {
            status.is_success()
                || (status.is_client_error()
                    && status != StatusCode::REQUEST_TIMEOUT
                    && status != StatusCode::TOO_MANY_REQUESTS)
        })
    }

    /// The statuses for which `completes` returns `true` complete.
    #[must_use]
    pub fn when(completes: impl Fn(StatusCode) -> bool + Send + Sync + 'static) -> Self {
        Self(Arc::new(completes))
    }

    /// Whether a handler answer with `status` completes the record.
    #[must_use]
    pub fn completes(&self, status: StatusCode) -> bool {
        (self.0)(status)
    }
}

impl Default for Completion {
    fn default() -> Self {
        Self::success_only()
    }
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Completion").finish_non_exhaustive()
    }
}

/// What the layer does when the [`Store`] cannot answer (down, timed out, or full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OutagePolicy {
    /// Answer `503 Service Unavailable` (with `Retry-After`) without calling the
    /// handler, so the sender retries later. Nothing is lost as long as the outage is
    /// shorter than the sender's retry schedule; nothing is handled twice. The default.
    #[default]
    FailClosed,
    /// Call the handler without deduplication when the store is down. Nothing is refused,
    /// but a duplicate that arrives during the outage is handled again. A *full* store is
    /// still answered `503`: deduplication then works, it only has no room, and handling
    /// without a record would let replays through.
    FailOpen,
}

/// Shortest lease and TTL: stores need a positive expiry.
const MIN_DURATION: Duration = Duration::from_millis(1);

impl IdempotencyLayer {
    /// How long a completed key taken from an id is remembered: 24 hours.
    ///
    /// This is far above the 5-minute replay tolerance of the verifying layer (a
    /// completed TTL shorter than the tolerance would let a captured delivery be replayed
    /// and handled again once its key expired) and covers the providers' retry schedules.
    /// Keys from the body hash use the much shorter
    /// [`KeySource::body_hash_window`] instead.
    pub const DEFAULT_COMPLETED_TTL: Duration = Duration::from_secs(24 * 60 * 60);

    /// How long an in-flight claim lasts before another delivery may take over: 30 seconds.
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

    /// A layer keeping its records in `store`.
    ///
    /// Clone a [`MemoryStore`] or a `RedisStore` to share it between layers; an
    /// `Arc<dyn Store>` is a `Store` too.
    pub fn new(store: impl Store) -> Self {
        Self::from_arc(Arc::new(store))
    }

    /// A layer keeping its records in a shared `store`.
    pub fn from_arc(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            config: Arc::new(Config {
                key: KeySource::default(),
                namespace: "default".to_owned(),
                completed_ttl: Self::DEFAULT_COMPLETED_TTL,
                body_hash_ttl: None,
                lease: Self::DEFAULT_LEASE,
                outage: OutagePolicy::default(),
                completion: Completion::default(),
            }),
        }
    }

    /// A layer with its own [`MemoryStore::new`]: no setup, one process only.
    pub fn in_memory() -> Self {
        Self::new(MemoryStore::new())
    }

    /// Where each delivery's key comes from (default: [`KeySource::body_hash`]).
    pub fn key(mut self, source: KeySource) -> Self {
        Arc::make_mut(&mut self.config).key = source;
        self
    }

    /// A prefix that keeps this route's keys apart from other routes sharing the store
    /// (default `"default"`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.config).namespace = namespace.into();
        self
    }

    /// How long a completed key taken from an id is remembered (default
    /// [`DEFAULT_COMPLETED_TTL`](Self::DEFAULT_COMPLETED_TTL); at least 1 ms).
    ///
    /// Keep it above the verifying layer's replay tolerance and the senders' retry
    /// window: a duplicate arriving after the TTL is handled again.
    pub fn completed_ttl(mut self, ttl: Duration) -> Self {
        Arc::make_mut(&mut self.config).completed_ttl = ttl.max(MIN_DURATION);
        self
    }

    /// How long a completed key taken from the body hash is remembered (default: the key
    /// source's [`body_hash_window`](KeySource::body_hash_window); at least 1 ms).
    ///
    /// Shorter lets a genuine event whose bytes equal an earlier one through sooner;
    /// longer catches retries and replays that come later. Keep it above the sender's
    /// retry horizon and the verifying layer's replay tolerance.
    pub fn body_hash_ttl(mut self, ttl: Duration) -> Self {
        Arc::make_mut(&mut self.config).body_hash_ttl = Some(ttl.max(MIN_DURATION));
        self
    }

    /// Which handler answers complete the record (default [`Completion::success_only`]:
    /// `2xx`); every other answer releases it so the sender's retry is handled.
    pub fn complete_on(mut self, completion: Completion) -> Self {
        Arc::make_mut(&mut self.config).completion = completion;
        self
    }

    /// How long an in-flight claim lasts (default [`DEFAULT_LEASE`](Self::DEFAULT_LEASE);
    /// at least 1 ms).
    ///
    /// Keep it above the handler's worst-case running time (put a timeout inside the
    /// layer): a duplicate arriving after the lease ran out while the first delivery is
    /// still being handled is handled in parallel. It is also how long a key stays
    /// blocked (`409`) when an instance dies mid-handler (a response future that is
    /// dropped, e.g. because the client went away, releases its claim at once).
    pub fn lease(mut self, lease: Duration) -> Self {
        Arc::make_mut(&mut self.config).lease = lease.max(MIN_DURATION);
        self
    }

    /// What to do when the store cannot answer (default [`OutagePolicy::FailClosed`]).
    pub fn on_store_error(mut self, policy: OutagePolicy) -> Self {
        Arc::make_mut(&mut self.config).outage = policy;
        self
    }
}

impl<S> Layer<S> for IdempotencyLayer {
    type Service = Idempotency<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Idempotency::new(inner, Arc::clone(&self.store), Arc::clone(&self.config))
    }
}

impl fmt::Debug for IdempotencyLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdempotencyLayer")
            .field("key", &self.config.key)
            .field("namespace", &self.config.namespace)
            .field("completed_ttl", &self.config.completed_ttl)
            .field("body_hash_ttl", &self.config.ttl(true))
            .field("lease", &self.config.lease)
            .field("on_store_error", &self.config.outage)
            .finish_non_exhaustive()
    }
}
