//! Parse errors: what failed, where, and which HTTP status it maps to.

use std::fmt;

/// What kind of parse failure it was; decides 400 vs 422.
///
/// # Example
///
/// ```
/// use ledgerhook::{ParseErrorKind, rootfi};
///
/// let err = rootfi::Event::from_slice(b"{\"webhook_type\":").unwrap_err();
/// assert_eq!(err.kind(), ParseErrorKind::Syntax);
/// let err = rootfi::Event::from_slice(br#"{"webhook_type":"SYNC_COMPLETED","company_id":"7"}"#)
///     .unwrap_err();
/// assert_eq!(err.kind(), ParseErrorKind::Data);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Not JSON: a syntax error, a truncated or empty body, invalid UTF-8 inside a
    /// string, a number outside the range of `f64`, or nesting deeper than 128 levels
    /// (serde_json's recursion limit). Maps to `400 Bad Request`.
    Syntax,
    /// Valid JSON of the wrong shape: not an object, no event tag, a known field of the
    /// wrong type (e.g. `company_id` as a string), a duplicate key, or a Railz body without
    /// a `data` object. Maps to `422 Unprocessable Entity`.
    Data,
}

impl ParseErrorKind {
    /// The status a receiver should answer with for this kind.
    ///
    /// ```
    /// use ledgerhook::ParseErrorKind;
    ///
    /// assert_eq!(ParseErrorKind::Syntax.status(), http::StatusCode::BAD_REQUEST);
    /// assert_eq!(ParseErrorKind::Data.status(), http::StatusCode::UNPROCESSABLE_ENTITY);
    /// ```
    #[must_use]
    pub fn status(self) -> http::StatusCode {
        match self {
            Self::Syntax => http::StatusCode::BAD_REQUEST,
            Self::Data => http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// A stable machine-readable code for this kind, for error bodies and metric labels:
    /// `invalid_json` (Syntax) or `invalid_shape` (Data).
    ///
    /// ```
    /// use ledgerhook::ParseErrorKind;
    ///
    /// assert_eq!(ParseErrorKind::Syntax.code(), "invalid_json");
    /// assert_eq!(ParseErrorKind::Data.code(), "invalid_shape");
    /// ```
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Syntax => "invalid_json",
            Self::Data => "invalid_shape",
        }
    }
}

/// A body that could not be parsed: the kind, the reason and the field path.
///
/// The path (`data.requests[2].status`) is computed only after a parse failed, by
/// parsing the body a second time under `serde_path_to_error`, so the success path pays
/// nothing for it.
///
/// # Example
///
/// ```
/// use ledgerhook::{ParseErrorKind, railz};
///
/// let body = br#"{"data":{"event":"data","requests":[{"id":"a","status":7}]}}"#;
/// let err = railz::Event::from_slice(body).unwrap_err();
/// assert_eq!(err.kind(), ParseErrorKind::Data);
/// assert_eq!(err.path(), Some("data.requests[0].status"));
/// assert_eq!(err.status(), http::StatusCode::UNPROCESSABLE_ENTITY);
/// assert!(err.to_string().starts_with("data.requests[0].status: invalid type"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    kind: ParseErrorKind,
    message: String,
    path: String,
}

impl ParseError {
    /// The kind of failure.
    #[must_use]
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// The stable code of the kind: `invalid_json` or `invalid_shape`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The status a receiver should answer with: 400 for [`ParseErrorKind::Syntax`], 422
    /// for [`ParseErrorKind::Data`].
    #[must_use]
    pub fn status(&self) -> http::StatusCode {
        self.kind.status()
    }

    /// The path of the field that failed (`data.requests[2].status`), or `None` when the
    /// failure is about the body as a whole.
    #[must_use]
    pub fn path(&self) -> Option<&str> {
        (!self.path.is_empty()).then_some(self.path.as_str())
    }

    /// The reason, without the path.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// A data error (valid JSON of the wrong shape) at `path` ("" for the whole body).
    pub(crate) fn data(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: ParseErrorKind::Data,
            message: message.into(),
            path: path.into(),
        }
    }

    /// Classifies a serde_json error and attaches a path.
    pub(crate) fn from_json(e: &serde_json::Error, path: String) -> Self {
        let kind = if e.is_data() {
            ParseErrorKind::Data
        } else {
            ParseErrorKind::Syntax
        };
        Self {
            kind,
            message: e.to_string(),
            path,
        }
    }

    /// Puts `prefix` in front of the path, for errors found while parsing a part of the
    /// body on its own.
    pub(crate) fn prefixed(mut self, prefix: &str) -> Self {
        self.path = match (prefix.is_empty(), self.path.is_empty()) {
            (true, _) => self.path,
            (false, true) => prefix.to_owned(),
            (false, false) if self.path.starts_with('[') => format!("{prefix}{}", self.path),
            (false, false) => format!("{prefix}.{}", self.path),
        };
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

/// Classifies a serde_json error (no path).
impl From<serde_json::Error> for ParseError {
    fn from(e: serde_json::Error) -> Self {
        Self::from_json(&e, String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_maps_to_400_and_data_to_422() {
        let syntax: ParseError = serde_json::from_slice::<serde_json::Value>(b"{")
            .unwrap_err()
            .into();
        assert_eq!(syntax.kind(), ParseErrorKind::Syntax);
        assert_eq!(syntax.status(), 400);
        let data: ParseError = serde_json::from_slice::<u8>(b"\"x\"").unwrap_err().into();
        assert_eq!(data.kind(), ParseErrorKind::Data);
        assert_eq!(data.status(), 422);
        assert_eq!(data.path(), None);
    }

    #[test]
    fn prefix_joins_fields_and_indices() {
        let e = ParseError::data("status", "bad");
        assert_eq!(e.prefixed("data").path(), Some("data.status"));
        let e = ParseError::data("[2].status", "bad");
        assert_eq!(
            e.prefixed("data.requests").path(),
            Some("data.requests[2].status")
        );
        let e = ParseError::data("", "bad");
        assert_eq!(e.prefixed("data").to_string(), "data: bad");
        let e = ParseError::data("x", "bad");
        assert_eq!(e.prefixed("").path(), Some("x"));
    }
}
