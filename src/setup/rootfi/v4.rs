//! RootFi v4 (Commenda Integrations) webhook configs: `POST /v4/core/webhook-config`,
//! `PUT` and `DELETE /v4/core/webhook-config/{webhookConfigId}`.
//!
//! A config with a [`SigningKey`] converts into the [`Verifier`] that checks its
//! deliveries ([`CreateWebhookConfig::verifier`], [`WebhookConfig::verifier`]), so the
//! header and key registered and the ones verified come from one value.
//!
//! ```
//! use ledgerhook::rootfi::WebhookType;
//! use ledgerhook::setup::rootfi::v4::{CreateWebhookConfig, WebhookState};
//! use ledgerhook::setup::rootfi::SigningKey;
//!
//! let key = SigningKey::new("a-long-random-signing-key")?;
//! let config = CreateWebhookConfig::new(
//!     WebhookType::SyncCompleted,
//!     "syncs",
//!     "https://example.com/webhooks/rootfi",
//! )
//! .state(WebhookState::Enabled)
//! .signing_key(key);
//! let body = config.body()?; // validated
//! assert_eq!(body["signing_key"], "a-long-random-signing-key");
//!
//! let verifier = config.verifier()?; // X-RootFi-Signature, the same key
//! assert_eq!(verifier.header().as_str(), "x-rootfi-signature");
//! # Ok::<(), ledgerhook::setup::SetupError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use http::HeaderName;
use serde::{Deserialize, Serialize};

use super::{
    DEFAULT_SIGNATURE_HEADER, RedactedHeaders, SigningKey, V4_INTEGRATION_TYPES, V4_WEBHOOK_TYPES,
    check_header, check_url, non_empty, one_of,
};
use crate::Verifier;
use crate::rootfi::{ApiVersion, IntegrationType, WebhookType};
use crate::setup::SetupError;
use crate::signature::HmacScheme;

/// The path of the v4 webhook-config collection.
pub const PATH: &str = "/v4/core/webhook-config";

/// Whether RootFi delivers to a config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum WebhookState {
    /// `ENABLED` (the default on create).
    Enabled,
    /// `DISABLED`.
    Disabled,
}

impl WebhookState {
    /// The value as on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "ENABLED",
            Self::Disabled => "DISABLED",
        }
    }
}

impl fmt::Display for WebhookState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WebhookState {
    type Err = SetupError;

    /// Parses `ENABLED` or `DISABLED` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "ENABLED" => Ok(Self::Enabled),
            "DISABLED" => Ok(Self::Disabled),
            _ => Err(SetupError::UnsupportedValue {
                field: "state",
                value: s.to_owned(),
            }),
        }
    }
}

/// A v4 custom header, `{"name", "value"}`, sent with every delivery. `Debug` hides the
/// value.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HeaderEntry {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

impl HeaderEntry {
    /// A header `name: value`.
    #[must_use]
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl fmt::Debug for HeaderEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderEntry")
            .field("name", &self.name)
            .field("value", &"<redacted>")
            .finish()
    }
}

fn header_names(headers: Option<&Vec<HeaderEntry>>) -> RedactedHeaders<'_> {
    RedactedHeaders(
        headers
            .into_iter()
            .flatten()
            .map(|h| h.name.as_str())
            .collect(),
    )
}

fn check_headers(headers: Option<&Vec<HeaderEntry>>) -> Result<(), SetupError> {
    for header in headers.into_iter().flatten() {
        check_header(&header.name, &header.value)?;
    }
    Ok(())
}

fn check_topics(topics: Option<&Vec<String>>) -> Result<(), SetupError> {
    for topic in topics.into_iter().flatten() {
        non_empty("topics", topic)?;
    }
    Ok(())
}

/// The verifier for deliveries signed with `key` in `header` (RootFi's default scheme,
/// [`HmacScheme::rootfi`], under that header).
fn verifier_for(header: &str, key: &SigningKey) -> Result<Verifier, SetupError> {
    let header = HeaderName::try_from(header).map_err(|_| SetupError::InvalidHeader {
        name: header.to_owned(),
    })?;
    Ok(Verifier::hmac(
        HmacScheme::rootfi_v4().signature_header(header),
        key.expose(),
    )?)
}

/// The body of `POST /v4/core/webhook-config`.
#[derive(Clone, Serialize)]
#[non_exhaustive]
pub struct CreateWebhookConfig {
    /// The event category.
    pub webhook_type: WebhookType,
    /// Display name.
    pub name: String,
    /// Destination URL.
    pub url: String,
    /// Required when `webhook_type` is `INTEGRATION`; one of the V4-supported types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_type: Option<IntegrationType>,
    /// Subscribed topics (e.g. `invoice.create`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topics: Option<Vec<String>>,
    /// `ENABLED` (RootFi's default when absent) or `DISABLED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<WebhookState>,
    /// The secret RootFi signs deliveries with; never returned by RootFi.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<SigningKey>,
    /// Custom headers sent with every delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<HeaderEntry>>,
}

impl CreateWebhookConfig {
    /// A config of `webhook_type` named `name` delivering to `url`; every optional field
    /// absent.
    #[must_use]
    pub fn new(webhook_type: WebhookType, name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            webhook_type,
            name: name.into(),
            url: url.into(),
            integration_type: None,
            topics: None,
            state: None,
            signing_key: None,
            headers: None,
        }
    }

    /// Sets the integration type, in v4's spelling whatever version it was written in
    /// (`IntegrationType::OdooAccounting(ApiVersion::V3)` is sent as `OODOO_ACCOUNTING`).
    #[must_use]
    pub fn integration_type(mut self, integration_type: IntegrationType) -> Self {
        self.integration_type = Some(integration_type.spelled_for(ApiVersion::V4));
        self
    }

    /// Sets the topics.
    #[must_use]
    pub fn topics(mut self, topics: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.topics = Some(topics.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the state.
    #[must_use]
    pub fn state(mut self, state: WebhookState) -> Self {
        self.state = Some(state);
        self
    }

    /// Sets the signing key.
    #[must_use]
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// Adds a custom header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers
            .get_or_insert_with(Vec::new)
            .push(HeaderEntry::new(name, value));
        self
    }

    /// Checks the config against the v4 reference: non-empty `name`, an absolute `http(s)`
    /// `url`, a v4 `webhook_type`, `integration_type` present when `webhook_type` is
    /// `INTEGRATION` and one of the V4-supported types when given, non-empty topics, and
    /// headers that can be sent.
    ///
    /// # Errors
    /// The first [`SetupError`] found.
    pub fn validate(&self) -> Result<(), SetupError> {
        one_of("webhook_type", self.webhook_type.as_str(), V4_WEBHOOK_TYPES)?;
        non_empty("name", &self.name)?;
        check_url(&self.url)?;
        match &self.integration_type {
            Some(integration) => {
                one_of(
                    "integration_type",
                    integration.as_str(),
                    V4_INTEGRATION_TYPES,
                )?;
            }
            None if self.webhook_type == WebhookType::Integration => {
                return Err(SetupError::MissingIntegrationType);
            }
            None => {}
        }
        check_topics(self.topics.as_ref())?;
        check_headers(self.headers.as_ref())
    }

    /// The validated request body.
    ///
    /// # Errors
    /// As for [`validate`](Self::validate).
    pub fn body(&self) -> Result<serde_json::Value, SetupError> {
        self.validate()?;
        // Strings and string enums only: serializing cannot fail.
        Ok(serde_json::to_value(self).unwrap_or_default())
    }

    /// The verifier for this config's deliveries: RootFi's scheme under
    /// [`DEFAULT_SIGNATURE_HEADER`] (a create request cannot choose another), keyed with
    /// the signing key. Once created, prefer [`WebhookConfig::verifier`], which uses the
    /// `signature_header` RootFi reports.
    ///
    /// # Errors
    /// [`SetupError::MissingSigningKey`] without a signing key.
    pub fn verifier(&self) -> Result<Verifier, SetupError> {
        let key = self
            .signing_key
            .as_ref()
            .ok_or(SetupError::MissingSigningKey)?;
        verifier_for(DEFAULT_SIGNATURE_HEADER, key)
    }
}

impl fmt::Debug for CreateWebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateWebhookConfig")
            .field("webhook_type", &self.webhook_type)
            .field("name", &self.name)
            .field("url", &self.url)
            .field("integration_type", &self.integration_type)
            .field("topics", &self.topics)
            .field("state", &self.state)
            .field("signing_key", &self.signing_key)
            .field("headers", &header_names(self.headers.as_ref()))
            .finish()
    }
}

/// The body of `PUT /v4/core/webhook-config/{webhookConfigId}`: every field optional, only
/// the fields set are sent.
#[derive(Clone, Default, Serialize)]
#[non_exhaustive]
pub struct UpdateWebhookConfig {
    /// New event category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_type: Option<WebhookType>,
    /// New display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New destination URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// New topics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topics: Option<Vec<String>>,
    /// New state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<WebhookState>,
    /// New signing key (rotation: deliveries are signed with it from now on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<SigningKey>,
    /// New custom headers (the whole list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<HeaderEntry>>,
}

impl UpdateWebhookConfig {
    /// An update that changes nothing yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the webhook type.
    #[must_use]
    pub fn webhook_type(mut self, webhook_type: WebhookType) -> Self {
        self.webhook_type = Some(webhook_type);
        self
    }

    /// Sets the name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the URL.
    #[must_use]
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Sets the topics.
    #[must_use]
    pub fn topics(mut self, topics: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.topics = Some(topics.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the state.
    #[must_use]
    pub fn state(mut self, state: WebhookState) -> Self {
        self.state = Some(state);
        self
    }

    /// Sets the signing key.
    #[must_use]
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// Adds a custom header to the new list.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers
            .get_or_insert_with(Vec::new)
            .push(HeaderEntry::new(name, value));
        self
    }

    /// Checks each field that is set as [`CreateWebhookConfig::validate`] does, and that
    /// at least one is set. The update body has no `integration_type`, so changing
    /// `webhook_type` to `INTEGRATION` relies on the one the config already has.
    ///
    /// # Errors
    /// The first [`SetupError`] found; [`SetupError::NothingToUpdate`] when no field is
    /// set.
    pub fn validate(&self) -> Result<(), SetupError> {
        let Self {
            webhook_type,
            name,
            url,
            topics,
            state,
            signing_key,
            headers,
        } = self;
        if webhook_type.is_none()
            && name.is_none()
            && url.is_none()
            && topics.is_none()
            && state.is_none()
            && signing_key.is_none()
            && headers.is_none()
        {
            return Err(SetupError::NothingToUpdate);
        }
        if let Some(webhook_type) = webhook_type {
            one_of("webhook_type", webhook_type.as_str(), V4_WEBHOOK_TYPES)?;
        }
        if let Some(name) = name {
            non_empty("name", name)?;
        }
        if let Some(url) = url {
            check_url(url)?;
        }
        check_topics(topics.as_ref())?;
        check_headers(headers.as_ref())
    }

    /// The validated request body.
    ///
    /// # Errors
    /// As for [`validate`](Self::validate).
    pub fn body(&self) -> Result<serde_json::Value, SetupError> {
        self.validate()?;
        Ok(serde_json::to_value(self).unwrap_or_default())
    }
}

impl fmt::Debug for UpdateWebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpdateWebhookConfig")
            .field("webhook_type", &self.webhook_type)
            .field("name", &self.name)
            .field("url", &self.url)
            .field("topics", &self.topics)
            .field("state", &self.state)
            .field("signing_key", &self.signing_key)
            .field("headers", &header_names(self.headers.as_ref()))
            .finish()
    }
}

/// A v4 webhook config as RootFi returns it (the signing key is never returned).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookConfig {
    /// The config id, used in the update and delete paths.
    pub rootfi_id: u64,
    /// Creation time, ISO 8601 as sent.
    #[serde(default)]
    pub rootfi_created_at: String,
    /// Last update time, ISO 8601 as sent.
    #[serde(default)]
    pub rootfi_updated_at: String,
    /// The organisation owning the config.
    #[serde(default)]
    pub rootfi_organisation_id: Option<u64>,
    /// The event category.
    pub webhook_type: WebhookType,
    /// The integration, for `INTEGRATION` configs.
    #[serde(default)]
    pub integration_type: Option<IntegrationType>,
    /// Display name.
    pub name: String,
    /// Destination URL.
    pub url: String,
    /// Whether RootFi delivers to it.
    pub state: WebhookState,
    /// Subscribed topics.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Custom headers sent with every delivery.
    #[serde(default)]
    pub headers: Option<Vec<HeaderEntry>>,
    /// The header RootFi signs deliveries in. A name here does not prove deliveries are
    /// signed: RootFi reports one even for configs created without a signing key.
    #[serde(default)]
    pub signature_header: Option<String>,
}

impl WebhookConfig {
    /// The verifier for this config's deliveries: RootFi's scheme under the reported
    /// `signature_header` (or [`DEFAULT_SIGNATURE_HEADER`] when null), keyed with the
    /// signing key you registered.
    ///
    /// # Errors
    /// [`SetupError::InvalidHeader`] when the reported header name is not a valid one.
    pub fn verifier(&self, key: &SigningKey) -> Result<Verifier, SetupError> {
        verifier_for(
            self.signature_header
                .as_deref()
                .unwrap_or(DEFAULT_SIGNATURE_HEADER),
            key,
        )
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("rootfi_id", &self.rootfi_id)
            .field("rootfi_created_at", &self.rootfi_created_at)
            .field("rootfi_updated_at", &self.rootfi_updated_at)
            .field("rootfi_organisation_id", &self.rootfi_organisation_id)
            .field("webhook_type", &self.webhook_type)
            .field("integration_type", &self.integration_type)
            .field("name", &self.name)
            .field("url", &self.url)
            .field("state", &self.state)
            .field("topics", &self.topics)
            .field("headers", &header_names(self.headers.as_ref()))
            .field("signature_header", &self.signature_header)
            .finish()
    }
}

/// The answer to create and update: `{"data": {"data": WebhookConfig}, "request_id"}`,
/// unwrapped.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "WireResponse")]
#[non_exhaustive]
pub struct ConfigResponse {
    /// The config.
    pub config: WebhookConfig,
    /// RootFi's id of this request (quote it to their support).
    pub request_id: String,
}

#[derive(Deserialize)]
struct WireResponse {
    data: WireData,
    #[serde(default)]
    request_id: String,
}

#[derive(Deserialize)]
struct WireData {
    data: WebhookConfig,
}

impl From<WireResponse> for ConfigResponse {
    fn from(wire: WireResponse) -> Self {
        Self {
            config: wire.data.data,
            request_id: wire.request_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use serde_json::Value;

    // The examples of the v4 create- and update-webhook-config references (docs/README.md).
    const CREATE_REQUEST: &str = include_str!("docs/v4_create_request.json");
    const CREATE_RESPONSE: &str = include_str!("docs/v4_create_response.json");
    const UPDATE_REQUEST: &str = include_str!("docs/v4_update_request.json");
    const UPDATE_RESPONSE: &str = include_str!("docs/v4_update_response.json");

    fn json(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn bodies_match_the_documented_requests() {
        let create = CreateWebhookConfig::new(
            WebhookType::ConnectionChanged,
            "Connection webhook",
            "https://example.com/webhooks/rootfi",
        )
        .state(WebhookState::Enabled);
        assert_eq!(create.body().unwrap(), json(CREATE_REQUEST));

        let update = UpdateWebhookConfig::new()
            .name("Updated webhook")
            .url("https://example.com/webhooks/rootfi-v2")
            .state(WebhookState::Disabled)
            .topics(["invoice.create"]);
        assert_eq!(update.body().unwrap(), json(UPDATE_REQUEST));
    }

    #[test]
    fn documented_responses_unwrap_both_envelopes() {
        let created: ConfigResponse = serde_json::from_str(CREATE_RESPONSE).unwrap();
        assert_eq!(created.request_id, "a1b2c3d4-e5f6-7890-abcd-ef1234567890");
        let config = &created.config;
        assert_eq!(config.rootfi_id, 12);
        assert_eq!(config.webhook_type, WebhookType::ConnectionChanged);
        assert_eq!(config.integration_type, None);
        assert_eq!(config.state, WebhookState::Enabled);
        assert!(config.topics.is_empty());
        assert_eq!(
            config.headers,
            Some(vec![HeaderEntry::new("Authorization", "Bearer secret")])
        );
        assert_eq!(
            config.signature_header.as_deref(),
            Some("X-RootFi-Signature")
        );

        let updated: ConfigResponse = serde_json::from_str(UPDATE_RESPONSE).unwrap();
        assert_eq!(updated.config.state, WebhookState::Disabled);
        assert_eq!(updated.config.topics, ["invoice.create"]);
        // A single envelope is not accepted as the double one.
        let single = json(CREATE_RESPONSE)["data"].clone();
        assert!(serde_json::from_value::<ConfigResponse>(single).is_err());
    }

    #[test]
    fn integration_type_is_required_for_integration_webhooks() {
        let base = || CreateWebhookConfig::new(WebhookType::Integration, "n", "https://e.com/h");
        assert_eq!(base().validate(), Err(SetupError::MissingIntegrationType));
        assert_eq!(base().body(), Err(SetupError::MissingIntegrationType));
        assert_eq!(
            base().integration_type(IntegrationType::Xero).validate(),
            Ok(())
        );
        // v4 spells it OODOO_ACCOUNTING; v3's ODOO_ACCOUNTING is not a v4 value.
        assert_eq!(
            base()
                .integration_type(IntegrationType::OdooAccounting(ApiVersion::V4))
                .validate(),
            Ok(())
        );
        // The builder respells a v3 value for v4; set field by field, v3's spelling is
        // refused.
        assert_eq!(
            base()
                .integration_type(IntegrationType::OdooAccounting(ApiVersion::V3))
                .integration_type,
            Some(IntegrationType::OdooAccounting(ApiVersion::V4))
        );
        let mut v3_spelling = base();
        v3_spelling.integration_type = Some(IntegrationType::OdooAccounting(ApiVersion::V3));
        assert_eq!(
            v3_spelling.validate(),
            Err(SetupError::UnsupportedValue {
                field: "integration_type",
                value: "ODOO_ACCOUNTING".into()
            })
        );
        for value in V4_INTEGRATION_TYPES {
            assert!(IntegrationType::from(*value).is_known(), "{value}");
        }
        // Not required for the other types.
        let sync = CreateWebhookConfig::new(WebhookType::SyncStarted, "n", "https://e.com/h");
        assert_eq!(sync.validate(), Ok(()));
    }

    #[test]
    fn other_validation_errors() {
        let base = || CreateWebhookConfig::new(WebhookType::SyncCompleted, "n", "https://e.com/h");
        let cases = [
            (
                CreateWebhookConfig::new(WebhookType::from("PING"), "n", "https://e.com/h"),
                SetupError::UnsupportedValue {
                    field: "webhook_type",
                    value: "PING".into(),
                },
            ),
            (
                CreateWebhookConfig::new(WebhookType::SyncCompleted, "", "https://e.com/h"),
                SetupError::EmptyField { field: "name" },
            ),
            (
                CreateWebhookConfig::new(WebhookType::SyncCompleted, "n", "https://"),
                SetupError::InvalidUrl {
                    reason: "not a URL",
                },
            ),
            (
                base().topics([""]),
                SetupError::EmptyField { field: "topics" },
            ),
            (
                base().header("Authorization", "Bearer\r\nx"),
                SetupError::InvalidHeader {
                    name: "Authorization".into(),
                },
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(config.validate(), Err(expected), "{config:?}");
        }
        assert_eq!(
            UpdateWebhookConfig::new().validate(),
            Err(SetupError::NothingToUpdate)
        );
        assert_eq!(
            UpdateWebhookConfig::new().url("/relative").validate(),
            Err(SetupError::InvalidUrl {
                reason: "not absolute (no scheme)"
            })
        );
        assert_eq!(
            "disabled".parse::<WebhookState>(),
            Ok(WebhookState::Disabled)
        );
        assert!("PAUSED".parse::<WebhookState>().is_err());
    }

    #[test]
    fn signing_key_is_sent_and_never_shown() {
        assert_eq!(
            SigningKey::new("").unwrap_err(),
            SetupError::InvalidSigningKey
        );
        assert_eq!(
            SigningKey::new("has space").unwrap_err(),
            SetupError::InvalidSigningKey
        );
        let config = CreateWebhookConfig::new(WebhookType::SyncCompleted, "n", "https://e.com/h")
            .signing_key(SigningKey::new("k3y-value").unwrap())
            .header("x-extra", "header-secret");
        assert_eq!(config.body().unwrap()["signing_key"], "k3y-value");
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("k3y-value") && !shown.contains("header-secret"),
            "{shown}"
        );
        let update = UpdateWebhookConfig::new().signing_key(SigningKey::new("k3y-value").unwrap());
        assert!(!format!("{update:?}").contains("k3y-value"));
    }

    /// What is registered is what is verified: a delivery signed the way the registered
    /// config says verifies with the config's verifier, and under another header or key
    /// it does not.
    #[test]
    fn config_converts_into_the_matching_verifier() {
        let key = SigningKey::new("k3y-value").unwrap();
        let create = CreateWebhookConfig::new(WebhookType::SyncCompleted, "n", "https://e.com/h");
        assert_eq!(
            create.verifier().unwrap_err(),
            SetupError::MissingSigningKey
        );
        let create = create.signing_key(key.clone());
        let body = br#"{"event":"connection.changed","company_id":496}"#;

        let registered = create.verifier().unwrap();
        let signed = Verifier::rootfi_v4("k3y-value")
            .unwrap()
            .sign(body, SystemTime::now());
        assert_eq!(registered.verify(&signed, body), Ok(()));
        let forged = Verifier::rootfi_v4("other")
            .unwrap()
            .sign(body, SystemTime::now());
        assert!(registered.verify(&forged, body).is_err());

        // The reported signature header wins over the default.
        let mut config: WebhookConfig = serde_json::from_str::<ConfigResponse>(CREATE_RESPONSE)
            .unwrap()
            .config;
        config.signature_header = Some("X-Commenda-Signature".into());
        let verifier = config.verifier(&key).unwrap();
        assert_eq!(verifier.header().as_str(), "x-commenda-signature");
        assert!(
            verifier.verify(&signed, body).is_err(),
            "signed under the old header"
        );
        config.signature_header = None;
        assert_eq!(
            config.verifier(&key).unwrap().header().as_str(),
            "x-rootfi-signature"
        );
        config.signature_header = Some("bad header".into());
        assert_eq!(
            config.verifier(&key).unwrap_err(),
            SetupError::InvalidHeader {
                name: "bad header".into()
            }
        );
    }
}
