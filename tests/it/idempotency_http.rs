//! The collision cases of deduplication, over a real loopback HTTP server: the verifying
//! layer and the idempotency layer in front of counting handlers, called with a real HTTP
//! client, one `MemoryStore` shared by the routes.
//!
//! The store reads an injected clock, so "outside the window" is a clock step, not a wait
//! (the HTTP exchanges themselves run in real time, bounded by a deadline).
#![cfg(feature = "axum")]

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Extension;
use axum::Router;
use axum::routing::{MethodRouter, post};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ledgerhook::idempotency::{IdempotencyKey, IdempotencyLayer, KeySource, MemoryStore};
use ledgerhook::{VerifiedBytes, Verifier, VerifyWebhookLayer};

const RAILZ_SECRET: &str = "collision-railz-secret";
const ROOTFI_SECRET: &str = "collision-rootfi-secret";
const V3_HEADER: &str = "api_key";
const V3_TOKEN: &str = "collision-v3-token";
/// Each exchange's bound, so a hung server fails the test instead of stalling CI.
const DEADLINE: Duration = Duration::from_secs(10);

/// A monotonic clock that moves only when told to.
#[derive(Clone)]
struct StepClock {
    start: Instant,
    offset_ms: Arc<AtomicU64>,
}

impl StepClock {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            offset_ms: Arc::default(),
        }
    }
    fn step(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap();
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }
    fn store(&self, capacity: usize) -> MemoryStore {
        let clock = self.clone();
        MemoryStore::with_clock(capacity, move || {
            clock.start + Duration::from_millis(clock.offset_ms.load(Ordering::SeqCst))
        })
    }
}

/// What the handlers saw: calls per route and per (key, body).
#[derive(Clone, Default)]
struct Seen {
    calls: Arc<Mutex<HashMap<&'static str, usize>>>,
    /// Status the n-th call of a route answers (the last repeats); default 200.
    script: Arc<Mutex<HashMap<&'static str, Vec<StatusCode>>>>,
}

impl Seen {
    fn calls(&self, route: &'static str) -> usize {
        self.calls.lock().unwrap().get(route).copied().unwrap_or(0)
    }
    fn answer(&self, route: &'static str, statuses: Vec<StatusCode>) {
        self.script.lock().unwrap().insert(route, statuses);
    }
    fn handler(&self, route: &'static str) -> MethodRouter {
        let seen = self.clone();
        post(
            move |Extension(key): Extension<IdempotencyKey>,
                  Extension(_body): Extension<VerifiedBytes>| {
                let seen = seen.clone();
                async move {
                    let n = {
                        let mut calls = seen.calls.lock().unwrap();
                        let n = calls.entry(route).or_default();
                        *n += 1;
                        *n - 1
                    };
                    let status = seen
                        .script
                        .lock()
                        .unwrap()
                        .get(route)
                        .and_then(|s| s.get(n).or(s.last()).copied())
                        .unwrap_or(StatusCode::OK);
                    (status, key.to_string())
                }
            },
        )
    }
}

/// The three routes behind their verifying layers, one store for all.
async fn start(store: MemoryStore, seen: &Seen) -> SocketAddr {
    let dedup = |namespace: &str, key: KeySource| {
        IdempotencyLayer::new(store.clone())
            .namespace(namespace)
            .key(key)
    };
    let app = Router::new()
        .route(
            "/webhooks/railz",
            seen.handler("railz")
                .layer::<_, Infallible>(dedup("railz", KeySource::railz()))
                .layer(VerifyWebhookLayer::railz(RAILZ_SECRET).unwrap()),
        )
        .route(
            "/webhooks/rootfi",
            seen.handler("rootfi")
                .layer::<_, Infallible>(dedup("rootfi", KeySource::rootfi()))
                .layer(VerifyWebhookLayer::rootfi(ROOTFI_SECRET).unwrap()),
        )
        .route(
            "/webhooks/rootfi-v3",
            seen.handler("rootfi-v3")
                .layer::<_, Infallible>(dedup("rootfi-v3", KeySource::rootfi()))
                .layer(VerifyWebhookLayer::rootfi_v3(V3_HEADER, V3_TOKEN).unwrap()),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// One answer: status, whether it is the layer's duplicate answer, `Retry-After`, body.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    duplicate: bool,
    retry_after: Option<String>,
    body: Bytes,
}

async fn post_to(addr: SocketAddr, path: &str, body: Bytes, headers: HeaderMap) -> Answer {
    let mut request = Request::post(format!("http://{addr}{path}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(body))
        .unwrap();
    request.headers_mut().extend(headers);
    let client = Client::builder(TokioExecutor::new()).build_http();
    let exchange = async {
        let response = client.request(request).await.expect("response");
        let status = response.status();
        let duplicate = response
            .headers()
            .get("x-ledgerhook-duplicate")
            .is_some_and(|v| v == "true");
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            duplicate,
            retry_after,
            body,
        }
    };
    tokio::time::timeout(DEADLINE, exchange)
        .await
        .expect("answered in time")
}

/// A signed Railz delivery (headers captured, so it can be replayed byte for byte).
fn railz_delivery(body: impl Into<Bytes>) -> (Bytes, HeaderMap) {
    let body = body.into();
    let headers = Verifier::railz(RAILZ_SECRET)
        .unwrap()
        .sign(&body, SystemTime::now());
    (body, headers)
}

fn v3_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static(V3_HEADER),
        HeaderValue::from_static(V3_TOKEN),
    );
    headers
}

fn handled(answer: &Answer) -> bool {
    answer.status == StatusCode::OK && !answer.duplicate
}

#[tokio::test]
async fn two_railz_events_sharing_a_request_id_are_both_handled() {
    let seen = Seen::default();
    let addr = start(MemoryStore::new(), &seen).await;
    // Railz's published samples: one requestId, different events.
    let data = railz_delivery(Bytes::from_static(include_bytes!(
        "../fixtures/railz_data_simple.json"
    )));
    let gdpr = railz_delivery(Bytes::from_static(include_bytes!(
        "../fixtures/railz_customer_request.json"
    )));
    for (body, headers) in [&data, &gdpr] {
        let answer = post_to(addr, "/webhooks/railz", body.clone(), headers.clone()).await;
        assert!(handled(&answer), "{answer:?}");
    }
    // Their retries are duplicates, each of its own delivery.
    for (body, headers) in [&data, &gdpr] {
        let answer = post_to(addr, "/webhooks/railz", body.clone(), headers.clone()).await;
        assert!(answer.duplicate, "{answer:?}");
    }
    assert_eq!(seen.calls("railz"), 2);
}

#[tokio::test]
async fn identical_rootfi_bodies_outside_the_body_hash_window_are_both_handled() {
    let seen = Seen::default();
    let clock = StepClock::new();
    let addr = start(clock.store(1_000), &seen).await;
    // RootFi v4: no event id, no timestamp; two real changes have identical bytes.
    let body = Bytes::from_static(include_bytes!(
        "../fixtures/rootfi_v4_connection_changed.json"
    ));
    let signed = || {
        Verifier::rootfi_v4(ROOTFI_SECRET)
            .unwrap()
            .sign(&body, SystemTime::now())
    };
    let first = post_to(addr, "/webhooks/rootfi", body.clone(), signed()).await;
    assert!(handled(&first), "{first:?}");
    let key = String::from_utf8(first.body.to_vec()).unwrap();
    assert!(key.starts_with("rootfi:sha256:"), "{key}");
    // A retry inside the window is caught...
    clock.step(KeySource::DEFAULT_BODY_HASH_WINDOW - Duration::from_secs(1));
    let retry = post_to(addr, "/webhooks/rootfi", body.clone(), signed()).await;
    assert!(retry.duplicate, "{retry:?}");
    // ...the next change, after the window, is handled (not 24 h later).
    clock.step(Duration::from_secs(1));
    let next = post_to(addr, "/webhooks/rootfi", body.clone(), signed()).await;
    assert!(handled(&next), "{next:?}");
    assert_eq!(seen.calls("rootfi"), 2);
}

#[tokio::test]
async fn a_4xx_then_the_retry_is_handled_on_the_retry() {
    let seen = Seen::default();
    // Refused first (say the record it refers to has not arrived yet), then accepted.
    seen.answer(
        "railz",
        vec![StatusCode::UNPROCESSABLE_ENTITY, StatusCode::OK],
    );
    let addr = start(MemoryStore::new(), &seen).await;
    let (body, headers) = railz_delivery(Bytes::from_static(include_bytes!(
        "../fixtures/railz_auth.json"
    )));
    let first = post_to(addr, "/webhooks/railz", body.clone(), headers.clone()).await;
    assert_eq!(first.status, StatusCode::UNPROCESSABLE_ENTITY);
    let retry = post_to(addr, "/webhooks/railz", body.clone(), headers.clone()).await;
    assert!(handled(&retry), "the retry reaches the handler: {retry:?}");
    let again = post_to(addr, "/webhooks/railz", body, headers).await;
    assert!(again.duplicate, "{again:?}");
    assert_eq!(seen.calls("railz"), 2);
}

#[tokio::test]
async fn a_store_filled_by_another_route_then_a_replay_is_never_handled_twice() {
    const CAPACITY: usize = 16;
    let seen = Seen::default();
    let addr = start(MemoryStore::with_capacity(CAPACITY), &seen).await;

    // A captured Railz delivery, handled once.
    let captured = railz_delivery(Bytes::from_static(include_bytes!(
        "../fixtures/railz_auth.json"
    )));
    let first = post_to(
        addr,
        "/webhooks/railz",
        captured.0.clone(),
        captured.1.clone(),
    )
    .await;
    assert!(handled(&first), "{first:?}");

    // A flood of valid deliveries on another route (only the v3 token needed) fills its
    // share of the store; past that it is refused 503 + Retry-After, not evicting.
    let mut refused = 0;
    for i in 0..CAPACITY + 8 {
        let body = format!(
            r#"{{"webhook_type":"CONNECTION_CHANGED","company_id":{i},"connection_status":"HEALTHY","created_at":"2024-01-01T00:00:00.000Z"}}"#
        );
        let answer = post_to(addr, "/webhooks/rootfi-v3", body.into(), v3_headers()).await;
        if answer.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(&answer.body[..], b"Service Unavailable");
            assert!(answer.retry_after.is_some());
            refused += 1;
        } else {
            assert!(handled(&answer), "{answer:?}");
        }
    }
    assert_eq!((seen.calls("rootfi-v3"), refused), (CAPACITY, 8));

    // The replay inside its window: caught, not handled a second time.
    let replay = post_to(
        addr,
        "/webhooks/railz",
        captured.0.clone(),
        captured.1.clone(),
    )
    .await;
    assert!(replay.duplicate, "{replay:?}");
    assert_eq!(seen.calls("railz"), 1);

    // Even when the Railz route's own share is full, the replay is caught and a new
    // delivery is refused 503 (the sender retries), never handled without a record.
    let mut bodies = Vec::new();
    for i in 0..CAPACITY {
        bodies.push(format!(
            r#"{{"data":{{"event":"auth","connectionId":"CON-{i}","serviceName":"xero"}},"requestId":"fill-{i}"}}"#
        ));
    }
    let mut accepted = 0;
    for body in &bodies {
        let (body, headers) = railz_delivery(body.clone());
        let answer = post_to(addr, "/webhooks/railz", body, headers).await;
        if handled(&answer) {
            accepted += 1;
        } else {
            assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
            assert_eq!(&answer.body[..], b"Service Unavailable");
        }
    }
    assert_eq!(
        accepted,
        CAPACITY - 1,
        "one slot holds the captured delivery"
    );
    let replay = post_to(
        addr,
        "/webhooks/railz",
        captured.0.clone(),
        captured.1.clone(),
    )
    .await;
    assert!(replay.duplicate, "{replay:?}");
    assert_eq!(seen.calls("railz"), CAPACITY);
}
