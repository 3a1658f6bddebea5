//! Instruction counts of the hot paths, under callgrind (through `gungraun`): verify each
//! preset at 1 KiB (and the raw pre-keyed HMAC of the same body, for reference), parse each
//! fixture, and one request through the whole layer. The counts do not depend on what else
//! the machine runs, so `.ci/bench-guard.sh` compares them with the committed
//! `benches/instructions-baseline.json` to catch regressions on a noisy machine.
//!
//! Needs valgrind (`bash scripts/valgrind.sh`) and `gungraun-runner` of the same version as
//! the `gungraun` dev-dependency (`cargo install gungraun-runner --version 0.20.0 --locked`).
//! Not run by a plain `cargo bench` (`bench = false`); run it by name:
//! `cargo bench --bench instructions`, or `bash .ci/bench-guard.sh` for the check.

// gungraun's macros generate undocumented public modules and constants.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::SystemTime;

use bytes::Bytes;
use gungraun::{library_benchmark, library_benchmark_group, main};
use hmac::{Hmac, KeyInit, Mac};
use http::HeaderMap;
use ledgerhook::Verifier;
use sha2::Sha256;

#[path = "support/mod.rs"]
mod support;
use support::apps::{self, Provider};
use support::{fixtures, setup};

/// What a verify benchmark gets: a verifier, the headers it signed the body with, the body.
type VerifyInput = (Verifier, HeaderMap, Vec<u8>);
/// A pre-keyed HMAC state, a body, its MAC.
type RawHmacInput = (Hmac<Sha256>, Vec<u8>, Vec<u8>);
/// The `ours` router, a signed delivery's headers, its body.
type LayerInput = (axum::Router, HeaderMap, Bytes);

/// A verifier, the headers it signed `body` with, and the body; checked once (which also
/// runs the one-time CPU feature detection outside the counted part).
fn signed(verifier: Verifier) -> VerifyInput {
    let body = support::railz_body(1024);
    let headers = verifier.sign(&body, SystemTime::now());
    verifier.verify(&headers, &body).unwrap();
    (verifier, headers, body)
}

fn railz() -> VerifyInput {
    signed(setup::railz_verifier())
}

fn rootfi_v4() -> VerifyInput {
    signed(setup::rootfi_v4_verifier())
}

fn standard_webhooks() -> VerifyInput {
    signed(setup::standard_webhooks_verifier())
}

/// Drops a benchmark's input after the counted part: the verifier, the router, their
/// `Arc`s and buffers are freed once per process, not per request.
fn drop_input<T>(input: T) {
    drop(input);
}

#[library_benchmark(teardown = drop_input)]
#[bench::railz_1kib(setup = railz)]
#[bench::rootfi_v4_1kib(setup = rootfi_v4)]
#[bench::standard_webhooks_1kib(setup = standard_webhooks)]
fn verify(input: VerifyInput) -> (bool, VerifyInput) {
    let (verifier, headers, body) = &input;
    let ok = black_box(verifier.verify(black_box(headers), black_box(body))).is_ok();
    (ok, input)
}

fn raw_hmac_input(body: Vec<u8>) -> RawHmacInput {
    let keyed = Hmac::<Sha256>::new_from_slice(setup::ROOTFI_SECRET.as_bytes()).unwrap();
    let tag = keyed
        .clone()
        .chain_update(&body)
        .finalize()
        .into_bytes()
        .to_vec();
    (keyed, body, tag)
}

fn raw_hmac_1kib() -> RawHmacInput {
    raw_hmac_input(support::railz_body(1024))
}

fn raw_hmac_rootfi_sync_started() -> RawHmacInput {
    raw_hmac_input(support::ROOTFI_SYNC_STARTED.to_vec())
}

// The floor under `verify`: a pre-keyed HMAC-SHA256 state cloned, fed the body, checked.
// Also a same-run reference for `.ci/bench-guard.sh` on another kind of machine (the
// `rootfi_sync_started` body is the one of `layer/rootfi_sync_started`).
#[library_benchmark(teardown = drop_input)]
#[bench::body_1kib(setup = raw_hmac_1kib)]
#[bench::rootfi_sync_started(setup = raw_hmac_rootfi_sync_started)]
fn raw_hmac(input: RawHmacInput) -> (bool, RawHmacInput) {
    let (keyed, body, tag) = &input;
    let mut mac = keyed.clone();
    mac.update(black_box(body));
    let ok = black_box(mac.verify_slice(black_box(tag))).is_ok();
    (ok, input)
}

library_benchmark_group!(name = verify_group, benchmarks = [verify, raw_hmac]);

fn fixture(name: &str) -> (&str, Bytes) {
    let (name, body) = fixtures::FIXTURES
        .iter()
        .find(|(fixture, _)| *fixture == name)
        .expect("unknown fixture");
    let body = support::received(body);
    setup::parse_fixture(name, &body).unwrap();
    (name, body)
}

#[library_benchmark]
#[bench::railz_auth(setup = fixture, args = ("railz_auth"))]
#[bench::railz_batch_push(setup = fixture, args = ("railz_batch_push"))]
#[bench::railz_connection_status(setup = fixture, args = ("railz_connection_status"))]
#[bench::railz_customer_request(setup = fixture, args = ("railz_customer_request"))]
#[bench::railz_data_full(setup = fixture, args = ("railz_data_full"))]
#[bench::railz_data_full_no_envelope_extras(setup = fixture, args = ("railz_data_full_no_envelope_extras"))]
#[bench::railz_data_per_type(setup = fixture, args = ("railz_data_per_type"))]
#[bench::railz_data_per_type_simple(setup = fixture, args = ("railz_data_per_type_simple"))]
#[bench::railz_data_simple(setup = fixture, args = ("railz_data_simple"))]
#[bench::railz_delete(setup = fixture, args = ("railz_delete"))]
#[bench::railz_login(setup = fixture, args = ("railz_login"))]
#[bench::railz_push_validation_errors(setup = fixture, args = ("railz_push_validation_errors"))]
#[bench::rootfi_connection_changed_v3(setup = fixture, args = ("rootfi_connection_changed_v3"))]
#[bench::rootfi_data_model_changes_create(setup = fixture, args = ("rootfi_data_model_changes_create"))]
#[bench::rootfi_data_model_changes_delete_payment(setup = fixture, args = ("rootfi_data_model_changes_delete_payment"))]
#[bench::rootfi_data_model_changes_update_crm(setup = fixture, args = ("rootfi_data_model_changes_update_crm"))]
#[bench::rootfi_integration(setup = fixture, args = ("rootfi_integration"))]
#[bench::rootfi_legacy_data_model_changes(setup = fixture, args = ("rootfi_legacy_data_model_changes"))]
#[bench::rootfi_sync_completed(setup = fixture, args = ("rootfi_sync_completed"))]
#[bench::rootfi_sync_started(setup = fixture, args = ("rootfi_sync_started"))]
#[bench::rootfi_v4_connection_changed(setup = fixture, args = ("rootfi_v4_connection_changed"))]
#[bench::rootfi_v4_data_model_changes_singular(setup = fixture, args = ("rootfi_v4_data_model_changes_singular"))]
#[bench::rootfi_v4_sync_completed_event(setup = fixture, args = ("rootfi_v4_sync_completed_event"))]
fn parse(input: (&str, Bytes)) -> bool {
    let (name, body) = input;
    black_box(setup::parse_fixture(name, black_box(&body))).is_ok()
}

// Same-run references for `.ci/bench-guard.sh` on another kind of machine: what
// `serde_json::Value` costs on the same bytes (every fixture, and the 1 KiB Railz body of
// `layer/railz_1kib`).
#[library_benchmark]
#[bench::railz_auth(setup = fixture, args = ("railz_auth"))]
#[bench::railz_batch_push(setup = fixture, args = ("railz_batch_push"))]
#[bench::railz_connection_status(setup = fixture, args = ("railz_connection_status"))]
#[bench::railz_customer_request(setup = fixture, args = ("railz_customer_request"))]
#[bench::railz_data_full(setup = fixture, args = ("railz_data_full"))]
#[bench::railz_data_full_no_envelope_extras(setup = fixture, args = ("railz_data_full_no_envelope_extras"))]
#[bench::railz_data_per_type(setup = fixture, args = ("railz_data_per_type"))]
#[bench::railz_data_per_type_simple(setup = fixture, args = ("railz_data_per_type_simple"))]
#[bench::railz_data_simple(setup = fixture, args = ("railz_data_simple"))]
#[bench::railz_delete(setup = fixture, args = ("railz_delete"))]
#[bench::railz_login(setup = fixture, args = ("railz_login"))]
#[bench::railz_push_validation_errors(setup = fixture, args = ("railz_push_validation_errors"))]
#[bench::rootfi_connection_changed_v3(setup = fixture, args = ("rootfi_connection_changed_v3"))]
#[bench::rootfi_data_model_changes_create(setup = fixture, args = ("rootfi_data_model_changes_create"))]
#[bench::rootfi_data_model_changes_delete_payment(setup = fixture, args = ("rootfi_data_model_changes_delete_payment"))]
#[bench::rootfi_data_model_changes_update_crm(setup = fixture, args = ("rootfi_data_model_changes_update_crm"))]
#[bench::rootfi_integration(setup = fixture, args = ("rootfi_integration"))]
#[bench::rootfi_legacy_data_model_changes(setup = fixture, args = ("rootfi_legacy_data_model_changes"))]
#[bench::rootfi_sync_completed(setup = fixture, args = ("rootfi_sync_completed"))]
#[bench::rootfi_sync_started(setup = fixture, args = ("rootfi_sync_started"))]
#[bench::rootfi_v4_connection_changed(setup = fixture, args = ("rootfi_v4_connection_changed"))]
#[bench::rootfi_v4_data_model_changes_singular(setup = fixture, args = ("rootfi_v4_data_model_changes_singular"))]
#[bench::rootfi_v4_sync_completed_event(setup = fixture, args = ("rootfi_v4_sync_completed_event"))]
#[bench::railz_1kib(setup = railz_1kib_body)]
fn value_parse(input: (&str, Bytes)) -> bool {
    let (_, body) = input;
    black_box(serde_json::from_slice::<serde_json::Value>(black_box(
        &body,
    )))
    .is_ok()
}

fn railz_1kib_body() -> (&'static str, Bytes) {
    ("railz_1kib", Bytes::from(support::railz_body(1024)))
}

library_benchmark_group!(name = parse_group, benchmarks = [parse, value_parse]);

/// The `ours` router, a signed delivery, and one warm-up call through it (first-use
/// initialisation stays out of the counted part).
fn layer_input(provider: Provider, body: Bytes) -> LayerInput {
    let app = apps::app(provider, "ours");
    let headers = apps::signed_headers(provider, &body);
    assert_eq!(apps::call(&app, &headers, &body), 200);
    (app, headers, body)
}

fn layer_railz_1kib() -> LayerInput {
    layer_input(Provider::Railz, Bytes::from(support::railz_body(1024)))
}

fn layer_rootfi_sync_started() -> LayerInput {
    layer_input(
        Provider::RootFiV4,
        support::received(support::ROOTFI_SYNC_STARTED),
    )
}

// One request through the router with the layer and the `WebhookEvent` extractor,
// building the request included.
#[library_benchmark(teardown = drop_input)]
#[bench::railz_1kib(setup = layer_railz_1kib)]
#[bench::rootfi_sync_started(setup = layer_rootfi_sync_started)]
fn layer(input: LayerInput) -> (u16, LayerInput) {
    let (app, headers, body) = &input;
    let status = black_box(apps::call(app, headers, body)).as_u16();
    (status, input)
}

library_benchmark_group!(name = layer_group, benchmarks = [layer]);

main!(
    library_benchmark_groups = verify_group,
    parse_group,
    layer_group
);
