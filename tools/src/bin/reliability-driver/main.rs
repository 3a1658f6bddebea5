//! Drives the test receiver (`test-receiver`, this crate) with a known mix of deliveries
//! and checks, from the receiver's own records (`GET /stats`), that each valid event was
//! handled exactly once.
//!
//! Run by `scripts/reliability.sh`, which starts the receiver and reports its peak memory.
//! By hand:
//!
//! ```text
//! cargo run --release -p ledgerhook-tools --bin reliability-driver -- --url http://127.0.0.1:3000 \
//!     [--requests 100000] [--concurrency 64] [--deadline-secs 900] [--restart-cmd CMD]
//! cargo run --release -p ledgerhook-tools --bin reliability-driver -- --url http://127.0.0.1:3000 \
//!     --collisions [--digest-window-ms MS]
//! ```
//!
//! `--collisions` runs the collision cases instead of the mix (see `collisions.rs`).
//!
//! Classes (shares of `--requests`): valid unique events (the rest), exact duplicates of
//! them (20 %), forged signatures (7 %: wrong secret, body altered after signing, no
//! signature), stale timestamps (7 %), malformed bodies (5 %: not JSON, or JSON of the
//! wrong shape), slow valid bodies (2 %, four chunks 50 ms apart), oversized bodies
//! (0.5 %, over the 256 KiB Railz limit, half with `Content-Length`, half chunked), and 8 bodies
//! that stall past the receiver's 10 s body deadline.
//!
//! Like a provider, the driver retries valid events and duplicates on `409`, `5xx`, `408`
//! and connection errors (same bytes, same signature) until they get a `2xx`. Every other
//! class is sent once and must be refused with a `4xx`.
//!
//! `--restart-cmd` runs once (with `sh -c`) when half the requests have been issued, e.g.
//! to restart redis-server; answers received meanwhile are counted separately.
//!
//! Loopback only: the URL must point at 127.0.0.0/8 or `localhost`. Exits with 1 if any
//! check fails.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use ledgerhook_tools::{Stats, loopback_host, railz_secret, railz_signature};

mod collisions;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type HttpClient = Client<HttpConnector, BoxBody<Bytes, Infallible>>;

/// The receiver's Railz body limit (the layer's Railz default) and body deadline.
const BODY_LIMIT: u64 = 256 * 1024;
const SLOW_TIMEOUT_COUNT: usize = 8;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_ATTEMPTS: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Class {
    Valid,
    Duplicate,
    Slow,
    Forged,
    Stale,
    Malformed,
    Oversized,
    SlowTimeout,
}

impl Class {
    const ALL: [Self; 8] = [
        Self::Valid,
        Self::Duplicate,
        Self::Slow,
        Self::Forged,
        Self::Stale,
        Self::Malformed,
        Self::Oversized,
        Self::SlowTimeout,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Duplicate => "duplicate",
            Self::Slow => "slow",
            Self::Forged => "forged",
            Self::Stale => "stale",
            Self::Malformed => "malformed",
            Self::Oversized => "oversized",
            Self::SlowTimeout => "slowtimeout",
        }
    }

    /// Valid events and their duplicates are retried until accepted; the rest must end
    /// refused with a 4xx (they are retried only when answered 503, as by a provider).
    fn must_succeed(self) -> bool {
        matches!(self, Self::Valid | Self::Duplicate | Self::Slow)
    }
}

struct Args {
    url: String,
    requests: usize,
    concurrency: usize,
    deadline: Duration,
    restart_cmd: Option<String>,
    secret: String,
    collisions: bool,
    digest_window: Option<Duration>,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        url: String::new(),
        requests: 100_000,
        concurrency: 64,
        deadline: Duration::from_secs(900),
        restart_cmd: None,
        secret: railz_secret(),
        collisions: false,
        digest_window: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value()?.trim_end_matches('/').to_owned(),
            "--requests" => args.requests = value()?.parse()?,
            "--concurrency" => args.concurrency = value()?.parse()?,
            "--deadline-secs" => args.deadline = Duration::from_secs(value()?.parse()?),
            "--restart-cmd" => args.restart_cmd = Some(value()?),
            "--collisions" => args.collisions = true,
            "--digest-window-ms" => {
                args.digest_window = Some(Duration::from_millis(value()?.parse()?));
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    loopback_host(&args.url).map_err(|e| format!("--url: {e}"))?;
    if args.requests < 100 || args.concurrency == 0 {
        return Err("--requests must be >= 100 and --concurrency >= 1".into());
    }
    Ok(args)
}

/// xorshift64*: a fixed, seeded order so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
}

/// One valid event: its bytes, and the signature of its first delivery (reused verbatim by
/// retries and duplicates, as an exact redelivery).
struct Event {
    id: String,
    body: Bytes,
    slow: bool,
    signature: OnceLock<HeaderValue>,
}

#[derive(Clone, Copy)]
struct Job {
    class: Class,
    /// Index into the events for valid, slow and duplicate jobs; a serial number otherwise.
    n: usize,
}

fn railz_body(id: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"data":{{"event":"auth","connectionId":"CON-{id}","businessName":"BIZ-reliability","serviceName":"quickbooks"}},"requestId":"{id}"}}"#
    ))
}

/// A body sent in chunks with pauses between them.
struct Paced {
    chunks: VecDeque<Bytes>,
    gap: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    len: u64,
}

impl Paced {
    fn new(body: &Bytes, pieces: usize, gap: Duration) -> Self {
        let step = body.len().div_ceil(pieces).max(1);
        let chunks = (0..body.len())
            .step_by(step)
            .map(|start| body.slice(start..(start + step).min(body.len())))
            .collect();
        Self {
            chunks,
            gap,
            sleep: None,
            len: body.len() as u64,
        }
    }
}

impl Body for Paced {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(sleep) = this.sleep.as_mut() {
            ready!(sleep.as_mut().poll(cx));
            this.sleep = None;
        }
        match this.chunks.pop_front() {
            Some(chunk) => {
                if !this.chunks.is_empty() {
                    this.sleep = Some(Box::pin(tokio::time::sleep(this.gap)));
                }
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

/// A large body generated on the fly (never held in memory).
struct Filler {
    remaining: u64,
    exact: bool,
}

static FILL: [u8; 64 * 1024] = [b' '; 64 * 1024];

impl Body for Filler {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let n = self.remaining.min(FILL.len() as u64);
        self.remaining -= n;
        let n = usize::try_from(n).unwrap_or(FILL.len());
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&FILL[..n])))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        if self.exact {
            SizeHint::with_exact(self.remaining)
        } else {
            SizeHint::default()
        }
    }
}

/// Shared state of the run.
struct Run {
    args: Args,
    client: HttpClient,
    events: Vec<Event>,
    jobs: Vec<Job>,
    next: AtomicUsize,
    started: Instant,
    restart: Mutex<Option<(Instant, Option<Instant>, String)>>,
    restart_fired: AtomicBool,
    /// Answers per second of the run: (all, 503, connection errors).
    timeline: Vec<[AtomicU64; 3]>,
    run_tag: String,
}

/// What one worker saw.
#[derive(Default)]
struct Tally {
    /// (class, status or "error") → count, for every attempt.
    attempts: BTreeMap<(Class, String), u64>,
    /// (class, final status) → count.
    finals: BTreeMap<(Class, String), u64>,
    /// Attempts answered during the restart window, by status.
    during_restart: BTreeMap<String, u64>,
    duplicate_header: u64,
    retries: u64,
    /// When the last answer to anything but the stalled bodies arrived.
    last_regular: Option<Instant>,
    unfinished: Vec<String>,
    refused_wrongly: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Self) {
        for (k, v) in other.attempts {
            *self.attempts.entry(k).or_default() += v;
        }
        for (k, v) in other.finals {
            *self.finals.entry(k).or_default() += v;
        }
        for (k, v) in other.during_restart {
            *self.during_restart.entry(k).or_default() += v;
        }
        self.duplicate_header += other.duplicate_header;
        self.last_regular = self.last_regular.max(other.last_regular);
        self.retries += other.retries;
        self.unfinished.extend(other.unfinished);
        self.refused_wrongly.extend(other.refused_wrongly);
    }
}

/// An error and its sources, `: `-separated (hyper's own message says only "client error").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn status_label(result: &Result<(StatusCode, bool), String>) -> String {
    match result {
        Ok((status, _)) => status.as_u16().to_string(),
        Err(_) => "error".to_owned(),
    }
}

impl Run {
    fn build(args: Args) -> Self {
        let n = args.requests;
        let duplicates = n / 5;
        let forged = n * 7 / 100;
        let stale = n * 7 / 100;
        let malformed = n * 5 / 100;
        let slow = n * 2 / 100;
        let oversized = (n / 200).max(2);
        let slow_timeout = SLOW_TIMEOUT_COUNT.min(n / 100);
        let valid = n - duplicates - forged - stale - malformed - slow - oversized - slow_timeout;
        let run_tag = format!(
            "{:x}",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
        );

        let mut events = Vec::with_capacity(valid + slow);
        let mut jobs = Vec::with_capacity(n);
        for i in 0..valid + slow {
            let is_slow = i >= valid;
            let id = format!("{}-{run_tag}-{i}", if is_slow { "slow" } else { "valid" });
            let body = railz_body(&id);
            events.push(Event {
                id,
                body,
                slow: is_slow,
                signature: OnceLock::new(),
            });
            let class = if is_slow { Class::Slow } else { Class::Valid };
            jobs.push(Job { class, n: i });
        }
        for (class, count) in [
            (Class::Forged, forged),
            (Class::Stale, stale),
            (Class::Malformed, malformed),
            (Class::Oversized, oversized),
            (Class::SlowTimeout, slow_timeout),
        ] {
            jobs.extend((0..count).map(|n| Job { class, n }));
        }
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        // Shuffle, then insert each duplicate after a random position and point it at a
        // valid event placed before it, so most duplicates follow their original.
        for i in (1..jobs.len()).rev() {
            jobs.swap(i, rng.below(i + 1));
        }
        let mut with_dups = Vec::with_capacity(n);
        let mut seen: Vec<usize> = Vec::new();
        let mut dups_left = duplicates;
        let total = jobs.len();
        for (pos, job) in jobs.into_iter().enumerate() {
            if matches!(job.class, Class::Valid | Class::Slow) {
                seen.push(job.n);
            }
            with_dups.push(job);
            // Spread the duplicates evenly over the run.
            let due = duplicates * (pos + 1) / total;
            while duplicates - dups_left < due && !seen.is_empty() {
                let original = seen[rng.below(seen.len())];
                with_dups.push(Job {
                    class: Class::Duplicate,
                    n: original,
                });
                dups_left -= 1;
            }
        }

        let args_deadline_secs = usize::try_from(args.deadline.as_secs()).unwrap_or(3600) + 60;
        let connector = HttpConnector::new();
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(args.concurrency * 2)
            .build(connector);
        Self {
            args,
            client,
            events,
            jobs: with_dups,
            next: AtomicUsize::new(0),
            started: Instant::now(),
            restart: Mutex::new(None),
            restart_fired: AtomicBool::new(false),
            timeline: (0..=args_deadline_secs)
                .map(|_| [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)])
                .collect(),
            run_tag,
        }
    }

    fn url(&self) -> String {
        format!("{}/webhooks/railz", self.args.url)
    }

    fn request(&self, job: Job) -> Request<BoxBody<Bytes, Infallible>> {
        let secret = self.args.secret.as_str();
        let builder = Request::post(self.url()).header("content-type", "application/json");
        let tag = &self.run_tag;
        let n = job.n;
        let (body, signature): (BoxBody<Bytes, Infallible>, Option<HeaderValue>) = match job.class {
            Class::Valid | Class::Duplicate | Class::Slow => {
                let event = &self.events[n];
                let signature = event
                    .signature
                    .get_or_init(|| railz_signature(secret, &event.body, SystemTime::now()))
                    .clone();
                let body = if event.slow {
                    Paced::new(&event.body, 4, Duration::from_millis(50)).boxed()
                } else {
                    Full::new(event.body.clone()).boxed()
                };
                (body, Some(signature))
            }
            Class::Forged => {
                let body = railz_body(&format!("forged-{tag}-{n}"));
                let signature = match n % 3 {
                    0 => Some(railz_signature("not-the-secret", &body, SystemTime::now())),
                    1 => {
                        // Signed, then one byte changed in transit.
                        let signature = railz_signature(secret, &body, SystemTime::now());
                        let mut altered = body.to_vec();
                        if let Some(b) = altered.iter_mut().rev().nth(3) {
                            *b ^= 0x01;
                        }
                        return with_signature(
                            builder,
                            Full::new(Bytes::from(altered)).boxed(),
                            Some(signature),
                        );
                    }
                    _ => None,
                };
                (Full::new(body).boxed(), signature)
            }
            Class::Stale => {
                let body = railz_body(&format!("stale-{tag}-{n}"));
                let at = SystemTime::now() - Duration::from_secs(10 * 60);
                let signature = railz_signature(secret, &body, at);
                (Full::new(body).boxed(), Some(signature))
            }
            Class::Malformed => {
                let id = format!("malformed-{tag}-{n}");
                let body = if n.is_multiple_of(2) {
                    // Cut short: not JSON.
                    let full = railz_body(&id);
                    full.slice(..full.len() - 2)
                } else {
                    // JSON, but not an event.
                    Bytes::from(format!(r#"{{"requestId":"{id}","data":42}}"#))
                };
                let signature = railz_signature(secret, &body, SystemTime::now());
                (Full::new(body).boxed(), Some(signature))
            }
            Class::Oversized => {
                let body = Filler {
                    remaining: BODY_LIMIT + 1 + (n as u64 % 1024),
                    exact: n.is_multiple_of(2),
                };
                // A well-formed (forged) signature: without one the verifying layer answers
                // 401 from the headers before the size is considered.
                let signature = railz_signature(secret, b"not this body", SystemTime::now());
                (body.boxed(), Some(signature))
            }
            Class::SlowTimeout => {
                let body = railz_body(&format!("slowtimeout-{tag}-{n}"));
                let signature = railz_signature(secret, &body, SystemTime::now());
                // Three pieces, 6 s apart: past the receiver's 10 s body deadline.
                (
                    Paced::new(&body, 3, Duration::from_secs(6)).boxed(),
                    Some(signature),
                )
            }
        };
        with_signature(builder, body, signature)
    }

    async fn send_once(&self, job: Job) -> Result<(StatusCode, bool), String> {
        let req = self.request(job);
        let res = tokio::time::timeout(REQUEST_TIMEOUT, self.client.request(req))
            .await
            .map_err(|_| "timeout".to_owned())?
            .map_err(|e| error_chain(&e))?;
        let status = res.status();
        let duplicate = res
            .headers()
            .get("x-ledgerhook-duplicate")
            .is_some_and(|v| v == "true");
        // Read the body so the connection can be reused.
        let _ = tokio::time::timeout(REQUEST_TIMEOUT, res.into_body().collect()).await;
        Ok((status, duplicate))
    }

    fn maybe_restart(self: &Arc<Self>, index: usize) {
        let Some(cmd) = self.args.restart_cmd.clone() else {
            return;
        };
        if index < self.jobs.len() / 2 || self.restart_fired.swap(true, Ordering::SeqCst) {
            return;
        }
        let run = Arc::clone(self);
        let start = Instant::now();
        *self.restart.lock().unwrap() = Some((start, None, String::new()));
        tokio::spawn(async move {
            let out = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(&cmd)
                .output()
                .await;
            let note = match out {
                Ok(out) if out.status.success() => "ok".to_owned(),
                Ok(out) => format!(
                    "exit {:?}: {}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                ),
                Err(e) => format!("could not run: {e}"),
            };
            *run.restart.lock().unwrap() = Some((start, Some(Instant::now()), note));
        });
    }

    fn tick(&self, result: &Result<(StatusCode, bool), String>) {
        let second = usize::try_from(self.started.elapsed().as_secs()).unwrap_or(usize::MAX);
        if let Some(slot) = self.timeline.get(second) {
            slot[0].fetch_add(1, Ordering::Relaxed);
            match result {
                Ok((status, _)) if *status == StatusCode::SERVICE_UNAVAILABLE => {
                    slot[1].fetch_add(1, Ordering::Relaxed);
                }
                Err(_) => {
                    slot[2].fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
            }
        }
    }

    fn in_restart_window(&self, at: Instant) -> bool {
        match &*self.restart.lock().unwrap() {
            Some((start, end, _)) => {
                at >= *start && end.is_none_or(|end| at <= end + Duration::from_secs(2))
            }
            None => false,
        }
    }

    async fn worker(self: Arc<Self>) -> Tally {
        let mut tally = Tally::default();
        loop {
            let index = self.next.fetch_add(1, Ordering::SeqCst);
            let Some(&job) = self.jobs.get(index) else {
                break;
            };
            if self.started.elapsed() > self.args.deadline {
                tally
                    .unfinished
                    .push(format!("{} #{} (deadline)", job.class.name(), job.n));
                continue;
            }
            self.maybe_restart(index);
            let mut attempt = 0u32;
            let final_result = loop {
                attempt += 1;
                let result = self.send_once(job).await;
                let label = status_label(&result);
                self.tick(&result);
                if self.in_restart_window(Instant::now()) {
                    *tally.during_restart.entry(label.clone()).or_default() += 1;
                }
                *tally.attempts.entry((job.class, label)).or_default() += 1;
                // A provider retries every delivery answered 503 (a store or the budget
                // unavailable for a moment), whatever its body: a malformed one must then
                // end refused with a 4xx.
                let unavailable =
                    matches!(&result, Ok((s, _)) if *s == StatusCode::SERVICE_UNAVAILABLE);
                let retry = unavailable
                    || (job.class.must_succeed()
                        && match &result {
                            Ok((status, _)) => !status.is_success(),
                            Err(_) => true,
                        }
                        && !matches!(&result, Ok((s, _)) if s.is_client_error() && *s != StatusCode::CONFLICT && *s != StatusCode::REQUEST_TIMEOUT && *s != StatusCode::TOO_MANY_REQUESTS));
                if !retry || attempt >= MAX_ATTEMPTS || self.started.elapsed() > self.args.deadline
                {
                    break result;
                }
                tally.retries += 1;
                let backoff = Duration::from_millis(20 * u64::from(attempt.min(25)));
                tokio::time::sleep(backoff).await;
            };
            if job.class != Class::SlowTimeout {
                tally.last_regular = tally.last_regular.max(Some(Instant::now()));
            }
            let label = status_label(&final_result);
            *tally.finals.entry((job.class, label.clone())).or_default() += 1;
            match (&final_result, job.class.must_succeed()) {
                (Ok((status, dup)), true) if status.is_success() => {
                    if *dup {
                        tally.duplicate_header += 1;
                    }
                }
                (_, true) => tally.unfinished.push(format!(
                    "{} {} ended with {label}",
                    job.class.name(),
                    self.events[job.n].id
                )),
                (Ok((status, _)), false) if status.is_client_error() => {}
                (Err(_), false) if job.class == Class::Oversized => {}
                (result, false) => tally.refused_wrongly.push(format!(
                    "{} #{} got {}",
                    job.class.name(),
                    job.n,
                    result.as_ref().err().unwrap_or(&label)
                )),
            }
        }
        tally
    }
}

fn with_signature(
    builder: http::request::Builder,
    body: BoxBody<Bytes, Infallible>,
    signature: Option<HeaderValue>,
) -> Request<BoxBody<Bytes, Infallible>> {
    let builder = match signature {
        Some(value) => builder.header("railz-signature", value),
        None => builder,
    };
    builder.body(body).expect("valid request parts")
}

/// `GET /stats` from the receiver.
async fn fetch_stats(client: &HttpClient, url: &str) -> Result<Stats, BoxError> {
    let req = Request::get(format!("{url}/stats")).body(Full::new(Bytes::new()).boxed())?;
    let res = client.request(req).await?;
    if !res.status().is_success() {
        return Err(format!(
            "GET /stats answered {}: is this the test receiver?",
            res.status()
        )
        .into());
    }
    let body = res.into_body().collect().await?.to_bytes();
    Ok(serde_json::from_slice(&body)?)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    if args.collisions {
        return collisions::run(&args).await;
    }
    let concurrency = args.concurrency;
    let run = Arc::new(Run::build(args));
    let mut planned: BTreeMap<Class, u64> = BTreeMap::new();
    for job in &run.jobs {
        *planned.entry(job.class).or_default() += 1;
    }
    eprintln!(
        "driving {} with {} requests at concurrency {concurrency}",
        run.url(),
        run.jobs.len()
    );

    let workers: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(Arc::clone(&run).worker()))
        .collect();
    let mut tally = Tally::default();
    for worker in workers {
        tally.merge(worker.await?);
    }
    let elapsed = run.started.elapsed();

    // Give a late restart command time to finish before reading the records.
    for _ in 0..600 {
        let done = run
            .restart
            .lock()
            .unwrap()
            .as_ref()
            .is_none_or(|(_, end, _)| end.is_some());
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let stats = fetch_stats(&run.client, &run.args.url).await?;
    let handled = &stats.handled;
    let mut failures = Vec::new();
    let mut handled_once = 0u64;
    let mut lost = Vec::new();
    let mut repeated = Vec::new();
    for event in &run.events {
        match stats.handled_for_request_id(&event.id) {
            1 => handled_once += 1,
            0 => lost.push(event.id.clone()),
            n => repeated.push(format!("{} x{n}", event.id)),
        }
    }
    let forbidden: Vec<_> = handled
        .keys()
        .filter(|key| !key.starts_with("valid-") && !key.starts_with("slow-"))
        .filter(|id| id.contains(&run.run_tag))
        .cloned()
        .collect();
    let five_xx: BTreeMap<String, u64> = tally
        .attempts
        .iter()
        .filter(|((_, status), _)| status.starts_with('5'))
        .fold(BTreeMap::new(), |mut acc, ((_, status), n)| {
            *acc.entry(status.clone()).or_default() += n;
            acc
        });
    let other_5xx: u64 = five_xx
        .iter()
        .filter(|(status, _)| status.as_str() != "503")
        .map(|(_, n)| n)
        .sum();

    if !lost.is_empty() {
        failures.push(format!(
            "{} valid events never handled, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(5)]
        ));
    }
    if !repeated.is_empty() {
        failures.push(format!(
            "{} valid events handled more than once, e.g. {:?}",
            repeated.len(),
            &repeated[..repeated.len().min(5)]
        ));
    }
    if !forbidden.is_empty() {
        failures.push(format!(
            "{} refused-class deliveries reached the handler, e.g. {:?}",
            forbidden.len(),
            &forbidden[..forbidden.len().min(5)]
        ));
    }
    if other_5xx > 0 {
        failures.push(format!(
            "{other_5xx} 5xx answers other than 503 (the outage policy)"
        ));
    }
    if !tally.unfinished.is_empty() {
        failures.push(format!(
            "{} deliveries never accepted, e.g. {:?}",
            tally.unfinished.len(),
            &tally.unfinished[..tally.unfinished.len().min(5)]
        ));
    }
    if !tally.refused_wrongly.is_empty() {
        failures.push(format!(
            "{} deliveries not refused with a 4xx, e.g. {:?}",
            tally.refused_wrongly.len(),
            &tally.refused_wrongly[..tally.refused_wrongly.len().min(5)]
        ));
    }

    let attempts_total: u64 = tally.attempts.values().sum();
    println!("requests planned by class:");
    for class in Class::ALL {
        println!(
            "  {:<12} {}",
            class.name(),
            planned.get(&class).copied().unwrap_or(0)
        );
    }
    println!("answers (every attempt, incl. retries) by class and status:");
    for class in Class::ALL {
        let row: Vec<String> = tally
            .attempts
            .iter()
            .filter(|((c, _), _)| *c == class)
            .map(|((_, s), n)| format!("{s}:{n}"))
            .collect();
        println!("  {:<12} {}", class.name(), row.join(" "));
    }
    println!("final answers by class and status:");
    for class in Class::ALL {
        let row: Vec<String> = tally
            .finals
            .iter()
            .filter(|((c, _), _)| *c == class)
            .map(|((_, s), n)| format!("{s}:{n}"))
            .collect();
        println!("  {:<12} {}", class.name(), row.join(" "));
    }
    let regular = tally
        .last_regular
        .map_or(elapsed, |at| at.duration_since(run.started));
    let stalled = planned.get(&Class::SlowTimeout).copied().unwrap_or(0);
    println!(
        "attempts: {attempts_total} (retries {}); all answered in {:.1} s; all but the {stalled} \
         stalled bodies in {:.1} s = {:.0} attempts/s",
        tally.retries,
        elapsed.as_secs_f64(),
        regular.as_secs_f64(),
        (attempts_total - stalled) as f64 / regular.as_secs_f64()
    );
    println!(
        "answered as duplicate (x-ledgerhook-duplicate: true): {}",
        tally.duplicate_header
    );
    println!("5xx answers by status: {five_xx:?}");
    println!(
        "receiver records: {} distinct deliveries handled; valid events handled exactly once: {handled_once} of {}",
        handled.len(),
        run.events.len()
    );
    println!("receiver dedup mode: {}", stats.dedup);
    let last = run
        .timeline
        .iter()
        .rposition(|slot| slot[0].load(Ordering::Relaxed) > 0)
        .unwrap_or(0);
    let timeline: Vec<String> = run.timeline[..=last]
        .iter()
        .enumerate()
        .map(|(second, slot)| {
            let [all, unavailable, errors] = slot.each_ref().map(|c| c.load(Ordering::Relaxed));
            match (unavailable, errors) {
                (0, 0) => format!("{second}s:{all}"),
                _ => format!("{second}s:{all}({unavailable}x503,{errors}xerr)"),
            }
        })
        .collect();
    println!("answers per second: {}", timeline.join(" "));
    if let Some((start, end, note)) = &*run.restart.lock().unwrap() {
        let took = end.map(|end| end.duration_since(*start));
        println!(
            "restart at {:.1} s, took {:?} ({note}); attempts answered during it (+2 s): {:?}",
            start.duration_since(run.started).as_secs_f64(),
            took,
            tally.during_restart
        );
    }
    if failures.is_empty() {
        println!("RELIABILITY OK");
        Ok(())
    } else {
        for failure in &failures {
            println!("FAILED: {failure}");
        }
        std::process::exit(1);
    }
}
