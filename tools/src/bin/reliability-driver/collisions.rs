//! The collision cases: genuine deliveries that a deduplicating receiver could wrongly
//! merge, or wrongly handle twice. Counted from the receiver's records (`GET /stats`).
//!
//! | case | what is sent | passes when |
//! |---|---|---|
//! | `shared-request-id` | three different Railz events (full and simple `data`, `customerRequest`) carrying one `requestId`, one after the other | each handled exactly once |
//! | `digest-window` | one RootFi v4 `connection.changed` body (no nonce) three times: at once, right after, and after the body-digest window | handled at the first and third delivery, the second answered as a duplicate |
//! | `refused-then-retried` | a Railz event the handler refuses with `422` the first time, then the provider's retry (same bytes and signature) | handled once, by the retry |
//! | `store-full-replay` | a Railz delivery, then enough distinct RootFi v3 deliveries to fill the in-memory store, then an exact replay of the Railz delivery (inside its 5-minute window) | the replay answered `503` or as a duplicate, never handled twice |
//!
//! `digest-window` needs `--digest-window-ms` (the receiver's
//! `LEDGERHOOK_BODY_DIGEST_WINDOW_MS`); `store-full-replay` needs the in-memory store
//! (`store_capacity` in `/stats`). Either is reported as skipped otherwise.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ledgerhook_tools::{
    DEFAULT_ROOTFI_V3_HEADER, DEV_ROOTFI_SECRET, DEV_ROOTFI_V3_TOKEN, REFUSE_ONCE_PREFIX, Stats,
    env_or, railz_signature, rootfi_signature,
};

use crate::{Args, BoxError, HttpClient, fetch_stats};

/// The fixtures' shared `requestId`, replaced by one unique to the run.
const FIXTURE_REQUEST_ID: &str = "a3b4fc83-3e24-41aa-ba99-13cab09b0b7a";
const SHARED_ID_FIXTURES: [(&str, &str); 3] = [
    (
        "data (full)",
        include_str!("../../../../tests/fixtures/railz_data_full.json"),
    ),
    (
        "data (simple)",
        include_str!("../../../../tests/fixtures/railz_data_simple.json"),
    ),
    (
        "customerRequest",
        include_str!("../../../../tests/fixtures/railz_customer_request.json"),
    ),
];
const ATTEMPTS: u32 = 20;

/// One answer: status and whether it was marked as a duplicate.
#[derive(Debug, Clone, Copy)]
struct Answer {
    status: StatusCode,
    duplicate: bool,
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.status.as_u16())?;
        if self.duplicate {
            f.write_str(" (duplicate)")?;
        }
        Ok(())
    }
}

struct Cases {
    client: HttpClient,
    url: String,
    railz_secret: String,
    tag: String,
}

enum Verdict {
    Pass(String),
    Fail(String),
    Skipped(String),
}

/// One POST, its answer, its body read so the connection can be reused.
async fn post(
    client: &HttpClient,
    url: String,
    headers: &[(HeaderName, HeaderValue)],
    body: &Bytes,
) -> Result<Answer, BoxError> {
    let mut req = Request::post(url)
        .header("content-type", "application/json")
        .body(Full::new(body.clone()).boxed())?;
    req.headers_mut().extend(headers.iter().cloned());
    let res = tokio::time::timeout(Duration::from_secs(30), client.request(req))
        .await
        .map_err(|_| "timeout")??;
    let answer = Answer {
        status: res.status(),
        duplicate: res
            .headers()
            .get("x-ledgerhook-duplicate")
            .is_some_and(|v| v == "true"),
    };
    let _ = res.into_body().collect().await;
    Ok(answer)
}

impl Cases {
    async fn post(
        &self,
        path: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: &Bytes,
    ) -> Result<Answer, BoxError> {
        post(&self.client, format!("{}{path}", self.url), headers, body).await
    }

    /// Sends like a provider: retries on `409`, `5xx` and connection errors (same bytes,
    /// same headers) until another answer comes.
    async fn deliver(
        &self,
        path: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: &Bytes,
    ) -> Result<Answer, BoxError> {
        let mut last = Err::<Answer, BoxError>("never sent".into());
        for attempt in 1..=ATTEMPTS {
            last = self.post(path, headers, body).await;
            match &last {
                Ok(a) if a.status != StatusCode::CONFLICT && !a.status.is_server_error() => break,
                _ => tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await,
            }
        }
        last
    }

    fn railz(&self, body: &Bytes) -> Vec<(HeaderName, HeaderValue)> {
        vec![(
            HeaderName::from_static("railz-signature"),
            railz_signature(&self.railz_secret, body, SystemTime::now()),
        )]
    }

    async fn stats(&self) -> Result<Stats, BoxError> {
        fetch_stats(&self.client, &self.url).await
    }

    async fn shared_request_id(&self) -> Result<Verdict, BoxError> {
        let id = format!("shared-{}", self.tag);
        let mut answers = Vec::new();
        let mut bodies = Vec::new();
        for (name, fixture) in SHARED_ID_FIXTURES {
            let body = Bytes::from(fixture.replace(FIXTURE_REQUEST_ID, &id));
            let answer = self
                .deliver("/webhooks/railz", &self.railz(&body), &body)
                .await?;
            answers.push(format!("{name}: {answer}"));
            bodies.push((name, body));
        }
        let stats = self.stats().await?;
        let counts: Vec<String> = bodies
            .iter()
            .map(|(name, body)| format!("{name} x{}", stats.handled_body(body)))
            .collect();
        let detail = format!(
            "answers [{}]; handled [{}]",
            answers.join(", "),
            counts.join(", ")
        );
        Ok(
            if bodies.iter().all(|(_, body)| stats.handled_body(body) == 1) {
                Verdict::Pass(detail)
            } else {
                Verdict::Fail(detail)
            },
        )
    }

    async fn digest_window(&self, window: Option<Duration>) -> Result<Verdict, BoxError> {
        let Some(window) = window else {
            return Ok(Verdict::Skipped("no --digest-window-ms".to_owned()));
        };
        let company: u64 = u64::from_str_radix(&self.tag, 16).unwrap_or(1) % 1_000_000_000;
        let body = Bytes::from(format!(
            r#"{{"event":"connection.changed","company_id":{company}}}"#
        ));
        let secret = env_or("ROOTFI_WEBHOOK_SECRET", DEV_ROOTFI_SECRET);
        let headers = [(
            HeaderName::from_static("x-rootfi-signature"),
            rootfi_signature(&secret, &body),
        )];
        let first = self.deliver("/webhooks/rootfi", &headers, &body).await?;
        let again = self.deliver("/webhooks/rootfi", &headers, &body).await?;
        let inside = self.stats().await?.handled_body(&body);
        // Real time must pass here: the window is the receiver's, on its own clock. Only a
        // longer wait than needed can happen, which cannot make the case pass wrongly.
        tokio::time::sleep(window + Duration::from_millis(500)).await;
        let later = self.deliver("/webhooks/rootfi", &headers, &body).await?;
        let after = self.stats().await?.handled_body(&body);
        let detail = format!(
            "window {} ms; answers {first}, {again} (at once), {later} (after the window); \
             handled x{inside} inside, x{after} in all",
            window.as_millis()
        );
        Ok(if inside == 1 && again.duplicate && after == 2 {
            Verdict::Pass(detail)
        } else {
            Verdict::Fail(detail)
        })
    }

    async fn refused_then_retried(&self) -> Result<Verdict, BoxError> {
        let id = format!("{REFUSE_ONCE_PREFIX}{}", self.tag);
        let body = Bytes::from(format!(
            r#"{{"data":{{"event":"auth","connectionId":"CON-{id}","businessName":"BIZ-reliability","serviceName":"quickbooks"}},"requestId":"{id}"}}"#
        ));
        let headers = self.railz(&body);
        let first = self.deliver("/webhooks/railz", &headers, &body).await?;
        // The provider retries a 4xx the same way (same bytes, same signature).
        let retry = self.deliver("/webhooks/railz", &headers, &body).await?;
        let handled = self.stats().await?.handled_body(&body);
        let detail = format!("answers {first}, then {retry}; handled x{handled}");
        Ok(
            if first.status == StatusCode::UNPROCESSABLE_ENTITY
                && retry.status.is_success()
                && !retry.duplicate
                && handled == 1
            {
                Verdict::Pass(detail)
            } else {
                Verdict::Fail(detail)
            },
        )
    }

    async fn store_full_replay(&self) -> Result<Verdict, BoxError> {
        let before = self.stats().await?;
        let Some(capacity) = before.store_capacity else {
            return Ok(Verdict::Skipped(format!(
                "needs the in-memory store (dedup: {})",
                before.dedup
            )));
        };
        let id = format!("replay-{}", self.tag);
        let body = Bytes::from(format!(
            r#"{{"data":{{"event":"auth","connectionId":"CON-{id}","businessName":"BIZ-reliability","serviceName":"quickbooks"}},"requestId":"{id}"}}"#
        ));
        // Captured: the replay reuses these exact bytes and this signature.
        let captured = self.railz(&body);
        let original = self.deliver("/webhooks/railz", &captured, &body).await?;

        // Fill the store through another route (only the v3 token needed).
        let fill = capacity + capacity / 5 + 10;
        let header = HeaderName::try_from(env_or("ROOTFI_V3_HEADER", DEFAULT_ROOTFI_V3_HEADER))?;
        let token = HeaderValue::try_from(env_or("ROOTFI_V3_TOKEN", DEV_ROOTFI_V3_TOKEN))?;
        let mut answers = std::collections::BTreeMap::<String, u64>::new();
        let mut pending = tokio::task::JoinSet::new();
        for i in 0..fill {
            if pending.len() >= 16
                && let Some(done) = pending.join_next().await
            {
                *answers.entry(done?).or_default() += 1;
            }
            let body = Bytes::from(format!(
                r#"{{"webhook_type":"CONNECTION_CHANGED","company_id":{i},"integration_type":"ZOHO_BOOKS","connection_status":"HEALTHY","created_at":"fill-{}-{i}"}}"#,
                self.tag
            ));
            let headers = [(header.clone(), token.clone())];
            let client = self.client.clone();
            let url = format!("{}/webhooks/rootfi-v3", self.url);
            pending.spawn(async move {
                match post(&client, url, &headers, &body).await {
                    Ok(answer) => answer.status.as_u16().to_string(),
                    Err(_) => "error".to_owned(),
                }
            });
        }
        while let Some(done) = pending.join_next().await {
            *answers.entry(done?).or_default() += 1;
        }
        let filled = self.stats().await?.store_len.unwrap_or(0);

        // The replay, sent once: a 503 is an acceptable answer (nothing is lost, the
        // provider retries later).
        let replay = self.post("/webhooks/railz", &captured, &body).await?;
        let handled = self.stats().await?.handled_body(&body);
        let detail = format!(
            "original {original}; fill of {fill} v3 deliveries answered {answers:?}, store \
             held {filled} of {capacity} keys; replay answered {replay}; handled x{handled}"
        );
        let refused_or_duplicate = replay.status == StatusCode::SERVICE_UNAVAILABLE
            || (replay.status.is_success() && replay.duplicate);
        Ok(
            if original.status.is_success() && refused_or_duplicate && handled == 1 {
                Verdict::Pass(detail)
            } else {
                Verdict::Fail(detail)
            },
        )
    }
}

/// Runs every case and exits with 1 if any failed.
pub(crate) async fn run(args: &Args) -> Result<(), BoxError> {
    let tag = format!(
        "{:x}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    );
    let cases = Cases {
        client: Client::builder(TokioExecutor::new()).build_http(),
        url: args.url.clone(),
        railz_secret: args.secret.clone(),
        tag,
    };
    let results = [
        ("shared-request-id", cases.shared_request_id().await?),
        (
            "digest-window",
            cases.digest_window(args.digest_window).await?,
        ),
        ("refused-then-retried", cases.refused_then_retried().await?),
        // Last: it fills the store.
        ("store-full-replay", cases.store_full_replay().await?),
    ];
    let mut failed = 0;
    for (name, verdict) in &results {
        let (word, detail) = match verdict {
            Verdict::Pass(d) => ("PASS", d),
            Verdict::Fail(d) => {
                failed += 1;
                ("FAIL", d)
            }
            Verdict::Skipped(d) => ("SKIP", d),
        };
        println!("collision {name:<21} {word}: {detail}");
    }
    if failed == 0 {
        println!("COLLISIONS OK");
        Ok(())
    } else {
        println!("FAILED: {failed} collision case(s)");
        std::process::exit(1);
    }
}
