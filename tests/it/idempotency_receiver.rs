//! The example receiver's deduplication as its callers see it, over loopback with a real
//! HTTP client: only the answers, no test hooks in the example.
#![cfg(all(feature = "axum", feature = "idempotency", feature = "tracing"))]

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ledgerhook::{Secret, Verifier};
use serde_json::{Value, json};

// e2e.rs includes the same file; a second copy keeps this module independent of its
// private module tree.
#[path = "../../examples/receiver.rs"]
#[allow(dead_code, clippy::duplicate_mod)] // `main` and the environment handling are unused here.
mod receiver;

const SECRET: &str = "idempotency-receiver-secret";
const V3_TOKEN: &str = "idempotency-receiver-v3-token";
const AUTH: &[u8] = br#"{"data":{"event":"auth","connectionId":"CON-1","serviceName":"xero"},"requestId":"r-dedup-1"}"#;
/// Another event with the same `requestId`, as in Railz's own documentation samples.
const OTHER_EVENT_SAME_ID: &[u8] = br#"{"data":{"event":"somethingNew","connectionId":"CON-1","serviceName":"xero"},"requestId":"r-dedup-1"}"#;
const ROOTFI_CONNECTION: &[u8] = br#"{"webhook_type":"CONNECTION_CHANGED","company_id":285,"integration_type":"ZOHO_BOOKS","connection_status":"HEALTHY","created_at":"2023-01-01T00:00:00.000Z"}"#;

fn settings(redis_url: Option<String>) -> receiver::Settings {
    receiver::Settings {
        railz_secret: Secret::new(SECRET).unwrap(),
        rootfi_secret: Secret::new("unused-rootfi").unwrap(),
        rootfi_v3_header: "api_key".into(),
        rootfi_v3_token: Secret::new(V3_TOKEN).unwrap(),
        redis_url,
    }
}

/// Starts the receiver as `main` does, on a loopback port chosen by the OS.
async fn start() -> SocketAddr {
    let app = receiver::app(&settings(None)).expect("valid settings");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(receiver::serve(
        listener,
        app,
        receiver::Serving::default(),
        std::future::pending(),
    ));
    addr
}

/// What a caller sees: the status, whether it was answered as a duplicate, the body.
async fn post(
    addr: SocketAddr,
    path: &str,
    body: &'static [u8],
    headers: HeaderMap,
) -> (StatusCode, bool, Bytes) {
    let mut request = Request::post(format!("http://{addr}{path}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from_static(body)))
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
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, duplicate, body)
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .expect("answered in time")
}

fn railz_signed(body: &[u8]) -> HeaderMap {
    Verifier::railz(SECRET)
        .unwrap()
        .sign(body, SystemTime::now())
}

fn v3_token() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("api_key"),
        HeaderValue::from_static(V3_TOKEN),
    );
    headers
}

/// The handler's answer: `{"provider", "event", "known"}`.
fn handled(body: &Bytes) -> Value {
    serde_json::from_slice(body).expect("the handler's JSON answer")
}

#[tokio::test]
async fn a_redelivery_is_answered_as_a_duplicate_without_the_handler() {
    let addr = start().await;
    let signature = railz_signed(AUTH);
    let (status, duplicate, body) = post(addr, "/webhooks/railz", AUTH, signature.clone()).await;
    assert_eq!((status, duplicate), (StatusCode::OK, false));
    assert_eq!(handled(&body)["event"], "auth");

    // The provider's retry: same bytes, same signature.
    let (status, duplicate, body) = post(addr, "/webhooks/railz", AUTH, signature).await;
    assert_eq!((status, duplicate), (StatusCode::OK, true));
    assert!(body.is_empty(), "the handler did not answer it");
}

#[tokio::test]
async fn different_events_sharing_a_request_id_are_each_handled() {
    let addr = start().await;
    for (body, tag) in [(AUTH, "auth"), (OTHER_EVENT_SAME_ID, "somethingNew")] {
        let (status, duplicate, answer) =
            post(addr, "/webhooks/railz", body, railz_signed(body)).await;
        assert_eq!((status, duplicate), (StatusCode::OK, false), "{tag}");
        assert_eq!(handled(&answer)["event"], tag);
    }
}

#[tokio::test]
async fn each_route_keeps_its_own_records() {
    let addr = start().await;
    let (status, duplicate, body) =
        post(addr, "/webhooks/rootfi-v3", ROOTFI_CONNECTION, v3_token()).await;
    assert_eq!((status, duplicate), (StatusCode::OK, false));
    assert_eq!(
        handled(&body),
        json!({"provider": "rootfi", "event": "CONNECTION_CHANGED", "known": true})
    );
    let (_, duplicate, _) = post(addr, "/webhooks/rootfi-v3", ROOTFI_CONNECTION, v3_token()).await;
    assert!(duplicate, "a redelivery on the same route");

    // The Railz route's records are apart from the v3 route's.
    let (status, duplicate, _) = post(addr, "/webhooks/railz", AUTH, railz_signed(AUTH)).await;
    assert_eq!((status, duplicate), (StatusCode::OK, false));
}

#[cfg(not(feature = "redis"))]
#[tokio::test]
async fn a_redis_url_without_the_feature_is_a_configuration_error() {
    let settings = settings(Some("redis://127.0.0.1:1/".into()));
    assert!(receiver::app(&settings).is_err());
}
