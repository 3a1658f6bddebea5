//! Construction-time errors.

use std::fmt;

/// An error in configuration, reported when a verifier or layer is built, never per request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The secret (or shared token) is empty.
    EmptySecret,
    /// A header name or value given in the configuration is not valid HTTP.
    InvalidHeader(&'static str),
    /// Some other setting is out of range; the text names it.
    Invalid(&'static str),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptySecret => f.write_str("webhook secret must not be empty"),
            Self::InvalidHeader(what) => write!(f, "invalid header in configuration: {what}"),
            Self::Invalid(what) => write!(f, "invalid configuration: {what}"),
        }
    }
}

impl std::error::Error for ConfigError {}
