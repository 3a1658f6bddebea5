//! Construction-time errors.

use std::fmt;

/// An error in configuration, reported when a verifier or layer is built (or its keys are
/// changed), never per request.
///
/// It says which setting failed ([`setting`](Self::setting), the name of the parameter or
/// builder method such as `"secret"`, `"header"`, `"tolerance"`, `"template"`,
/// `"format"`), what is wrong with it ([`kind`](Self::kind), with a stable
/// [`code`](Self::code)) and why ([`reason`](Self::reason)). It never contains the value
/// itself, which may be a secret.
///
/// ```
/// use ledgerhook::{ConfigError, ConfigErrorKind, Verifier};
///
/// let err: ConfigError = Verifier::railz("").unwrap_err();
/// assert_eq!(err.setting(), "secret");
/// assert_eq!(err.kind(), ConfigErrorKind::Empty);
/// assert_eq!(err.code(), "empty_value");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    setting: &'static str,
    kind: ConfigErrorKind,
    reason: &'static str,
}

/// What is wrong with a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The value is empty (an empty secret, token or key name).
    Empty,
    /// The value is malformed or out of range.
    Invalid,
    /// The value does not fit together with another setting.
    Conflict,
    /// The key ring already holds
    /// [`KeyRing::MAX_KEYS`](crate::signature::KeyRing::MAX_KEYS) keys.
    TooManyKeys,
}

impl ConfigErrorKind {
    /// A stable, machine-readable code: `empty_value`, `invalid_value`,
    /// `conflicting_settings`, `too_many_keys`.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Empty => "empty_value",
            Self::Invalid => "invalid_value",
            Self::Conflict => "conflicting_settings",
            Self::TooManyKeys => "too_many_keys",
        }
    }
}

impl ConfigError {
    /// `setting` must not be empty.
    #[must_use]
    pub fn empty(setting: &'static str) -> Self {
        Self {
            setting,
            kind: ConfigErrorKind::Empty,
            reason: "must not be empty",
        }
    }

    /// `setting` is malformed or out of range, because of `reason`.
    #[must_use]
    pub fn invalid(setting: &'static str, reason: &'static str) -> Self {
        Self {
            setting,
            kind: ConfigErrorKind::Invalid,
            reason,
        }
    }

    /// `setting` does not fit together with another setting, because of `reason`.
    #[must_use]
    pub fn conflict(setting: &'static str, reason: &'static str) -> Self {
        Self {
            setting,
            kind: ConfigErrorKind::Conflict,
            reason,
        }
    }

    /// The key ring is full.
    #[must_use]
    pub fn too_many_keys() -> Self {
        Self {
            setting: "secret",
            kind: ConfigErrorKind::TooManyKeys,
            reason: "the key ring already holds the maximum number of keys",
        }
    }

    /// The setting that failed: the parameter or builder method name (`"secret"`,
    /// `"header"`, `"tolerance"`, `"template"`, `"format"`, ...).
    #[must_use]
    pub fn setting(&self) -> &'static str {
        self.setting
    }

    /// What is wrong with it.
    #[must_use]
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The stable code of [`kind`](Self::kind).
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// Why, in a short fixed sentence.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid webhook configuration: `{}` {}",
            self.setting, self.reason
        )
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_setting_and_the_reason() {
        assert_eq!(
            ConfigError::empty("secret").to_string(),
            "invalid webhook configuration: `secret` must not be empty"
        );
        let err = ConfigError::invalid("template", "needs exactly one {body}");
        assert!(err.to_string().contains("template"));
        assert!(err.to_string().contains("{body}"));
        assert_eq!(err.code(), "invalid_value");
        assert_eq!(ConfigError::too_many_keys().code(), "too_many_keys");
        assert_eq!(
            ConfigError::conflict("header", "x").code(),
            "conflicting_settings"
        );
    }
}
