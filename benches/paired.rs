//! Paired ratios for the goals of issue 14: contender and baseline alternate in small
//! batches inside this one process (`support::paired`), and each comparison reports the
//! median of its per-pair ratios with their spread.
//!
//! - `verify/*`: `Verifier::verify` for Railz, RootFi v4 and Standard Webhooks against a
//!   pre-keyed HMAC-SHA256 state (hmac 0.13 + sha2 0.11, what ledgerhook uses) cloned and
//!   fed exactly the bytes the scheme signs, at 1 KiB and 1 MiB (a real Railz fixture
//!   grown and padded to the size).
//! - `parse/<fixture>`: our typed parse against `serde_json::from_slice::<Value>`, every
//!   fixture in `tests/fixtures`; `parse_floor/<fixture>` (informational) times
//!   `serde_json::from_slice::<IgnoredAny>`, a parse that builds nothing, against the same.
//! - `layer/*`: the whole layer in-process (`support::apps`) against the hand-rolled
//!   `from_fn` + `hmac` + `Json<T>` composition and against the same work in a handler.
//!
//! - `metrics/*` (with `--features metrics`): the whole layer at 1 KiB with its metrics
//!   recorded by a real Prometheus recorder against the same layer with the route's metrics
//!   off (`record_metrics(false)`, which skips everything the feature adds but a branch).
//!
//! Run: `cargo bench --bench paired` (optionally `-- <filter>`; `PAIRED_SECS=2` for longer
//! measurements), then `python3 benches/report.py`.

use std::hint::black_box;
use std::time::SystemTime;

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http::HeaderMap;
use sha2::Sha256;

#[path = "support/mod.rs"]
mod support;
use support::apps::{self, Provider};
use support::paired::Run;
use support::{fixtures, setup};

fn main() {
    fixtures::assert_complete();
    let mut run = Run::from_env();
    verify(&mut run);
    parse(&mut run);
    layer(&mut run);
    #[cfg(feature = "metrics")]
    metrics_cost(&mut run);
    run.finish();
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers[name].to_str().unwrap()
}

/// A pre-keyed HMAC-SHA256 state fed `pieces` in turn, checked against `tag`.
fn raw_verify(keyed: &Hmac<Sha256>, pieces: &[&[u8]], tag: &[u8]) -> bool {
    let mut mac = keyed.clone();
    for piece in pieces {
        mac.update(black_box(piece));
    }
    mac.verify_slice(black_box(tag)).is_ok()
}

fn verify(run: &mut Run) {
    let raw_railz = Hmac::<Sha256>::new_from_slice(setup::RAILZ_SECRET.as_bytes()).unwrap();
    let raw_rootfi = Hmac::<Sha256>::new_from_slice(setup::ROOTFI_SECRET.as_bytes()).unwrap();
    let raw_sw = Hmac::<Sha256>::new_from_slice(&setup::standard_webhooks_key()).unwrap();

    for (size, name) in [(1024, "1KiB"), (1024 * 1024, "1MiB")] {
        let body = Bytes::from(support::railz_body(size));
        let now = SystemTime::now();

        // Railz: `t=<ms>,v=<hex>` over `<t>.<body>`.
        let railz = setup::railz_verifier();
        let headers = railz.sign(&body, now);
        let value = header(&headers, "railz-signature");
        let (t, v) = value
            .strip_prefix("t=")
            .and_then(|rest| rest.split_once(",v="))
            .unwrap();
        let (t, tag) = (t.to_owned(), const_hex::decode(v).unwrap());
        railz.verify(&headers, &body).unwrap();
        assert!(raw_verify(&raw_railz, &[t.as_bytes(), b".", &body], &tag));
        let (raw, raw_body) = (raw_railz.clone(), body.clone());
        run.compare(
            "verify",
            &format!("railz_{name}"),
            size,
            move || railz.verify(black_box(&headers), black_box(&body)),
            move || raw_verify(&raw, &[t.as_bytes(), b".", &raw_body], &tag),
        );

        // RootFi v4: hex over the body.
        let body = Bytes::from(support::railz_body(size));
        let rootfi = setup::rootfi_v4_verifier();
        let headers = rootfi.sign(&body, now);
        let value = header(&headers, "x-rootfi-signature");
        let tag = const_hex::decode(value.trim_start_matches("sha256=")).unwrap();
        rootfi.verify(&headers, &body).unwrap();
        assert!(raw_verify(&raw_rootfi, &[&body], &tag));
        let (raw, raw_body) = (raw_rootfi.clone(), body.clone());
        run.compare(
            "verify",
            &format!("rootfi_v4_{name}"),
            size,
            move || rootfi.verify(black_box(&headers), black_box(&body)),
            move || raw_verify(&raw, &[&raw_body], &tag),
        );

        // Standard Webhooks: `v1,<base64>` over `<id>.<timestamp>.<body>`.
        let body = Bytes::from(support::railz_body(size));
        let sw = setup::standard_webhooks_verifier();
        let headers = sw.sign(&body, now);
        let id = header(&headers, "webhook-id").to_owned();
        let ts = header(&headers, "webhook-timestamp").to_owned();
        let tag = {
            use base64::Engine as _;
            let value = header(&headers, "webhook-signature");
            base64::engine::general_purpose::STANDARD
                .decode(value.strip_prefix("v1,").unwrap())
                .unwrap()
        };
        sw.verify(&headers, &body).unwrap();
        // The `<id>.<timestamp>.` prefix is formatted once: a stricter floor than any
        // verifier, which must take both from the headers.
        let signed = format!("{id}.{ts}.");
        assert!(raw_verify(&raw_sw, &[signed.as_bytes(), &body], &tag));
        let (raw, raw_body) = (raw_sw.clone(), body.clone());
        run.compare(
            "verify",
            &format!("standard_webhooks_{name}"),
            size,
            move || sw.verify(black_box(&headers), black_box(&body)),
            move || raw_verify(&raw, &[signed.as_bytes(), &raw_body], &tag),
        );
    }
}

fn parse(run: &mut Run) {
    for &(name, body) in fixtures::FIXTURES {
        let body = support::received(body);
        setup::parse_fixture(name, &body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let value_body = body.clone();
        run.compare(
            "parse",
            name,
            body.len(),
            move || setup::parse_fixture(name, black_box(&body)),
            move || serde_json::from_slice::<serde_json::Value>(black_box(&value_body)),
        );
    }
    // Informational, not a goal: the floor of any serde_json parse (a syntax check that
    // builds nothing), against the same `Value` baseline.
    for &(name, body) in fixtures::FIXTURES {
        let (floor_body, value_body) = (support::received(body), support::received(body));
        run.compare(
            "parse_floor",
            name,
            body.len(),
            move || serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&floor_body)),
            move || serde_json::from_slice::<serde_json::Value>(black_box(&value_body)),
        );
    }
}

fn layer(run: &mut Run) {
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
        let [_, (_, naive), (_, in_handler), (_, ours)] = apps::apps(provider);
        for (id, app) in [
            ("naive", &naive),
            ("in_handler", &in_handler),
            ("ours", &ours),
        ] {
            assert_eq!(apps::call(app, &headers, &body), 200, "{name} {id}");
        }
        for (id, baseline) in [("naive", naive), ("in_handler", in_handler)] {
            let (ours, ours_headers, ours_body) = (ours.clone(), headers.clone(), body.clone());
            let (headers, body) = (headers.clone(), body.clone());
            run.compare(
                "layer",
                &format!("{name}_vs_{id}"),
                body.len(),
                move || apps::call(&ours, &ours_headers, &ours_body),
                move || apps::call(&baseline, &headers, &body),
            );
        }
    }
}

/// The cost of the metrics on the whole layer: recorded by `metrics-exporter-prometheus`'s
/// recorder vs not recorded.
#[cfg(feature = "metrics")]
fn metrics_cost(run: &mut Run) {
    let body = Bytes::from(support::railz_body(1024));
    let headers = apps::signed_headers(Provider::Railz, &body);
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let prometheus = recorder.handle();
    let (recorded, off) = (apps::ours_metrics(true), apps::ours_metrics(false));
    // The route registers its handles on its first delivery and keeps them: register them
    // with this recorder (this thread's only, so no other comparison records).
    metrics::with_local_recorder(&recorder, || {
        assert_eq!(apps::call(&recorded, &headers, &body), 200);
    });
    assert_eq!(apps::call(&off, &headers, &body), 200);
    let scrape = prometheus.render();
    assert!(
        scrape.contains(r#"ledgerhook_deliveries_total{provider="railz",outcome="accepted"} 1"#),
        "{scrape}"
    );
    let (off_headers, off_body) = (headers.clone(), body.clone());
    let mut calls = 0u32;
    run.compare(
        "metrics",
        "railz_1KiB_recorded_vs_off",
        body.len(),
        move || {
            // What the exporter's upkeep task does every few seconds: drain histograms.
            calls = calls.wrapping_add(1);
            if calls.is_multiple_of(4096) {
                prometheus.run_upkeep();
            }
            apps::call(&recorded, &headers, &body)
        },
        move || apps::call(&off, &off_headers, &off_body),
    );
}
