//! Parse time on every fixture, one group per fixture (absolute times; the paired ratios
//! against `Value` that the goals are about come from `benches/paired.rs`):
//!
//! - `ledgerhook`: the provider's parser (`rootfi::Event` / `railz::Event`, through
//!   `WebhookPayload::parse`);
//! - `ledgerhook_detect`: the provider-detecting `ledgerhook::Event`;
//! - `value`: `serde_json::from_slice::<serde_json::Value>` (the baseline);
//! - `derived`: the naive model of `support::naive` (internally tagged enums with owned
//!   `String`s). Skipped for fixtures it cannot represent (legacy, unknown tags).
//!
//! Run with `cargo bench --bench parse`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/mod.rs"]
mod support;
use support::fixtures::{self, FIXTURES};
use support::{naive, setup};

fn parse(c: &mut Criterion) {
    fixtures::assert_complete();
    for &(name, body) in FIXTURES {
        let bytes = support::received(body);
        let mut group = c.benchmark_group(format!("parse/{name}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        setup::parse_fixture(name, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        group.bench_function("ledgerhook", |b| {
            b.iter(|| setup::parse_fixture(name, black_box(&bytes)))
        });
        group.bench_function("ledgerhook_detect", |b| {
            b.iter(|| setup::parse_detect(black_box(&bytes)))
        });
        group.bench_function("value", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)))
        });
        // Only where the derived model parses the body: the result must be the same work.
        if naive::parse(name, body).is_some() {
            group.bench_function("derived", |b| {
                b.iter(|| naive::parse(name, black_box(body)))
            });
        }
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = parse
}
criterion_main!(benches);
