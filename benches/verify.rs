//! Signature verification against the physical limit and the crates people use today.
//!
//! One group per body size (256 B, 1 KiB, 16 KiB, 1 MiB), side by side in one run:
//!
//! - `raw_hmac`: a pre-keyed HMAC-SHA256 state (hmac 0.13 + sha2 0.11, the same crates
//!   ledgerhook uses) cloned, fed the body and checked with `verify_slice`; no header
//!   parsing, no decoding. The physical limit for verifying a body-only signature (RootFi).
//! - `raw_hmac_ts`: the same over `<t>.<body>`, the bytes Railz signs (fed in three
//!   pieces, as any verifier that does not copy the body must): the limit for Railz.
//! - `railz`, `rootfi`: ledgerhook's full `Verifier::verify` (header lookup, parsing, hex
//!   decode, clock read and tolerance check for Railz, constant-time compare), with the
//!   system clock and a fresh timestamp, as in production.
//! - `svix`, `standardwebhooks`: the peers' `Webhook::verify` on a Standard Webhooks
//!   delivery, and `ours_standard_webhooks`: ledgerhook's Standard Webhooks preset on the
//!   very same headers and body (same work: one HMAC-SHA256 + compare).
//!
//! All benchmarks of a size use the same body: a real Railz fixture, grown and padded to
//! the size (see `support::railz_body`).
//!
//! Run: `cargo bench --bench verify`, then `python3 benches/report.py` for the ratio table.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use criterion::{Criterion, Throughput};
use hmac::{Hmac, KeyInit, Mac};
use ledgerhook::Verifier;
use ledgerhook::signature::HmacScheme;
use sha2::Sha256;

#[path = "support/mod.rs"]
mod support;
use support::SIZES;

const RAILZ_SECRET: &[u8] = b"railz_webhook_secret_for_benchmarks";
const ROOTFI_SECRET: &[u8] = b"rootfi_signing_key_for_benchmarks";
/// A Standard Webhooks secret: `whsec_` + base64 of the key bytes.
const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn verify_benches(c: &mut Criterion) {
    let sw_key = base64::engine::general_purpose::STANDARD
        .decode(SW_SECRET.trim_start_matches("whsec_"))
        .unwrap();
    let raw = <Hmac<Sha256> as KeyInit>::new_from_slice(RAILZ_SECRET).unwrap();
    let railz = Verifier::railz(RAILZ_SECRET).unwrap();
    let rootfi = Verifier::rootfi_v4(ROOTFI_SECRET).unwrap();
    let ours_sw = Verifier::hmac(HmacScheme::standard_webhooks(), &sw_key).unwrap();
    let svix = svix::webhooks::Webhook::new(SW_SECRET).unwrap();
    let standard = standardwebhooks::Webhook::new(SW_SECRET).unwrap();

    for (size, name) in SIZES {
        let body = support::railz_body(size);
        // Signed now: the peers read the system clock and have a 5-minute window, and so
        // does our Railz verifier. A group runs for well under a minute.
        let now = SystemTime::now();
        let railz_headers = railz.sign(&body, now);
        let rootfi_headers = rootfi.sign(&body, now);
        let sw_headers = ours_sw.sign(&body, now);
        let raw_tag = raw.clone().chain_update(&body).finalize().into_bytes();
        let railz_value = railz_headers["railz-signature"].to_str().unwrap();
        let ts = railz_value
            .strip_prefix("t=")
            .and_then(|rest| rest.split(',').next())
            .unwrap()
            .to_owned();
        let raw_ts_tag = raw
            .clone()
            .chain_update(ts.as_bytes())
            .chain_update(b".")
            .chain_update(&body)
            .finalize()
            .into_bytes();
        // Same bytes as Railz signs: the tag is the one in the header.
        assert!(railz_value.ends_with(&const_hex::encode(raw_ts_tag)));

        // Every contender must accept its request, or the numbers mean nothing.
        railz.verify(&railz_headers, &body).unwrap();
        rootfi.verify(&rootfi_headers, &body).unwrap();
        ours_sw.verify(&sw_headers, &body).unwrap();
        svix.verify(&body, &sw_headers).unwrap();
        standard.verify(&body, &sw_headers).unwrap();

        let mut group = c.benchmark_group(format!("verify_{name}"));
        group.throughput(Throughput::Bytes(size as u64));
        if size >= 1024 * 1024 {
            group.sample_size(20);
        }
        group.bench_function("raw_hmac", |b| {
            b.iter(|| {
                let mut mac = raw.clone();
                mac.update(black_box(&body));
                mac.verify_slice(black_box(&raw_tag)).is_ok()
            });
        });
        group.bench_function("raw_hmac_ts", |b| {
            b.iter(|| {
                let mut mac = raw.clone();
                mac.update(black_box(ts.as_bytes()));
                mac.update(b".");
                mac.update(black_box(&body));
                mac.verify_slice(black_box(&raw_ts_tag)).is_ok()
            });
        });
        group.bench_function("railz", |b| {
            b.iter(|| railz.verify(black_box(&railz_headers), black_box(&body)));
        });
        group.bench_function("rootfi", |b| {
            b.iter(|| rootfi.verify(black_box(&rootfi_headers), black_box(&body)));
        });
        group.bench_function("ours_standard_webhooks", |b| {
            b.iter(|| ours_sw.verify(black_box(&sw_headers), black_box(&body)));
        });
        group.bench_function("svix", |b| {
            b.iter(|| {
                svix.verify(black_box(&body), black_box(&sw_headers))
                    .is_ok()
            });
        });
        group.bench_function("standardwebhooks", |b| {
            b.iter(|| {
                standard
                    .verify(black_box(&body), black_box(&sw_headers))
                    .is_ok()
            });
        });
        group.finish();
    }
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    verify_benches(&mut c);
    c.final_summary();
}
