//! The example webhook receiver: `cargo run --example receiver`.
//!
//! | route | checked with |
//! |---|---|
//! | `POST /webhooks/railz` | `Railz-Signature` and `RAILZ_WEBHOOK_SECRET` |
//! | `POST /webhooks/rootfi` | RootFi v4 `X-RootFi-Signature` and `ROOTFI_WEBHOOK_SECRET` |
//! | `POST /webhooks/rootfi-v3` | header `ROOTFI_V3_HEADER` (default `api_key`) equal to `ROOTFI_V3_TOKEN` |
//!
//! Listens on `LEDGERHOOK_ADDR` (default `127.0.0.1:3000`). An unset secret falls back to a
//! fixed development secret, with a warning.
//!
//! Served with hyper directly rather than `axum::serve`, which has no header-read timeout:
//! a client gets 10 s to send its headers, at most 1,024 connections are open at once
//! (further ones wait in the kernel's accept queue), and SIGTERM or Ctrl-C stops accepting
//! and lets requests in flight finish for up to 30 s. Bodies are bounded by the layers
//! (per-route limits, a shared 128 MiB budget, a 10 s body deadline). Accepted deliveries are answered with
//! `{"provider", "event", "known"}`; refused ones with the layer's status, and the layer
//! logs the reason. `RUST_LOG` adjusts logging (default `info`).
//!
//! Try it with `cargo run --example send -- railz tests/fixtures/railz_auth.json`.
//!
//! Each route also answers duplicate deliveries itself (`IdempotencyLayer`, keyed by the
//! Railz `requestId` and event tag, a RootFi event identity, or the body's SHA-256): in
//! memory by default, or shared by several receivers through Redis with
//! `LEDGERHOOK_REDIS_URL` (needs `--features redis`).
//! `LEDGERHOOK_DEDUP=off` turns deduplication off (to measure the verifying path alone).
//! `LEDGERHOOK_STATS=1` records which events a handler accepted and serves them at
//! `GET /stats` (used by `scripts/reliability.sh`; the records grow with every event).
//!
//! With `--features metrics`, `GET /metrics` serves the crate's metrics in the Prometheus
//! text format (`metrics-exporter-prometheus`, installed at the start of `main`): deliveries
//! by outcome, events by tag, body sizes, handler and store latency. Every log line of a
//! delivery carries its `webhook{provider, event, request_id, dedup, outcome}` span.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use axum::{Json, Router, routing::post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use ledgerhook::idempotency::{IdempotencyLayer, KeySource, MemoryStore, Store};
use ledgerhook::{ConfigError, Secret, VerifiedBytes};
use ledgerhook::{extract::WebhookEvent, layer::VerifyWebhookLayer, railz, rootfi};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

// Development defaults, shared with examples/send.rs: never use them in production.
const DEV_RAILZ_SECRET: &str = "ledgerhook-dev-railz-secret";
const DEV_ROOTFI_SECRET: &str = "ledgerhook-dev-rootfi-secret";
const DEV_ROOTFI_V3_TOKEN: &str = "ledgerhook-dev-rootfi-v3-token";
const DEFAULT_ROOTFI_V3_HEADER: &str = "api_key";
const DEFAULT_ADDR: &str = "127.0.0.1:3000";

/// The receiver's settings. Secrets are kept in `Secret`: zeroized on drop, redacted in
/// `Debug`, never empty.
pub(crate) struct Settings {
    pub(crate) railz_secret: Secret,
    pub(crate) rootfi_secret: Secret,
    pub(crate) rootfi_v3_header: String,
    pub(crate) rootfi_v3_token: Secret,
}

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Serving {
    /// Time a client gets to send its request headers before the connection is closed.
    pub(crate) header_read_timeout: Duration,
    /// Connections served at once.
    pub(crate) max_connections: usize,
    /// How long requests in flight may take to finish after the shutdown signal.
    pub(crate) grace: Duration,
}

impl Default for Serving {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            grace: Duration::from_secs(30),
        }
    }
}

/// Deduplication settings; the default is an in-memory store and no records.
#[derive(Default)]
pub(crate) struct Dedup {
    /// `LEDGERHOOK_REDIS_URL`: share idempotency records through Redis.
    pub(crate) redis_url: Option<String>,
    /// `LEDGERHOOK_DEDUP=off` turns the idempotency layer off.
    pub(crate) off: bool,
    /// `LEDGERHOOK_STATS=1`: record handled events and serve `GET /stats`.
    pub(crate) stats: bool,
}

impl Dedup {
    fn from_env() -> Self {
        Self {
            redis_url: std::env::var("LEDGERHOOK_REDIS_URL")
                .ok()
                .filter(|v| !v.is_empty()),
            off: std::env::var("LEDGERHOOK_DEDUP").is_ok_and(|v| v == "off"),
            stats: std::env::var("LEDGERHOOK_STATS").is_ok_and(|v| v == "1"),
        }
    }
}

impl Settings {
    /// Reads the environment, warning for every secret that falls back to its dev default
    /// and for secrets used twice.
    fn from_env() -> Result<Self, ConfigError> {
        let settings = Self {
            railz_secret: secret_from_env("RAILZ_WEBHOOK_SECRET", DEV_RAILZ_SECRET)?,
            rootfi_secret: secret_from_env("ROOTFI_WEBHOOK_SECRET", DEV_ROOTFI_SECRET)?,
            rootfi_v3_header: std::env::var("ROOTFI_V3_HEADER")
                .unwrap_or_else(|_| DEFAULT_ROOTFI_V3_HEADER.to_owned()),
            rootfi_v3_token: secret_from_env("ROOTFI_V3_TOKEN", DEV_ROOTFI_V3_TOKEN)?,
        };
        let secrets = [
            ("RAILZ_WEBHOOK_SECRET", &settings.railz_secret),
            ("ROOTFI_WEBHOOK_SECRET", &settings.rootfi_secret),
            ("ROOTFI_V3_TOKEN", &settings.rootfi_v3_token),
        ];
        for (i, (a, first)) in secrets.iter().enumerate() {
            for (b, second) in &secrets[i + 1..] {
                if first.expose() == second.expose() {
                    tracing::warn!(
                        "{a} and {b} are the same secret: never reuse one secret for two \
                         providers or schemes (a signature made for one route verifies on the other)"
                    );
                }
            }
        }
        Ok(settings)
    }
}

fn secret_from_env(var: &str, dev_default: &str) -> Result<Secret, ConfigError> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Secret::new(value),
        _ => {
            tracing::warn!(
                "{var} is not set: using the fixed DEVELOPMENT secret from examples/receiver.rs. \
                 Anyone can sign requests with it; set {var} before receiving real webhooks."
            );
            Secret::new(dev_default)
        }
    }
}

/// The receiver's routes, each behind its own verifying layer and an in-memory
/// idempotency layer.
#[allow(dead_code)] // Used by tests/it/e2e.rs; `main` reads the dedup settings from the environment.
pub(crate) fn app(settings: &Settings) -> Result<Router, ConfigError> {
    app_with(settings, &Dedup::default())
}

/// The receiver's routes with the given deduplication settings.
pub(crate) fn app_with(settings: &Settings, dedup: &Dedup) -> Result<Router, ConfigError> {
    // The layers' defaults bound bodies: 256 KiB for Railz, 16 MiB for RootFi batches,
    // 128 MiB for all routes together. The body deadline is tightened from 30 s to 10 s
    // (scripts/reliability.sh counts on it): providers send in well under a second.
    let deadline = Duration::from_secs(10);
    let railz = VerifyWebhookLayer::railz(settings.railz_secret.expose())?.body_timeout(deadline);
    let rootfi =
        VerifyWebhookLayer::rootfi(settings.rootfi_secret.expose())?.body_timeout(deadline);
    let rootfi_v3 = VerifyWebhookLayer::rootfi_v3(
        settings.rootfi_v3_header.as_str(),
        settings.rootfi_v3_token.expose(),
    )?
    .body_timeout(deadline);

    // Inner to outer: records (if on), deduplication (if on), verification. `route_layer`
    // wraps the POST handler only, so another method gets the router's 405, not a 401.
    let store = idempotency_store(dedup)?;
    let records = dedup.stats.then(Records::default);
    let guard = |route: MethodRouter, namespace: &str, key: KeySource| {
        let route = match &records {
            Some(records) => {
                route.route_layer(middleware::from_fn_with_state(records.clone(), record))
            }
            None => route,
        };
        match &store {
            Some(store) => route.route_layer(
                IdempotencyLayer::from_arc(Arc::clone(store))
                    .namespace(namespace)
                    .key(key),
            ),
            None => route,
        }
    };
    let mut app = Router::new()
        .route(
            "/webhooks/railz",
            guard(post(on_railz), "railz", KeySource::railz()).route_layer(railz),
        )
        .route(
            "/webhooks/rootfi",
            guard(post(on_rootfi), "rootfi", KeySource::rootfi()).route_layer(rootfi),
        )
        .route(
            "/webhooks/rootfi-v3",
            guard(post(on_rootfi), "rootfi-v3", KeySource::rootfi()).route_layer(rootfi_v3),
        );
    if let Some(records) = records {
        let mode = match (&store, &dedup.redis_url) {
            (None, _) => "off",
            (Some(_), Some(_)) => "redis",
            (Some(_), None) => "memory",
        };
        app = app.route("/stats", get(stats).with_state((records, mode)));
    }
    Ok(app)
}

/// The idempotency store: Redis if `LEDGERHOOK_REDIS_URL` is set, else in memory; `None`
/// with `LEDGERHOOK_DEDUP=off`.
fn idempotency_store(dedup: &Dedup) -> Result<Option<Arc<dyn Store>>, ConfigError> {
    if dedup.off {
        tracing::warn!("LEDGERHOOK_DEDUP=off: duplicate deliveries reach the handlers");
        return Ok(None);
    }
    let Some(url) = &dedup.redis_url else {
        return Ok(Some(Arc::new(MemoryStore::new())));
    };
    #[cfg(feature = "redis")]
    {
        tracing::info!("idempotency records in Redis");
        Ok(Some(Arc::new(ledgerhook::idempotency::RedisStore::open(
            url,
        )?)))
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = url;
        Err(ConfigError::Invalid(
            "LEDGERHOOK_REDIS_URL needs the `redis` feature: cargo run --features redis --example receiver",
        ))
    }
}

/// Which events reached a handler, and how often (`LEDGERHOOK_STATS=1` only).
type Records = Arc<Mutex<HashMap<String, u64>>>;

/// Counts a delivery the handler accepted (2xx), by Railz `requestId` (else body size).
///
/// After the handler, not before: the event is parsed by the handler's extractor, so a
/// verified but malformed body reaches this point and is refused (400/422) after it.
async fn record(State(records): State<Records>, req: Request, next: Next) -> Response {
    let id = req.extensions().get::<VerifiedBytes>().map(|body| {
        #[derive(serde::Deserialize)]
        struct Envelope {
            #[serde(rename = "requestId")]
            request_id: Option<String>,
        }
        serde_json::from_slice::<Envelope>(body)
            .ok()
            .and_then(|e| e.request_id)
            .unwrap_or_else(|| format!("{} bytes", body.len()))
    });
    let response = next.run(req).await;
    if let Some(id) = id.filter(|_| response.status().is_success()) {
        *records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(id)
            .or_default() += 1;
    }
    response
}

/// `GET /stats`: `{"dedup": "memory"|"redis"|"off", "handled": {"<id>": <count>}}`.
async fn stats(State((records, mode)): State<(Records, &'static str)>) -> Json<Value> {
    let handled = records
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Json(json!({ "dedup": mode, "handled": handled }))
}

async fn on_railz(WebhookEvent(event): WebhookEvent<railz::Event>) -> Json<Value> {
    accepted("railz", event.tag(), event.is_known())
}

async fn on_rootfi(WebhookEvent(event): WebhookEvent<rootfi::Event>) -> Json<Value> {
    accepted("rootfi", event.tag(), event.is_known())
}

/// One log line per delivery, and the JSON answer.
fn accepted(provider: &str, tag: &str, known: bool) -> Json<Value> {
    tracing::info!(provider, event = tag, known, "webhook accepted");
    Json(json!({ "provider": provider, "event": tag, "known": known }))
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets requests in flight
/// finish for up to `serving.grace`.
///
/// hyper's HTTP/1 server with a timer, so that a client that does not send its headers
/// within `header_read_timeout` is disconnected (`axum::serve` has no such timeout, so
/// slow-header connections would pile up), and a semaphore that bounds open connections.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    serving: Serving,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(serving.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(serving.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Wait for a free slot before accepting: excess clients queue in the kernel.
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, typically: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Errors here are the client's (reset, timed out): nothing to do.
            let _ = connection.await;
            drop(permit);
        });
    }
    tracing::info!("shutting down: finishing requests in flight");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(serving.grace) => {
            tracing::warn!("requests still in flight after {:?}: stopping", serving.grace);
        }
    }
}

/// Resolves on Ctrl-C, or on SIGTERM (what container runtimes send) on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// `GET /metrics`: installs the Prometheus recorder (before any route records) and serves
/// its scrape, off the webhook routes.
#[cfg(feature = "metrics")]
fn metrics_route() -> Result<Router, Box<dyn std::error::Error>> {
    use ledgerhook::observe::metrics::BODY_SIZE_BYTES;
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

    let prometheus = PrometheusBuilder::new()
        // Histograms with buckets (aggregatable across instances) rather than summaries.
        .set_buckets_for_metric(
            Matcher::Suffix("_seconds".into()),
            &[0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0],
        )?
        .set_buckets_for_metric(
            Matcher::Full(BODY_SIZE_BYTES.into()),
            &[
                256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 16777216.0,
            ],
        )?
        .install_recorder()?;
    ledgerhook::observe::metrics::describe();
    // The exporter drains histogram samples on upkeep (and on each scrape).
    let upkeep = prometheus.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    Ok(Router::new().route(
        "/metrics",
        get(move || std::future::ready(prometheus.render())),
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let addr = std::env::var("LEDGERHOOK_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_owned());
    #[cfg(feature = "metrics")]
    let metrics = metrics_route()?;
    let app = app_with(&Settings::from_env()?, &Dedup::from_env())?;
    #[cfg(feature = "metrics")]
    let app = app.merge(metrics);
    let listener = TcpListener::bind(&addr).await?;
    tracing::info!(
        "listening on http://{}: POST /webhooks/railz, /webhooks/rootfi, /webhooks/rootfi-v3{}",
        listener.local_addr()?,
        if cfg!(feature = "metrics") {
            "; GET /metrics"
        } else {
            " (GET /metrics with --features metrics)"
        }
    );
    serve(listener, app, Serving::default(), shutdown_signal()).await;
    Ok(())
}
