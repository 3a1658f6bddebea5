//! The example receiver, served on a loopback port and called with a real HTTP client.
//!
//! The router is the one in examples/receiver.rs (included below), so these tests check
//! what `cargo run --example receiver` does.
#![cfg(all(feature = "axum", feature = "idempotency", feature = "tracing"))]

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
use ledgerhook::{Secret, Verifier};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

fn settings() -> receiver::Settings {
    receiver::Settings {
        railz_secret: Secret::new(RAILZ_SECRET).unwrap(),
        rootfi_secret: Secret::new(ROOTFI_SECRET).unwrap(),
        rootfi_v3_header: V3_HEADER.into(),
        rootfi_v3_token: Secret::new(V3_TOKEN).unwrap(),
        redis_url: None,
    }
}

#[test]
fn the_receiver_names_secrets_configured_twice() {
    assert!(settings().reused_secrets().is_empty());
    let reused = receiver::Settings {
        rootfi_v3_token: Secret::new(RAILZ_SECRET).unwrap(),
        ..settings()
    };
    assert_eq!(
        reused.reused_secrets(),
        [("RAILZ_WEBHOOK_SECRET", "ROOTFI_V3_TOKEN")]
    );
}

/// Starts the receiver on 127.0.0.1, port chosen by the OS, served as `main` serves it.
async fn start() -> SocketAddr {
    start_with(receiver::Serving::default(), std::future::pending()).await
}

async fn start_with(
    serving: receiver::Serving,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> SocketAddr {
    let app = receiver::app(&settings()).expect("valid settings");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(receiver::serve(listener, app, serving, shutdown));
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
    let len = ledgerhook::layer::RAILZ_MAX_BODY_SIZE as u64 + 1;
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
    // The server will not read the rest, so it closes the connection and says so: a
    // keep-alive client must not send its next request on it.
    assert_eq!(response.headers()[header::CONNECTION], "close");
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
        assert_eq!(response.headers()[header::CONNECTION], "close", "{path}");
    }
}

#[tokio::test]
async fn a_refusal_after_the_whole_body_keeps_the_connection() {
    let addr = start().await;
    let forged = Verifier::railz("attacker-guess")
        .unwrap()
        .sign(RAILZ_AUTH, SystemTime::now());
    let mut request = Request::post(format!("http://{addr}/webhooks/railz"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from_static(RAILZ_AUTH)))
        .unwrap();
    request.headers_mut().extend(forged);
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = tokio::time::timeout(DEADLINE, client.request(request))
        .await
        .expect("answered")
        .expect("response");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get(header::CONNECTION).is_none());
}

#[tokio::test]
async fn other_methods_on_a_webhook_route_are_405_not_401() {
    let addr = start().await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    for path in ["/webhooks/railz", "/webhooks/rootfi", "/webhooks/rootfi-v3"] {
        let request = Request::get(format!("http://{addr}{path}"))
            .body(Full::default())
            .unwrap();
        let response = tokio::time::timeout(DEADLINE, client.request(request))
            .await
            .expect("answered")
            .expect("response");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
    }
}

/// Whether the server closed `stream`: reads until end of stream.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return true,
            Ok(_) => {}
        }
    }
}

/// Whether `stream` is still open with nothing to read, without waiting.
fn still_open(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 1];
    matches!(stream.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

// Paused time: tokio advances the clock only when every task waits, so the server's
// header timer fires at exactly its deadline in virtual time, whatever the machine's load.
#[tokio::test(start_paused = true)]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let serving = receiver::Serving {
        header_read_timeout: Duration::from_secs(10),
        ..receiver::Serving::default()
    };
    let addr = start_with(serving, std::future::pending()).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /webhooks/railz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert!(still_open(&slow), "open before the timeout");
    let closed = tokio::time::timeout(Duration::from_secs(5), closed_by_server(&mut slow)).await;
    assert_eq!(closed.ok(), Some(true), "closed at the header-read timeout");
}

// The deadline runs from the previous answer on a kept-alive connection, not from
// the accept: the first request comes 6 s after connecting, the stalled second head is
// still served 9 s after the answer (15 s after connecting), then cut at 10 s.
#[tokio::test(start_paused = true)]
async fn a_kept_alive_client_that_stalls_its_next_head_is_disconnected() {
    let serving = receiver::Serving {
        header_read_timeout: Duration::from_secs(10),
        ..receiver::Serving::default()
    };
    let addr = start_with(serving, std::future::pending()).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    client
        .write_all(b"GET /webhooks/railz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut buf = [0u8; 256];
        let n = tokio::time::timeout(DEADLINE, client.read(&mut buf))
            .await
            .expect("answered in time")
            .unwrap();
        assert!(n > 0, "closed before answering");
        answer.extend_from_slice(&buf[..n]);
    }
    assert!(
        answer.starts_with(b"HTTP/1.1 405"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    client
        .write_all(b"POST /webhooks/railz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert!(still_open(&client), "open 9 s after the answer");
    let closed = tokio::time::timeout(Duration::from_secs(5), closed_by_server(&mut client)).await;
    assert_eq!(closed.ok(), Some(true), "closed 10 s after the answer");
}

/// Sends a complete request head carrying one `x-padding` header of `padding` bytes and
/// returns the first bytes of the answer.
async fn answer_to_a_head_of(addr: SocketAddr, padding: usize) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /webhooks/railz HTTP/1.1\r\nhost: x\r\nx-padding: {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        "a".repeat(padding)
    );
    // The server may answer and close before it has read the whole head.
    let _ = stream.write_all(head.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(DEADLINE, stream.read_to_end(&mut answer))
        .await
        .expect("answered in time");
    answer
}

#[tokio::test]
async fn a_request_head_larger_than_the_connection_buffer_is_431() {
    let addr = start().await;
    let buffer = receiver::Serving::default().connection_buffer;
    // Below the buffer: read in full, then refused by the layer for its missing signature.
    let answer = answer_to_a_head_of(addr, buffer / 2).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 401"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // Above it (hyper's default buffer would hold 400 KiB of it): refused before the
    // head is complete, so an unfinished head costs at most the buffer.
    let answer = answer_to_a_head_of(addr, buffer * 2).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test(start_paused = true)]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let serving = receiver::Serving {
        max_connections: 1,
        ..receiver::Serving::default()
    };
    let addr = start_with(serving, std::future::pending()).await;
    // The one slot, held by an idle connection.
    let idle = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;

    let mut waiting = TcpStream::connect(addr).await.unwrap();
    waiting
        .write_all(b"GET /webhooks/railz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(still_open(&waiting), "not served while the slot is taken");

    drop(idle);
    let mut answer = Vec::new();
    tokio::time::timeout(DEADLINE, waiting.read_to_end(&mut answer))
        .await
        .expect("served once the slot is free")
        .unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 405"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn the_shutdown_signal_stops_accepting() {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = receiver::app(&settings()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(receiver::serve(
        listener,
        app,
        receiver::Serving::default(),
        async move {
            let _ = stopped.await;
        },
    ));
    let (status, _) = post(
        addr,
        "/webhooks/railz",
        RAILZ_AUTH,
        railz_signed(RAILZ_AUTH, SystemTime::now()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    stop.send(()).unwrap();
    tokio::time::timeout(DEADLINE, server)
        .await
        .expect("serve returns after the signal")
        .unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
}
