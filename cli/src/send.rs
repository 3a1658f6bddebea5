//! `ledgerhook send`: sign a body and post it, like a provider would.

use std::path::PathBuf;

use bytes::Bytes;
use http::{Request, header};
use http_body_util::Full;

use crate::failure::{EXIT_CODES, Failure, Outcome};
use crate::scheme::{self, DEFAULT_ADDR, SchemeArgs, SchemeName, SecretArgs};

/// Sign FILE and POST it, then print the status, the response headers and the body
///
/// The default URL is http://$LEDGERHOOK_ADDR/webhooks/<scheme> (LEDGERHOOK_ADDR defaults to
/// 127.0.0.1:3000), where `ledgerhook listen` and examples/receiver.rs listen.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub(crate) struct Args {
    /// The signature scheme
    #[arg(value_enum)]
    pub(crate) scheme: SchemeName,
    /// The body to send, byte for byte (`-` for stdin)
    pub(crate) file: PathBuf,
    /// Where to send it [default: http://$LEDGERHOOK_ADDR/webhooks/<scheme>]
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<String>,
    /// Sign at this time (Unix seconds) instead of now, e.g. to see a stale delivery refused
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub(crate) timestamp: Option<u64>,
    /// The Content-Type sent
    #[arg(long, value_name = "TYPE", default_value = "application/json")]
    pub(crate) content_type: String,
    #[command(flatten)]
    pub(crate) secret: SecretArgs,
    #[command(flatten)]
    pub(crate) scheme_args: SchemeArgs,
}

fn default_url(scheme: SchemeName) -> String {
    let addr = std::env::var("LEDGERHOOK_ADDR")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_ADDR.to_owned());
    format!("http://{addr}/webhooks/{}", scheme.name())
}

pub(crate) async fn run(args: &Args) -> Outcome {
    let body = Bytes::from(scheme::read_body(&args.file)?);
    let secret = scheme::secret(args.scheme, &args.secret)?;
    let verifier = scheme::verifier(args.scheme, &args.scheme_args, &secret)?;
    let url = args.url.clone().unwrap_or_else(|| default_url(args.scheme));
    let uri: http::Uri = url
        .parse()
        .map_err(|_| Failure::usage(format!("--url {url:?} is not a URL")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(Failure::usage(format!(
            "--url {url:?}: use an http:// or https:// URL"
        )));
    }
    let signature = verifier.sign(&body, scheme::signing_time(args.timestamp));
    let mut request = Request::post(uri)
        .header(header::CONTENT_TYPE, &args.content_type)
        .body(Full::new(body))
        .map_err(|e| Failure::usage(format!("--content-type: {e}")))?;
    request.headers_mut().extend(signature);

    let response = crate::http_client::send(request).await?;
    println!("{:?} {}", response.version(), response.status());
    for (name, value) in response.headers() {
        println!("{name}: {}", String::from_utf8_lossy(value.as_bytes()));
    }
    println!();
    println!("{}", String::from_utf8_lossy(response.body()));
    if response.status().is_success() {
        Ok(())
    } else {
        Err(Failure::silent_refusal())
    }
}
