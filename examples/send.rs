//! A local stand-in for the providers: signs a fixture and posts it to the receiver.
//!
//! ```text
//! cargo run --example send -- <railz|rootfi|rootfi-v3> <fixture.json> [--url URL]
//! ```
//!
//! Signs with the same variables as examples/receiver.rs (`RAILZ_WEBHOOK_SECRET`,
//! `ROOTFI_WEBHOOK_SECRET`, `ROOTFI_V3_HEADER` + `ROOTFI_V3_TOKEN`) and the same development
//! defaults. The default URL is `http://$LEDGERHOOK_ADDR/webhooks/<provider>`
//! (`LEDGERHOOK_ADDR` defaults to `127.0.0.1:3000`). Prints the status (and whether the
//! receiver answered it as a duplicate) and the body, and exits with 1 unless the status is
//! 2xx.

use std::time::SystemTime;

use bytes::Bytes;
use http::{Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ledgerhook::Verifier;

// Must match examples/receiver.rs.
const DEV_RAILZ_SECRET: &str = "ledgerhook-dev-railz-secret";
const DEV_ROOTFI_SECRET: &str = "ledgerhook-dev-rootfi-secret";
const DEV_ROOTFI_V3_TOKEN: &str = "ledgerhook-dev-rootfi-v3-token";
const DEFAULT_ROOTFI_V3_HEADER: &str = "api_key";
const DEFAULT_ADDR: &str = "127.0.0.1:3000";

const USAGE: &str = "usage: send <railz|rootfi|rootfi-v3> <fixture.json> [--url URL]";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn env_or(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn verifier(provider: &str) -> Result<Verifier, BoxError> {
    Ok(match provider {
        "railz" => Verifier::railz(env_or("RAILZ_WEBHOOK_SECRET", DEV_RAILZ_SECRET))?,
        "rootfi" => Verifier::rootfi(env_or("ROOTFI_WEBHOOK_SECRET", DEV_ROOTFI_SECRET))?,
        "rootfi-v3" => {
            let name = env_or("ROOTFI_V3_HEADER", DEFAULT_ROOTFI_V3_HEADER);
            Verifier::shared_secret(
                header::HeaderName::try_from(name)?,
                env_or("ROOTFI_V3_TOKEN", DEV_ROOTFI_V3_TOKEN),
            )?
        }
        other => return Err(format!("unknown provider {other:?}\n{USAGE}").into()),
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let (Some(provider), Some(fixture)) = (args.next(), args.next()) else {
        return Err(USAGE.into());
    };
    let url = match (args.next().as_deref(), args.next()) {
        (Some("--url"), Some(url)) => url,
        (None, _) => {
            format!(
                "http://{}/webhooks/{provider}",
                env_or("LEDGERHOOK_ADDR", DEFAULT_ADDR)
            )
        }
        _ => return Err(USAGE.into()),
    };

    let body = Bytes::from(std::fs::read(&fixture).map_err(|e| format!("{fixture}: {e}"))?);
    let signature_headers = verifier(&provider)?.sign(&body, SystemTime::now());

    let mut request = Request::post(&url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(body))?;
    request.headers_mut().extend(signature_headers);

    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status();
    // The receiver's idempotency layer answers a redelivery without calling the handler.
    let duplicate = response
        .headers()
        .get("x-ledgerhook-duplicate")
        .is_some_and(|v| v == "true");
    let body = response.into_body().collect().await?.to_bytes();
    if duplicate {
        println!("{status} (duplicate: already handled, the handler did not run again)");
    } else {
        println!("{status}");
    }
    println!("{}", String::from_utf8_lossy(&body));
    if !status.is_success() {
        std::process::exit(1);
    }
    Ok(())
}
