//! The metrics and the per-delivery span, through a real HTTP server on loopback.
//!
//! A receiver like the example's (verifying layer, in-memory idempotency, `WebhookEvent`
//! extractor, `GET /metrics` from `metrics-exporter-prometheus`) gets a known mix of
//! deliveries; the scrape must count each exactly. Its recorder is installed for this
//! test's thread only (`metrics::with_local_recorder` around a current-thread runtime), so
//! other tests in this binary neither see nor disturb it.
#![cfg(all(
    feature = "metrics",
    feature = "axum",
    feature = "idempotency",
    feature = "tracing"
))]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::routing::{get, post};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ledgerhook::idempotency::{IdempotencyLayer, KeySource};
use ledgerhook::{Verifier, VerifyWebhookLayer, WebhookEvent, railz};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use tower::ServiceBuilder;

const SECRET: &str = "metrics-test-railz-secret";
const LIMIT: usize = 4096;
/// Each request's bound, so a hung server fails the test instead of stalling CI.
const DEADLINE: Duration = Duration::from_secs(10);

const AUTH: &[u8] = br#"{"requestId":"req-auth-1","data":{"event":"auth","connectionId":"CON-1"}}"#;
const BRAND_NEW: &[u8] = br#"{"requestId":"req-new-1","data":{"event":"sender chosen \"text\""}}"#;
const LOGIN: &[u8] = br#"{"requestId":"req-login-1","data":{"event":"login"}}"#;
const DELETE: &[u8] = br#"{"requestId":"req-delete-1","data":{"event":"delete"}}"#;
const NOT_JSON: &[u8] = b"{\"data\":";

/// Accepts every event but `login` (refused, 400) and `delete` (fails, 500), and logs.
async fn on_railz(WebhookEvent(event): WebhookEvent<railz::Event>) -> StatusCode {
    tracing::info!(target: "handler", "handled {}", event.tag());
    match event {
        railz::Event::Login(_) => StatusCode::BAD_REQUEST,
        railz::Event::Delete(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::OK,
    }
}

fn app(prometheus: PrometheusHandle) -> Router {
    let verify = VerifyWebhookLayer::railz(SECRET)
        .unwrap()
        .max_body_size(LIMIT);
    let dedup = IdempotencyLayer::in_memory()
        .namespace("railz")
        .key(KeySource::railz());
    Router::new()
        .route(
            "/webhooks/railz",
            post(on_railz).route_layer(ServiceBuilder::new().layer(verify).layer(dedup)),
        )
        .route(
            "/metrics",
            get(move || std::future::ready(prometheus.render())),
        )
}

/// Runs `test` on a current-thread runtime with `recorder` as this thread's recorder.
fn with_recorder<F: std::future::Future>(recorder: &PrometheusRecorder, test: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(recorder, || {
        ledgerhook::observe::metrics::describe();
        runtime.block_on(test)
    })
}

async fn start(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Bytes,
    headers: HeaderMap,
) -> (StatusCode, Bytes) {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(body))
        .unwrap();
    request.headers_mut().extend(headers);
    let client = Client::builder(TokioExecutor::new()).build_http();
    let exchange = async {
        let response = client.request(request).await.expect("response");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, body)
    };
    tokio::time::timeout(DEADLINE, exchange)
        .await
        .expect("server answered in time")
}

fn signed(body: &[u8]) -> HeaderMap {
    Verifier::railz(SECRET)
        .unwrap()
        .sign(body, SystemTime::now())
}

/// Every sample of the scrape: `name{labels}` to value.
fn samples(scrape: &str) -> BTreeMap<String, f64> {
    scrape
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("sample line");
            (series.to_owned(), value.parse().expect("numeric value"))
        })
        .collect()
}

/// The samples of `name` (exactly that metric), by their label text.
fn series<'a>(samples: &'a BTreeMap<String, f64>, name: &str) -> BTreeMap<&'a str, f64> {
    samples
        .iter()
        .filter_map(|(series, value)| {
            let labels = series.strip_prefix(name)?.strip_prefix('{')?;
            Some((labels.strip_suffix('}')?, *value))
        })
        .collect()
}

/// Validates `scrape` with `promtool check metrics` when it is on PATH; with
/// `LEDGERHOOK_REQUIRE_PROMTOOL=1` (set by `.ci/metrics.sh`) its absence fails the test.
fn promtool_check(scrape: &str) {
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            assert!(
                std::env::var("LEDGERHOOK_REQUIRE_PROMTOOL").as_deref() != Ok("1"),
                "LEDGERHOOK_REQUIRE_PROMTOOL=1 but promtool did not start: {error}"
            );
            println!("promtool check metrics: not run (promtool not found: {error})");
            return;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scrape.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && report.trim().is_empty(),
        "promtool check metrics failed ({}):\n{report}\n--- scrape:\n{scrape}",
        output.status
    );
    println!("promtool check metrics: ran, no problems");
}

#[test]
fn the_scrape_counts_a_known_mix_exactly() {
    // Durations as histograms with buckets (as the example receiver sets them), body sizes
    // as the exporter's default summary: promtool checks both forms.
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &[0.001, 0.01, 0.1, 1.0])
        .unwrap()
        .build_recorder();
    let prometheus = recorder.handle();
    let scrape = with_recorder(&recorder, async {
        let addr = start(app(prometheus)).await;
        let post = |body: &'static [u8], headers: HeaderMap| {
            send(
                addr,
                "POST",
                "/webhooks/railz",
                Bytes::from_static(body),
                headers,
            )
        };
        let ten_minutes_ago = SystemTime::now() - Duration::from_secs(600);
        let forged = Verifier::railz("attacker-guess")
            .unwrap()
            .sign(AUTH, SystemTime::now());
        let mut malformed = HeaderMap::new();
        malformed.insert("railz-signature", HeaderValue::from_static("t=nonsense"));
        let oversized: &'static [u8] = Box::leak(vec![b' '; LIMIT + 1].into_boxed_slice());

        let mix: [(&str, &'static [u8], HeaderMap, StatusCode); 11] = [
            ("valid", AUTH, signed(AUTH), StatusCode::OK),
            ("duplicate", AUTH, signed(AUTH), StatusCode::OK),
            (
                "unknown event",
                BRAND_NEW,
                signed(BRAND_NEW),
                StatusCode::OK,
            ),
            (
                "handler refuses",
                LOGIN,
                signed(LOGIN),
                StatusCode::BAD_REQUEST,
            ),
            (
                "handler fails",
                DELETE,
                signed(DELETE),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            ("forged", AUTH, forged, StatusCode::UNAUTHORIZED),
            (
                "stale",
                AUTH,
                Verifier::railz(SECRET).unwrap().sign(AUTH, ten_minutes_ago),
                StatusCode::UNAUTHORIZED,
            ),
            (
                "oversized",
                oversized,
                signed(oversized),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            ("malformed header", AUTH, malformed, StatusCode::BAD_REQUEST),
            (
                "malformed body",
                NOT_JSON,
                signed(NOT_JSON),
                StatusCode::BAD_REQUEST,
            ),
            ("unsigned", AUTH, HeaderMap::new(), StatusCode::UNAUTHORIZED),
        ];
        for (what, body, headers, status) in mix {
            let (got, answer) = post(body, headers).await;
            assert_eq!(got, status, "{what}: {answer:?}");
        }
        // Off the webhook routes: a scrape is not a delivery.
        let (status, scrape) = send(addr, "GET", "/metrics", Bytes::new(), HeaderMap::new()).await;
        assert_eq!(status, StatusCode::OK);
        String::from_utf8(scrape.to_vec()).unwrap()
    });
    println!("{scrape}");
    let samples = samples(&scrape);

    let deliveries = series(&samples, "ledgerhook_deliveries_total");
    let expected: BTreeMap<&str, f64> = [
        ("accepted", 2.0),
        ("duplicate", 1.0),
        ("handler_rejected", 1.0),
        ("handler_failed", 1.0),
        ("signature_mismatch", 1.0),
        ("stale_timestamp", 1.0),
        ("too_large", 1.0),
        ("malformed_header", 1.0),
        ("invalid_json", 1.0),
        ("missing_signature", 1.0),
    ]
    .into_iter()
    .map(|(outcome, n)| {
        let labels: &str =
            Box::leak(format!(r#"provider="railz",outcome="{outcome}""#).into_boxed_str());
        (labels, n)
    })
    .collect();
    assert_eq!(deliveries, expected);

    let events = series(&samples, "ledgerhook_events_total");
    let expected: BTreeMap<&str, f64> = [
        (r#"provider="railz",event="auth""#, 1.0),
        (r#"provider="railz",event="unknown""#, 1.0),
        (r#"provider="railz",event="login""#, 1.0),
        (r#"provider="railz",event="delete""#, 1.0),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        events, expected,
        "the sender's own tag never becomes a label"
    );

    // Verified bodies: everything that reached the idempotency layer (the duplicate too).
    let verified = 6.0;
    let count = |name: &str| series(&samples, name);
    assert_eq!(
        count("ledgerhook_body_size_bytes_count"),
        BTreeMap::from([(r#"provider="railz""#, verified)])
    );
    assert_eq!(
        count("ledgerhook_handler_duration_seconds_count"),
        BTreeMap::from([(r#"provider="railz""#, verified)])
    );
    assert_eq!(
        count("ledgerhook_store_duration_seconds_count"),
        BTreeMap::from([
            (r#"provider="railz",operation="begin""#, verified),
            // The two accepted deliveries complete their records ...
            (r#"provider="railz",operation="complete""#, 2.0),
            // ... the refused, failed and unparsable ones release theirs.
            (r#"provider="railz",operation="release""#, 3.0),
        ])
    );
    let sizes: f64 = [AUTH, BRAND_NEW, LOGIN, DELETE, NOT_JSON, AUTH]
        .iter()
        .map(|b| b.len() as f64)
        .sum();
    assert_eq!(
        count("ledgerhook_body_size_bytes_sum"),
        BTreeMap::from([(r#"provider="railz""#, sizes)])
    );
    assert!(!scrape.contains(SECRET) && !scrape.contains("req-auth-1"));

    promtool_check(&scrape);
}

/// A `MakeWriter` collecting everything written, for the capturing subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

#[test]
fn a_handlers_log_lines_carry_the_delivery_span() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let recorder = PrometheusBuilder::new().build_recorder();
    let prometheus = recorder.handle();
    let long_id = format!(
        r#"{{"requestId":"{}\n","data":{{"event":"push"}}}}"#,
        "x".repeat(100)
    );
    let long_id: &'static [u8] = Box::leak(long_id.into_bytes().into_boxed_slice());
    // Another test's thread may register a callsite (an event's or the span's) while no
    // subscriber is installed, caching "never" (a tracing-core race): rebuild the cache and
    // allow retries until every line below is there, in its span. A field missing from the
    // span still fails every attempt.
    let spanned = [
        r#"webhook{provider="railz" event="auth" request_id="req-auth-1"}"#,
        r#"request_id="req-auth-1" dedup="processed" outcome="accepted""#,
        r#"webhook{provider="railz" dedup="duplicate" outcome="duplicate"}"#,
        "handled push",
    ];
    let mut logs = String::new();
    for _ in 0..3 {
        tracing::callsite::rebuild_interest_cache();
        captured.0.lock().unwrap().clear();
        with_recorder(&recorder, async {
            let addr = start(app(prometheus.clone())).await;
            for body in [AUTH, AUTH, long_id] {
                let (status, _) = send(
                    addr,
                    "POST",
                    "/webhooks/railz",
                    Bytes::from_static(body),
                    signed(body),
                )
                .await;
                assert_eq!(status, StatusCode::OK);
            }
        });
        logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        if spanned.iter().all(|needle| logs.contains(needle)) {
            break;
        }
    }
    println!("{logs}");
    let line = |needle: &str| {
        logs.lines()
            .find(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in\n{logs}"))
            .to_owned()
    };

    // The handler's own event, inside the span the layer opened and the extractor filled.
    let handled = line("handled auth");
    assert!(
        handled.contains(r#"webhook{provider="railz" event="auth" request_id="req-auth-1"}"#),
        "{handled}"
    );
    // When the delivery ends: the idempotency layer's verdict and the outcome.
    let closed = line(r#"request_id="req-auth-1" dedup="processed" outcome="accepted""#);
    assert!(closed.contains("close"), "{closed}");
    // The retry never reaches the handler; its span says why.
    let duplicate = line(r#"webhook{provider="railz" dedup="duplicate" outcome="duplicate"}"#);
    assert!(duplicate.contains("close"), "{duplicate}");
    // A verified but sender-chosen id is cut at 64 characters and made printable.
    let push = line("handled push");
    let expected = format!(r#"request_id="{}""#, "x".repeat(64));
    assert!(push.contains(&expected), "{push}");
}

/// The inbox gauges follow the store's stats: an envelope appended, then dead-lettered.
#[cfg(feature = "inbox")]
#[test]
fn inbox_gauges_follow_the_store() {
    use ledgerhook::inbox::{InboxStore, MemoryInbox, NewEnvelope};
    use ledgerhook::observe::metrics::record_inbox_stats;

    let recorder = PrometheusBuilder::new().build_recorder();
    let prometheus = recorder.handle();
    let scrape = with_recorder(&recorder, async {
        let store = MemoryInbox::new();
        record_inbox_stats("railz", &store.stats().await.unwrap());
        let empty = prometheus.render();
        store
            .append(&NewEnvelope::new(
                "railz",
                Bytes::from_static(br#"{"data":{"event":"auth"}}"#),
            ))
            .await
            .unwrap();
        record_inbox_stats("railz", &store.stats().await.unwrap());
        (empty, prometheus.render())
    });
    let (empty, one) = scrape;
    assert!(
        empty.contains(r#"ledgerhook_inbox_depth{namespace="railz"} 0"#),
        "{empty}"
    );
    assert!(
        one.contains(r#"ledgerhook_inbox_depth{namespace="railz"} 1"#),
        "{one}"
    );
    assert!(
        one.contains(r#"ledgerhook_inbox_dead_letters{namespace="railz"} 0"#),
        "{one}"
    );
    assert!(one.contains("ledgerhook_inbox_oldest_age_seconds"), "{one}");
    promtool_check(&one);
}
