//! Parse errors. (stub)

use std::fmt;

/// What kind of parse failure: decides 400 vs 422.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Not JSON (syntax error, truncated, invalid UTF-8, empty): 400.
    Syntax,
    /// JSON of the wrong shape: 422.
    Data,
}

/// A body that could not be parsed, with the reason and the field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    kind: ParseErrorKind,
    message: String,
}

impl ParseError {
    /// The kind of failure.
    #[must_use]
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// The status a receiver should answer with.
    #[must_use]
    pub fn status(&self) -> http::StatusCode {
        match self.kind {
            ParseErrorKind::Syntax => http::StatusCode::BAD_REQUEST,
            ParseErrorKind::Data => http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

impl From<serde_json::Error> for ParseError {
    fn from(e: serde_json::Error) -> Self {
        let kind = if e.is_data() { ParseErrorKind::Data } else { ParseErrorKind::Syntax };
        Self { kind, message: e.to_string() }
    }
}
