//! The inbox: every envelope state on the in-memory store (tokio's paused clock, no
//! sleeps on wall time), the worker, and the receiving service. The store suites are
//! shared with `inbox_redis.rs`, which runs them against a real redis-server and a real
//! Redis Cluster.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use ledgerhook::VerifiedBytes;
use ledgerhook::idempotency::KeySource;
use ledgerhook::inbox::{
    Appended, Backoff, DUPLICATE_HEADER, Envelope, EnvelopeId, InboxError, InboxErrorKind,
    InboxFuture, InboxOutcome, InboxService, InboxStats, InboxStore, Job, MemoryInbox, NewEnvelope,
    Permanent, Retention, Worker, WorkerReport, from_service,
};
use tower::{BoxError, ServiceExt};

/// Far beyond any test's run time: "not now".
pub(crate) const LATER: Duration = Duration::from_secs(3600);

pub(crate) fn delivery(body: &'static str) -> NewEnvelope {
    NewEnvelope::new("railz", Bytes::from_static(body.as_bytes()))
}

async fn stats(store: &dyn InboxStore) -> InboxStats {
    store.stats().await.unwrap()
}

async fn read_one(store: &dyn InboxStore, consumer: &str) -> Envelope {
    let mut got = store.read(consumer, 10).await.unwrap();
    assert_eq!(got.len(), 1, "expected exactly one envelope, got {got:?}");
    got.remove(0)
}

fn stored(appended: Appended) -> EnvelopeId {
    match appended {
        Appended::Stored(id) => id,
        other => panic!("expected Stored, got {other:?}"),
    }
}

// ---------------------------------------------------------------- store suites

/// Enqueued → delivered → acknowledged, with every field kept.
pub(crate) async fn suite_enqueued_delivered_acked(store: Arc<dyn InboxStore>) {
    let sent = delivery(r#"{"data":{"event":"auth"}}"#)
        .tag("auth")
        .dedup_key("id:req-1")
        .received_at(SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123))
        .header(
            HeaderName::from_static("user-agent"),
            HeaderValue::from_static("railz/1"),
        );
    let id = stored(store.append(&sent).await.unwrap());
    let s = stats(&*store).await;
    assert_eq!((s.depth, s.pending, s.dead_letters), (1, 0, 0));
    assert!(s.oldest_age.is_some());

    let got = read_one(&*store, "w1").await;
    assert_eq!(got.id, id);
    assert_eq!(got.body, sent.body);
    assert_eq!(got.provider, "railz");
    assert_eq!(got.tag.as_deref(), Some("auth"));
    assert_eq!(got.dedup_key.as_deref(), Some("id:req-1"));
    assert_eq!(got.received_at, sent.received_at);
    assert_eq!(got.headers, sent.headers);
    assert_eq!((got.attempts, got.deliveries, got.last_error), (0, 1, None));
    assert_eq!(stats(&*store).await.pending, 1);
    // Pending for w1: nobody else reads it.
    assert!(store.read("w2", 10).await.unwrap().is_empty());

    assert!(store.ack("w1", &id).await.unwrap());
    assert!(
        !store.ack("w1", &id).await.unwrap(),
        "second ack is a no-op"
    );
    let s = stats(&*store).await;
    assert_eq!((s.depth, s.pending, s.oldest_age), (0, 0, None));
}

/// Same key and body: a duplicate, stored once. Same key, other body: a new delivery.
pub(crate) async fn suite_dedup_key_and_body(store: Arc<dyn InboxStore>) {
    let first = delivery(r#"{"n":1}"#).dedup_key("id:a");
    let id = stored(store.append(&first).await.unwrap());
    assert_eq!(
        store.append(&first).await.unwrap(),
        Appended::Duplicate(id.clone())
    );
    let other_body = delivery(r#"{"n":2}"#).dedup_key("id:a");
    assert_ne!(stored(store.append(&other_body).await.unwrap()), id);
    let no_key = delivery(r#"{"n":1}"#);
    stored(store.append(&no_key).await.unwrap());
    stored(store.append(&no_key).await.unwrap());
    assert_eq!(stats(&*store).await.depth, 4);
    // Still a duplicate after the original was processed (within the TTL).
    for e in store.read("w", 10).await.unwrap() {
        store.ack("w", &e.id).await.unwrap();
    }
    assert_eq!(store.append(&first).await.unwrap(), Appended::Duplicate(id));
    assert_eq!(stats(&*store).await.depth, 0);
}

/// Many concurrent appends of one delivery: exactly one is stored.
pub(crate) async fn suite_concurrent_duplicates_store_once(store: Arc<dyn InboxStore>) {
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .append(&delivery(r#"{"same":true}"#).dedup_key("id:same"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut stored_count = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), Appended::Stored(_)) {
            stored_count += 1;
        }
    }
    assert_eq!(stored_count, 1);
    assert_eq!(stats(&*store).await.depth, 1);
}

/// A failed run is retried: scheduled (invisible) until due, then ready with the
/// attempt counted and the error kept. `due_after` makes a retry of `LATER` due (memory:
/// advances the paused clock; Redis cannot, and passes `None` to use a zero delay).
pub(crate) async fn suite_retried(store: Arc<dyn InboxStore>, can_advance: bool) {
    let id = stored(store.append(&delivery(r#"{"r":1}"#)).await.unwrap());
    let got = read_one(&*store, "w1").await;
    // Only the holder settles.
    assert!(!store.retry_later("w2", &id, LATER, "x").await.unwrap());
    let delay = if can_advance { LATER } else { Duration::ZERO };
    assert!(
        store
            .retry_later("w1", &got.id, delay, "db down")
            .await
            .unwrap()
    );
    if can_advance {
        let s = stats(&*store).await;
        assert_eq!((s.depth, s.scheduled_retries), (0, 1));
        assert!(
            store.read("w1", 10).await.unwrap().is_empty(),
            "not before due"
        );
        tokio::time::advance(LATER).await;
    }
    let again = read_one(&*store, "w1").await;
    assert_ne!(again.id, id, "a retried envelope is a new entry");
    assert_eq!(again.body, got.body);
    assert_eq!(again.attempts, 1);
    assert_eq!(again.last_error.as_deref(), Some("db down"));
    // A retry far in the future stays scheduled.
    assert!(
        store
            .retry_later("w1", &again.id, LATER, "still down")
            .await
            .unwrap()
    );
    let s = stats(&*store).await;
    assert_eq!((s.depth, s.scheduled_retries), (0, 1));
    assert!(store.read("w1", 10).await.unwrap().is_empty());
}

/// Dead-lettered with its error, listed, inspected, then replayed (requeued) and
/// delivered again with attempts reset.
pub(crate) async fn suite_dead_lettered_and_replayed(store: Arc<dyn InboxStore>) {
    for body in [r#"{"d":1}"#, r#"{"d":2}"#, r#"{"d":3}"#] {
        store.append(&delivery(body)).await.unwrap();
    }
    for e in store.read("w1", 10).await.unwrap() {
        assert!(
            !store.dead_letter("w2", &e.id, "x").await.unwrap(),
            "not w2's"
        );
        assert!(store.dead_letter("w1", &e.id, "boom").await.unwrap());
    }
    let s = stats(&*store).await;
    assert_eq!((s.depth, s.dead_letters), (0, 3));

    let page = store.dead_letters(None, 2).await.unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].body, Bytes::from_static(br#"{"d":1}"#));
    assert_eq!(page[0].last_error.as_deref(), Some("boom"));
    assert_eq!(page[0].attempts, 1);
    let rest = store.dead_letters(Some(&page[1].id), 10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].body, Bytes::from_static(br#"{"d":3}"#));
    let inspected = store.dead_letter_by_id(&page[1].id).await.unwrap().unwrap();
    assert_eq!(inspected.body, page[1].body);

    let new_id = store.requeue(&page[0].id).await.unwrap().unwrap();
    assert!(store.requeue(&page[0].id).await.unwrap().is_none(), "moved");
    assert!(
        store
            .dead_letter_by_id(&page[0].id)
            .await
            .unwrap()
            .is_none()
    );
    let replayed = read_one(&*store, "w1").await;
    assert_eq!(replayed.id, new_id);
    assert_eq!(replayed.body, page[0].body);
    assert_eq!(replayed.attempts, 0);
    assert!(store.ack("w1", &new_id).await.unwrap());
    let s = stats(&*store).await;
    assert_eq!((s.depth, s.dead_letters), (0, 2));
}

/// A crashed consumer's envelope is reclaimed by another; the old holder can no
/// longer settle it.
pub(crate) async fn suite_reclaimed_after_crash(store: Arc<dyn InboxStore>) {
    let id = stored(store.append(&delivery(r#"{"c":1}"#)).await.unwrap());
    let _held = read_one(&*store, "crashed").await;
    assert!(
        store.reclaim("w2", LATER, 10).await.unwrap().is_empty(),
        "not idle long enough"
    );
    let taken = store.reclaim("w2", Duration::ZERO, 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].id, id);
    assert_eq!(taken[0].deliveries, 2);
    assert_eq!(taken[0].body, Bytes::from_static(br#"{"c":1}"#));
    assert!(
        !store
            .retry_later("crashed", &id, LATER, "late")
            .await
            .unwrap()
    );
    assert!(!store.dead_letter("crashed", &id, "late").await.unwrap());
    assert!(!store.release("crashed", &id).await.unwrap());
    assert!(store.ack("w2", &id).await.unwrap());
    assert_eq!(stats(&*store).await.depth, 0);
}

/// Only the holder extends its hold; an extended envelope is not reclaimed.
pub(crate) async fn suite_extended(store: Arc<dyn InboxStore>, can_advance: bool) {
    let id = stored(store.append(&delivery(r#"{"x":1}"#)).await.unwrap());
    read_one(&*store, "w1").await;
    assert!(!store.extend("w2", &id).await.unwrap());
    if can_advance {
        tokio::time::advance(Duration::from_secs(20)).await;
    }
    assert!(store.extend("w1", &id).await.unwrap());
    if can_advance {
        tokio::time::advance(Duration::from_secs(20)).await;
        // 40 s since the read, 20 s since the extension.
        let idle = Duration::from_secs(30);
        assert!(store.reclaim("w2", idle, 10).await.unwrap().is_empty());
    }
    let taken = store.reclaim("w2", Duration::ZERO, 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert!(!store.extend("w1", &id).await.unwrap(), "w2 holds it now");
}

/// A released (handed back) envelope is ready again at once, attempts unchanged.
pub(crate) async fn suite_released(store: Arc<dyn InboxStore>) {
    store.append(&delivery(r#"{"h":1}"#)).await.unwrap();
    let got = read_one(&*store, "w1").await;
    assert!(store.release("w1", &got.id).await.unwrap());
    let again = read_one(&*store, "w2").await;
    assert_eq!((again.body, again.attempts), (got.body, 0));
}

/// Depth bound: appends past it fail with `Full`, nothing is dropped.
pub(crate) async fn suite_full(store: Arc<dyn InboxStore>) {
    store.append(&delivery("1")).await.unwrap();
    store.append(&delivery("2")).await.unwrap();
    let err = store.append(&delivery("3")).await.unwrap_err();
    assert_eq!(err.kind(), InboxErrorKind::Full);
    assert_eq!(err.kind().code(), "store_full");
    assert_eq!(stats(&*store).await.depth, 2);
}

/// Dead letters beyond the retention length are trimmed.
pub(crate) async fn suite_dead_letter_trim(store: Arc<dyn InboxStore>) {
    for body in ["1", "2", "3", "4"] {
        store.append(&delivery(body)).await.unwrap();
    }
    for e in store.read("w", 10).await.unwrap() {
        store.dead_letter("w", &e.id, "x").await.unwrap();
    }
    store.trim_dead_letters().await.unwrap();
    let left = store.dead_letters(None, 10).await.unwrap();
    let bodies: Vec<_> = left.iter().map(|e| e.body.clone()).collect();
    assert_eq!(bodies, [Bytes::from_static(b"3"), Bytes::from_static(b"4")]);
}

/// The retention the `trim` suite expects.
pub(crate) fn trim_retention() -> Retention {
    Retention::default().dead_letter_max_len(Some(2))
}

/// The retention the `full` suite expects.
pub(crate) fn small_retention() -> Retention {
    Retention::default()
        .max_depth(Some(2))
        .dead_letter_max_len(Some(2))
}

// ---------------------------------------------------------------- worker suites

/// Handler runs per body, and a plan of failures per body.
#[derive(Clone, Default)]
pub(crate) struct Recorder {
    runs: Arc<Mutex<HashMap<Bytes, u32>>>,
    fail_first: Arc<AtomicU32>,
    total: Arc<AtomicU64>,
}

impl Recorder {
    /// Each body's first `n` runs fail.
    pub(crate) fn failing_first(n: u32) -> Self {
        let r = Self::default();
        r.fail_first.store(n, Ordering::SeqCst);
        r
    }

    pub(crate) fn handler(
        &self,
    ) -> impl Fn(Bytes) -> std::future::Ready<Result<(), BoxError>> + Send + Sync + 'static {
        let me = self.clone();
        move |event: Bytes| {
            let run = {
                let mut runs = me.runs.lock().unwrap();
                let n = runs.entry(event.clone()).or_default();
                *n += 1;
                *n
            };
            me.total.fetch_add(1, Ordering::SeqCst);
            std::future::ready(if event.starts_with(b"permanent") {
                Err(Permanent::new("cannot be processed").into())
            } else if run <= me.fail_first.load(Ordering::SeqCst) {
                Err(format!("run {run} failed").into())
            } else {
                Ok(())
            })
        }
    }

    pub(crate) fn runs(&self, body: &str) -> u32 {
        self.runs
            .lock()
            .unwrap()
            .get(body.as_bytes())
            .copied()
            .unwrap_or(0)
    }
}

/// Resolves once the store has no live work left (ready, pending or scheduled).
pub(crate) async fn drained(store: Arc<dyn InboxStore>) {
    loop {
        let s = store.stats().await.unwrap();
        if s.depth == 0 && s.scheduled_retries == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub(crate) fn quick_worker<H: ledgerhook::inbox::Handler<Bytes>>(
    store: &Arc<dyn InboxStore>,
    handler: H,
) -> Worker<Bytes> {
    Worker::<Bytes>::from_arc(Arc::clone(store), handler)
        .poll_interval(Duration::from_millis(5))
        .backoff(Backoff::new(
            Duration::from_millis(10),
            Duration::from_millis(40),
        ))
        .max_attempts(3)
        .concurrency(4)
}

/// Bounds a worker run so a bug fails the test instead of hanging CI.
pub(crate) async fn bounded<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(120), fut)
        .await
        .expect("worker run did not finish")
}

/// Delivered once each, retried until success, permanent errors dead-lettered at once.
pub(crate) async fn suite_worker_retries_then_succeeds(store: Arc<dyn InboxStore>) {
    for body in ["a", "b", "c", "permanent-1"] {
        store.append(&delivery(body)).await.unwrap();
    }
    let rec = Recorder::failing_first(2);
    let worker = quick_worker(&store, rec.handler());
    let report = bounded(worker.run(drained(Arc::clone(&store)))).await;
    for body in ["a", "b", "c"] {
        assert_eq!(rec.runs(body), 3, "{body}: two failures, then success");
    }
    assert_eq!(
        rec.runs("permanent-1"),
        1,
        "a permanent error is not retried"
    );
    assert_eq!(report.succeeded, 3);
    assert_eq!(report.retried, 6);
    assert_eq!(report.dead_lettered, 1);
    let dead = store.dead_letters(None, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("permanent:"),
        "{:?}",
        dead[0].last_error
    );
}

/// Attempts exhausted → dead letter with the last error; replay with a fixed handler
/// succeeds.
pub(crate) async fn suite_worker_dead_letters_then_replay(store: Arc<dyn InboxStore>) {
    store.append(&delivery("x")).await.unwrap();
    let always = Recorder::failing_first(u32::MAX);
    let report =
        bounded(quick_worker(&store, always.handler()).run(drained(Arc::clone(&store)))).await;
    assert_eq!(always.runs("x"), 3, "max_attempts");
    assert_eq!((report.retried, report.dead_lettered), (2, 1));
    let dead = store.dead_letters(None, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 3);
    assert_eq!(dead[0].last_error.as_deref(), Some("run 3 failed"));

    store.requeue(&dead[0].id).await.unwrap().unwrap();
    let fixed = Recorder::default();
    let report =
        bounded(quick_worker(&store, fixed.handler()).run(drained(Arc::clone(&store)))).await;
    assert_eq!((fixed.runs("x"), report.succeeded), (1, 1));
    assert_eq!(stats(&*store).await.dead_letters, 0);
}

/// Stored bytes that do not parse as the event type: dead-lettered at once, handler
/// never called.
pub(crate) async fn suite_worker_parse_failure_is_permanent(store: Arc<dyn InboxStore>) {
    store.append(&delivery("not json")).await.unwrap();
    let calls = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&calls);
    let worker = Worker::<ledgerhook::railz::Event>::from_arc(Arc::clone(&store), move |_e| {
        seen.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok::<(), BoxError>(()))
    })
    .poll_interval(Duration::from_millis(5));
    let report = bounded(worker.run(drained(Arc::clone(&store)))).await;
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(report.dead_lettered, 1);
    let dead = store.dead_letters(None, 10).await.unwrap();
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("stored bytes do not parse"),
        "{:?}",
        dead[0].last_error
    );
}

/// A tower `Service` as the handler gets the event and the envelope.
pub(crate) async fn suite_worker_with_tower_service(store: Arc<dyn InboxStore>) {
    store
        .append(&delivery("svc").tag("t1").dedup_key("id:svc"))
        .await
        .unwrap();
    type Seen = Vec<(Bytes, Option<String>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let sink = Arc::clone(&seen);
    let service = tower::service_fn(move |job: Job<Bytes>| {
        sink.lock()
            .unwrap()
            .push((job.event.clone(), job.envelope.tag.clone()));
        std::future::ready(Ok::<_, BoxError>(()))
    });
    let report =
        bounded(quick_worker(&store, from_service(service)).run(drained(Arc::clone(&store)))).await;
    assert_eq!(report.succeeded, 1);
    assert_eq!(
        *seen.lock().unwrap(),
        [(Bytes::from_static(b"svc"), Some("t1".to_owned()))]
    );
}

// ---------------------------------------------------------------- memory: every state

macro_rules! memory_suite {
    ($($name:ident => $suite:expr),* $(,)?) => {$(
        #[tokio::test(start_paused = true)]
        async fn $name() {
            let f = $suite;
            f(Arc::new(MemoryInbox::new()) as Arc<dyn InboxStore>).await;
        }
    )*};
}

memory_suite! {
    memory_enqueued_delivered_acked => suite_enqueued_delivered_acked,
    memory_dedup_key_and_body => suite_dedup_key_and_body,
    memory_concurrent_duplicates_store_once => suite_concurrent_duplicates_store_once,
    memory_retried => |s: Arc<dyn InboxStore>| suite_retried(s, true),
    memory_dead_lettered_and_replayed => suite_dead_lettered_and_replayed,
    memory_reclaimed_after_crash => suite_reclaimed_after_crash,
    memory_released => suite_released,
    memory_extended => |s: Arc<dyn InboxStore>| suite_extended(s, true),
    memory_worker_retries_then_succeeds => suite_worker_retries_then_succeeds,
    memory_worker_dead_letters_then_replay => suite_worker_dead_letters_then_replay,
    memory_worker_parse_failure_is_permanent => suite_worker_parse_failure_is_permanent,
    memory_worker_with_tower_service => suite_worker_with_tower_service,
}

#[tokio::test(start_paused = true)]
async fn memory_full() {
    suite_full(Arc::new(MemoryInbox::with_retention(small_retention()))).await;
}

#[tokio::test(start_paused = true)]
async fn memory_dead_letter_trim() {
    suite_dead_letter_trim(Arc::new(MemoryInbox::with_retention(trim_retention()))).await;
    // By age: a dead letter older than the retention is trimmed, a newer one kept.
    let store = MemoryInbox::with_retention(
        Retention::default().dead_letter_max_age(Some(Duration::from_secs(60))),
    );
    store.append(&delivery("old")).await.unwrap();
    let e = read_one(&store, "w").await;
    store.dead_letter("w", &e.id, "x").await.unwrap();
    tokio::time::advance(Duration::from_secs(61)).await;
    store.append(&delivery("new")).await.unwrap();
    let e = read_one(&store, "w").await;
    store.dead_letter("w", &e.id, "x").await.unwrap();
    assert_eq!(store.trim_dead_letters().await.unwrap(), 1);
    let left = store.dead_letters(None, 10).await.unwrap();
    assert_eq!(left[0].body, Bytes::from_static(b"new"));
}

#[tokio::test(start_paused = true)]
async fn memory_dedup_expires_after_ttl() {
    let store =
        MemoryInbox::with_retention(Retention::default().dedup_ttl(Duration::from_secs(10)));
    let d = delivery("{}").dedup_key("id:1");
    stored(store.append(&d).await.unwrap());
    tokio::time::advance(Duration::from_secs(9)).await;
    assert!(matches!(
        store.append(&d).await.unwrap(),
        Appended::Duplicate(_)
    ));
    tokio::time::advance(Duration::from_secs(1)).await;
    stored(store.append(&d).await.unwrap());
}

#[tokio::test(start_paused = true)]
async fn memory_visibility_timeout_and_oldest_age_follow_the_clock() {
    let store = MemoryInbox::new();
    store.append(&delivery("v")).await.unwrap();
    tokio::time::advance(Duration::from_secs(5)).await;
    assert_eq!(stats(&store).await.oldest_age, Some(Duration::from_secs(5)));
    read_one(&store, "crashed").await;
    tokio::time::advance(Duration::from_secs(29)).await;
    assert!(
        store
            .reclaim("w", Duration::from_secs(30), 10)
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(
        store
            .reclaim("w", Duration::from_secs(30), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A worker takes over what a crashed worker held, once the visibility timeout passed.
#[tokio::test(start_paused = true)]
async fn memory_worker_reclaims_after_a_crash() {
    let store: Arc<dyn InboxStore> = Arc::new(MemoryInbox::new());
    store.append(&delivery("held")).await.unwrap();
    store.append(&delivery("fresh")).await.unwrap();
    // The crashed worker read one and never settled it.
    let held = store.read("crashed", 1).await.unwrap();
    assert_eq!(held[0].body, Bytes::from_static(b"held"));
    let rec = Recorder::default();
    let started = tokio::time::Instant::now();
    let report = bounded(
        quick_worker(&store, rec.handler())
            .visibility_timeout(Duration::from_secs(30))
            .run(drained(Arc::clone(&store))),
    )
    .await;
    assert_eq!((rec.runs("held"), rec.runs("fresh")), (1, 1));
    assert_eq!((report.reclaimed, report.succeeded), (1, 2));
    assert!(
        started.elapsed() >= Duration::from_secs(30),
        "not before the timeout"
    );
}

/// A worker that crashes its process on an envelope (simulated: it is handed out again
/// and again without an outcome) ends in the dead letters, not in a loop.
#[tokio::test(start_paused = true)]
async fn memory_poison_envelope_is_dead_lettered_after_max_deliveries() {
    let store: Arc<dyn InboxStore> = Arc::new(MemoryInbox::new());
    store.append(&delivery("poison")).await.unwrap();
    store.read("crash-0", 1).await.unwrap();
    for n in 1..=3 {
        assert_eq!(
            store
                .reclaim(&format!("crash-{n}"), Duration::ZERO, 1)
                .await
                .unwrap()
                .len(),
            1
        );
    }
    let rec = Recorder::default();
    let report = bounded(
        quick_worker(&store, rec.handler())
            .visibility_timeout(Duration::ZERO)
            .run(drained(Arc::clone(&store))),
    )
    .await;
    assert_eq!(rec.runs("poison"), 0);
    assert_eq!(report.dead_lettered, 1);
}

/// Shutdown waits for in-flight runs up to the grace, then hands the rest back
/// unprocessed (ready at once for another worker, attempts unchanged).
#[tokio::test(start_paused = true)]
async fn memory_graceful_shutdown_hands_back_in_flight_work() {
    let store: Arc<dyn InboxStore> = Arc::new(MemoryInbox::new());
    store.append(&delivery("slow")).await.unwrap();
    store.append(&delivery("quick")).await.unwrap();
    let started = Arc::new(tokio::sync::Notify::new());
    let signal = Arc::clone(&started);
    let handler = move |event: Bytes| {
        let signal = Arc::clone(&signal);
        async move {
            if event == "slow" {
                signal.notify_one();
                std::future::pending::<()>().await;
            }
            Ok::<(), BoxError>(())
        }
    };
    let worker = quick_worker(&store, handler).shutdown_grace(Duration::from_secs(5));
    let report: WorkerReport = bounded(worker.run(async move { started.notified().await })).await;
    assert_eq!(report.handed_back, 1);
    let s = stats(&*store).await;
    assert_eq!((s.depth, s.pending), (1, 0), "slow is ready again");
    let back = read_one(&*store, "next").await;
    assert_eq!((back.body, back.attempts), (Bytes::from_static(b"slow"), 0));
}

/// Several workers share one store: each envelope handled once when nothing fails.
#[tokio::test(start_paused = true)]
async fn memory_workers_share_one_store() {
    let store: Arc<dyn InboxStore> = Arc::new(MemoryInbox::new());
    let bodies: Vec<String> = (0..200).map(|i| format!("{{\"n\":{i}}}")).collect();
    for b in &bodies {
        store
            .append(&NewEnvelope::new("railz", Bytes::from(b.clone())))
            .await
            .unwrap();
    }
    let rec = Recorder::default();
    let a = quick_worker(&store, rec.handler()).consumer("a");
    let b = quick_worker(&store, rec.handler()).consumer("b");
    let (ra, rb) = bounded(async {
        tokio::join!(
            a.run(drained(Arc::clone(&store))),
            b.run(drained(Arc::clone(&store)))
        )
    })
    .await;
    assert_eq!(ra.succeeded + rb.succeeded, 200);
    assert!(bodies.iter().all(|b| rec.runs(b) == 1));
}

// ---------------------------------------------------------------- the receiving service

fn verified(body: &'static [u8]) -> Request<Full<Bytes>> {
    let mut req = Request::post("/webhooks/railz")
        .header("user-agent", "railz/1")
        .header("x-other", "dropped")
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    // What the verifying layer leaves in the request: the bytes it verified.
    let verifier = ledgerhook::Verifier::railz("inbox-test-secret").unwrap();
    let headers = verifier.sign(body, std::time::SystemTime::now());
    req.extensions_mut()
        .insert(VerifiedBytes::verify(&verifier, &headers, Bytes::from_static(body)).unwrap());
    req
}

/// The stable code of the refusal (the `Rejection` in the response extensions).
fn refusal_code<B>(res: &http::Response<B>) -> &'static str {
    res.extensions()
        .get::<ledgerhook::Rejection>()
        .expect("a refusal carries its Rejection")
        .kind()
        .code()
}

async fn body_text(res: http::Response<Full<Bytes>>) -> String {
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn service_stores_then_answers_duplicates() {
    let store = MemoryInbox::new();
    let service = InboxService::new("railz", store.clone())
        .key(KeySource::railz())
        .keep_header(http::header::USER_AGENT)
        .tag_with(|_| Some("auth".to_owned()));
    let body = br#"{"data":{"event":"auth"},"requestId":"r-1"}"#;

    let res = service.clone().oneshot(verified(body)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.extensions().get(), Some(&InboxOutcome::Stored));
    assert!(res.headers().get(DUPLICATE_HEADER).is_none());
    assert_eq!(body_text(res).await, r#"{"stored":true}"#);

    let res = service.clone().oneshot(verified(body)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.extensions().get(), Some(&InboxOutcome::Duplicate));
    assert_eq!(res.headers()[DUPLICATE_HEADER], "true");
    assert_eq!(body_text(res).await, r#"{"duplicate":true}"#);

    let stored = read_one(&store, "w").await;
    assert_eq!(stored.body, Bytes::from_static(body));
    assert_eq!(stored.dedup_key.as_deref(), Some("id:r-1:auth"));
    assert_eq!(stored.tag.as_deref(), Some("auth"));
    assert_eq!(stored.provider, "railz");
    assert_eq!(stored.headers.len(), 1, "only the kept header");
    assert_eq!(stored.headers["user-agent"], "railz/1");
}

#[tokio::test]
async fn service_refuses_unverified_requests() {
    let store = MemoryInbox::new();
    let service = InboxService::new("railz", store.clone());
    let req = Request::post("/")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let res = service.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        res.extensions().get(),
        Some(&InboxOutcome::MissingVerifiedBytes)
    );
    assert_eq!(refusal_code(&res), "missing_layer");
    assert_eq!(stats(&store).await.depth, 0, "nothing unverified is stored");
}

/// A store that always fails with `kind`.
#[derive(Debug)]
struct Failing(InboxErrorKind);

impl InboxStore for Failing {
    fn append<'a>(&'a self, _: &'a NewEnvelope) -> InboxFuture<'a, Appended> {
        Box::pin(async move { Err(InboxError::with_source(self.0, "connection refused")) })
    }
    fn read<'a>(&'a self, _: &'a str, _: usize) -> InboxFuture<'a, Vec<Envelope>> {
        Box::pin(async move { Err(InboxError::new(self.0)) })
    }
    fn reclaim<'a>(&'a self, _: &'a str, _: Duration, _: usize) -> InboxFuture<'a, Vec<Envelope>> {
        Box::pin(async move { Err(InboxError::new(self.0)) })
    }
    fn ack<'a>(&'a self, _: &'a str, _: &'a EnvelopeId) -> InboxFuture<'a, bool> {
        Box::pin(async move { Err(InboxError::new(self.0)) })
    }
    fn retry_later<'a>(
        &'a self,
        _: &'a str,
        _: &'a EnvelopeId,
        _: Duration,
        _: &'a str,
    ) -> InboxFuture<'a, bool> {
        Box::pin(async move { Err(InboxError::new(self.0)) })
    }
    fn dead_letter<'a>(
        &'a self,
        _: &'a str,
        _: &'a EnvelopeId,
        _: &'a str,
    ) -> InboxFuture<'a, bool> {
        Box::pin(async move { Err(InboxError::new(self.0)) })
    }
    fn extend<'a>(&'a self, _: &'a str, _: &'a EnvelopeId) -> InboxFuture<'a, bool> {
        Box::pin(async move { Err(InboxError::new(self.0)) })
    }
    fn release<'a>(&'a self, _: &'a str, _: &'a EnvelopeId) -> InboxFuture<'a, bool> {
        Box::pin(async move { Err(InboxError::new(self.0)) })
    }
    fn dead_letters<'a>(
        &'a self,
        _: Option<&'a EnvelopeId>,
        _: usize,
    ) -> InboxFuture<'a, Vec<Envelope>> {
        Box::pin(async move { Err(InboxError::new(self.0)) })
    }
    fn dead_letter_by_id<'a>(&'a self, _: &'a EnvelopeId) -> InboxFuture<'a, Option<Envelope>> {
        Box::pin(async move { Err(InboxError::new(self.0)) })
    }
    fn requeue<'a>(&'a self, _: &'a EnvelopeId) -> InboxFuture<'a, Option<EnvelopeId>> {
        Box::pin(async move { Err(InboxError::new(self.0)) })
    }
    fn stats(&self) -> InboxFuture<'_, InboxStats> {
        Box::pin(async move { Err(InboxError::new(self.0)) })
    }
    fn trim_dead_letters(&self) -> InboxFuture<'_, u64> {
        Box::pin(async move { Err(InboxError::new(self.0)) })
    }
}

#[tokio::test]
async fn service_answers_503_with_retry_after_when_the_store_fails() {
    for (kind, code, outcome) in [
        (
            InboxErrorKind::Unavailable,
            "store_unavailable",
            InboxOutcome::StoreUnavailable,
        ),
        (InboxErrorKind::Full, "store_full", InboxOutcome::StoreFull),
    ] {
        let service =
            InboxService::new("railz", Failing(kind)).retry_after(Duration::from_millis(1500));
        let res = service.oneshot(verified(b"{}")).await.unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[http::header::RETRY_AFTER], "2");
        assert_eq!(res.extensions().get(), Some(&outcome));
        assert_eq!(refusal_code(&res), code);
    }
}

/// A worker keeps going through store outages (counts them) and stops on shutdown.
#[tokio::test(start_paused = true)]
async fn worker_survives_store_errors() {
    let store: Arc<dyn InboxStore> = Arc::new(Failing(InboxErrorKind::Unavailable));
    let rec = Recorder::default();
    let report = quick_worker(&store, rec.handler())
        .run(tokio::time::sleep(Duration::from_secs(1)))
        .await;
    assert!(report.store_errors >= 10, "{report:?}");
    assert_eq!(report.succeeded, 0);
}

/// The real verifying layer in front: only signed deliveries reach the inbox.
#[cfg(feature = "axum")]
#[tokio::test]
async fn behind_the_verifying_layer_only_signed_deliveries_are_stored() {
    use ledgerhook::{Verifier, VerifyWebhookLayer};
    use tower::ServiceBuilder;

    let store = MemoryInbox::new();
    let secret = "inbox-test-secret";
    let app = ServiceBuilder::new()
        .layer(VerifyWebhookLayer::railz(secret).unwrap())
        .service(InboxService::new("railz", store.clone()));
    let body = br#"{"data":{"event":"auth","connectionId":"CON-1","serviceName":"xero"}}"#;
    let headers = Verifier::railz(secret)
        .unwrap()
        .sign(body, SystemTime::now());

    let mut signed = Request::post("/")
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    *signed.headers_mut() = headers;
    let res = app.clone().oneshot(signed).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let unsigned = Request::post("/")
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    let res = app.oneshot(unsigned).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let stored = read_one(&store, "w").await;
    assert_eq!(stored.body, Bytes::from_static(body));
    assert_eq!(stats(&store).await.depth, 1);
}

/// Durations are user input: the largest ones saturate instead of panicking.
#[tokio::test(start_paused = true)]
async fn huge_durations_do_not_panic() {
    let store: Arc<dyn InboxStore> = Arc::new(MemoryInbox::with_retention(
        Retention::default()
            .dedup_ttl(Duration::MAX)
            .dead_letter_max_age(Some(Duration::MAX)),
    ));
    let d = delivery("{}").dedup_key("id:max");
    store.append(&d).await.unwrap();
    assert!(matches!(
        store.append(&d).await.unwrap(),
        Appended::Duplicate(_)
    ));
    let e = read_one(&*store, "w").await;
    assert!(
        store
            .reclaim("w2", Duration::MAX, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .retry_later("w", &e.id, Duration::MAX, "x")
            .await
            .unwrap()
    );
    assert_eq!(stats(&*store).await.scheduled_retries, 1);
    store.trim_dead_letters().await.unwrap();
    let rec = Recorder::default();
    let report = quick_worker(&store, rec.handler())
        .visibility_timeout(Duration::MAX)
        .handler_timeout(Duration::MAX)
        .shutdown_grace(Duration::MAX)
        .run(tokio::time::sleep(Duration::from_secs(1)))
        .await;
    assert_eq!(report.succeeded, 0);
}

/// A handler running longer than the visibility timeout keeps its envelope: the worker
/// extends the hold, so another worker's reclaim finds nothing and the event runs once.
#[tokio::test(start_paused = true)]
async fn memory_long_handler_is_not_reclaimed() {
    let store: Arc<dyn InboxStore> = Arc::new(MemoryInbox::new());
    store.append(&delivery("long")).await.unwrap();
    let runs = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&runs);
    let handler = move |_e: Bytes| {
        counted.fetch_add(1, Ordering::SeqCst);
        async {
            tokio::time::sleep(Duration::from_secs(100)).await;
            Ok::<(), BoxError>(())
        }
    };
    let thief_store = Arc::clone(&store);
    let thief = tokio::spawn(async move {
        let mut stolen = 0;
        for _ in 0..12 {
            tokio::time::sleep(Duration::from_secs(10)).await;
            stolen += thief_store
                .reclaim("thief", Duration::from_secs(30), 10)
                .await
                .unwrap()
                .len();
        }
        stolen
    });
    let report = bounded(
        quick_worker(&store, handler)
            .visibility_timeout(Duration::from_secs(30))
            .handler_timeout(Duration::from_secs(300))
            .run(drained(Arc::clone(&store))),
    )
    .await;
    assert_eq!(thief.await.unwrap(), 0, "reclaimed while its handler ran");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(report.succeeded, 1);
}
