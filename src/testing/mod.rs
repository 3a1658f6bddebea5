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

use crate::{ParseError, WebhookPayload};

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
