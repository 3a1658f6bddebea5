//! `ledgerhook listen`: a local receiver that verifies every delivery and says why it
//! refused one.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use ledgerhook::{Verifier, WebhookPayload, railz, rootfi};
use tokio::sync::Notify;

use crate::failure::{EXIT_CODES, Failure, Outcome};
use crate::scheme::{self, DEFAULT_ADDR, SchemeArgs, SchemeName};

/// The body limit, as the library's layer default (large RootFi batches fit).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Receive deliveries locally, verify each one and print the event or why it was refused
///
/// Serves POST /webhooks/<scheme> for every preset (railz, rootfi, rootfi-v3, stripe,
/// standard-webhooks, slack, paddle, github, bearer), each verified with the secret from the scheme's environment
/// variable (see `ledgerhook sign --help`) or, when it is not set, the development secret
/// that `ledgerhook send` also uses. A refused delivery is explained (which common mistake
/// would have made it verify, see `ledgerhook verify --help`). Point a tunnel at it while
/// developing.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub(crate) struct Args {
    /// The address to listen on [default: $LEDGERHOOK_ADDR, else 127.0.0.1:3000]; port 0
    /// picks a free port (printed on the first line)
    #[arg(long, value_name = "ADDR")]
    pub(crate) addr: Option<String>,
    /// Stop after this many deliveries (for scripts and tests)
    #[arg(long, value_name = "N")]
    pub(crate) max_deliveries: Option<u64>,
}

struct Receiver {
    routes: HashMap<&'static str, (SchemeName, Verifier)>,
    seen: AtomicU64,
    max: Option<u64>,
    done: Notify,
}

pub(crate) async fn run(args: &Args) -> Outcome {
    let mut routes = HashMap::new();
    for name in SchemeName::PRESETS {
        let secret = scheme::secret_or_dev(name);
        let verifier = scheme::verifier(name, &SchemeArgs::default(), &secret)?;
        routes.insert(name.name(), (name, verifier));
    }
    let receiver = Arc::new(Receiver {
        routes,
        seen: AtomicU64::new(0),
        max: args.max_deliveries,
        done: Notify::new(),
    });
    let addr = args.addr.clone().unwrap_or_else(|| {
        std::env::var("LEDGERHOOK_ADDR")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_ADDR.to_owned())
    });
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| Failure::io(format!("listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::io(format!("listen on {addr}: {e}")))?;
    println!("listening on http://{local}");
    for name in SchemeName::PRESETS {
        println!("  POST http://{local}/webhooks/{}", name.name());
    }

    let app = Router::new()
        .route("/webhooks/{scheme}", post(deliver))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(Arc::clone(&receiver));
    let stop = Arc::clone(&receiver);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                () = stop.done.notified() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        })
        .await
        .map_err(|e| Failure::io(format!("serve: {e}")))
}

async fn deliver(
    State(receiver): State<Arc<Receiver>>,
    Path(route): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = handle(&receiver, &route, &headers, &body);
    let count = receiver.seen.fetch_add(1, Ordering::SeqCst) + 1;
    if receiver.max.is_some_and(|max| count >= max) {
        receiver.done.notify_one();
    }
    answer
}

fn handle(receiver: &Receiver, route: &str, headers: &HeaderMap, body: &Bytes) -> Response {
    println!("-> POST /webhooks/{route} ({} bytes)", body.len());
    let Some((name, verifier)) = receiver.routes.get(route) else {
        println!("   rejected 404: no such route");
        return (StatusCode::NOT_FOUND, "no such route\n").into_response();
    };
    if let Err(err) = verifier.verify(headers, body) {
        let status = err.status();
        println!("   rejected {}: {err}", status.as_u16());
        // Every other route's verifier too, so a delivery sent to the wrong route (or
        // signed with another route's secret) says so.
        let others: Vec<(&str, &Verifier)> = SchemeName::PRESETS
            .iter()
            .map(|other| other.name())
            .filter(|other| *other != route)
            .filter_map(|other| Some((other, &receiver.routes.get(other)?.1)))
            .collect();
        let explanation = verifier.explain_with(headers, body, &others);
        for finding in explanation.findings() {
            println!("   - {finding}");
        }
        return (
            status,
            format!("{}\n", status.canonical_reason().unwrap_or("refused")),
        )
            .into_response();
    }
    match describe(*name, body) {
        Ok((tag, known, typed)) => {
            let known_text = if known {
                "known"
            } else {
                "unknown, kept as received"
            };
            println!(
                "   accepted 200: {} event `{tag}` ({known_text})",
                name.name()
            );
            for line in typed.lines() {
                println!("   {line}");
            }
            let answer =
                serde_json::json!({ "provider": name.name(), "event": tag, "known": known });
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                answer.to_string(),
            )
                .into_response()
        }
        Err((status, reason)) => {
            println!("   rejected {}: verified, but {reason}", status.as_u16());
            (
                status,
                format!("{}\n", status.canonical_reason().unwrap_or("refused")),
            )
                .into_response()
        }
    }
}

/// The event's tag, whether it is known, and the typed event as printed.
fn describe(
    name: SchemeName,
    body: &Bytes,
) -> Result<(String, bool, String), (StatusCode, String)> {
    let parse_error =
        |e: ledgerhook::ParseError| (e.status(), format!("the body does not parse: {e}"));
    match name {
        SchemeName::Railz | SchemeName::Bearer => {
            let event = railz::Event::parse(body).map_err(parse_error)?;
            Ok((
                event.tag().to_owned(),
                event.is_known(),
                format!("{event:#?}"),
            ))
        }
        SchemeName::Rootfi | SchemeName::RootfiV3 => {
            let event = rootfi::Event::parse(body).map_err(parse_error)?;
            Ok((
                event.tag().to_owned(),
                event.is_known(),
                format!("{event:#?}"),
            ))
        }
        // No typed model for these senders: show the JSON.
        _ => {
            let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
                (
                    StatusCode::BAD_REQUEST,
                    format!("the body is not JSON: {e}"),
                )
            })?;
            let tag = ["type", "event", "event_type"]
                .iter()
                .find_map(|k| value.get(k).and_then(|v| v.as_str()))
                .unwrap_or("")
                .to_owned();
            let shown = serde_json::to_string_pretty(&value).unwrap_or_default();
            Ok((tag, false, shown))
        }
    }
}
