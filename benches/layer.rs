//! The whole receiving path: an axum `Router` driven in-process with
//! `tower::ServiceExt::oneshot`, one signed delivery per call, side by side:
//!
//! - `bare`: the handler takes `Bytes` and does nothing (no verification, no parsing): the
//!   framework's own cost, the baseline for "added cost per request".
//! - `naive`: what a user hand-rolls today: an `axum::middleware::from_fn` middleware that
//!   collects the body, parses `Railz-Signature`, hex-decodes the signature into a `Vec`,
//!   keys HMAC-SHA256 with the secret, verifies, checks the timestamp window and rebuilds
//!   the request; then `Json<T>` of a derived `#[serde(tag = "event")]` enum with owned
//!   `String`s.
//! - `in_handler`: our `Verifier` and `railz::Event::from_slice` called inside a handler
//!   that takes `HeaderMap` and `Bytes`: the work without the layer's machinery.
//! - `ours`: `VerifyWebhookLayer::railz` on the route and the `WebhookEvent<railz::Event>`
//!   extractor.
//!
//! The same for RootFi v4 (`X-RootFi-Signature`, HMAC of the body) on the real
//! `rootfi_sync_started` fixture (1276 bytes), whose naive model is internally tagged at the
//! top level (`webhook_type`), so serde buffers the whole body before picking the variant.
//!
//! Within a group every request carries the same headers (`content-type:
//! application/json`, a fresh signature) and body (Railz: a real fixture grown and padded to
//! 1 KiB and 16 KiB). All of them
//! answer `200 OK`, checked before measuring. Each iteration builds its request (a few
//! hundred ns, the same for every contender; `iter_batched` was not used because freeing
//! its large batches made glibc return memory to the kernel and page-fault it back inside
//! the timed part). The futures complete without waiting on I/O, so they are polled with a
//! no-op waker instead of a runtime.
//!
//! Run: `cargo bench --bench layer`, then `python3 benches/report.py`.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use criterion::{Criterion, Throughput};
use hmac::{Hmac, KeyInit, Mac};
use ledgerhook::extract::WebhookEvent;
use ledgerhook::layer::VerifyWebhookLayer;
use ledgerhook::{Verifier, railz, rootfi};
use sha2::Sha256;
use tower::ServiceExt;

#[path = "support/mod.rs"]
mod support;

const SECRET: &str = "railz_webhook_secret_for_benchmarks";
const PATH: &str = "/webhooks/railz";

/// The straightforward serde model of a Railz delivery: internally tagged on
/// `data.event`, owned strings.
#[allow(dead_code)]
mod derived {
    use serde::Deserialize;
    use serde_json::Value;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct Delivery {
        pub(crate) data: Event,
        request_id: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(tag = "event", rename_all = "camelCase")]
    pub(crate) enum Event {
        Login(Connection),
        Auth(Connection),
        #[serde(rename_all = "camelCase")]
        ConnectionStatus {
            #[serde(flatten)]
            connection: Connection,
            old_status: Option<String>,
            new_status: Option<String>,
        },
        Data(Sync),
        DataPerType(Sync),
        Push(Value),
        BatchPush(Value),
        Delete(Value),
        CustomerRequest(Value),
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct Connection {
        connection_id: Option<String>,
        connection_uuid: Option<String>,
        business_uuid: Option<String>,
        business_name: Option<String>,
        service_name: Option<String>,
        service_account_ref: Option<Value>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct Sync {
        connection_id: Option<String>,
        connection_uuid: Option<String>,
        business_uuid: Option<String>,
        business_name: Option<String>,
        service_name: Option<String>,
        service_account_ref: Option<ServiceAccountRef>,
        data_sync_type: Option<String>,
        sandbox: Option<bool>,
        request_type: Option<String>,
        requests: Option<Vec<DataRequest>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct ServiceAccountRef {
        id: Option<String>,
        entity_ref: Option<Value>,
    }

    /// RootFi: internally tagged at the top level, so serde buffers the whole body into
    /// its intermediate `Content` tree before picking the variant.
    #[derive(Deserialize)]
    #[serde(tag = "webhook_type", rename_all = "SCREAMING_SNAKE_CASE")]
    pub(crate) enum RootFi {
        DataModelChanges {
            company_id: Option<u64>,
            integration_type: Option<String>,
            data_model: Option<String>,
            #[serde(rename = "type")]
            operation: Option<String>,
            created_at: Option<String>,
            data: Option<Vec<Value>>,
        },
        ConnectionChanged {
            company_id: Option<u64>,
            integration_type: Option<String>,
            connection_status: Option<String>,
            created_at: Option<String>,
        },
        SyncStarted(RootFiSync),
        SyncCompleted(RootFiSync),
        Integration(Value),
    }

    #[derive(Deserialize)]
    pub(crate) struct RootFiSync {
        company_id: Option<u64>,
        integration_type: Option<String>,
        created_at: Option<String>,
        data: Option<SyncData>,
    }

    #[derive(Deserialize)]
    pub(crate) struct SyncData {
        id: Option<String>,
        status: Option<String>,
        #[serde(rename = "type")]
        sync_type: Option<String>,
        total_jobs_count: Option<u64>,
        success_jobs_count: Option<u64>,
        failed_jobs_count: Option<u64>,
        running_jobs_count: Option<u64>,
        created_jobs_count: Option<u64>,
        start_time: Option<String>,
        end_time: Option<String>,
        jobs: Option<Vec<Job>>,
    }

    #[derive(Deserialize)]
    pub(crate) struct Job {
        rootfi_id: Option<String>,
        status: Option<String>,
        error: Option<Value>,
        data_model: Option<String>,
        job_type: Option<String>,
        start_time: Option<String>,
        end_time: Option<String>,
        upload_job_id: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct DataRequest {
        id: Option<String>,
        request: Option<String>,
        start_date: Option<String>,
        end_date: Option<String>,
        report_frequency: Option<String>,
        status: Option<String>,
    }
}

/// The hand-rolled verifying middleware (what the HMAC crate's docs lead to).
async fn naive_verify(req: Request, next: Next) -> Result<Response, StatusCode> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 8 << 20)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE)?;
    let header = parts
        .headers
        .get("railz-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let (mut ts, mut sig) = (None, None);
    for element in header.split(',') {
        match element.trim().split_once('=') {
            Some(("t", v)) => ts = Some(v),
            Some(("v", v)) => sig = Some(v),
            _ => {}
        }
    }
    let (ts, sig) = ts.zip(sig).ok_or(StatusCode::BAD_REQUEST)?;
    let sig = const_hex::decode(sig).map_err(|_| StatusCode::UNAUTHORIZED)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes())
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(&bytes);
    mac.verify_slice(&sig)
        .map_err(|_| StatusCode::UNAUTHORIZED)?;
    let ts: u128 = ts.parse().map_err(|_| StatusCode::BAD_REQUEST)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    if now.abs_diff(ts) > 300_000 {
        return Err(StatusCode::UNAUTHORIZED);
    }
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

/// The hand-rolled RootFi v4 middleware: `X-RootFi-Signature: [sha256=]<hex>` over the body.
async fn naive_verify_rootfi(req: Request, next: Next) -> Result<Response, StatusCode> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 8 << 20)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE)?;
    let header = parts
        .headers
        .get("x-rootfi-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let sig = header.trim().trim_start_matches("sha256=");
    let sig = const_hex::decode(sig).map_err(|_| StatusCode::UNAUTHORIZED)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes())
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    mac.update(&bytes);
    mac.verify_slice(&sig)
        .map_err(|_| StatusCode::UNAUTHORIZED)?;
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

fn bare_app() -> Router {
    Router::new().route(
        PATH,
        post(|body: Bytes| async move {
            black_box(body);
        }),
    )
}

fn naive_app() -> Router {
    Router::new()
        .route(
            PATH,
            post(|Json(delivery): Json<derived::Delivery>| async move {
                black_box(delivery);
            }),
        )
        .layer(middleware::from_fn(naive_verify))
}

fn in_handler_app() -> Router {
    let verifier = Verifier::railz(SECRET).unwrap();
    Router::new().route(
        PATH,
        post(move |headers: HeaderMap, body: Bytes| async move {
            verifier
                .verify(&headers, &body)
                .map_err(|_| StatusCode::UNAUTHORIZED)?;
            let event = railz::Event::from_slice(&body).map_err(|_| StatusCode::BAD_REQUEST)?;
            black_box(event);
            Ok::<_, StatusCode>(())
        }),
    )
}

fn rootfi_apps() -> [(&'static str, Router); 4] {
    let verifier = Verifier::rootfi_v4(SECRET).unwrap();
    let layer = VerifyWebhookLayer::rootfi(SECRET).unwrap();
    [
        ("bare", bare_app()),
        (
            "naive",
            Router::new()
                .route(
                    PATH,
                    post(|Json(event): Json<derived::RootFi>| async move {
                        black_box(event);
                    }),
                )
                .layer(middleware::from_fn(naive_verify_rootfi)),
        ),
        (
            "in_handler",
            Router::new().route(
                PATH,
                post(move |headers: HeaderMap, body: Bytes| async move {
                    verifier
                        .verify(&headers, &body)
                        .map_err(|_| StatusCode::UNAUTHORIZED)?;
                    let event =
                        rootfi::Event::from_slice(&body).map_err(|_| StatusCode::BAD_REQUEST)?;
                    black_box(event);
                    Ok::<_, StatusCode>(())
                }),
            ),
        ),
        (
            "ours",
            Router::new().route(
                PATH,
                post(
                    |WebhookEvent(event): WebhookEvent<rootfi::Event>| async move {
                        black_box(event);
                    },
                )
                .layer(layer),
            ),
        ),
    ]
}

fn ours_app() -> Router {
    let layer = VerifyWebhookLayer::railz(SECRET).unwrap();
    Router::new().route(
        PATH,
        post(
            |WebhookEvent(event): WebhookEvent<railz::Event>| async move {
                black_box(event);
            },
        )
        .layer(layer),
    )
}

/// Polls a future that never waits on I/O to completion.
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..64 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("the request did not complete without I/O");
}

fn request(headers: &HeaderMap, body: &Bytes) -> Request {
    let mut req = Request::post(PATH).body(Body::from(body.clone())).unwrap();
    *req.headers_mut() = headers.clone();
    req
}

fn railz_apps() -> [(&'static str, Router); 4] {
    [
        ("bare", bare_app()),
        ("naive", naive_app()),
        ("in_handler", in_handler_app()),
        ("ours", ours_app()),
    ]
}

fn layer_benches(c: &mut Criterion) {
    let railz_signer = Verifier::railz(SECRET).unwrap();
    let rootfi_signer = Verifier::rootfi_v4(SECRET).unwrap();
    let cases = [
        (
            "railz_1KiB",
            Bytes::from(support::railz_body(1024)),
            &railz_signer,
            railz_apps as fn() -> _,
        ),
        (
            "railz_16KiB",
            Bytes::from(support::railz_body(16 * 1024)),
            &railz_signer,
            railz_apps,
        ),
        (
            "rootfi_sync_started",
            Bytes::from_static(support::ROOTFI_SYNC_STARTED),
            &rootfi_signer,
            rootfi_apps,
        ),
    ];
    for (name, body, signer, apps) in cases {
        let mut headers = signer.sign(&body, SystemTime::now());
        headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CONTENT_LENGTH, body.len().into());

        // `with_state(())` turns the handlers into routes once, as `axum::serve` does;
        // without it a `Router` used directly as a service rebuilds them on every call.
        let apps = apps().map(|(id, app)| (id, app.with_state(())));
        for (id, app) in &apps {
            let response = run(app.clone().oneshot(request(&headers, &body))).unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{name} {id}");
        }

        let mut group = c.benchmark_group(format!("layer_{name}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        // What building (and dropping) a request costs, inside every figure of this group.
        group.bench_function("request_only", |b| b.iter(|| request(&headers, &body)));
        for (id, app) in &apps {
            group.bench_function(*id, |b| {
                b.iter(|| run(app.clone().oneshot(request(&headers, &body))));
            });
        }
        group.finish();
    }
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    layer_benches(&mut c);
    c.final_summary();
}
