//! Why a webhook request was refused, and how the refusal is answered.
//!
//! [`VerifyWebhook`](crate::layer::VerifyWebhook) turns every refused request into a
//! [`Rejection`]. The rejection keeps the full reason; the caller only sees its status and
//! a short generic body chosen by a [`RejectionResponse`] (by default
//! [`DefaultRejectionResponse`]). The service inserts the `Rejection` into the response
//! extensions whichever `RejectionResponse` is used, so an outer layer (logging, metrics)
//! can always read the reason.
//!
//! With the `axum` feature this module also holds the rejections of the extractors in
//! [`crate::extract`].

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Response, StatusCode, header};

use crate::{ParseError, ParseErrorKind, VerificationError, VerificationErrorKind};

type BoxError = Box<dyn StdError + Send + Sync>;

/// A request the verifying layer refused, with its reason.
///
/// Found in the extensions of every response the layer produces instead of calling the
/// inner service:
///
/// ```
/// use http::{Response, StatusCode};
/// use ledgerhook::rejection::{Rejection, RejectionKind};
///
/// fn reason<B>(response: &Response<B>) -> Option<RejectionKind> {
///     response.extensions().get::<Rejection>().map(Rejection::kind)
/// }
/// # assert_eq!(reason(&Response::new(())), None);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Rejection {
    reason: Reason,
}

// Private so new reasons and richer details can be added without a breaking change.
#[derive(Debug, Clone)]
enum Reason {
    Verification(VerificationError),
    BodyTooLarge { limit: usize },
    BodyTimeout { after: Duration },
    // `Arc` keeps the rejection `Clone` (response extensions require it).
    BodyRead(Arc<dyn StdError + Send + Sync>),
    UnsupportedMediaType,
    Payload(ParseError),
}

/// What kind of [`Rejection`]: cheap to copy, for matching, metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// The signature or token did not verify (401), or its header was malformed (400).
    Verification(VerificationErrorKind),
    /// The body is larger than the configured limit (413), by `Content-Length` or as streamed.
    BodyTooLarge,
    /// The body did not arrive before the configured deadline (408).
    BodyTimeout,
    /// The body could not be read, e.g. the connection broke mid-body (400).
    BodyRead,
    /// A JSON content type was required and the request had another or none (415).
    UnsupportedMediaType,
    /// The verified body is not JSON (400) or not the expected shape (422).
    Payload(ParseErrorKind),
}

impl Rejection {
    pub(crate) fn verification(error: VerificationError) -> Self {
        Self {
            reason: Reason::Verification(error),
        }
    }

    pub(crate) fn body_too_large(limit: usize) -> Self {
        Self {
            reason: Reason::BodyTooLarge { limit },
        }
    }

    pub(crate) fn body_timeout(after: Duration) -> Self {
        Self {
            reason: Reason::BodyTimeout { after },
        }
    }

    pub(crate) fn body_read(error: BoxError) -> Self {
        Self {
            reason: Reason::BodyRead(Arc::from(error)),
        }
    }

    pub(crate) fn unsupported_media_type() -> Self {
        Self {
            reason: Reason::UnsupportedMediaType,
        }
    }

    pub(crate) fn payload(error: ParseError) -> Self {
        Self {
            reason: Reason::Payload(error),
        }
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
            Reason::Payload(e) => RejectionKind::Payload(e.kind()),
        }
    }

    /// The status the caller is answered with: 401, 400, 408, 413, 415 or 422.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match &self.reason {
            Reason::Verification(e) => e.status(),
            Reason::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Reason::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Reason::BodyRead(_) => StatusCode::BAD_REQUEST,
            Reason::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Reason::Payload(e) => e.status(),
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
    #[must_use]
    pub fn parse_error(&self) -> Option<&ParseError> {
        match &self.reason {
            Reason::Payload(e) => Some(e),
            _ => None,
        }
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
            Reason::Payload(e) => write!(f, "invalid payload: {e}"),
        }
    }
}

impl StdError for Rejection {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.reason {
            Reason::Verification(e) => Some(e),
            Reason::BodyRead(e) => Some(&**e),
            Reason::Payload(e) => Some(e),
            Reason::BodyTooLarge { .. } | Reason::BodyTimeout { .. } => None,
            Reason::UnsupportedMediaType => None,
        }
    }
}

/// Builds the response sent instead of calling the inner service when a request is refused.
///
/// Implemented for every `Fn(&Rejection) -> Response<B>`, so a closure can be passed to
/// [`VerifyWebhookLayer::with_rejection_response`](crate::layer::VerifyWebhookLayer::with_rejection_response).
/// Whatever the implementation returns, the service then inserts the [`Rejection`] into the
/// response extensions and emits the `tracing` event, so the reason is never lost.
///
/// Keep the body generic: the caller of a webhook endpoint may be an attacker probing it.
pub trait RejectionResponse<B> {
    /// Builds the response for `rejection`.
    fn rejection_response(&self, rejection: &Rejection) -> Response<B>;
}

impl<F, B> RejectionResponse<B> for F
where
    F: Fn(&Rejection) -> Response<B>,
{
    fn rejection_response(&self, rejection: &Rejection) -> Response<B> {
        self(rejection)
    }
}

/// The default [`RejectionResponse`]: the rejection's status and its standard reason
/// phrase as a `text/plain` body (e.g. `401` `Unauthorized`), nothing more.
///
/// Works for every response body that can be made from a `&'static str` (axum's `Body`,
/// `http_body_util::Full<Bytes>`, `String`, ...).
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct DefaultRejectionResponse;

impl<B> RejectionResponse<B> for DefaultRejectionResponse
where
    B: From<&'static str>,
{
    fn rejection_response(&self, rejection: &Rejection) -> Response<B> {
        let status = rejection.status();
        // The reason phrase restates the status: it tells a prober nothing new.
        let text = status.canonical_reason().unwrap_or("Rejected");
        let mut response = Response::new(B::from(text));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}

/// Emits the rejection's `tracing` event (target `ledgerhook`, level WARN): a refused
/// delivery from a real provider means lost data, so operators should see it.
#[cfg(feature = "tracing")]
pub(crate) fn log_rejection(rejection: &Rejection, path: &str) {
    tracing::warn!(
        target: "ledgerhook",
        status = rejection.status().as_u16(),
        kind = ?rejection.kind(),
        path = %path,
        reason = %rejection,
        "webhook rejected",
    );
}

#[cfg(not(feature = "tracing"))]
pub(crate) fn log_rejection(_rejection: &Rejection, _path: &str) {}

#[cfg(feature = "axum")]
pub use extractor::{
    JsonDataError, JsonSyntaxError, MissingVerifyWebhookLayer, VerifiedJsonRejection,
};

#[cfg(feature = "axum")]
mod extractor {
    //! Rejections of the axum extractors: each a response with a status and a plain-text body.

    use std::fmt;

    use axum_core::response::{IntoResponse, Response};
    use http::StatusCode;

    /// Emits a TRACE event for an extractor rejection, like axum does for its own.
    macro_rules! log_extractor_rejection {
        ($ty:ty, $status:expr, $body:expr) => {
            #[cfg(feature = "tracing")]
            tracing::trace!(
                target: "ledgerhook",
                status = $status.as_u16(),
                body = %$body,
                rejection_type = ::std::any::type_name::<$ty>(),
                "rejecting request",
            );
        };
    }

    /// Implements `status`, `body_text`, `Display`, `Error` and `IntoResponse` for a
    /// rejection type from its status and body text.
    macro_rules! rejection_impls {
        ($ty:ty, $status:expr, |$this:ident| $body:expr) => {
            impl $ty {
                /// The status of the response.
                #[must_use]
                pub fn status(&self) -> StatusCode {
                    $status
                }

                /// The text of the response body.
                #[must_use]
                pub fn body_text(&self) -> String {
                    self.to_string()
                }
            }

            impl fmt::Display for $ty {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    let $this = self;
                    f.write_str(&$body)
                }
            }

            impl std::error::Error for $ty {}

            impl IntoResponse for $ty {
                fn into_response(self) -> Response {
                    let status = self.status();
                    let body = self.body_text();
                    log_extractor_rejection!($ty, status, body);
                    (status, body).into_response()
                }
            }
        };
    }

    /// The request did not pass through [`VerifyWebhookLayer`](crate::layer::VerifyWebhookLayer),
    /// or the layer parses a different event type than the extractor asks for: a server
    /// configuration error, answered with 500.
    #[derive(Debug, Clone)]
    #[non_exhaustive]
    pub struct MissingVerifyWebhookLayer {
        pub(crate) what: &'static str,
    }

    rejection_impls!(
        MissingVerifyWebhookLayer,
        StatusCode::INTERNAL_SERVER_ERROR,
        |this| {
            format!(
                "VerifyWebhookLayer not installed on this route, or configured for another event \
             type: no verified {} in the request extensions",
                this.what
            )
        }
    );

    /// The verified body is not valid JSON (400).
    #[derive(Debug, Clone)]
    pub struct JsonSyntaxError {
        pub(crate) message: String,
    }

    rejection_impls!(JsonSyntaxError, StatusCode::BAD_REQUEST, |this| {
        format!("Failed to parse the webhook body as JSON: {}", this.message)
    });

    /// The verified body is JSON but not of the expected shape (422).
    #[derive(Debug, Clone)]
    pub struct JsonDataError {
        pub(crate) message: String,
    }

    rejection_impls!(JsonDataError, StatusCode::UNPROCESSABLE_ENTITY, |this| {
        format!("Failed to deserialize the webhook body: {}", this.message)
    });

    /// Rejection of [`VerifiedJson`](crate::extract::VerifiedJson).
    #[derive(Debug, Clone)]
    #[non_exhaustive]
    pub enum VerifiedJsonRejection {
        /// See [`MissingVerifyWebhookLayer`].
        MissingVerifyWebhookLayer(MissingVerifyWebhookLayer),
        /// See [`JsonSyntaxError`].
        JsonSyntaxError(JsonSyntaxError),
        /// See [`JsonDataError`].
        JsonDataError(JsonDataError),
    }

    impl VerifiedJsonRejection {
        /// The status of the response.
        #[must_use]
        pub fn status(&self) -> StatusCode {
            match self {
                Self::MissingVerifyWebhookLayer(r) => r.status(),
                Self::JsonSyntaxError(r) => r.status(),
                Self::JsonDataError(r) => r.status(),
            }
        }

        /// The text of the response body.
        #[must_use]
        pub fn body_text(&self) -> String {
            match self {
                Self::MissingVerifyWebhookLayer(r) => r.body_text(),
                Self::JsonSyntaxError(r) => r.body_text(),
                Self::JsonDataError(r) => r.body_text(),
            }
        }
    }

    impl fmt::Display for VerifiedJsonRejection {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Self::MissingVerifyWebhookLayer(r) => r.fmt(f),
                Self::JsonSyntaxError(r) => r.fmt(f),
                Self::JsonDataError(r) => r.fmt(f),
            }
        }
    }

    impl std::error::Error for VerifiedJsonRejection {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            match self {
                Self::MissingVerifyWebhookLayer(r) => Some(r),
                Self::JsonSyntaxError(r) => Some(r),
                Self::JsonDataError(r) => Some(r),
            }
        }
    }

    impl IntoResponse for VerifiedJsonRejection {
        fn into_response(self) -> Response {
            match self {
                Self::MissingVerifyWebhookLayer(r) => r.into_response(),
                Self::JsonSyntaxError(r) => r.into_response(),
                Self::JsonDataError(r) => r.into_response(),
            }
        }
    }

    impl From<MissingVerifyWebhookLayer> for VerifiedJsonRejection {
        fn from(r: MissingVerifyWebhookLayer) -> Self {
            Self::MissingVerifyWebhookLayer(r)
        }
    }

    impl From<JsonSyntaxError> for VerifiedJsonRejection {
        fn from(r: JsonSyntaxError) -> Self {
            Self::JsonSyntaxError(r)
        }
    }

    impl From<JsonDataError> for VerifiedJsonRejection {
        fn from(r: JsonDataError) -> Self {
            Self::JsonDataError(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(response: Response<String>) -> String {
        response.into_body()
    }

    #[test]
    fn statuses_follow_the_issue_table() {
        let cases = [
            (Rejection::body_too_large(10), 413),
            (Rejection::body_timeout(Duration::from_secs(1)), 408),
            (Rejection::body_read("reset".into()), 400),
            (Rejection::unsupported_media_type(), 415),
            (
                Rejection::verification(VerificationError::new(
                    VerificationErrorKind::SignatureMismatch,
                )),
                401,
            ),
            (
                Rejection::verification(VerificationError::new(
                    VerificationErrorKind::InvalidHeader,
                )),
                400,
            ),
        ];
        for (rejection, status) in cases {
            assert_eq!(rejection.status().as_u16(), status, "{rejection}");
        }
    }

    #[test]
    fn default_response_is_generic_plain_text() {
        let rejection =
            Rejection::verification(VerificationError::new(VerificationErrorKind::TokenMismatch));
        let response: Response<String> = DefaultRejectionResponse.rejection_response(&rejection);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        let body = text(response);
        assert_eq!(body, "Unauthorized");
        assert!(
            !body.contains("Token"),
            "body must not reveal the reason: {body}"
        );
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
        assert!(rejection.parse_error().is_none());
    }

    #[test]
    fn closures_are_rejection_responses() {
        let custom = |r: &Rejection| {
            let mut res = Response::new(format!("nope ({})", r.status().as_u16()));
            *res.status_mut() = StatusCode::FORBIDDEN;
            res
        };
        let response = custom.rejection_response(&Rejection::unsupported_media_type());
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.into_body(), "nope (415)");
    }
}
