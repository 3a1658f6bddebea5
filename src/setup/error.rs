//! Why a registration request was refused before it was sent.

use std::fmt;

use crate::ConfigError;

/// A webhook registration that does not satisfy what the provider documents, found before
/// anything is sent.
///
/// ```
/// use ledgerhook::rootfi::WebhookType;
/// use ledgerhook::setup::SetupError;
/// use ledgerhook::setup::rootfi::v4::CreateWebhookConfig;
///
/// let config = CreateWebhookConfig::new(WebhookType::Integration, "erp", "https://example.com/hooks");
/// let err = config.validate().unwrap_err();
/// assert_eq!(err, SetupError::MissingIntegrationType);
/// assert_eq!(err.code(), "missing_integration_type");
///
/// let err = CreateWebhookConfig::new(WebhookType::from("PING"), "n", "https://example.com/h")
///     .validate()
///     .unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "`webhook_type` does not accept \"PING\"; documented values: INTEGRATION, \
///      DATA_MODEL_CHANGES, CONNECTION_CHANGED, SYNC_STARTED, SYNC_COMPLETED"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetupError {
    /// A required field is empty.
    EmptyField {
        /// The wire name of the field.
        field: &'static str,
    },
    /// The destination is not an absolute `http` or `https` URL.
    InvalidUrl {
        /// Why it was refused.
        reason: &'static str,
    },
    /// A value outside the list the provider documents for this field and API version.
    UnsupportedValue {
        /// The wire name of the field.
        field: &'static str,
        /// The refused value, as it would be sent.
        value: String,
    },
    /// RootFi v4: `integration_type` is required when `webhook_type` is `INTEGRATION`.
    MissingIntegrationType,
    /// An update that sets no field.
    NothingToUpdate,
    /// A custom header's name is not a valid HTTP header name, or its value cannot be sent
    /// in a header. The value is never included.
    InvalidHeader {
        /// The header name as given.
        name: String,
    },
    /// A verifier was asked for, but the configuration has no signing key, so RootFi
    /// would not sign its deliveries.
    MissingSigningKey,
    /// The signing key is empty or not visible ASCII (it is sent as a JSON string and
    /// must be typed into the receiver's environment).
    InvalidSigningKey,
    /// The configuration could not be turned into a [`Verifier`](crate::Verifier).
    Verifier(ConfigError),
}

impl SetupError {
    /// A stable, machine-readable code for this error.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyField { .. } => "empty_field",
            Self::InvalidUrl { .. } => "invalid_url",
            Self::UnsupportedValue { .. } => "unsupported_value",
            Self::MissingIntegrationType => "missing_integration_type",
            Self::NothingToUpdate => "nothing_to_update",
            Self::InvalidHeader { .. } => "invalid_header",
            Self::MissingSigningKey => "missing_signing_key",
            Self::InvalidSigningKey => "invalid_signing_key",
            Self::Verifier(_) => "invalid_verifier",
        }
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyField { field } => write!(f, "`{field}` must not be empty"),
            Self::InvalidUrl { reason } => write!(f, "invalid `url`: {reason}"),
            Self::UnsupportedValue { field, value } => {
                write!(f, "`{field}` does not accept {value:?}")?;
                match super::rootfi::documented_values(field) {
                    Some(values) => write!(f, "; documented values: {}", values.join(", ")),
                    None => Ok(()),
                }
            }
            Self::MissingIntegrationType => {
                f.write_str("`integration_type` is required when `webhook_type` is INTEGRATION")
            }
            Self::NothingToUpdate => f.write_str("the update sets no field"),
            Self::InvalidHeader { name } => {
                write!(f, "custom header {name:?}: invalid header name or value")
            }
            Self::MissingSigningKey => f.write_str(
                "no `signing_key`: deliveries would not be signed, so there is nothing to verify",
            ),
            Self::InvalidSigningKey => f.write_str("`signing_key` must be non-empty visible ASCII"),
            Self::Verifier(err) => write!(f, "cannot build the verifier: {err}"),
        }
    }
}

impl std::error::Error for SetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Verifier(err) => Some(err),
            _ => None,
        }
    }
}

impl From<ConfigError> for SetupError {
    fn from(err: ConfigError) -> Self {
        Self::Verifier(err)
    }
}
