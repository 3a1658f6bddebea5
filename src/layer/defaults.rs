//! Defaults chosen per provider: the route name and the body limit.

use std::time::Duration;

/// Body limit for Railz routes (and bearer-token routes, Railz's other option): 256 KiB.
///
/// Railz bodies are a few KiB (one event, its ids and a short `data` object); 256 KiB
/// leaves two orders of magnitude of headroom while keeping what a forged request can
/// make the layer buffer small.
pub const RAILZ_MAX_BODY_SIZE: usize = 256 * 1024;

/// Body limit for RootFi routes (v4 and v3): 16 MiB.
///
/// RootFi `DATA_MODEL_CHANGES` deliveries carry whole batches of unified records (every
/// record again as `UPDATE` on a full sync) and RootFi documents no page size: batches of
/// several MiB occur.
pub const ROOTFI_MAX_BODY_SIZE: usize = 16 * 1024 * 1024;

/// Body limit for every other verifier: 1 MiB.
pub const DEFAULT_MAX_BODY_SIZE: usize = 1024 * 1024;

/// How long the body may take to arrive once the layer starts reading it: 30 seconds.
///
/// A provider posts a few KiB to a few MiB in well under a second; a sender dribbling
/// bytes for longer is holding memory, not delivering.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The default body limit for a provider name.
pub(crate) fn max_body_size_for(provider: &str) -> usize {
    match provider {
        "railz" | "bearer" => RAILZ_MAX_BODY_SIZE,
        "rootfi" | "rootfi_v3" => ROOTFI_MAX_BODY_SIZE,
        _ => DEFAULT_MAX_BODY_SIZE,
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderName;

    use crate::Verifier;

    use super::*;

    #[test]
    fn presets_get_limits_that_fit_their_payloads() {
        let railz = Verifier::railz("s").unwrap();
        let rootfi = Verifier::rootfi_v4("s").unwrap();
        let bearer = Verifier::bearer("s").unwrap();
        let v3 = Verifier::shared_secret(HeaderName::from_static("api_key"), "s").unwrap();
        assert_eq!(max_body_size_for(railz.provider()), RAILZ_MAX_BODY_SIZE);
        assert_eq!(max_body_size_for(rootfi.provider()), ROOTFI_MAX_BODY_SIZE);
        assert_eq!(max_body_size_for(bearer.provider()), RAILZ_MAX_BODY_SIZE);
        assert_eq!(max_body_size_for(v3.provider()), DEFAULT_MAX_BODY_SIZE);
        assert_eq!(max_body_size_for("railz"), RAILZ_MAX_BODY_SIZE);
        assert_eq!(max_body_size_for("rootfi_v3"), ROOTFI_MAX_BODY_SIZE);
        assert_eq!(max_body_size_for("hmac"), DEFAULT_MAX_BODY_SIZE);
    }
}
