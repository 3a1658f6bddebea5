//! Reliability run of the inbox (opt-in, bounded, loopback only): a receiver
//! (verifying layer + `InboxService` on Redis) takes mixed deliveries at high
//! concurrency while two worker *processes* (this test binary re-run in the worker role)
//! process them with a handler that fails for a while; one worker is killed with SIGKILL
//! mid-run and started again, and redis-server is restarted mid-run. Counted from the
//! workers' own records: every valid unique event reaches a successful handler run, none
//! is lost, repeats are counted, permanent failures end in the dead letters and succeed
//! after replay.
//!
//! Run by `scripts/inbox-reliability.sh`; needs `LEDGERHOOK_INBOX_RELIABILITY=1`,
//! `LEDGERHOOK_REDIS_URL` and `LEDGERHOOK_REDIS_DIR` (from `scripts/redis.sh start`).
//! Sizes: `INBOX_RELIABILITY_DELIVERIES` (default 10,000), `INBOX_RELIABILITY_CONCURRENCY`
//! (64), `INBOX_RELIABILITY_FAIL_SECS` (how long the handler fails, default 15),
//! `INBOX_RELIABILITY_DEADLINE_SECS` (600).
#![cfg(all(feature = "inbox-redis", feature = "axum"))]

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ledgerhook::idempotency::KeySource;
use ledgerhook::inbox::{
    Backoff, InboxService, InboxStore, Job, Permanent, RedisInbox, Worker, from_service,
};
use ledgerhook::{Verifier, VerifyWebhookLayer, railz};
use tower::BoxError;

const SECRET: &str = "inbox-reliability-secret";
const ROLE: &str = "INBOX_RELIABILITY_ROLE";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The delivery classes, by index: ~1% permanent failures, ~10% sent twice (the
/// provider retrying), ~3% forged (wrong signature), the rest unique valid events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Class {
    Valid,
    Duplicated,
    Permanent,
    Forged,
}

fn class_of(i: u64) -> Class {
    match i % 100 {
        0 => Class::Permanent,
        1..=10 => Class::Duplicated,
        11..=13 => Class::Forged,
        _ => Class::Valid,
    }
}

fn body_of(run: &str, i: u64) -> Vec<u8> {
    let prefix = if class_of(i) == Class::Permanent {
        "perm"
    } else {
        "ok"
    };
    format!(
        r#"{{"data":{{"event":"auth","connectionId":"CON-{i}","serviceName":"xero"}},"requestId":"{prefix}-{run}-{i}"}}"#
    )
    .into_bytes()
}

// ------------------------------------------------------------------ worker role

/// The worker process: runs until the stop file exists; appends `<requestId>\n` to its
/// records file after every successful handler run (flushed before the ack).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_reliability_worker_process() {
    if std::env::var(ROLE).as_deref() != Ok("worker") {
        return; // Only in the worker role, started by the run below.
    }
    let var = |n: &str| std::env::var(n).unwrap_or_else(|_| panic!("{n} not set"));
    let (url, ns, name) = (
        var("LEDGERHOOK_REDIS_URL"),
        var("INBOX_NS"),
        var("INBOX_WORKER"),
    );
    let records = PathBuf::from(var("INBOX_RECORDS"));
    let stop = PathBuf::from(var("INBOX_STOP"));
    let fixed = PathBuf::from(var("INBOX_FIXED"));
    let fail_until: u64 = var("INBOX_FAIL_UNTIL_MS").parse().unwrap();
    let file = Arc::new(std::sync::Mutex::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&records)
            .unwrap(),
    ));
    // A tower service, to see the envelope: the dedup key is `id:<requestId>:<event>`.
    let handler = tower::service_fn(move |job: Job<railz::Event>| {
        let file = Arc::clone(&file);
        let fixed = fixed.clone();
        async move {
            let id = job
                .envelope
                .dedup_key
                .as_deref()
                .and_then(|k| k.strip_prefix("id:"))
                .and_then(|k| k.strip_suffix(":auth"))
                .unwrap_or_default()
                .to_owned();
            if !matches!(job.event, railz::Event::Auth(_)) {
                return Err::<(), BoxError>(Permanent::new("unexpected event").into());
            }
            if now_ms() < fail_until {
                return Err("downstream database unavailable".into());
            }
            if id.starts_with("perm-") && !fixed.exists() {
                return Err(Permanent::new("rejected by the ledger").into());
            }
            let mut f = file.lock().unwrap();
            writeln!(f, "{id}")
                .and_then(|()| f.flush())
                .map_err(BoxError::from)
        }
    });
    let store = RedisInbox::open(&url, &ns).unwrap();
    let report = Worker::<railz::Event>::new(store, from_service(handler))
        .consumer(name)
        .concurrency(32)
        .max_attempts(1000)
        .backoff(Backoff::new(
            Duration::from_millis(200),
            Duration::from_secs(3),
        ))
        .visibility_timeout(Duration::from_secs(5))
        .handler_timeout(Duration::from_secs(2))
        .poll_interval(Duration::from_millis(20))
        .run(async move {
            while !stop.exists() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
    println!("worker report: {report:?}");
}

// ------------------------------------------------------------------ the run

struct Workers {
    exe: PathBuf,
    env: Vec<(String, String)>,
    dir: PathBuf,
    children: HashMap<String, Child>,
}

impl Workers {
    fn start(&mut self, name: &str) {
        let child = Command::new(&self.exe)
            .args([
                "inbox_reliability::inbox_reliability_worker_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(ROLE, "worker")
            .env("INBOX_WORKER", name)
            .env("INBOX_RECORDS", self.dir.join(format!("{name}.records")))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start worker process");
        self.children.insert(name.to_owned(), child);
    }

    fn kill(&mut self, name: &str) {
        if let Some(mut child) = self.children.remove(name) {
            child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
            let _ = child.wait();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        let _ = std::fs::write(self.dir.join("stop"), b"");
        for (_, mut child) in self.children.drain() {
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn wait_drained(store: &RedisInbox, deadline: Instant) -> bool {
    while Instant::now() < deadline {
        if let Ok(s) = store.stats().await
            && s.depth == 0
            && s.scheduled_retries == 0
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

fn read_records(dir: &Path) -> HashMap<String, u64> {
    let mut runs = HashMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().extension().is_some_and(|e| e == "records") {
            for line in std::fs::read_to_string(entry.path()).unwrap().lines() {
                *runs.entry(line.to_owned()).or_default() += 1;
            }
        }
    }
    runs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inbox_reliability_run() {
    if std::env::var("LEDGERHOOK_INBOX_RELIABILITY").as_deref() != Ok("1")
        || std::env::var(ROLE).is_ok()
    {
        eprintln!("note: inbox reliability run skipped (scripts/inbox-reliability.sh runs it)");
        return;
    }
    let url = std::env::var("LEDGERHOOK_REDIS_URL").expect("LEDGERHOOK_REDIS_URL");
    let redis_dir = std::env::var("LEDGERHOOK_REDIS_DIR").expect("LEDGERHOOK_REDIS_DIR");
    let n = env_u64("INBOX_RELIABILITY_DELIVERIES", 10_000);
    let concurrency = env_u64("INBOX_RELIABILITY_CONCURRENCY", 64) as usize;
    let fail_secs = env_u64("INBOX_RELIABILITY_FAIL_SECS", 15);
    let deadline =
        Instant::now() + Duration::from_secs(env_u64("INBOX_RELIABILITY_DEADLINE_SECS", 600));
    let run = format!("{}-{}", std::process::id(), now_ms());
    let ns = format!("reliability-{run}");
    let dir = std::env::temp_dir().join(format!("ledgerhook-inbox-reliability-{run}"));
    std::fs::create_dir_all(&dir).unwrap();
    let started = Instant::now();

    // The receiver, on loopback.
    let store = RedisInbox::open(&url, &ns).unwrap();
    let app = axum::Router::new().route(
        "/webhooks/railz",
        axum::routing::post_service(
            InboxService::new("railz", store.clone()).key(KeySource::railz()),
        )
        .layer(VerifyWebhookLayer::railz(SECRET).unwrap()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    // Two worker processes; the handler fails until `fail_until`.
    let fail_until = now_ms() + fail_secs * 1000;
    let mut workers = Workers {
        exe: std::env::current_exe().unwrap(),
        env: vec![
            ("LEDGERHOOK_REDIS_URL".into(), url.clone()),
            ("INBOX_NS".into(), ns.clone()),
            ("INBOX_STOP".into(), dir.join("stop").display().to_string()),
            (
                "INBOX_FIXED".into(),
                dir.join("fixed").display().to_string(),
            ),
            ("INBOX_FAIL_UNTIL_MS".into(), fail_until.to_string()),
        ],
        dir: dir.clone(),
        children: HashMap::new(),
    };
    workers.start("w1");
    workers.start("w2");

    // The sender: like a provider, retries a delivery until it gets a 2xx (a 401 for
    // forged ones is final).
    let verifier = Verifier::railz(SECRET).unwrap();
    let forger = Verifier::railz("not-the-secret").unwrap();
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let next = Arc::new(AtomicUsize::new(0));
    let sends = Arc::new(AtomicU64::new(0));
    let answered_503 = Arc::new(AtomicU64::new(0));
    let conn_errors = Arc::new(AtomicU64::new(0));
    let duplicates_answered = Arc::new(AtomicU64::new(0));
    let forged_refused = Arc::new(AtomicU64::new(0));
    let total = n as usize;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, verifier, forger, next, run) = (
            client.clone(),
            verifier.clone(),
            forger.clone(),
            Arc::clone(&next),
            run.clone(),
        );
        let (sends, answered_503, conn_errors, duplicates_answered, forged_refused) = (
            Arc::clone(&sends),
            Arc::clone(&answered_503),
            Arc::clone(&conn_errors),
            Arc::clone(&duplicates_answered),
            Arc::clone(&forged_refused),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                let i = i as u64;
                let body = body_of(&run, i);
                let times = if class_of(i) == Class::Duplicated {
                    2
                } else {
                    1
                };
                for _ in 0..times {
                    loop {
                        let signer = if class_of(i) == Class::Forged {
                            &forger
                        } else {
                            &verifier
                        };
                        let mut req = Request::post(format!("http://{addr}/webhooks/railz"))
                            .body(Full::new(Bytes::from(body.clone())))
                            .unwrap();
                        *req.headers_mut() = signer.sign(&body, SystemTime::now());
                        sends.fetch_add(1, Ordering::Relaxed);
                        match client.request(req).await {
                            Ok(res) if res.status().is_success() => {
                                if res.headers().contains_key("x-ledgerhook-duplicate") {
                                    duplicates_answered.fetch_add(1, Ordering::Relaxed);
                                }
                                break;
                            }
                            Ok(res) if res.status() == StatusCode::UNAUTHORIZED => {
                                assert_eq!(class_of(i), Class::Forged, "valid delivery refused");
                                forged_refused.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            Ok(res) => {
                                assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
                                answered_503.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(_) => {
                                conn_errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }));
    }

    // Mid-run faults: restart redis-server half-way through sending; SIGKILL one worker
    // (and start a replacement) once it is processing successfully.
    while next.load(Ordering::Relaxed) < total / 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let restart_at = started.elapsed();
    let restart = Command::new("bash")
        .args(["scripts/redis.sh", "restart", &redis_dir])
        .status()
        .expect("run scripts/redis.sh restart");
    assert!(restart.success(), "redis restart failed");
    let restart_took = started.elapsed() - restart_at;
    for t in tasks {
        t.await.expect("sender task");
    }
    let sent_at = started.elapsed();
    let w1_records = dir.join("w1.records");
    let lines = |p: &Path| std::fs::read_to_string(p).map_or(0, |t| t.lines().count());
    while lines(&w1_records) < 50 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed_at = started.elapsed();
    let w1_runs_before_kill = lines(&w1_records);
    workers.kill("w1");
    workers.start("w1b");

    assert!(
        wait_drained(&store, deadline).await,
        "inbox did not drain before the deadline"
    );
    let drained_at = started.elapsed();
    let dead_before = store.stats().await.unwrap().dead_letters;

    // Replay: the ledger is fixed, every dead letter is requeued.
    std::fs::write(dir.join("fixed"), b"").unwrap();
    let mut requeued = 0u64;
    loop {
        let page = store.dead_letters(None, 500).await.unwrap();
        if page.is_empty() {
            break;
        }
        for e in page {
            if store.requeue(&e.id).await.unwrap().is_some() {
                requeued += 1;
            }
        }
    }
    assert!(wait_drained(&store, deadline).await, "replay did not drain");
    let dead_after = store.stats().await.unwrap().dead_letters;
    drop(workers); // stop file, then wait for the workers to exit
    let runs = read_records(&dir);

    // Count, by class, from the workers' records.
    let mut expected: HashSet<String> = HashSet::new();
    let mut by_class: HashMap<Class, u64> = HashMap::new();
    for i in 0..n {
        *by_class.entry(class_of(i)).or_default() += 1;
        let id = String::from_utf8(body_of(&run, i)).unwrap();
        let id = id
            .split("\"requestId\":\"")
            .nth(1)
            .unwrap()
            .trim_end_matches("\"}")
            .to_owned();
        if class_of(i) != Class::Forged {
            expected.insert(id);
        }
    }
    let missing: Vec<_> = expected
        .iter()
        .filter(|id| !runs.contains_key(*id))
        .collect();
    let unexpected: Vec<_> = runs.keys().filter(|id| !expected.contains(*id)).collect();
    let repeated: u64 = runs.values().map(|c| c.saturating_sub(1)).sum();
    let handler_runs: u64 = runs.values().sum();
    let permanent = by_class.get(&Class::Permanent).copied().unwrap_or(0);

    println!(
        "inbox reliability: {n} deliveries at concurrency {concurrency}, handler failing for the first {fail_secs} s"
    );
    println!(
        "  classes: valid {} duplicated(sent twice) {} permanent {} forged {}",
        by_class.get(&Class::Valid).copied().unwrap_or(0),
        by_class.get(&Class::Duplicated).copied().unwrap_or(0),
        permanent,
        by_class.get(&Class::Forged).copied().unwrap_or(0),
    );
    println!(
        "  requests sent {} (503 answered {}, connection errors {}), duplicates answered {}, forged refused {}",
        sends.load(Ordering::Relaxed),
        answered_503.load(Ordering::Relaxed),
        conn_errors.load(Ordering::Relaxed),
        duplicates_answered.load(Ordering::Relaxed),
        forged_refused.load(Ordering::Relaxed)
    );
    println!(
        "  redis-server restart at {restart_at:.1?} (took {restart_took:.1?}); all sent at {sent_at:.1?}; SIGKILL of w1 at {killed_at:.1?} after {w1_runs_before_kill} successful runs (w1b started); drained at {drained_at:.1?}"
    );
    println!(
        "  unique events expected {}, with a successful run {}, missing {}, unexpected {}",
        expected.len(),
        expected.len() - missing.len(),
        missing.len(),
        unexpected.len()
    );
    println!(
        "  successful handler runs {handler_runs}, repeats {repeated} (at-least-once: runs whose ack was lost to the SIGKILL or the restart)"
    );
    println!(
        "  dead letters before replay {dead_before}, requeued {requeued}, after replay {dead_after}"
    );
    assert!(
        missing.is_empty(),
        "lost events: {:?}",
        &missing[..missing.len().min(10)]
    );
    assert!(
        unexpected.is_empty(),
        "forged or unknown events ran: {unexpected:?}"
    );
    assert_eq!(
        dead_before, permanent,
        "exactly the permanent failures are dead letters"
    );
    assert_eq!(dead_after, 0);
    assert_eq!(
        forged_refused.load(Ordering::Relaxed),
        by_class.get(&Class::Forged).copied().unwrap_or(0)
    );
    let _ = std::fs::remove_dir_all(&dir);
    println!("inbox reliability run passed");
}
