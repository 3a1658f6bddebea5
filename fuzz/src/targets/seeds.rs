//! The checked-in seed corpus, generated: `fuzz/corpus/<target>/seed-<name>`.
//!
//! Regenerate with `cargo test --test it corpus::write_seeds -- --ignored` after changing
//! an input format; `corpus::seeds_are_up_to_date` fails until then.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue};

use super::layer::{self, LayerInput};
use super::model::{HmacModel, Layout, Model, PRESETS, hmac_presets, now};
use super::request;
use super::sign::{SignInput, decode};
use super::signature::{HEADER_BODY, HEADER_ID};

/// One seed file.
pub struct Seed {
    /// Target (corpus folder).
    pub target: &'static str,
    /// File name without the `seed-` prefix.
    pub name: String,
    /// Contents.
    pub data: Vec<u8>,
}

fn seed(target: &'static str, name: impl Into<String>, data: impl Into<Vec<u8>>) -> Seed {
    Seed {
        target,
        name: name.into(),
        data: data.into(),
    }
}

/// A signature header value for `model`, written from the model (not by `sign`).
fn header_value(model: &HmacModel, mac: &[u8; 32], ts: &str) -> String {
    let sig = if model.base64 {
        STANDARD.encode(mac)
    } else {
        const_hex::encode(mac)
    };
    match model.layout {
        Layout::Bare {
            prefix: Some(prefix),
            ..
        } => format!("{prefix}{sig}"),
        Layout::Bare { .. } => sig,
        Layout::KeyValue {
            separator,
            signature,
            timestamp: Some(t),
        } => format!("{t}={ts}{separator}{signature}={sig}"),
        Layout::KeyValue { signature, .. } => format!("{signature}={sig}"),
        Layout::Versioned { version } => format!("other,x {version},{sig}"),
    }
}

/// The shapes `sign_verify` decodes, written so that `arbitrary` reads them back (checked).
fn encode_sign_input(input: &SignInput<'_>) -> Vec<u8> {
    let mut head = vec![input.scheme];
    head.extend_from_slice(&input.at_ms.to_le_bytes());
    head.push(input.part);
    head.extend_from_slice(&input.position.to_le_bytes());
    head.push(input.xor);
    head.extend_from_slice(input.secret);
    head.extend_from_slice(input.body);
    // `arbitrary` reads the secret's length from the end of the input; find the byte(s)
    // that say `secret.len()`.
    for width in 1..=2 {
        for n in 0..(1u32 << (8 * width)) {
            let mut data = head.clone();
            data.extend_from_slice(&n.to_be_bytes()[4 - width..]);
            if decode(&data).as_ref() == Some(input) {
                return data;
            }
        }
    }
    panic!("cannot encode {input:?} for this version of arbitrary");
}

/// `layer` inputs are fixed-size knobs then the request: written directly (checked).
fn encode_layer_input(input: &LayerInput<'_>) -> Vec<u8> {
    let mut data = vec![input.preset, input.payload, input.limit, input.flags];
    data.extend_from_slice(&input.content_length.to_le_bytes());
    data.extend_from_slice(&input.chunks);
    data.push(input.fail_at);
    data.extend_from_slice(input.request);
    assert_eq!(layer::decode(&data).as_ref(), Some(input), "layout changed");
    data
}

fn fixtures(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(root.join("tests/fixtures"))
        .expect("tests/fixtures")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_stem().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("fixture"))
        })
        .collect();
    out.sort();
    out
}

/// Every seed; `root` is the repository root (for `tests/fixtures`).
#[allow(clippy::too_many_lines)]
pub fn all(root: &Path) -> Vec<Seed> {
    let mut out = Vec::new();
    let fixtures = fixtures(root);

    // Event parsers: every fixture, and bodies for the forward-compatibility paths.
    let extra: [(&str, &[u8]); 6] = [
        ("unknown_rootfi_tag", br#"{"webhook_type":"PAYROLL_RUN","company_id":9,"data":{"run":[1,2]}}"#),
        ("unknown_v4_event", br#"{"event":"invoice.create","company_id":496,"payload":{"id":"inv_1"}}"#),
        ("unknown_railz_tag", br#"{"data":{"event":"bankFeedReady","connectionId":"CON-1","feed":{"rows":3}},"requestId":"r"}"#),
        ("unknown_enum_value", br#"{"data":{"event":"connectionStatus","oldStatus":"paused","newStatus":"archived"}}"#),
        ("escaped_keys", br#"{"d\u0061ta":{"ev\u0065nt":"auth","businessName":"caf\u00e9"}}"#),
        ("both_providers", br#"{"data":{"event":"login"},"webhook_type":"X"}"#),
    ];
    for (name, body) in fixtures
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .chain(extra)
    {
        if !name.starts_with("railz") {
            out.push(seed("rootfi_event", name, body));
        }
        if !name.starts_with("rootfi") {
            out.push(seed("railz_event", name, body));
        }
        out.push(seed("event", name, body));
    }

    // Header parsers: a valid value for every HMAC preset (timestamp at the clock's time,
    // companion headers as the target sends them), and some near misses.
    for (index, preset) in hmac_presets().iter().enumerate() {
        let Model::Hmac(model) = &preset.model else {
            continue;
        };
        let ts = preset.model.now_text();
        let mac = model.mac(HEADER_ID, &ts, HEADER_BODY);
        let value = header_value(model, &mac, &ts);
        let pick = u8::try_from(index).expect("few presets");
        let mut headers = super::signature::companion_headers(preset);
        headers.insert(
            preset.verifier.header().clone(),
            HeaderValue::from_str(&value).expect("ASCII"),
        );
        assert_eq!(
            preset.verifier.verify(&headers, HEADER_BODY),
            Ok(()),
            "{}",
            preset.name
        );
        out.push(seed(
            "hmac_header",
            format!("{}-valid", preset.name),
            [&[pick], value.as_bytes()].concat(),
        ));
        if index == 0 {
            out.push(seed("railz_header", "valid", value.clone()));
            let stale: u64 = ts.parse::<u64>().expect("digits") - 300_001;
            let stale_mac = model.mac(HEADER_ID, &stale.to_string(), HEADER_BODY);
            out.push(seed(
                "railz_header",
                "stale",
                header_value(model, &stale_mac, &stale.to_string()),
            ));
            let spaced = format!(" v=00 , t={ts} ,\tv={}", const_hex::encode_upper(mac));
            out.push(seed("railz_header", "spaces_upper_two_v", spaced));
            out.push(seed("railz_header", "malformed", format!("t={ts},v=,x")));
        }
    }
    for (index, preset) in PRESETS.iter().skip(hmac_presets().len()).enumerate() {
        if let Model::Token { bearer, token, .. } = &preset.model {
            let value = if *bearer {
                format!("Bearer {token}")
            } else {
                token.clone()
            };
            let pick = u8::try_from(index).expect("few presets");
            out.push(seed(
                "shared_secret_header",
                format!("{}-valid", preset.name),
                [&[pick], value.as_bytes()].concat(),
            ));
        }
    }

    // Whole requests: every preset signs two small bodies (as a sender would, with `sign`).
    let bodies: Vec<_> = fixtures
        .iter()
        .filter(|(n, _)| n == "railz_auth" || n == "rootfi_connection_changed_v3")
        .collect();
    for preset in PRESETS.iter() {
        for (name, body) in &bodies {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.extend(preset.verifier.sign(body, now()));
            assert_eq!(
                preset.verifier.verify(&headers, body),
                Ok(()),
                "{}",
                preset.name
            );
            out.push(seed(
                "verify_request",
                format!("{}-{name}", preset.name),
                request::encode(&headers, body),
            ));
        }
    }

    // The explainer: every preset's signed request, as sent and with a trailing newline
    // added to the body (a mistake the explainer names).
    for preset in PRESETS.iter() {
        let body: &[u8] = br#"{"data":{"event":"login"},"b":[1,2]}"#;
        let headers = preset.verifier.sign(body, now());
        out.push(seed(
            "explain_request",
            format!("{}-as_sent", preset.name),
            request::encode(&headers, body),
        ));
        let mut changed = body.to_vec();
        changed.push(b'\n');
        out.push(seed(
            "explain_request",
            format!("{}-newline_added", preset.name),
            request::encode(&headers, &changed),
        ));
    }

    // The layer: every preset with a signed request it accepts (payload type to match),
    // then refusals at each step: size, content type, a failing and a pending body.
    for (index, preset) in PRESETS.iter().enumerate() {
        let (payload, body): (u8, &[u8]) = match preset.name {
            "railz" => (
                2,
                br#"{"data":{"event":"auth","connectionId":"CON-1"},"requestId":"r"}"#,
            ),
            "rootfi" | "shared_secret" => {
                (1, br#"{"event":"connection.changed","company_id":496}"#)
            }
            "stripe" => (3, b"any bytes \xff"),
            _ => (0, br#"{"data":{"event":"login"}}"#),
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.extend(preset.verifier.sign(body, now()));
        let request = request::encode(&headers, body);
        let without_type = request::encode(&preset.verifier.sign(body, now()), body);
        let base = LayerInput {
            preset: u8::try_from(index).expect("few presets"),
            payload,
            limit: 7,
            flags: 0b0000_1010,
            content_length: 0,
            chunks: [7, 0, 13, 64],
            fail_at: 0,
            request: &request,
        };
        let variants = [
            ("accepted", base.clone()),
            (
                "too_large",
                LayerInput {
                    limit: 2,
                    flags: 0,
                    ..base.clone()
                },
            ),
            (
                "declared_too_large",
                LayerInput {
                    limit: 3,
                    flags: 0b100,
                    content_length: 65,
                    ..base.clone()
                },
            ),
            (
                "json_required",
                LayerInput {
                    flags: 0b1011,
                    request: &without_type,
                    ..base.clone()
                },
            ),
            (
                "body_fails",
                LayerInput {
                    flags: 0b1_0000,
                    fail_at: 2,
                    ..base.clone()
                },
            ),
            (
                "pending_frames",
                LayerInput {
                    flags: 0b10_0000,
                    chunks: [1, 2, 3, 0],
                    ..base.clone()
                },
            ),
        ];
        for (what, input) in variants {
            if what != "accepted" && index % 3 != 0 {
                continue; // refusals for a few presets are enough
            }
            let accepted = matches!(what, "accepted" | "pending_frames");
            assert_eq!(layer::check(&input), accepted, "{}-{what}", preset.name);
            out.push(seed(
                "layer",
                format!("{}-{what}", preset.name),
                encode_layer_input(&input),
            ));
        }
    }

    // Differential: every scheme, each part changed once.
    for scheme in 0..u8::try_from(PRESETS.len()).expect("few presets") {
        for part in 0..4u8 {
            let input = SignInput {
                scheme,
                at_ms: 1_700_000_000_123,
                part,
                position: 7,
                xor: 0x20,
                secret: b"secret-token",
                body: br#"{"data":{"event":"login"}}"#,
            };
            let name = format!("{}-part{part}", PRESETS[usize::from(scheme)].name);
            out.push(seed("sign_verify", name, encode_sign_input(&input)));
        }
    }
    out
}
