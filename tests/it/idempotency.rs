//! The idempotency layer against the in-memory store and a failing store.
//!
//! The `suite_*` functions take any store, so `idempotency_redis` runs them against a real
//! Redis too.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use ledgerhook::VerifiedBytes;
use ledgerhook::idempotency::Idempotency;
use ledgerhook::idempotency::{
    Begin, DUPLICATE_HEADER, IdempotencyKey, IdempotencyLayer, KeySource, MemoryStore,
    OutagePolicy, Outcome, Store, StoreError, StoreErrorKind, StoreFuture, Token,
};
use tower::util::BoxCloneSyncService;
use tower::{BoxError, Layer, ServiceExt, service_fn};

/// The fake handler behind the layer.
pub(crate) type Svc = Idempotency<BoxCloneSyncService<Request<()>, Response<String>, BoxError>>;

/// What the fake handler does on each call.
#[derive(Clone)]
pub(crate) struct Handler {
    calls: Arc<AtomicUsize>,
    keys: Arc<Mutex<Vec<String>>>,
    /// Status of the n-th call (the last one repeats); `None` means the handler errors.
    statuses: Arc<Vec<Option<StatusCode>>>,
    delay: Duration,
}

impl Handler {
    pub(crate) fn ok() -> Self {
        Self::answering(vec![Some(StatusCode::OK)])
    }

    pub(crate) fn answering(statuses: Vec<Option<StatusCode>>) -> Self {
        Self {
            calls: Arc::default(),
            keys: Arc::default(),
            statuses: Arc::new(statuses),
            delay: Duration::ZERO,
        }
    }

    pub(crate) fn slow(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub(crate) fn keys(&self) -> Vec<String> {
        self.keys.lock().unwrap().clone()
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
                    if !this.delay.is_zero() {
                        tokio::time::sleep(this.delay).await;
                    }
                    let status = this.statuses[n.min(this.statuses.len() - 1)];
                    match status {
                        Some(status) => {
                            let mut res = Response::new(format!("handled #{n}"));
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
    fut: impl std::future::Future<Output = Result<Response<String>, BoxError>> + Send + 'static,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<String>, BoxError>> + Send>>
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

/// A body unique to this test run, so tests sharing a Redis never see each other's keys.
pub(crate) fn unique(label: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        r#"{{"requestId":"{label}-{}-{nanos}-{}","data":{{"event":"auth"}}}}"#,
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

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
    let handler = Handler::ok().slow(Duration::from_millis(400));
    let svc = handler.behind(&IdempotencyLayer::from_arc(store));
    let body = unique("inflight");

    let first = tokio::spawn(svc.clone().oneshot(delivery(&body)));
    // Wait until the first delivery is inside the handler.
    while handler.calls() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let second = svc.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert_eq!(outcome(&second), Some(Outcome::InFlight));
    assert_eq!(second.headers()["retry-after"], "1");

    let first = first.await.unwrap().unwrap();
    assert_eq!(outcome(&first), Some(Outcome::Processed));
    let third = svc.oneshot(delivery(&body)).await.unwrap();
    assert!(is_duplicate(&third));
    assert_eq!(handler.calls(), 1);
}

pub(crate) async fn suite_failures_release_the_key(store: Arc<dyn Store>) {
    for failure in [
        Some(StatusCode::INTERNAL_SERVER_ERROR),
        Some(StatusCode::SERVICE_UNAVAILABLE),
        Some(StatusCode::TOO_MANY_REQUESTS),
        Some(StatusCode::REQUEST_TIMEOUT),
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
                assert_eq!(outcome(&first), Some(Outcome::Released));
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

pub(crate) async fn suite_client_errors_complete_the_key(store: Arc<dyn Store>) {
    let handler = Handler::answering(vec![Some(StatusCode::UNPROCESSABLE_ENTITY)]);
    let svc = handler.behind(&IdempotencyLayer::from_arc(store));
    let body = unique("4xx");
    let first = svc.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(first.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(outcome(&first), Some(Outcome::Processed));
    let again = svc.oneshot(delivery(&body)).await.unwrap();
    assert!(is_duplicate(&again));
    assert_eq!(handler.calls(), 1);
}

pub(crate) async fn suite_completed_ttl_expires(store: Arc<dyn Store>) {
    let handler = Handler::ok();
    let layer = IdempotencyLayer::from_arc(store).completed_ttl(Duration::from_millis(150));
    let svc = handler.behind(&layer);
    let body = unique("ttl");
    svc.clone().oneshot(delivery(&body)).await.unwrap();
    assert!(is_duplicate(
        &svc.clone().oneshot(delivery(&body)).await.unwrap()
    ));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after = svc.oneshot(delivery(&body)).await.unwrap();
    assert_eq!(outcome(&after), Some(Outcome::Processed));
    assert_eq!(handler.calls(), 2);
}

pub(crate) async fn suite_lease_expires(store: Arc<dyn Store>) {
    // The first handler outlives its lease (as if its instance hung); a retry after the
    // lease is processed, and the late first completion does not clobber the new owner.
    let handler = Handler::ok().slow(Duration::from_millis(600));
    let layer = IdempotencyLayer::from_arc(store).lease(Duration::from_millis(150));
    let svc = handler.behind(&layer);
    let body = unique("lease");

    let first = tokio::spawn(svc.clone().oneshot(delivery(&body)));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let blocked = svc.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(outcome(&blocked), Some(Outcome::InFlight));
    tokio::time::sleep(Duration::from_millis(250)).await;
    let second = tokio::spawn(svc.clone().oneshot(delivery(&body)));

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
    // Same requestId, different bytes (e.g. a re-serialised retry): one event.
    let reserialised = body.replace(r#""data""#, r#""extra":1,"data""#);
    assert_ne!(body, reserialised);

    let first = railz.clone().oneshot(delivery(&body)).await.unwrap();
    assert_eq!(outcome(&first), Some(Outcome::Processed));
    let again = railz.oneshot(delivery(&reserialised)).await.unwrap();
    assert!(is_duplicate(&again));
    let elsewhere = other.oneshot(delivery(&body)).await.unwrap();
    assert_eq!(outcome(&elsewhere), Some(Outcome::Processed));
    assert_eq!(handler.calls(), 2);

    let keys = handler.keys();
    let id = body
        .split('"')
        .nth(3)
        .expect("the requestId is the fourth quoted piece");
    assert_eq!(keys, [format!("railz:id:{id}"), format!("other:id:{id}")]);
}

/// Many tasks deliver the same event at the same instant, on a multi-thread runtime.
pub(crate) async fn suite_concurrent_same_key(
    stores: Vec<Arc<dyn Store>>,
    tasks: usize,
    rounds: usize,
) {
    let handler = Handler::ok().slow(Duration::from_millis(20));
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

// ---- the in-memory store ---------------------------------------------------------------

fn memory() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

#[tokio::test]
async fn memory_first_then_duplicate() {
    suite_first_then_duplicate(memory()).await;
}

#[tokio::test]
async fn memory_in_flight_is_409() {
    suite_in_flight_is_409(memory()).await;
}

#[tokio::test]
async fn memory_failures_release_the_key() {
    suite_failures_release_the_key(memory()).await;
}

#[tokio::test]
async fn memory_client_errors_complete_the_key() {
    suite_client_errors_complete_the_key(memory()).await;
}

#[tokio::test]
async fn memory_completed_ttl_expires() {
    suite_completed_ttl_expires(memory()).await;
}

#[tokio::test]
async fn memory_lease_expires() {
    suite_lease_expires(memory()).await;
}

#[tokio::test]
async fn memory_namespaces_and_key_sources() {
    suite_namespaces_and_key_sources(memory()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_concurrent_same_key_runs_the_handler_once() {
    suite_concurrent_same_key(vec![memory()], 64, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_concurrent_many_keys_each_once() {
    // 16 distinct events, each sent 8 times at once.
    let handler = Handler::ok().slow(Duration::from_millis(5));
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

#[tokio::test]
async fn without_verified_bytes_the_layer_answers_500() {
    let handler = Handler::ok();
    let svc = handler.behind(&IdempotencyLayer::in_memory());
    let req = Request::post("/webhooks/railz").body(()).unwrap();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(outcome(&res), Some(Outcome::MissingVerifiedBytes));
    assert!(
        Outcome::MissingVerifiedBytes
            .to_string()
            .contains("must run after VerifyWebhookLayer")
    );
    assert_eq!(handler.calls(), 0);
}

#[tokio::test]
async fn a_full_memory_store_is_an_outage() {
    let store = MemoryStore::with_capacity(1);
    let handler = Handler::ok().slow(Duration::from_millis(300));
    let svc = handler.behind(&IdempotencyLayer::new(store.clone()));
    let first = tokio::spawn(svc.clone().oneshot(delivery(&unique("full"))));
    while handler.calls() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let refused = svc
        .clone()
        .oneshot(delivery(&unique("full")))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        outcome(&first.await.unwrap().unwrap()),
        Some(Outcome::Processed)
    );
    // Once the first is completed it may be evicted to make room.
    let later = svc.oneshot(delivery(&unique("full"))).await.unwrap();
    assert_eq!(outcome(&later), Some(Outcome::Processed));
    assert_eq!(store.evictions(), 1);
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
    fn try_begin<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Begin> {
        if fails(&self.begin_failures) {
            return down();
        }
        self.inner.try_begin(key, lease)
    }

    fn complete<'a>(&'a self, key: &'a str, token: Token, ttl: Duration) -> StoreFuture<'a, bool> {
        self.completes.fetch_add(1, Ordering::SeqCst);
        if fails(&self.complete_failures) {
            return down();
        }
        self.inner.complete(key, token, ttl)
    }

    fn release<'a>(&'a self, key: &'a str, token: Token) -> StoreFuture<'a, bool> {
        self.releases.fetch_add(1, Ordering::SeqCst);
        if fails(&self.release_failures) {
            return down();
        }
        self.inner.release(key, token)
    }
}

#[tokio::test]
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
    }
    assert_eq!(
        handler.calls(),
        0,
        "nothing handled while the store is down"
    );
}

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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
    tokio::time::sleep(Duration::from_millis(200)).await;
    let late = svc.oneshot(delivery(&body)).await.unwrap();
    assert_eq!(outcome(&late), Some(Outcome::Processed));
    assert_eq!(handler.calls(), 2);
}

#[tokio::test]
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

// ---- composition -------------------------------------------------------------------------

#[tokio::test]
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
    assert_eq!(text, "railz:id:r-1");
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
