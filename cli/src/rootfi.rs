//! `ledgerhook rootfi webhooks create|update|delete`: register the receiver with RootFi.

use clap::{Subcommand, ValueEnum};
use ledgerhook::rootfi::{DataModel, IntegrationType, Operation, WebhookType};
use ledgerhook::setup::client::{ClientError, RootfiClient, V3_BASE_URL, V4_BASE_URL};
use ledgerhook::setup::rootfi::v4::{self, WebhookState};
use ledgerhook::setup::rootfi::{SigningKey, v3};
use serde_json::Value;

use crate::failure::{EXIT_CODES, Failure, Outcome};

/// RootFi (Commenda Integrations) management API
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: RootfiCommand,
}

#[derive(Debug, Subcommand)]
enum RootfiCommand {
    Webhooks(WebhooksArgs),
}

/// Create, update or delete webhooks (v3 `/v3/core/webhooks`, v4 `/v4/core/webhook-config`)
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
struct WebhooksArgs {
    #[command(subcommand)]
    command: WebhooksCommand,
}

#[derive(Debug, Subcommand)]
enum WebhooksCommand {
    Create(CreateArgs),
    Update(UpdateArgs),
    Delete(DeleteArgs),
}

/// Which RootFi API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Api {
    /// v3 (api.rootfi.dev): no signatures, authenticate with a custom header
    V3,
    /// v4 (api.integrations.commenda.io): signed with a signing key
    V4,
}

/// Webhook state (v4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StateArg {
    /// Deliveries are sent
    Enabled,
    /// Deliveries are paused
    Disabled,
}

#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Connection")]
struct Connection {
    /// The API version
    #[arg(long, value_enum, default_value = "v4")]
    api: Api,
    /// The environment variable holding the RootFi `api_key`
    #[arg(long, value_name = "VAR", default_value = "ROOTFI_API_KEY")]
    api_key_env: String,
    /// The API's base URL [default: https://api.rootfi.dev for v3,
    /// https://api.integrations.commenda.io for v4]
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
}

#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Webhook")]
struct Fields {
    /// The webhook type: DATA_MODEL_CHANGES, CONNECTION_CHANGED, SYNC_COMPLETED; v4 also
    /// SYNC_STARTED, INTEGRATION
    #[arg(long = "type", value_name = "TYPE")]
    webhook_type: Option<String>,
    /// Display name
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Destination URL (your receiver)
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// A custom header sent with each delivery (repeatable; not for secrets, see --secret-header)
    #[arg(long = "header", value_name = "NAME:VALUE")]
    headers: Vec<String>,
    /// A custom header whose value is read from environment variable VAR, e.g. the v3
    /// token: `--secret-header api_key=ROOTFI_V3_TOKEN` (repeatable)
    #[arg(long = "secret-header", value_name = "NAME=VAR")]
    secret_headers: Vec<String>,
    /// v3: an operation to subscribe to: CREATE, UPDATE, DELETE (repeatable)
    #[arg(long = "operation", value_name = "OPERATION")]
    operations: Vec<String>,
    /// v3: a data model to subscribe to, e.g. INVOICES (repeatable)
    #[arg(long = "data-model", value_name = "MODEL")]
    data_models: Vec<String>,
    /// v4: the integration, required with --type INTEGRATION, e.g. XERO
    #[arg(long, value_name = "INTEGRATION")]
    integration_type: Option<String>,
    /// v4: a topic to subscribe to, e.g. invoice.create (repeatable)
    #[arg(long = "topic", value_name = "TOPIC")]
    topics: Vec<String>,
    /// v4: ENABLED or DISABLED
    #[arg(long, value_enum, value_name = "STATE")]
    state: Option<StateArg>,
    /// v4: sign deliveries with the key in environment variable VAR
    #[arg(long, value_name = "VAR")]
    signing_key_env: Option<String>,
    /// v4: generate a random signing key (printed once, on stderr, with how to configure the
    /// receiver)
    #[arg(long, conflicts_with = "signing_key_env")]
    generate_signing_key: bool,
}

/// Register a webhook (v3: --type, --name, --url required; v4: the same, plus
/// --integration-type for INTEGRATION)
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
struct CreateArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    fields: Fields,
}

/// Change a webhook (v3: every field again; v4: only the fields given)
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
struct UpdateArgs {
    /// The webhook id (v3: a string such as THBROZzWGuL3b8qEEdBF; v4: the integer rootfi_id)
    id: String,
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    fields: Fields,
}

/// Delete a webhook config (v4 only: RootFi documents no v3 delete)
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
struct DeleteArgs {
    /// The webhook config id (the integer rootfi_id)
    id: String,
    #[command(flatten)]
    connection: Connection,
}

pub(crate) async fn run(args: &Args) -> Outcome {
    let RootfiCommand::Webhooks(webhooks) = &args.command;
    match &webhooks.command {
        WebhooksCommand::Create(create) => {
            let client = client(&create.connection)?;
            match create.connection.api {
                Api::V3 => {
                    let request = v3_request(&create.fields)?;
                    let webhook = client.create_webhook_v3(&request).await.map_err(failure)?;
                    print_json(&redact(serde_json::to_value(&webhook).unwrap_or_default()));
                }
                Api::V4 => {
                    let (request, key) = v4_create(&create.fields)?;
                    let answer = client
                        .create_webhook_config(&request)
                        .await
                        .map_err(failure)?;
                    print_v4(&answer);
                    explain_key(&create.fields, key.as_ref(), &answer.config)?;
                }
            }
        }
        WebhooksCommand::Update(update) => {
            let client = client(&update.connection)?;
            match update.connection.api {
                Api::V3 => {
                    let request = v3_request(&update.fields)?;
                    let webhook = client
                        .update_webhook_v3(&update.id, &request)
                        .await
                        .map_err(failure)?;
                    print_json(&redact(serde_json::to_value(&webhook).unwrap_or_default()));
                }
                Api::V4 => {
                    let id = v4_id(&update.id)?;
                    let (request, key) = v4_update(&update.fields)?;
                    let answer = client
                        .update_webhook_config(id, &request)
                        .await
                        .map_err(failure)?;
                    print_v4(&answer);
                    explain_key(&update.fields, key.as_ref(), &answer.config)?;
                }
            }
        }
        WebhooksCommand::Delete(delete) => match delete.connection.api {
            Api::V3 => {
                return Err(Failure::usage(
                    "RootFi documents no v3 delete endpoint; delete the webhook in the RootFi dashboard",
                ));
            }
            Api::V4 => {
                let id = v4_id(&delete.id)?;
                client(&delete.connection)?
                    .delete_webhook_config(id)
                    .await
                    .map_err(failure)?;
                println!("deleted webhook config {id}");
            }
        },
    }
    Ok(())
}

fn client(connection: &Connection) -> Result<RootfiClient, Failure> {
    let var = &connection.api_key_env;
    let api_key = std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Failure::usage(format!(
                "the RootFi api_key is read from ${var}, which is not set"
            ))
        })?;
    let base = connection
        .base_url
        .as_deref()
        .unwrap_or(match connection.api {
            Api::V3 => V3_BASE_URL,
            Api::V4 => V4_BASE_URL,
        });
    RootfiClient::new(base, api_key).map_err(failure)
}

fn failure(err: ClientError) -> Failure {
    match err {
        ClientError::Status { .. } => Failure::refused(err),
        ClientError::Invalid(_) | ClientError::InvalidBaseUrl | ClientError::InvalidApiKey => {
            Failure::usage(err)
        }
        _ => Failure::io(err),
    }
}

fn v4_id(id: &str) -> Result<u64, Failure> {
    id.parse()
        .map_err(|_| Failure::usage(format!("v4 webhook config ids are integers, not {id:?}")))
}

fn required<'a>(value: Option<&'a String>, flag: &str) -> Result<&'a str, Failure> {
    value
        .map(String::as_str)
        .ok_or_else(|| Failure::usage(format!("{flag} is required")))
}

fn only_for(api: &str, used: bool, flag: &str) -> Result<(), Failure> {
    if used {
        return Err(Failure::usage(format!("{flag} is only for --api {api}")));
    }
    Ok(())
}

/// `--header NAME:VALUE` and `--secret-header NAME=VAR`, in order.
fn headers(fields: &Fields) -> Result<Vec<(String, String)>, Failure> {
    let mut all = Vec::new();
    for header in &fields.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| Failure::usage(format!("--header {header:?}: use NAME:VALUE")))?;
        all.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    for header in &fields.secret_headers {
        let (name, var) = header
            .split_once('=')
            .ok_or_else(|| Failure::usage(format!("--secret-header {header:?}: use NAME=VAR")))?;
        let value = std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Failure::usage(format!("--secret-header {name}: ${var} is not set")))?;
        all.push((name.trim().to_owned(), value));
    }
    Ok(all)
}

fn v3_request(fields: &Fields) -> Result<v3::WebhookRequest, Failure> {
    only_for(
        "v4",
        fields.integration_type.is_some(),
        "--integration-type",
    )?;
    only_for("v4", !fields.topics.is_empty(), "--topic")?;
    only_for("v4", fields.state.is_some(), "--state")?;
    only_for(
        "v4",
        fields.signing_key_env.is_some() || fields.generate_signing_key,
        "a signing key (v3 deliveries are not signed; use --secret-header)",
    )?;
    let webhook_type = WebhookType::from(required(fields.webhook_type.as_ref(), "--type")?);
    let mut request = v3::WebhookRequest::new(
        webhook_type,
        required(fields.name.as_ref(), "--name")?,
        required(fields.url.as_ref(), "--url")?,
    )
    .operations(
        fields
            .operations
            .iter()
            .map(|o| Operation::from(o.as_str())),
    )
    .data_models(
        fields
            .data_models
            .iter()
            .map(|m| DataModel::from(m.as_str())),
    );
    for (name, value) in headers(fields)? {
        request = request.header(name, value);
    }
    request.validate().map_err(Failure::usage)?;
    Ok(request)
}

fn v4_only(fields: &Fields) -> Result<(), Failure> {
    only_for("v3", !fields.operations.is_empty(), "--operation")?;
    only_for("v3", !fields.data_models.is_empty(), "--data-model")
}

fn v4_key(fields: &Fields) -> Result<Option<SigningKey>, Failure> {
    if fields.generate_signing_key {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Failure::io(format!("cannot generate a signing key: {e}")))?;
        return SigningKey::new(const_hex::encode(bytes))
            .map(Some)
            .map_err(Failure::usage);
    }
    match &fields.signing_key_env {
        Some(var) => {
            let key = std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    Failure::usage(format!("--signing-key-env {var}: the variable is not set"))
                })?;
            SigningKey::new(key).map(Some).map_err(Failure::usage)
        }
        None => Ok(None),
    }
}

fn state(arg: Option<StateArg>) -> Option<WebhookState> {
    arg.map(|s| match s {
        StateArg::Enabled => WebhookState::Enabled,
        StateArg::Disabled => WebhookState::Disabled,
    })
}

fn v4_create(fields: &Fields) -> Result<(v4::CreateWebhookConfig, Option<SigningKey>), Failure> {
    v4_only(fields)?;
    let webhook_type = WebhookType::from(required(fields.webhook_type.as_ref(), "--type")?);
    let mut request = v4::CreateWebhookConfig::new(
        webhook_type,
        required(fields.name.as_ref(), "--name")?,
        required(fields.url.as_ref(), "--url")?,
    );
    if let Some(integration) = &fields.integration_type {
        request = request.integration_type(IntegrationType::from(integration.as_str()));
    }
    if !fields.topics.is_empty() {
        request = request.topics(fields.topics.iter().cloned());
    }
    if let Some(state) = state(fields.state) {
        request = request.state(state);
    }
    let key = v4_key(fields)?;
    if let Some(key) = &key {
        request = request.signing_key(key.clone());
    }
    for (name, value) in headers(fields)? {
        request = request.header(name, value);
    }
    request.validate().map_err(Failure::usage)?;
    Ok((request, key))
}

fn v4_update(fields: &Fields) -> Result<(v4::UpdateWebhookConfig, Option<SigningKey>), Failure> {
    v4_only(fields)?;
    only_for(
        "v4 create",
        fields.integration_type.is_some(),
        "--integration-type (the v4 update body has no integration_type)",
    )?;
    let mut request = v4::UpdateWebhookConfig::new();
    if let Some(webhook_type) = &fields.webhook_type {
        request = request.webhook_type(WebhookType::from(webhook_type.as_str()));
    }
    if let Some(name) = &fields.name {
        request = request.name(name);
    }
    if let Some(url) = &fields.url {
        request = request.url(url);
    }
    if !fields.topics.is_empty() {
        request = request.topics(fields.topics.iter().cloned());
    }
    if let Some(state) = state(fields.state) {
        request = request.state(state);
    }
    let key = v4_key(fields)?;
    if let Some(key) = &key {
        request = request.signing_key(key.clone());
    }
    for (name, value) in headers(fields)? {
        request = request.header(name, value);
    }
    request.validate().map_err(Failure::usage)?;
    Ok((request, key))
}

/// How to configure the receiver with the key just registered; a generated key is shown
/// here, once (RootFi never returns it).
fn explain_key(
    fields: &Fields,
    key: Option<&SigningKey>,
    config: &v4::WebhookConfig,
) -> Result<(), Failure> {
    let Some(key) = key else { return Ok(()) };
    // The verifier the receiver needs, from the config RootFi reported and the same key.
    let verifier = config.verifier(key).map_err(Failure::usage)?;
    let header = verifier.header();
    if fields.generate_signing_key {
        eprintln!(
            "Generated a signing key. RootFi never returns it, so it is shown only now:\n\n    \
             export ROOTFI_WEBHOOK_SECRET={}\n\n\
             Deliveries will be signed in the `{header}` header. Give the receiver that \
             variable (examples/receiver.rs and `ledgerhook listen` read it), or in code:\n    \
             Verifier::hmac(HmacScheme::rootfi_v4().signature_header(HeaderName::from_static(\"{header}\")), secret)",
            key.expose()
        );
    } else if let Some(var) = &fields.signing_key_env {
        eprintln!(
            "Deliveries will be signed in the `{header}` header with the key in ${var}; \
             run the receiver with ROOTFI_WEBHOOK_SECRET set to the same value."
        );
    }
    Ok(())
}

fn print_v4(answer: &v4::ConfigResponse) {
    let config = redact(serde_json::to_value(&answer.config).unwrap_or_default());
    print_json(&serde_json::json!({ "config": config, "request_id": answer.request_id }));
}

fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// Custom header values usually carry tokens: shown as `<redacted>`.
fn redact(mut value: Value) -> Value {
    match value.get_mut("headers") {
        Some(Value::Object(map)) => {
            for v in map.values_mut() {
                *v = Value::from("<redacted>");
            }
        }
        Some(Value::Array(list)) => {
            for entry in list {
                if let Some(v) = entry.get_mut("value") {
                    *v = Value::from("<redacted>");
                }
            }
        }
        _ => {}
    }
    value
}
