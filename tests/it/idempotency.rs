//! The idempotency layer against the in-memory store and a failing store.
//!
//! The `suite_*` functions take any store, so `idempotency_redis` runs them against a real
//! Redis too. No test depends on real elapsed time: the in-memory tests run on tokio's
//! paused clock ([`Time::Paused`], which the `MemoryStore` reads), the Redis ones let Redis
//! expire short leases and TTLs and poll for it with a bound ([`Time::Redis`]); handlers
//! that must still be running wait on a [`Gate`] instead of sleeping.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use ledgerhook::VerifiedBytes;
use ledgerhook::idempotency::Idempotency;
use ledgerhook::idempotency::{
    Begin, Completion, DUPLICATE_HEADER, IdempotencyKey, IdempotencyLayer, KeySource, MemoryStore,
    OutagePolicy, Outcome, RecordId, Store, StoreError, StoreErrorKind, StoreFuture, Token,
};
use tokio::sync::Semaphore;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, Layer, ServiceExt, service_fn};

/// The fake handler behind the layer.
pub(crate) type Svc = Idempotency<BoxCloneSyncService<Request<()>, Response<Bytes>, BoxError>>;

/// How a suite lets time pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Time {
    /// tokio's paused clock, which the `MemoryStore` reads: `advance` moves it.
    Paused,
    /// A real Redis expires keys on its own clock: poll for it, with a bound.
    Redis,
}

/// Holds handlers inside their call until the test opens it.
#[derive(Clone)]
pub(crate) struct Gate(Arc<Semaphore>);

impl Gate {
    pub(crate) fn closed() -> Self {
        Self(Arc::new(Semaphore::new(0)))
    }
    /// Lets every waiting (and future) handler through.
    pub(crate) fn open(&self) {
        self.0.add_permits(Semaphore::MAX_PERMITS / 2);
    }
    async fn pass(&self) {
        self.0.acquire().await.expect("gate never closed").forget();
    }
}

// What the fake handler does on each call.
#[derive(Clone)]
pub(crate) struct Handler {
    calls: Arc<AtomicUsize>,
    keys: Arc<Mutex<Vec<String>>>,
    bodies: Arc<Mutex<Vec<Bytes>>>,
    /// Status of the n-th call (the last one repeats); `None` means the handler errors.
    statuses: Arc<Vec<Option<StatusCode>>>,
    gate: Option<Gate>,
}

impl Handler {
    pub(crate) fn ok() -> Self {
        Self::answering(vec![Some(StatusCode::OK)])
    }

    pub(crate) fn answering(statuses: Vec<Option<StatusCode>>) -> Self {
        Self {
            calls: Arc::default(),
            keys: Arc::default(),
            bodies: Arc::default(),
            statuses: Arc::new(statuses),
            gate: None,
        }
    }

    /// Each call waits at `gate` before answering.
    pub(crate) fn gated(mut self, gate: &Gate) -> Self {
        self.gate = Some(gate.clone());
        self
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub(crate) fn keys(&self) -> Vec<String> {
        self.keys.lock().unwrap().clone()
    }

    pub(crate) fn bodies(&self) -> Vec<Bytes> {
        self.bodies.lock().unwrap().clone()
    }

    /// Waits (without a clock) until `n` calls have entered the handler.
    pub(crate) async fn entered(&self, n: usize) {
        for _ in 0..100_000 {
            if self.calls() >= n {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the handler was not entered {n} times");
    }

    /// The handler as a service behind `layer`.
    pub(crate) fn behind(&self, layer: &IdempotencyLayer) -> Svc {
        let this = self.clone();
        layer.layer(BoxCloneSyncService::new(service_fn(
            move |req: Request<()>| {
                let this = this.clone();
                async move {
                    let n = this.calls.fetch_add(1, Ordering::SeqCst);
                    if let Some(key) = req.extensions().get::<IdempotencyKey>() {
                        this.keys.lock().unwrap().push(key.to_string());
                    }
                    if let Some(body) = req.extensions().get::<VerifiedBytes>() {
                        this.bodies.lock().unwrap().push(body.bytes().clone());
                    }
                    if let Some(gate) = &this.gate {
                        gate.pass().await;
                    }
                    let status = this.statuses[n.min(this.statuses.len() - 1)];
                    match status {
                        Some(status) => {
                            let mut res = Response::new(Bytes::from(format!("handled #{n}")));
                            *res.status_mut() = status;
                            Ok::<_, BoxError>(res)
                        }
                        None => Err("handler failed".into()),
                    }
                }
            },
        )))
    }
}

/// Boxes a response future before it is moved into an `async` block: keeps the
/// spawned future's `Send` proof simple for the compiler (a future does nothing until
/// polled, so building it early changes nothing).
pub(crate) fn boxed(
    fut: impl std::future::Future<Output = Result<Response<Bytes>, BoxError>> + Send + 'static,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<Bytes>, BoxError>> + Send>>
{
    Box::pin(fut)
}

/// A request as the verifying layer would hand it on.
pub(crate) fn delivery(body: &str) -> Request<()> {
    let mut req = Request::post("/webhooks/railz").body(()).unwrap();
    req.extensions_mut()
        .insert(verified(Bytes::copy_from_slice(body.as_bytes())));
    req
}

/// `bytes` as the verifying layer leaves them (only verification creates `VerifiedBytes`).
pub(crate) fn verified(bytes: Bytes) -> VerifiedBytes {
    let verifier = ledgerhook::Verifier::bearer("idempotency-test-token").unwrap();
    let headers = verifier.sign(&bytes, std::time::SystemTime::now());
    VerifiedBytes::verify(&verifier, &headers, bytes).unwrap()
}

pub(crate) fn outcome<B>(res: &Response<B>) -> Option<Outcome> {
    res.extensions().get::<Outcome>().copied()
}

pub(crate) fn is_duplicate<B>(res: &Response<B>) -> bool {
    res.status() == StatusCode::OK
        && res
            .headers()
            .get(DUPLICATE_HEADER)
            .is_some_and(|v| v == "true")
        && outcome(res) == Some(Outcome::Duplicate)
}

/// A run-unique marker, so tests sharing a Redis never see each other's keys.
/// The stable code of the refusal the layer answered with (from the response extensions).
pub(crate) fn refusal_code<B>(res: &Response<B>) -> &'static str {
    res.extensions()
        .get::<ledgerhook::Rejection>()
        .expect("a refusal carries its Rejection")
        .kind()
        .code()
}

pub(crate) fn run_id(label: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{label}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A Railz-shaped body unique to this test run.
pub(crate) fn unique(label: &str) -> String {
    format!(
        r#"{{"requestId":"{}","data":{{"event":"auth"}}}}"#,
        run_id(label)
    )
}

/// Sends `body` until the layer processes it again (its record expired), letting `time`
/// pass; asserts that until then it is answered as a duplicate.
pub(crate) async fn until_processed(
    time: Time,
    svc: &Svc,
    body: &str,
    window: Duration,
) -> Response<Bytes> {
    match time {
        Time::Paused => {
            tokio::time::advance(window - Duration::from_millis(1)).await;
            let early = svc.clone().oneshot(delivery(body)).await.unwrap();
            assert!(is_duplicate(&early), "still inside the window: {early:?}");
            tokio::time::advance(Duration::from_millis(1)).await;
            svc.clone().oneshot(delivery(body)).await.unwrap()
        }
        Time::Redis => {
            // Redis expires the record by itself; poll (bounded) until it has.
            for _ in 0..1_000 {
                let res = svc.clone().oneshot(delivery(body)).await.unwrap();
                if outcome(&res) != Some(Outcome::Duplicate) {
                    return res;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            panic!("Redis did not expire the record within 5 s");
        }
    }
}

/// Short windows for the time suites: moved over by `advance`, or expired by Redis.
const SHORT: Duration = Duration::from_millis(100);

// ---- suites shared with the Redis tests -------------------------------------------------

pub(crate) async fn suite_first_then_duplicate(store: Arc<dyn Store>) {
    let handler = Handler::ok();
    let svc = handler.behind(&IdempotencyLayer::from_arc(store));
    let body = unique("dup");

    let first = svc.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.body(), "handled #0");
    assert_eq!(outcome(&first), Some(Outcome::Processed));
    assert!(first.headers().get(DUPLICATE_HEADER).is_none());

    for _ in 0..3 {
        let again = svc.clone().oneshot(delivery(&body)).await.unwrap();
        assert!(is_duplicate(&again), "{again:?}");
        assert_eq!(again.body(), "", "the handler's answer is not replayed");
    }
    assert_eq!(handler.calls(), 1);

    let other = svc.oneshot(delivery(&unique("dup"))).await.unwrap();
    assert_eq!(outcome(&other), Some(Outcome::Processed));
    assert_eq!(handler.calls(), 2);
}

pub(crate) async fn suite_in_flight_is_409(store: Arc<dyn Store>) {
    let gate = Gate::closed();
    let handler = Handler::ok().gated(&gate);
    let svc = handler.behind(&IdempotencyLayer::from_arc(store));
    let body = unique("inflight");

    let first = tokio::spawn(boxed(svc.clone().oneshot(delivery(&body))));
    handler.entered(1).await;
    let second = svc.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert_eq!(outcome(&second), Some(Outcome::InFlight));
    assert_eq!(second.headers()["retry-after"], "1");
    assert_eq!(
        second.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(refusal_code(&second), "in_flight");

    gate.open();
    let first = first.await.unwrap().unwrap();
    assert_eq!(outcome(&first), Some(Outcome::Processed));
    let third = svc.oneshot(delivery(&body)).await.unwrap();
    assert!(is_duplicate(&third));
    assert_eq!(handler.calls(), 1);
}

/// Every answer but a 2xx (and every error) releases the key by default.
pub(crate) async fn suite_failures_release_the_key(store: Arc<dyn Store>) {
    for failure in [
        Some(StatusCode::INTERNAL_SERVER_ERROR),
        Some(StatusCode::SERVICE_UNAVAILABLE),
        Some(StatusCode::TOO_MANY_REQUESTS),
        Some(StatusCode::REQUEST_TIMEOUT),
        Some(StatusCode::UNPROCESSABLE_ENTITY),
        Some(StatusCode::BAD_REQUEST),
        Some(StatusCode::NOT_FOUND),
        Some(StatusCode::TEMPORARY_REDIRECT),
        None,
    ] {
        let handler = Handler::answering(vec![failure, Some(StatusCode::OK)]);
        let svc = handler.behind(&IdempotencyLayer::from_arc(Arc::clone(&store)));
        let body = unique("release");

        let first = svc.clone().oneshot(delivery(&body)).await;
        match failure {
            Some(status) => {
                let first = first.unwrap();
                assert_eq!(first.status(), status);
                assert_eq!(outcome(&first), Some(Outcome::Released), "{status}");
            }
            None => assert_eq!(first.unwrap_err().to_string(), "handler failed"),
        }
        let retry = svc.clone().oneshot(delivery(&body)).await.unwrap();
        assert_eq!(retry.status(), StatusCode::OK, "after {failure:?}");
        assert_eq!(outcome(&retry), Some(Outcome::Processed));
        let duplicate = svc.oneshot(delivery(&body)).await.unwrap();
        assert!(is_duplicate(&duplicate));
        assert_eq!(handler.calls(), 2, "after {failure:?}");
    }
}

/// With `Completion::success_and_client_errors`, a 4xx is final (408 and 429 still retry).
pub(crate) async fn suite_client_errors_final_when_configured(store: Arc<dyn Store>) {
    let layer = IdempotencyLayer::from_arc(Arc::clone(&store))
        .complete_on(Completion::success_and_client_errors());
    let handler = Handler::answering(vec![Some(StatusCode::UNPROCESSABLE_ENTITY)]);
    let svc = handler.behind(&layer);
    let body = unique("4xx-final");
    let first = svc.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(first.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(outcome(&first), Some(Outcome::Processed));
    let again = svc.oneshot(delivery(&body)).await.unwrap();
    assert!(is_duplicate(&again));
    assert_eq!(handler.calls(), 1);

    for retry_me in [StatusCode::REQUEST_TIMEOUT, StatusCode::TOO_MANY_REQUESTS] {
        let handler = Handler::answering(vec![Some(retry_me), Some(StatusCode::OK)]);
        let svc = handler.behind(&layer);
        let body = unique("4xx-final");
        let first = svc.clone().oneshot(delivery(&body)).await.unwrap();
        assert_eq!(outcome(&first), Some(Outcome::Released), "{retry_me}");
        let retry = svc.oneshot(delivery(&body)).await.unwrap();
        assert_eq!(outcome(&retry), Some(Outcome::Processed), "{retry_me}");
    }
}

pub(crate) async fn suite_completed_ttl_expires(store: Arc<dyn Store>, time: Time) {
    let handler = Handler::ok();
    let layer = IdempotencyLayer::from_arc(store)
        .key(KeySource::railz())
        .completed_ttl(SHORT);
    let svc = handler.behind(&layer);
    let body = unique("ttl");
    svc.clone().oneshot(delivery(&body)).await.unwrap();
    assert!(is_duplicate(
        &svc.clone().oneshot(delivery(&body)).await.unwrap()
    ));
    let after = until_processed(time, &svc, &body, SHORT).await;
    assert_eq!(outcome(&after), Some(Outcome::Processed));
    assert_eq!(handler.calls(), 2);
}

/// Identical bytes under a body-hash key are remembered for the body-hash window only,
/// also after a replay that came after the window.
pub(crate) async fn suite_body_hash_window(store: Arc<dyn Store>, time: Time) {
    let handler = Handler::ok();
    // Ids would be kept for a day; the body hash only for its window.
    let layer = IdempotencyLayer::from_arc(store)
        .key(KeySource::rootfi())
        .body_hash_ttl(SHORT);
    let svc = handler.behind(&layer);
    // A RootFi v4 body without a timestamp: identical bytes for distinct changes.
    let body = format!(
        r#"{{"event":"connection.changed","company_id":"{}"}}"#,
        run_id("v4")
    );
    let first = svc.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(outcome(&first), Some(Outcome::Processed));
    assert!(handler.keys()[0].starts_with("default:sha256:"));
    let later = until_processed(time, &svc, &body, SHORT).await;
    assert_eq!(
        outcome(&later),
        Some(Outcome::Processed),
        "outside the window"
    );
    // Handled again, it blocks identical bytes for one window only, not longer.
    let again = until_processed(time, &svc, &body, SHORT).await;
    assert_eq!(outcome(&again), Some(Outcome::Processed));
    assert_eq!(handler.calls(), 3);
}

pub(crate) async fn suite_lease_expires(store: Arc<dyn Store>, time: Time) {
    // The first handler outlives its lease (as if its instance hung); a retry after the
    // lease is processed, and the late first completion does not clobber the new owner.
    let gate = Gate::closed();
    let handler = Handler::ok().gated(&gate);
    let layer = IdempotencyLayer::from_arc(store).lease(SHORT);
    let svc = handler.behind(&layer);
    let body = unique("lease");

    let first = tokio::spawn(boxed(svc.clone().oneshot(delivery(&body))));
    handler.entered(1).await;
    let blocked = svc.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(outcome(&blocked), Some(Outcome::InFlight));
    let second = match time {
        Time::Paused => {
            tokio::time::advance(SHORT).await;
            tokio::spawn(boxed(svc.clone().oneshot(delivery(&body))))
        }
        Time::Redis => {
            let mut tries = 0;
            loop {
                let attempt = tokio::spawn(boxed(svc.clone().oneshot(delivery(&body))));
                // Either a 409 comes back at once, or the claim succeeded and the gated
                // handler holds it.
                while !attempt.is_finished() && handler.calls() < 2 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                if handler.calls() >= 2 {
                    break attempt;
                }
                let res = attempt.await.unwrap().unwrap();
                assert_eq!(outcome(&res), Some(Outcome::InFlight));
                tries += 1;
                assert!(tries < 1_000, "Redis did not expire the lease within 5 s");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    handler.entered(2).await;
    gate.open();

    assert_eq!(
        outcome(&first.await.unwrap().unwrap()),
        Some(Outcome::Processed)
    );
    assert_eq!(
        outcome(&second.await.unwrap().unwrap()),
        Some(Outcome::Processed)
    );
    assert_eq!(handler.calls(), 2);
    assert!(is_duplicate(&svc.oneshot(delivery(&body)).await.unwrap()));
}

pub(crate) async fn suite_namespaces_and_key_sources(store: Arc<dyn Store>) {
    let handler = Handler::ok();
    let railz = handler.behind(
        &IdempotencyLayer::from_arc(Arc::clone(&store))
            .namespace("railz")
            .key(KeySource::railz()),
    );
    let other = handler.behind(
        &IdempotencyLayer::from_arc(store)
            .namespace("other")
            .key(KeySource::railz()),
    );
    let body = unique("ns");

    let first = railz.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(outcome(&first), Some(Outcome::Processed));
    let again = railz.oneshot(delivery(&body)).await.unwrap();
    assert!(is_duplicate(&again));
    let elsewhere = other.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(outcome(&elsewhere), Some(Outcome::Processed));
    assert!(is_duplicate(&other.oneshot(delivery(&body)).await.unwrap()));
    assert_eq!(handler.calls(), 2);

    let keys = handler.keys();
    let id = body
        .split('"')
        .nth(3)
        .expect("the requestId is the fourth quoted piece");
    assert_eq!(
        keys,
        [format!("railz:id:{id}:auth"), format!("other:id:{id}:auth")]
    );
}

/// The same key with a different body is a different delivery: handled, never answered
/// as a duplicate; each body's own retries are duplicates.
pub(crate) async fn suite_same_key_other_body_is_handled(store: Arc<dyn Store>) {
    let handler = Handler::ok();
    let svc = handler.behind(
        &IdempotencyLayer::from_arc(store)
            .namespace("railz")
            .key(KeySource::railz()),
    );
    let body = unique("other-body");
    // Same requestId and event tag, other bytes.
    let other = body.replace(r#""data""#, r#""extra":1,"data""#);
    assert_ne!(body, other);

    for b in [&body, &other] {
        let res = svc.clone().oneshot(delivery(b)).await.unwrap();
        assert_eq!(outcome(&res), Some(Outcome::Processed), "{b}");
    }
    for b in [&body, &other] {
        assert!(is_duplicate(
            &svc.clone().oneshot(delivery(b)).await.unwrap()
        ));
    }
    assert_eq!(handler.calls(), 2);
    let keys = handler.keys();
    assert_eq!(keys[0], keys[1], "one key, two records");
    let bodies = handler.bodies();
    assert_eq!(
        (&bodies[0][..], &bodies[1][..]),
        (body.as_bytes(), other.as_bytes())
    );
}

/// Railz's published samples share one requestId across different events (and the full
/// and simple `data` payloads share even the tag): all handled, each once.
pub(crate) async fn suite_railz_samples_sharing_a_request_id(store: Arc<dyn Store>) {
    let handler = Handler::ok();
    // Its own namespace per run: the sample bodies are fixed bytes.
    let svc = handler.behind(
        &IdempotencyLayer::from_arc(store)
            .namespace(run_id("railz-samples"))
            .key(KeySource::railz()),
    );
    let samples = [
        include_str!("../fixtures/railz_data_full.json"),
        include_str!("../fixtures/railz_data_simple.json"),
        include_str!("../fixtures/railz_customer_request.json"),
    ];
    for sample in samples {
        let res = svc.clone().oneshot(delivery(sample)).await.unwrap();
        assert_eq!(outcome(&res), Some(Outcome::Processed));
    }
    for sample in samples {
        assert!(is_duplicate(
            &svc.clone().oneshot(delivery(sample)).await.unwrap()
        ));
    }
    assert_eq!(handler.calls(), 3);
    let keys = handler.keys();
    assert!(keys[0].ends_with("a3b4fc83-3e24-41aa-ba99-13cab09b0b7a:data"));
    assert!(keys[2].ends_with("a3b4fc83-3e24-41aa-ba99-13cab09b0b7a:customerRequest"));
}

/// A response future dropped mid-handler (client gone) releases its claim: the provider's
/// retry is handled at once, not after the lease.
pub(crate) async fn suite_dropped_future_releases_its_claim(store: Arc<dyn Store>, time: Time) {
    let gate = Gate::closed();
    let gated = Handler::ok().gated(&gate);
    let layer = IdempotencyLayer::from_arc(Arc::clone(&store));
    let svc = gated.behind(&layer);
    let body = unique("dropped");

    let first = tokio::spawn(boxed(svc.clone().oneshot(delivery(&body))));
    gated.entered(1).await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());

    let handler = Handler::ok();
    let retry_svc = handler.behind(&layer);
    let retry = match time {
        // The in-memory release happens inside the drop.
        Time::Paused => retry_svc.oneshot(delivery(&body)).await.unwrap(),
        // Redis: the release is spawned on the runtime; wait for it (bounded), well
        // below the 30 s lease.
        Time::Redis => {
            let mut tries = 0;
            loop {
                let res = retry_svc.clone().oneshot(delivery(&body)).await.unwrap();
                if outcome(&res) != Some(Outcome::InFlight) {
                    break res;
                }
                tries += 1;
                assert!(tries < 200, "the claim was not released within 1 s");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    assert_eq!(outcome(&retry), Some(Outcome::Processed));
    assert_eq!(handler.calls(), 1);
}

/// Many tasks deliver the same event at the same instant, on a multi-thread runtime.
pub(crate) async fn suite_concurrent_same_key(
    stores: Vec<Arc<dyn Store>>,
    tasks: usize,
    rounds: usize,
) {
    let handler = Handler::ok();
    let services: Vec<_> = stores
        .into_iter()
        .map(|store| handler.behind(&IdempotencyLayer::from_arc(store)))
        .collect();
    for round in 0..rounds {
        let body = unique("race");
        let barrier = Arc::new(tokio::sync::Barrier::new(tasks));
        let mut joins = Vec::with_capacity(tasks);
        for i in 0..tasks {
            let svc = services[i % services.len()].clone();
            let barrier = Arc::clone(&barrier);
            let send = boxed(svc.oneshot(delivery(&body)));
            joins.push(tokio::spawn(async move {
                barrier.wait().await;
                send.await.unwrap()
            }));
        }
        let mut processed = 0;
        for join in joins {
            let res = join.await.unwrap();
            match outcome(&res) {
                Some(Outcome::Processed) => processed += 1,
                Some(Outcome::InFlight) => assert_eq!(res.status(), StatusCode::CONFLICT),
                Some(Outcome::Duplicate) => assert!(is_duplicate(&res)),
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        assert_eq!(processed, 1, "round {round}");
        assert_eq!(handler.calls(), round + 1, "round {round}");
    }
}

// ---- the in-memory store (paused clock) --------------------------------------------------

fn memory() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

#[tokio::test(start_paused = true)]
async fn memory_first_then_duplicate() {
    suite_first_then_duplicate(memory()).await;
}

#[tokio::test(start_paused = true)]
async fn memory_in_flight_is_409() {
    suite_in_flight_is_409(memory()).await;
}

#[tokio::test(start_paused = true)]
async fn memory_failures_release_the_key() {
    suite_failures_release_the_key(memory()).await;
}

#[tokio::test(start_paused = true)]
async fn memory_client_errors_final_when_configured() {
    suite_client_errors_final_when_configured(memory()).await;
}

#[tokio::test(start_paused = true)]
async fn memory_completed_ttl_expires() {
    suite_completed_ttl_expires(memory(), Time::Paused).await;
}

#[tokio::test(start_paused = true)]
async fn memory_body_hash_window() {
    suite_body_hash_window(memory(), Time::Paused).await;
}

#[tokio::test(start_paused = true)]
async fn memory_lease_expires() {
    suite_lease_expires(memory(), Time::Paused).await;
}

#[tokio::test(start_paused = true)]
async fn memory_namespaces_and_key_sources() {
    suite_namespaces_and_key_sources(memory()).await;
}

#[tokio::test(start_paused = true)]
async fn memory_same_key_other_body_is_handled() {
    suite_same_key_other_body_is_handled(memory()).await;
}

#[tokio::test(start_paused = true)]
async fn memory_railz_samples_sharing_a_request_id() {
    suite_railz_samples_sharing_a_request_id(memory()).await;
}

#[tokio::test(start_paused = true)]
async fn memory_dropped_future_releases_its_claim() {
    suite_dropped_future_releases_its_claim(memory(), Time::Paused).await;
}

#[tokio::test(start_paused = true)]
async fn default_windows_id_keys_a_day_body_hash_keys_minutes() {
    // Railz: an id key outlives the body-hash window; a body without requestId does not.
    let handler = Handler::ok();
    let svc = handler.behind(&IdempotencyLayer::in_memory().key(KeySource::railz()));
    let with_id = unique("windows");
    let without_id = format!(
        r#"{{"data":{{"event":"auth","connectionId":"{}"}}}}"#,
        run_id("c")
    );
    for body in [&with_id, &without_id] {
        assert_eq!(
            outcome(&svc.clone().oneshot(delivery(body)).await.unwrap()),
            Some(Outcome::Processed)
        );
    }
    tokio::time::advance(KeySource::RAILZ_BODY_HASH_WINDOW).await;
    assert!(is_duplicate(
        &svc.clone().oneshot(delivery(&with_id)).await.unwrap()
    ));
    assert_eq!(
        outcome(&svc.clone().oneshot(delivery(&without_id)).await.unwrap()),
        Some(Outcome::Processed),
        "the body-hash window is over"
    );
    tokio::time::advance(IdempotencyLayer::DEFAULT_COMPLETED_TTL).await;
    assert_eq!(
        outcome(&svc.oneshot(delivery(&with_id)).await.unwrap()),
        Some(Outcome::Processed)
    );
    assert_eq!(handler.calls(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_concurrent_same_key_runs_the_handler_once() {
    suite_concurrent_same_key(vec![memory()], 64, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_concurrent_many_keys_each_once() {
    // 16 distinct events, each sent 8 times at once.
    let handler = Handler::ok();
    let svc = handler.behind(&IdempotencyLayer::in_memory());
    let bodies: Vec<String> = (0..16).map(|_| unique("many")).collect();
    let barrier = Arc::new(tokio::sync::Barrier::new(16 * 8));
    let mut joins = Vec::new();
    for body in &bodies {
        for _ in 0..8 {
            let send = boxed(svc.clone().oneshot(delivery(body)));
            let barrier = Arc::clone(&barrier);
            joins.push(tokio::spawn(async move {
                barrier.wait().await;
                send.await.unwrap()
            }));
        }
    }
    let mut processed = 0;
    for join in joins {
        if outcome(&join.await.unwrap()) == Some(Outcome::Processed) {
            processed += 1;
        }
    }
    assert_eq!(processed, 16);
    let mut keys = handler.keys();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 16, "each event handled exactly once");
    assert_eq!(handler.calls(), 16);
}

#[tokio::test(start_paused = true)]
async fn without_verified_bytes_the_layer_answers_500_without_type_names() {
    let handler = Handler::ok();
    let svc = handler.behind(&IdempotencyLayer::in_memory());
    let req = Request::post("/webhooks/railz").body(()).unwrap();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(outcome(&res), Some(Outcome::MissingVerifiedBytes));
    assert_eq!(refusal_code(&res), "missing_layer");
    let text = Outcome::MissingVerifiedBytes.to_string();
    assert!(
        text.contains("must run after the verifying layer"),
        "{text}"
    );
    for shown in [std::str::from_utf8(res.body()).unwrap(), text.as_str()] {
        for type_name in [
            "VerifiedBytes",
            "VerifyWebhookLayer",
            "IdempotencyLayer",
            "::",
        ] {
            assert!(!shown.contains(type_name), "{shown}");
        }
    }
    assert_eq!(handler.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_full_namespace_refuses_503_store_full_and_forgets_nothing() {
    let store = MemoryStore::with_capacity(2);
    let handler = Handler::ok();
    let layer = IdempotencyLayer::new(store.clone()).key(KeySource::railz());
    let svc = handler.behind(&layer);
    let (a, b) = (unique("full"), unique("full"));
    for body in [&a, &b] {
        let res = svc.clone().oneshot(delivery(body)).await.unwrap();
        assert_eq!(outcome(&res), Some(Outcome::Processed));
    }
    let refused = svc
        .clone()
        .oneshot(delivery(&unique("full")))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(outcome(&refused), Some(Outcome::StoreFull));
    assert_eq!(refusal_code(&refused), "store_full");
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry_after), "{retry_after}");
    // The records inside their window were kept: their replays are still caught.
    for body in [&a, &b] {
        assert!(is_duplicate(
            &svc.clone().oneshot(delivery(body)).await.unwrap()
        ));
    }
    assert_eq!(handler.calls(), 2);
    assert_eq!(store.refused(), 1);
    // Even fail-open does not handle without a record when the store is merely full.
    let open = handler.behind(&layer.clone().on_store_error(OutagePolicy::FailOpen));
    let res = open.oneshot(delivery(&unique("full"))).await.unwrap();
    assert_eq!(outcome(&res), Some(Outcome::StoreFull));
    assert_eq!(handler.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn one_route_filling_the_store_does_not_flush_another_routes_records() {
    // One store shared by two routes, as in the receiver.
    let store = MemoryStore::with_capacity(8);
    let railz_handler = Handler::ok();
    let railz = railz_handler.behind(
        &IdempotencyLayer::new(store.clone())
            .namespace("railz")
            .key(KeySource::railz()),
    );
    let flood_handler = Handler::ok();
    let flood = flood_handler.behind(&IdempotencyLayer::new(store.clone()).namespace("rootfi-v3"));

    let captured = unique("captured");
    assert_eq!(
        outcome(&railz.clone().oneshot(delivery(&captured)).await.unwrap()),
        Some(Outcome::Processed)
    );
    let mut refused = 0;
    for i in 0..50 {
        let res = flood
            .clone()
            .oneshot(delivery(&format!(
                r#"{{"n":{i},"run":"{}"}}"#,
                run_id("flood")
            )))
            .await
            .unwrap();
        if outcome(&res) == Some(Outcome::StoreFull) {
            refused += 1;
        }
    }
    assert_eq!((flood_handler.calls(), refused), (8, 42));
    // The replay of the captured Railz delivery, inside its window: still a duplicate.
    let replay = railz.clone().oneshot(delivery(&captured)).await.unwrap();
    assert!(is_duplicate(&replay), "{replay:?}");
    assert_eq!(railz_handler.calls(), 1);
    // And the Railz route still has room for new deliveries.
    assert_eq!(
        outcome(&railz.oneshot(delivery(&unique("next"))).await.unwrap()),
        Some(Outcome::Processed)
    );
}

/// Collects what `tracing` writes, for the log assertions.
#[cfg(feature = "tracing")]
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

#[cfg(feature = "tracing")]
impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(feature = "tracing")]
#[tokio::test(start_paused = true)]
async fn a_reused_key_is_logged_at_warn_with_the_key_never_the_body() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let handler = Handler::ok();
    let svc = handler.behind(
        &IdempotencyLayer::in_memory()
            .namespace("railz")
            .key(KeySource::railz()),
    );
    let id = run_id("reused");
    let first =
        format!(r#"{{"requestId":"{id}","data":{{"event":"data","secret":"alpha-body"}}}}"#);
    let second =
        format!(r#"{{"requestId":"{id}","data":{{"event":"data","secret":"beta-body"}}}}"#);
    svc.clone().oneshot(delivery(&first)).await.unwrap();
    assert!(
        logs.0.lock().unwrap().is_empty(),
        "a first delivery is not worth a WARN"
    );
    let res = svc.oneshot(delivery(&second)).await.unwrap();
    assert_eq!(outcome(&res), Some(Outcome::Processed));

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains(&format!("railz:id:{id}:data#")), "{text}");
    assert!(text.contains("different body"), "{text}");
    assert!(
        !text.contains("alpha-body") && !text.contains("beta-body"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_store_reads_the_paused_clock() {
    // Guards the suites above: the default MemoryStore follows tokio's clock.
    let store = MemoryStore::new();
    let record = RecordId::new("ns", "k", b"body");
    let Begin::Acquired { token, .. } = store.try_begin(&record, SHORT).await.unwrap() else {
        panic!("claimable");
    };
    assert!(store.complete(&record, token, SHORT).await.unwrap());
    tokio::time::advance(SHORT).await;
    assert!(matches!(
        store.try_begin(&record, SHORT).await.unwrap(),
        Begin::Acquired { .. }
    ));
}

// ---- store failures ----------------------------------------------------------------------

/// A store that fails each call a given number of times (`usize::MAX`: always), and
/// otherwise delegates to memory.
struct FlakyStore {
    inner: MemoryStore,
    begin_failures: AtomicUsize,
    complete_failures: AtomicUsize,
    release_failures: AtomicUsize,
    completes: AtomicUsize,
    releases: AtomicUsize,
}

impl FlakyStore {
    fn new(begin: usize, complete: usize, release: usize) -> Arc<Self> {
        Arc::new(Self {
            inner: MemoryStore::new(),
            begin_failures: AtomicUsize::new(begin),
            complete_failures: AtomicUsize::new(complete),
            release_failures: AtomicUsize::new(release),
            completes: AtomicUsize::new(0),
            releases: AtomicUsize::new(0),
        })
    }
}

/// Whether this call should fail, counting down the failures left.
fn fails(left: &AtomicUsize) -> bool {
    left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| match n {
        0 => None,
        usize::MAX => Some(usize::MAX),
        n => Some(n - 1),
    })
    .is_ok()
}

fn down<T: Send + 'static>() -> StoreFuture<'static, T> {
    Box::pin(async {
        Err(StoreError::unavailable(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        )))
    })
}

impl Store for FlakyStore {
    fn try_begin<'a>(&'a self, record: &'a RecordId, lease: Duration) -> StoreFuture<'a, Begin> {
        if fails(&self.begin_failures) {
            return down();
        }
        self.inner.try_begin(record, lease)
    }

    fn complete<'a>(
        &'a self,
        record: &'a RecordId,
        token: Token,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        self.completes.fetch_add(1, Ordering::SeqCst);
        if fails(&self.complete_failures) {
            return down();
        }
        self.inner.complete(record, token, ttl)
    }

    fn release<'a>(&'a self, record: &'a RecordId, token: Token) -> StoreFuture<'a, bool> {
        self.releases.fetch_add(1, Ordering::SeqCst);
        if fails(&self.release_failures) {
            return down();
        }
        self.inner.release(record, token)
    }
}

#[tokio::test(start_paused = true)]
async fn store_down_fails_closed_by_default() {
    let handler = Handler::ok();
    let svc = handler.behind(&IdempotencyLayer::from_arc(FlakyStore::new(
        usize::MAX,
        0,
        0,
    )));
    for _ in 0..3 {
        let res = svc
            .clone()
            .oneshot(delivery(&unique("down")))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()["retry-after"], "1");
        assert_eq!(outcome(&res), Some(Outcome::StoreUnavailable));
        assert_eq!(refusal_code(&res), "store_unavailable");
    }
    assert_eq!(
        handler.calls(),
        0,
        "nothing handled while the store is down"
    );
}

#[tokio::test(start_paused = true)]
async fn store_down_fails_open_when_asked() {
    let handler = Handler::ok();
    let store = FlakyStore::new(usize::MAX, 0, 0);
    let layer = IdempotencyLayer::from_arc(store.clone()).on_store_error(OutagePolicy::FailOpen);
    let svc = handler.behind(&layer);
    let body = unique("open");
    for n in 0..2 {
        let res = svc.clone().oneshot(delivery(&body)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.body(), &format!("handled #{n}"));
        assert_eq!(outcome(&res), Some(Outcome::Unprotected));
    }
    assert_eq!(handler.calls(), 2, "fail-open risks duplicates, by design");
    assert_eq!(store.completes.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_failed_completion_is_retried_so_duplicates_stay_caught() {
    // The store is briefly down right after the handler ran (as in a Redis restart).
    let handler = Handler::ok();
    let store = FlakyStore::new(0, 3, 0);
    let svc = handler.behind(&IdempotencyLayer::from_arc(store.clone()));
    let body = unique("complete-retried");
    let first = svc.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(outcome(&first), Some(Outcome::Processed));
    assert_eq!(store.completes.load(Ordering::SeqCst), 4);
    assert!(is_duplicate(&svc.oneshot(delivery(&body)).await.unwrap()));
    assert_eq!(handler.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_completion_failing_for_the_whole_lease_gives_up_with_the_handlers_answer() {
    let handler = Handler::ok();
    let store = FlakyStore::new(0, usize::MAX, 0);
    let layer = IdempotencyLayer::from_arc(store.clone()).lease(Duration::from_millis(150));
    let svc = handler.behind(&layer);
    let body = unique("complete-fails");
    let first = svc.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.body(), "handled #0");
    assert!(store.completes.load(Ordering::SeqCst) > 1, "retried");
    // The key was never completed: once the lease is over, a duplicate is handled again
    // (the documented risk of an outage longer than the lease).
    tokio::time::advance(Duration::from_millis(150)).await;
    let late = svc.oneshot(delivery(&body)).await.unwrap();
    assert_eq!(outcome(&late), Some(Outcome::Processed));
    assert_eq!(handler.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_failed_release_is_retried_so_the_retry_is_handled() {
    let handler = Handler::answering(vec![
        Some(StatusCode::INTERNAL_SERVER_ERROR),
        Some(StatusCode::OK),
    ]);
    let store = FlakyStore::new(0, 0, 2);
    let svc = handler.behind(&IdempotencyLayer::from_arc(store.clone()));
    let body = unique("release-retried");
    let first = svc.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(first.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(store.releases.load(Ordering::SeqCst), 3);
    let retry = svc.oneshot(delivery(&body)).await.unwrap();
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(handler.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_future_dropped_after_the_handler_succeeded_still_completes() {
    // The store is down right after the handler ran; the client goes away while the layer
    // retries the completion: the drop completes the record, so the retry is a duplicate.
    let handler = Handler::ok();
    let store = FlakyStore::new(0, 1, 0);
    let svc = handler.behind(&IdempotencyLayer::from_arc(store.clone()));
    let body = unique("dropped-after-success");
    let first = tokio::spawn(boxed(svc.clone().oneshot(delivery(&body))));
    // Runs the handler and the failed completion, then waits in the backoff.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        (handler.calls(), store.completes.load(Ordering::SeqCst)),
        (1, 1)
    );
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    assert_eq!(
        store.completes.load(Ordering::SeqCst),
        2,
        "completed from the drop"
    );
    assert!(is_duplicate(&svc.oneshot(delivery(&body)).await.unwrap()));
    assert_eq!(handler.calls(), 1);
}

// ---- composition -------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn works_as_an_axum_route_layer() {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;

    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let app = Router::new()
        .route(
            "/webhooks/railz",
            post(
                move |axum::Extension(key): axum::Extension<IdempotencyKey>| {
                    let counted = Arc::clone(&counted);
                    async move {
                        counted.fetch_add(1, Ordering::SeqCst);
                        key.to_string()
                    }
                },
            ),
        )
        .route_layer(
            IdempotencyLayer::in_memory()
                .key(KeySource::railz())
                .namespace("railz"),
        )
        // Stand-in for the verifying layer: hands on the body as `VerifiedBytes`.
        .route_layer(axum::middleware::from_fn(
            |req: axum::extract::Request, next: axum::middleware::Next| async move {
                let (mut parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                parts.extensions.insert(verified(bytes.clone()));
                next.run(axum::extract::Request::from_parts(parts, Body::from(bytes)))
                    .await
            },
        ));

    let send = |app: Router| async move {
        let req = Request::post("/webhooks/railz")
            .body(Body::from(r#"{"requestId":"r-1","data":{"event":"auth"}}"#))
            .unwrap();
        app.oneshot(req).await.unwrap()
    };
    let first = send(app.clone()).await;
    assert_eq!(first.status(), StatusCode::OK);
    let text = axum::body::to_bytes(first.into_body(), 1024).await.unwrap();
    assert_eq!(text, "railz:id:r-1:auth");
    let second = send(app).await;
    assert!(is_duplicate(&second));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn layer_and_service_are_send_sync_clone() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
    check::<IdempotencyLayer>();
    check::<ledgerhook::idempotency::Idempotency<tower::util::BoxCloneSyncService<(), (), ()>>>();
    let store_error = StoreError::new(StoreErrorKind::Unavailable);
    assert_eq!(store_error.kind(), StoreErrorKind::Unavailable);
}
