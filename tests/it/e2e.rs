//! The example receiver, served on a loopback port and called with a real HTTP client.
//!
//! The router is the one in examples/receiver.rs (included below), so these tests check
//! what `cargo run --example receiver` does.
#![cfg(all(feature = "axum", feature = "tracing"))]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, header};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ledgerhook::Verifier;
use serde_json::{Value, json};

#[path = "../../examples/receiver.rs"]
#[allow(dead_code)] // `main` and the environment handling are not used here.
mod receiver;

const RAILZ_SECRET: &str = "e2e-railz-secret";
const ROOTFI_SECRET: &str = "e2e-rootfi-secret";
const V3_TOKEN: &str = "e2e-rootfi-v3-token";
const V3_HEADER: &str = "api_key";
/// Each request's bound, so a hung server fails the test instead of stalling CI.
const DEADLINE: Duration = Duration::from_secs(10);

const RAILZ_AUTH: &[u8] = br#"{"data":{"event":"auth","connectionId":"CON-0a4e97aa-7a77-bbbb-00aa-b1b1001aa00","businessName":"BIZ-d6b1c7d3-fe41-4447-ae72-3814b78b5142","serviceName":"quickbooks"}}"#;
const RAILZ_UNKNOWN: &[u8] =
    br#"{"data":{"event":"somethingNew","connectionId":"CON-1","serviceName":"xero"},"requestId":"r-9"}"#;
const ROOTFI_CONNECTION: &[u8] = br#"{"webhook_type":"CONNECTION_CHANGED","company_id":285,"integration_type":"ZOHO_BOOKS","connection_status":"HEALTHY","created_at":"2023-01-01T00:00:00.000Z"}"#;
const ROOTFI_UNKNOWN: &[u8] =
    br#"{"webhook_type":"SOMETHING_NEW","company_id":285,"created_at":"2023-01-01T00:00:00.000Z"}"#;

/// Starts the receiver on 127.0.0.1, port chosen by the OS.
async fn start() -> SocketAddr {
    let settings = receiver::Settings {
        railz_secret: RAILZ_SECRET.into(),
        rootfi_secret: ROOTFI_SECRET.into(),
        rootfi_v3_header: V3_HEADER.into(),
        rootfi_v3_token: V3_TOKEN.into(),
    };
    let app = receiver::app(&settings).expect("valid settings");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn railz_signed(body: &[u8], at: SystemTime) -> HeaderMap {
    Verifier::railz(RAILZ_SECRET).unwrap().sign(body, at)
}

fn rootfi_signed(body: &[u8]) -> HeaderMap {
    Verifier::rootfi_v4(ROOTFI_SECRET)
        .unwrap()
        .sign(body, SystemTime::now())
}

fn v3_token(token: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static(V3_HEADER),
        HeaderValue::from_static(token),
    );
    headers
}

/// POSTs `body` with `headers` and returns the status and the body (JSON when it is JSON).
async fn post(
    addr: SocketAddr,
    path: &str,
    body: &'static [u8],
    headers: HeaderMap,
) -> (StatusCode, Value) {
    let mut request = Request::post(format!("http://{addr}{path}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    request.headers_mut().extend(headers);
    let client = Client::builder(TokioExecutor::new()).build_http();
    let exchange = async {
        let response = client.request(request).await.expect("response");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, body)
    };
    tokio::time::timeout(DEADLINE, exchange)
        .await
        .expect("server answered in time")
}

#[tokio::test]
async fn railz_valid_delivery_is_200_with_the_tag() {
    let addr = start().await;
    let (status, body) = post(
        addr,
        "/webhooks/railz",
        RAILZ_AUTH,
        railz_signed(RAILZ_AUTH, SystemTime::now()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"provider": "railz", "event": "auth", "known": true})
    );
}

#[tokio::test]
async fn railz_forged_signature_is_401() {
    let addr = start().await;
    let forged = Verifier::railz("attacker-guess")
        .unwrap()
        .sign(RAILZ_AUTH, SystemTime::now());
    let (status, body) = post(addr, "/webhooks/railz", RAILZ_AUTH, forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Generic text only: nothing about which check failed.
    assert_eq!(body, json!("Unauthorized"));
}

#[tokio::test]
async fn railz_missing_signature_is_401() {
    let addr = start().await;
    let (status, _) = post(addr, "/webhooks/railz", RAILZ_AUTH, HeaderMap::new()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn railz_stale_and_future_timestamps_are_401() {
    let addr = start().await;
    let hour = Duration::from_secs(3600);
    for at in [SystemTime::now() - hour, SystemTime::now() + hour] {
        let (status, _) = post(
            addr,
            "/webhooks/railz",
            RAILZ_AUTH,
            railz_signed(RAILZ_AUTH, at),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn railz_malformed_signature_header_is_400() {
    let addr = start().await;
    let mut headers = HeaderMap::new();
    headers.insert(
        "railz-signature",
        HeaderValue::from_static("t=yesterday,v=not-hex"),
    );
    let (status, _) = post(addr, "/webhooks/railz", RAILZ_AUTH, headers).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn malformed_bodies_are_400_and_422() {
    let addr = start().await;
    let not_json: &[u8] = b"{\"data\": {\"event\": \"auth\"";
    let (status, _) = post(
        addr,
        "/webhooks/railz",
        not_json,
        railz_signed(not_json, SystemTime::now()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let wrong_shape: &[u8] = b"[\"auth\"]";
    let (status, _) = post(
        addr,
        "/webhooks/rootfi",
        wrong_shape,
        rootfi_signed(wrong_shape),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn unknown_events_are_accepted_as_not_known() {
    let addr = start().await;
    let (status, body) = post(
        addr,
        "/webhooks/railz",
        RAILZ_UNKNOWN,
        railz_signed(RAILZ_UNKNOWN, SystemTime::now()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"provider": "railz", "event": "somethingNew", "known": false})
    );

    let (status, body) = post(
        addr,
        "/webhooks/rootfi",
        ROOTFI_UNKNOWN,
        rootfi_signed(ROOTFI_UNKNOWN),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"provider": "rootfi", "event": "SOMETHING_NEW", "known": false})
    );
}

#[tokio::test]
async fn rootfi_valid_and_forged() {
    let addr = start().await;
    let (status, body) = post(
        addr,
        "/webhooks/rootfi",
        ROOTFI_CONNECTION,
        rootfi_signed(ROOTFI_CONNECTION),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"provider": "rootfi", "event": "CONNECTION_CHANGED", "known": true})
    );

    // Signed for another body: a byte changed in transit.
    let (status, _) = post(
        addr,
        "/webhooks/rootfi",
        ROOTFI_UNKNOWN,
        rootfi_signed(ROOTFI_CONNECTION),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A Railz signature is no RootFi signature.
    let (status, _) = post(
        addr,
        "/webhooks/rootfi",
        ROOTFI_CONNECTION,
        railz_signed(ROOTFI_CONNECTION, SystemTime::now()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rootfi_v3_token_right_wrong_and_missing() {
    let addr = start().await;
    let (status, body) = post(
        addr,
        "/webhooks/rootfi-v3",
        ROOTFI_CONNECTION,
        v3_token(V3_TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"provider": "rootfi", "event": "CONNECTION_CHANGED", "known": true})
    );

    let (status, _) = post(
        addr,
        "/webhooks/rootfi-v3",
        ROOTFI_CONNECTION,
        v3_token("e2e-rootfi-v3-tokeN"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, _) = post(
        addr,
        "/webhooks/rootfi-v3",
        ROOTFI_CONNECTION,
        HeaderMap::new(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A request body that announces `len` bytes and then never sends any: the server must
/// answer from the headers alone.
struct Announced {
    len: u64,
}

impl Body for Announced {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Pending
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

#[tokio::test]
async fn oversized_delivery_is_413_before_the_body_is_sent() {
    let addr = start().await;
    let len = ledgerhook::layer::DEFAULT_MAX_BODY_SIZE as u64 + 1;
    let mut request = Request::post(format!("http://{addr}/webhooks/railz"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, len)
        .body(Announced { len })
        .unwrap();
    request
        .headers_mut()
        .extend(railz_signed(RAILZ_AUTH, SystemTime::now()));
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = tokio::time::timeout(DEADLINE, client.request(request))
        .await
        .expect("answered without waiting for the body")
        .expect("response");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn unsigned_or_wrong_token_is_401_before_the_body_is_sent() {
    let addr = start().await;
    let client = Client::builder(TokioExecutor::new()).build_http();
    // A small body that never arrives: only a header check can answer in time.
    for (path, headers) in [
        ("/webhooks/railz", HeaderMap::new()),
        ("/webhooks/rootfi", HeaderMap::new()),
        ("/webhooks/rootfi-v3", v3_token("not-the-token")),
    ] {
        let len = 100;
        let mut request = Request::post(format!("http://{addr}{path}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, len)
            .body(Announced { len })
            .unwrap();
        request.headers_mut().extend(headers);
        let response = tokio::time::timeout(DEADLINE, client.request(request))
            .await
            .expect("answered without waiting for the body")
            .expect("response");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}
