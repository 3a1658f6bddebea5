//! The test receiver: the example receiver's three routes, built from ledgerhook's public
//! API, plus the hooks the reliability and flood drivers read. Not an example to copy.
//!
//! | route | checked with |
//! |---|---|
//! | `POST /webhooks/railz` | `Railz-Signature`, `RAILZ_WEBHOOK_SECRET` (dev default) |
//! | `POST /webhooks/rootfi` | RootFi v4 `X-RootFi-Signature`, `ROOTFI_WEBHOOK_SECRET` |
//! | `POST /webhooks/rootfi-v3` | header `ROOTFI_V3_HEADER` (`api_key`) equal to `ROOTFI_V3_TOKEN` |
//! | `GET /stats` | the records: `{"dedup", "handled", "refused", "store_len", "store_capacity"}` |
//!
//! Each webhook route is verified, then deduplicated (`IdempotencyLayer`, one store shared
//! by the routes, one namespace each), then counted: `handled` counts the handler's `2xx`
//! answers per [`record_key`], `refused` the others. A Railz event whose `requestId`
//! starts with [`REFUSE_ONCE_PREFIX`] is refused with `422` the first time it reaches the
//! handler.
//!
//! Environment (all optional):
//! - `LEDGERHOOK_ADDR` (`127.0.0.1:3000`), the secrets as in examples/receiver.rs.
//! - `LEDGERHOOK_REDIS_URL`: records in Redis; `LEDGERHOOK_DEDUP=off`: no dedup layer.
//! - `LEDGERHOOK_RECORDS=off`: no `record` hook (so `/stats` counts nothing, and no
//!   delivery is refused once): the example receiver's layers and nothing else, what the
//!   HTTP load benchmark measures.
//! - `LEDGERHOOK_STORE_CAPACITY`: keys of the in-memory store (the library's default).
//! - `LEDGERHOOK_BODY_DIGEST_WINDOW_MS`: how long the RootFi v4 route remembers a body
//!   digest (the library's default).
//! - `LEDGERHOOK_BODY_TIMEOUT_SECS` (10): the verifying layers' body deadline.
//! - `LEDGERHOOK_HEADER_TIMEOUT_SECS` (10, `0` = none, as `axum::serve`): the header-read
//!   timeout, kept per connection as in examples/receiver.rs.
//! - `LEDGERHOOK_MAX_CONNECTIONS` (2048, `0` = unlimited): connections served at once;
//!   further ones wait in the listen backlog.
//! - `LEDGERHOOK_MAX_BUF_BYTES` (16384 as examples/receiver.rs; `0` = hyper's default,
//!   about 400 KiB; else at least 8192): what hyper buffers per connection, which bounds an
//!   unfinished request head.
//! - `LEDGERHOOK_SERVE=axum`: serve with plain `axum::serve` instead (no header-read
//!   timeout, no connection limit: how examples/receiver.rs served before the fixes).
//! - `RUST_LOG` (`warn`).

// The example receiver's per-connection header-read deadline, the same file.
#[path = "../../../examples/support/header_deadline.rs"]
mod header_deadline;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use header_deadline::HeaderDeadline;
use http::StatusCode;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use ledgerhook::idempotency::{IdempotencyLayer, KeySource, MemoryStore, Store};
use ledgerhook::{VerifiedBytes, VerifyWebhookLayer, WebhookEvent, railz, rootfi};
use ledgerhook_tools::{
    DEFAULT_ROOTFI_V3_HEADER, DEV_ROOTFI_SECRET, DEV_ROOTFI_V3_TOKEN, REFUSE_ONCE_PREFIX, env_or,
    railz_secret, record_key,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What reached the handlers.
#[derive(Default)]
struct Records {
    handled: HashMap<String, u64>,
    refused: HashMap<String, u64>,
    refused_once: HashSet<String>,
}

#[derive(Clone)]
struct Hooks {
    records: Arc<Mutex<Records>>,
    memory: Option<MemoryStore>,
    mode: &'static str,
}

impl Hooks {
    fn lock(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn env_number<T: std::str::FromStr>(var: &str) -> Result<Option<T>, BoxError> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(Some(
            v.parse()
                .map_err(|_| format!("{var}={v:?} is not a number"))?,
        )),
        _ => Ok(None),
    }
}

/// The shared store (none with dedup off), the in-memory one again for its figures, and
/// the mode `/stats` reports.
type Stores = (Option<Arc<dyn Store>>, Option<MemoryStore>, &'static str);

/// The store: Redis with `LEDGERHOOK_REDIS_URL`, else in memory; none with dedup off.
fn store() -> Result<Stores, BoxError> {
    if std::env::var("LEDGERHOOK_DEDUP").is_ok_and(|v| v == "off") {
        return Ok((None, None, "off"));
    }
    if let Some(url) = std::env::var("LEDGERHOOK_REDIS_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        let store = ledgerhook::idempotency::RedisStore::open(&url)?;
        return Ok((Some(Arc::new(store)), None, "redis"));
    }
    let memory = match env_number::<usize>("LEDGERHOOK_STORE_CAPACITY")? {
        Some(capacity) => MemoryStore::with_capacity(capacity),
        None => MemoryStore::new(),
    };
    Ok((Some(Arc::new(memory.clone())), Some(memory), "memory"))
}

/// The one place the body-digest window is set: the library's window for keys taken from
/// the body's digest (identity keys keep their own, longer window).
fn with_body_digest_window(layer: IdempotencyLayer, window: Duration) -> IdempotencyLayer {
    layer.body_hash_ttl(window)
}

fn app() -> Result<Router, BoxError> {
    let body_timeout =
        Duration::from_secs(env_number("LEDGERHOOK_BODY_TIMEOUT_SECS")?.unwrap_or(10));
    let digest_window =
        env_number::<u64>("LEDGERHOOK_BODY_DIGEST_WINDOW_MS")?.map(Duration::from_millis);
    let railz = VerifyWebhookLayer::railz(railz_secret())?.body_timeout(body_timeout);
    let rootfi = VerifyWebhookLayer::rootfi(env_or("ROOTFI_WEBHOOK_SECRET", DEV_ROOTFI_SECRET))?
        .body_timeout(body_timeout);
    let rootfi_v3 = VerifyWebhookLayer::rootfi_v3(
        env_or("ROOTFI_V3_HEADER", DEFAULT_ROOTFI_V3_HEADER).as_str(),
        env_or("ROOTFI_V3_TOKEN", DEV_ROOTFI_V3_TOKEN),
    )?
    .body_timeout(body_timeout);

    let records = !std::env::var("LEDGERHOOK_RECORDS").is_ok_and(|v| v == "off");
    let (store, memory, mode) = store()?;
    let hooks = Hooks {
        records: Arc::default(),
        memory,
        mode,
    };
    // Inner to outer: records, deduplication, verification (added by the caller). Route
    // layers, so another method is answered 405 before any of them runs.
    let guard = |route: MethodRouter, namespace: &str, key: KeySource, window: Option<Duration>| {
        let route: MethodRouter = if records {
            route.route_layer(middleware::from_fn_with_state(hooks.clone(), record))
        } else {
            route
        };
        match &store {
            Some(store) => {
                let layer = IdempotencyLayer::from_arc(Arc::clone(store))
                    .namespace(namespace)
                    .key(key);
                let layer = match window {
                    Some(window) => with_body_digest_window(layer, window),
                    None => layer,
                };
                route.route_layer(layer)
            }
            None => route,
        }
    };
    Ok(Router::new()
        .route(
            "/webhooks/railz",
            guard(post(on_railz), "railz", KeySource::railz(), None).route_layer(railz),
        )
        .route(
            "/webhooks/rootfi",
            guard(
                post(on_rootfi),
                "rootfi",
                KeySource::body_hash(),
                digest_window,
            )
            .route_layer(rootfi),
        )
        .route(
            "/webhooks/rootfi-v3",
            guard(post(on_rootfi), "rootfi-v3", KeySource::body_hash(), None)
                .route_layer(rootfi_v3),
        )
        .route("/stats", get(stats).with_state(hooks.clone())))
}

/// Counts what the handler answered, per record key; refuses a marked event once.
async fn record(State(hooks): State<Hooks>, req: Request, next: Next) -> Response {
    let Some(key) = req
        .extensions()
        .get::<VerifiedBytes>()
        .map(|bytes| record_key(bytes))
    else {
        return next.run(req).await;
    };
    if key.starts_with(REFUSE_ONCE_PREFIX) && hooks.lock().refused_once.insert(key.clone()) {
        *hooks.lock().refused.entry(key).or_default() += 1;
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "not ready for this event yet",
        )
            .into_response();
    }
    let response = next.run(req).await;
    let mut records = hooks.lock();
    let counts = if response.status().is_success() {
        &mut records.handled
    } else {
        &mut records.refused
    };
    *counts.entry(key).or_default() += 1;
    drop(records);
    response
}

async fn stats(State(hooks): State<Hooks>) -> Json<Value> {
    let records = hooks.lock();
    Json(json!({
        "dedup": hooks.mode,
        "handled": records.handled,
        "refused": records.refused,
        "store_len": hooks.memory.as_ref().map(MemoryStore::len),
        "store_capacity": hooks.memory.as_ref().map(MemoryStore::capacity),
    }))
}

async fn on_railz(WebhookEvent(event): WebhookEvent<railz::Event>) -> Json<Value> {
    Json(json!({ "provider": "railz", "event": event.tag(), "known": event.is_known() }))
}

async fn on_rootfi(WebhookEvent(event): WebhookEvent<rootfi::Event>) -> Json<Value> {
    Json(json!({ "provider": "rootfi", "event": event.tag(), "known": event.is_known() }))
}

/// hyper's HTTP/1 server with a timer, so a header-read timeout can apply, and a bound on
/// the connections served at once.
async fn serve(listener: TcpListener, app: Router) -> Result<(), BoxError> {
    let header_timeout = match env_number::<u64>("LEDGERHOOK_HEADER_TIMEOUT_SECS")?.unwrap_or(10) {
        0 => None,
        secs => Some(Duration::from_secs(secs)),
    };
    let limit = match env_number::<usize>("LEDGERHOOK_MAX_CONNECTIONS")?.unwrap_or(2048) {
        0 => None,
        n => Some(Arc::new(Semaphore::new(n))),
    };
    let max_buf = match env_number::<usize>("LEDGERHOOK_MAX_BUF_BYTES")?.unwrap_or(16 * 1024) {
        0 => None,
        n if n < 8192 => {
            return Err(
                "LEDGERHOOK_MAX_BUF_BYTES must be 0 or at least 8192 (hyper's minimum)".into(),
            );
        }
        n => Some(n),
    };
    tracing::info!(
        ?header_timeout,
        ?max_buf,
        max_connections = limit.as_ref().map(|s| s.available_permits()),
        "serving"
    );
    loop {
        let permit = match &limit {
            Some(limit) => Some(Arc::clone(limit).acquire_owned().await?),
            None => None,
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let mut builder = hyper::server::conn::http1::Builder::new();
        if let Some(max_buf) = max_buf {
            builder.max_buf_size(max_buf);
        }
        let service = TowerToHyperService::new(app.clone());
        match header_timeout {
            Some(timeout) => {
                let deadline = HeaderDeadline::new(timeout);
                let service = deadline.track(service);
                tokio::spawn(async move {
                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                    let _ = deadline.run(connection).await;
                    drop(permit);
                });
            }
            None => {
                tokio::spawn(async move {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    drop(permit);
                });
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let addr = env_or("LEDGERHOOK_ADDR", "127.0.0.1:3000");
    let app = app()?;
    let listener = TcpListener::bind(&addr).await?;
    tracing::info!("test receiver on http://{}", listener.local_addr()?);
    if std::env::var("LEDGERHOOK_SERVE").is_ok_and(|v| v == "axum") {
        axum::serve(listener, app).await?;
        return Ok(());
    }
    serve(listener, app).await
}
