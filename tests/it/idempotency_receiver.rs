//! The example receiver's deduplication settings, over loopback with a real HTTP client.
#![cfg(all(feature = "axum", feature = "idempotency", feature = "tracing"))]

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ledgerhook::Verifier;
use serde_json::Value;

// e2e.rs includes the same file; a second copy keeps this module independent of its
// private module tree.
#[path = "../../examples/receiver.rs"]
#[allow(dead_code, clippy::duplicate_mod)] // `main` and the environment handling are unused here.
mod receiver;

const SECRET: &str = "idempotency-receiver-secret";
const BODY: &[u8] = br#"{"data":{"event":"auth","connectionId":"CON-1","serviceName":"xero"},"requestId":"r-dedup-1"}"#;

async fn start(dedup: receiver::Dedup) -> SocketAddr {
    let settings = receiver::Settings {
        railz_secret: ledgerhook::Secret::new(SECRET).unwrap(),
        rootfi_secret: ledgerhook::Secret::new("unused-rootfi").unwrap(),
        rootfi_v3_header: "api_key".into(),
        rootfi_v3_token: ledgerhook::Secret::new("unused-token").unwrap(),
    };
    let app = receiver::app_with(&settings, &dedup).expect("valid settings");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Sends one request; returns the status, whether it was answered as a duplicate, the body.
async fn send(request: Request<Full<Bytes>>) -> (StatusCode, bool, Bytes) {
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

async fn deliver(addr: SocketAddr) -> (StatusCode, bool, Bytes) {
    let mut request = Request::post(format!("http://{addr}/webhooks/railz"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from_static(BODY)))
        .unwrap();
    let signature = Verifier::railz(SECRET)
        .unwrap()
        .sign(BODY, SystemTime::now());
    request.headers_mut().extend(signature);
    send(request).await
}

async fn stats(addr: SocketAddr) -> Value {
    let request = Request::get(format!("http://{addr}/stats"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let (status, _, body) = send(request).await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn the_receiver_handles_a_redelivery_once() {
    let addr = start(receiver::Dedup {
        stats: true,
        ..receiver::Dedup::default()
    })
    .await;
    let (status, duplicate, body) = deliver(addr).await;
    assert_eq!((status, duplicate), (StatusCode::OK, false));
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["event"], "auth");

    let (status, duplicate, body) = deliver(addr).await;
    assert_eq!((status, duplicate), (StatusCode::OK, true));
    assert!(body.is_empty());

    let stats = stats(addr).await;
    assert_eq!(stats["dedup"], "memory");
    assert_eq!(stats["handled"]["r-dedup-1"], 1);
}

#[tokio::test]
async fn with_dedup_off_every_delivery_reaches_the_handler() {
    let addr = start(receiver::Dedup {
        off: true,
        stats: true,
        ..receiver::Dedup::default()
    })
    .await;
    for _ in 0..2 {
        let (status, duplicate, _) = deliver(addr).await;
        assert_eq!((status, duplicate), (StatusCode::OK, false));
    }
    let stats = stats(addr).await;
    assert_eq!(stats["dedup"], "off");
    assert_eq!(stats["handled"]["r-dedup-1"], 2);
}

#[tokio::test]
async fn without_stats_there_is_no_stats_route() {
    let addr = start(receiver::Dedup::default()).await;
    let request = Request::get(format!("http://{addr}/stats"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(send(request).await.0, StatusCode::NOT_FOUND);
}

#[cfg(not(feature = "redis"))]
#[tokio::test]
async fn a_redis_url_without_the_feature_is_a_configuration_error() {
    let settings = receiver::Settings {
        railz_secret: ledgerhook::Secret::new(SECRET).unwrap(),
        rootfi_secret: ledgerhook::Secret::new("unused-rootfi").unwrap(),
        rootfi_v3_header: "api_key".into(),
        rootfi_v3_token: ledgerhook::Secret::new("unused-token").unwrap(),
    };
    let dedup = receiver::Dedup {
        redis_url: Some("redis://127.0.0.1:1/".into()),
        ..receiver::Dedup::default()
    };
    assert!(receiver::app_with(&settings, &dedup).is_err());
}
