//! The typed event model. (stub: the event-model work replaces the bodies; signatures are the contract)

use bytes::Bytes;

mod error;
pub mod railz;
pub mod rootfi;

pub use error::{ParseError, ParseErrorKind};

/// A payload type the verifying layer can parse verified bytes into.
pub trait WebhookPayload: Sized + Clone + Send + Sync + 'static {
    /// Parses the verified body.
    ///
    /// # Errors
    /// [`ParseError`] of kind `Syntax` (not JSON: 400) or `Data` (wrong shape: 422).
    fn parse(body: &Bytes) -> Result<Self, ParseError>;
}

/// No parsing: the layer only verifies and hands on the bytes.
impl WebhookPayload for Bytes {
    fn parse(body: &Bytes) -> Result<Self, ParseError> {
        Ok(body.clone())
    }
}

/// An event from either provider, detected from the body's shape.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A RootFi (Commenda Integrations) event.
    RootFi(rootfi::Event),
    /// A Railz event.
    Railz(railz::Event),
}

impl Event {
    /// Parses a body from either provider.
    ///
    /// # Errors
    /// See [`ParseError`].
    pub fn from_slice(body: &[u8]) -> Result<Self, ParseError> {
        railz::Event::from_slice(body).map(Self::Railz)
    }
}
