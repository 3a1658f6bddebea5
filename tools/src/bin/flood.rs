//! Floods one of the test receiver's routes (`--route railz`, the default, or `rootfi` for
//! RootFi v4) with unauthenticated connections while a provider delivers genuine events, then checks from the receiver's records that every genuine
//! event was accepted and handled exactly once. Run by `scripts/flood.sh`, which also
//! reports the receiver's peak RSS.
//!
//! ```text
//! flood --url http://127.0.0.1:PORT [--streams 256] [--slow 1000] [--genuine 1000]
//!       [--genuine-concurrency 16] [--body-bytes N] [--max-secs 60]
//!       [--slow-interval-secs 3] [--slow-head-bytes 0] [--spread-secs 30]
//!       [--receiver-pid PID] [--max-inflight-mib 1024] [--route railz|rootfi]
//!       [--abort-rss-mb N] [--framing both|length|chunked]
//! ```
//!
//! Refuses to start when `--streams` x the body size exceeds `--max-inflight-mib`, and
//! stops the flood (and fails) if the receiver's RSS passes `--abort-rss-mb`: the flood
//! must not take a shared machine down.
//!
//! - streams: connections posting a body of `--body-bytes` (default: just under the
//!   route's limit, found by probing with `Content-Length`, or under the buffer budget if
//!   that is smaller) with a well-formed forged signature (`Railz-Signature: t=<now>,v=<64
//!   hex>`, or `X-RootFi-Signature: <64 hex>`), holding back the last byte. Half declare
//!   `Content-Length`, half are chunked (`--framing both`), or all one kind. When the receiver answers or closes, the
//!   connection is opened again (an attacker keeps the pressure on).
//! - slow: connections sending their request head one byte every `--slow-interval-secs`,
//!   never finishing it, after `--slow-head-bytes` of header sent at once (what a server
//!   buffers per connection while it waits); not reopened (the figure is how long the
//!   receiver keeps them).
//! - genuine: distinct signed events of the route's provider, started evenly over `--spread-secs` once the
//!   flood is up (so the flood lasts at least that long), retried like a
//!   provider on `503`, `5xx`, `408`, `409`, `429`, timeouts and connection errors (same
//!   bytes, same signature) until accepted or `--max-secs` is reached.
//!
//! Loopback only. Exits with 1 if a genuine event was not accepted, or not handled exactly
//! once.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use ledgerhook_tools::{
    DEV_ROOTFI_SECRET, Stats, env_or, loopback_host, railz_secret, railz_signature, record_key,
    rootfi_signature,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type HttpClient = Client<HttpConnector, Full<Bytes>>;

const PIECE: usize = 64 * 1024;
static FILL: [u8; PIECE] = [b' '; PIECE];

struct Args {
    url: String,
    host: String,
    streams: usize,
    slow: usize,
    genuine: usize,
    genuine_concurrency: usize,
    body_bytes: Option<u64>,
    max_secs: u64,
    slow_interval: Duration,
    receiver_pid: Option<u32>,
    max_inflight_mib: u64,
    spread: Duration,
    slow_head_bytes: usize,
    route: Route,
    abort_rss_mib: Option<u64>,
    framing: Framing,
}

/// How the streaming connections frame their bodies.
#[derive(Clone, Copy)]
enum Framing {
    /// Half `Content-Length`, half chunked.
    Both,
    Length,
    Chunked,
}

/// The route under flood.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Railz,
    RootFi,
}

impl Route {
    fn path(self) -> &'static str {
        match self {
            Self::Railz => "/webhooks/railz",
            Self::RootFi => "/webhooks/rootfi",
        }
    }

    fn signature_header(self) -> &'static str {
        match self {
            Self::Railz => "railz-signature",
            Self::RootFi => "x-rootfi-signature",
        }
    }

    /// A well-formed signature header value made without the secret.
    fn forged_signature(self, seed: &mut u64) -> String {
        let mac = random_hex(seed);
        match self {
            Self::Railz => {
                let ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis();
                format!("t={ms},v={mac}")
            }
            Self::RootFi => mac,
        }
    }

    /// A genuine event identified by `id`, and its signature.
    fn genuine(self, id: &str) -> (Bytes, http::HeaderValue) {
        match self {
            Self::Railz => {
                let body = Bytes::from(format!(
                    r#"{{"data":{{"event":"auth","connectionId":"CON-{id}","businessName":"BIZ-flood","serviceName":"quickbooks"}},"requestId":"{id}"}}"#
                ));
                let signature = railz_signature(&railz_secret(), &body, SystemTime::now());
                (body, signature)
            }
            Self::RootFi => {
                let body = Bytes::from(format!(
                    r#"{{"webhook_type":"CONNECTION_CHANGED","company_id":1,"integration_type":"XERO","connection_status":"HEALTHY","created_at":"2026-12-01T00:00:00.000Z","flood_id":"{id}"}}"#
                ));
                let secret = env_or("ROOTFI_WEBHOOK_SECRET", DEV_ROOTFI_SECRET);
                let signature = rootfi_signature(&secret, &body);
                (body, signature)
            }
        }
    }
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        url: String::new(),
        host: String::new(),
        streams: 256,
        slow: 1000,
        genuine: 1000,
        genuine_concurrency: 16,
        body_bytes: None,
        max_secs: 60,
        slow_interval: Duration::from_secs(3),
        receiver_pid: None,
        max_inflight_mib: 1024,
        spread: Duration::from_secs(30),
        slow_head_bytes: 0,
        route: Route::Railz,
        abort_rss_mib: None,
        framing: Framing::Both,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value()?.trim_end_matches('/').to_owned(),
            "--streams" => args.streams = value()?.parse()?,
            "--slow" => args.slow = value()?.parse()?,
            "--genuine" => args.genuine = value()?.parse()?,
            "--genuine-concurrency" => args.genuine_concurrency = value()?.parse::<usize>()?.max(1),
            "--body-bytes" => args.body_bytes = Some(value()?.parse()?).filter(|&n| n > 0),
            "--max-secs" => args.max_secs = value()?.parse()?,
            "--slow-interval-secs" => args.slow_interval = Duration::from_secs(value()?.parse()?),
            "--receiver-pid" => args.receiver_pid = Some(value()?.parse()?),
            "--max-inflight-mib" => args.max_inflight_mib = value()?.parse()?,
            "--spread-secs" => args.spread = Duration::from_secs(value()?.parse()?),
            "--slow-head-bytes" => args.slow_head_bytes = value()?.parse()?,
            "--route" => {
                args.route = match value()?.as_str() {
                    "railz" => Route::Railz,
                    "rootfi" => Route::RootFi,
                    other => return Err(format!("--route {other}: railz or rootfi").into()),
                }
            }
            "--framing" => {
                args.framing = match value()?.as_str() {
                    "both" => Framing::Both,
                    "length" => Framing::Length,
                    "chunked" => Framing::Chunked,
                    other => {
                        return Err(format!("--framing {other}: both, length or chunked").into());
                    }
                }
            }
            "--abort-rss-mb" => args.abort_rss_mib = Some(value()?.parse()?).filter(|&n| n > 0),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if args.max_secs <= args.spread.as_secs() {
        return Err("--max-secs must exceed --spread-secs".into());
    }
    args.host = loopback_host(&args.url)
        .map_err(|e| format!("--url: {e}"))?
        .to_owned();
    Ok(args)
}

/// 64 hex digits from xorshift64*: forged MACs need only look like MACs.
fn random_hex(seed: &mut u64) -> String {
    let mut hex = String::with_capacity(64);
    for _ in 0..4 {
        *seed ^= *seed >> 12;
        *seed ^= *seed << 25;
        *seed ^= *seed >> 27;
        hex.push_str(&format!(
            "{:016x}",
            seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
        ));
    }
    hex
}

fn head(route: Route, host: &str, signature: &str, length: Option<u64>) -> String {
    let framing = match length {
        Some(n) => format!("Content-Length: {n}"),
        None => "Transfer-Encoding: chunked".to_owned(),
    };
    format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         {}: {signature}\r\n{framing}\r\n\r\n",
        route.path(),
        route.signature_header()
    )
}

/// The status of the first response line in `buf`, if one arrived.
fn status_of(buf: &[u8]) -> Option<u16> {
    let line = buf.strip_prefix(b"HTTP/1.1 ")?;
    std::str::from_utf8(line.get(..3)?).ok()?.parse().ok()
}

/// Reads until a status line arrives or the peer closes: the status, else `None`.
async fn first_answer(read: &mut tokio::net::tcp::OwnedReadHalf) -> Option<u16> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        match read.read(&mut chunk).await {
            Ok(0) | Err(_) => return status_of(&buf),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if let Some(status) = status_of(&buf) {
                    return Some(status);
                }
                if buf.len() > 64 {
                    return None;
                }
            }
        }
    }
}

/// The largest `Content-Length` the route does not refuse from the headers (`413`, or `503`
/// when it does not fit the buffer budget).
async fn probe_limit(args: &Args) -> Result<u64, BoxError> {
    let mut seed = 0x9E37_79B9_7F4A_7C15;
    let over = |n: u64, signature: String| {
        let host = args.host.clone();
        let route = args.route;
        async move {
            let Ok(stream) = TcpStream::connect(&host).await else {
                return false;
            };
            let (mut read, mut write) = stream.into_split();
            if write
                .write_all(head(route, &host, &signature, Some(n)).as_bytes())
                .await
                .is_err()
            {
                return false;
            }
            // 503: the declared length does not fit the receiver's buffer budget, which
            // bounds what a stream can hold just as the limit does.
            matches!(
                tokio::time::timeout(Duration::from_millis(400), first_answer(&mut read)).await,
                Ok(Some(413 | 503))
            )
        }
    };
    let (mut lo, mut hi) = (1024u64, 64 * 1024 * 1024u64);
    if over(lo, args.route.forged_signature(&mut seed)).await {
        return Err("the route refuses even 1 KiB bodies with 413".into());
    }
    if !over(hi, args.route.forged_signature(&mut seed)).await {
        return Ok(hi);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if over(mid, args.route.forged_signature(&mut seed)).await {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(lo)
}

#[derive(Default)]
struct Counters {
    stream_cycles: AtomicU64,
    stream_bytes: AtomicU64,
    stream_holding: AtomicU64,
    slow_open: AtomicU64,
    slow_cut: AtomicU64,
}

/// One streaming connection, reopened until `stop`.
async fn stream_loop(
    args: Arc<Args>,
    index: usize,
    body_bytes: u64,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    outcomes: Arc<Mutex<BTreeMap<String, u64>>>,
) {
    let mut seed = 0x51_7CC1_B727_220A ^ (index as u64 + 1);
    let chunked = match args.framing {
        Framing::Both => index % 2 == 1,
        Framing::Length => false,
        Framing::Chunked => true,
    };
    while !stop.load(Ordering::Relaxed) {
        let outcome = async {
            let stream = TcpStream::connect(&args.host)
                .await
                .map_err(|_| "connect error")?;
            let (mut read, mut write) = stream.into_split();
            let signature = args.route.forged_signature(&mut seed);
            let length = (!chunked).then_some(body_bytes);
            let answer = tokio::spawn(async move { first_answer(&mut read).await });
            let sending = async {
                write
                    .write_all(head(args.route, &args.host, &signature, length).as_bytes())
                    .await?;
                // Everything but the last byte.
                let mut left = body_bytes.saturating_sub(1);
                while left > 0 && !stop.load(Ordering::Relaxed) {
                    let n = usize::try_from(left.min(PIECE as u64)).unwrap_or(PIECE);
                    if chunked {
                        write.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                        write.write_all(&FILL[..n]).await?;
                        write.write_all(b"\r\n").await?;
                    } else {
                        write.write_all(&FILL[..n]).await?;
                    }
                    counters.stream_bytes.fetch_add(n as u64, Ordering::Relaxed);
                    left -= n as u64;
                }
                Ok::<_, std::io::Error>(write)
            };
            tokio::pin!(answer);
            let held = tokio::select! {
                sent = sending => sent.ok(),
                status = &mut answer => return Ok(label(status.ok().flatten())),
            };
            counters.stream_holding.fetch_add(1, Ordering::Relaxed);
            // Hold the last byte until the receiver gives up or the flood ends.
            let result = loop {
                if stop.load(Ordering::Relaxed) {
                    break "held to the end".to_owned();
                }
                if let Ok(status) =
                    tokio::time::timeout(Duration::from_millis(250), &mut answer).await
                {
                    break label(status.ok().flatten());
                }
            };
            counters.stream_holding.fetch_sub(1, Ordering::Relaxed);
            drop(held);
            Ok::<String, &'static str>(result)
        }
        .await
        .unwrap_or_else(|e| e.to_owned());
        counters.stream_cycles.fetch_add(1, Ordering::Relaxed);
        *outcomes.lock().await.entry(outcome).or_default() += 1;
        // Not a busy loop: an attacker on two cores would not win anything by spinning.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn label(status: Option<u16>) -> String {
    status.map_or_else(|| "closed without answer".to_owned(), |s| s.to_string())
}

/// One slow-header connection: a byte every `interval`, never finishing the head. Returns
/// how long the receiver kept it open if it cut it.
async fn slow_loop(
    args: Arc<Args>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
) -> Option<Duration> {
    let stream = TcpStream::connect(&args.host).await.ok()?;
    let opened = Instant::now();
    counters.slow_open.fetch_add(1, Ordering::Relaxed);
    let (mut read, mut write) = stream.into_split();
    let text = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nX-Slow: ",
        args.route.path(),
        args.host
    );
    // With a head sent at once, the trickle continues its header value.
    let mut sent_at_once = 0;
    if args.slow_head_bytes > 0 {
        let mut head = text.clone().into_bytes();
        sent_at_once = head.len();
        head.resize(head.len() + args.slow_head_bytes, b'a');
        if write.write_all(&head).await.is_err() {
            counters.slow_open.fetch_sub(1, Ordering::Relaxed);
            counters.slow_cut.fetch_add(1, Ordering::Relaxed);
            return Some(opened.elapsed());
        }
    }
    let mut bytes = text
        .bytes()
        .skip(sent_at_once)
        .chain(std::iter::repeat(b'a'));
    let closed = tokio::spawn(async move { first_answer(&mut read).await });
    tokio::pin!(closed);
    let cut = loop {
        if stop.load(Ordering::Relaxed) {
            break None;
        }
        let byte = [bytes.next().unwrap_or(b'a')];
        if write.write_all(&byte).await.is_err() {
            break Some(opened.elapsed());
        }
        tokio::select! {
            _ = &mut closed => break Some(opened.elapsed()),
            () = tokio::time::sleep(args.slow_interval) => {}
        }
    };
    counters.slow_open.fetch_sub(1, Ordering::Relaxed);
    if cut.is_some() {
        counters.slow_cut.fetch_add(1, Ordering::Relaxed);
    }
    cut
}

/// One genuine event, delivered like a provider. Returns (accepted, attempts, answers).
async fn deliver(
    client: HttpClient,
    url: String,
    route: Route,
    (body, signature): (Bytes, http::HeaderValue),
    deadline: Instant,
) -> (bool, u32, Vec<String>) {
    let mut answers = Vec::new();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let req = Request::post(&url)
            .header("content-type", "application/json")
            .header(route.signature_header(), signature.clone())
            .body(Full::new(body.clone()))
            .expect("valid request");
        let answer = match tokio::time::timeout(Duration::from_secs(15), client.request(req)).await
        {
            Err(_) => "timeout".to_owned(),
            Ok(Err(_)) => "connection error".to_owned(),
            Ok(Ok(res)) => {
                let status = res.status();
                let retry_after = res.headers().contains_key(http::header::RETRY_AFTER);
                let _ =
                    tokio::time::timeout(Duration::from_secs(5), res.into_body().collect()).await;
                if status.is_success() {
                    answers.push(status.as_u16().to_string());
                    return (true, attempt, answers);
                }
                let retry = status.is_server_error()
                    || matches!(
                        status,
                        StatusCode::REQUEST_TIMEOUT
                            | StatusCode::CONFLICT
                            | StatusCode::TOO_MANY_REQUESTS
                    );
                if !retry {
                    answers.push(status.as_u16().to_string());
                    return (false, attempt, answers);
                }
                if retry_after {
                    format!("{} + Retry-After", status.as_u16())
                } else {
                    status.as_u16().to_string()
                }
            }
        };
        answers.push(answer);
        if Instant::now() >= deadline {
            return (false, attempt, answers);
        }
        let backoff = Duration::from_millis(100 * u64::from(attempt.min(20)));
        tokio::time::sleep(backoff.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

async fn fetch_stats(client: &HttpClient, url: &str) -> Result<Stats, BoxError> {
    let req = Request::get(format!("{url}/stats")).body(Full::new(Bytes::new()))?;
    let res = client.request(req).await?;
    if !res.status().is_success() {
        return Err(format!("GET /stats answered {}", res.status()).into());
    }
    Ok(serde_json::from_slice(
        &res.into_body().collect().await?.to_bytes(),
    )?)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Arc::new(parse_args()?);
    let body_bytes = match args.body_bytes {
        Some(n) => {
            println!("body size: {n} bytes (--body-bytes)");
            n
        }
        None => {
            let limit = probe_limit(&args).await?;
            println!(
                "route limit by probing Content-Length: {limit} bytes; streaming {} bytes",
                limit - 1
            );
            limit - 1
        }
    };
    let inflight_mib =
        (args.streams as u64 * body_bytes + (args.slow * args.slow_head_bytes) as u64) / 1_048_576;
    if inflight_mib > args.max_inflight_mib {
        eprintln!(
            "{} streams x {body_bytes} bytes + {} slow x {} header bytes = {inflight_mib} MiB in \
             flight, over --max-inflight-mib {}: pick smaller sizes (FLOOD_BODY_BYTES, \
             FLOOD_SLOW_HEAD_BYTES) or raise the cap (FLOOD_MAX_INFLIGHT_MIB)",
            args.streams, args.slow, args.slow_head_bytes, args.max_inflight_mib
        );
        std::process::exit(2);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let aborted = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let outcomes = Arc::new(Mutex::new(BTreeMap::new()));
    let flood_start = Instant::now();
    let hard_deadline = flood_start + Duration::from_secs(args.max_secs);

    // RSS every 250 ms; a summary line every 5 s.
    let sampler = args.receiver_pid.map(|pid| {
        let stop = Arc::clone(&stop);
        let counters = Arc::clone(&counters);
        let aborted = Arc::clone(&aborted);
        let abort_kib = args.abort_rss_mib.map(|mb| mb * 1024);
        tokio::spawn(async move {
            let mut peak = 0u64;
            let mut timeline = Vec::new();
            let mut tick = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    peak = peak.max(kib);
                    if abort_kib.is_some_and(|limit| kib > limit) {
                        // The receiver is not bounded: stop before it takes the machine down.
                        aborted.store(true, Ordering::Relaxed);
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                if tick.is_multiple_of(20) {
                    timeline.push(format!(
                        "{}s:{}MB/{}held/{}slow",
                        tick / 4,
                        rss_kib(pid).unwrap_or(0) / 1024,
                        counters.stream_holding.load(Ordering::Relaxed),
                        counters.slow_open.load(Ordering::Relaxed)
                    ));
                }
                tick += 1;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            (peak, timeline)
        })
    });

    let mut flood = tokio::task::JoinSet::new();
    for i in 0..args.streams {
        flood.spawn(stream_loop(
            Arc::clone(&args),
            i,
            body_bytes,
            Arc::clone(&stop),
            Arc::clone(&counters),
            Arc::clone(&outcomes),
        ));
    }
    let mut slow = tokio::task::JoinSet::new();
    for i in 0..args.slow {
        slow.spawn(slow_loop(
            Arc::clone(&args),
            Arc::clone(&stop),
            Arc::clone(&counters),
        ));
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Let the flood build up: every stream holding its last byte, or 5 s (a receiver that
    // refuses them at once never lets them hold).
    let build_up = Instant::now();
    while counters.stream_holding.load(Ordering::Relaxed) < args.streams as u64
        && build_up.elapsed() < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "flood up after {:.1} s: {} streams holding their last byte, {} slow-header connections open",
        flood_start.elapsed().as_secs_f64(),
        counters.stream_holding.load(Ordering::Relaxed),
        counters.slow_open.load(Ordering::Relaxed)
    );

    // Genuine deliveries.
    let tag = format!(
        "{:x}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    );
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.genuine_concurrency)
        .build_http();
    let url = format!("{}{}", args.url, args.route.path());
    let genuine_start = Instant::now();
    let ids: Vec<String> = (0..args.genuine)
        .map(|i| format!("flood-genuine-{tag}-{i}"))
        .collect();
    let mut pending = tokio::task::JoinSet::new();
    let mut genuine_keys = HashSet::new();
    let mut results = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let due = genuine_start + args.spread.mul_f64(i as f64 / ids.len() as f64);
        tokio::time::sleep_until(due.into()).await;
        if pending.len() >= args.genuine_concurrency
            && let Some(done) = pending.join_next().await
        {
            results.push(done?);
        }
        let delivery = args.route.genuine(id);
        genuine_keys.insert(record_key(&delivery.0));
        let (client, url, id, route) = (client.clone(), url.clone(), id.clone(), args.route);
        pending.spawn(async move {
            let started = Instant::now();
            let (ok, attempts, answers) =
                deliver(client, url, route, delivery, hard_deadline).await;
            (id, ok, attempts, answers, started.elapsed())
        });
    }
    while let Some(done) = pending.join_next().await {
        results.push(done?);
    }
    let genuine_took = genuine_start.elapsed();
    let flood_lasted = flood_start.elapsed();
    let streamed = counters.stream_bytes.load(Ordering::Relaxed);
    let holding_at_end = counters.stream_holding.load(Ordering::Relaxed);
    let slow_open_at_end = counters.slow_open.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    while flood.join_next().await.is_some() {}
    let mut slow_cut_after = Vec::new();
    while let Some(done) = slow.join_next().await {
        if let Ok(Some(after)) = done {
            slow_cut_after.push(after);
        }
    }
    slow_cut_after.sort();
    let (peak, timeline) = match sampler {
        Some(sampler) => sampler.await?,
        None => (0, Vec::new()),
    };

    // The receiver's records, once the flood's connections are gone.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stats = fetch_stats(&client, &args.url).await?;
    let mut answers = BTreeMap::<String, u64>::new();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut attempts_total = 0u64;
    let mut not_accepted = Vec::new();
    for (id, ok, attempts, seen, took) in &results {
        attempts_total += u64::from(*attempts);
        for a in seen {
            *answers.entry(a.clone()).or_default() += 1;
        }
        if *ok {
            latencies.push(*took);
        } else {
            not_accepted.push(format!("{id}: {}", seen.join(",")));
        }
    }
    latencies.sort();
    let pct = |p: usize| {
        latencies
            .get(latencies.len().saturating_sub(1) * p / 100)
            .copied()
            .unwrap_or_default()
    };
    let mut handled_once = 0;
    let mut lost = Vec::new();
    let mut twice = Vec::new();
    for id in &ids {
        match stats.handled_body(&args.route.genuine(id).0) {
            1 => handled_once += 1,
            0 => lost.push(id.clone()),
            n => twice.push(format!("{id} x{n}")),
        }
    }
    let forged_handled = stats
        .handled
        .keys()
        .filter(|k| !genuine_keys.contains(*k))
        .count();

    println!(
        "flood: {} streaming connections ({body_bytes} bytes each, last byte held), {} slow-header connections ({} header bytes at once, then a byte every {} s)",
        args.streams,
        args.slow,
        args.slow_head_bytes,
        args.slow_interval.as_secs()
    );
    println!(
        "flood lasted {:.1} s (genuine deliveries {:.1} s of it)",
        flood_lasted.as_secs_f64(),
        genuine_took.as_secs_f64()
    );
    println!(
        "streams: {} cycles, {:.1} MiB streamed; at the end {holding_at_end} holding; answers by outcome: {:?}",
        counters.stream_cycles.load(Ordering::Relaxed),
        streamed as f64 / 1_048_576.0,
        outcomes.lock().await
    );
    let median = slow_cut_after.get(slow_cut_after.len() / 2).copied();
    println!(
        "slow-header connections: {slow_open_at_end} still open at the end; {} cut by the receiver (after median {:?}, max {:?})",
        slow_cut_after.len(),
        median.map(|d| format!("{:.1}s", d.as_secs_f64())),
        slow_cut_after
            .last()
            .map(|d| format!("{:.1}s", d.as_secs_f64())),
    );
    println!(
        "genuine: {} sent, {} accepted, {attempts_total} attempts; answers {answers:?}; latency p50 {:.2} s, p99 {:.2} s, max {:.2} s",
        ids.len(),
        latencies.len(),
        pct(50).as_secs_f64(),
        pct(99).as_secs_f64(),
        latencies.last().copied().unwrap_or_default().as_secs_f64()
    );
    println!(
        "receiver records: genuine handled exactly once {handled_once} of {}, never {}, more than once {}; other deliveries handled {forged_handled}",
        ids.len(),
        lost.len(),
        twice.len()
    );
    if args.receiver_pid.is_some() {
        println!(
            "receiver VmRSS sampled every 250 ms: peak {} MB; {}",
            peak / 1024,
            timeline.join(" ")
        );
    }
    let mut failed = false;
    if aborted.load(Ordering::Relaxed) {
        failed = true;
        println!(
            "FAILED: the receiver's RSS passed --abort-rss-mb {}: flood stopped early",
            args.abort_rss_mib.unwrap_or(0)
        );
    }
    for (what, list) in [
        ("not accepted", &not_accepted),
        ("never handled", &lost),
        ("handled more than once", &twice),
    ] {
        if !list.is_empty() {
            failed = true;
            println!(
                "FAILED: {} genuine deliveries {what}, e.g. {:?}",
                list.len(),
                &list[..list.len().min(3)]
            );
        }
    }
    if forged_handled > 0 {
        failed = true;
        println!("FAILED: {forged_handled} forged deliveries reached the handler");
    }
    if failed {
        std::process::exit(1);
    }
    println!("FLOOD OK (genuine deliveries)");
    Ok(())
}
