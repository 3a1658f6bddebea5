//! Instruction counts of one Railz delivery through the verifying layer, the idempotency
//! layer (`MemoryStore`, `KeySource::railz()`) and a handler taking
//! `WebhookEvent<railz::Event>`, on the `railz_data_per_type` fixture: what the dedup stack
//! costs per new delivery. Not in the regression guard (`benches/instructions.rs`).
//!
//! Needs valgrind and `gungraun-runner` (see `benches/instructions.rs`); run by name:
//! `cargo bench --bench dedup_instructions`.

// gungraun's macros generate undocumented public modules and constants.
#![allow(missing_docs)]

use std::hint::black_box;

use bytes::Bytes;
use gungraun::{library_benchmark, library_benchmark_group, main};
use http::HeaderMap;
use ledgerhook::idempotency::{DUPLICATE_HEADER, IdempotencyLayer};
use tower::ServiceExt;

#[path = "support/mod.rs"]
mod support;
use support::apps::{self, Provider};

/// The dedup router, a signed delivery's headers, its body.
type DedupInput = (axum::Router, HeaderMap, Bytes);

/// The dedup router after one warm-up delivery (another `requestId`, so the counted one is
/// new to the store), and the signed fixture.
fn dedup_railz_data_per_type() -> DedupInput {
    let app = apps::ours_dedup(IdempotencyLayer::DEFAULT_COMPLETED_TTL);
    let warm = apps::with_request_id(support::RAILZ_DATA_PER_TYPE, "warm-up");
    assert_eq!(
        apps::call(&app, &apps::signed_headers(Provider::Railz, &warm), &warm),
        200
    );
    let body = support::received(support::RAILZ_DATA_PER_TYPE);
    let headers = apps::signed_headers(Provider::Railz, &body);
    (app, headers, body)
}

/// Checks, after the counted part, that the counted delivery reached the handler (a
/// duplicate is answered `200` too, with the duplicate header).
fn handled(output: (bool, DedupInput)) {
    assert!(output.0, "the counted delivery was not handled");
}

// One new delivery through the stack, building the request included.
#[library_benchmark(teardown = handled)]
#[bench::railz_data_per_type(setup = dedup_railz_data_per_type)]
fn dedup(input: DedupInput) -> (bool, DedupInput) {
    let (app, headers, body) = &input;
    let res = apps::run(app.clone().oneshot(apps::request(headers, body))).unwrap();
    let handled = res.status() == 200 && !res.headers().contains_key(DUPLICATE_HEADER);
    (black_box(handled), input)
}

library_benchmark_group!(name = dedup_group, benchmarks = [dedup]);

main!(library_benchmark_groups = dedup_group);
