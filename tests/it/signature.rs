//! Public API of the verification core: known-answer vectors computed independently with
//! Python's `hmac` module, and the negatives listed in the issue.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use ledgerhook::signature::{
    DEFAULT_TOLERANCE, Encoding, HmacScheme, KeyRing, MAX_SIGNATURES, ManualClock, SignatureFormat,
};
use ledgerhook::{ConfigError, Secret, VerificationError, VerificationErrorKind as Kind, Verifier};

// ---- vectors -------------------------------------------------------------------------

/// providers.md §1.2.
const RAILZ_SECRET: &str = "railz_test_secret";
const RAILZ_T: u64 = 1_619_201_259_010;
const RAILZ_BODY: &[u8] = br#"{"data":{"event":"auth","connectionId":"CON-0a4e97aa-7a77-bbbb-00aa-b1b1001aa00","businessName":"BIZ-d6b1c7d3-fe41-4447-ae72-3814b78b5142","serviceName":"quickbooks"}}"#;
// python3 -c "import hmac,hashlib;print(hmac.new(b'railz_test_secret',b'1619201259010.'+b'{\"data\":{\"event\":\"auth\",\"connectionId\":\"CON-0a4e97aa-7a77-bbbb-00aa-b1b1001aa00\",\"businessName\":\"BIZ-d6b1c7d3-fe41-4447-ae72-3814b78b5142\",\"serviceName\":\"quickbooks\"}}',hashlib.sha256).hexdigest())"
const RAILZ_SIG: &str = "e7081c7b8e7f081fbeae78a57c2617f7332035a2729700dda43bc52e87491434";

/// A body that is not UTF-8.
const RAILZ2_SECRET: &str = "railz_other_secret";
const RAILZ2_T: u64 = 1_700_000_000_123;
const RAILZ2_BODY: &[u8] = b"\xff\x00{\"data\":{\"event\":\"login\"}}";
// python3 -c "import hmac,hashlib;print(hmac.new(b'railz_other_secret',b'1700000000123.'+bytes([0xff,0x00])+b'{\"data\":{\"event\":\"login\"}}',hashlib.sha256).hexdigest())"
const RAILZ2_SIG: &str = "6f5b5aaef031f55660661f7c591eb924498e516e7f288350a72e2d573b294b4f";

const ROOTFI_SECRET: &str = "rootfi_signing_key";
const ROOTFI_BODY: &[u8] = br#"{"event":"connection.changed","company_id":496}"#;
// python3 -c "import hmac,hashlib;print(hmac.new(b'rootfi_signing_key',b'{\"event\":\"connection.changed\",\"company_id\":496}',hashlib.sha256).hexdigest())"
const ROOTFI_HEX: &str = "9bd8921eb21ba1085420d67fdc9db6d10b9399f5947cc1a620a2a5773596c803";
// python3 -c "import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b'rootfi_signing_key',b'{\"event\":\"connection.changed\",\"company_id\":496}',hashlib.sha256).digest()).decode())"
const ROOTFI_B64: &str = "m9iSHrIboQhUINZ/3J220QuTmfWUfMGmIKKldzWWyAM=";

const STRIPE_SECRET: &str = "whsec_stripe_like";
const STRIPE_T: u64 = 1_700_000_000;
const STRIPE_BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;
// python3 -c "import hmac,hashlib;print(hmac.new(b'whsec_stripe_like',b'1700000000.{\"id\":\"evt_1\",\"type\":\"invoice.paid\"}',hashlib.sha256).hexdigest())"
const STRIPE_SIG: &str = "95db94135c34aabd9bb3a0a911ab1409fd29f170bd50c4e8d2ff0dc8a419c48b";

/// The Standard Webhooks specification's example (secret `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`).
const SW_SECRET_B64: &str = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SW_T: u64 = 1_614_265_330;
const SW_BODY: &[u8] = br#"{"test": 2432232314}"#;
// python3 -c "import hmac,hashlib,base64;print(base64.b64encode(hmac.new(base64.b64decode('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'),b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}',hashlib.sha256).digest()).decode())"
const SW_SIG: &str = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// ---- helpers -------------------------------------------------------------------------

fn at_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

fn at_s(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(s)
}

fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_static(name),
            HeaderValue::from_bytes(value).unwrap(),
        );
    }
    map
}

fn kind(result: Result<(), VerificationError>) -> Kind {
    result.expect_err("verification should fail").kind()
}

fn railz() -> Verifier {
    Verifier::railz(RAILZ_SECRET)
        .unwrap()
        .with_clock(ManualClock::new(at_ms(RAILZ_T)))
}

fn railz_headers(value: &str) -> HeaderMap {
    headers(&[("railz-signature", value.as_bytes())])
}

fn sw_verifier(now: SystemTime) -> Verifier {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD
        .decode(SW_SECRET_B64)
        .unwrap();
    Verifier::hmac(HmacScheme::standard_webhooks(), key)
        .unwrap()
        .with_clock(ManualClock::new(now))
}

fn sw_headers() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("webhook-id", SW_ID.into()),
        ("webhook-timestamp", SW_T.to_string().into()),
        ("webhook-signature", format!("v1,{SW_SIG}").into()),
    ]
}

fn to_map(pairs: &[(&'static str, Vec<u8>)]) -> HeaderMap {
    let borrowed: Vec<(&'static str, &[u8])> =
        pairs.iter().map(|(n, v)| (*n, v.as_slice())).collect();
    headers(&borrowed)
}

// ---- known answers -------------------------------------------------------------------

#[test]
fn railz_documented_vector_verifies() {
    let value = format!("t={RAILZ_T},v={RAILZ_SIG}");
    railz().verify(&railz_headers(&value), RAILZ_BODY).unwrap();
}

#[test]
fn railz_sign_reproduces_the_documented_vector() {
    let signed = railz().sign(RAILZ_BODY, at_ms(RAILZ_T));
    assert_eq!(
        signed.get("railz-signature").unwrap(),
        &format!("t={RAILZ_T},v={RAILZ_SIG}")
    );
    assert_eq!(signed.len(), 1);
}

#[test]
fn railz_non_utf8_body_vector() {
    let verifier = Verifier::railz(RAILZ2_SECRET)
        .unwrap()
        .with_clock(ManualClock::new(at_ms(RAILZ2_T)));
    let value = format!("t={RAILZ2_T},v={RAILZ2_SIG}");
    verifier
        .verify(&railz_headers(&value), RAILZ2_BODY)
        .unwrap();
    assert_eq!(
        verifier.sign(RAILZ2_BODY, at_ms(RAILZ2_T))["railz-signature"],
        value.as_str()
    );
}

#[test]
fn railz_tolerates_spaces_and_accepts_any_matching_v() {
    let wrong = "0".repeat(64);
    for value in [
        format!(" t={RAILZ_T} , v={RAILZ_SIG} "),
        format!("t={RAILZ_T},v={wrong},v={RAILZ_SIG}"),
        format!("v={RAILZ_SIG},t={RAILZ_T},v=not-hex"),
        format!("t={RAILZ_T},v2=future-scheme,v={RAILZ_SIG}"),
        format!("t={RAILZ_T},v={}", RAILZ_SIG.to_uppercase()),
    ] {
        railz()
            .verify(&railz_headers(&value), RAILZ_BODY)
            .unwrap_or_else(|e| panic!("{value}: {e}"));
    }
}

#[test]
fn rootfi_default_vectors() {
    let verifier = Verifier::rootfi_v4(ROOTFI_SECRET).unwrap();
    for value in [ROOTFI_HEX.to_owned(), format!("sha256={ROOTFI_HEX}")] {
        let map = headers(&[("x-rootfi-signature", value.as_bytes())]);
        verifier.verify(&map, ROOTFI_BODY).unwrap();
    }
    let signed = verifier.sign(ROOTFI_BODY, SystemTime::now());
    assert_eq!(signed["x-rootfi-signature"], ROOTFI_HEX);
}

#[test]
fn rootfi_is_configurable() {
    let scheme = HmacScheme::rootfi_v4()
        .signature_header(HeaderName::from_static("x-custom-sig"))
        .encoding(Encoding::Base64)
        .format(SignatureFormat::required_prefix("sha256="));
    let verifier = Verifier::hmac(scheme, ROOTFI_SECRET).unwrap();
    let value = format!("sha256={ROOTFI_B64}");
    verifier
        .verify(&headers(&[("x-custom-sig", value.as_bytes())]), ROOTFI_BODY)
        .unwrap();
    assert_eq!(
        verifier.sign(ROOTFI_BODY, SystemTime::now())["x-custom-sig"],
        value.as_str()
    );
    // The default header is not consulted any more, and the prefix is now required.
    let default_header = headers(&[("x-rootfi-signature", value.as_bytes())]);
    assert_eq!(
        kind(verifier.verify(&default_header, ROOTFI_BODY)),
        Kind::MissingSignature
    );
    let no_prefix = headers(&[("x-custom-sig", ROOTFI_B64.as_bytes())]);
    assert_eq!(
        kind(verifier.verify(&no_prefix, ROOTFI_BODY)),
        Kind::InvalidHeader
    );
}

#[test]
fn stripe_style_vector() {
    let verifier = Verifier::hmac(HmacScheme::stripe(), STRIPE_SECRET)
        .unwrap()
        .with_clock(ManualClock::new(at_s(STRIPE_T)));
    let value = format!(
        "t={STRIPE_T},v1={STRIPE_SIG},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
    );
    verifier
        .verify(
            &headers(&[("stripe-signature", value.as_bytes())]),
            STRIPE_BODY,
        )
        .unwrap();
    assert_eq!(
        verifier.sign(STRIPE_BODY, at_s(STRIPE_T))["stripe-signature"],
        format!("t={STRIPE_T},v1={STRIPE_SIG}").as_str()
    );
}

#[test]
fn standard_webhooks_vector() {
    let verifier = sw_verifier(at_s(SW_T));
    verifier.verify(&to_map(&sw_headers()), SW_BODY).unwrap();
    // Several signatures, one of another version and one wrong: any match is enough.
    let mut pairs = sw_headers();
    pairs[2].1 = format!("v1a,AAAA v1,{} v1,{SW_SIG}", "A".repeat(43) + "=").into();
    verifier.verify(&to_map(&pairs), SW_BODY).unwrap();
}

#[test]
fn standard_webhooks_interop_with_the_reference_crate() {
    let reference = standardwebhooks::Webhook::new(&format!("whsec_{SW_SECRET_B64}")).unwrap();
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let ours = sw_verifier(now);

    // Their signature, our verification.
    let signature = reference
        .sign("msg_interop", i64::try_from(secs).unwrap(), SW_BODY)
        .unwrap();
    let secs = secs.to_string();
    let theirs = headers(&[
        ("webhook-id", b"msg_interop"),
        ("webhook-timestamp", secs.as_bytes()),
        ("webhook-signature", signature.as_bytes()),
    ]);
    ours.verify(&theirs, SW_BODY).unwrap();

    // Our signature, their verification.
    reference.verify(SW_BODY, &ours.sign(SW_BODY, now)).unwrap();
}

// ---- negatives -----------------------------------------------------------------------

#[test]
fn every_header_removed_in_turn_is_missing() {
    let verifier = sw_verifier(at_s(SW_T));
    for removed in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let mut map = to_map(&sw_headers());
        map.remove(removed);
        let err = verifier.verify(&map, SW_BODY).unwrap_err();
        assert_eq!(err.kind(), Kind::MissingSignature, "{removed}");
        assert_eq!(err.header().unwrap(), removed);
        assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    }
    let err = railz().verify(&HeaderMap::new(), RAILZ_BODY).unwrap_err();
    assert_eq!(err.kind(), Kind::MissingSignature);
    assert_eq!(err.header().unwrap(), "railz-signature");
    let rootfi = Verifier::rootfi_v4(ROOTFI_SECRET).unwrap();
    assert_eq!(
        kind(rootfi.verify(&HeaderMap::new(), ROOTFI_BODY)),
        Kind::MissingSignature
    );
    let v3 = Verifier::shared_secret(HeaderName::from_static("api_key"), "fhsjd").unwrap();
    assert_eq!(kind(v3.verify(&HeaderMap::new(), b"")), Kind::MissingToken);
}

#[test]
fn truncated_or_altered_signature_is_mismatch() {
    let mut altered = RAILZ_SIG.to_owned();
    altered.replace_range(10..11, "0"); // was 'f'
    let truncated = &RAILZ_SIG[..63];
    let extended = format!("{RAILZ_SIG}00");
    for sig in [
        altered.as_str(),
        truncated,
        &RAILZ_SIG[..32],
        extended.as_str(),
    ] {
        let value = format!("t={RAILZ_T},v={sig}");
        let err = railz()
            .verify(&railz_headers(&value), RAILZ_BODY)
            .unwrap_err();
        assert_eq!(err.kind(), Kind::SignatureMismatch, "{sig}");
        assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    }
    let rootfi = Verifier::rootfi_v4(ROOTFI_SECRET).unwrap();
    let value = format!("sha1={ROOTFI_HEX}");
    let map = headers(&[("x-rootfi-signature", value.as_bytes())]);
    assert_eq!(
        kind(rootfi.verify(&map, ROOTFI_BODY)),
        Kind::SignatureMismatch
    );
}

#[test]
fn every_altered_body_byte_is_mismatch() {
    let value = format!("t={RAILZ_T},v={RAILZ_SIG}");
    let map = railz_headers(&value);
    let verifier = railz();
    let mut body = RAILZ_BODY.to_vec();
    for i in 0..body.len() {
        body[i] ^= 0x01;
        assert_eq!(
            kind(verifier.verify(&map, &body)),
            Kind::SignatureMismatch,
            "byte {i}"
        );
        body[i] ^= 0x01;
    }
    verifier.verify(&map, &body).unwrap();
    assert_eq!(
        kind(verifier.verify(&map, &body[1..])),
        Kind::SignatureMismatch
    );
    body.push(b' ');
    assert_eq!(kind(verifier.verify(&map, &body)), Kind::SignatureMismatch);
}

#[test]
fn altered_timestamp_is_mismatch() {
    // The timestamp is signed as written: a leading zero is the same number but other bytes.
    for t in [format!("0{RAILZ_T}"), (RAILZ_T + 1).to_string()] {
        let value = format!("t={t},v={RAILZ_SIG}");
        assert_eq!(
            kind(railz().verify(&railz_headers(&value), RAILZ_BODY)),
            Kind::SignatureMismatch
        );
    }
}

#[test]
fn wrong_secret_is_mismatch() {
    let value = format!("t={RAILZ_T},v={RAILZ_SIG}");
    let wrong = Verifier::railz("railz_test_secreT")
        .unwrap()
        .with_clock(ManualClock::new(at_ms(RAILZ_T)));
    assert_eq!(
        kind(wrong.verify(&railz_headers(&value), RAILZ_BODY)),
        Kind::SignatureMismatch
    );
    let map = to_map(&sw_headers());
    let wrong_sw = Verifier::hmac(HmacScheme::standard_webhooks(), SW_SECRET_B64)
        .unwrap()
        .with_clock(ManualClock::new(at_s(SW_T)));
    assert_eq!(
        kind(wrong_sw.verify(&map, SW_BODY)),
        Kind::SignatureMismatch
    );
}

#[test]
fn railz_tolerance_edges_in_milliseconds() {
    let clock = ManualClock::new(at_ms(RAILZ_T));
    let verifier = Verifier::railz(RAILZ_SECRET)
        .unwrap()
        .with_clock(clock.clone());
    let tolerance = u64::try_from(DEFAULT_TOLERANCE.as_millis()).unwrap();
    assert_eq!(tolerance, 300_000);
    let check = |now_ms: u64| {
        clock.set(at_ms(now_ms));
        let signed = verifier.sign(RAILZ_BODY, at_ms(RAILZ_T));
        verifier.verify(&signed, RAILZ_BODY)
    };
    check(RAILZ_T + tolerance).unwrap();
    let err = check(RAILZ_T + tolerance + 1).unwrap_err();
    assert_eq!(err.kind(), Kind::TimestampTooOld);
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    check(RAILZ_T - tolerance).unwrap();
    assert_eq!(
        kind(check(RAILZ_T - tolerance - 1)),
        Kind::TimestampInFuture
    );
}

#[test]
fn stripe_tolerance_edges_in_seconds_and_custom_tolerance() {
    let clock = ManualClock::new(at_s(STRIPE_T));
    let verifier = Verifier::hmac(HmacScheme::stripe(), STRIPE_SECRET)
        .unwrap()
        .with_clock(clock.clone())
        .tolerance(Duration::from_secs(60));
    let signed = verifier.sign(STRIPE_BODY, at_s(STRIPE_T));
    for (now, expected) in [
        (STRIPE_T + 60, None),
        (STRIPE_T + 61, Some(Kind::TimestampTooOld)),
        (STRIPE_T - 60, None),
        (STRIPE_T - 61, Some(Kind::TimestampInFuture)),
    ] {
        clock.set(at_s(now));
        let result = verifier.verify(&signed, STRIPE_BODY);
        assert_eq!(result.err().map(|e| e.kind()), expected, "now = {now}");
    }
}

#[test]
fn tolerance_can_be_turned_off_or_ignored() {
    let value = format!("t={RAILZ_T},v={RAILZ_SIG}");
    let map = railz_headers(&value);
    let year_later = at_ms(RAILZ_T + 365 * 24 * 3_600_000);
    let strict = Verifier::railz(RAILZ_SECRET)
        .unwrap()
        .with_clock(ManualClock::new(year_later));
    assert_eq!(kind(strict.verify(&map, RAILZ_BODY)), Kind::TimestampTooOld);
    strict.verify_ignoring_timestamp(&map, RAILZ_BODY).unwrap();
    assert_eq!(
        kind(strict.verify_ignoring_timestamp(&map, b"{}")),
        Kind::SignatureMismatch
    );
    strict
        .clone()
        .without_tolerance()
        .verify(&map, RAILZ_BODY)
        .unwrap();
}

#[test]
fn stale_forgery_is_refused_from_the_headers_before_the_body() {
    // A well-formed header with a MAC of the right length but a stale timestamp: refused by
    // the precheck (no body buffered), and `verify` agrees whatever the body.
    let value = format!("t=1,v={RAILZ_SIG}");
    let map = railz_headers(&value);
    assert_eq!(kind(railz().precheck(&map)), Kind::TimestampTooOld);
    assert_eq!(
        kind(railz().verify(&map, RAILZ_BODY)),
        Kind::TimestampTooOld
    );
    assert_eq!(kind(railz().verify(&map, b"other")), Kind::TimestampTooOld);
    let future = format!("t={},v={RAILZ_SIG}", RAILZ_T + 300_001);
    assert_eq!(
        kind(railz().precheck(&railz_headers(&future))),
        Kind::TimestampInFuture
    );
}

#[test]
fn forged_mac_of_the_wrong_length_is_refused_before_the_body() {
    // Fresh timestamp, but no candidate decodes to 32 bytes: nothing could verify.
    for sig in [&RAILZ_SIG[..62], "zz", &format!("{RAILZ_SIG}00")] {
        let value = format!("t={RAILZ_T},v={sig}");
        let map = railz_headers(&value);
        assert_eq!(
            kind(railz().precheck(&map)),
            Kind::SignatureMismatch,
            "{sig}"
        );
        assert_eq!(
            kind(railz().verify(&map, RAILZ_BODY)),
            Kind::SignatureMismatch
        );
    }
    // One decodable candidate among bad ones is enough for the precheck.
    let value = format!("t={RAILZ_T},v=zz,v={}", "0".repeat(64));
    assert_eq!(railz().precheck(&railz_headers(&value)), Ok(()));
}

#[test]
fn fresh_forgery_of_the_right_shape_passes_precheck_and_fails_verify() {
    let value = format!("t={RAILZ_T},v={}", "0".repeat(64));
    let map = railz_headers(&value);
    assert_eq!(railz().precheck(&map), Ok(()));
    assert_eq!(
        kind(railz().verify(&map, RAILZ_BODY)),
        Kind::SignatureMismatch
    );
}

#[test]
fn duplicate_header_lines_are_invalid() {
    let value = format!("t={RAILZ_T},v={RAILZ_SIG}");
    let map = headers(&[
        ("railz-signature", value.as_bytes()),
        ("railz-signature", value.as_bytes()),
    ]);
    let err = railz().verify(&map, RAILZ_BODY).unwrap_err();
    assert_eq!(err.kind(), Kind::InvalidHeader);
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);

    let mut pairs = sw_headers();
    pairs.push(("webhook-timestamp", SW_T.to_string().into()));
    assert_eq!(
        kind(sw_verifier(at_s(SW_T)).verify(&to_map(&pairs), SW_BODY)),
        Kind::InvalidHeader
    );
    let v3 = Verifier::shared_secret(HeaderName::from_static("api_key"), "fhsjd").unwrap();
    let map = headers(&[("api_key", b"fhsjd"), ("api_key", b"fhsjd")]);
    assert_eq!(kind(v3.verify(&map, b"")), Kind::InvalidHeader);
}

#[test]
fn malformed_railz_headers_are_invalid() {
    for value in [
        format!("t={RAILZ_T},t={RAILZ_T},v={RAILZ_SIG}"),
        format!("v={RAILZ_SIG}"),
        format!("t={RAILZ_T}"),
        format!("t={RAILZ_T},v={RAILZ_SIG},"),
        format!("t={RAILZ_T};v={RAILZ_SIG}"),
        format!("t={RAILZ_T},v="),
        format!(
            "t={RAILZ_T}{}",
            format!(",v={RAILZ_SIG}").repeat(MAX_SIGNATURES + 1)
        ),
    ] {
        let err = railz()
            .verify(&railz_headers(&value), RAILZ_BODY)
            .unwrap_err();
        assert_eq!(err.kind(), Kind::InvalidHeader, "{value}");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }
    // Exactly the cap is fine.
    let value = format!(
        "t={RAILZ_T}{}",
        format!(",v={RAILZ_SIG}").repeat(MAX_SIGNATURES)
    );
    railz().verify(&railz_headers(&value), RAILZ_BODY).unwrap();
}

#[test]
fn malformed_timestamps_are_invalid_timestamp() {
    for t in [
        "",
        "1619201259010.5",
        "-1619201259010",
        "+1619201259010",
        "16192O1259010",
        "99999999999999999999",
    ] {
        let value = format!("t={t},v={RAILZ_SIG}");
        let err = railz()
            .verify(&railz_headers(&value), RAILZ_BODY)
            .unwrap_err();
        assert_eq!(err.kind(), Kind::InvalidTimestamp, "{t:?}");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }
    let mut pairs = sw_headers();
    pairs[1].1 = b"2021-02-25T15:02:10Z".to_vec();
    let err = sw_verifier(at_s(SW_T))
        .verify(&to_map(&pairs), SW_BODY)
        .unwrap_err();
    assert_eq!(err.kind(), Kind::InvalidTimestamp);
    assert_eq!(err.header().unwrap(), "webhook-timestamp");
}

#[test]
fn non_ascii_header_bytes_are_invalid_not_a_panic() {
    let mut value = format!("t={RAILZ_T},v={RAILZ_SIG}").into_bytes();
    value.extend_from_slice(b",x=\xc3\xa9\xff");
    let map = headers(&[("railz-signature", &value)]);
    assert_eq!(kind(railz().verify(&map, RAILZ_BODY)), Kind::InvalidHeader);

    let rootfi = Verifier::rootfi_v4(ROOTFI_SECRET).unwrap();
    let map = headers(&[("x-rootfi-signature", b"\x80\x81")]);
    assert_eq!(kind(rootfi.verify(&map, ROOTFI_BODY)), Kind::InvalidHeader);

    let v3 = Verifier::shared_secret(HeaderName::from_static("api_key"), "fhsjd").unwrap();
    let map = headers(&[("api_key", b"fhsj\xe9")]);
    assert_eq!(kind(v3.verify(&map, b"")), Kind::InvalidHeader);

    let mut pairs = sw_headers();
    pairs[0].1 = b"msg_\xe9".to_vec();
    assert_eq!(
        kind(sw_verifier(at_s(SW_T)).verify(&to_map(&pairs), SW_BODY)),
        Kind::InvalidHeader
    );
}

// ---- shared secrets ------------------------------------------------------------------

#[test]
fn shared_secret_header() {
    let v3 = Verifier::shared_secret(HeaderName::from_static("api_key"), "fhsjd").unwrap();
    v3.verify(&headers(&[("api_key", b"fhsjd")]), b"any body")
        .unwrap();
    for wrong in [&b"fhsjD"[..], b"fhsj", b"fhsjdd", b"x"] {
        let err = v3.verify(&headers(&[("api_key", wrong)]), b"").unwrap_err();
        assert_eq!(err.kind(), Kind::TokenMismatch);
        assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(err.header().unwrap(), "api_key");
    }
    assert_eq!(v3.sign(b"", SystemTime::now())["api_key"], "fhsjd");
}

#[test]
fn bearer_token() {
    let verifier = Verifier::bearer("tok_123").unwrap();
    for ok in [
        &b"Bearer tok_123"[..],
        b"bearer tok_123",
        b"BEARER  tok_123",
    ] {
        verifier
            .verify(&headers(&[("authorization", ok)]), b"")
            .unwrap();
    }
    for wrong in [
        &b"Bearer tok_124"[..],
        b"Basic tok_123",
        b"tok_123",
        b"Bearer",
    ] {
        assert_eq!(
            kind(verifier.verify(&headers(&[("authorization", wrong)]), b"")),
            Kind::TokenMismatch
        );
    }
    assert_eq!(
        verifier.sign(b"", SystemTime::now())["authorization"],
        "Bearer tok_123"
    );
}

#[test]
fn shared_secret_rotation() {
    let clock = ManualClock::new(at_s(1_000));
    let verifier = Verifier::bearer("old").unwrap().with_clock(clock.clone());
    verifier
        .keys()
        .rotate("new", Duration::from_secs(10))
        .unwrap();
    let old = headers(&[("authorization", b"Bearer old")]);
    let new = headers(&[("authorization", b"Bearer new")]);
    verifier.verify(&old, b"").unwrap();
    verifier.verify(&new, b"").unwrap();
    clock.advance(Duration::from_secs(10));
    assert_eq!(kind(verifier.verify(&old, b"")), Kind::TokenMismatch);
    verifier.verify(&new, b"").unwrap();
}

// ---- key rotation --------------------------------------------------------------------

#[test]
fn rotation_accepts_old_key_until_it_expires() {
    let clock = ManualClock::new(at_ms(RAILZ_T));
    let verifier = Verifier::railz(RAILZ_SECRET)
        .unwrap()
        .with_clock(clock.clone());
    let layer_copy = verifier.clone();
    let signed_by_old = verifier.sign(RAILZ_BODY, at_ms(RAILZ_T));

    verifier
        .keys()
        .rotate("railz_new_secret", Duration::from_secs(60))
        .unwrap();
    // Every clone sees the new key; the new primary signs.
    let signed_by_new = layer_copy.sign(RAILZ_BODY, at_ms(RAILZ_T));
    assert_ne!(signed_by_new, signed_by_old);
    Verifier::railz("railz_new_secret")
        .unwrap()
        .with_clock(clock.clone())
        .verify(&signed_by_new, RAILZ_BODY)
        .unwrap();

    clock.advance(Duration::from_millis(59_999));
    layer_copy.verify(&signed_by_old, RAILZ_BODY).unwrap();
    layer_copy.verify(&signed_by_new, RAILZ_BODY).unwrap();

    clock.advance(Duration::from_millis(1));
    assert_eq!(
        kind(layer_copy.verify(&signed_by_old, RAILZ_BODY)),
        Kind::SignatureMismatch
    );
    layer_copy.verify(&signed_by_new, RAILZ_BODY).unwrap();
}

#[test]
fn several_keys_at_once_and_replace() {
    let verifier = Verifier::rootfi_v4("key-a").unwrap();
    verifier.keys().add("key-b").unwrap();
    let by = |secret: &str| {
        Verifier::rootfi_v4(secret)
            .unwrap()
            .sign(ROOTFI_BODY, SystemTime::now())
    };
    verifier.verify(&by("key-a"), ROOTFI_BODY).unwrap();
    verifier.verify(&by("key-b"), ROOTFI_BODY).unwrap();
    assert_eq!(
        kind(verifier.verify(&by("key-c"), ROOTFI_BODY)),
        Kind::SignatureMismatch
    );

    verifier.keys().replace("key-c").unwrap();
    verifier.verify(&by("key-c"), ROOTFI_BODY).unwrap();
    assert_eq!(
        kind(verifier.verify(&by("key-a"), ROOTFI_BODY)),
        Kind::SignatureMismatch
    );
    assert_eq!(verifier.keys().active_keys(), 1);

    for i in 1..KeyRing::MAX_KEYS {
        verifier.keys().add(format!("extra-{i}")).unwrap();
    }
    assert_eq!(
        verifier.keys().add("one-more"),
        Err(ConfigError::too_many_keys())
    );
}

// ---- construction, secrets, helpers ---------------------------------------------------

#[test]
fn empty_secrets_are_rejected_everywhere() {
    assert_eq!(
        Verifier::railz("").unwrap_err(),
        ConfigError::empty("secret")
    );
    assert_eq!(
        Verifier::rootfi_v4(b"").unwrap_err(),
        ConfigError::empty("secret")
    );
    assert_eq!(
        Verifier::hmac(HmacScheme::stripe(), Vec::<u8>::new()).unwrap_err(),
        ConfigError::empty("secret")
    );
    assert_eq!(
        Verifier::shared_secret(HeaderName::from_static("api_key"), "").unwrap_err(),
        ConfigError::empty("secret")
    );
    assert_eq!(
        Verifier::bearer("").unwrap_err(),
        ConfigError::empty("secret")
    );
    let verifier = Verifier::railz("x").unwrap();
    assert_eq!(verifier.keys().add(""), Err(ConfigError::empty("secret")));
    assert_eq!(
        verifier.keys().replace(""),
        Err(ConfigError::empty("secret"))
    );
    assert_eq!(
        verifier.keys().rotate("", Duration::from_secs(1)),
        Err(ConfigError::empty("secret"))
    );
    assert_eq!(Secret::new("").unwrap_err(), ConfigError::empty("secret"));
}

#[test]
fn debug_never_prints_secrets() {
    let verifier = Verifier::railz("s3cr3t-railz").unwrap();
    verifier.keys().add("s3cr3t-second").unwrap();
    let shown = format!(
        "{verifier:?} {:?} {:?} {:#?}",
        verifier.keys(),
        Secret::new("s3cr3t-plain").unwrap(),
        Verifier::shared_secret(HeaderName::from_static("api_key"), "s3cr3t-token").unwrap(),
    );
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

#[test]
fn inconsistent_schemes_are_config_errors() {
    let no_timestamp = HmacScheme::rootfi_v4()
        .signed_content(ledgerhook::signature::SignedContent::timestamp_dot_body());
    let err = Verifier::hmac(no_timestamp, "k").unwrap_err();
    assert_eq!(err.setting(), "signed_content");
    assert_eq!(err.code(), "conflicting_settings");
    let err =
        Verifier::shared_secret(HeaderName::from_static("api_key"), "line\nbreak").unwrap_err();
    assert_eq!(err.setting(), "secret");
    assert_eq!(err.code(), "invalid_value");
}

#[test]
fn signed_request_for_handler_tests() {
    let clock = ManualClock::new(at_ms(RAILZ_T));
    let verifier = Verifier::railz(RAILZ_SECRET)
        .unwrap()
        .with_clock(clock.clone());
    let request = verifier.signed_request(Uri::from_static("/webhooks/railz"), RAILZ_BODY);
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri(), "/webhooks/railz");
    assert_eq!(request.headers()["content-type"], "application/json");
    assert_eq!(
        request.headers()["railz-signature"],
        format!("t={RAILZ_T},v={RAILZ_SIG}").as_str()
    );
    assert_eq!(request.body().as_ref(), RAILZ_BODY);
    verifier.verify(request.headers(), request.body()).unwrap();

    let stale = verifier.signed_request_at(
        Uri::from_static("/webhooks/railz"),
        RAILZ_BODY,
        at_ms(RAILZ_T - 300_001),
    );
    assert_eq!(
        kind(verifier.verify(stale.headers(), stale.body())),
        Kind::TimestampTooOld
    );
}

#[test]
fn sign_round_trips_for_every_scheme() {
    let now = SystemTime::now();
    let body = b"\x00\x01 not json, not utf-8 \xfe";
    let verifiers = [
        Verifier::railz("a").unwrap(),
        Verifier::rootfi_v4("b").unwrap(),
        Verifier::hmac(HmacScheme::stripe(), "c").unwrap(),
        Verifier::hmac(HmacScheme::standard_webhooks(), "d").unwrap(),
        Verifier::hmac(
            HmacScheme::new(HeaderName::from_static("x-sig"))
                .format(SignatureFormat::key_value("sha256"))
                .encoding(Encoding::Base64),
            "e",
        )
        .unwrap(),
        Verifier::shared_secret(HeaderName::from_static("api_key"), "f").unwrap(),
        Verifier::bearer("g").unwrap(),
    ];
    for verifier in &verifiers {
        let signed = verifier.sign(body, now);
        verifier
            .verify(&signed, body)
            .unwrap_or_else(|e| panic!("{verifier:?}: {e}"));
    }
}

// ---- properties ----------------------------------------------------------------------

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn verifiers() -> Vec<Verifier> {
        let clock = ManualClock::new(at_s(SW_T));
        vec![
            railz().with_clock(clock.clone()),
            Verifier::rootfi_v4(ROOTFI_SECRET).unwrap(),
            Verifier::hmac(HmacScheme::stripe(), STRIPE_SECRET)
                .unwrap()
                .with_clock(clock.clone()),
            sw_verifier(at_s(SW_T)),
            Verifier::bearer("tok").unwrap(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any header bytes: an error or (for a forgery that happens to be valid: never)
        /// success, but never a panic, and never success without the right signature.
        #[test]
        fn arbitrary_headers_never_panic_or_pass(
            value in proptest::collection::vec(any::<u8>(), 0..200),
            body in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let Ok(value) = HeaderValue::from_bytes(&value) else { return Ok(()) };
            for verifier in verifiers() {
                let mut map = HeaderMap::new();
                for name in ["railz-signature", "x-rootfi-signature", "stripe-signature",
                             "webhook-signature", "webhook-id", "webhook-timestamp",
                             "authorization"] {
                    map.insert(HeaderName::from_static(name), value.clone());
                }
                prop_assert!(verifier.verify(&map, &body).is_err());
            }
        }

        /// The explainer reads arbitrary header values and bodies (JSON-looking ones too)
        /// without panicking, and finds something to say about every refusal.
        #[test]
        fn explain_never_panics(
            value in proptest::collection::vec(any::<u8>(), 0..120),
            body in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..64),
                "[{}\\[\\]\":, \\n\\\\a-z0-9]{0,48}".prop_map(String::into_bytes),
            ],
        ) {
            let Ok(value) = HeaderValue::from_bytes(&value) else { return Ok(()) };
            for verifier in verifiers() {
                let mut map = HeaderMap::new();
                for name in ["railz-signature", "x-rootfi-signature", "webhook-signature",
                             "webhook-id", "webhook-timestamp", "authorization"] {
                    map.insert(HeaderName::from_static(name), value.clone());
                }
                let explanation = verifier.explain(&map, &body);
                prop_assert!(!explanation.verified());
                prop_assert!(!explanation.findings().is_empty());
                let _ = explanation.to_string();
            }
        }

        /// Any body round-trips through sign/verify, and any one-bit change is caught.
        #[test]
        fn sign_verify_round_trip(
            body in proptest::collection::vec(any::<u8>(), 1..300),
            flip in any::<prop::sample::Index>(),
        ) {
            for verifier in verifiers().into_iter().take(4) {
                let signed = verifier.sign(&body, at_s(SW_T));
                prop_assert!(verifier.verify(&signed, &body).is_ok());
                let mut altered = body.clone();
                altered[flip.index(body.len())] ^= 0x80;
                prop_assert_eq!(kind(verifier.verify(&signed, &altered)), Kind::SignatureMismatch);
            }
        }
    }
}

// ---- constructors (issue 10) ------------------------------------------------------------

#[test]
fn rootfi_v3_is_the_shared_secret_check_on_api_key() {
    let preset = Verifier::rootfi_v3("fhsjd").unwrap();
    let generic = Verifier::shared_secret(HeaderName::from_static("api_key"), "fhsjd").unwrap();
    assert_eq!(preset.header().as_str(), "api_key");
    assert_eq!(preset.provider(), "rootfi_v3");
    assert_eq!(generic.provider(), "shared_secret");
    let map = headers(&[("api_key", b"fhsjd")]);
    assert_eq!(preset.verify(&map, b""), Ok(()));
    assert_eq!(generic.verify(&map, b""), Ok(()));
}

#[test]
fn every_preset_header_can_be_renamed() {
    let body = b"{}";
    for verifier in [
        Verifier::railz("s").unwrap(),
        Verifier::rootfi_v4("s").unwrap(),
        Verifier::rootfi_v3("s").unwrap(),
        Verifier::stripe("s").unwrap(),
        Verifier::standard_webhooks("s").unwrap(),
        Verifier::bearer("s").unwrap(),
    ] {
        let provider = verifier.provider();
        let renamed = verifier.with_header("x-renamed").unwrap();
        assert_eq!(renamed.header().as_str(), "x-renamed", "{provider}");
        assert_eq!(renamed.provider(), provider);
        let signed = renamed.sign(body, SystemTime::now());
        assert!(signed.contains_key("x-renamed"), "{provider}");
        assert_eq!(renamed.verify(&signed, body), Ok(()), "{provider}");
    }
    let err = Verifier::railz("s")
        .unwrap()
        .with_header("bad name")
        .unwrap_err();
    assert_eq!(err.setting(), "header");
    // Clashing with the scheme's own timestamp header is refused.
    let err = Verifier::standard_webhooks("s")
        .unwrap()
        .with_header("webhook-timestamp")
        .unwrap_err();
    assert_eq!(err.setting(), "header");
}

#[test]
fn constructors_take_every_secret_form() {
    let body = b"{}";
    let reference = Verifier::railz("abc")
        .unwrap()
        .sign(body, SystemTime::now());
    let owned = String::from("abc");
    for verifier in [
        Verifier::railz("abc"),
        Verifier::railz(owned.clone()),
        Verifier::railz(&owned),
        Verifier::railz(b"abc".to_vec()),
        Verifier::railz(&b"abc"[..]),
        Verifier::railz(b"abc"),
        Verifier::railz(Secret::new("abc").unwrap()),
    ] {
        assert_eq!(verifier.unwrap().verify(&reference, body), Ok(()));
    }
    Verifier::rootfi_v3(String::from("t")).unwrap();
    Verifier::bearer(Secret::new("t").unwrap()).unwrap();
}

#[test]
fn a_list_of_secrets_at_construction() {
    let body = b"{}";
    let verifier = Verifier::rootfi_v4("new")
        .unwrap()
        .also_accepting(["old", "older"])
        .unwrap();
    assert_eq!(verifier.keys().active_keys(), 3);
    for secret in ["new", "old", "older"] {
        let signed = Verifier::rootfi_v4(secret)
            .unwrap()
            .sign(body, SystemTime::now());
        assert_eq!(verifier.verify(&signed, body), Ok(()), "{secret}");
    }
    // The constructor's secret signs.
    let signed = verifier.sign(body, SystemTime::now());
    assert_eq!(
        Verifier::rootfi_v4("new").unwrap().verify(&signed, body),
        Ok(())
    );
    let err = Verifier::rootfi_v4("new")
        .unwrap()
        .also_accepting([""])
        .unwrap_err();
    assert_eq!(err.setting(), "secret");
}

#[test]
fn tolerance_is_set_on_the_verifier() {
    let verifier = Verifier::railz("s").unwrap();
    assert_eq!(
        verifier.timestamp_tolerance(),
        Some(ledgerhook::signature::DEFAULT_TOLERANCE)
    );
    let short = verifier.tolerance(Duration::from_secs(1));
    assert_eq!(short.timestamp_tolerance(), Some(Duration::from_secs(1)));
    assert_eq!(short.without_tolerance().timestamp_tolerance(), None);
    assert_eq!(
        Verifier::rootfi_v4("s").unwrap().timestamp_tolerance(),
        None
    );
}

// ---- signature grammar: Slack and Paddle (issue 10) -------------------------------------

/// Slack's documented example (api.slack.com/authentication/verifying-requests-from-slack):
/// signing secret, `X-Slack-Request-Timestamp: 1531420618` and this slash-command body.
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const SLACK_T: u64 = 1_531_420_618;
const SLACK_BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
// python3 -c "import hmac,hashlib;body=open('/dev/stdin','rb').read().rstrip(b'\n');print('v0='+hmac.new(b'8f742231b10e8888abcd99yyyzzz85a5',b'v0:1531420618:'+body,hashlib.sha256).hexdigest())" <<< '<SLACK_BODY>'
// (the same value Slack's documentation gives for this example)
const SLACK_SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

/// Paddle Billing's format (developer.paddle.com/webhooks/signature-verification):
/// `Paddle-Signature: ts=<s>;h1=<hex HMAC-SHA256 of "<ts>:<body>">`.
const PADDLE_SECRET: &str = "pdl_ntfset_01h8bz7dwgttfjzrxyqsnd5a4q_secretkey";
const PADDLE_T: u64 = 1_671_552_777;
const PADDLE_BODY: &[u8] = br#"{"event_id":"evt_01h8bzakzx3hm2fmen703n5q45","event_type":"transaction.completed","occurred_at":"2023-08-21T11:57:47.944Z","notification_id":"ntf_01h8bzam1z32agrxjwhjgqk8w6","data":{"id":"txn_01h8bz9tbf1dkwa5hc8m5vbpfe"}}"#;
// python3 -c "import hmac,hashlib;print(hmac.new(b'pdl_ntfset_01h8bz7dwgttfjzrxyqsnd5a4q_secretkey',b'1671552777:'+b'<PADDLE_BODY>',hashlib.sha256).hexdigest())"
const PADDLE_H1: &str = "1d906205f03a95625b1bd2fd062e929b416a014117b395e59b65ade5202da4c8";

#[test]
fn slack_vector() {
    let verifier = Verifier::slack(SLACK_SECRET)
        .unwrap()
        .with_clock(ManualClock::new(at_s(SLACK_T)));
    assert_eq!(verifier.provider(), "slack");
    let ts = SLACK_T.to_string();
    let map = headers(&[
        ("x-slack-signature", SLACK_SIG.as_bytes()),
        ("x-slack-request-timestamp", ts.as_bytes()),
    ]);
    assert_eq!(verifier.precheck(&map), Ok(()));
    assert_eq!(verifier.verify(&map, SLACK_BODY), Ok(()));
    // `sign` writes exactly the documented headers.
    let signed = verifier.sign(SLACK_BODY, at_s(SLACK_T));
    assert_eq!(signed["x-slack-signature"], SLACK_SIG);
    assert_eq!(signed["x-slack-request-timestamp"], ts.as_str());
    // The `v0=` prefix is required; the timestamp is signed.
    let bare = &SLACK_SIG[3..];
    let no_prefix = headers(&[
        ("x-slack-signature", bare.as_bytes()),
        ("x-slack-request-timestamp", ts.as_bytes()),
    ]);
    assert_eq!(
        kind(verifier.verify(&no_prefix, SLACK_BODY)),
        Kind::InvalidHeader
    );
    let other_ts = (SLACK_T + 1).to_string();
    let moved = headers(&[
        ("x-slack-signature", SLACK_SIG.as_bytes()),
        ("x-slack-request-timestamp", other_ts.as_bytes()),
    ]);
    assert_eq!(
        kind(verifier.verify(&moved, SLACK_BODY)),
        Kind::SignatureMismatch
    );
    // Five minutes of tolerance, from the headers alone.
    let later = verifier.with_clock(ManualClock::new(at_s(SLACK_T + 301)));
    assert_eq!(kind(later.precheck(&map)), Kind::TimestampTooOld);
}

#[test]
fn paddle_vector() {
    let verifier = Verifier::paddle(PADDLE_SECRET)
        .unwrap()
        .with_clock(ManualClock::new(at_s(PADDLE_T)));
    assert_eq!(verifier.provider(), "paddle");
    let value = format!("ts={PADDLE_T};h1={PADDLE_H1}");
    let map = headers(&[("paddle-signature", value.as_bytes())]);
    assert_eq!(verifier.verify(&map, PADDLE_BODY), Ok(()));
    assert_eq!(
        verifier.sign(PADDLE_BODY, at_s(PADDLE_T))["paddle-signature"],
        value.as_str()
    );
    // Several `h1` elements (secret rotation on Paddle's side): one match is enough.
    let two = format!("ts={PADDLE_T};h1={};h1={PADDLE_H1}", "0".repeat(64));
    assert_eq!(
        verifier.verify(
            &headers(&[("paddle-signature", two.as_bytes())]),
            PADDLE_BODY
        ),
        Ok(())
    );
    // A `,` is not Paddle's separator.
    let comma = format!("ts={PADDLE_T},h1={PADDLE_H1}");
    assert_eq!(
        kind(verifier.verify(
            &headers(&[("paddle-signature", comma.as_bytes())]),
            PADDLE_BODY
        )),
        Kind::InvalidHeader
    );
    // The same grammar spelled out with the generic scheme.
    use ledgerhook::signature::{HmacScheme, SignatureFormat, SignedContent, TimestampUnit};
    let generic = Verifier::hmac(
        HmacScheme::new(HeaderName::from_static("paddle-signature"))
            .format(SignatureFormat::key_value_with_timestamp("ts", "h1").separators(';', '='))
            .signed_content(SignedContent::template("{timestamp}:{body}").unwrap())
            .timestamp_unit(TimestampUnit::Seconds),
        PADDLE_SECRET,
    )
    .unwrap()
    .with_clock(ManualClock::new(at_s(PADDLE_T)));
    assert_eq!(generic.verify(&map, PADDLE_BODY), Ok(()));
}

#[test]
fn templates_can_sign_any_header() {
    use ledgerhook::signature::{HmacScheme, SignatureFormat, SignedContent};
    // A made-up scheme: `<x-delivery>|<body>` under `x-sig: sha256=<hex>`.
    let verifier = Verifier::hmac(
        HmacScheme::new(HeaderName::from_static("x-sig"))
            .format(SignatureFormat::required_prefix("sha256="))
            .signed_content(SignedContent::template("{header:x-delivery}|{body}").unwrap()),
        "k",
    )
    .unwrap();
    // python3 -c "import hmac,hashlib;print(hmac.new(b'k',b'd-1|{}',hashlib.sha256).hexdigest())"
    let sig = "sha256=71681325f0f50fd77dd2f6ecb4efb8dab8588b2e4393b21522ed2bf94f7276ad";
    let vector = headers(&[("x-sig", sig.as_bytes()), ("x-delivery", b"d-1")]);
    assert_eq!(verifier.verify(&vector, b"{}"), Ok(()));
    let signed = verifier.sign(b"{}", SystemTime::now());
    assert!(signed.contains_key("x-delivery"));
    assert_eq!(verifier.verify(&signed, b"{}"), Ok(()));
    let mut changed = signed.clone();
    changed.insert("x-delivery", "other".parse().unwrap());
    assert_eq!(
        kind(verifier.verify(&changed, b"{}")),
        Kind::SignatureMismatch
    );
    let mut missing = signed;
    missing.remove("x-delivery");
    assert_eq!(kind(verifier.precheck(&missing)), Kind::MissingSignature);
}

// ---- secret hygiene (issue 9 §3) --------------------------------------------------------

#[test]
fn verifiers_sharing_a_secret_are_found() {
    use ledgerhook::signature::shared_secrets;
    let railz = Verifier::railz("copied").unwrap();
    let stripe = Verifier::stripe("copied").unwrap();
    let rootfi = Verifier::rootfi_v4("own-secret").unwrap();
    let v3 = Verifier::rootfi_v3("copied").unwrap();
    assert!(railz.shares_secret_with(&stripe));
    assert!(
        railz.shares_secret_with(&v3),
        "HMAC keys and tokens compare alike"
    );
    assert!(!railz.shares_secret_with(&rootfi));
    assert_eq!(
        shared_secrets(&[
            ("railz", &railz),
            ("rootfi", &rootfi),
            ("stripe", &stripe),
            ("v3", &v3)
        ]),
        [("railz", "stripe"), ("railz", "v3"), ("stripe", "v3")]
    );
    // An added (rotation) key counts; an expired one does not.
    rootfi.keys().add("copied").unwrap();
    assert!(rootfi.shares_secret_with(&railz));
    rootfi.keys().rotate("fresh", Duration::ZERO).unwrap();
    assert!(!rootfi.shares_secret_with(&railz));
    // The Railz/Stripe reuse is a real hazard: a Railz delivery verifies as Stripe-style
    // when the header is renamed, because both sign `<t>.<body>`... with different units
    // the tolerance differs, but the MAC is the same.
    let body = b"{}";
    let signed = railz.sign(body, SystemTime::now());
    let value = signed["railz-signature"]
        .to_str()
        .unwrap()
        .replace("v=", "v1=");
    let as_stripe = headers(&[("stripe-signature", value.as_bytes())]);
    assert_eq!(
        stripe.clone().without_tolerance().verify(&as_stripe, body),
        Ok(())
    );
}

// ---- signature explainer (issue 12): one delivery per mistake ---------------------------

mod explain {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use ledgerhook::signature::{BodyChange, Encoding, Finding, HmacScheme, TimestampUnit};

    const NOW_MS: u64 = 1_700_000_000_000;

    fn railz_with(secret: impl Into<Secret>) -> Verifier {
        Verifier::railz(secret)
            .unwrap()
            .with_clock(ManualClock::new(at_ms(NOW_MS)))
    }

    /// Signed over `signed` by the provider, received as `received` by a verifier keyed
    /// with `configured`.
    fn findings(sender: &str, configured: &[u8], signed: &[u8], received: &[u8]) -> Vec<Finding> {
        let headers = railz_with(sender).sign(signed, at_ms(NOW_MS));
        let explanation = railz_with(configured).explain(&headers, received);
        assert!(!explanation.verified());
        let shown = explanation.to_string();
        assert!(!shown.contains(sender), "never prints the secret: {shown}");
        explanation.findings().to_vec()
    }

    fn body_change(change: BodyChange) -> Vec<Finding> {
        vec![Finding::BodyReserialized { change }]
    }

    #[test]
    fn verifying_delivery_has_no_findings() {
        let verifier = railz_with("s");
        let headers = verifier.sign(b"{}", at_ms(NOW_MS));
        let explanation = verifier.explain(&headers, b"{}");
        assert!(explanation.verified());
        assert!(explanation.findings().is_empty());
        assert_eq!(explanation.to_string(), "the delivery verifies");
    }

    #[test]
    fn pretty_printed_body() {
        let sent = br#"{"data":{"event":"login","ids":[1,2]}}"#;
        let received = b"{\n  \"data\": {\n    \"event\": \"login\",\n    \"ids\": [\n      1,\n      2\n    ]\n  }\n}";
        assert_eq!(
            findings("body-test-secret", b"body-test-secret", sent, received),
            body_change(BodyChange::PrettyPrinted)
        );
    }

    #[test]
    fn compacted_body() {
        let sent = b"{\n  \"data\": {\n    \"event\": \"login\"\n  },\n  \"empty\": {}\n}";
        let received = br#"{"data":{"event":"login"},"empty":{}}"#;
        assert_eq!(
            findings("body-test-secret", b"body-test-secret", sent, received),
            body_change(BodyChange::Compacted)
        );
        // Python's `json.dumps` spacing, compacted.
        let spaced = br#"{"data": {"event": "login"}}"#;
        assert_eq!(
            findings(
                "body-test-secret",
                b"body-test-secret",
                spaced,
                br#"{"data":{"event":"login"}}"#
            ),
            body_change(BodyChange::Compacted)
        );
    }

    #[test]
    fn keys_reordered() {
        let sent = br#"{"a":1,"b":{"c":2,"d":3}}"#;
        let received = br#"{"b":{"d":3,"c":2},"a":1}"#;
        assert_eq!(
            findings("body-test-secret", b"body-test-secret", sent, received),
            body_change(BodyChange::KeysReordered)
        );
    }

    #[test]
    fn trailing_newline_added_or_removed() {
        assert_eq!(
            findings("body-test-secret", b"body-test-secret", b"{}", b"{}\n"),
            body_change(BodyChange::TrailingNewlineAdded)
        );
        assert_eq!(
            findings("body-test-secret", b"body-test-secret", b"{}\n", b"{}"),
            body_change(BodyChange::TrailingNewlineRemoved)
        );
    }

    #[test]
    fn secret_with_a_trailing_newline() {
        assert_eq!(
            findings("railz-secret", b"railz-secret\n", b"{}", b"{}"),
            [Finding::SecretWhitespace]
        );
        assert_eq!(
            findings("railz-secret", b"  railz-secret", b"{}", b"{}"),
            [Finding::SecretWhitespace]
        );
    }

    #[test]
    fn secret_is_the_base64_of_the_key() {
        let configured = STANDARD.encode("raw-signing-key");
        assert_eq!(
            findings("raw-signing-key", configured.as_bytes(), b"{}", b"{}"),
            [Finding::SecretIsBase64OfKey]
        );
    }

    #[test]
    fn sender_uses_the_base64_of_the_secret() {
        let sender = STANDARD.encode("configured-key");
        assert_eq!(
            findings(&sender, b"configured-key", b"{}", b"{}"),
            [Finding::SecretShouldBeBase64]
        );
    }

    #[test]
    fn whsec_prefix_left_on_the_secret() {
        // Standard Webhooks style: `whsec_<base64 of the key>`.
        let key = b"\x01\x02standard-key\xfe";
        let configured = format!("whsec_{}", STANDARD.encode(key));
        let sender = Verifier::standard_webhooks(key).unwrap();
        let ours = Verifier::standard_webhooks(configured.as_str())
            .unwrap()
            .with_clock(ManualClock::new(at_ms(NOW_MS)));
        let headers = sender.sign(b"{}", at_ms(NOW_MS));
        let explanation = ours.explain(&headers, b"{}");
        assert_eq!(
            explanation.findings(),
            [Finding::SecretPrefix {
                prefix: Some("whsec_"),
                then_base64: true
            }]
        );
        assert!(explanation.to_string().contains("whsec_"));
        // A plain prefix (the sender's key is the rest as text).
        assert_eq!(
            findings("the-key", b"whsec_the-key", b"{}", b"{}"),
            [Finding::SecretPrefix {
                prefix: Some("whsec_"),
                then_base64: false
            }]
        );
    }

    #[test]
    fn timestamp_in_seconds_where_milliseconds_are_expected() {
        let seconds = Verifier::hmac(
            HmacScheme::railz().timestamp_unit(TimestampUnit::Seconds),
            "k",
        )
        .unwrap();
        let headers = seconds.sign(b"{}", at_ms(NOW_MS));
        let explanation = railz_with("k").explain(&headers, b"{}");
        assert_eq!(explanation.error().unwrap().kind(), Kind::TimestampTooOld);
        assert_eq!(
            explanation.findings(),
            [Finding::TimestampUnit {
                sent: TimestampUnit::Seconds
            }]
        );
        // And the reverse: milliseconds where seconds are expected (Stripe).
        let millis = Verifier::hmac(
            HmacScheme::stripe().timestamp_unit(TimestampUnit::Milliseconds),
            "k",
        )
        .unwrap();
        let headers = millis.sign(b"{}", at_ms(NOW_MS));
        let stripe = Verifier::stripe("k")
            .unwrap()
            .with_clock(ManualClock::new(at_ms(NOW_MS)));
        assert_eq!(
            stripe.explain(&headers, b"{}").findings(),
            [Finding::TimestampUnit {
                sent: TimestampUnit::Milliseconds
            }]
        );
    }

    #[test]
    fn clock_skew_beyond_the_tolerance_is_measured() {
        let headers = railz_with("k").sign(b"{}", at_ms(NOW_MS - 600_000));
        let explanation = railz_with("k").explain(&headers, b"{}");
        assert_eq!(
            explanation.findings(),
            [Finding::ClockSkew {
                skew: Duration::from_secs(600),
                ahead: false,
                tolerance: Duration::from_secs(300)
            }]
        );
        assert!(
            explanation.to_string().contains("600.000 s behind"),
            "{explanation}"
        );
        let ahead = railz_with("k").sign(b"{}", at_ms(NOW_MS + 301_000));
        assert!(matches!(
            railz_with("k").explain(&ahead, b"{}").findings(),
            [Finding::ClockSkew { ahead: true, .. }]
        ));
    }

    #[test]
    fn another_routes_secret_matches() {
        let headers = railz_with("secret-of-route-b").sign(b"{}", at_ms(NOW_MS));
        let route_a = railz_with("secret-of-route-a");
        let route_b = railz_with("secret-of-route-b");
        let rootfi = Verifier::rootfi_v4("rootfi-key").unwrap();
        let explanation = route_a.explain_with(
            &headers,
            b"{}",
            &[("rootfi", &rootfi), ("railz-b", &route_b)],
        );
        assert_eq!(
            explanation.findings(),
            [Finding::OtherVerifier {
                name: "railz-b".into()
            }]
        );
        // Without the list, nothing is known.
        assert_eq!(
            route_a.explain(&headers, b"{}").findings(),
            [Finding::NothingMatched]
        );
    }

    #[test]
    fn rootfi_v4_delivery_in_base64_with_prefix() {
        // A captured delivery signed base64 with `sha256=`: the default (hex) does not
        // verify it; the explainer names the configuration that does.
        let key = "rootfi-signing-key";
        let sender = Verifier::hmac(
            HmacScheme::rootfi_v4().encoding(Encoding::Base64).format(
                ledgerhook::signature::SignatureFormat::required_prefix("sha256="),
            ),
            key,
        )
        .unwrap();
        let body = br#"{"webhook_type":"SYNC_COMPLETED"}"#;
        let headers = sender.sign(body, SystemTime::now());
        let explanation = Verifier::rootfi_v4(key).unwrap().explain(&headers, body);
        let [Finding::OtherScheme(guess)] = explanation.findings() else {
            panic!("{explanation}");
        };
        assert_eq!(guess.header, "x-rootfi-signature");
        assert_eq!(guess.prefix.as_deref(), Some("sha256="));
        assert_eq!(guess.encoding, Encoding::Base64);
        assert_eq!(guess.template, "{body}");
    }

    #[test]
    fn rootfi_v4_delivery_signing_a_timestamp() {
        // `<t>.<body>` with the timestamp in its own header, hex: found as such.
        use ledgerhook::signature::SignedContent;
        let key = "rootfi-signing-key";
        let sender = Verifier::hmac(
            HmacScheme::rootfi_v4()
                .signed_content(SignedContent::timestamp_dot_body())
                .timestamp_header(HeaderName::from_static("x-rootfi-timestamp"))
                .timestamp_unit(TimestampUnit::Seconds),
            key,
        )
        .unwrap();
        let body = b"{}";
        let headers = sender.sign(body, SystemTime::now());
        let explanation = Verifier::rootfi_v4(key).unwrap().explain(&headers, body);
        assert_eq!(
            explanation.findings(),
            [Finding::OtherScheme(ledgerhook::signature::SchemeGuess {
                header: HeaderName::from_static("x-rootfi-signature"),
                prefix: None,
                encoding: Encoding::Hex,
                template: "{timestamp}.{body}",
                timestamp_header: Some(HeaderName::from_static("x-rootfi-timestamp")),
            })]
        );
    }

    #[test]
    fn wrong_token_finds_nothing() {
        // Tokens with surrounding whitespace are refused at construction, so that mistake
        // cannot be configured; a wrong token is just wrong.
        let v3 = Verifier::rootfi_v3("right").unwrap();
        let map = headers(&[("api_key", b"wrong")]);
        assert_eq!(v3.explain(&map, b"").findings(), [Finding::NothingMatched]);
    }
}
