//! The example webhook receiver: `cargo run --example receiver`.
//!
//! | route | checked with |
//! |---|---|
//! | `POST /webhooks/railz` | `Railz-Signature` and `RAILZ_WEBHOOK_SECRET` |
//! | `POST /webhooks/rootfi` | RootFi v4 `X-RootFi-Signature` and `ROOTFI_WEBHOOK_SECRET` |
//! | `POST /webhooks/rootfi-v3` | header `ROOTFI_V3_HEADER` (default `api_key`) equal to `ROOTFI_V3_TOKEN` |
//!
//! Listens on `LEDGERHOOK_ADDR` (default `127.0.0.1:3000`). An unset secret falls back to a
//! fixed development secret, with a warning. Accepted deliveries are answered with
//! `{"provider", "event", "known"}`; refused ones with the layer's status, and the layer
//! logs the reason. `RUST_LOG` adjusts logging (default `info`).
//!
//! Try it with `cargo run -p ledgerhook-cli -- send railz tests/fixtures/railz_auth.json`.
//!
//! Each route answers redeliveries itself (`IdempotencyLayer`, keyed by the Railz
//! `requestId` and event tag, a RootFi event identity, or the body's SHA-256): in memory,
//! or shared by several receivers through Redis with `LEDGERHOOK_REDIS_URL` (needs
//! `--features redis`).
//!
//! Served with hyper directly rather than `axum::serve`, which has no header-read timeout:
//! a client gets 10 s and 16 KiB to send its request head, at most 1,024 connections are
//! open at once (further ones wait in the kernel's accept queue), and SIGTERM or Ctrl-C
//! stops accepting and lets requests in flight finish for up to 30 s. Bodies are bounded
//! by the layers (per-route limits, a shared 128 MiB budget, a body deadline).
//!
//! **Inbox mode** (off by default): `LEDGERHOOK_INBOX=memory` or `=redis` (needs
//! `--features inbox` / `inbox-redis`) replaces the handlers with an `InboxService`: each
//! verified delivery is stored and answered `200` once stored, `503` if it could not be.
//! `memory` also runs a worker in this process; with `redis` (at `LEDGERHOOK_REDIS_URL`)
//! run `cargo run --features inbox-redis --example worker` to process the inboxes.
//!
//! With `--features metrics`, `GET /metrics` serves the crate's metrics in the Prometheus
//! text format (`metrics-exporter-prometheus`, installed at the start of `main`): deliveries
//! by outcome, events by tag, body sizes, handler and store latency. Every log line of a
//! delivery carries its `webhook{provider, event, request_id, dedup, outcome}` span.

#[path = "support/header_deadline.rs"]
mod header_deadline;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{MethodRouter, post};
use axum::{Json, Router};
use header_deadline::HeaderDeadline;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use ledgerhook::idempotency::{IdempotencyLayer, KeySource, MemoryStore, Store};
use ledgerhook::{ConfigError, Secret, Verifier, VerifyWebhookLayer, WebhookEvent, railz, rootfi};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

// Development defaults, shared with the `ledgerhook` command line (cli/src/scheme.rs):
// never use them in production.
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
    /// Where to keep idempotency records shared with other instances; in memory if `None`.
    pub(crate) redis_url: Option<String>,
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
            redis_url: std::env::var("LEDGERHOOK_REDIS_URL")
                .ok()
                .filter(|v| !v.is_empty()),
        };
        for (a, b) in settings.reused_secrets() {
            tracing::warn!(
                "{a} and {b} are the same secret: never reuse one secret for two \
                 providers or schemes (a signature made for one route verifies on the other)"
            );
        }
        Ok(settings)
    }

    /// The pairs of settings that hold the same secret (compared in constant time by the
    /// library).
    pub(crate) fn reused_secrets(&self) -> Vec<(&'static str, &'static str)> {
        let verifiers = [
            ("RAILZ_WEBHOOK_SECRET", Verifier::railz(&self.railz_secret)),
            (
                "ROOTFI_WEBHOOK_SECRET",
                Verifier::rootfi_v4(&self.rootfi_secret),
            ),
            (
                "ROOTFI_V3_TOKEN",
                Verifier::rootfi_v3(&self.rootfi_v3_token),
            ),
        ];
        let configured: Vec<_> = verifiers
            .iter()
            .filter_map(|(name, verifier)| Some((*name, verifier.as_ref().ok()?)))
            .collect();
        ledgerhook::signature::shared_secrets(&configured)
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

/// The receiver's routes, each verified, then deduplicated, then handled.
pub(crate) fn app(settings: &Settings) -> Result<Router, ConfigError> {
    // The layers' defaults bound bodies: 256 KiB for Railz, 16 MiB for RootFi batches,
    // 128 MiB for all routes together, 30 s to send one. Providers send in well under a
    // second, so 10 s is plenty and frees a stalled sender's share of the budget sooner.
    let deadline = Duration::from_secs(10);
    let railz = VerifyWebhookLayer::railz(settings.railz_secret.expose())?.body_timeout(deadline);
    let rootfi =
        VerifyWebhookLayer::rootfi(settings.rootfi_secret.expose())?.body_timeout(deadline);
    let rootfi_v3 = VerifyWebhookLayer::rootfi_v3(
        settings.rootfi_v3_header.as_str(),
        settings.rootfi_v3_token.expose(),
    )?
    .body_timeout(deadline);

    // One store, one namespace per route (capacity is per namespace, so one route cannot
    // crowd out another's records).
    let store = idempotency_store(settings.redis_url.as_deref())?;
    // Inner to outer: the handler, deduplication, verification. `route_layer` wraps the
    // POST handler only, so another method gets the router's 405, not a 401.
    let webhook =
        |handler: MethodRouter, namespace: &str, key: KeySource, verify: VerifyWebhookLayer| {
            handler
                .route_layer(
                    IdempotencyLayer::from_arc(Arc::clone(&store))
                        .namespace(namespace)
                        .key(key),
                )
                .route_layer(verify)
        };
    Ok(Router::new()
        .route(
            "/webhooks/railz",
            webhook(post(on_railz), "railz", KeySource::railz(), railz),
        )
        .route(
            "/webhooks/rootfi",
            webhook(post(on_rootfi), "rootfi", KeySource::rootfi(), rootfi),
        )
        .route(
            "/webhooks/rootfi-v3",
            webhook(post(on_rootfi), "rootfi-v3", KeySource::rootfi(), rootfi_v3),
        ))
}

/// Redis if a URL is given, else in memory.
fn idempotency_store(redis_url: Option<&str>) -> Result<Arc<dyn Store>, ConfigError> {
    let Some(url) = redis_url else {
        return Ok(Arc::new(MemoryStore::new()));
    };
    #[cfg(feature = "redis")]
    {
        tracing::info!("idempotency records in Redis");
        Ok(Arc::new(ledgerhook::idempotency::RedisStore::open(url)?))
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = url;
        Err(ConfigError::invalid(
            "LEDGERHOOK_REDIS_URL",
            "needs the `redis` feature: cargo run --features redis --example receiver",
        ))
    }
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

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Serving {
    /// Time a client gets to send its request head before the connection is closed.
    pub(crate) header_read_timeout: Duration,
    /// What hyper buffers per connection (its `max_buf_size`, at least 8 KiB). It bounds an
    /// unfinished request head, which a timeout alone does not: a larger head is answered
    /// `431` and the connection closed.
    pub(crate) connection_buffer: usize,
    /// Connections served at once.
    pub(crate) max_connections: usize,
    /// How long requests in flight may take to finish after the shutdown signal.
    pub(crate) grace: Duration,
}

impl Default for Serving {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            // A webhook's request head is well under 16 KiB.
            connection_buffer: 16 * 1024,
            max_connections: 1024,
            grace: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets requests in flight
/// finish for up to `serving.grace`.
///
/// hyper's HTTP/1 server, with a deadline per connection ([`HeaderDeadline`]) so that a
/// client that does not send its next request head within `header_read_timeout` is
/// disconnected (`axum::serve` has no such timeout, so slow-header connections would pile
/// up), a bounded per-connection buffer, and a semaphore that bounds open connections: what
/// slow or idle clients can make the server hold is at most `max_connections ×
/// connection_buffer`, for at most the timeout.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    serving: Serving,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    // No hyper `header_read_timeout`: it arms a timer per request; `HeaderDeadline` keeps
    // one per connection.
    http.max_buf_size(serving.connection_buffer.max(8192));
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
        let deadline = HeaderDeadline::new(serving.header_read_timeout);
        let service = deadline.track(TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Errors here are the client's (reset, timed out): nothing to do.
            let _ = deadline.run(connection).await;
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
        axum::routing::get(move || std::future::ready(prometheus.render())),
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
    let settings = Settings::from_env()?;
    #[cfg(feature = "metrics")]
    let metrics = metrics_route()?;
    let app = match inbox_mode::app(&settings)? {
        Some(app) => app,
        None => app(&settings)?,
    };
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

/// Inbox mode (`LEDGERHOOK_INBOX=memory|redis`): every route stores the verified delivery
/// in an inbox named after it instead of calling a handler; `examples/worker.rs`
/// processes the Redis inboxes.
mod inbox_mode {
    use axum::Router;

    use super::Settings;

    #[cfg(feature = "inbox")]
    pub(crate) fn app(settings: &Settings) -> Result<Option<Router>, Box<dyn std::error::Error>> {
        use std::sync::Arc;
        use std::time::Duration;

        use axum::routing::post_service;
        use ledgerhook::idempotency::KeySource;
        use ledgerhook::inbox::{InboxService, InboxStore, MemoryInbox, Worker};
        use ledgerhook::{WebhookPayload, layer::VerifyWebhookLayer, railz, rootfi};

        let mode = std::env::var("LEDGERHOOK_INBOX").unwrap_or_default();
        type Open = dyn Fn(&str) -> Result<Arc<dyn InboxStore>, Box<dyn std::error::Error>>;
        let open: Box<Open> = match mode.as_str() {
            "" | "off" => return Ok(None),
            "memory" => Box::new(|_| Ok(Arc::new(MemoryInbox::new()))),
            #[cfg(feature = "inbox-redis")]
            "redis" => {
                let url = std::env::var("LEDGERHOOK_REDIS_URL")
                    .map_err(|_| "LEDGERHOOK_INBOX=redis needs LEDGERHOOK_REDIS_URL")?;
                Box::new(move |ns| Ok(Arc::new(ledgerhook::inbox::RedisInbox::open(&url, ns)?)))
            }
            other => {
                return Err(format!(
                        "LEDGERHOOK_INBOX={other}: expected memory, or redis (with --features inbox-redis)"
                    )
                    .into());
            }
        };
        let timeout = Duration::from_secs(10);
        let (railz_inbox, rootfi_inbox, v3_inbox) =
            (open("railz")?, open("rootfi")?, open("rootfi-v3")?);
        let tag = |body: &bytes::Bytes| {
            ledgerhook::Event::parse(body)
                .ok()
                .map(|e| e.tag().to_owned())
        };
        let app = Router::new()
            .route(
                "/webhooks/railz",
                post_service(
                    InboxService::from_arc("railz", Arc::clone(&railz_inbox))
                        .key(KeySource::railz())
                        .tag_with(tag),
                )
                .route_layer(
                    VerifyWebhookLayer::railz(&settings.railz_secret)?.body_timeout(timeout),
                ),
            )
            .route(
                "/webhooks/rootfi",
                post_service(
                    InboxService::from_arc("rootfi", Arc::clone(&rootfi_inbox))
                        .key(KeySource::rootfi())
                        .tag_with(tag),
                )
                .route_layer(
                    VerifyWebhookLayer::rootfi(&settings.rootfi_secret)?.body_timeout(timeout),
                ),
            )
            .route(
                "/webhooks/rootfi-v3",
                post_service(
                    InboxService::from_arc("rootfi-v3", Arc::clone(&v3_inbox))
                        .key(KeySource::rootfi())
                        .tag_with(tag),
                )
                .route_layer(
                    VerifyWebhookLayer::rootfi_v3(
                        settings.rootfi_v3_header.as_str(),
                        &settings.rootfi_v3_token,
                    )?
                    .body_timeout(timeout),
                ),
            );
        if mode == "memory" {
            // One process: the worker runs here (a memory inbox is not shared).
            let log = |provider: &'static str| {
                move |tag: String| async move {
                    tracing::info!(provider, event = %tag, "processed from the inbox");
                    Ok::<(), std::io::Error>(())
                }
            };
            let railz_log = log("railz");
            let rootfi_log = log("rootfi");
            let v3_log = log("rootfi-v3");
            let never = std::future::pending::<()>;
            tokio::spawn(
                Worker::<railz::Event>::from_arc(railz_inbox, move |e: railz::Event| {
                    railz_log(e.tag().to_owned())
                })
                .run(never()),
            );
            tokio::spawn(
                Worker::<rootfi::Event>::from_arc(rootfi_inbox, move |e: rootfi::Event| {
                    rootfi_log(e.tag().to_owned())
                })
                .run(never()),
            );
            tokio::spawn(
                Worker::<rootfi::Event>::from_arc(v3_inbox, move |e: rootfi::Event| {
                    v3_log(e.tag().to_owned())
                })
                .run(never()),
            );
        }
        tracing::info!(
            mode,
            "inbox mode: deliveries are stored, then processed by a worker"
        );
        Ok(Some(app))
    }

    #[cfg(not(feature = "inbox"))]
    pub(crate) fn app(_: &Settings) -> Result<Option<Router>, Box<dyn std::error::Error>> {
        match std::env::var("LEDGERHOOK_INBOX").as_deref() {
            Err(_) | Ok("" | "off") => Ok(None),
            Ok(_) => Err("LEDGERHOOK_INBOX needs --features inbox (or inbox-redis)".into()),
        }
    }
}
