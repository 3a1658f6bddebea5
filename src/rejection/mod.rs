//! Why the crate refused a request, and how every refusal is answered.
//!
//! Every answer the crate gives instead of calling your handler, from the verifying layer,
//! the idempotency layer or an extractor, is a [`Rejection`]: the full reason (kept for the
//! log and the response extensions), a [`RejectionKind`] with a stable machine-readable
//! [`code`](RejectionKind::code) and a [`status`](RejectionKind::status), and for the
//! "come back later" kinds a [`retry_after`](Rejection::retry_after).
//!
//! | code | status | kind |
//! |---|---|---|
//! | `missing_signature`, `missing_token`, `malformed_header`, `signature_mismatch`, `token_mismatch`, `stale_timestamp`, `future_timestamp` | 400 / 401 | [`RejectionKind::Verification`] |
//! | `invalid_json`, `invalid_shape` | 400 / 422 | [`RejectionKind::Payload`] (feature `events`) |
//! | `too_large` | 413 | [`RejectionKind::BodyTooLarge`] |
//! | `body_timeout` | 408 | [`RejectionKind::BodyTimeout`] |
//! | `body_read` | 400 | [`RejectionKind::BodyRead`] |
//! | `unsupported_media_type` | 415 | [`RejectionKind::UnsupportedMediaType`] |
//! | `overloaded` | 503 + `Retry-After` | [`RejectionKind::Overloaded`] |
//! | `in_flight` | 409 + `Retry-After` | [`RejectionKind::InFlight`] |
//! | `store_unavailable` | 503 + `Retry-After` | [`RejectionKind::StoreUnavailable`] |
//! | `store_full` | 503 + `Retry-After` | [`RejectionKind::StoreFull`] |
//! | `missing_layer` | 500 | [`RejectionKind::MissingLayer`] |
//!
//! The answer itself is built by one [`RejectionResponse`], set once with
//! [`VerifyWebhookLayer::rejection_response`](crate::layer::VerifyWebhookLayer::rejection_response).
//! The verifying layer leaves it (as a [`Responder`]) in the request extensions, so the
//! idempotency layer and the extractors behind it answer the same way. The default,
//! [`DefaultRejectionResponse`], sends the status and its reason phrase and nothing else:
//! the caller of a webhook endpoint may be a prober, and the code would tell it, for
//! example, that its forged signature was well-formed but stale.
//!
//! ```
//! use bytes::Bytes;
//! use http::{Response, StatusCode};
//! use ledgerhook::{VerifyWebhookLayer, rejection::Rejection};
//!
//! // JSON bodies with the stable code, for a sender that reads them.
//! let layer = VerifyWebhookLayer::railz("railz-signing-secret")?.rejection_response(
//!     |rejection: &Rejection| {
//!         let body = format!(r#"{{"error":"{}"}}"#, rejection.kind().code());
//!         let mut response = Response::new(Bytes::from(body));
//!         *response.status_mut() = rejection.status();
//!         response
//!     },
//! );
//! # let _ = layer;
//! # Ok::<(), ledgerhook::ConfigError>(())
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use tower::BoxError;

#[cfg(feature = "events")]
use crate::{ParseError, ParseErrorKind};
use crate::{VerificationError, VerificationErrorKind};

mod log;
mod response;

pub use self::log::DEFAULT_SUMMARY_INTERVAL;
pub use self::response::{DefaultRejectionResponse, RejectionResponse, Responder};

/// A request the crate refused, with its reason.
///
/// Found in the extensions of every response the crate produces instead of calling the
/// inner service, and the `Rejection` type of the extractors:
///
/// ```
/// use http::{Response, StatusCode};
/// use ledgerhook::rejection::{Rejection, RejectionKind};
///
/// fn code<B>(response: &Response<B>) -> Option<&'static str> {
///     response.extensions().get::<Rejection>().map(|r| r.kind().code())
/// }
/// # assert_eq!(code(&Response::new(())), None);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Rejection {
    reason: Reason,
    // Set by the extractors, so `IntoResponse` answers through the route's responder.
    #[cfg(feature = "axum")]
    pub(crate) answer: Option<Box<response::Answer>>,
}

// Private so new reasons and richer details can be added without a breaking change.
#[derive(Debug, Clone)]
enum Reason {
    Verification(VerificationError),
    BodyTooLarge {
        limit: usize,
    },
    BodyTimeout {
        after: Duration,
    },
    // `Arc` keeps the rejection `Clone` (response extensions require it).
    BodyRead(Arc<dyn StdError + Send + Sync>),
    UnsupportedMediaType,
    #[cfg(feature = "events")]
    Payload(ParseError),
    #[cfg(feature = "axum")]
    Json {
        error: Arc<serde_json::Error>,
        path: String,
    },
    Overloaded {
        retry_after: Duration,
    },
    InFlight {
        retry_after: Duration,
    },
    StoreUnavailable {
        retry_after: Duration,
        source: Option<Arc<dyn StdError + Send + Sync>>,
    },
    StoreFull {
        retry_after: Duration,
    },
    // Built by the extractors and (at the merge) the idempotency layer.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    MissingLayer {
        what: &'static str,
    },
}

/// What kind of [`Rejection`]: cheap to copy, for matching, metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// The signature or token did not verify (401), or its header was malformed (400).
    Verification(VerificationErrorKind),
    /// The verified body is not JSON (400) or not the expected shape (422).
    #[cfg(feature = "events")]
    Payload(ParseErrorKind),
    /// The body is larger than the configured limit (413), by `Content-Length` or as streamed.
    BodyTooLarge,
    /// The body did not arrive before the configured deadline (408).
    BodyTimeout,
    /// The body could not be read, e.g. the connection broke mid-body (400).
    BodyRead,
    /// A JSON content type was required and the request had another or none (415).
    UnsupportedMediaType,
    /// The shared buffer budget cannot hold this body now (503 + `Retry-After`).
    Overloaded,
    /// Another delivery with the same key is being handled (409 + `Retry-After`).
    InFlight,
    /// The idempotency (or inbox) store cannot answer (503 + `Retry-After`).
    StoreUnavailable,
    /// The store is full of records it must keep (503 + `Retry-After`).
    StoreFull,
    /// The route is missing the verifying layer the extractor or layer needs (500): a
    /// server configuration error.
    MissingLayer,
}

impl RejectionKind {
    /// A stable, machine-readable code (`signature_mismatch`, `too_large`, …; the table is
    /// in the [module docs](self)), for your own error bodies, metrics and alerts.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Verification(kind) => kind.code(),
            #[cfg(feature = "events")]
            Self::Payload(kind) => kind.code(),
            Self::BodyTooLarge => "too_large",
            Self::BodyTimeout => "body_timeout",
            Self::BodyRead => "body_read",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Overloaded => "overloaded",
            Self::InFlight => "in_flight",
            Self::StoreUnavailable => "store_unavailable",
            Self::StoreFull => "store_full",
            Self::MissingLayer => "missing_layer",
        }
    }

    /// The status the caller is answered with.
    #[must_use]
    pub fn status(self) -> StatusCode {
        match self {
            Self::Verification(kind) => kind.status(),
            #[cfg(feature = "events")]
            Self::Payload(kind) => kind.status(),
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::BodyRead => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::InFlight => StatusCode::CONFLICT,
            Self::Overloaded | Self::StoreUnavailable | Self::StoreFull => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether the caller had proved nothing when it was refused: a missing, malformed or
    /// forged signature, or a body refused before its signature could be checked. Anyone
    /// can cause these, so they are logged at DEBUG and counted in a summary line rather
    /// than one WARN each.
    #[must_use]
    pub fn is_unauthenticated(self) -> bool {
        matches!(
            self,
            Self::Verification(_)
                | Self::BodyTooLarge
                | Self::BodyTimeout
                | Self::BodyRead
                | Self::UnsupportedMediaType
                | Self::Overloaded
        )
    }
}

impl fmt::Display for RejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Rejection {
    fn new(reason: Reason) -> Self {
        Self {
            reason,
            #[cfg(feature = "axum")]
            answer: None,
        }
    }

    pub(crate) fn verification(error: VerificationError) -> Self {
        Self::new(Reason::Verification(error))
    }

    pub(crate) fn body_too_large(limit: usize) -> Self {
        Self::new(Reason::BodyTooLarge { limit })
    }

    pub(crate) fn body_timeout(after: Duration) -> Self {
        Self::new(Reason::BodyTimeout { after })
    }

    pub(crate) fn body_read(error: BoxError) -> Self {
        Self::new(Reason::BodyRead(Arc::from(error)))
    }

    pub(crate) fn unsupported_media_type() -> Self {
        Self::new(Reason::UnsupportedMediaType)
    }

    #[cfg(feature = "events")]
    pub(crate) fn payload(error: ParseError) -> Self {
        Self::new(Reason::Payload(error))
    }

    /// A verified body that `serde_json` could not turn into the caller's own type, with
    /// the path of the offending field when there is one.
    #[cfg(feature = "axum")]
    pub(crate) fn json(error: serde_json::Error, path: String) -> Self {
        Self::new(Reason::Json {
            error: Arc::new(error),
            path,
        })
    }

    /// The shared buffer budget cannot take this body now.
    pub(crate) fn overloaded(retry_after: Duration) -> Self {
        Self::new(Reason::Overloaded { retry_after })
    }

    /// Another delivery with the same key is being handled.
    #[allow(dead_code)] // Used by the idempotency layer once it answers through here.
    pub(crate) fn in_flight(retry_after: Duration) -> Self {
        Self::new(Reason::InFlight { retry_after })
    }

    /// The store could not answer; `source` is its error, when there is one.
    #[allow(dead_code)] // Used by the idempotency and inbox layers.
    pub(crate) fn store_unavailable(retry_after: Duration, source: Option<BoxError>) -> Self {
        Self::new(Reason::StoreUnavailable {
            retry_after,
            source: source.map(Arc::from),
        })
    }

    /// The store is full of records it must not forget.
    #[allow(dead_code)] // Used by the idempotency and inbox layers.
    pub(crate) fn store_full(retry_after: Duration) -> Self {
        Self::new(Reason::StoreFull { retry_after })
    }

    /// A layer or extractor did not find what the verifying layer leaves in the request;
    /// `what` names the missing piece for the log (never for the caller).
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn missing_layer(what: &'static str) -> Self {
        Self::new(Reason::MissingLayer { what })
    }

    /// The kind of rejection.
    #[must_use]
    pub fn kind(&self) -> RejectionKind {
        match &self.reason {
            Reason::Verification(e) => RejectionKind::Verification(e.kind()),
            Reason::BodyTooLarge { .. } => RejectionKind::BodyTooLarge,
            Reason::BodyTimeout { .. } => RejectionKind::BodyTimeout,
            Reason::BodyRead(_) => RejectionKind::BodyRead,
            Reason::UnsupportedMediaType => RejectionKind::UnsupportedMediaType,
            #[cfg(feature = "events")]
            Reason::Payload(e) => RejectionKind::Payload(e.kind()),
            #[cfg(feature = "axum")]
            Reason::Json { error, .. } if error.is_data() => {
                RejectionKind::Payload(ParseErrorKind::Data)
            }
            #[cfg(feature = "axum")]
            Reason::Json { .. } => RejectionKind::Payload(ParseErrorKind::Syntax),
            Reason::Overloaded { .. } => RejectionKind::Overloaded,
            Reason::InFlight { .. } => RejectionKind::InFlight,
            Reason::StoreUnavailable { .. } => RejectionKind::StoreUnavailable,
            Reason::StoreFull { .. } => RejectionKind::StoreFull,
            Reason::MissingLayer { .. } => RejectionKind::MissingLayer,
        }
    }

    /// The status the caller is answered with (see [`RejectionKind::status`]).
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.kind().status()
    }

    /// How long the sender should wait before retrying, for the kinds that mean "not now"
    /// (`overloaded`, `in_flight`, `store_unavailable`, `store_full`); sent as
    /// `Retry-After` in whole seconds (at least 1).
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.reason {
            Reason::Overloaded { retry_after }
            | Reason::InFlight { retry_after }
            | Reason::StoreUnavailable { retry_after, .. }
            | Reason::StoreFull { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// The verification error, when the signature or token was the problem.
    #[must_use]
    pub fn verification_error(&self) -> Option<&VerificationError> {
        match &self.reason {
            Reason::Verification(e) => Some(e),
            _ => None,
        }
    }

    /// The parse error, when the verified body did not parse into the event type.
    #[cfg(feature = "events")]
    #[must_use]
    pub fn parse_error(&self) -> Option<&ParseError> {
        match &self.reason {
            Reason::Payload(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("kind", &self.kind())
            .field("reason", &self.reason)
            .finish()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Reason::Verification(e) => e.fmt(f),
            Reason::BodyTooLarge { limit } => write!(f, "body larger than the {limit} byte limit"),
            Reason::BodyTimeout { after } => write!(f, "body not received within {after:?}"),
            Reason::BodyRead(e) => write!(f, "failed to read the body: {e}"),
            Reason::UnsupportedMediaType => f.write_str("content type is not JSON"),
            #[cfg(feature = "events")]
            Reason::Payload(e) => write!(f, "invalid payload: {e}"),
            #[cfg(feature = "axum")]
            Reason::Json { error, path } if path.is_empty() || path == "." => {
                write!(f, "invalid payload: {error}")
            }
            #[cfg(feature = "axum")]
            Reason::Json { error, path } => write!(f, "invalid payload: {path}: {error}"),
            Reason::Overloaded { .. } => f.write_str("buffer budget exhausted, try again later"),
            Reason::InFlight { .. } => f.write_str("a delivery with this key is being handled"),
            Reason::StoreUnavailable {
                source: Some(e), ..
            } => {
                write!(f, "store unavailable: {e}")
            }
            Reason::StoreUnavailable { source: None, .. } => f.write_str("store unavailable"),
            Reason::StoreFull { .. } => f.write_str("store full of records it must keep"),
            Reason::MissingLayer { what } => write!(
                f,
                "no {what} in the request: the route is missing VerifyWebhookLayer \
                 (or it runs after this layer or extractor)"
            ),
        }
    }
}

impl StdError for Rejection {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.reason {
            Reason::Verification(e) => Some(e),
            Reason::BodyRead(e) => Some(&**e),
            #[cfg(feature = "events")]
            Reason::Payload(e) => Some(e),
            #[cfg(feature = "axum")]
            Reason::Json { error, .. } => Some(&**error),
            Reason::StoreUnavailable {
                source: Some(e), ..
            } => Some(&**e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_code_and_status() {
        let second = Duration::from_secs(1);
        let cases = [
            (Rejection::body_too_large(10), 413, "too_large"),
            (Rejection::body_timeout(second), 408, "body_timeout"),
            (Rejection::body_read("reset".into()), 400, "body_read"),
            (
                Rejection::unsupported_media_type(),
                415,
                "unsupported_media_type",
            ),
            (Rejection::overloaded(second), 503, "overloaded"),
            (Rejection::in_flight(second), 409, "in_flight"),
            (
                Rejection::store_unavailable(second, None),
                503,
                "store_unavailable",
            ),
            (Rejection::store_full(second), 503, "store_full"),
            (
                Rejection::missing_layer("verified bytes"),
                500,
                "missing_layer",
            ),
            (
                Rejection::verification(VerificationError::new(
                    VerificationErrorKind::SignatureMismatch,
                )),
                401,
                "signature_mismatch",
            ),
            (
                Rejection::verification(VerificationError::new(
                    VerificationErrorKind::InvalidHeader,
                )),
                400,
                "malformed_header",
            ),
            (
                Rejection::verification(VerificationError::new(
                    VerificationErrorKind::TimestampTooOld,
                )),
                401,
                "stale_timestamp",
            ),
        ];
        for (rejection, status, code) in cases {
            assert_eq!(rejection.status().as_u16(), status, "{rejection}");
            assert_eq!(rejection.kind().code(), code, "{rejection}");
        }
    }

    #[test]
    fn only_the_not_now_kinds_carry_retry_after() {
        let wait = Duration::from_secs(3);
        assert_eq!(Rejection::overloaded(wait).retry_after(), Some(wait));
        assert_eq!(Rejection::in_flight(wait).retry_after(), Some(wait));
        assert_eq!(Rejection::store_full(wait).retry_after(), Some(wait));
        assert_eq!(
            Rejection::store_unavailable(wait, Some("down".into())).retry_after(),
            Some(wait)
        );
        assert_eq!(Rejection::body_too_large(1).retry_after(), None);
    }

    #[test]
    fn display_and_source_keep_the_reason() {
        let rejection = Rejection::body_read("connection reset".into());
        assert!(rejection.to_string().contains("connection reset"));
        assert_eq!(
            rejection.source().map(ToString::to_string).as_deref(),
            Some("connection reset")
        );
        assert_eq!(rejection.kind(), RejectionKind::BodyRead);

        let rejection = Rejection::verification(VerificationError::new(
            VerificationErrorKind::MissingSignature,
        ));
        assert_eq!(
            rejection.kind(),
            RejectionKind::Verification(VerificationErrorKind::MissingSignature)
        );
        assert!(rejection.verification_error().is_some());
        let store = Rejection::store_unavailable(Duration::from_secs(1), Some("refused".into()));
        assert_eq!(
            store.source().map(ToString::to_string).as_deref(),
            Some("refused")
        );
    }
}
