//! railz events. (stub)

use super::ParseError;

/// A railz webhook event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// An event this version does not know, kept losslessly.
    Unknown {
        /// The tag as on the wire.
        tag: String,
        /// The whole body.
        raw: serde_json::Value,
    },
}

impl Event {
    /// Parses a railz body.
    ///
    /// # Errors
    /// See [`ParseError`].
    pub fn from_slice(body: &[u8]) -> Result<Self, ParseError> {
        let raw: serde_json::Value = serde_json::from_slice(body)?;
        Ok(Self::Unknown { tag: String::new(), raw })
    }

    /// The event tag exactly as on the wire.
    #[must_use]
    pub fn tag(&self) -> &str {
        match self {
            Self::Unknown { tag, .. } => tag,
        }
    }

    /// Whether this crate knows the tag.
    #[must_use]
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown { .. })
    }
}

impl super::WebhookPayload for Event {
    fn parse(body: &bytes::Bytes) -> Result<Self, ParseError> {
        Self::from_slice(body)
    }
}
