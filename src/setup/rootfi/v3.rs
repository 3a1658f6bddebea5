//! RootFi v3 webhooks: `POST /v3/core/webhooks` and `PUT /v3/core/webhooks/{webhook_id}`.
//!
//! v3 deliveries carry no signature: authentication is a custom header you register in
//! [`WebhookRequest::headers`] and check on every delivery
//! ([`WebhookRequest::verifier`] builds that check from the same value).
//!
//! ```
//! use ledgerhook::rootfi::{ApiVersion, DataModel, Operation, WebhookType};
//! use ledgerhook::setup::rootfi::v3::WebhookRequest;
//!
//! let webhook = WebhookRequest::new(
//!     WebhookType::DataModelChanges,
//!     "invoices",
//!     "https://example.com/webhooks/rootfi-v3",
//! )
//! .operations([Operation::Create, Operation::Update])
//! .data_models([DataModel::Invoices(ApiVersion::V3)])
//! .header("api_key", "a-long-random-token");
//! let body = webhook.create_body()?; // {"webhook": {...}}, validated
//! assert_eq!(body["webhook"]["type"], "DATA_MODEL_CHANGES");
//!
//! // The receiver checks the same header and token.
//! let verifier = webhook.verifier("api_key")?;
//! assert_eq!(verifier.header().as_str(), "api_key");
//! # Ok::<(), ledgerhook::setup::SetupError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use http::HeaderName;
use serde::{Deserialize, Serialize};

use super::{
    RedactedHeaders, V3_DATA_MODELS, V3_OPERATIONS, V3_WEBHOOK_TYPES, check_header, check_url,
    non_empty, one_of,
};
use crate::Verifier;
use crate::rootfi::{ApiVersion, DataModel, Operation, WebhookType};
use crate::setup::SetupError;

/// The path of the v3 webhooks collection.
pub const PATH: &str = "/v3/core/webhooks";

/// A v3 webhook as sent to create (wrapped in `{"webhook": ...}`) or update (bare, every
/// field required) it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookRequest {
    /// Which changes of `DATA_MODEL_CHANGES` are sent.
    pub operations: Vec<Operation>,
    /// Display name.
    pub name: String,
    /// `DATA_MODEL_CHANGES`, `CONNECTION_CHANGED` or `SYNC_COMPLETED` (wire field `type`).
    #[serde(rename = "type")]
    pub webhook_type: WebhookType,
    /// The data models subscribed to (v3's plural names).
    pub data_models: Vec<DataModel>,
    /// Destination URL.
    pub url: String,
    /// Custom headers sent with every delivery: the only way to authenticate v3 deliveries.
    pub headers: BTreeMap<String, String>,
}

impl WebhookRequest {
    /// A webhook of `webhook_type` named `name` delivering to `url`, with no operations,
    /// data models or headers yet.
    #[must_use]
    pub fn new(webhook_type: WebhookType, name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            operations: Vec::new(),
            name: name.into(),
            webhook_type,
            data_models: Vec::new(),
            url: url.into(),
            headers: BTreeMap::new(),
        }
    }

    /// Sets the operations.
    #[must_use]
    pub fn operations(mut self, operations: impl IntoIterator<Item = Operation>) -> Self {
        self.operations = operations.into_iter().collect();
        self
    }

    /// Sets the data models, each in v3's spelling whatever version it was written in
    /// (`DataModel::Invoices(ApiVersion::V4)` is sent as `INVOICES`).
    #[must_use]
    pub fn data_models(mut self, data_models: impl IntoIterator<Item = DataModel>) -> Self {
        self.data_models = data_models
            .into_iter()
            .map(|model| model.spelled_for(ApiVersion::V3))
            .collect();
        self
    }

    /// Adds (or replaces) a custom header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Checks the webhook against the v3 reference: non-empty `name`, an absolute
    /// `http(s)` `url`, a v3 `type`, documented `operations` and v3 `data_models`, and
    /// headers that can be sent.
    ///
    /// # Errors
    /// The first [`SetupError`] found.
    pub fn validate(&self) -> Result<(), SetupError> {
        non_empty("name", &self.name)?;
        check_url(&self.url)?;
        one_of("type", self.webhook_type.as_str(), V3_WEBHOOK_TYPES)?;
        for operation in &self.operations {
            one_of("operations", operation.as_str(), V3_OPERATIONS)?;
        }
        for model in &self.data_models {
            one_of("data_models", model.as_str(), V3_DATA_MODELS)?;
        }
        for (name, value) in &self.headers {
            check_header(name, value)?;
        }
        Ok(())
    }

    /// The validated body of `POST /v3/core/webhooks`: `{"webhook": {...}}`.
    ///
    /// # Errors
    /// As for [`validate`](Self::validate).
    pub fn create_body(&self) -> Result<serde_json::Value, SetupError> {
        self.validate()?;
        Ok(serde_json::json!({ "webhook": self.to_value() }))
    }

    /// The validated body of `PUT /v3/core/webhooks/{webhook_id}`: the fields themselves.
    ///
    /// # Errors
    /// As for [`validate`](Self::validate).
    pub fn update_body(&self) -> Result<serde_json::Value, SetupError> {
        self.validate()?;
        Ok(self.to_value())
    }

    fn to_value(&self) -> serde_json::Value {
        // Strings, string enums and string maps: serializing cannot fail.
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The receiver's check for this webhook: custom header `header` must carry the value
    /// registered for it (compared in constant time).
    ///
    /// # Errors
    /// [`SetupError::InvalidHeader`] when no custom header is named `header` (compared
    /// case-insensitively, as HTTP does) or it cannot carry a token.
    pub fn verifier(&self, header: &str) -> Result<Verifier, SetupError> {
        let invalid = || SetupError::InvalidHeader {
            name: header.to_owned(),
        };
        let (name, token) = self
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(header))
            .ok_or_else(invalid)?;
        let name = HeaderName::try_from(name.as_str()).map_err(|_| invalid())?;
        Verifier::shared_secret(name, token).map_err(|_| invalid())
    }
}

impl fmt::Debug for WebhookRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookRequest")
            .field("operations", &self.operations)
            .field("name", &self.name)
            .field("webhook_type", &self.webhook_type)
            .field("data_models", &self.data_models)
            .field("url", &self.url)
            .field(
                "headers",
                &RedactedHeaders(self.headers.keys().map(String::as_str).collect()),
            )
            .finish()
    }
}

/// A v3 webhook as RootFi returns it: the whole answer to create, the `data` of the answer
/// to update.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Webhook {
    /// The webhook id (a string in v3, e.g. `THBROZzWGuL3b8qEEdBF`).
    pub id: String,
    /// Custom headers sent with every delivery.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Subscribed operations.
    #[serde(default)]
    pub operations: Vec<Operation>,
    /// Subscribed data models.
    #[serde(default)]
    pub data_models: Vec<DataModel>,
    /// Display name.
    pub name: String,
    /// Creation time, ISO 8601 as sent.
    pub created_at: String,
    /// The webhook type (wire field `type`).
    #[serde(rename = "type")]
    pub webhook_type: WebhookType,
    /// Destination URL.
    pub url: String,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field(
                "headers",
                &RedactedHeaders(self.headers.keys().map(String::as_str).collect()),
            )
            .field("operations", &self.operations)
            .field("data_models", &self.data_models)
            .field("name", &self.name)
            .field("created_at", &self.created_at)
            .field("webhook_type", &self.webhook_type)
            .field("url", &self.url)
            .finish()
    }
}

/// The answer to `PUT /v3/core/webhooks/{webhook_id}`: `{"data": Webhook}` (create, by
/// contrast, answers the bare [`Webhook`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpdateResponse {
    /// The updated webhook.
    pub data: Webhook,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    // The examples of the v3 create- and update-webhook references (see docs/README.md).
    const CREATE_REQUEST: &str = include_str!("docs/v3_create_request.json");
    const CREATE_RESPONSE: &str = include_str!("docs/v3_create_response.json");
    const UPDATE_REQUEST: &str = include_str!("docs/v3_update_request.json");
    const UPDATE_RESPONSE: &str = include_str!("docs/v3_update_response.json");

    fn documented() -> WebhookRequest {
        WebhookRequest::new(
            WebhookType::ConnectionChanged,
            "webhook 1",
            "https://webhook.site/eec24873-a381-4694-b684-a1d77d9e0697",
        )
        .operations([Operation::Create])
        .data_models([DataModel::Accounts(ApiVersion::V3)])
        .header("api_key", "fhsjd")
    }

    fn json(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn bodies_match_the_documented_requests() {
        assert_eq!(documented().create_body().unwrap(), json(CREATE_REQUEST));
        assert_eq!(documented().update_body().unwrap(), json(UPDATE_REQUEST));
    }

    #[test]
    fn the_two_envelopes_parse_to_the_same_webhook() {
        let created: Webhook = serde_json::from_str(CREATE_RESPONSE).unwrap();
        let updated: UpdateResponse = serde_json::from_str(UPDATE_RESPONSE).unwrap();
        assert_eq!(created, updated.data);
        assert_eq!(created.id, "THBROZzWGuL3b8qEEdBF");
        assert_eq!(created.webhook_type, WebhookType::ConnectionChanged);
        assert_eq!(created.headers["api_key"], "fhsjd");
        // The envelopes really differ: neither parses as the other.
        assert!(serde_json::from_str::<Webhook>(UPDATE_RESPONSE).is_err());
        assert!(serde_json::from_str::<UpdateResponse>(CREATE_RESPONSE).is_err());
    }

    #[test]
    fn validation_follows_the_v3_reference() {
        let cases = [
            (
                documented().operations([Operation::from("UPSERT")]),
                SetupError::UnsupportedValue {
                    field: "operations",
                    value: "UPSERT".into(),
                },
            ),
            (
                // v4's singular name is not a v3 data model (the builder respells it;
                // a request built field by field is still checked).
                WebhookRequest {
                    data_models: vec![DataModel::Invoices(ApiVersion::V4)],
                    ..documented()
                },
                SetupError::UnsupportedValue {
                    field: "data_models",
                    value: "INVOICE".into(),
                },
            ),
            (
                WebhookRequest {
                    webhook_type: WebhookType::SyncStarted,
                    ..documented()
                },
                SetupError::UnsupportedValue {
                    field: "type",
                    value: "SYNC_STARTED".into(),
                },
            ),
            (
                WebhookRequest {
                    name: " ".into(),
                    ..documented()
                },
                SetupError::EmptyField { field: "name" },
            ),
            (
                WebhookRequest {
                    url: "/webhooks/rootfi".into(),
                    ..documented()
                },
                SetupError::InvalidUrl {
                    reason: "not absolute (no scheme)",
                },
            ),
            (
                WebhookRequest {
                    url: "ftp://example.com/x".into(),
                    ..documented()
                },
                SetupError::InvalidUrl {
                    reason: "the scheme must be http or https",
                },
            ),
            (
                documented().header("bad header", "x"),
                SetupError::InvalidHeader {
                    name: "bad header".into(),
                },
            ),
            (
                documented().header("x-token", "line\nbreak"),
                SetupError::InvalidHeader {
                    name: "x-token".into(),
                },
            ),
        ];
        for (request, expected) in cases {
            assert_eq!(request.validate(), Err(expected.clone()), "{request:?}");
            assert_eq!(request.create_body(), Err(expected));
        }
        for model in V3_DATA_MODELS {
            assert!(DataModel::from(*model).is_known(), "{model}");
        }
        assert_eq!(V3_DATA_MODELS.len(), 62);
    }

    #[test]
    fn verifier_checks_the_registered_header() {
        let request = documented();
        let verifier = request.verifier("API_KEY").unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("api_key", http::HeaderValue::from_static("fhsjd"));
        assert_eq!(verifier.verify(&headers, b"{}"), Ok(()));
        headers.insert("api_key", http::HeaderValue::from_static("other"));
        assert!(verifier.verify(&headers, b"{}").is_err());
        assert_eq!(
            request.verifier("authorization").unwrap_err(),
            SetupError::InvalidHeader {
                name: "authorization".into()
            }
        );
    }

    #[test]
    fn debug_redacts_header_values() {
        let shown = format!("{:?}", documented());
        assert!(!shown.contains("fhsjd"), "{shown}");
        assert!(shown.contains("api_key"), "{shown}");
        let created: Webhook = serde_json::from_str(CREATE_RESPONSE).unwrap();
        assert!(!format!("{created:?}").contains("fhsjd"));
    }
}
