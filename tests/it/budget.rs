//! The buffer budget's reserve for small bodies, over a real loopback HTTP server: large
//! forged bodies that keep the shared part of the budget full must not get a small
//! genuine delivery refused.
#![cfg(feature = "axum")]

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ledgerhook::VerifyWebhookLayer;
use ledgerhook::layer::BufferBudget;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "budget-railz-secret";
/// Each exchange's bound, so a hung server fails the test instead of stalling CI.
const DEADLINE: Duration = Duration::from_secs(10);
/// What the large forger declares: the whole shared part of the budgets below.
const FORGED_LENGTH: usize = 96 * 1024;
/// The small-body reserve of the budgets below (and their small-body limit).
const RESERVE: usize = 32 * 1024;

async fn serve(budget: BufferBudget) -> SocketAddr {
    let layer = VerifyWebhookLayer::railz(SECRET)
        .expect("valid secret")
        .buffer_budget(budget);
    let app = Router::new()
        .route("/railz", post(|| async { "handled" }))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A forger: a well-formed but forged Railz signature, a declared body it never finishes.
async fn hold_forged_body(addr: SocketAddr, length: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let head = format!(
        "POST /railz HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         railz-signature: t={t},v={}\r\ncontent-length: {length}\r\n\r\n{{",
        "0".repeat(64)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// The status line's first 12 bytes of what the server answered on `stream`.
async fn status_line(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = vec![0; 12];
    tokio::time::timeout(DEADLINE, stream.read_exact(&mut answer))
        .await
        .expect("answered in time")
        .unwrap();
    answer
}

/// A genuine, correctly signed small Railz delivery; its status.
async fn deliver(addr: SocketAddr) -> StatusCode {
    let body = Bytes::from_static(br#"{"event":"login","requestId":"r-1","data":{}}"#);
    let mut request = ledgerhook::testing::railz::signed_request(SECRET, body);
    *request.uri_mut() = format!("http://{addr}/railz").parse().unwrap();
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = tokio::time::timeout(DEADLINE, client.request(request.map(Full::new)))
        .await
        .expect("answered in time")
        .expect("answered");
    let status = response.status();
    let _ = response.into_body().collect().await;
    status
}

/// Waits until what the forgers declared is charged (the server reads their heads).
async fn until_available_is(budget: &BufferBudget, free: usize) {
    tokio::time::timeout(DEADLINE, async {
        while budget.available() != free {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the forgers' declared lengths are charged");
}

#[tokio::test]
async fn large_forgeries_filling_the_budget_leave_room_for_a_small_genuine_delivery() {
    let budget = BufferBudget::builder(FORGED_LENGTH + RESERVE)
        .small_body_reserve(RESERVE)
        .small_body_limit(RESERVE)
        .build();
    let addr = serve(budget.clone()).await;
    let _forger = hold_forged_body(addr, FORGED_LENGTH).await;
    until_available_is(&budget, RESERVE).await;
    // A large forgery does not fit in what is left: refused from its headers.
    let mut refused = hold_forged_body(addr, RESERVE + 1).await;
    assert_eq!(status_line(&mut refused).await, b"HTTP/1.1 503");

    assert_eq!(deliver(addr).await, StatusCode::OK);
    assert_eq!(budget.available(), RESERVE, "the delivery's charge is back");
}

/// The same budget full without a reserve: the genuine delivery is refused. This is the
/// starvation the reserve prevents.
#[tokio::test]
async fn without_a_reserve_the_same_flood_refuses_the_genuine_delivery() {
    let budget = BufferBudget::builder(FORGED_LENGTH + RESERVE)
        .small_body_reserve(0)
        .build();
    let addr = serve(budget.clone()).await;
    let _large = hold_forged_body(addr, FORGED_LENGTH).await;
    let _rest = hold_forged_body(addr, RESERVE).await;
    until_available_is(&budget, 0).await;

    assert_eq!(deliver(addr).await, StatusCode::SERVICE_UNAVAILABLE);
}
