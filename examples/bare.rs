//! A bare axum webhook endpoint, the baseline of the HTTP load benchmark
//! (`benches/load.sh`): `cargo run --release --example bare`.
//!
//! `POST /webhooks/railz` takes the body as `Bytes` and answers with the same kind of small
//! JSON as `examples/receiver.rs`, but verifies and parses nothing. Listens on
//! `LEDGERHOOK_ADDR` (default `127.0.0.1:3001`). Never use it to receive real webhooks:
//! anyone can post to it.

use axum::body::Bytes;
use axum::{Json, Router, routing::post};
use serde_json::{Value, json};

const DEFAULT_ADDR: &str = "127.0.0.1:3001";

async fn on_railz(body: Bytes) -> Json<Value> {
    // Same answer shape and size as the receiver's.
    Json(json!({ "provider": "railz", "event": "unknown", "known": !body.is_empty() }))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("LEDGERHOOK_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_owned());
    let app = Router::new().route("/webhooks/railz", post(on_railz));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!(
        "bare endpoint (no verification) on http://{}/webhooks/railz",
        listener.local_addr()?
    );
    axum::serve(listener, app).await
}
