//! Side-by-side measurement of the inbox (opt-in, bounded, loopback only), in one run:
//! receiver throughput and request latency with the inbox on Redis vs deduplication
//! only on Redis (`IdempotencyLayer` + `RedisStore`, no-op handler) vs neither
//! (verification + no-op handler); the worker's drain rate; accept-to-handler latency
//! with a no-op handler while deliveries arrive (at `INBOX_BENCH_LATENCY_CONCURRENCY`,
//! default 4, below saturation).
//!
//! `scripts/inbox-bench.sh` runs it in release mode against a throwaway redis-server;
//! `INBOX_BENCH_DELIVERIES` (default 20,000) and `INBOX_BENCH_CONCURRENCY` (64) size it.
#![cfg(all(feature = "inbox-redis", feature = "axum"))]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::routing::{post, post_service};
use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ledgerhook::idempotency::{IdempotencyLayer, KeySource, RedisStore};
use ledgerhook::inbox::{InboxService, InboxStore, Job, RedisInbox, Worker, from_service};
use ledgerhook::{Verifier, VerifyWebhookLayer, railz};
use tower::BoxError;

const SECRET: &str = "inbox-bench-secret";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn noop() -> &'static str {
    "ok"
}

async fn serve(app: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Load {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
}

/// Sends `n` unique signed Railz deliveries to `addr` at `concurrency`; every answer must
/// be a 2xx.
async fn load(addr: std::net::SocketAddr, tag: &str, n: usize, concurrency: usize) -> Load {
    let verifier = Verifier::railz(SECRET).unwrap();
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, verifier, next, tag) = (
            client.clone(),
            verifier.clone(),
            Arc::clone(&next),
            tag.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return latencies;
                }
                let body = format!(
                    r#"{{"data":{{"event":"auth","connectionId":"CON-{i}","serviceName":"xero"}},"requestId":"{tag}-{i}"}}"#
                );
                let mut req = Request::post(format!("http://{addr}/webhooks/railz"))
                    .body(Full::new(Bytes::from(body.clone())))
                    .unwrap();
                *req.headers_mut() = verifier.sign(body.as_bytes(), SystemTime::now());
                let sent = Instant::now();
                let res = client.request(req).await.expect("response");
                assert!(res.status().is_success(), "{}", res.status());
                latencies.push(sent.elapsed());
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    all.sort();
    Load {
        per_sec: n as f64 / elapsed.as_secs_f64(),
        p50: percentile(&all, 0.5),
        p99: percentile(&all, 0.99),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inbox_bench() {
    if std::env::var("LEDGERHOOK_INBOX_BENCH").as_deref() != Ok("1") {
        eprintln!("note: inbox bench skipped (scripts/inbox-bench.sh runs it)");
        return;
    }
    let url = std::env::var("LEDGERHOOK_REDIS_URL").expect("LEDGERHOOK_REDIS_URL");
    let n = env_u64("INBOX_BENCH_DELIVERIES", 20_000) as usize;
    let c = env_u64("INBOX_BENCH_CONCURRENCY", 64) as usize;
    let run = format!(
        "{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );

    let neither = serve(Router::new().route(
        "/webhooks/railz",
        post(noop).layer(VerifyWebhookLayer::railz(SECRET).unwrap()),
    ))
    .await;
    let dedup_store = RedisStore::open(&url)
        .unwrap()
        .key_prefix(format!("bench-{run}:"));
    let deduplicated: axum::routing::MethodRouter = post(noop).layer(
        IdempotencyLayer::new(dedup_store)
            .namespace("railz")
            .key(KeySource::railz()),
    );
    let dedup = serve(Router::new().route(
        "/webhooks/railz",
        deduplicated.layer(VerifyWebhookLayer::railz(SECRET).unwrap()),
    ))
    .await;
    let inbox_store = RedisInbox::open(&url, &format!("bench-{run}")).unwrap();
    let inbox = serve(
        Router::new().route(
            "/webhooks/railz",
            post_service(InboxService::new("railz", inbox_store.clone()).key(KeySource::railz()))
                .layer(VerifyWebhookLayer::railz(SECRET).unwrap()),
        ),
    )
    .await;

    // Warm-up (connections, script cache), then the three receivers one after the other.
    for addr in [neither, dedup, inbox] {
        load(addr, &format!("warm-{run}"), 500, c).await;
    }
    let a = load(neither, &format!("n-{run}"), n, c).await;
    let b = load(dedup, &format!("d-{run}"), n, c).await;
    let i = load(inbox, &format!("i-{run}"), n, c).await;

    // Drain rate: one worker, no-op handler, over what the inbox run stored.
    let stored = inbox_store.stats().await.unwrap().depth;
    let drain_store = inbox_store.clone();
    let noop_handler = |_e: railz::Event| std::future::ready(Ok::<(), BoxError>(()));
    let started = Instant::now();
    let report = Worker::<railz::Event>::new(inbox_store.clone(), noop_handler)
        .concurrency(64)
        .poll_interval(Duration::from_millis(5))
        .run(async move {
            loop {
                let s = drain_store.stats().await.unwrap();
                if s.depth == 0 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
    let drain_secs = started.elapsed().as_secs_f64();

    // Accept-to-handler latency while deliveries arrive: the worker records
    // now − received_at for each envelope (received_at is stored with ms precision).
    let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&latencies);
    let handler = tower::service_fn(move |job: Job<railz::Event>| {
        let lag = SystemTime::now()
            .duration_since(job.envelope.received_at)
            .unwrap_or_default();
        sink.lock().unwrap().push(lag);
        std::future::ready(Ok::<(), BoxError>(()))
    });
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(
        Worker::<railz::Event>::new(inbox_store.clone(), from_service(handler))
            .concurrency(64)
            .poll_interval(Duration::from_millis(5))
            .run(async move {
                let _ = stop_rx.await;
            }),
    );
    // Below saturation (few senders), so the figure is the pipeline's latency, not a
    // queue built up by the load phase above.
    let latency_c = env_u64("INBOX_BENCH_LATENCY_CONCURRENCY", 4) as usize;
    let latency_n = n / 4;
    let paced = load(inbox, &format!("l-{run}"), latency_n, latency_c).await;
    while latencies.lock().unwrap().len() < latency_n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = stop_tx.send(());
    worker.await.unwrap();
    let mut lags = latencies.lock().unwrap().clone();
    lags.sort();

    println!("inbox bench: {n} unique deliveries per receiver at concurrency {c}, Redis at {url}");
    println!("  receiver                     req/s    p50      p99");
    for (name, l) in [
        ("verify only (no-op handler)", &a),
        ("dedup on Redis (no-op)", &b),
        ("inbox on Redis", &i),
    ] {
        println!(
            "  {name:<28} {:>7.0}  {:>7.2?}  {:>7.2?}",
            l.per_sec, l.p50, l.p99
        );
    }
    println!(
        "  throughput ratio inbox/dedup {:.2}, inbox/verify-only {:.2}",
        i.per_sec / b.per_sec,
        i.per_sec / a.per_sec
    );
    println!(
        "  drain: {stored} envelopes in {drain_secs:.2} s = {:.0}/s (one worker, concurrency 64, no-op handler; {report:?})",
        stored as f64 / drain_secs
    );
    println!(
        "  accept-to-handler latency ({} events at concurrency {latency_c} = {:.0} req/s, worker running, ms precision): p50 {:?}, p99 {:?}",
        lags.len(),
        paced.per_sec,
        percentile(&lags, 0.5),
        percentile(&lags, 0.99)
    );
}
