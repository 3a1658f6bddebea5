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

use crate::ParseError;
use crate::railz::{ConnectionStatus, Event, EventType, ServiceName};

/// Builds the body of one Railz delivery, then the [`Event`] it parses into.
#[derive(Debug, Clone)]
#[must_use]
pub struct EventBuilder {
    data: Map<String, Value>,
    envelope: Map<String, Value>,
}

impl EventBuilder {
    /// A delivery of `tag` (`data.event`) and no other field; an unknown tag gives
    /// [`Event::Unknown`].
    pub fn new(tag: impl Into<String>) -> Self {
        let mut data = Map::new();
        data.insert("event".to_owned(), Value::String(tag.into()));
        Self {
            data,
            envelope: Map::new(),
        }
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
        self.envelope
            .insert("requestId".to_owned(), Value::String(id.into()));
        self
    }

    /// Any field of `data`, by its wire name (`"dataType"`, `"requests"`, ...).
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.data.insert(name.to_owned(), value.into());
        self
    }

    /// The JSON body, as Railz would send it (for [`signed_request`](super::signed_request)).
    #[must_use]
    pub fn body(&self) -> Bytes {
        super::body_of(&self.to_value())
    }

    /// The body as a JSON value.
    #[must_use]
    pub fn to_value(&self) -> Value {
        let mut body = self.envelope.clone();
        body.insert("data".to_owned(), Value::Object(self.data.clone()));
        Value::Object(body)
    }

    /// The event the body parses into.
    ///
    /// # Errors
    ///
    /// The [`ParseError`] for a field of the wrong type (`"responseCode": "400"`).
    pub fn try_build(&self) -> Result<Event, ParseError> {
        Event::from_slice(&self.body())
    }

    /// The event the body parses into.
    ///
    /// # Panics
    ///
    /// When a field has the wrong type for the event (use [`EventBuilder::try_build`] to
    /// test that case).
    #[must_use]
    pub fn build(&self) -> Event {
        self.try_build()
            .unwrap_or_else(|e| panic!("the built Railz body does not parse: {e}"))
    }
}

/// `login`: a new connection.
pub fn login() -> EventBuilder {
    EventBuilder::new(EventType::Login.as_str())
}

/// `auth`: a connection was authorised.
pub fn auth() -> EventBuilder {
    EventBuilder::new(EventType::Auth.as_str())
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
    EventBuilder::new(EventType::ConnectionStatusChanged.as_str())
        .field("oldStatus", old.as_str())
        .field("newStatus", new.as_str())
}

/// `customerRequest`: a GDPR request.
pub fn customer_request() -> EventBuilder {
    EventBuilder::new(EventType::CustomerRequest.as_str())
}

/// `data`: a data sync finished (add `requests` with [`EventBuilder::field`]).
pub fn data() -> EventBuilder {
    EventBuilder::new(EventType::Data.as_str())
}

/// `dataPerType`: one data type finished syncing.
pub fn data_per_type() -> EventBuilder {
    EventBuilder::new(EventType::DataPerType.as_str())
}

/// `push`: a push finished.
pub fn push() -> EventBuilder {
    EventBuilder::new(EventType::Push.as_str())
}

/// `batchPush`: a batch push finished.
pub fn batch_push() -> EventBuilder {
    EventBuilder::new(EventType::BatchPush.as_str())
}

/// `delete`: a delete finished.
pub fn delete() -> EventBuilder {
    EventBuilder::new(EventType::Delete.as_str())
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
