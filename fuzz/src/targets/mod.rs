//! The bodies of the fuzz targets, shared by libFuzzer and the test suite.
//!
//! Each target is a plain `fn(&[u8])` that panics on a finding. The binaries in
//! `fuzz/fuzz_targets/` are one-line `fuzz_target!` wrappers around these functions, and
//! the integration test `tests/it/corpus.rs` includes this module (`#[path]`) and runs
//! every checked-in corpus and regression file through the same functions, so a crash
//! found once stays fixed without libFuzzer or a nightly compiler.
//!
//! Only `ledgerhook`, its own dependencies and `arbitrary` are used here, so the module
//! compiles in both places.

pub mod event;
pub mod layer;
pub mod model;
pub mod request;
pub mod seeds;
pub mod sign;
pub mod signature;

/// A target's body: panics on a finding.
pub type Target = fn(&[u8]);

/// Every target: its name (the binary in `fuzz/fuzz_targets/` and the corpus folder) and
/// its body.
pub const TARGETS: &[(&str, Target)] = &[
    ("railz_header", signature::railz_header),
    ("hmac_header", signature::hmac_header),
    ("shared_secret_header", signature::shared_secret_header),
    ("rootfi_event", event::rootfi_event),
    ("railz_event", event::railz_event),
    ("event", event::event),
    ("verify_request", signature::verify_request),
    ("explain_request", signature::explain_request),
    ("sign_verify", sign::sign_verify),
    ("layer", layer::layer),
];
