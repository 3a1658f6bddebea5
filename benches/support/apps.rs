//! The routers the layer benches drive in-process, one signed delivery per call:
//!
//! - `bare`: the handler takes `Bytes` and does nothing: the framework's own cost.
//! - `naive`: what a user hand-rolls today: an `axum::middleware::from_fn` middleware that
//!   collects the body, parses the signature header, hex-decodes it into a `Vec`, keys
//!   HMAC-SHA256 with the secret, verifies (Railz: and checks the timestamp window) and
//!   rebuilds the request; then `Json<T>` of the derived model in `support::naive`.
//! - `in_handler`: our `Verifier` and parser called inside a handler that takes `HeaderMap`
//!   and `Bytes`: the same work without the layer's machinery.
//! - `ours`: the layer and the `WebhookEvent<E>` extractor (`setup::layer_route`).

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, KeyInit, Mac};
use ledgerhook::{Verifier, railz, rootfi};
use sha2::Sha256;
use tower::ServiceExt;

use super::{naive, setup};

/// The route every app serves.
pub(crate) const PATH: &str = "/webhooks";

/// Which provider a case is signed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    /// `Railz-Signature` over `t.body`.
    Railz,
    /// RootFi v4 `X-RootFi-Signature` over the body.
    RootFiV4,
}

/// The four contenders for `provider`, each `with_state(())` (routes built once, as
/// `axum::serve` prepares a router; used directly, a `Router` rebuilds its routes on every
/// call).
pub(crate) fn apps(provider: Provider) -> [(&'static str, Router); 4] {
    [
        ("bare", bare_app()),
        ("naive", naive_app(provider)),
        ("in_handler", in_handler_app(provider)),
        ("ours", ours_app(provider)),
    ]
    .map(|(id, app)| (id, app.with_state(())))
}

/// Only the contender `id` (`bare`, `naive`, `in_handler`, `ours`).
pub(crate) fn app(provider: Provider, id: &str) -> Router {
    apps(provider)
        .into_iter()
        .find(|(name, _)| *name == id)
        .map(|(_, app)| app)
        .expect("unknown contender")
}

/// Headers of a signed delivery of `body`, as a provider sends it.
pub(crate) fn signed_headers(provider: Provider, body: &[u8]) -> HeaderMap {
    let signer = match provider {
        Provider::Railz => setup::railz_verifier(),
        Provider::RootFiV4 => setup::rootfi_v4_verifier(),
    };
    let mut headers = signer.sign(body, SystemTime::now());
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONTENT_LENGTH, body.len().into());
    headers
}

/// A fresh request (building it is part of every contender's figure, the same for all).
pub(crate) fn request(headers: &HeaderMap, body: &Bytes) -> Request {
    let mut req = Request::post(PATH).body(Body::from(body.clone())).unwrap();
    *req.headers_mut() = headers.clone();
    req
}

/// One delivery through `app`; the status it answered.
pub(crate) fn call(app: &Router, headers: &HeaderMap, body: &Bytes) -> StatusCode {
    run(app.clone().oneshot(request(headers, body)))
        .map(|response| response.status())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Polls a future that never waits on I/O to completion (no runtime needed).
pub(crate) fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..64 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("the request did not complete without I/O");
}

fn bare_app() -> Router {
    Router::new().route(
        PATH,
        post(|body: Bytes| async move {
            black_box(body);
        }),
    )
}

fn ours_app(provider: Provider) -> Router {
    let route = match provider {
        Provider::Railz => setup::layer_route::<railz::Event>(setup::railz_verifier()),
        Provider::RootFiV4 => setup::layer_route::<rootfi::Event>(setup::rootfi_v4_verifier()),
    };
    Router::new().route(PATH, route)
}

/// `ours` (Railz) with the idempotency layer behind the verifying one, completed ids
/// remembered for `completed_ttl`, routes built: each call must carry a new delivery (a
/// repeat within `completed_ttl` is answered as a duplicate).
#[cfg(feature = "idempotency")]
pub(crate) fn ours_dedup(completed_ttl: std::time::Duration) -> Router {
    Router::new()
        .route(
            PATH,
            setup::dedup_route::<railz::Event>(setup::railz_verifier(), completed_ttl),
        )
        .with_state(())
}

/// `body` with its Railz `requestId` replaced by `id` (same length keeps the size): a new
/// delivery of the same event for the dedup stack.
pub(crate) fn with_request_id(body: &[u8], id: &str) -> Bytes {
    let text = std::str::from_utf8(body).unwrap();
    let start = text.find("\"requestId\"").expect("no requestId") + "\"requestId\"".len();
    let open = start + text[start..].find('"').unwrap() + 1;
    let close = open + text[open..].find('"').unwrap();
    Bytes::from(format!("{}{id}{}", &text[..open], &text[close..]))
}

/// `ours` (Railz) with the route's metrics on or off, routes built.
#[cfg(feature = "metrics")]
pub(crate) fn ours_metrics(record: bool) -> Router {
    Router::new()
        .route(
            PATH,
            setup::layer_route_metrics::<railz::Event>(setup::railz_verifier(), record),
        )
        .with_state(())
}

fn in_handler_app(provider: Provider) -> Router {
    fn handler<E: Send + 'static>(
        verifier: Verifier,
        parse: fn(&Bytes) -> Result<E, ledgerhook::ParseError>,
    ) -> axum::routing::MethodRouter {
        post(move |headers: HeaderMap, body: Bytes| async move {
            verifier
                .verify(&headers, &body)
                .map_err(|_| StatusCode::UNAUTHORIZED)?;
            let event = parse(&body).map_err(|_| StatusCode::BAD_REQUEST)?;
            black_box(event);
            Ok::<_, StatusCode>(())
        })
    }
    let route = match provider {
        Provider::Railz => handler(setup::railz_verifier(), setup::parse_railz),
        Provider::RootFiV4 => handler(setup::rootfi_v4_verifier(), setup::parse_rootfi),
    };
    Router::new().route(PATH, route)
}

fn naive_app(provider: Provider) -> Router {
    match provider {
        Provider::Railz => Router::new()
            .route(
                PATH,
                post(|Json(delivery): Json<naive::Railz>| async move {
                    black_box(delivery);
                }),
            )
            .layer(middleware::from_fn(naive_verify_railz)),
        Provider::RootFiV4 => Router::new()
            .route(
                PATH,
                post(|Json(event): Json<naive::RootFi>| async move {
                    black_box(event);
                }),
            )
            .layer(middleware::from_fn(naive_verify_rootfi)),
    }
}

/// The hand-rolled Railz middleware (what the HMAC crate's docs lead to).
async fn naive_verify_railz(req: Request, next: Next) -> Result<Response, StatusCode> {
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
    let mut mac = Hmac::<Sha256>::new_from_slice(setup::RAILZ_SECRET.as_bytes())
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
    let mut mac = Hmac::<Sha256>::new_from_slice(setup::ROOTFI_SECRET.as_bytes())
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    mac.update(&bytes);
    mac.verify_slice(&sig)
        .map_err(|_| StatusCode::UNAUTHORIZED)?;
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}
