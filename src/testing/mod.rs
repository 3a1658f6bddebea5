//! Helpers for testing webhook handlers (feature `testing`): the fixtures as constants,
//! events built without JSON plumbing, and signed `http::Request`s.
//!
//! The event structs are `#[non_exhaustive]`, so a test cannot write them as struct
//! literals. The builders in [`railz`] and [`rootfi`] write the JSON body a provider
//! would send and parse it with the crate's own parser, so a built event is exactly what
//! a delivery with those fields becomes (tag, `extra` and all), and the same body can be
//! sent signed through a real layer with [`signed_request`].
//!
//! ```
//! use ledgerhook::testing::{self, railz};
//! use ledgerhook::{Verifier, WebhookPayload, railz as model};
//!
//! // An event for a handler called directly.
//! let event = railz::auth().connection_id("CON-1").request_id("r-1").build();
//! let model::Event::Auth(auth) = &event else { panic!() };
//! assert_eq!(auth.connection_id.as_deref(), Some("CON-1"));
//!
//! // The same delivery, signed, for a service behind the verifying layer.
//! let verifier = Verifier::railz("whsec_test")?;
//! let request = testing::signed_request(&verifier, railz::auth().connection_id("CON-1").body());
//! assert!(verifier.verify(request.headers(), request.body()).is_ok());
//! assert!(model::Event::parse(request.body())?.is_known());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod fixtures;
pub mod railz;
mod request;
pub mod rootfi;

pub use request::{signed_request, signed_request_at};

use std::marker::PhantomData;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::{ParseError, WebhookPayload};

/// Builds the body of one delivery, then the event `E` it parses into. Made by the
/// functions of [`railz`] and [`rootfi`], which also add the provider's own setters.
#[derive(Debug, Clone)]
#[must_use]
pub struct EventBuilder<E> {
    body: Map<String, Value>,
    /// Fields go into the body's `data` object (Railz) rather than its top level.
    fields_in_data: bool,
    event: PhantomData<fn() -> E>,
}

impl<E: WebhookPayload> EventBuilder<E> {
    fn new(body: Map<String, Value>, fields_in_data: bool) -> Self {
        Self {
            body,
            fields_in_data,
            event: PhantomData,
        }
    }

    /// Any field of the event, by its wire name (Railz: inside `data`).
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Self {
        let fields = match self.body.get_mut("data") {
            Some(Value::Object(data)) if self.fields_in_data => data,
            _ => &mut self.body,
        };
        fields.insert(name.to_owned(), value.into());
        self
    }

    /// The JSON body, as the provider would send it (for [`signed_request`]).
    #[must_use]
    pub fn body(&self) -> Bytes {
        body_of(&self.to_value())
    }

    /// The body as a JSON value.
    #[must_use]
    pub fn to_value(&self) -> Value {
        Value::Object(self.body.clone())
    }

    /// The event the body parses into.
    ///
    /// # Errors
    ///
    /// The [`ParseError`] for a field of the wrong type (`"company_id": "7"`).
    pub fn try_build(&self) -> Result<E, ParseError> {
        E::parse(&self.body())
    }

    /// The event the body parses into.
    ///
    /// # Panics
    ///
    /// When a field has the wrong type for the event (use [`EventBuilder::try_build`] to
    /// test that case).
    #[must_use]
    pub fn build(&self) -> E {
        self.try_build()
            .unwrap_or_else(|e| panic!("the built body does not parse: {e}"))
    }
}

/// Parses a JSON value as a provider would send it into any payload type, for bodies
/// the builders do not cover.
///
/// ```
/// use ledgerhook::{Event, testing};
///
/// let event: Event = testing::from_value(serde_json::json!({
///     "webhook_type": "SYNC_COMPLETED", "company_id": 7, "data": {"status": "SUCCESS"}
/// }))?;
/// assert_eq!(event.tag(), "SYNC_COMPLETED");
/// # Ok::<(), ledgerhook::ParseError>(())
/// ```
///
/// # Errors
///
/// The [`ParseError`] the parser reports for that body.
pub fn from_value<E: WebhookPayload>(body: serde_json::Value) -> Result<E, ParseError> {
    E::parse(&body_of(&body))
}

/// The JSON text of a value, as bytes.
fn body_of(value: &serde_json::Value) -> bytes::Bytes {
    // A `Value` always serialises (its map keys are strings).
    serde_json::to_vec(value).unwrap_or_default().into()
}
