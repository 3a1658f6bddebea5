//! Railz events for handler tests: one builder per event kind.
//!
//! ```
//! use ledgerhook::railz::{Event, PushStatus, ServiceName};
//! use ledgerhook::testing::railz;
//!
//! let event = railz::push()
//!     .connection_id("CON-1")
//!     .service_name(ServiceName::Xero)
//!     .field("status", "failed")
//!     .field("responseCode", 400)
//!     .build();
//! let Event::Push(push) = event else { panic!() };
//! assert_eq!(push.status, Some(PushStatus::Failed));
//! assert_eq!(push.response_code, Some(400));
//! ```

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::railz::{ConnectionStatus, Event, EventType, ServiceName};

/// Builds a Railz delivery, then the [`Event`] it parses into.
pub type EventBuilder = super::EventBuilder<Event>;

impl EventBuilder {
    /// A delivery of `tag` (`data.event`) and no other field; an unknown tag gives
    /// [`Event::Unknown`].
    pub fn railz(tag: impl Into<String>) -> Self {
        let mut data = Map::new();
        data.insert("event".to_owned(), Value::String(tag.into()));
        let mut body = Map::new();
        body.insert("data".to_owned(), Value::Object(data));
        Self::new(body, true)
    }

    /// `data.connectionId`.
    pub fn connection_id(self, id: impl Into<String>) -> Self {
        self.field("connectionId", id.into())
    }

    /// `data.serviceName`.
    pub fn service_name(self, service: ServiceName) -> Self {
        self.field("serviceName", service.as_str())
    }

    /// The envelope's `requestId`.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.body
            .insert("requestId".to_owned(), Value::String(id.into()));
        self
    }
}

/// `login`: a new connection.
pub fn login() -> EventBuilder {
    EventBuilder::railz(EventType::Login.as_str())
}

/// `auth`: a connection was authorised.
pub fn auth() -> EventBuilder {
    EventBuilder::railz(EventType::Auth.as_str())
}

/// `connectionStatus`: the connection went from `old` to `new`.
///
/// ```
/// use ledgerhook::railz::{ConnectionStatus, Event};
/// use ledgerhook::testing::railz;
///
/// let event = railz::connection_status_changed(ConnectionStatus::Active, ConnectionStatus::Disconnected)
///     .connection_id("CON-1")
///     .build();
/// let Event::ConnectionStatusChanged(change) = event else { panic!() };
/// assert_eq!(change.new_status, Some(ConnectionStatus::Disconnected));
/// ```
pub fn connection_status_changed(old: ConnectionStatus, new: ConnectionStatus) -> EventBuilder {
    EventBuilder::railz(EventType::ConnectionStatusChanged.as_str())
        .field("oldStatus", old.as_str())
        .field("newStatus", new.as_str())
}

/// `customerRequest`: a GDPR request.
pub fn customer_request() -> EventBuilder {
    EventBuilder::railz(EventType::CustomerRequest.as_str())
}

/// `data`: a data sync finished (add `requests` with [`EventBuilder::field`]).
pub fn data() -> EventBuilder {
    EventBuilder::railz(EventType::Data.as_str())
}

/// `dataPerType`: one data type finished syncing.
pub fn data_per_type() -> EventBuilder {
    EventBuilder::railz(EventType::DataPerType.as_str())
}

/// `push`: a push finished.
pub fn push() -> EventBuilder {
    EventBuilder::railz(EventType::Push.as_str())
}

/// `batchPush`: a batch push finished.
pub fn batch_push() -> EventBuilder {
    EventBuilder::railz(EventType::BatchPush.as_str())
}

/// `delete`: a delete finished.
pub fn delete() -> EventBuilder {
    EventBuilder::railz(EventType::Delete.as_str())
}

/// A Railz delivery signed as Railz signs it, with `secret`, now.
///
/// ```
/// use ledgerhook::testing::railz;
///
/// let request = railz::signed_request("whsec_test", railz::auth().body());
/// assert!(request.headers().contains_key("railz-signature"));
/// ```
///
/// # Panics
///
/// For an empty secret (which no verifier accepts).
#[must_use]
pub fn signed_request(secret: &str, body: impl Into<Bytes>) -> http::Request<Bytes> {
    let verifier = crate::Verifier::railz(secret).expect("a non-empty secret");
    super::signed_request(&verifier, body)
}
