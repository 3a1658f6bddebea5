//! Property tests for the fuzzing invariants, run on every `cargo test` (no libFuzzer).
//!
//! They reuse the fuzz targets' reference model and differential check
//! (`fuzz/src/targets`, included by `corpus.rs`), with `proptest` choosing inputs that
//! random bytes rarely reach: near-valid signature headers, random keys and clocks at the
//! tolerance edges, random unknown event tags. Not repeated here: `events.rs` (arbitrary
//! and mutated bodies never panic and round-trip) and `signature.rs` (arbitrary header
//! values never pass; one-bit body flips with fixed keys).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue};
use ledgerhook::signature::ManualClock;
use ledgerhook::{Event, VerificationErrorKind, Verifier, railz, rootfi};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::corpus::targets::model::{Model, PRESETS, hmac_presets, now};
use crate::corpus::targets::sign::{self, SignInput};
use crate::corpus::targets::signature::{HEADER_BODY, companion_headers};

const CASES: u32 = 256;

fn at_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// A preset's scheme (HMAC or shared-secret) with another secret.
fn rebuild(index: usize, secret: &[u8]) -> Verifier {
    let preset = &PRESETS[index];
    match &preset.model {
        Model::Hmac(_) => Verifier::hmac(preset.verifier.hmac_scheme().unwrap().clone(), secret),
        Model::Token { bearer: true, .. } => Verifier::bearer(secret),
        Model::Token { header, .. } => Verifier::shared_secret(header.clone(), secret),
    }
    .unwrap()
}

/// Clock skews: anywhere in ±700 s, or within 2 ms / 1 s of the 60 s and 300 s edges.
fn skew_ms() -> impl Strategy<Value = i64> {
    let edge = (
        prop_oneof![Just(60_000i64), Just(300_000), Just(61_000), Just(301_000)],
        -2i64..=2,
        any::<bool>(),
    )
        .prop_map(|(edge, delta, negative)| {
            let skew = edge + delta;
            if negative { -skew } else { skew }
        });
    prop_oneof![-700_000i64..700_000, edge]
}

/// Header values close to the real layouts: key-value lists, versioned lists and bare
/// signatures with prefixes, from pieces that are right, almost right or wrong.
fn signature_value() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("t"),
        Just("v"),
        Just("v1"),
        Just("ts"),
        Just("s1"),
        Just("sig"),
        Just(""),
        Just("V")
    ];
    let val = prop_oneof![
        "[0-9]{0,20}",
        "[0-9a-fA-F]{62,66}",
        "[A-Za-z0-9+/]{42,44}={0,2}",
        "[ -~]{0,8}",
    ];
    let element =
        (key, "=?", val, "[ \t]{0,2}").prop_map(|(k, eq, v, ws)| format!("{ws}{k}{eq}{v}{ws}"));
    prop_oneof![
        proptest::collection::vec(element, 0..11).prop_map(|e| e.join(",")),
        proptest::collection::vec(
            ("(v1|v2|v3|)", ",?", "[A-Za-z0-9+/=]{0,45}|[0-9a-f]{64}"),
            0..10
        )
        .prop_map(|e| e
            .into_iter()
            .map(|(v, c, s)| format!("{v}{c}{s}"))
            .collect::<Vec<_>>()
            .join(" ")),
        (
            "[ \t]{0,2}",
            "(sha256=)?",
            "[0-9a-fA-F]{63,65}|[A-Za-z0-9+/]{43}=?",
            "[ \t]{0,2}"
        )
            .prop_map(|(a, p, s, b)| format!("{a}{p}{s}{b}")),
        "(Bearer|bearer|BEARER|Basic)?[ \t]{0,2}[ -~]{0,24}",
    ]
}

/// One small edit of a header value: insert, replace or delete text at a position.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, String),
    Replace(usize, char),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let text = prop_oneof![
        Just(",".to_owned()),
        Just(", ".to_owned()),
        Just("=".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("0x".to_owned()),
        Just("sha256=".to_owned()),
        "[,=]?(t|v|v1|v2|ts|s1|sig|x)=[0-9a-f]{0,3}[,]?",
        "[ -~]{1,3}",
    ];
    prop_oneof![
        (any::<usize>(), text).prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), prop::char::range(' ', '~')).prop_map(|(at, c)| Edit::Replace(at, c)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

fn apply(value: &str, edit: &Edit) -> String {
    let mut out = value.to_owned();
    let len = out.len();
    match edit {
        Edit::Insert(at, text) => out.insert_str(at % (len + 1), text),
        Edit::Replace(at, c) if len > 0 => {
            out.replace_range(at % len..at % len + 1, &c.to_string())
        }
        Edit::Delete(at) if len > 0 => {
            out.remove(at % len);
        }
        _ => {}
    }
    out
}

/// What `sign` writes into `preset`'s signature (or token) header for the header
/// targets' body at the targets' time.
fn valid_value(index: usize) -> String {
    let preset = &PRESETS[index];
    let signed = preset.verifier.sign(HEADER_BODY, now());
    signed[preset.verifier.header()]
        .to_str()
        .unwrap()
        .to_owned()
}

fn unknown_tag() -> impl Strategy<Value = String> {
    // Letters, digits, punctuation and non-ASCII: any string is a tag.
    "[A-Za-z0-9_.\\-é☃ ]{0,24}"
}

/// Extra fields under names the event model does not know (so they land in `extra`).
fn extra_fields() -> impl Strategy<Value = Map<String, Value>> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[ -~é]{0,12}".prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    proptest::collection::btree_map("x_[a-z]{1,8}", value, 0..4)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Random key (also several keys in the ring), time and body, every scheme: `sign`
    /// verifies at the signing time and at any clock within the tolerance; beyond it the
    /// error says which side, and ignoring the timestamp still accepts it.
    #[test]
    fn sign_verify_round_trip_for_random_keys_and_times(
        index in 0..PRESETS.len(),
        secret in "[!-~]([ -~]{0,62}[!-~])?",
        more_keys in proptest::collection::vec("[!-~]{1,40}", 0..3),
        signed_at in 0u64..16_000_000_000_000,
        skew_ms in skew_ms(),
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let verifier = rebuild(index, secret.as_bytes());
        for key in &more_keys {
            verifier.keys().add(key).unwrap();
        }
        let headers = verifier.sign(&body, at_ms(signed_at));
        let at_signing = verifier.clone().with_clock(ManualClock::new(at_ms(signed_at)));
        prop_assert_eq!(at_signing.verify(&headers, &body), Ok(()));

        let now = signed_at.saturating_add_signed(skew_ms);
        let later = verifier.with_clock(ManualClock::new(at_ms(now)));
        let result = later.verify(&headers, &body).map_err(|e| e.kind());
        // Timestamps are compared in their own unit: seconds truncate both sides.
        let expected = match &PRESETS[index].model {
            Model::Hmac(m) if m.signs_timestamp => {
                let (ts, now, tolerance) = match (m.millis, m.tolerance_s) {
                    (_, None) => (0, 0, 0),
                    (true, Some(t)) => (signed_at, now, t * 1000),
                    (false, Some(t)) => (signed_at / 1000, now / 1000, t),
                };
                if now > ts && now - ts > tolerance {
                    Err(VerificationErrorKind::TimestampTooOld)
                } else if ts > now && ts - now > tolerance {
                    Err(VerificationErrorKind::TimestampInFuture)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        };
        prop_assert_eq!(result, expected);
        prop_assert_eq!(later.verify_ignoring_timestamp(&headers, &body), Ok(()));
    }

    /// One changed byte in the body, signature, timestamp or id of a signed request is
    /// rejected (bar the documented equivalent spellings), for random keys, times and
    /// bodies across every scheme; every verdict matches the reference model. Same check
    /// as the `sign_verify` fuzz target.
    #[test]
    fn single_byte_changes_are_rejected(
        scheme in 0..u8::try_from(PRESETS.len()).unwrap(),
        at_ms in 0u64..16_000_000_000_000,
        part in 0u8..4,
        position in any::<u16>(),
        xor in 1u8..=255,
        secret in proptest::collection::vec(any::<u8>(), 1..80),
        body in proptest::collection::vec(any::<u8>(), 1..300),
    ) {
        // Shared-secret schemes need a header-safe token: derive one from the bytes.
        let secret = if usize::from(scheme) >= hmac_presets().len() {
            secret.iter().map(|b| b'!' + b % 94).collect()
        } else {
            secret
        };
        sign::check(&SignInput { scheme, at_ms, part, position, xor, secret: &secret, body: &body });
    }

    /// Valid signature (or token) headers with one or two small edits (elements added,
    /// separators and spaces moved, characters changed): the verdict of every preset
    /// equals the reference model's.
    #[test]
    fn edited_valid_headers_follow_the_documented_rules(
        index in 0..PRESETS.len(),
        edits in proptest::collection::vec(edit(), 1..3),
    ) {
        let preset = &PRESETS[index];
        let mut value = valid_value(index);
        for e in &edits {
            value = apply(&value, e);
        }
        let Ok(value) = HeaderValue::from_str(&value) else { return Ok(()) };
        let mut headers = companion_headers(preset);
        headers.insert(preset.verifier.header().clone(), value);
        if let Model::Hmac(m) = &preset.model
            && let Some(id) = &m.id_header
        {
            // Standard Webhooks signs the id: send the one `sign` derived (its timestamp
            // header equals the companion one: same clock, same unit).
            let signed = preset.verifier.sign(HEADER_BODY, now());
            headers.insert(id.clone(), signed[id].clone());
        }
        preset.check(&headers, HEADER_BODY);
    }

    /// Near-valid and arbitrary signature header values, alone or with duplicate lines:
    /// no panic, and the verdict of every preset equals the reference model's.
    #[test]
    fn header_values_follow_the_documented_rules(
        value in signature_value(),
        duplicate in proptest::option::of(signature_value()),
        index in 0..PRESETS.len(),
    ) {
        let preset = &PRESETS[index];
        let Ok(value) = HeaderValue::from_str(&value) else { return Ok(()) };
        let mut headers = companion_headers(preset);
        let name = preset.verifier.header().clone();
        headers.insert(name.clone(), value);
        if let Some(Ok(second)) = duplicate.map(|d| HeaderValue::from_str(&d)) {
            headers.append(name, second);
        }
        preset.check(&headers, HEADER_BODY);
    }

    /// Arbitrary header bytes (including obs-text) under every header any preset reads:
    /// no panic, verdicts match the model.
    #[test]
    fn arbitrary_header_bytes_match_the_model(
        values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..90), 1..6),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let names = [
            "railz-signature", "x-rootfi-signature", "stripe-signature", "webhook-signature",
            "webhook-id", "webhook-timestamp", "x-sig", "x-kv-sig", "x-acme-signature",
            "x-v-signature", "x-v-timestamp", "api_key", "authorization",
        ];
        let mut headers = HeaderMap::new();
        for (i, value) in values.iter().enumerate() {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                for name in names.iter().skip(i % 3).step_by(1 + i % 2) {
                    headers.append(HeaderName::from_static(name), value.clone());
                }
            }
        }
        for preset in PRESETS.iter() {
            preset.check(&headers, &body);
        }
    }

    /// Random unknown tags with random extra fields, for RootFi's `webhook_type` and v4
    /// `event` and Railz's `data.event`: parsed as unknown with the tag exactly as sent,
    /// and serialised back to the same JSON; the output parses to an equal event, and the
    /// provider's own parser agrees; the cheap tag scan gives the parsed metric tag.
    #[test]
    fn unknown_tags_survive_parse_and_serialise(
        tag in unknown_tag(),
        extra in extra_fields(),
        company_id in proptest::option::of(any::<u32>()),
        shape in 0u8..3,
    ) {
        let mut body = Map::new();
        match shape {
            0 => {
                body.insert("webhook_type".into(), json!(tag));
            }
            1 => {
                body.insert("event".into(), json!(tag));
            }
            _ => {
                let mut data = extra.clone();
                data.insert("event".into(), json!(tag));
                body.insert("data".into(), Value::Object(data));
            }
        }
        if let (0 | 1, Some(id)) = (shape, company_id) {
            body.insert("company_id".into(), json!(id));
        }
        body.extend(extra);
        let body = Value::Object(body);
        let bytes = serde_json::to_vec(&body).unwrap();

        let event = Event::from_slice(&bytes).unwrap();
        prop_assert_eq!(serde_json::to_value(&event).unwrap(), body.clone());
        let again = Event::from_slice(&serde_json::to_vec(&event).unwrap()).unwrap();
        prop_assert_eq!(&again, &event);
        if !event.is_known() {
            prop_assert_eq!(event.tag(), tag.as_str());
        }
        prop_assert_eq!(Event::peek_metric_tag(&bytes), event.metric_tag());
        match &event {
            Event::RootFi(e) => prop_assert_eq!(&rootfi::Event::from_slice(&bytes).unwrap(), e),
            Event::Railz(e) => prop_assert_eq!(&railz::Event::from_slice(&bytes).unwrap(), e),
            _ => prop_assert!(false, "unexpected provider"),
        }
    }
}
