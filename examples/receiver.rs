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
//! Try it with `cargo run --example send -- railz ../shared/fixtures/railz_auth.json`.

use std::time::Duration;

use axum::{Json, Router, routing::post};
use ledgerhook::{ConfigError, extract::WebhookEvent, layer::VerifyWebhookLayer, railz, rootfi};
use serde_json::{Value, json};

// Development defaults, shared with examples/send.rs: never use them in production.
const DEV_RAILZ_SECRET: &str = "ledgerhook-dev-railz-secret";
const DEV_ROOTFI_SECRET: &str = "ledgerhook-dev-rootfi-secret";
const DEV_ROOTFI_V3_TOKEN: &str = "ledgerhook-dev-rootfi-v3-token";
const DEFAULT_ROOTFI_V3_HEADER: &str = "api_key";
const DEFAULT_ADDR: &str = "127.0.0.1:3000";

/// The receiver's settings. No `Debug`: it holds secrets.
pub(crate) struct Settings {
    pub(crate) railz_secret: String,
    pub(crate) rootfi_secret: String,
    pub(crate) rootfi_v3_header: String,
    pub(crate) rootfi_v3_token: String,
}

impl Settings {
    /// Reads the environment, warning for every secret that falls back to its dev default.
    fn from_env() -> Self {
        Self {
            railz_secret: secret_from_env("RAILZ_WEBHOOK_SECRET", DEV_RAILZ_SECRET),
            rootfi_secret: secret_from_env("ROOTFI_WEBHOOK_SECRET", DEV_ROOTFI_SECRET),
            rootfi_v3_header: std::env::var("ROOTFI_V3_HEADER")
                .unwrap_or_else(|_| DEFAULT_ROOTFI_V3_HEADER.to_owned()),
            rootfi_v3_token: secret_from_env("ROOTFI_V3_TOKEN", DEV_ROOTFI_V3_TOKEN),
        }
    }
}

fn secret_from_env(var: &str, dev_default: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => value,
        _ => {
            tracing::warn!(
                "{var} is not set: using the fixed DEVELOPMENT secret from examples/receiver.rs. \
                 Anyone can sign requests with it; set {var} before receiving real webhooks."
            );
            dev_default.to_owned()
        }
    }
}

/// The receiver's routes, each behind its own verifying layer.
pub(crate) fn app(settings: &Settings) -> Result<Router, ConfigError> {
    // Bound slow senders; the 8 MiB default body limit fits large RootFi batches.
    let timeout = Duration::from_secs(10);
    let railz = VerifyWebhookLayer::railz(&settings.railz_secret)?.body_timeout(timeout);
    let rootfi = VerifyWebhookLayer::rootfi(&settings.rootfi_secret)?.body_timeout(timeout);
    let rootfi_v3 = VerifyWebhookLayer::rootfi_v3(
        settings.rootfi_v3_header.as_str(),
        &settings.rootfi_v3_token,
    )?
    .body_timeout(timeout);

    Ok(Router::new()
        .route("/webhooks/railz", post(on_railz).layer(railz))
        .route("/webhooks/rootfi", post(on_rootfi).layer(rootfi))
        .route("/webhooks/rootfi-v3", post(on_rootfi).layer(rootfi_v3)))
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let addr = std::env::var("LEDGERHOOK_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_owned());
    let app = app(&Settings::from_env())?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(
        "listening on http://{}: POST /webhooks/railz, /webhooks/rootfi, /webhooks/rootfi-v3",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}
