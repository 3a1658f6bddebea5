//! The inbox worker: processes what `cargo run --example receiver` stored in inbox mode.
//!
//! ```text
//! eval "$(scripts/redis.sh start)"        # or any Redis; exports LEDGERHOOK_REDIS_URL
//! LEDGERHOOK_INBOX=redis cargo run --features inbox-redis --example receiver
//! cargo run --features inbox-redis --example worker      # as many as you like
//! cargo run -p ledgerhook-cli -- send railz tests/fixtures/railz_auth.json
//! ```
//!
//! One worker per inbox namespace the receiver writes (`railz`, `rootfi`, `rootfi-v3`),
//! each parsing its provider's typed event from the stored bytes. A handler error is
//! retried with backoff (8 attempts), then the envelope goes to the dead letters, where
//! `requeue` replays it. Ctrl-C or SIGTERM stops reading, lets running handlers finish (10 s) and
//! hands back the rest. `WORKER_NAME` names this process in the consumer group (default:
//! pid-based); `RUST_LOG` adjusts logging (default `info`).

use std::time::Duration;

use ledgerhook::inbox::{InboxStore, RedisInbox, Worker};
use ledgerhook::{railz, rootfi};

/// Your business logic: write to your database, call your ledger, etc. An `Err` is
/// retried later; return `ledgerhook::inbox::Permanent` for errors a retry cannot fix.
async fn on_railz(event: railz::Event) -> Result<(), std::io::Error> {
    tracing::info!(
        provider = "railz",
        event = event.tag(),
        known = event.is_known(),
        "processed"
    );
    Ok(())
}

async fn on_rootfi(event: rootfi::Event) -> Result<(), std::io::Error> {
    tracing::info!(
        provider = "rootfi",
        event = event.tag(),
        known = event.is_known(),
        "processed"
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let url = std::env::var("LEDGERHOOK_REDIS_URL")
        .map_err(|_| "set LEDGERHOOK_REDIS_URL (e.g. eval \"$(scripts/redis.sh start)\")")?;
    let name =
        std::env::var("WORKER_NAME").unwrap_or_else(|_| format!("worker-{}", std::process::id()));
    let railz_inbox = RedisInbox::open(&url, "railz")?;
    railz_inbox.ping().await?;

    // Every worker stops when Ctrl-C (or SIGTERM from a supervisor) arrives.
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let shutdown = |stop: &tokio::sync::broadcast::Sender<()>| {
        let mut rx = stop.subscribe();
        async move {
            let _ = rx.recv().await;
        }
    };
    let railz = settings(Worker::<railz::Event>::new(railz_inbox, on_railz).consumer(&name))
        .run(shutdown(&stop));
    let rootfi = settings(
        Worker::<rootfi::Event>::new(RedisInbox::open(&url, "rootfi")?, on_rootfi).consumer(&name),
    )
    .run(shutdown(&stop));
    let rootfi_v3 = settings(
        Worker::<rootfi::Event>::new(RedisInbox::open(&url, "rootfi-v3")?, on_rootfi)
            .consumer(&name),
    )
    .run(shutdown(&stop));

    tracing::info!(consumer = %name, "processing inboxes railz, rootfi, rootfi-v3 on {}", redact(&url));
    let signal = async {
        terminated().await;
        tracing::info!("shutting down: finishing in-flight events");
        let _ = stop.send(());
    };
    let ((), railz, rootfi, rootfi_v3) = tokio::join!(signal, railz, rootfi, rootfi_v3);
    tracing::info!(?railz, ?rootfi, ?rootfi_v3, "stopped");

    // What is left for an operator: dead letters to inspect and requeue.
    let dead = RedisInbox::open(&url, "railz")?.stats().await?.dead_letters;
    if dead > 0 {
        tracing::warn!(
            dead,
            "railz dead letters waiting (InboxStore::dead_letters / requeue)"
        );
    }
    Ok(())
}

/// The settings every worker here uses (these are the defaults, spelled out).
fn settings<E: ledgerhook::WebhookPayload>(worker: Worker<E>) -> Worker<E> {
    worker
        .concurrency(16)
        .max_attempts(8)
        .visibility_timeout(Duration::from_secs(60))
        .handler_timeout(Duration::from_secs(30))
}

/// Ctrl-C, or SIGTERM (what a supervisor sends) on Unix.
async fn terminated() {
    #[cfg(unix)]
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// The URL without its password, for the log.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
