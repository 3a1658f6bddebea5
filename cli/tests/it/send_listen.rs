//! `send` against a receiver served by the test and against `ledgerhook listen`, all
//! over loopback.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use ledgerhook::Verifier;

use crate::common::{ledgerhook, ledgerhook_std, read_repo_file, repo_file, serve, stderr, stdout};

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver that records what it gets and answers like the example receiver does for a
/// duplicate delivery.
fn recording_receiver(status: StatusCode) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let app = Router::new().route(
        "/hooks/railz",
        post(move |headers: HeaderMap, body: Bytes| async move {
            record.lock().unwrap().push((headers, body));
            (
                status,
                [("x-ledgerhook-duplicate", "true")],
                r#"{"duplicate":true}"#,
            )
        }),
    );
    (format!("http://{}/hooks/railz", serve(app)), seen)
}

#[test]
fn send_signs_posts_and_prints_status_headers_and_body() {
    let (url, seen) = recording_receiver(StatusCode::OK);
    let fixture = repo_file("tests/fixtures/railz_auth.json");
    let output = ledgerhook()
        .env("RAILZ_WEBHOOK_SECRET", "railz_test_secret")
        .args(["send", "railz"])
        .arg(&fixture)
        .args(["--url", &url])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let out = stdout(&output);
    assert!(out.starts_with("HTTP/1.1 200 OK\n"), "{out}");
    assert!(out.contains("\nx-ledgerhook-duplicate: true\n"), "{out}");
    assert!(out.ends_with("\n\n{\"duplicate\":true}\n"), "{out}");

    // What arrived is the fixture byte for byte, signed as Railz signs.
    let seen = seen.lock().unwrap();
    let (headers, body) = &seen[0];
    assert_eq!(&body[..], &std::fs::read(&fixture).unwrap()[..]);
    assert_eq!(headers["content-type"], "application/json");
    let railz = Verifier::railz("railz_test_secret").unwrap();
    assert_eq!(railz.verify(headers, body), Ok(()));
}

#[test]
fn send_exits_1_on_a_refusal_and_3_when_nothing_listens() {
    let (url, _) = recording_receiver(StatusCode::UNAUTHORIZED);
    let fixture = repo_file("tests/fixtures/railz_auth.json");
    let output = ledgerhook()
        .args(["send", "railz"])
        .arg(&fixture)
        .args(["--url", &url])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stdout(&output).starts_with("HTTP/1.1 401 Unauthorized\n"));

    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = ledgerhook()
        .args(["send", "railz"])
        .arg(&fixture)
        .args(["--url", &format!("http://127.0.0.1:{port}/webhooks/railz")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert!(
        stderr(&output).contains("error: POST http://127.0.0.1:"),
        "{output:?}"
    );
}

/// A running `ledgerhook listen`, killed if the test fails before it stops by itself. Its
/// output is drained by a thread, so a full pipe never blocks it.
struct Listener {
    child: Child,
    addr: String,
    output: Option<std::thread::JoinHandle<Vec<String>>>,
}

impl Listener {
    fn start(max_deliveries: u32, env: &[(&str, &str)]) -> Self {
        let mut cmd = ledgerhook_std();
        cmd.args(["listen", "--addr", "127.0.0.1:0", "--max-deliveries"])
            .arg(max_deliveries.to_string())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first
            .strip_prefix("listening on http://")
            .unwrap()
            .to_owned();
        let output = std::thread::spawn(move || lines.map_while(Result::ok).collect());
        Self {
            child,
            addr,
            output: Some(output),
        }
    }

    fn url(&self, route: &str) -> String {
        format!("http://{}/webhooks/{route}", self.addr)
    }

    /// Everything printed after the first line, once the listener stopped by itself after
    /// its last delivery. (The bound only keeps a broken build from hanging CI: the
    /// listener has already received every delivery when this is called.)
    fn finish(mut self) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                let shown = self.output.take().unwrap().join().unwrap().join("\n");
                panic!("listen did not stop after its deliveries:\n{shown}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert!(status.success(), "{status:?}");
        self.output.take().unwrap().join().unwrap().join("\n")
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The development loop: `listen` and `send` agree on the development secrets without any
/// configuration; every refusal is explained.
#[test]
fn listen_verifies_each_delivery_and_explains_refusals() {
    let listener = Listener::start(9, &[]);
    let send = |scheme: &str, fixture: &str, extra: &[&str]| {
        ledgerhook()
            .args(["send", scheme])
            .arg(repo_file(fixture))
            .args(["--url", &listener.url(scheme)])
            .args(extra)
            .output()
            .unwrap()
    };

    let ok = send("railz", "tests/fixtures/railz_auth.json", &[]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert!(
        stdout(&ok).contains(r#"{"event":"auth","known":true,"provider":"railz"}"#),
        "{ok:?}"
    );

    let ok = send(
        "rootfi-v3",
        "tests/fixtures/rootfi_connection_changed_v3.json",
        &[],
    );
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert!(
        stdout(&ok).contains(r#""event":"CONNECTION_CHANGED""#),
        "{ok:?}"
    );

    let forged = send(
        "rootfi",
        "tests/fixtures/rootfi_sync_completed.json",
        &["--secret", "wrong"],
    );
    assert_eq!(forged.status.code(), Some(1), "{forged:?}");
    assert!(stdout(&forged).starts_with("HTTP/1.1 401 Unauthorized"));

    let stale = send(
        "railz",
        "tests/fixtures/railz_auth.json",
        &["--timestamp", "1700000000"],
    );
    assert_eq!(stale.status.code(), Some(1), "{stale:?}");

    let wrong_route = send("stripe", "tests/fixtures/railz_auth.json", &[]);
    assert_eq!(
        wrong_route.status.code(),
        Some(0),
        "stripe is served too: {wrong_route:?}"
    );

    let github = send("github", "tests/fixtures/railz_auth.json", &[]);
    assert_eq!(github.status.code(), Some(0), "{github:?}");

    // Signed with the stripe route's secret, sent to the railz route.
    let swapped = ledgerhook()
        .env("STRIPES_KEY", "ledgerhook-dev-stripe-secret")
        .args(["send", "railz", "--secret-env", "STRIPES_KEY"])
        .arg(repo_file("tests/fixtures/railz_auth.json"))
        .args(["--url", &listener.url("railz")])
        .output()
        .unwrap();
    assert_eq!(swapped.status.code(), Some(1), "{swapped:?}");

    // Genuinely signed, but not an event: the reason says so.
    let not_json = crate::common::body_file(b"not json");
    let garbage = ledgerhook()
        .args(["send", "railz"])
        .arg(not_json.path())
        .args(["--url", &listener.url("railz")])
        .output()
        .unwrap();
    assert_eq!(garbage.status.code(), Some(1), "{garbage:?}");
    assert!(
        stdout(&garbage).starts_with("HTTP/1.1 400 Bad Request"),
        "{garbage:?}"
    );

    let no_route = ledgerhook()
        .args(["send", "railz"])
        .arg(repo_file("tests/fixtures/railz_auth.json"))
        .args(["--url", &listener.url("nowhere")])
        .output()
        .unwrap();
    assert_eq!(no_route.status.code(), Some(1), "{no_route:?}");

    let log = listener.finish();
    assert!(
        log.contains("rejected 400: verified, but the body does not parse"),
        "{log}"
    );
    assert!(log.contains("rejected 404: no such route"), "{log}");
    assert!(
        log.contains("accepted 200: railz event `auth` (known)"),
        "{log}"
    );
    assert!(log.contains("Auth("), "the typed event is printed: {log}");
    assert!(
        log.contains("accepted 200: rootfi-v3 event `CONNECTION_CHANGED` (known)"),
        "{log}"
    );
    assert!(
        log.contains("rejected 401: webhook verification failed: no signature matches (header `x-rootfi-signature`)"),
        "{log}"
    );
    assert!(
        log.contains("timestamp is older than the tolerance"),
        "{log}"
    );
    // The explainer's findings follow each verification failure.
    assert!(
        log.contains("   - genuinely signed, but the timestamp is"),
        "{log}"
    );
    assert!(
        log.contains("   - no known mistake explains it"),
        "the forged one: {log}"
    );
    assert!(
        log.contains("   - the verifier configured as `stripe` accepts it"),
        "{log}"
    );
    assert!(log.contains("accepted 200: github event"), "{log}");
    assert!(
        !log.contains("ledgerhook-dev-"),
        "secrets are never printed: {log}"
    );
}

#[test]
fn listen_reads_secrets_from_the_environment() {
    let listener = Listener::start(2, &[("ROOTFI_WEBHOOK_SECRET", "configured-key")]);
    let fixture = repo_file("tests/fixtures/rootfi_v4_connection_changed.json");
    let dev = ledgerhook()
        .args(["send", "rootfi"])
        .arg(&fixture)
        .args(["--url", &listener.url("rootfi")])
        .output()
        .unwrap();
    assert_eq!(
        dev.status.code(),
        Some(1),
        "the dev secret no longer matches: {dev:?}"
    );
    let configured = ledgerhook()
        .env("ROOTFI_WEBHOOK_SECRET", "configured-key")
        .args(["send", "rootfi"])
        .arg(&fixture)
        .args(["--url", &listener.url("rootfi")])
        .output()
        .unwrap();
    assert_eq!(configured.status.code(), Some(0), "{configured:?}");
    let log = listener.finish();
    assert!(
        log.contains("accepted 200: rootfi event `connection.changed`"),
        "{log}"
    );
}

/// `send`'s defaults are the example receiver's, so the README's loop works against either.
#[test]
fn development_defaults_match_the_example_receiver() {
    let receiver = read_repo_file("examples/receiver.rs");
    for expected in [
        r#"DEV_RAILZ_SECRET: &str = "ledgerhook-dev-railz-secret""#,
        r#"DEV_ROOTFI_SECRET: &str = "ledgerhook-dev-rootfi-secret""#,
        r#"DEV_ROOTFI_V3_TOKEN: &str = "ledgerhook-dev-rootfi-v3-token""#,
        r#"DEFAULT_ROOTFI_V3_HEADER: &str = "api_key""#,
        r#"DEFAULT_ADDR: &str = "127.0.0.1:3000""#,
    ] {
        assert!(
            receiver.contains(expected),
            "examples/receiver.rs lost {expected}"
        );
    }
    let scheme = read_repo_file("cli/src/scheme.rs");
    for expected in [
        r#"Self::Railz => "ledgerhook-dev-railz-secret""#,
        r#"Self::Rootfi => "ledgerhook-dev-rootfi-secret""#,
        r#"Self::RootfiV3 => "ledgerhook-dev-rootfi-v3-token""#,
        r#"DEFAULT_ROOTFI_V3_HEADER: &str = "api_key""#,
        r#"DEFAULT_ADDR: &str = "127.0.0.1:3000""#,
    ] {
        assert!(
            scheme.contains(expected),
            "cli/src/scheme.rs lost {expected}"
        );
    }
}
