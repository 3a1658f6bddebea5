//! Choosing a signature scheme and its secret from the command line.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use clap::ValueEnum;
use http::HeaderName;
use ledgerhook::Verifier;
use ledgerhook::signature::{Encoding, HmacScheme, SignatureFormat, SignedContent, TimestampUnit};

use crate::failure::Failure;

/// The development address, shared with examples/receiver.rs.
pub(crate) const DEFAULT_ADDR: &str = "127.0.0.1:3000";
/// The RootFi v3 token header when `ROOTFI_V3_HEADER` is not set (as examples/receiver.rs).
pub(crate) const DEFAULT_ROOTFI_V3_HEADER: &str = "api_key";

/// A signature scheme: a provider preset or `custom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SchemeName {
    /// Railz: `Railz-Signature: t=<ms>,v=<hex>` over `<t>.<body>`.
    Railz,
    /// RootFi v4: `X-RootFi-Signature: <hex>` over the body (the unverified default).
    Rootfi,
    /// RootFi v3: a custom header (`ROOTFI_V3_HEADER`, default `api_key`) carrying a token.
    RootfiV3,
    /// Stripe-style: `Stripe-Signature: t=<s>,v1=<hex>` over `<t>.<body>`.
    Stripe,
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`.
    StandardWebhooks,
    /// Slack: `X-Slack-Signature: v0=<hex>` over `v0:<t>:<body>`, `X-Slack-Request-Timestamp`.
    Slack,
    /// Paddle Billing: `Paddle-Signature: ts=<s>;h1=<hex>` over `<ts>:<body>`.
    Paddle,
    /// GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body.
    Github,
    /// `Authorization: Bearer <token>` (Railz's optional bearer authorization).
    Bearer,
    /// Any HMAC-SHA256 scheme described by --header, --encoding, --prefix, --content.
    Custom,
}

impl SchemeName {
    /// Every preset, in `--help` order (`custom` is not one).
    pub(crate) const PRESETS: [Self; 9] = [
        Self::Railz,
        Self::Rootfi,
        Self::RootfiV3,
        Self::Stripe,
        Self::StandardWebhooks,
        Self::Slack,
        Self::Paddle,
        Self::Github,
        Self::Bearer,
    ];

    /// The name on the command line, also the route `/webhooks/<name>`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Railz => "railz",
            Self::Rootfi => "rootfi",
            Self::RootfiV3 => "rootfi-v3",
            Self::Stripe => "stripe",
            Self::StandardWebhooks => "standard-webhooks",
            Self::Slack => "slack",
            Self::Paddle => "paddle",
            Self::Github => "github",
            Self::Bearer => "bearer",
            Self::Custom => "custom",
        }
    }

    /// The environment variable the secret is read from by default.
    pub(crate) fn secret_env(self) -> &'static str {
        match self {
            Self::Railz => "RAILZ_WEBHOOK_SECRET",
            Self::Rootfi => "ROOTFI_WEBHOOK_SECRET",
            Self::RootfiV3 => "ROOTFI_V3_TOKEN",
            Self::Stripe => "STRIPE_WEBHOOK_SECRET",
            Self::StandardWebhooks => "STANDARD_WEBHOOK_SECRET",
            Self::Slack => "SLACK_SIGNING_SECRET",
            Self::Paddle => "PADDLE_WEBHOOK_SECRET",
            Self::Github => "GITHUB_WEBHOOK_SECRET",
            Self::Bearer => "LEDGERHOOK_BEARER_TOKEN",
            Self::Custom => "LEDGERHOOK_WEBHOOK_SECRET",
        }
    }

    /// The fixed development secret used when the variable is not set. The first three are
    /// examples/receiver.rs's, so `send` and the example receiver agree out of the box.
    pub(crate) fn dev_secret(self) -> &'static str {
        match self {
            Self::Railz => "ledgerhook-dev-railz-secret",
            Self::Rootfi => "ledgerhook-dev-rootfi-secret",
            Self::RootfiV3 => "ledgerhook-dev-rootfi-v3-token",
            Self::Stripe => "ledgerhook-dev-stripe-secret",
            Self::StandardWebhooks => "ledgerhook-dev-standard-webhooks-secret",
            Self::Slack => "ledgerhook-dev-slack-secret",
            Self::Paddle => "ledgerhook-dev-paddle-secret",
            Self::Github => "ledgerhook-dev-github-secret",
            Self::Bearer => "ledgerhook-dev-bearer-token",
            Self::Custom => "ledgerhook-dev-custom-secret",
        }
    }
}

/// Where the secret comes from.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct SecretArgs {
    /// Read the signing secret (or token) from environment variable VAR. Default: the
    /// scheme's variable (RAILZ_WEBHOOK_SECRET, ROOTFI_WEBHOOK_SECRET, ROOTFI_V3_TOKEN,
    /// STRIPE_WEBHOOK_SECRET, STANDARD_WEBHOOK_SECRET, SLACK_SIGNING_SECRET,
    /// PADDLE_WEBHOOK_SECRET, GITHUB_WEBHOOK_SECRET, LEDGERHOOK_BEARER_TOKEN,
    /// LEDGERHOOK_WEBHOOK_SECRET for custom); if that is not set, a fixed development
    /// secret, with a warning
    #[arg(long, value_name = "VAR")]
    pub(crate) secret_env: Option<String>,
    /// The secret itself. Visible in the process list and shell history (a warning is
    /// printed): prefer --secret-env
    #[arg(long, value_name = "SECRET", conflicts_with = "secret_env")]
    pub(crate) secret: Option<String>,
}

/// Signature header encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EncodingArg {
    /// Lowercase hexadecimal.
    Hex,
    /// Standard base64 with padding.
    Base64,
}

/// Timestamp unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum UnitArg {
    /// Seconds since the Unix epoch.
    S,
    /// Milliseconds since the Unix epoch.
    Ms,
}

/// How an HMAC scheme is laid out: required for `custom`, overrides for the HMAC presets.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Scheme (required for custom; overrides a preset)")]
pub(crate) struct SchemeArgs {
    /// The header carrying the signature (or, for rootfi-v3, the token)
    #[arg(long = "header", value_name = "NAME")]
    pub(crate) header: Option<String>,
    /// How the signature is written
    #[arg(long, value_enum, value_name = "ENCODING")]
    pub(crate) encoding: Option<EncodingArg>,
    /// A prefix the header value must start with, e.g. `sha256=`
    #[arg(long, value_name = "PREFIX")]
    pub(crate) prefix: Option<String>,
    /// What is signed: `{body}`, `{timestamp}.{body}` or `{id}.{timestamp}.{body}`
    #[arg(long, value_name = "TEMPLATE")]
    pub(crate) content: Option<String>,
    /// The header carrying the timestamp, for templates with `{timestamp}`
    #[arg(long, value_name = "NAME")]
    pub(crate) timestamp_header: Option<String>,
    /// The header carrying the message id, for templates with `{id}` [default: webhook-id]
    #[arg(long, value_name = "NAME")]
    pub(crate) id_header: Option<String>,
    /// The timestamp's unit
    #[arg(long, value_enum, value_name = "UNIT")]
    pub(crate) timestamp_unit: Option<UnitArg>,
}

impl SchemeArgs {
    fn any_hmac_setting(&self) -> bool {
        self.encoding.is_some()
            || self.prefix.is_some()
            || self.content.is_some()
            || self.timestamp_header.is_some()
            || self.id_header.is_some()
            || self.timestamp_unit.is_some()
    }
}

fn header_name(flag: &str, name: &str) -> Result<HeaderName, Failure> {
    HeaderName::try_from(name)
        .map_err(|_| Failure::usage(format!("{flag}: {name:?} is not a valid header name")))
}

/// Reads the secret for `scheme`, warning on stderr for `--secret` and for a development
/// fallback.
pub(crate) fn secret(scheme: SchemeName, args: &SecretArgs) -> Result<String, Failure> {
    if let Some(secret) = &args.secret {
        eprintln!(
            "warning: --secret puts the secret in the process list and shell history; prefer --secret-env VAR"
        );
        if secret.is_empty() {
            return Err(Failure::usage("--secret: the secret is empty"));
        }
        return Ok(secret.clone());
    }
    match &args.secret_env {
        Some(var) => match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(value),
            _ => Err(Failure::usage(format!(
                "--secret-env {var}: the variable is not set or empty"
            ))),
        },
        None => Ok(secret_or_dev(scheme)),
    }
}

/// The scheme's default variable, or its development secret with a warning.
pub(crate) fn secret_or_dev(scheme: SchemeName) -> String {
    let var = scheme.secret_env();
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => value,
        _ => {
            let shared = if scheme == SchemeName::Custom {
                ""
            } else {
                " (the one `ledgerhook listen` uses)"
            };
            eprintln!(
                "warning: {var} is not set: using the fixed DEVELOPMENT secret for {}{shared}; \
                 anyone can sign with it, set {var} for real deliveries",
                scheme.name()
            );
            scheme.dev_secret().to_owned()
        }
    }
}

/// The RootFi v3 token header: --header, else `ROOTFI_V3_HEADER`, else `api_key`.
pub(crate) fn rootfi_v3_header(flag: Option<&str>) -> String {
    flag.map(str::to_owned)
        .or_else(|| {
            std::env::var("ROOTFI_V3_HEADER")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .unwrap_or_else(|| DEFAULT_ROOTFI_V3_HEADER.to_owned())
}

/// Standard Webhooks secrets are written `whsec_<base64>`: the key is the decoded part.
fn standard_webhooks_key(secret: &str) -> Result<Vec<u8>, Failure> {
    match secret.strip_prefix("whsec_") {
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| Failure::usage("the whsec_ secret is not valid base64")),
        None => Ok(secret.as_bytes().to_vec()),
    }
}

fn hmac_scheme(scheme: SchemeName, args: &SchemeArgs) -> Result<HmacScheme, Failure> {
    let mut hmac = match scheme {
        SchemeName::Railz => HmacScheme::railz(),
        SchemeName::Rootfi => HmacScheme::rootfi_v4(),
        SchemeName::Stripe => HmacScheme::stripe(),
        SchemeName::StandardWebhooks => HmacScheme::standard_webhooks(),
        SchemeName::Slack => HmacScheme::slack(),
        SchemeName::Paddle => HmacScheme::paddle(),
        SchemeName::Github => HmacScheme::github(),
        SchemeName::Custom => {
            let Some(header) = &args.header else {
                return Err(Failure::usage("custom schemes need --header NAME"));
            };
            HmacScheme::new(header_name("--header", header)?)
        }
        SchemeName::RootfiV3 | SchemeName::Bearer => {
            return Err(Failure::usage(format!(
                "{} is not an HMAC scheme",
                scheme.name()
            )));
        }
    };
    if let Some(header) = &args.header {
        hmac = hmac.signature_header(header_name("--header", header)?);
    }
    if let Some(encoding) = args.encoding {
        hmac = hmac.encoding(match encoding {
            EncodingArg::Hex => Encoding::Hex,
            EncodingArg::Base64 => Encoding::Base64,
        });
    }
    if let Some(prefix) = &args.prefix {
        hmac = hmac.format(SignatureFormat::required_prefix(prefix.clone()));
    }
    if let Some(unit) = args.timestamp_unit {
        hmac = hmac.timestamp_unit(match unit {
            UnitArg::S => TimestampUnit::Seconds,
            UnitArg::Ms => TimestampUnit::Milliseconds,
        });
    }
    if let Some(header) = &args.timestamp_header {
        hmac = hmac.timestamp_header(header_name("--timestamp-header", header)?);
    }
    if let Some(template) = &args.content {
        // `{id}` is shorthand for the id header's value; any other template goes to the
        // library's template grammar (`{timestamp}`, `{body}`, `{header:<name>}`).
        let id_header = header_name(
            "--id-header",
            args.id_header.as_deref().unwrap_or("webhook-id"),
        )?;
        let expanded = template.replace("{id}", &format!("{{header:{id_header}}}"));
        let content = SignedContent::template(&expanded)
            .map_err(|err| Failure::usage(format!("--content {template:?}: {err}")))?;
        hmac = hmac.signed_content(content);
    }
    Ok(hmac)
}

/// The verifier (and signer) for `scheme` with `secret` and the command line's settings.
pub(crate) fn verifier(
    scheme: SchemeName,
    args: &SchemeArgs,
    secret: &str,
) -> Result<Verifier, Failure> {
    let invalid =
        |err: ledgerhook::ConfigError| Failure::usage(format!("{}: {err}", scheme.name()));
    match scheme {
        SchemeName::RootfiV3 | SchemeName::Bearer if args.any_hmac_setting() => {
            Err(Failure::usage(format!(
                "{} carries a token, not a signature: --encoding, --prefix, --content and the timestamp/id options do not apply",
                scheme.name()
            )))
        }
        SchemeName::RootfiV3 => {
            let name = rootfi_v3_header(args.header.as_deref());
            Verifier::shared_secret(header_name("--header", &name)?, secret).map_err(invalid)
        }
        SchemeName::Bearer => {
            if args.header.is_some() {
                return Err(Failure::usage(
                    "bearer always uses the Authorization header",
                ));
            }
            Verifier::bearer(secret).map_err(invalid)
        }
        SchemeName::StandardWebhooks => {
            Verifier::hmac(hmac_scheme(scheme, args)?, standard_webhooks_key(secret)?)
                .map_err(invalid)
        }
        _ => Verifier::hmac(hmac_scheme(scheme, args)?, secret).map_err(invalid),
    }
}

/// Whether the scheme's headers carry the secret itself (so printing them shows it).
pub(crate) fn carries_token(scheme: SchemeName) -> bool {
    matches!(scheme, SchemeName::RootfiV3 | SchemeName::Bearer)
}

/// `--timestamp` (Unix seconds) or now.
pub(crate) fn signing_time(timestamp: Option<u64>) -> SystemTime {
    timestamp.map_or_else(SystemTime::now, |secs| {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    })
}

/// Reads FILE (`-` for stdin).
pub(crate) fn read_body(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    if path.as_os_str() == "-" {
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut body)
            .map_err(|e| Failure::io(format!("stdin: {e}")))?;
        return Ok(body);
    }
    std::fs::read(path).map_err(|e| Failure::io(format!("{}: {e}", path.display())))
}
