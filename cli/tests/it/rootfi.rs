//! `ledgerhook rootfi webhooks ...` against a local fake of the RootFi API that checks every
//! request against the documented examples and answers with the documented responses
//! (src/setup/rootfi/docs).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use serde_json::Value;

use crate::common::{ledgerhook, read_repo_file, serve, stderr, stdout};

const API_KEY: &str = "test-api-key";

fn doc(name: &str) -> String {
    read_repo_file(&format!("src/setup/rootfi/docs/{name}"))
}

fn doc_json(name: &str) -> Value {
    serde_json::from_str(&doc(name)).unwrap()
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    body: Value,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// Checks the documented transport (the `api_key` header, a JSON body when there is one)
/// and the body against `expected`, then answers `status` with the documented `answer`.
/// A v4 `signing_key` is taken out before comparing (the examples send none) and kept in
/// the log.
/// What the reference documents for one route: the example request (`None`: no body),
/// the status and the example answer.
struct Documented {
    request: Option<Value>,
    status: StatusCode,
    answer: Option<String>,
}

fn documented(request: Option<&str>, status: StatusCode, answer: Option<&str>) -> Documented {
    Documented {
        request: request.map(doc_json),
        status,
        answer: answer.map(doc),
    }
}

fn check(
    log: &Log,
    (method, path): (Method, String),
    headers: &HeaderMap,
    body: &Bytes,
    documented: Documented,
) -> Response {
    let Documented {
        request: expected,
        status,
        answer,
    } = documented;
    let parsed: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(e) => return (StatusCode::BAD_REQUEST, format!("not JSON: {e}")).into_response(),
        }
    };
    log.lock().unwrap().push(Seen {
        method,
        path,
        body: parsed.clone(),
    });
    if headers.get("api_key").map(|v| v.as_bytes()) != Some(API_KEY.as_bytes()) {
        return (StatusCode::UNAUTHORIZED, r#"{"error":"invalid api_key"}"#).into_response();
    }
    if let Some(expected) = expected {
        if headers.get("content-type").map(|v| v.as_bytes()) != Some(b"application/json") {
            return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "JSON expected").into_response();
        }
        let mut compared = parsed;
        if let Some(map) = compared.as_object_mut() {
            map.remove("signing_key");
        }
        if compared != expected {
            return (
                StatusCode::BAD_REQUEST,
                format!("request differs from the documented example:\n{compared}\nexpected:\n{expected}"),
            )
                .into_response();
        }
    }
    let mut response = match answer {
        Some(body) => ([("content-type", "application/json")], body).into_response(),
        None => ().into_response(),
    };
    *response.status_mut() = status;
    response
}

/// The fake API: the documented routes, each with its documented example.
fn fake_rootfi() -> (String, Log) {
    let log: Log = Arc::default();
    let (l1, l2, l3, l4, l5) = (
        log.clone(),
        log.clone(),
        log.clone(),
        log.clone(),
        log.clone(),
    );
    let app = Router::new()
        .route(
            "/v3/core/webhooks",
            post(move |headers: HeaderMap, body: Bytes| async move {
                let route = (Method::POST, "/v3/core/webhooks".to_owned());
                let doc = documented(
                    Some("v3_create_request.json"),
                    StatusCode::OK,
                    Some("v3_create_response.json"),
                );
                check(&l1, route, &headers, &body, doc)
            }),
        )
        .route(
            "/v3/core/webhooks/{id}",
            put(
                move |Path(id): Path<String>, headers: HeaderMap, body: Bytes| async move {
                    let route = (Method::PUT, format!("/v3/core/webhooks/{id}"));
                    let doc = documented(
                        Some("v3_update_request.json"),
                        StatusCode::OK,
                        Some("v3_update_response.json"),
                    );
                    check(&l2, route, &headers, &body, doc)
                },
            ),
        )
        .route(
            "/v4/core/webhook-config",
            post(move |headers: HeaderMap, body: Bytes| async move {
                let route = (Method::POST, "/v4/core/webhook-config".to_owned());
                let doc = documented(
                    Some("v4_create_request.json"),
                    StatusCode::CREATED,
                    Some("v4_create_response.json"),
                );
                check(&l3, route, &headers, &body, doc)
            }),
        )
        .route(
            "/v4/core/webhook-config/{id}",
            put(
                move |Path(id): Path<u64>, headers: HeaderMap, body: Bytes| async move {
                    let route = (Method::PUT, format!("/v4/core/webhook-config/{id}"));
                    let doc = documented(
                        Some("v4_update_request.json"),
                        StatusCode::OK,
                        Some("v4_update_response.json"),
                    );
                    check(&l4, route, &headers, &body, doc)
                },
            )
            .delete(
                move |Path(id): Path<u64>, headers: HeaderMap, body: Bytes| async move {
                    let route = (Method::DELETE, format!("/v4/core/webhook-config/{id}"));
                    check(
                        &l5,
                        route,
                        &headers,
                        &body,
                        documented(None, StatusCode::NO_CONTENT, None),
                    )
                },
            ),
        );
    (format!("http://{}", serve(app)), log)
}

fn rootfi(base: &str, args: &[&str]) -> std::process::Output {
    ledgerhook()
        .env("ROOTFI_API_KEY", API_KEY)
        .env("V3_TOKEN", "fhsjd")
        .args(["rootfi", "webhooks"])
        .args(args)
        .args(["--base-url", base])
        .output()
        .unwrap()
}

/// The documented v3 example, as command-line arguments.
const V3_EXAMPLE: &[&str] = &[
    "--api",
    "v3",
    "--type",
    "CONNECTION_CHANGED",
    "--name",
    "webhook 1",
    "--url",
    "https://webhook.site/eec24873-a381-4694-b684-a1d77d9e0697",
    "--operation",
    "CREATE",
    "--data-model",
    "ACCOUNTS",
    "--secret-header",
    "api_key=V3_TOKEN",
];

/// The documented v4 create example.
const V4_EXAMPLE: &[&str] = &[
    "--type",
    "CONNECTION_CHANGED",
    "--name",
    "Connection webhook",
    "--url",
    "https://example.com/webhooks/rootfi",
    "--state",
    "enabled",
];

#[test]
fn v3_create_and_update() {
    let (base, log) = fake_rootfi();
    let output = rootfi(&base, &[&["create"], V3_EXAMPLE].concat());
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let shown: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(shown["id"], "THBROZzWGuL3b8qEEdBF");
    assert_eq!(
        shown["headers"]["api_key"], "<redacted>",
        "the token is not printed"
    );

    let output = rootfi(
        &base,
        &[&["update", "THBROZzWGuL3b8qEEdBF"], V3_EXAMPLE].concat(),
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let shown: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        shown["id"], "THBROZzWGuL3b8qEEdBF",
        "unwrapped from {{\"data\": ...}}"
    );

    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].method.clone(), log[0].path.as_str()),
        (Method::POST, "/v3/core/webhooks")
    );
    assert_eq!(log[1].path, "/v3/core/webhooks/THBROZzWGuL3b8qEEdBF");
    assert!(!stdout(&output).contains("fhsjd") && !stderr(&output).contains("fhsjd"));
}

#[test]
fn v4_create_update_delete() {
    let (base, log) = fake_rootfi();
    let output = rootfi(&base, &[&["create"], V4_EXAMPLE].concat());
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let shown: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(shown["config"]["rootfi_id"], 12);
    assert_eq!(shown["config"]["signature_header"], "X-RootFi-Signature");
    assert_eq!(shown["config"]["headers"][0]["value"], "<redacted>");
    assert_eq!(shown["request_id"], "a1b2c3d4-e5f6-7890-abcd-ef1234567890");

    let output = rootfi(
        &base,
        &[
            "update",
            "12",
            "--name",
            "Updated webhook",
            "--url",
            "https://example.com/webhooks/rootfi-v2",
            "--state",
            "disabled",
            "--topic",
            "invoice.create",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let shown: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(shown["config"]["state"], "DISABLED");

    let output = rootfi(&base, &["delete", "12"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout(&output), "deleted webhook config 12\n");

    let log = log.lock().unwrap();
    let calls: Vec<_> = log
        .iter()
        .map(|s| (s.method.as_str().to_owned(), s.path.clone()))
        .collect();
    assert_eq!(
        calls,
        [
            ("POST".to_owned(), "/v4/core/webhook-config".to_owned()),
            ("PUT".to_owned(), "/v4/core/webhook-config/12".to_owned()),
            ("DELETE".to_owned(), "/v4/core/webhook-config/12".to_owned()),
        ]
    );
    assert_eq!(log[2].body, Value::Null, "DELETE sends no body");
}

/// The generated key is sent once, shown once, and the receiver configured with it
/// verifies what RootFi would sign.
#[test]
fn v4_generated_signing_key_is_registered_and_explained() {
    let (base, log) = fake_rootfi();
    let output = rootfi(
        &base,
        &[&["create"], V4_EXAMPLE, &["--generate-signing-key"]].concat(),
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let sent = log.lock().unwrap()[0].body["signing_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(sent.len(), 64, "32 random bytes in hex: {sent}");
    assert!(sent.bytes().all(|b| b.is_ascii_hexdigit()));
    let err = stderr(&output);
    assert!(
        err.contains(&format!("export ROOTFI_WEBHOOK_SECRET={sent}")),
        "{err}"
    );
    assert!(err.contains("`x-rootfi-signature` header"), "{err}");
    assert!(
        !stdout(&output).contains(&sent),
        "the key is not in the JSON output"
    );

    // Two runs never generate the same key.
    let again = rootfi(
        &base,
        &[&["create"], V4_EXAMPLE, &["--generate-signing-key"]].concat(),
    );
    assert_eq!(again.status.code(), Some(0));
    assert_ne!(log.lock().unwrap()[1].body["signing_key"], sent);

    // The printed key is the one the receiver verifies with.
    let verifier = ledgerhook::Verifier::rootfi_v4(&sent).unwrap();
    let body = br#"{"event":"connection.changed","company_id":496}"#;
    let signed = ledgerhook::Verifier::rootfi_v4(&sent)
        .unwrap()
        .sign(body, std::time::SystemTime::now());
    assert_eq!(verifier.verify(&signed, body), Ok(()));
}

#[test]
fn refusals_and_invalid_registrations() {
    let (base, log) = fake_rootfi();
    // INTEGRATION without an integration type: refused before anything is sent.
    let output = rootfi(
        &base,
        &[
            "create",
            "--type",
            "INTEGRATION",
            "--name",
            "n",
            "--url",
            "https://e.com/h",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        stderr(&output).contains("`integration_type` is required"),
        "{output:?}"
    );
    // A v3-only type for v3 is checked against the v3 list.
    let output = rootfi(
        &base,
        &[
            "create",
            "--api",
            "v3",
            "--type",
            "SYNC_STARTED",
            "--name",
            "n",
            "--url",
            "https://e.com/h",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        stderr(&output).contains(
            "`type` does not accept \"SYNC_STARTED\"; documented values: DATA_MODEL_CHANGES, CONNECTION_CHANGED, SYNC_COMPLETED"
        ),
        "{output:?}"
    );
    // Flags of the other version.
    let output = rootfi(
        &base,
        &[&["create"], V4_EXAMPLE, &["--operation", "CREATE"]].concat(),
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    // No v3 delete is documented.
    let output = rootfi(&base, &["delete", "--api", "v3", "THBROZzWGuL3b8qEEdBF"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr(&output).contains("no v3 delete"), "{output:?}");
    assert!(log.lock().unwrap().is_empty(), "nothing was sent");

    // RootFi refuses a wrong api_key: exit 1 with its answer.
    let output = ledgerhook()
        .env("ROOTFI_API_KEY", "wrong")
        .args(["rootfi", "webhooks", "delete", "12", "--base-url", &base])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stderr(&output).contains("RootFi answered 401 Unauthorized"),
        "{output:?}"
    );

    // No api_key at all.
    let output = ledgerhook()
        .args(["rootfi", "webhooks", "delete", "12", "--base-url", &base])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr(&output).contains("$ROOTFI_API_KEY"), "{output:?}");
}
