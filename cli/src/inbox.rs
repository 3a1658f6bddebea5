//! `ledgerhook inbox stats|dlq list|dlq show|dlq replay`: look into the Redis inbox the
//! receiver writes and the workers read (see docs/INBOX.md), and requeue dead letters.

use std::error::Error as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use clap::Subcommand;
use ledgerhook::inbox::{Envelope, EnvelopeId, InboxError, InboxStore, RedisInbox};
use serde_json::{Value, json};

use crate::failure::{Failure, Outcome};

/// The exit codes as they apply to the inbox commands (same numbers as every command).
const INBOX_EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  not found: no dead letter with that id in the namespace (replay: at least one)
  2  usage or configuration error: bad arguments, no Redis URL, an invalid URL, namespace or id
  3  store failure: Redis unreachable, timed out, answered with an error, or an undecodable entry";

/// Where the Redis URL comes from when `--redis-url` is not given.
const REDIS_URL_ENV: &str = "LEDGERHOOK_REDIS_URL";

/// The namespaces examples/receiver.rs writes in inbox mode (one per route).
const RECEIVER_NAMESPACES: [&str; 3] = ["railz", "rootfi", "rootfi-v3"];

/// Redacted header names: every name containing one of these (headers are lower case).
/// `key` covers RootFi v3's token header `api_key`; a custom one is named with --redact.
const SENSITIVE: &[&str] = &[
    "auth",
    "signature",
    "token",
    "secret",
    "key",
    "cookie",
    "password",
    "session",
    "credential",
];

/// How many dead letters `replay --all` requeues per page.
const REPLAY_PAGE: usize = 100;

/// Inspect the inbox in Redis: depths, dead letters, and requeue them
///
/// Reads the keys RedisInbox writes (`<prefix>{<namespace>}:s`, `:r`, `:dl`), as
/// examples/receiver.rs (LEDGERHOOK_INBOX=redis) and examples/worker.rs use them: one
/// namespace per route, `railz`, `rootfi` and `rootfi-v3`.
#[derive(Debug, clap::Args)]
#[command(after_help = INBOX_EXIT_CODES)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: InboxCommand,
}

#[derive(Debug, Subcommand)]
enum InboxCommand {
    Stats(StatsArgs),
    Dlq(DlqArgs),
}

/// The dead letters: envelopes that failed their last attempt or could not be parsed
#[derive(Debug, clap::Args)]
#[command(after_help = INBOX_EXIT_CODES)]
struct DlqArgs {
    #[command(subcommand)]
    command: DlqCommand,
}

#[derive(Debug, Subcommand)]
enum DlqCommand {
    List(ListArgs),
    Show(ShowArgs),
    Replay(ReplayArgs),
}

#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Store")]
struct StoreArgs {
    /// The Redis server, e.g. redis://127.0.0.1:6379/ (a password in it shows in the
    /// process list: prefer the variable) [default: $LEDGERHOOK_REDIS_URL]
    #[arg(long, value_name = "URL")]
    redis_url: Option<String>,
    /// A Redis Cluster instead: URLs of some of its masters, comma-separated
    #[arg(
        long,
        value_name = "URLS",
        value_delimiter = ',',
        conflicts_with = "redis_url"
    )]
    cluster: Vec<String>,
    /// The prefix of every inbox key
    #[arg(long, value_name = "PREFIX", default_value = RedisInbox::DEFAULT_PREFIX)]
    key_prefix: String,
    /// The workers' consumer group (whose held envelopes count as pending)
    #[arg(long, value_name = "GROUP", default_value = RedisInbox::DEFAULT_GROUP)]
    group: String,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Store")]
struct NamespaceArg {
    /// The inbox namespace: the receiver writes `railz`, `rootfi` and `rootfi-v3`
    #[arg(long, value_name = "NS")]
    namespace: String,
}

/// Depth, pending, scheduled retries, dead letters and the oldest envelope's age, per
/// namespace
#[derive(Debug, clap::Args)]
#[command(after_help = INBOX_EXIT_CODES)]
struct StatsArgs {
    /// An inbox namespace (repeatable)
    #[arg(
        long = "namespace",
        value_name = "NS",
        default_values = RECEIVER_NAMESPACES,
        help_heading = "Store"
    )]
    namespaces: Vec<String>,
    #[command(flatten)]
    store: StoreArgs,
}

/// List dead letters, oldest first, one page at a time
#[derive(Debug, clap::Args)]
#[command(after_help = INBOX_EXIT_CODES)]
struct ListArgs {
    /// At most this many
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u16).range(1..=10_000))]
    limit: u16,
    /// Start after this id (the last id of the previous page)
    #[arg(long, value_name = "ID", value_parser = parse_id)]
    after: Option<EnvelopeId>,
    #[command(flatten)]
    namespace: NamespaceArg,
    #[command(flatten)]
    store: StoreArgs,
}

/// Print one dead letter: metadata, last error, attempts, headers (sensitive values
/// redacted) and the body
#[derive(Debug, clap::Args)]
#[command(after_help = INBOX_EXIT_CODES)]
struct ShowArgs {
    /// The dead letter's id, as `dlq list` prints it
    #[arg(value_name = "ID", value_parser = parse_id)]
    id: EnvelopeId,
    /// Also redact this header's value (repeatable; names containing auth, signature,
    /// token, secret, key, cookie, password, session or credential always are)
    #[arg(long, value_name = "HEADER")]
    redact: Vec<String>,
    #[command(flatten)]
    namespace: NamespaceArg,
    #[command(flatten)]
    store: StoreArgs,
}

/// Requeue dead letters: ready again for the workers, with their attempts reset (and a
/// new id)
#[derive(Debug, clap::Args)]
#[command(after_help = INBOX_EXIT_CODES)]
struct ReplayArgs {
    /// The dead letters to requeue
    #[arg(value_name = "ID", value_parser = parse_id, required_unless_present = "all",
          conflicts_with = "all")]
    ids: Vec<EnvelopeId>,
    /// Requeue every dead letter there is when the command starts, oldest first
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    namespace: NamespaceArg,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) async fn run(args: &Args) -> Outcome {
    match &args.command {
        InboxCommand::Stats(args) => stats(args).await,
        InboxCommand::Dlq(dlq) => match &dlq.command {
            DlqCommand::List(args) => list(args).await,
            DlqCommand::Show(args) => show(args).await,
            DlqCommand::Replay(args) => replay(args).await,
        },
    }
}

/// A Redis stream id, `<ms>` or `<ms>-<seq>`: anything else Redis would refuse with an
/// error, which is a usage mistake, not an unreachable store.
fn parse_id(text: &str) -> Result<EnvelopeId, String> {
    let mut parts = text.splitn(2, '-');
    let digits = |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.parse::<u64>().is_ok());
    let ms = parts.next();
    let seq = parts.next();
    if digits(ms) && (seq.is_none() || digits(seq)) {
        Ok(EnvelopeId::new(text))
    } else {
        Err("not an inbox id: expected <milliseconds>-<sequence>, as `dlq list` prints".into())
    }
}

/// Opens `namespace` on the configured server or cluster (nothing is sent yet).
fn open(store: &StoreArgs, namespace: &str) -> Result<RedisInbox, Failure> {
    let inbox = if store.cluster.is_empty() {
        let url = match &store.redis_url {
            Some(url) => {
                if has_password(url) {
                    eprintln!(
                        "warning: the password in --redis-url shows in the process list and shell history; prefer {REDIS_URL_ENV}"
                    );
                }
                url.clone()
            }
            None => std::env::var(REDIS_URL_ENV)
                .ok()
                .filter(|url| !url.is_empty())
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "no Redis to talk to: set {REDIS_URL_ENV}, or pass --redis-url URL or --cluster URLS"
                    ))
                })?,
        };
        RedisInbox::open(&url, namespace)
    } else {
        RedisInbox::open_cluster(&store.cluster, namespace)
    };
    Ok(inbox
        .and_then(|inbox| inbox.key_prefix(&store.key_prefix))
        .map_err(|e| Failure::usage(format!("invalid {}: {}", e.setting(), e.reason())))?
        .group(&store.group))
}

/// `redis://user:password@host` or `redis://:password@host`.
fn has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// A store error as exit code 3, with its code and causes (never the URL: Redis client
/// errors name the failure, not the address).
fn store_failure(namespace: &str, err: &InboxError) -> Failure {
    let mut message = format!("namespace {namespace}: {err} ({})", err.kind().code());
    let mut source = err.source();
    while let Some(cause) = source {
        // Client errors often repeat their cause in their own text.
        let text = cause.to_string();
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    Failure::io(message)
}

async fn stats(args: &StatsArgs) -> Outcome {
    let mut rows = Vec::new();
    for namespace in &args.namespaces {
        let inbox = open(&args.store, namespace)?;
        let stats = inbox
            .stats()
            .await
            .map_err(|e| store_failure(namespace, &e))?;
        rows.push((namespace.as_str(), stats));
    }
    if args.store.json {
        let namespaces: Vec<Value> = rows
            .iter()
            .map(|(namespace, s)| {
                json!({
                    "namespace": namespace,
                    "depth": s.depth,
                    "pending": s.pending,
                    "scheduled_retries": s.scheduled_retries,
                    "dead_letters": s.dead_letters,
                    "oldest_age_ms": s.oldest_age.map(millis),
                })
            })
            .collect();
        print_json(&json!({ "namespaces": namespaces }));
        return Ok(());
    }
    let width = rows
        .iter()
        .map(|(namespace, _)| namespace.len())
        .chain(["NAMESPACE".len()])
        .max()
        .unwrap_or_default();
    println!(
        "{:<width$}  {:>8}  {:>8}  {:>9}  {:>12}  OLDEST",
        "NAMESPACE", "DEPTH", "PENDING", "RETRIES", "DEAD LETTERS"
    );
    for (namespace, s) in &rows {
        println!(
            "{namespace:<width$}  {:>8}  {:>8}  {:>9}  {:>12}  {}",
            s.depth,
            s.pending,
            s.scheduled_retries,
            s.dead_letters,
            s.oldest_age.map_or_else(|| "-".to_owned(), age),
        );
    }
    Ok(())
}

async fn list(args: &ListArgs) -> Outcome {
    let namespace = &args.namespace.namespace;
    let inbox = open(&args.store, namespace)?;
    let limit = usize::from(args.limit);
    // One more than shown tells whether there is a next page.
    let mut page = inbox
        .dead_letters(args.after.as_ref(), limit + 1)
        .await
        .map_err(|e| store_failure(namespace, &e))?;
    let more = page.len() > limit;
    page.truncate(limit);
    let next = more
        .then(|| page.last().map(|e| e.id.to_string()))
        .flatten();
    if args.store.json {
        let letters: Vec<Value> = page.iter().map(summary_json).collect();
        print_json(&json!({
            "namespace": namespace,
            "dead_letters": letters,
            "next_after": next,
        }));
        return Ok(());
    }
    if page.is_empty() {
        println!("no dead letters in namespace {namespace}");
        return Ok(());
    }
    let id_width = page
        .iter()
        .map(|e| e.id.as_str().len())
        .max()
        .unwrap_or_default();
    println!(
        "{:<id_width$}  {:<29}  {:>8}  {:<12}  {:<24}  LAST ERROR",
        "ID", "RECEIVED", "ATTEMPTS", "PROVIDER", "TAG"
    );
    for e in &page {
        println!(
            "{:<id_width$}  {:<29}  {:>8}  {:<12}  {:<24}  {}",
            e.id.as_str(),
            httpdate::fmt_http_date(e.received_at),
            e.attempts,
            e.provider,
            e.tag.as_deref().unwrap_or("-"),
            one_line(e.last_error.as_deref().unwrap_or("-")),
        );
    }
    if let Some(next) = next {
        println!(
            "more: ledgerhook inbox dlq list --namespace {namespace} --limit {limit} --after {next}"
        );
    }
    Ok(())
}

async fn show(args: &ShowArgs) -> Outcome {
    let namespace = &args.namespace.namespace;
    let inbox = open(&args.store, namespace)?;
    let Some(envelope) = inbox
        .dead_letter_by_id(&args.id)
        .await
        .map_err(|e| store_failure(namespace, &e))?
    else {
        return Err(not_found(namespace, &args.id));
    };
    let extra: Vec<String> = args.redact.iter().map(|n| n.to_ascii_lowercase()).collect();
    let redacted = |name: &str| is_sensitive(name) || extra.iter().any(|e| e == name);
    if args.store.json {
        let mut value = summary_json(&envelope);
        let headers: Vec<Value> = envelope
            .headers
            .iter()
            .map(|(name, v)| {
                let shown = if redacted(name.as_str()) {
                    Value::Null
                } else {
                    Value::from(String::from_utf8_lossy(v.as_bytes()))
                };
                json!({ "name": name.as_str(), "value": shown, "redacted": redacted(name.as_str()) })
            })
            .collect();
        if let Value::Object(map) = &mut value {
            map.insert("namespace".into(), Value::from(namespace.as_str()));
            map.insert("headers".into(), Value::from(headers));
            map.insert("body_len".into(), Value::from(envelope.body.len()));
            match std::str::from_utf8(&envelope.body) {
                Ok(text) => map.insert("body".into(), Value::from(text)),
                Err(_) => map.insert(
                    "body_base64".into(),
                    Value::from(base64::engine::general_purpose::STANDARD.encode(&envelope.body)),
                ),
            };
        }
        print_json(&value);
        return Ok(());
    }
    let e = &envelope;
    println!("id:          {}", e.id);
    println!("namespace:   {namespace}");
    println!("provider:    {}", e.provider);
    println!("tag:         {}", e.tag.as_deref().unwrap_or("-"));
    println!("dedup key:   {}", e.dedup_key.as_deref().unwrap_or("-"));
    println!(
        "received:    {} ({} ms since the Unix epoch)",
        httpdate::fmt_http_date(e.received_at),
        unix_millis(e.received_at)
    );
    println!("attempts:    {}", e.attempts);
    println!(
        "last error:  {}",
        one_line(e.last_error.as_deref().unwrap_or("-"))
    );
    println!("headers:");
    if e.headers.is_empty() {
        println!("  (none kept)");
    }
    for (name, value) in &e.headers {
        if redacted(name.as_str()) {
            println!("  {name}: <redacted, {} bytes>", value.len());
        } else {
            println!("  {name}: {}", String::from_utf8_lossy(value.as_bytes()));
        }
    }
    match std::str::from_utf8(&e.body) {
        Ok(text) => println!("body ({} bytes):\n{text}", e.body.len()),
        Err(_) => println!(
            "body ({} bytes, not UTF-8, base64):\n{}",
            e.body.len(),
            base64::engine::general_purpose::STANDARD.encode(&e.body)
        ),
    }
    Ok(())
}

async fn replay(args: &ReplayArgs) -> Outcome {
    let namespace = &args.namespace.namespace;
    let inbox = open(&args.store, namespace)?;
    let failed = |e: InboxError| store_failure(namespace, &e);
    let mut requeued = Vec::new();
    let mut missing = Vec::new();
    if args.all {
        // Only what is there now: at most today's count, oldest first, so an envelope
        // that fails again while this runs is not replayed in a loop.
        let budget = inbox.stats().await.map_err(failed)?.dead_letters;
        let mut done = 0_u64;
        'pages: while done < budget {
            let page = inbox
                .dead_letters(None, REPLAY_PAGE)
                .await
                .map_err(failed)?;
            if page.is_empty() {
                break;
            }
            for envelope in page {
                if done == budget {
                    break 'pages;
                }
                done += 1;
                // Gone in between (another replay, a trim): nothing to do.
                if let Some(new) = inbox.requeue(&envelope.id).await.map_err(failed)? {
                    requeued.push((envelope.id, new));
                }
            }
        }
    } else {
        for id in &args.ids {
            match inbox.requeue(id).await.map_err(failed)? {
                Some(new) => requeued.push((id.clone(), new)),
                None => missing.push(id.clone()),
            }
        }
    }
    if args.store.json {
        let list: Vec<Value> = requeued
            .iter()
            .map(|(old, new)| json!({ "id": old.as_str(), "new_id": new.as_str() }))
            .collect();
        let missing: Vec<&str> = missing.iter().map(EnvelopeId::as_str).collect();
        print_json(&json!({ "namespace": namespace, "requeued": list, "not_found": missing }));
    } else {
        for (old, new) in &requeued {
            println!("requeued {old} as {new}");
        }
        println!(
            "{} dead letter{} requeued in namespace {namespace}",
            requeued.len(),
            if requeued.len() == 1 { "" } else { "s" }
        );
    }
    match missing.as_slice() {
        [] => Ok(()),
        [one] => Err(not_found(namespace, one)),
        many => Err(Failure::refused(format!(
            "not found in namespace {namespace}: dead letters {}",
            many.iter()
                .map(EnvelopeId::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn not_found(namespace: &str, id: &EnvelopeId) -> Failure {
    Failure::refused(format!("no dead letter {id} in namespace {namespace}"))
}

fn is_sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SENSITIVE.iter().any(|word| name.contains(word))
}

/// What `list` shows of a dead letter (no body, no headers).
fn summary_json(e: &Envelope) -> Value {
    json!({
        "id": e.id.as_str(),
        "provider": e.provider,
        "tag": e.tag,
        "dedup_key": e.dedup_key,
        "received_at_ms": unix_millis(e.received_at),
        "attempts": e.attempts,
        "last_error": e.last_error,
    })
}

fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn unix_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, millis)
}

/// `850ms`, `12.3s`, `4m05s`, `2h07m`, `3d04h`.
fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{}ms", d.subsec_millis()),
        1..60 => format!("{s}.{}s", d.subsec_millis() / 100),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// An error text on one line of a table.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_redis_stream_ids() {
        assert!(parse_id("1700000000000-0").is_ok());
        assert!(parse_id("1700000000000").is_ok());
        for bad in ["", "-", "1-", "-1", "a-1", "1-b", "1-2-3", "(1-0", "+"] {
            assert!(parse_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_in_urls_are_noticed() {
        assert!(has_password("redis://:hunter2@127.0.0.1:6379/"));
        assert!(has_password("redis://user:hunter2@127.0.0.1/0"));
        assert!(!has_password("redis://user@127.0.0.1/0"));
        assert!(!has_password("redis://127.0.0.1:6379/"));
        assert!(!has_password("redis://127.0.0.1/?a=b@c:d"));
    }

    #[test]
    fn sensitive_names() {
        for name in [
            "railz-signature",
            "x-rootfi-signature",
            "api_key",
            "authorization",
            "Cookie",
            "x-webhook-token",
        ] {
            assert!(is_sensitive(name), "{name}");
        }
        for name in ["user-agent", "content-type", "webhook-id", "x-request-id"] {
            assert!(!is_sensitive(name), "{name}");
        }
    }

    #[test]
    fn ages() {
        assert_eq!(age(Duration::from_millis(850)), "850ms");
        assert_eq!(age(Duration::from_millis(12_345)), "12.3s");
        assert_eq!(age(Duration::from_secs(245)), "4m05s");
        assert_eq!(age(Duration::from_secs(2 * 3600 + 7 * 60)), "2h07m");
        assert_eq!(age(Duration::from_secs(3 * 86_400 + 4 * 3600)), "3d04h");
    }
}
