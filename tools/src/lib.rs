//! Shared pieces of ledgerhook's test tools: the development secrets, signatures computed
//! independently of the crate under test, the record key the test receiver counts
//! handled deliveries by, and the `GET /stats` reader.
//!
//! The binaries: `test-receiver` (the example receiver's routes plus test hooks),
//! `reliability-driver` (scripts/reliability.sh) and `flood` (scripts/flood.sh).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use http::HeaderValue;
use sha2::{Digest, Sha256};

/// Development Railz secret, the same as examples/receiver.rs and examples/send.rs.
pub const DEV_RAILZ_SECRET: &str = "ledgerhook-dev-railz-secret";
/// Development RootFi v4 signing key.
pub const DEV_ROOTFI_SECRET: &str = "ledgerhook-dev-rootfi-secret";
/// Development RootFi v3 token.
pub const DEV_ROOTFI_V3_TOKEN: &str = "ledgerhook-dev-rootfi-v3-token";
/// Default RootFi v3 token header.
pub const DEFAULT_ROOTFI_V3_HEADER: &str = "api_key";

/// A Railz `requestId` starting with this is refused with `422` by the test receiver's
/// handler the first time it arrives (a handler that is not ready for the event yet).
pub const REFUSE_ONCE_PREFIX: &str = "refuse-once-";

/// The environment variable `var`, else `default`.
#[must_use]
pub fn env_or(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// The Railz secret the receiver and the drivers use.
#[must_use]
pub fn railz_secret() -> String {
    env_or("RAILZ_WEBHOOK_SECRET", DEV_RAILZ_SECRET)
}

/// `Railz-Signature: t=<ms>,v=<hex HMAC-SHA256(secret, "<t>.<body>")>`, computed here
/// rather than with the crate's signer so the checks do not depend on the code they test.
#[must_use]
pub fn railz_signature(secret: &str, body: &[u8], at: SystemTime) -> HeaderValue {
    let ms = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let mac = hmac_hex(secret.as_bytes(), &[format!("{ms}.").as_bytes(), body]);
    HeaderValue::try_from(format!("t={ms},v={mac}")).expect("ASCII")
}

/// `X-RootFi-Signature: <hex HMAC-SHA256(secret, body)>` (RootFi v4).
#[must_use]
pub fn rootfi_signature(secret: &str, body: &[u8]) -> HeaderValue {
    HeaderValue::try_from(hmac_hex(secret.as_bytes(), &[body])).expect("ASCII")
}

fn hmac_hex(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    for part in parts {
        mac.update(part);
    }
    const_hex::encode(mac.finalize().into_bytes())
}

/// What the test receiver counts a delivery under: `<requestId>/<first 16 hex of the
/// body's SHA-256>`, with `-` for a body without a `requestId`.
///
/// The digest tells apart different events sharing one `requestId`; the `requestId`
/// prefix lets a driver find every record of one id.
#[must_use]
pub fn record_key(body: &[u8]) -> String {
    let request_id = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("requestId")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "-".to_owned());
    let digest = const_hex::encode(Sha256::digest(body));
    format!("{request_id}/{}", &digest[..16])
}

/// The test receiver's `GET /stats`.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Stats {
    /// `"memory"`, `"redis"` or `"off"`.
    #[serde(default)]
    pub dedup: String,
    /// Record key → how many times the handler answered `2xx` for it.
    #[serde(default)]
    pub handled: HashMap<String, u64>,
    /// Record key → how many times the handler answered something else.
    #[serde(default)]
    pub refused: HashMap<String, u64>,
    /// Keys held by the in-memory store (absent for Redis or with dedup off).
    #[serde(default)]
    pub store_len: Option<u64>,
    /// The in-memory store's capacity.
    #[serde(default)]
    pub store_capacity: Option<u64>,
}

impl Stats {
    /// How many times any delivery with this `requestId` was handled.
    #[must_use]
    pub fn handled_for_request_id(&self, request_id: &str) -> u64 {
        let prefix = format!("{request_id}/");
        self.handled
            .iter()
            .filter(|(key, _)| key.starts_with(&prefix))
            .map(|(_, n)| n)
            .sum()
    }

    /// How many times this exact body was handled.
    #[must_use]
    pub fn handled_body(&self, body: &[u8]) -> u64 {
        self.handled.get(&record_key(body)).copied().unwrap_or(0)
    }
}

/// Checks that `url` is `http://` on loopback (127.0.0.0/8 or `localhost`) and returns
/// its `host:port`.
///
/// # Errors
/// A message naming what is wrong.
pub fn loopback_host(url: &str) -> Result<&str, String> {
    let host = url
        .strip_prefix("http://")
        .ok_or("the URL must be http://127.x.x.x:PORT")?
        .trim_end_matches('/');
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    let loopback = name == "localhost"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(host)
    } else {
        Err("the URL must be a loopback address (127.0.0.0/8 or localhost)".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    // Known answers from Python:
    // python3 -c "import hmac,hashlib; print(hmac.new(b'ledgerhook-dev-railz-secret', b'1700000000000.{\"a\":1}', hashlib.sha256).hexdigest())"
    #[test]
    fn railz_signature_matches_python_hmac() {
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_000);
        assert_eq!(
            railz_signature(DEV_RAILZ_SECRET, br#"{"a":1}"#, at),
            "t=1700000000000,v=ad2930b7b7e911b218c4aad3c198e9eba86d451222c3a69bef8126bbe43ba410"
        );
    }

    // python3 -c "import hmac,hashlib; print(hmac.new(b'ledgerhook-dev-rootfi-secret', b'{\"a\":1}', hashlib.sha256).hexdigest())"
    #[test]
    fn rootfi_signature_matches_python_hmac() {
        assert_eq!(
            rootfi_signature(DEV_ROOTFI_SECRET, br#"{"a":1}"#),
            "af474531744f98e2ae1f5c30c116f6f0985d4166064f33bd134c241106f42b24"
        );
    }

    // python3 -c "import hashlib; print(hashlib.sha256(b'{\"requestId\":\"r1\",\"data\":{}}').hexdigest()[:16])"
    #[test]
    fn record_keys_tell_apart_events_sharing_a_request_id() {
        assert_eq!(
            record_key(br#"{"requestId":"r1","data":{}}"#),
            "r1/e6d4a6ebc864214e"
        );
        let other = record_key(br#"{"requestId":"r1","data":{"event":"data"}}"#);
        assert!(other.starts_with("r1/") && other != "r1/e6d4a6ebc864214e");
        assert!(record_key(br#"{"event":"connection.changed"}"#).starts_with("-/"));
        assert!(record_key(b"not json").starts_with("-/"));
    }

    #[test]
    fn stats_sum_every_record_of_a_request_id() {
        let mut stats = Stats::default();
        stats.handled.insert("r1/aaaa".to_owned(), 1);
        stats.handled.insert("r1/bbbb".to_owned(), 2);
        stats.handled.insert("r10/cccc".to_owned(), 5);
        assert_eq!(stats.handled_for_request_id("r1"), 3);
        assert_eq!(stats.handled_for_request_id("r2"), 0);
    }

    #[test]
    fn only_loopback_urls_are_accepted() {
        assert_eq!(
            loopback_host("http://127.0.0.1:3000/"),
            Ok("127.0.0.1:3000")
        );
        assert_eq!(loopback_host("http://localhost:8080"), Ok("localhost:8080"));
        assert!(loopback_host("http://10.0.0.1:3000").is_err());
        assert!(loopback_host("https://127.0.0.1:3000").is_err());
        assert!(loopback_host("http://localhost.example.com:80").is_err());
        assert!(loopback_host("http://127.example.com:80").is_err());
    }
}
