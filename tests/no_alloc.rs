//! Prechecking and verifying a request allocate nothing, whether it is accepted or refused.
//!
//! Its own test binary because it installs dhat's counting global allocator, and dhat allows
//! one profiler per process (so this file holds a single test). Without libtest's harness
//! (`harness = false`): the harness's own thread allocates (its table of running tests)
//! while the test runs, which dhat counted as the test's on a loaded machine.

use std::time::SystemTime;

use base64::Engine as _;
use http::{HeaderMap, HeaderValue};
use ledgerhook::Verifier;
use ledgerhook::signature::HmacScheme;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() {
    verification_allocates_nothing_per_request();
    println!("no_alloc: verification_allocates_nothing_per_request ... ok");
}

fn verification_allocates_nothing_per_request() {
    let _profiler = dhat::Profiler::builder().testing().build();

    let body = br#"{"data":{"event":"auth","connectionId":"CON-1","serviceName":"quickbooks"}}"#;
    let sw_key = base64::engine::general_purpose::STANDARD
        .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .unwrap();
    let verifiers = [
        Verifier::railz("railz_secret").unwrap(),
        Verifier::rootfi_v4("rootfi_secret").unwrap(),
        Verifier::hmac(HmacScheme::standard_webhooks(), &sw_key).unwrap(),
        Verifier::hmac(HmacScheme::stripe(), "stripe_secret").unwrap(),
    ];
    // A second key: the rejected requests below are then checked against both.
    verifiers[0].keys().add("railz_previous").unwrap();
    let now = SystemTime::now();
    let mut cases = Vec::new();
    for verifier in &verifiers {
        let good = verifier.sign(body, now);
        let mut forged = good.clone();
        let name = verifier.header().clone();
        let value = good.get(&name).unwrap().to_str().unwrap().to_owned();
        // Change the last character of the signature to another value (hex is read in either
        // case, so `a` -> `A` would not do): well-formed, wrong.
        let flipped = value
            .char_indices()
            .next_back()
            .map(|(i, c)| format!("{}{}", &value[..i], if c == '0' { '1' } else { '0' }))
            .unwrap();
        forged.insert(name, HeaderValue::from_str(&flipped).unwrap());
        cases.push((verifier, good, true));
        cases.push((verifier, forged, false));
        cases.push((verifier, HeaderMap::new(), false));
    }

    // Warm up anything lazily initialised on first use (CPU feature detection, arc-swap's
    // per-thread debt slots) before counting.
    for (verifier, headers, ok) in &cases {
        assert_eq!(verifier.verify(headers, body).is_ok(), *ok);
    }
    let before = dhat::HeapStats::get();
    for _ in 0..100 {
        for (verifier, headers, ok) in &cases {
            // The precheck (the layer's header check, whose parse it keeps) allocates
            // nothing either.
            let prechecked = verifier.precheck(std::hint::black_box(headers));
            let result = verifier.verify(std::hint::black_box(headers), body);
            // Refusals from the headers alone are the same from both.
            if let Err(err) = &prechecked {
                assert_eq!(result.as_ref(), Err(err));
            }
            assert_eq!(result.is_ok(), *ok);
            // The error (kind, header name, status) is built and read without allocating.
            if let Err(err) = result {
                std::hint::black_box((err.kind(), err.status(), err.header()));
            }
        }
    }
    let after = dhat::HeapStats::get();
    dhat::assert_eq!(after.total_blocks, before.total_blocks);
    dhat::assert_eq!(after.total_bytes, before.total_bytes);
}
