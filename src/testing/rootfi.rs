//! RootFi events for handler tests: one builder per event kind.
//!
//! ```
//! use ledgerhook::rootfi::{ApiVersion, DataModel, Event, Operation};
//! use ledgerhook::testing::rootfi;
//!
//! let event = rootfi::data_model_changes(DataModel::Invoices(ApiVersion::V4), Operation::Create)
//!     .company_id(42)
//!     .records(serde_json::json!([{"platform_id": "INV-1"}]))
//!     .build();
//! let Event::DataModelChanges(change) = event else { panic!() };
//! assert!(matches!(change.data_model, Some(DataModel::Invoices(_))));
//! assert_eq!(change.data.unwrap().to_values()?[0]["platform_id"], "INV-1");
//! # Ok::<(), ledgerhook::ParseError>(())
//! ```

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::rootfi::{
    ConnectionStatus, DataModel, Event, IntegrationType, Operation, V4_CONNECTION_CHANGED,
    WebhookType,
};

/// Builds a RootFi delivery, then the [`Event`] it parses into.
pub type EventBuilder = super::EventBuilder<Event>;

impl EventBuilder {
    /// A v3 delivery with `"webhook_type": tag` and no other field; an unknown tag gives
    /// [`Event::Unknown`].
    pub fn rootfi(webhook_type: impl Into<String>) -> Self {
        let mut body = Map::new();
        body.insert(
            "webhook_type".to_owned(),
            Value::String(webhook_type.into()),
        );
        Self::new(body, false)
    }

    /// `company_id`.
    pub fn company_id(self, id: u64) -> Self {
        self.field("company_id", id)
    }

    /// `integration_type`.
    pub fn integration_type(self, platform: IntegrationType) -> Self {
        self.field("integration_type", platform.as_str())
    }

    /// `data`: the records of a `DATA_MODEL_CHANGES` (an array), the sync object of
    /// `SYNC_*`, the payload of `INTEGRATION`.
    pub fn records(self, data: Value) -> Self {
        self.field("data", data)
    }
}

/// `DATA_MODEL_CHANGES` on `model` (add the records with [`EventBuilder::records`]).
pub fn data_model_changes(model: DataModel, operation: Operation) -> EventBuilder {
    EventBuilder::rootfi(WebhookType::DataModelChanges.as_str())
        .field("data_model", model.as_str())
        .field("type", operation.as_str())
}

/// v3 `CONNECTION_CHANGED` to `status`.
///
/// ```
/// use ledgerhook::rootfi::{ConnectionStatus, Event};
/// use ledgerhook::testing::rootfi;
///
/// let event = rootfi::connection_changed(ConnectionStatus::Expired).company_id(7).build();
/// assert_eq!(event.tag(), "CONNECTION_CHANGED");
/// let Event::ConnectionChanged(change) = event else { panic!() };
/// assert_eq!(change.connection_status, Some(ConnectionStatus::Expired));
/// ```
pub fn connection_changed(status: ConnectionStatus) -> EventBuilder {
    EventBuilder::rootfi(WebhookType::ConnectionChanged.as_str())
        .field("connection_status", status.as_str())
}

/// v4 `"event": "connection.changed"`.
pub fn connection_changed_v4() -> EventBuilder {
    let mut body = Map::new();
    body.insert("event".to_owned(), Value::from(V4_CONNECTION_CHANGED));
    EventBuilder::new(body, false)
}

/// `SYNC_STARTED`.
pub fn sync_started() -> EventBuilder {
    EventBuilder::rootfi(WebhookType::SyncStarted.as_str())
}

/// `SYNC_COMPLETED`.
pub fn sync_completed() -> EventBuilder {
    EventBuilder::rootfi(WebhookType::SyncCompleted.as_str())
}

/// `INTEGRATION`.
pub fn integration() -> EventBuilder {
    EventBuilder::rootfi(WebhookType::Integration.as_str())
}

/// A RootFi delivery signed as RootFi v4 signs it (`X-RootFi-Signature`, HMAC-SHA256 of
/// the body) with `secret`.
///
/// ```
/// use ledgerhook::testing::rootfi;
///
/// let request = rootfi::signed_request("rootfi_secret", rootfi::sync_started().company_id(1).body());
/// assert!(request.headers().contains_key("x-rootfi-signature"));
/// ```
///
/// # Panics
///
/// For an empty secret (which no verifier accepts).
#[must_use]
pub fn signed_request(secret: &str, body: impl Into<Bytes>) -> http::Request<Bytes> {
    let scheme = crate::signature::HmacScheme::rootfi_v4();
    let verifier = crate::Verifier::hmac(scheme, secret).expect("a non-empty secret");
    super::signed_request(&verifier, body)
}
