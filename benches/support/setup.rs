//! The one place where the benches build ledgerhook's verifiers and layers and call its
//! parsers. API renames and the layer redesign are adapted here, once, for every bench.

use bytes::Bytes;
use ledgerhook::signature::HmacScheme;
use ledgerhook::{ParseError, Verifier, WebhookPayload, railz, rootfi};

/// The Railz secret of every bench.
pub(crate) const RAILZ_SECRET: &str = "railz_webhook_secret_for_benchmarks";
/// The RootFi v4 signing key of every bench.
pub(crate) const ROOTFI_SECRET: &str = "rootfi_signing_key_for_benchmarks";
/// A Standard Webhooks secret: `whsec_` + base64 of the key bytes.
pub(crate) const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Railz: `Railz-Signature: t=<ms>,v=<hex>` over `<t>.<body>`, 5-minute window.
pub(crate) fn railz_verifier() -> Verifier {
    Verifier::railz(RAILZ_SECRET).unwrap()
}

/// RootFi v4: `X-RootFi-Signature: [sha256=]<hex>` over the body.
pub(crate) fn rootfi_v4_verifier() -> Verifier {
    Verifier::rootfi_v4(ROOTFI_SECRET).unwrap()
}

/// Standard Webhooks: `webhook-signature: v1,<base64>` over `<id>.<ts>.<body>`.
pub(crate) fn standard_webhooks_verifier() -> Verifier {
    Verifier::hmac(HmacScheme::standard_webhooks(), standard_webhooks_key()).unwrap()
}

/// The key bytes behind [`SW_SECRET`].
pub(crate) fn standard_webhooks_key() -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(SW_SECRET.trim_start_matches("whsec_"))
        .unwrap()
}

/// Our typed parse of a Railz delivery.
pub(crate) fn parse_railz(body: &Bytes) -> Result<railz::Event, ParseError> {
    <railz::Event as WebhookPayload>::parse(body)
}

/// Our typed parse of a RootFi delivery (v3, v4 and legacy shapes).
pub(crate) fn parse_rootfi(body: &Bytes) -> Result<rootfi::Event, ParseError> {
    <rootfi::Event as WebhookPayload>::parse(body)
}

/// Our typed parse of fixture `name`, with the parser of its provider.
pub(crate) fn parse_fixture(name: &str, body: &Bytes) -> Result<(), ParseError> {
    if name.starts_with("rootfi") {
        parse_rootfi(body).map(drop)
    } else {
        parse_railz(body).map(drop)
    }
}

/// Whole layer: verification by `verifier`, parsing into `E` by the `WebhookEvent<E>`
/// extractor, as a user mounts it on a route.
#[cfg(feature = "axum")]
pub(crate) fn layer_route<E>(verifier: Verifier) -> axum::routing::MethodRouter
where
    E: WebhookPayload + Send + Sync + 'static,
{
    use ledgerhook::{VerifyWebhookLayer, WebhookEvent};
    axum::routing::post(|WebhookEvent(event): WebhookEvent<E>| async move {
        std::hint::black_box(event);
    })
    .route_layer(VerifyWebhookLayer::new(verifier))
}

/// [`layer_route`] with this route's metrics on or off (`record`): the metrics-cost
/// comparison of `benches/paired.rs`.
#[cfg(all(feature = "axum", feature = "metrics"))]
pub(crate) fn layer_route_metrics<E>(
    verifier: Verifier,
    record: bool,
) -> axum::routing::MethodRouter
where
    E: WebhookPayload + Send + Sync + 'static,
{
    use ledgerhook::{VerifyWebhookLayer, WebhookEvent};
    axum::routing::post(|WebhookEvent(event): WebhookEvent<E>| async move {
        std::hint::black_box(event);
    })
    .route_layer(VerifyWebhookLayer::new(verifier).record_metrics(record))
}

/// Our provider-detecting parse (`ledgerhook::Event`).
pub(crate) fn parse_detect(body: &Bytes) -> Result<ledgerhook::Event, ParseError> {
    <ledgerhook::Event as WebhookPayload>::parse(body)
}

/// [`layer_route`] with the idempotency layer behind the verifying one (in-memory store,
/// `KeySource::railz()`, completed ids remembered for `completed_ttl`): each delivery is
/// deduplicated, then parsed into `E` by the handler's `WebhookEvent<E>`.
#[cfg(all(feature = "axum", feature = "idempotency"))]
pub(crate) fn dedup_route<E>(
    verifier: Verifier,
    completed_ttl: std::time::Duration,
) -> axum::routing::MethodRouter
where
    E: WebhookPayload + Send + Sync + 'static,
{
    use ledgerhook::idempotency::{IdempotencyLayer, KeySource, MemoryStore};
    use ledgerhook::{VerifyWebhookLayer, WebhookEvent};
    axum::routing::post(|WebhookEvent(event): WebhookEvent<E>| async move {
        std::hint::black_box(event);
    })
    .route_layer(
        IdempotencyLayer::new(MemoryStore::new())
            .key(KeySource::railz())
            .completed_ttl(completed_ttl),
    )
    .route_layer(VerifyWebhookLayer::new(verifier))
}
