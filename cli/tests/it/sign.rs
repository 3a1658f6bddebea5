//! `ledgerhook sign` with a fixed timestamp against signatures computed independently with
//! Python's `hmac` (the command that produced each one is next to it).

use crate::common::{body_file, ledgerhook, stderr, stdout};

/// The signed body, byte for byte (no trailing newline).
const BODY: &[u8] = br#"{"data":{"event":"auth","connectionId":"CON-1"}}"#;
/// `--timestamp 1700000000`.
const TS: &str = "1700000000";

fn sign(var: &str, secret: &str, args: &[&str]) -> (String, String) {
    let body = body_file(BODY);
    let output = ledgerhook()
        .env(var, secret)
        .arg("sign")
        .args(args)
        .arg(body.path())
        .args(["--timestamp", TS])
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    (stdout(&output), stderr(&output))
}

// Each vector: python3 -c 'import hmac,hashlib,base64; body=b"""{"data":{"event":"auth","connectionId":"CON-1"}}"""; <expression>'

#[test]
fn railz() {
    // hmac.new(b"railz_test_secret", b"1700000000000." + body, hashlib.sha256).hexdigest()
    let (out, err) = sign("RAILZ_WEBHOOK_SECRET", "railz_test_secret", &["railz"]);
    assert_eq!(
        out,
        "railz-signature: t=1700000000000,v=322400beaf689fdaa2619db5031a8cf71cb0784b690280457cb768c1edb1f99f\n"
    );
    assert_eq!(
        err, "",
        "a secret from the default variable needs no warning"
    );
}

#[test]
fn rootfi_v4() {
    // hmac.new(b"rootfi_test_key", body, hashlib.sha256).hexdigest()
    let (out, _) = sign("ROOTFI_WEBHOOK_SECRET", "rootfi_test_key", &["rootfi"]);
    assert_eq!(
        out,
        "x-rootfi-signature: 303014b2f6a1071feb1256d3f6bc007d7c3d91feb9fc606d6fa3ff278baedda4\n"
    );
}

#[test]
fn stripe() {
    // hmac.new(b"stripe_test_secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    let (out, _) = sign("STRIPE_WEBHOOK_SECRET", "stripe_test_secret", &["stripe"]);
    assert_eq!(
        out,
        "stripe-signature: t=1700000000,v1=91ee1492fdcab1b72358ab87c488dff491aba8d643e911ef68cfb1a794f8f8df\n"
    );
}

#[test]
fn standard_webhooks() {
    // key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    // id = "msg_" + hashlib.sha256(b"1700000000." + body).hexdigest()[:24]   (the signer's deterministic id)
    // base64.b64encode(hmac.new(key, id.encode() + b".1700000000." + body, hashlib.sha256).digest())
    let (out, _) = sign(
        "STANDARD_WEBHOOK_SECRET",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        &["standard-webhooks"],
    );
    assert_eq!(
        out,
        "webhook-id: msg_e350bc56a14a6bfc5de01071\n\
         webhook-signature: v1,gNkfI2K425t4O1y1rymTFGVISptoT+NJV0v8JbCdSNk=\n\
         webhook-timestamp: 1700000000\n"
    );
}

#[test]
fn slack() {
    // hmac.new(b"slack_test_secret", b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    let (out, _) = sign("SLACK_SIGNING_SECRET", "slack_test_secret", &["slack"]);
    assert_eq!(
        out,
        "x-slack-signature: v0=097e4b79f5909ffdab75342cbb16a711d31fc5a6e40e670d01630aad80757656\n\
         x-slack-request-timestamp: 1700000000\n"
    );
}

#[test]
fn paddle() {
    // hmac.new(b"paddle_test_secret", b"1700000000:" + body, hashlib.sha256).hexdigest()
    let (out, _) = sign("PADDLE_WEBHOOK_SECRET", "paddle_test_secret", &["paddle"]);
    assert_eq!(
        out,
        "paddle-signature: ts=1700000000;h1=7e00d46d27dbb84250003fd48c67b7076d78ff305c1a80840a6f07c1097f803e\n"
    );
}

#[test]
fn github() {
    // hmac.new(b"github_test_secret", body, hashlib.sha256).hexdigest()
    let (out, _) = sign("GITHUB_WEBHOOK_SECRET", "github_test_secret", &["github"]);
    assert_eq!(
        out,
        "x-hub-signature-256: sha256=6925e3e340bf228d4d7c7f1d0f7c96a1d26647d940c8d789552f31f5d2d78463\n"
    );
}

#[test]
fn custom_base64_with_prefix_over_timestamp_dot_body() {
    // base64.b64encode(hmac.new(b"custom_test_secret", b"1700000000." + body, hashlib.sha256).digest())
    let (out, _) = sign(
        "LEDGERHOOK_WEBHOOK_SECRET",
        "custom_test_secret",
        &[
            "custom",
            "--header",
            "X-Acme-Signature",
            "--encoding",
            "base64",
            "--prefix",
            "v1=",
            "--content",
            "{timestamp}.{body}",
            "--timestamp-header",
            "X-Acme-Timestamp",
        ],
    );
    assert_eq!(
        out,
        "x-acme-signature: v1=vGvDc0jeWl3ZwKW7tRfLdUR1yRZtTxVz/JXh5hz8x9o=\n\
         x-acme-timestamp: 1700000000\n"
    );
}

#[test]
fn custom_hex_in_milliseconds() {
    // hmac.new(b"custom_test_secret", b"1700000000000." + body, hashlib.sha256).hexdigest()
    let (out, _) = sign(
        "LEDGERHOOK_WEBHOOK_SECRET",
        "custom_test_secret",
        &[
            "custom",
            "--header",
            "x-sig",
            "--content",
            "{timestamp}.{body}",
            "--timestamp-header",
            "x-ts",
            "--timestamp-unit",
            "ms",
        ],
    );
    assert_eq!(
        out,
        "x-sig: 4da80d681d90eb22cbc7702727db6e65528d712cbed08ab10404db0172177408\n\
         x-ts: 1700000000000\n"
    );
}

#[test]
fn token_schemes_redact_unless_asked() {
    let (out, _) = sign("ROOTFI_V3_TOKEN", "fhsjd", &["rootfi-v3"]);
    assert!(out.starts_with("api_key: <redacted"), "{out}");
    assert!(!out.contains("fhsjd"));
    let (out, _) = sign("ROOTFI_V3_TOKEN", "fhsjd", &["rootfi-v3", "--reveal-token"]);
    assert_eq!(out, "api_key: fhsjd\n");
    let (out, _) = sign(
        "ROOTFI_V3_TOKEN",
        "fhsjd",
        &["rootfi-v3", "--reveal-token", "--header", "x-webhook-token"],
    );
    assert_eq!(out, "x-webhook-token: fhsjd\n");
    let (out, _) = sign(
        "LEDGERHOOK_BEARER_TOKEN",
        "tok",
        &["bearer", "--reveal-token"],
    );
    assert_eq!(out, "authorization: Bearer tok\n");
}

#[test]
fn secret_sources_and_warnings() {
    let body = body_file(BODY);
    // --secret-env names another variable: same signature as the railz vector.
    let output = ledgerhook()
        .env("MY_RAILZ_KEY", "railz_test_secret")
        .args([
            "sign",
            "railz",
            "--timestamp",
            TS,
            "--secret-env",
            "MY_RAILZ_KEY",
        ])
        .arg(body.path())
        .output()
        .unwrap();
    assert!(stdout(&output).contains("v=322400beaf68"), "{output:?}");
    assert_eq!(stderr(&output), "");

    // --secret works and warns.
    let output = ledgerhook()
        .args([
            "sign",
            "railz",
            "--timestamp",
            TS,
            "--secret",
            "railz_test_secret",
        ])
        .arg(body.path())
        .output()
        .unwrap();
    assert!(stdout(&output).contains("v=322400beaf68"));
    assert!(stderr(&output).contains("warning: --secret puts the secret in the process list"));

    // Nothing set: the development secret, with a warning naming the variable.
    let output = ledgerhook()
        .args(["sign", "railz"])
        .arg(body.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        stderr(&output).contains("RAILZ_WEBHOOK_SECRET is not set"),
        "{output:?}"
    );

    // A named variable that is not set is an error, never a silent fallback.
    ledgerhook()
        .args(["sign", "railz", "--secret-env", "NOT_SET_ANYWHERE"])
        .arg(body.path())
        .assert()
        .code(2);
}

#[test]
fn configuration_errors_exit_2_and_missing_files_exit_3() {
    let body = body_file(BODY);
    for args in [
        &["custom"][..],
        &["custom", "--header", "bad header"],
        &[
            "custom",
            "--header",
            "x-sig",
            "--content",
            "{body}.{timestamp}",
        ],
        &["rootfi-v3", "--encoding", "base64"],
        &["bearer", "--header", "x-token"],
    ] {
        let output = ledgerhook()
            .arg("sign")
            .args(args)
            .arg(body.path())
            .args(["--secret-env", "S"])
            .env("S", "s")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(
            stderr(&output).starts_with("error: "),
            "{args:?}: {output:?}"
        );
    }
    ledgerhook()
        .args(["sign", "railz", "/nonexistent/body.json"])
        .assert()
        .code(3);
}

#[test]
fn body_from_stdin() {
    // The railz vector again, the body piped in.
    let output = ledgerhook()
        .env("RAILZ_WEBHOOK_SECRET", "railz_test_secret")
        .args(["sign", "railz", "-", "--timestamp", TS])
        .write_stdin(BODY)
        .output()
        .unwrap();
    assert!(
        stdout(&output)
            .contains("v=322400beaf689fdaa2619db5031a8cf71cb0784b690280457cb768c1edb1f99f"),
        "{output:?}"
    );
}
