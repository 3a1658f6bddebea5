//! `ledgerhook verify` on captured deliveries: verified, forged, and each mistake the
//! explainer names. The signatures were computed independently with Python's `hmac`:
//! python3 -c 'import hmac,hashlib; body=b"""{"data":{"event":"auth","connectionId":"CON-1"}}"""; print(<expression>)'

use crate::common::{body_file, ledgerhook, stderr, stdout};

/// The signed body, byte for byte (no trailing newline).
const BODY: &str = r#"{"data":{"event":"auth","connectionId":"CON-1"}}"#;
/// The same JSON as a framework would pretty-print it.
const PRETTY: &str =
    "{\n  \"data\": {\n    \"event\": \"auth\",\n    \"connectionId\": \"CON-1\"\n  }\n}";
/// `--now` for the captures signed at 1700000000.
const NOW: &str = "1700000000";
const RAILZ_SECRET: &str = "railz_test_secret";
/// hmac.new(b"railz_test_secret", b"1700000000000." + body, hashlib.sha256).hexdigest()
const RAILZ_SIGNATURE: &str =
    "t=1700000000000,v=322400beaf689fdaa2619db5031a8cf71cb0784b690280457cb768c1edb1f99f";

/// A raw HTTP/1.1 request as a capture tool writes it.
fn raw_request(headers: &[(&str, &str)], body: &str) -> String {
    let mut raw = String::from("POST /webhooks/railz HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    raw
}

/// Runs `ledgerhook verify <args> <capture file>` with `env`.
fn verify_raw(raw: &str, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let capture = body_file(raw.as_bytes());
    let mut cmd = ledgerhook();
    for (var, value) in env {
        cmd.env(var, value);
    }
    cmd.arg("verify")
        .args(args)
        .arg(capture.path())
        .output()
        .unwrap()
}

fn railz_env(secret: &str) -> [(&'static str, &str); 1] {
    [("RAILZ_WEBHOOK_SECRET", secret)]
}

/// Exit 1, and stdout is the reason then exactly these findings.
fn assert_refused(output: &std::process::Output, reason: &str, findings: &[&str]) {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let mut expected = format!("not verified: webhook verification failed: {reason}\n");
    for finding in findings {
        expected.push_str(&format!("- {finding}\n"));
    }
    assert_eq!(stdout(output), expected, "{output:?}");
}

#[test]
fn a_valid_capture_verifies() {
    let raw = raw_request(&[("Railz-Signature", RAILZ_SIGNATURE)], BODY);
    let output = verify_raw(&raw, &railz_env(RAILZ_SECRET), &["railz", "--now", NOW]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout(&output), "verified\n");
    assert_eq!(stderr(&output), "");
}

#[test]
fn content_length_is_honoured_and_a_chunked_body_decoded() {
    // An editor added a newline after the body: Content-Length says where it ends.
    let raw = raw_request(&[("Railz-Signature", RAILZ_SIGNATURE)], BODY) + "\n";
    let output = verify_raw(&raw, &railz_env(RAILZ_SECRET), &["railz", "--now", NOW]);
    assert_eq!(stdout(&output), "verified\n", "{output:?}");

    let (first, second) = BODY.split_at(10);
    let chunked = format!(
        "POST /webhooks/railz HTTP/1.1\r\nRailz-Signature: {RAILZ_SIGNATURE}\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\n\r\n",
        first.len(),
        second.len()
    );
    let output = verify_raw(&chunked, &railz_env(RAILZ_SECRET), &["railz", "--now", NOW]);
    assert_eq!(stdout(&output), "verified\n", "{output:?}");
}

#[test]
fn headers_and_body_files() {
    let headers = body_file(
        format!("Content-Type: application/json\nRailz-Signature: {RAILZ_SIGNATURE}\n").as_bytes(),
    );
    let run = |body: &str| {
        let body = body_file(body.as_bytes());
        ledgerhook()
            .env("RAILZ_WEBHOOK_SECRET", RAILZ_SECRET)
            .args(["verify", "railz", "--now", NOW, "--headers"])
            .arg(headers.path())
            .arg("--body")
            .arg(body.path())
            .output()
            .unwrap()
    };
    let output = run(BODY);
    assert_eq!(stdout(&output), "verified\n", "{output:?}");

    // Mistake: the body was re-serialised (pretty-printed) before it was captured.
    assert_refused(
        &run(PRETTY),
        "no signature matches (header `railz-signature`)",
        &[
            "the body was changed before verification (pretty-printed); verify the raw bytes as received",
        ],
    );
}

#[test]
fn a_forged_capture_is_refused_and_nothing_explains_it() {
    let forged = format!("t=1700000000000,v={}", "0".repeat(64));
    let raw = raw_request(&[("Railz-Signature", &forged)], BODY);
    let output = verify_raw(&raw, &railz_env(RAILZ_SECRET), &["railz", "--now", NOW]);
    assert_refused(
        &output,
        "no signature matches (header `railz-signature`)",
        &["no known mistake explains it: a different secret, or not sent by the provider"],
    );
    assert_eq!(stderr(&output), "", "the refusal is on stdout only");
}

#[test]
fn whitespace_in_the_secret() {
    let raw = raw_request(&[("Railz-Signature", RAILZ_SIGNATURE)], BODY);
    let output = verify_raw(
        &raw,
        &railz_env("railz_test_secret\n"),
        &["railz", "--now", NOW],
    );
    assert_refused(
        &output,
        "no signature matches (header `railz-signature`)",
        &[
            "the configured secret has surrounding whitespace or a newline; the trimmed secret verifies",
        ],
    );
    let shown = stdout(&output) + &stderr(&output);
    assert!(!shown.contains(RAILZ_SECRET), "never the secret: {shown}");
}

#[test]
fn seconds_where_milliseconds_are_expected() {
    // hmac.new(b"railz_test_secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    let in_seconds =
        "t=1700000000,v=3a9b4971904237a6d82fe303a0588ec1d4b8245eb191d1417758dd81cfff5960";
    let raw = raw_request(&[("Railz-Signature", in_seconds)], BODY);
    let output = verify_raw(&raw, &railz_env(RAILZ_SECRET), &["railz", "--now", NOW]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stdout(&output).contains("\n- the timestamp is in seconds, not in the scheme's unit\n"),
        "{output:?}"
    );
}

#[test]
fn now_makes_the_stale_check_reproducible() {
    let raw = raw_request(&[("Railz-Signature", RAILZ_SIGNATURE)], BODY);
    let output = verify_raw(
        &raw,
        &railz_env(RAILZ_SECRET),
        &["railz", "--now", "1700000400"],
    );
    assert_refused(
        &output,
        "timestamp is older than the tolerance (header `railz-signature`)",
        &[
            "genuinely signed, but the timestamp is 400.000 s behind the clock (tolerance 300 s): a replay or clock skew",
        ],
    );
}

#[test]
fn another_schemes_secret_matches() {
    // A RootFi v4 delivery signed with the Stripe route's secret:
    // hmac.new(b"stripe_test_secret", body, hashlib.sha256).hexdigest()
    let signature = "d69d32fce9a74a5d67500e5c79ecc656060cd0a6c148213c0e733be8dfa85dcf";
    let raw = raw_request(&[("X-RootFi-Signature", signature)], BODY);
    let env = [
        ("ROOTFI_WEBHOOK_SECRET", "rootfi_test_key"),
        ("STRIPE_WEBHOOK_SECRET", "stripe_test_secret"),
    ];
    let output = verify_raw(&raw, &env, &["rootfi"]);
    assert_refused(
        &output,
        "no signature matches (header `x-rootfi-signature`)",
        &["the verifier configured as `stripe` accepts it: wrong route or swapped secrets"],
    );
    // Without the other variable there is nothing to compare with.
    let output = verify_raw(&raw, &env[..1], &["rootfi"]);
    assert!(
        stdout(&output).contains("no known mistake explains it"),
        "{output:?}"
    );
    // The secret in use is not compared with itself, under whichever variable it is.
    let output = verify_raw(
        &raw,
        &[("STRIPE_WEBHOOK_SECRET", "stripe_test_secret")],
        &["rootfi", "--secret-env", "STRIPE_WEBHOOK_SECRET"],
    );
    assert_eq!(stdout(&output), "verified\n", "{output:?}");
}

#[test]
fn another_encoding_matches_for_rootfi_v4() {
    // RootFi does not document its v4 algorithm: which configuration verifies a capture?
    // base64.b64encode(hmac.new(b"rootfi_test_key", body, hashlib.sha256).digest())
    let signature = "sha256=MDAUsvahBx/rElbT9rwAfXw9kf65/GBtb6P/J4uu3aQ=";
    let raw = raw_request(&[("X-RootFi-Signature", signature)], BODY);
    let output = verify_raw(
        &raw,
        &[("ROOTFI_WEBHOOK_SECRET", "rootfi_test_key")],
        &["rootfi"],
    );
    assert_refused(
        &output,
        "no signature matches (header `x-rootfi-signature`)",
        &[
            "it verifies as HMAC-SHA256 over `{body}` in `x-rootfi-signature` after `sha256=`, base64",
        ],
    );
    // ... and with that configuration it verifies.
    let output = verify_raw(
        &raw,
        &[("ROOTFI_WEBHOOK_SECRET", "rootfi_test_key")],
        &["rootfi", "--encoding", "base64"],
    );
    assert_eq!(stdout(&output), "verified\n", "{output:?}");
}

#[test]
fn the_new_presets_verify() {
    // hmac.new(b"github_test_secret", body, hashlib.sha256).hexdigest()
    let github = "sha256=6925e3e340bf228d4d7c7f1d0f7c96a1d26647d940c8d789552f31f5d2d78463";
    let raw = raw_request(&[("X-Hub-Signature-256", github)], BODY);
    let output = verify_raw(
        &raw,
        &[("GITHUB_WEBHOOK_SECRET", "github_test_secret")],
        &["github"],
    );
    assert_eq!(stdout(&output), "verified\n", "{output:?}");
    // hmac.new(b"slack_test_secret", b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    let slack = "v0=097e4b79f5909ffdab75342cbb16a711d31fc5a6e40e670d01630aad80757656";
    let raw = raw_request(
        &[
            ("X-Slack-Signature", slack),
            ("X-Slack-Request-Timestamp", NOW),
        ],
        BODY,
    );
    let env = [("SLACK_SIGNING_SECRET", "slack_test_secret")];
    let output = verify_raw(&raw, &env, &["slack", "--now", NOW]);
    assert_eq!(stdout(&output), "verified\n", "{output:?}");
    // hmac.new(b"paddle_test_secret", b"1700000000:" + body, hashlib.sha256).hexdigest()
    let paddle =
        "ts=1700000000;h1=7e00d46d27dbb84250003fd48c67b7076d78ff305c1a80840a6f07c1097f803e";
    let raw = raw_request(&[("Paddle-Signature", paddle)], BODY);
    let env = [("PADDLE_WEBHOOK_SECRET", "paddle_test_secret")];
    let output = verify_raw(&raw, &env, &["paddle", "--now", NOW]);
    assert_eq!(stdout(&output), "verified\n", "{output:?}");
}

#[test]
fn malformed_captures_exit_2_with_the_reason() {
    for (raw, reason) in [
        (
            "POST /webhooks/railz HTTP/1.1\r\nRailz-Signature: t=1,v=00\r\n".to_owned(),
            "not a complete HTTP/1.1 request: the request line and headers must end with an empty line",
        ),
        (
            format!("{BODY}\r\n\r\n"),
            "not an HTTP/1.1 request: invalid token",
        ),
        (
            format!("POST / HTTP/1.1\r\nContent-Length: 999\r\n\r\n{BODY}"),
            "the body has 48 bytes, shorter than its Content-Length 999: truncated capture?",
        ),
        (
            format!("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n30\r\n{BODY}"),
            "a chunk is not followed by a line break",
        ),
    ] {
        let output = verify_raw(&raw, &railz_env(RAILZ_SECRET), &["railz"]);
        assert_eq!(output.status.code(), Some(2), "{raw:?}: {output:?}");
        let err = stderr(&output);
        assert!(
            err.starts_with("error: ") && err.trim_end().ends_with(reason),
            "{raw:?}: {err}"
        );
        assert_eq!(stdout(&output), "");
    }

    let headers = body_file(b"Railz-Signature t=1\n");
    let body = body_file(BODY.as_bytes());
    let output = ledgerhook()
        .env("RAILZ_WEBHOOK_SECRET", RAILZ_SECRET)
        .args(["verify", "railz", "--headers"])
        .arg(headers.path())
        .arg("--body")
        .arg(body.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        stderr(&output).contains("line 1: expected `Name: value`"),
        "{output:?}"
    );

    // Neither input, or both: usage errors.
    ledgerhook().args(["verify", "railz"]).assert().code(2);
    ledgerhook()
        .args(["verify", "railz", "x", "--headers", "h", "--body", "b"])
        .assert()
        .code(2);
    ledgerhook()
        .args(["verify", "railz", "--headers", "-", "--body", "-"])
        .assert()
        .code(2);
    // An unreadable capture is an I/O failure.
    ledgerhook()
        .args(["verify", "railz", "/nonexistent/capture.http"])
        .assert()
        .code(3);
}
