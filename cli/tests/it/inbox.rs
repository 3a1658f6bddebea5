//! `ledgerhook inbox …` against a real redis-server (and a real Redis Cluster): each test
//! fills its own namespace through the library (`RedisInbox::append`, `read`,
//! `dead_letter`), runs the binary, and checks its output, its exit code and what it did
//! to the store.
//!
//! Needs `LEDGERHOOK_REDIS_URL` (`eval "$(scripts/redis.sh start)"`) and, for the cluster
//! test, `LEDGERHOOK_REDIS_CLUSTER_URLS` (`scripts/redis-cluster.sh start`); without them
//! each test prints a note and passes. With `LEDGERHOOK_REQUIRE_REDIS=1` (as in
//! `.ci/cli.sh`) a skip fails, and every test that ran prints `ran against Redis: <name>`
//! (or `ran against Redis Cluster: <name>`), which the CI script counts.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use ledgerhook::inbox::{Appended, EnvelopeId, InboxStore, NewEnvelope, RedisInbox};
use serde_json::Value;
use tokio::runtime::Runtime;

use crate::common::{ledgerhook, stderr, stdout};

const SIGNATURE: &str = "t=1700000000,v=not-a-real-signature-but-secret-looking";

fn required() -> bool {
    std::env::var("LEDGERHOOK_REQUIRE_REDIS").is_ok_and(|v| v == "1")
}

fn env(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(
                !required(),
                "LEDGERHOOK_REQUIRE_REDIS=1 but {var} is not set"
            );
            eprintln!("note: {test} skipped: set {var} to run it");
            None
        }
    }
}

/// A namespace no other test (or earlier run) uses.
fn namespace(test: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "cli{}-{nanos}-{}-{test}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A runtime that outlives each `block_on` (the store's connection lives on it).
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// The store and the way to point the binary at it.
struct Fixture {
    rt: Runtime,
    store: RedisInbox,
    ns: String,
    /// `--redis-url URL` or `--cluster URLS`.
    target: Vec<String>,
}

impl Fixture {
    fn single(test: &str) -> Option<Self> {
        let url = env("LEDGERHOOK_REDIS_URL", test)?;
        let ns = namespace(test);
        Some(Self {
            rt: runtime(),
            store: RedisInbox::open(&url, &ns).unwrap(),
            ns,
            target: vec!["--redis-url".into(), url],
        })
    }

    fn cluster(test: &str) -> Option<Self> {
        let urls = env("LEDGERHOOK_REDIS_CLUSTER_URLS", test)?;
        let nodes: Vec<&str> = urls.split(',').collect();
        let ns = namespace(test);
        Some(Self {
            rt: runtime(),
            store: RedisInbox::open_cluster(&nodes, &ns).unwrap(),
            ns,
            target: vec!["--cluster".into(), urls],
        })
    }

    fn append(&self, body: &'static [u8], tag: &str) -> EnvelopeId {
        let envelope = NewEnvelope::new("railz", Bytes::from_static(body))
            .tag(tag)
            .dedup_key(format!("id:{tag}"))
            .header(
                HeaderName::from_static("railz-signature"),
                HeaderValue::from_static(SIGNATURE),
            )
            .header(
                HeaderName::from_static("user-agent"),
                HeaderValue::from_static("Railz-Webhooks/1.0"),
            );
        match self.rt.block_on(self.store.append(&envelope)).unwrap() {
            Appended::Stored(id) => id,
            other => panic!("{other:?}"),
        }
    }

    /// Appends one envelope per body and dead-letters each with `error: <tag>`; returns
    /// the dead letters' ids, oldest first.
    fn dead_letters(&self, bodies: &[(&'static [u8], &str)]) -> Vec<EnvelopeId> {
        for (body, tag) in bodies {
            self.append(body, tag);
        }
        let read = self.rt.block_on(self.store.read("c1", 100)).unwrap();
        assert_eq!(read.len(), bodies.len());
        for envelope in &read {
            let error = format!("handler failed: {}", envelope.tag.as_deref().unwrap());
            assert!(
                self.rt
                    .block_on(self.store.dead_letter("c1", &envelope.id, &error))
                    .unwrap()
            );
        }
        let dead = self
            .rt
            .block_on(self.store.dead_letters(None, 100))
            .unwrap();
        dead.into_iter().map(|e| e.id).collect()
    }

    /// `ledgerhook inbox <args> --namespace NS <target>`.
    fn run(&self, args: &[&str]) -> std::process::Output {
        ledgerhook()
            .env_remove("LEDGERHOOK_REDIS_URL")
            .arg("inbox")
            .args(args)
            .args(["--namespace", &self.ns])
            .args(&self.target)
            .output()
            .unwrap()
    }

    fn stats(&self) -> ledgerhook::inbox::InboxStats {
        self.rt.block_on(self.store.stats()).unwrap()
    }
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| panic!("{e}: {output:?}"))
}

fn check_stats(f: &Fixture) {
    // 4 appended; 2 read by c1; of those one dead-lettered, one scheduled for a retry in
    // an hour; 1 more read and left pending. Left: 2 in the stream (1 ready, 1 pending).
    for tag in ["a", "b", "c", "d"] {
        f.append(b"{}", tag);
    }
    let first = f.rt.block_on(f.store.read("c1", 2)).unwrap();
    f.rt.block_on(f.store.dead_letter("c1", &first[0].id, "boom"))
        .unwrap();
    f.rt.block_on(
        f.store
            .retry_later("c1", &first[1].id, Duration::from_secs(3600), "later"),
    )
    .unwrap();
    f.rt.block_on(f.store.read("c1", 1)).unwrap();

    let output = f.run(&["stats", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let shown = json(&output);
    let row = &shown["namespaces"][0];
    assert_eq!(row["namespace"], f.ns.as_str(), "{shown}");
    assert_eq!(row["depth"], 2, "{shown}");
    assert_eq!(row["pending"], 1, "{shown}");
    assert_eq!(row["scheduled_retries"], 1, "{shown}");
    assert_eq!(row["dead_letters"], 1, "{shown}");
    assert!(row["oldest_age_ms"].is_u64(), "{shown}");
    // Pending is per consumer group: another group holds nothing.
    let shown = json(&f.run(&["stats", "--json", "--group", "auditors"]));
    assert_eq!(shown["namespaces"][0]["pending"], 0, "{shown}");
    assert_eq!(shown["namespaces"][0]["depth"], 2, "{shown}");

    let output = f.run(&["stats"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("NAMESPACE")
            && header.ends_with("DEPTH   PENDING    RETRIES  DEAD LETTERS  OLDEST"),
        "{text}"
    );
    let cells: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(&cells[..5], [f.ns.as_str(), "2", "1", "1", "1"], "{text}");
}

fn check_list_and_show(f: &Fixture) {
    let ids = f.dead_letters(&[
        (br#"{"n":1}"#, "first"),
        (br#"{"n":2}"#, "second"),
        (b"\xff\x00not utf-8", "third"),
    ]);

    // Page 1 of 2, then page 2 from the printed cursor.
    let output = f.run(&["dlq", "list", "--limit", "2"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("ID "), "{text}");
    assert!(lines[1].starts_with(ids[0].as_str()), "{text}");
    assert!(lines[1].contains(" GMT "), "{text}");
    assert!(lines[1].ends_with("handler failed: first"), "{text}");
    assert!(lines[2].contains("second"), "{text}");
    assert!(
        lines[3].ends_with(&format!("--limit 2 --after {}", ids[1])),
        "{text}"
    );
    let output = f.run(&["dlq", "list", "--limit", "2", "--after", ids[1].as_str()]);
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("third") && !text.contains("more:"), "{text}");

    let output = f.run(&["dlq", "list", "--json", "--limit", "2"]);
    let shown = json(&output);
    assert_eq!(shown["next_after"], ids[1].as_str(), "{shown}");
    let letters = shown["dead_letters"].as_array().unwrap();
    assert_eq!(letters.len(), 2, "{shown}");
    assert_eq!(letters[0]["id"], ids[0].as_str());
    assert_eq!(letters[0]["tag"], "first");
    assert_eq!(letters[0]["dedup_key"], "id:first");
    assert_eq!(letters[0]["attempts"], 1);
    assert_eq!(letters[0]["last_error"], "handler failed: first");
    let output = f.run(&["dlq", "list", "--json", "--after", ids[2].as_str()]);
    let shown = json(&output);
    assert_eq!(shown["dead_letters"], Value::Array(vec![]), "{shown}");
    assert_eq!(shown["next_after"], Value::Null, "{shown}");

    // One dead letter: metadata, the body, headers with the signature redacted.
    let output = f.run(&["dlq", "show", ids[0].as_str()]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    for expected in [
        format!("id:          {}\n", ids[0]),
        "provider:    railz\n".to_owned(),
        "tag:         first\n".to_owned(),
        "dedup key:   id:first\n".to_owned(),
        "attempts:    1\n".to_owned(),
        "last error:  handler failed: first\n".to_owned(),
        format!("  railz-signature: <redacted, {} bytes>\n", SIGNATURE.len()),
        "  user-agent: Railz-Webhooks/1.0\n".to_owned(),
        "body (7 bytes):\n{\"n\":1}\n".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in\n{text}");
    }
    assert!(!text.contains("not-a-real-signature"), "{text}");

    let output = f.run(&["dlq", "show", ids[0].as_str(), "--redact", "User-Agent"]);
    let text = stdout(&output);
    assert!(
        text.contains("  user-agent: <redacted, 18 bytes>\n"),
        "{text}"
    );
    assert!(!text.contains("Railz-Webhooks"), "{text}");

    let output = f.run(&["dlq", "show", ids[2].as_str(), "--json"]);
    let shown = json(&output);
    assert_eq!(shown["body_base64"], "/wBub3QgdXRmLTg=", "{shown}");
    assert_eq!(shown["body"], Value::Null, "{shown}");
    assert_eq!(shown["namespace"], f.ns.as_str());
    assert_eq!(
        shown["headers"][0],
        serde_json::json!({"name": "railz-signature", "value": null, "redacted": true})
    );
    assert_eq!(
        shown["headers"][1],
        serde_json::json!({"name": "user-agent", "value": "Railz-Webhooks/1.0", "redacted": false})
    );
    assert!(!stdout(&output).contains("not-a-real-signature"));

    // Not there: exit 1, nothing on stdout.
    let output = f.run(&["dlq", "show", "1-0"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!("error: no dead letter 1-0 in namespace {}\n", f.ns)
    );
}

fn check_replay(f: &Fixture) {
    let ids = f.dead_letters(&[
        (br#"{"n":1}"#, "one"),
        (br#"{"n":2}"#, "two"),
        (br#"{"n":3}"#, "three"),
        (br#"{"n":4}"#, "four"),
    ]);
    assert_eq!((f.stats().depth, f.stats().dead_letters), (0, 4));

    // One id: requeued, readable again with its attempts reset.
    let output = f.run(&["dlq", "replay", ids[0].as_str()]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    let stats = f.stats();
    assert_eq!((stats.depth, stats.dead_letters), (1, 3), "{text}");
    let again = f.rt.block_on(f.store.read("c2", 10)).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        text,
        format!(
            "requeued {} as {}\n1 dead letter requeued in namespace {}\n",
            ids[0], again[0].id, f.ns
        )
    );
    assert_eq!(&again[0].body[..], br#"{"n":1}"#);
    assert_eq!(again[0].tag.as_deref(), Some("one"));
    assert_eq!(again[0].attempts, 0);
    assert!(f.rt.block_on(f.store.ack("c2", &again[0].id)).unwrap());

    // The same id again, beside one that is there: that one is requeued, exit 1.
    let output = f.run(&["dlq", "replay", ids[0].as_str(), ids[1].as_str()]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stdout(&output).starts_with(&format!("requeued {} as ", ids[1])),
        "{output:?}"
    );
    assert_eq!(
        stderr(&output),
        format!("error: no dead letter {} in namespace {}\n", ids[0], f.ns)
    );
    assert_eq!(f.stats().dead_letters, 2);

    // All the rest, as JSON.
    let output = f.run(&["dlq", "replay", "--all", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let shown = json(&output);
    let requeued = shown["requeued"].as_array().unwrap();
    let old: Vec<&str> = requeued.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(old, [ids[2].as_str(), ids[3].as_str()], "{shown}");
    assert_eq!(shown["not_found"], Value::Array(vec![]));
    let stats = f.stats();
    assert_eq!((stats.depth, stats.dead_letters), (3, 0));
    let mut bodies: Vec<Vec<u8>> =
        f.rt.block_on(f.store.read("c2", 10))
            .unwrap()
            .iter()
            .map(|e| e.body.to_vec())
            .collect();
    bodies.sort();
    assert_eq!(
        bodies,
        [&br#"{"n":2}"#[..], br#"{"n":3}"#, br#"{"n":4}"#].map(<[u8]>::to_vec)
    );

    // Nothing left: --all is a no-op, an id is not found.
    let output = f.run(&["dlq", "replay", "--all"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        stdout(&output),
        format!("0 dead letters requeued in namespace {}\n", f.ns)
    );
    let output = f.run(&["dlq", "replay", ids[3].as_str()]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
}

#[test]
fn inbox_stats_against_redis() {
    let Some(f) = Fixture::single("stats") else {
        return;
    };
    check_stats(&f);
    println!("ran against Redis: inbox_stats");
}

#[test]
fn inbox_dlq_list_and_show_against_redis() {
    let Some(f) = Fixture::single("list_show") else {
        return;
    };
    check_list_and_show(&f);
    println!("ran against Redis: inbox_dlq_list_and_show");
}

#[test]
fn inbox_dlq_replay_against_redis() {
    let Some(f) = Fixture::single("replay") else {
        return;
    };
    check_replay(&f);
    println!("ran against Redis: inbox_dlq_replay");
}

#[test]
fn inbox_url_from_the_environment_and_receiver_namespaces_by_default() {
    let Some(url) = env("LEDGERHOOK_REDIS_URL", "environment") else {
        return;
    };
    // A key prefix of its own, so the receiver's namespaces are empty here.
    let prefix = format!("{}:", namespace("env"));
    let output = ledgerhook()
        .env("LEDGERHOOK_REDIS_URL", &url)
        .args(["inbox", "stats", "--json", "--key-prefix", &prefix])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let shown = json(&output);
    let names: Vec<&str> = shown["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["railz", "rootfi", "rootfi-v3"], "{shown}");
    assert_eq!(shown["namespaces"][0]["depth"], 0);
    assert_eq!(shown["namespaces"][0]["oldest_age_ms"], Value::Null);
    println!("ran against Redis: inbox_url_from_the_environment");
}

#[test]
fn inbox_commands_against_a_redis_cluster() {
    let Some(f) = Fixture::cluster("cluster") else {
        return;
    };
    check_stats(&f);
    let f = Fixture::cluster("cluster_list").unwrap();
    check_list_and_show(&f);
    let f = Fixture::cluster("cluster_replay").unwrap();
    check_replay(&f);
    println!("ran against Redis Cluster: inbox_commands");
}

#[test]
fn inbox_without_a_redis_url_is_a_usage_error() {
    let output = ledgerhook()
        .env_remove("LEDGERHOOK_REDIS_URL")
        .args(["inbox", "stats"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_eq!(
        stderr(&output),
        "error: no Redis to talk to: set LEDGERHOOK_REDIS_URL, or pass --redis-url URL or --cluster URLS\n"
    );
    // An empty variable is no URL either.
    ledgerhook()
        .env("LEDGERHOOK_REDIS_URL", "")
        .args(["inbox", "dlq", "list", "--namespace", "railz"])
        .assert()
        .code(2);
}

#[test]
fn inbox_bad_arguments_are_usage_errors() {
    for args in [
        &["inbox", "dlq", "show", "not-an-id", "--namespace", "railz"][..],
        &[
            "inbox",
            "dlq",
            "list",
            "--namespace",
            "railz",
            "--after",
            "x",
        ],
        &[
            "inbox",
            "dlq",
            "list",
            "--namespace",
            "railz",
            "--limit",
            "0",
        ],
        &["inbox", "dlq", "list"],
        &["inbox", "dlq", "replay", "--namespace", "railz"],
        &[
            "inbox",
            "dlq",
            "replay",
            "1-0",
            "--all",
            "--namespace",
            "railz",
        ],
        &[
            "inbox",
            "stats",
            "--redis-url",
            "redis://x/",
            "--cluster",
            "redis://y/",
        ],
    ] {
        let output = ledgerhook()
            .env("LEDGERHOOK_REDIS_URL", "redis://127.0.0.1:1/")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    }
    // Not a Redis URL, a namespace the key layout cannot hold: configuration errors.
    for (url, ns) in [
        ("http://example.com/", "railz"),
        ("redis://127.0.0.1:1/", "a{b"),
    ] {
        let output = ledgerhook()
            .args([
                "inbox",
                "dlq",
                "list",
                "--namespace",
                ns,
                "--redis-url",
                url,
            ])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{url} {ns}: {output:?}");
        assert!(stderr(&output).starts_with("error: invalid "), "{output:?}");
    }
}

#[test]
fn inbox_unreachable_store_is_exit_3_without_the_password() {
    for args in [
        &["inbox", "stats"][..],
        &["inbox", "dlq", "list", "--namespace", "railz"],
        &["inbox", "dlq", "show", "1-0", "--namespace", "railz"],
        &["inbox", "dlq", "replay", "--all", "--namespace", "railz"],
    ] {
        let output = ledgerhook()
            .args(args)
            .args(["--redis-url", "redis://:hunter2@127.0.0.1:1/"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3), "{args:?}: {output:?}");
        let err = stderr(&output);
        assert!(err.contains("store_unavailable"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        // The password in a flag is warned about.
        assert!(
            err.starts_with("warning: the password in --redis-url"),
            "{err}"
        );
    }
}
