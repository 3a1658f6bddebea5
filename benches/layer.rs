//! The whole receiving path, absolute times: an axum `Router` driven in-process with
//! `tower::ServiceExt::oneshot`, one signed delivery per call, for every contender of
//! `support::apps` (`bare`, `naive`, `in_handler`, `ours`) plus `request_only` (building
//! and dropping the request, inside every other figure).
//!
//! Groups: Railz at 1 KiB and 16 KiB (a real fixture grown and padded), RootFi v4 on the
//! real `rootfi_sync_started` fixture (1276 bytes), and (`layer_dedup_railz_data_per_type`)
//! `ours` behind the idempotency layer on the `railz_data_per_type` fixture. Every request answers `200 OK`, checked
//! before measuring. Each iteration builds its request (`iter_batched` was not used because
//! freeing its large batches made glibc return memory to the kernel and page-fault it back
//! inside the timed part). The futures complete without waiting on I/O, so they are polled
//! with a no-op waker instead of a runtime.
//!
//! The ratios the goals are about come from `benches/paired.rs`; this bench gives the
//! absolute time per request. Run: `cargo bench --bench layer`, then
//! `python3 benches/report.py criterion`.

use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput};

#[path = "support/mod.rs"]
mod support;
use support::apps::{self, Provider};

fn layer_benches(c: &mut Criterion) {
    let cases = [
        (
            "railz_1KiB",
            Provider::Railz,
            Bytes::from(support::railz_body(1024)),
        ),
        (
            "railz_16KiB",
            Provider::Railz,
            Bytes::from(support::railz_body(16 * 1024)),
        ),
        (
            "rootfi_sync_started",
            Provider::RootFiV4,
            support::received(support::ROOTFI_SYNC_STARTED),
        ),
    ];
    for (name, provider, body) in cases {
        let headers = apps::signed_headers(provider, &body);
        let apps = apps::apps(provider);
        for (id, app) in &apps {
            assert_eq!(apps::call(app, &headers, &body), 200, "{name} {id}");
        }

        let mut group = c.benchmark_group(format!("layer_{name}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function("request_only", |b| {
            b.iter(|| apps::request(&headers, &body))
        });
        for (id, app) in &apps {
            group.bench_function(*id, |b| b.iter(|| apps::call(app, &headers, &body)));
        }
        group.finish();
    }
    dedup_bench(c);
}

/// `ours` with the idempotency layer behind the verifying one (`KeySource::railz()`,
/// `MemoryStore`) on the `railz_data_per_type` fixture. Every call is a new delivery: a
/// pool of signed copies with distinct `requestId`s of the fixture's length, cycled, and
/// completed ids remembered for 1 ms, far less than one turn of the pool takes.
fn dedup_bench(c: &mut Criterion) {
    use ledgerhook::idempotency::DUPLICATE_HEADER;
    use tower::ServiceExt;

    let app = apps::ours_dedup(Duration::from_millis(1));
    let pool: Vec<_> = (0..4096)
        .map(|i| {
            let body = apps::with_request_id(support::RAILZ_DATA_PER_TYPE, &format!("{i:036}"));
            (apps::signed_headers(Provider::Railz, &body), body)
        })
        .collect();
    let (headers, body) = &pool[0];
    let res = apps::run(app.clone().oneshot(apps::request(headers, body))).unwrap();
    assert_eq!(res.status(), 200);
    assert!(!res.headers().contains_key(DUPLICATE_HEADER));

    let mut group = c.benchmark_group("layer_dedup_railz_data_per_type");
    group.throughput(Throughput::Bytes(body.len() as u64));
    let mut next = pool.iter().cycle().skip(1);
    group.bench_function("ours_dedup", |b| {
        b.iter(|| {
            let (headers, body) = next.next().unwrap();
            apps::call(&app, headers, body)
        })
    });
    group.finish();
    // Still new deliveries after the measured turns of the pool.
    let (headers, body) = next.next().unwrap();
    let res = apps::run(app.clone().oneshot(apps::request(headers, body))).unwrap();
    assert!(!res.headers().contains_key(DUPLICATE_HEADER));
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    layer_benches(&mut c);
    c.final_summary();
}
