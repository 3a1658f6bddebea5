//! Header-parser targets and the full verification path.

use http::{HeaderMap, HeaderName, HeaderValue};

use super::model::{Model, PRESETS, Preset, hmac_presets, token_presets};
use super::request;

/// The body the header-only targets verify against.
pub const HEADER_BODY: &[u8] = br#"{"data":{"event":"auth","connectionId":"CON-1"}}"#;

/// The id the header-only targets send for schemes that sign one.
pub const HEADER_ID: &str = "msg_fuzz";

/// The headers other than the signature that `preset` needs, all valid: its timestamp
/// header (at the clock's time) and id header.
pub fn companion_headers(preset: &Preset) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Model::Hmac(model) = &preset.model {
        if let Some(name) = &model.timestamp_header {
            headers.insert(name.clone(), value(&preset.model.now_text()));
        }
        if let Some(name) = &model.id_header {
            headers.insert(name.clone(), value(HEADER_ID));
        }
    }
    headers
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("visible ASCII")
}

/// The header `preset` reads its signature or token from.
pub fn signature_header(preset: &Preset) -> HeaderName {
    preset.verifier.header().clone()
}

fn check_value(preset: &Preset, data: &[u8]) {
    // Bytes `http` refuses (CR, LF, NUL, ...) never reach a verifier.
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = companion_headers(preset);
    headers.insert(signature_header(preset), value);
    preset.check(&headers, HEADER_BODY);
}

/// `railz_header`: the input is a `Railz-Signature` value.
pub fn railz_header(data: &[u8]) {
    check_value(&PRESETS[0], data);
}

/// `hmac_header`: the first byte picks one of the HMAC presets (Railz, RootFi, Stripe,
/// Standard Webhooks, four custom layouts, Slack and Paddle), the rest is its signature header value.
pub fn hmac_header(data: &[u8]) {
    let presets = hmac_presets();
    let Some((&pick, value)) = data.split_first() else {
        return;
    };
    check_value(&presets[usize::from(pick) % presets.len()], value);
}

/// `shared_secret_header`: the first byte picks the plain shared-secret header or
/// `Authorization: Bearer`, the rest is the header value.
pub fn shared_secret_header(data: &[u8]) {
    let presets = token_presets();
    let Some((&pick, value)) = data.split_first() else {
        return;
    };
    check_value(&presets[usize::from(pick) % presets.len()], value);
}

/// `verify_request`: the input is a request in the [`request`] text format; every preset
/// verifies it and must agree with its model.
pub fn verify_request(data: &[u8]) {
    let (headers, body) = request::parse(data);
    for preset in PRESETS.iter() {
        preset.check(&headers, body);
    }
}

/// `explain_request`: the input is a request in the [`request`] text format; every preset
/// explains it. The explainer reads arbitrary headers and bodies (it re-serialises JSON and
/// scans every header), so it must never panic, must agree with `verify` on whether the
/// request verifies, and its text must never contain the secret.
pub fn explain_request(data: &[u8]) {
    let (headers, body) = request::parse(data);
    for preset in PRESETS.iter() {
        let explanation = preset.verifier.explain(&headers, body);
        assert_eq!(
            explanation.verified(),
            preset.verifier.verify(&headers, body).is_ok(),
            "{}",
            preset.name
        );
        assert_eq!(explanation.verified(), explanation.findings().is_empty());
        let shown = explanation.to_string();
        let secret = match &preset.model {
            Model::Hmac(model) => String::from_utf8_lossy(&model.secret).into_owned(),
            Model::Token { token, .. } => token.clone(),
        };
        assert!(
            secret.len() < 8 || !shown.contains(&secret),
            "{}: the explanation shows the secret",
            preset.name
        );
    }
}
