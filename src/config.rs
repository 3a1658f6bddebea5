//! Construction-time errors.

use std::fmt;

/// An error in configuration, reported when a verifier or layer is built (or its keys are
/// changed), never per request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The secret (or shared token) is empty.
    EmptySecret,
    /// A header name or value given in the configuration is not valid HTTP; the text names it.
    InvalidHeader(&'static str),
    /// Some other setting is out of range or inconsistent; the text names it.
    Invalid(&'static str),
    /// The key ring already holds the maximum number of keys
    /// ([`KeyRing::MAX_KEYS`](crate::signature::KeyRing::MAX_KEYS)).
    TooManyKeys,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptySecret => f.write_str("webhook secret must not be empty"),
            Self::InvalidHeader(what) => write!(f, "invalid header in configuration: {what}"),
            Self::Invalid(what) => write!(f, "invalid configuration: {what}"),
            Self::TooManyKeys => f.write_str("too many webhook secrets in the key ring"),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_problem() {
        assert_eq!(
            ConfigError::EmptySecret.to_string(),
            "webhook secret must not be empty"
        );
        assert!(
            ConfigError::InvalidHeader("token")
                .to_string()
                .contains("token")
        );
        assert!(
            ConfigError::Invalid("prefix")
                .to_string()
                .contains("prefix")
        );
    }
}
