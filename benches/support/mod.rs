//! Shared by the bench binaries: bodies built from the real fixtures, the naive models,
//! the paired harness, the routers, and (in `setup`) the one place that builds
//! ledgerhook's verifiers and layers.
//!
//! Included with `#[path = "support/mod.rs"] mod support;`; not every bench uses every item.
#![allow(dead_code, unused_imports, unreachable_pub)]

#[cfg(feature = "axum")]
pub(crate) mod apps;
pub(crate) mod fixtures;
pub(crate) mod naive;
pub(crate) mod paired;
pub(crate) mod setup;

pub(crate) use fixtures::{RAILZ_AUTH, RAILZ_DATA_FULL, RAILZ_DATA_PER_TYPE, ROOTFI_SYNC_STARTED};

/// `body` as a server receives it: on the heap, shared by reference count, as hyper hands it
/// over. A `Bytes::from_static` body would make every slice of it free to clone and drop,
/// which no delivered body is.
#[must_use]
pub(crate) fn received(body: &[u8]) -> bytes::Bytes {
    let body = bytes::Bytes::from(body.to_vec());
    // The first clone moves the buffer under a shared count: done here, not in a timed call.
    drop(body.clone());
    body
}

/// The body sizes every criterion verification group is run at.
pub(crate) const SIZES: [(usize, &str); 4] = [
    (256, "256B"),
    (1024, "1KiB"),
    (16 * 1024, "16KiB"),
    (1024 * 1024, "1MiB"),
];

/// A valid Railz delivery of exactly `size` bytes: the largest fixture that fits, its
/// `requests` array grown with copies of its own entries when no fixture is large enough,
/// then padded with trailing whitespace (still valid JSON, parsed like the original).
#[must_use]
pub(crate) fn railz_body(size: usize) -> Vec<u8> {
    let mut body = [RAILZ_DATA_FULL, RAILZ_DATA_PER_TYPE, RAILZ_AUTH]
        .into_iter()
        .find(|fixture| fixture.len() <= size)
        .expect("no fixture is small enough")
        .to_vec();
    if size > RAILZ_DATA_FULL.len() {
        let mut value: serde_json::Value = serde_json::from_slice(RAILZ_DATA_FULL).unwrap();
        let template = value["data"]["requests"].as_array().unwrap().clone();
        let mut len = serde_json::to_vec(&value).unwrap().len();
        let requests = value["data"]["requests"].as_array_mut().unwrap();
        // Compact JSON: each added entry costs its own length plus one comma.
        for entry in template.iter().cycle() {
            let cost = serde_json::to_vec(entry).unwrap().len() + 1;
            if len + cost > size {
                break;
            }
            requests.push(entry.clone());
            len += cost;
        }
        body = serde_json::to_vec(&value).unwrap();
        assert_eq!(body.len(), len);
    }
    assert!(body.len() <= size, "body overshoots {size}");
    body.resize(size - 1, b' ');
    body.push(b'\n');
    assert_eq!(body.len(), size);
    body
}
