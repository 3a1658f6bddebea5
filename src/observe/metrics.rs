//! The metrics the crate records through the [`metrics`](https://docs.rs/metrics) facade
//! (feature `metrics`).
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | [`ledgerhook_deliveries_total`](DELIVERIES_TOTAL) | counter | `provider`, `outcome` | every request that reached the verifying layer, by its [outcome](super::OUTCOMES) |
//! | [`ledgerhook_events_total`](EVENTS_TOTAL) | counter | `provider`, `event` | events parsed by the `WebhookEvent` extractor, by tag (`unknown` for tags this version does not know) |
//! | [`ledgerhook_body_size_bytes`](BODY_SIZE_BYTES) | histogram | `provider` | size of each verified body |
//! | [`ledgerhook_handler_duration_seconds`](HANDLER_DURATION_SECONDS) | histogram | `provider` | time in everything behind the verifying layer (idempotency, extractors, your handler) |
//! | [`ledgerhook_store_duration_seconds`](STORE_DURATION_SECONDS) | histogram | `provider`, `operation` | each idempotency store call: `begin`, `complete`, `release` |
//!
//! `provider` is the route's name: [`VerifyWebhookLayer::provider`](crate::layer::VerifyWebhookLayer::provider),
//! by default the preset's lower-case name (`railz`, `rootfi`, `rootfi_v3`, `bearer`, …).
//! Every other label value comes from a fixed set in this crate, so the number of series
//! is bounded whatever senders put in their requests.
//!
//! The application installs the recorder, before serving: each route registers its
//! handles on its first delivery and keeps them, so recording is the recorder's own work
//! (an atomic add per counter, a sample per histogram), not a lookup and no allocation of
//! this crate. Per accepted delivery that is two counters, two histogram samples and two
//! clock reads; `BENCHMARKS.md` has the measured cost. A route can be left out with
//! [`VerifyWebhookLayer::record_metrics(false)`](crate::layer::VerifyWebhookLayer::record_metrics).
//!
//! With `metrics-exporter-prometheus`, as the example receiver does:
//!
//! ```no_run
//! use axum::{Router, routing::{get, post}};
//! use ledgerhook::VerifyWebhookLayer;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
//! ledgerhook::observe::metrics::describe();
//! let app: Router = Router::new()
//!     .route(
//!         "/webhooks/railz",
//!         post(|| async { "ok" }).route_layer(VerifyWebhookLayer::railz("whsec")?.provider("railz-eu")),
//!     )
//!     // Off the webhook routes. (Call `prometheus.run_upkeep()` every few seconds too.)
//!     .route("/metrics", get(move || std::future::ready(prometheus.render())));
//! # let _ = app;
//! # Ok(()) }
//! ```

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ::metrics::{Counter, Histogram, SharedString, Unit};

use super::OUTCOMES;
#[cfg(feature = "idempotency")]
use super::StoreOp;

/// Counter of deliveries, labels `provider` and `outcome`.
pub const DELIVERIES_TOTAL: &str = "ledgerhook_deliveries_total";
/// Counter of parsed events, labels `provider` and `event`.
pub const EVENTS_TOTAL: &str = "ledgerhook_events_total";
/// Histogram of verified body sizes in bytes, label `provider`.
pub const BODY_SIZE_BYTES: &str = "ledgerhook_body_size_bytes";
/// Histogram of the time spent behind the verifying layer, in seconds, label `provider`.
pub const HANDLER_DURATION_SECONDS: &str = "ledgerhook_handler_duration_seconds";
/// Histogram of idempotency store call latency, in seconds, labels `provider` and
/// `operation`.
pub const STORE_DURATION_SECONDS: &str = "ledgerhook_store_duration_seconds";

/// Gauge of inbox envelopes ready or pending, label `namespace`.
#[cfg(feature = "inbox")]
pub const INBOX_DEPTH: &str = "ledgerhook_inbox_depth";
/// Gauge of inbox envelopes held by a worker right now, label `namespace`.
#[cfg(feature = "inbox")]
pub const INBOX_PENDING: &str = "ledgerhook_inbox_pending";
/// Gauge of inbox envelopes waiting for their retry time, label `namespace`.
#[cfg(feature = "inbox")]
pub const INBOX_SCHEDULED_RETRIES: &str = "ledgerhook_inbox_scheduled_retries";
/// Gauge of dead-lettered envelopes, label `namespace`.
#[cfg(feature = "inbox")]
pub const INBOX_DEAD_LETTERS: &str = "ledgerhook_inbox_dead_letters";
/// Gauge of how long the oldest ready or pending envelope has waited, in seconds (0 when
/// empty), label `namespace`.
#[cfg(feature = "inbox")]
pub const INBOX_OLDEST_AGE_SECONDS: &str = "ledgerhook_inbox_oldest_age_seconds";

/// Sets the inbox gauges of `namespace` from `stats` (from [`InboxStore::stats`]).
///
/// Call it periodically (every few seconds, from the worker's process or a scraper task):
/// the gauges are as fresh as the last call. `namespace` should be one of the inbox
/// namespaces you configured, a bounded set.
///
/// ```
/// # async fn run(store: &dyn ledgerhook::inbox::InboxStore) -> Result<(), ledgerhook::inbox::InboxError> {
/// let stats = store.stats().await?;
/// ledgerhook::observe::metrics::record_inbox_stats("railz", &stats);
/// # Ok(()) }
/// ```
///
/// [`InboxStore::stats`]: crate::inbox::InboxStore::stats
#[cfg(feature = "inbox")]
#[allow(clippy::cast_precision_loss)] // counts far below 2^52
pub fn record_inbox_stats(namespace: &str, stats: &crate::inbox::InboxStats) {
    let label = [("namespace", namespace.to_owned())];
    ::metrics::gauge!(INBOX_DEPTH, &label).set(stats.depth as f64);
    ::metrics::gauge!(INBOX_PENDING, &label).set(stats.pending as f64);
    ::metrics::gauge!(INBOX_SCHEDULED_RETRIES, &label).set(stats.scheduled_retries as f64);
    ::metrics::gauge!(INBOX_DEAD_LETTERS, &label).set(stats.dead_letters as f64);
    ::metrics::gauge!(INBOX_OLDEST_AGE_SECONDS, &label)
        .set(stats.oldest_age.map_or(0.0, |age| age.as_secs_f64()));
}

/// Registers the unit and help text of every metric above with the installed recorder
/// (exporters print them, e.g. Prometheus's `# HELP` lines). Call once, after installing
/// the recorder.
pub fn describe() {
    ::metrics::describe_counter!(
        DELIVERIES_TOTAL,
        Unit::Count,
        "Webhook requests that reached the verifying layer, by outcome."
    );
    ::metrics::describe_counter!(
        EVENTS_TOTAL,
        Unit::Count,
        "Verified webhook events parsed, by event tag (unknown for tags this version does not know)."
    );
    ::metrics::describe_histogram!(
        BODY_SIZE_BYTES,
        Unit::Bytes,
        "Size of verified webhook bodies."
    );
    ::metrics::describe_histogram!(
        HANDLER_DURATION_SECONDS,
        Unit::Seconds,
        "Time spent behind the verifying layer (idempotency, extractors, handler)."
    );
    ::metrics::describe_histogram!(
        STORE_DURATION_SECONDS,
        Unit::Seconds,
        "Latency of idempotency store calls, by operation."
    );
    #[cfg(feature = "inbox")]
    {
        ::metrics::describe_gauge!(
            INBOX_DEPTH,
            Unit::Count,
            "Inbox envelopes ready or pending."
        );
        ::metrics::describe_gauge!(
            INBOX_PENDING,
            Unit::Count,
            "Inbox envelopes held by a worker."
        );
        ::metrics::describe_gauge!(
            INBOX_SCHEDULED_RETRIES,
            Unit::Count,
            "Inbox envelopes waiting for their retry time."
        );
        ::metrics::describe_gauge!(
            INBOX_DEAD_LETTERS,
            Unit::Count,
            "Dead-lettered inbox envelopes."
        );
        ::metrics::describe_gauge!(
            INBOX_OLDEST_AGE_SECONDS,
            Unit::Seconds,
            "Age of the oldest ready or pending inbox envelope."
        );
    }
}

/// Event tags cached per route; more are recorded without caching (never happens with
/// the crate's event types, whose tags are a fixed set).
#[cfg(feature = "axum")]
const MAX_CACHED_EVENTS: usize = 32;

/// One route's metric handles, registered with the recorder on first use.
#[derive(Debug)]
pub(crate) struct RouteMetrics {
    provider: Arc<str>,
    deliveries: [OnceLock<Counter>; OUTCOMES.len()],
    #[cfg(feature = "axum")]
    events: [OnceLock<(&'static str, Counter)>; MAX_CACHED_EVENTS],
    body_size: OnceLock<Histogram>,
    handler_duration: OnceLock<Histogram>,
    #[cfg(feature = "idempotency")]
    store: [OnceLock<Histogram>; 3],
}

impl RouteMetrics {
    pub(crate) fn new(provider: Arc<str>) -> Self {
        Self {
            provider,
            deliveries: std::array::from_fn(|_| OnceLock::new()),
            #[cfg(feature = "axum")]
            events: std::array::from_fn(|_| OnceLock::new()),
            body_size: OnceLock::new(),
            handler_duration: OnceLock::new(),
            #[cfg(feature = "idempotency")]
            store: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    fn provider(&self) -> SharedString {
        SharedString::from(Arc::clone(&self.provider))
    }

    /// Counts one delivery with `outcome`, a value of [`OUTCOMES`].
    pub(crate) fn delivery(&self, outcome: &'static str) {
        // "accepted" is first: the common case costs one comparison.
        let Some(slot) = OUTCOMES.iter().position(|o| *o == outcome) else {
            debug_assert!(false, "outcome {outcome} missing from OUTCOMES");
            return;
        };
        self.deliveries[slot]
            .get_or_init(|| {
                ::metrics::counter!(DELIVERIES_TOTAL, "provider" => self.provider(), "outcome" => outcome)
            })
            .increment(1);
    }

    /// Counts one event with the bounded tag `tag`.
    #[cfg(feature = "axum")]
    pub(crate) fn event(&self, tag: &'static str) {
        // Slots fill in order and are never emptied, so a tag is found before any empty
        // slot, and two threads adding one tag meet in the same slot.
        for slot in &self.events {
            let (cached, counter) = slot.get_or_init(|| (tag, self.event_counter(tag)));
            if std::ptr::eq(*cached, tag) || *cached == tag {
                counter.increment(1);
                return;
            }
        }
        self.event_counter(tag).increment(1);
    }

    #[cfg(feature = "axum")]
    fn event_counter(&self, tag: &'static str) -> Counter {
        ::metrics::counter!(EVENTS_TOTAL, "provider" => self.provider(), "event" => tag)
    }

    pub(crate) fn body_size(&self, len: usize) {
        self.body_size
            .get_or_init(|| ::metrics::histogram!(BODY_SIZE_BYTES, "provider" => self.provider()))
            .record(len as f64);
    }

    pub(crate) fn handler_duration(&self, took: Duration) {
        self.handler_duration
            .get_or_init(
                || ::metrics::histogram!(HANDLER_DURATION_SECONDS, "provider" => self.provider()),
            )
            .record(took);
    }

    #[cfg(feature = "idempotency")]
    pub(crate) fn store_latency(&self, op: StoreOp, took: Duration) {
        let (slot, name) = match op {
            StoreOp::Begin => (0, "begin"),
            StoreOp::Complete => (1, "complete"),
            StoreOp::Release => (2, "release"),
        };
        self.store[slot]
            .get_or_init(|| {
                ::metrics::histogram!(STORE_DURATION_SECONDS, "provider" => self.provider(), "operation" => name)
            })
            .record(took);
    }
}
