//! How a [`Rejection`] becomes an HTTP answer: one hook, carried in the request.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Extensions, HeaderValue, Response, header};

use super::Rejection;
use super::log::RejectionLog;

/// Builds the answer sent for a refused request.
///
/// Set once on the verifying layer with
/// [`VerifyWebhookLayer::rejection_response`](crate::layer::VerifyWebhookLayer::rejection_response);
/// the idempotency layer and the extractors behind it use the same one. Implemented for
/// every `Fn(&Rejection) -> Response<Bytes> + Send + Sync + 'static`.
///
/// Whatever it returns, the crate then adds `Retry-After` when the rejection has one and the
/// hook did not set it, inserts the [`Rejection`] into the response extensions and logs it,
/// so the reason is never lost. Keep the body generic: the caller of a webhook endpoint may
/// be an attacker probing it.
pub trait RejectionResponse: Send + Sync + 'static {
    /// Builds the response for `rejection`.
    fn rejection_response(&self, rejection: &Rejection) -> Response<Bytes>;
}

impl<F> RejectionResponse for F
where
    F: Fn(&Rejection) -> Response<Bytes> + Send + Sync + 'static,
{
    fn rejection_response(&self, rejection: &Rejection) -> Response<Bytes> {
        self(rejection)
    }
}

/// The default [`RejectionResponse`]: the status and its standard reason phrase as a
/// `text/plain` body (e.g. `401` `Unauthorized`), nothing more.
///
/// Not even the [code](super::RejectionKind::code): a prober with a forged signature would
/// learn from `stale_timestamp` vs `signature_mismatch` more than the status tells it.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct DefaultRejectionResponse;

impl RejectionResponse for DefaultRejectionResponse {
    fn rejection_response(&self, rejection: &Rejection) -> Response<Bytes> {
        let status = rejection.status();
        // The reason phrase restates the status: it tells a prober nothing new.
        let text = status.canonical_reason().unwrap_or("Rejected");
        let mut response = Response::new(Bytes::from_static(text.as_bytes()));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}

/// The answering machinery of one verifying layer: its [`RejectionResponse`] and its log.
///
/// The verifying layer passes it on in the extensions of every request it admits, with the
/// [`VerifiedBytes`](crate::VerifiedBytes); [`Responder::from_extensions`] finds it there, so
/// a layer of your own behind it can answer the same way. Cheap to clone (two `Arc`s).
#[derive(Clone)]
pub struct Responder {
    hook: Arc<dyn RejectionResponse>,
    log: Arc<RejectionLog>,
}

impl Default for Responder {
    fn default() -> Self {
        Self::new(DefaultRejectionResponse)
    }
}

impl fmt::Debug for Responder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responder").finish_non_exhaustive()
    }
}

impl Responder {
    /// A responder answering with `hook`, with its own log summary.
    pub fn new(hook: impl RejectionResponse) -> Self {
        Self {
            hook: Arc::new(hook),
            log: Arc::new(RejectionLog::new(super::DEFAULT_SUMMARY_INTERVAL)),
        }
    }

    /// The same hook, with the unauthenticated-rejection summary written every `interval`.
    #[must_use]
    pub(crate) fn with_summary_interval(mut self, interval: Duration) -> Self {
        self.log = Arc::new(RejectionLog::new(interval));
        self
    }

    /// The responder the verifying layer left in `extensions` (with the verified bytes, or
    /// inserted as a `Responder` of its own), or the default one.
    #[must_use]
    pub fn from_extensions(extensions: &Extensions) -> Self {
        extensions
            .get::<crate::VerifiedBytes>()
            .and_then(crate::VerifiedBytes::responder)
            .or_else(|| extensions.get::<Self>())
            .cloned()
            .unwrap_or_default()
    }

    /// Answers `rejection` for a request to `path`: the hook's response (body converted to
    /// `B`), `Retry-After` when due, the [`Rejection`] in the extensions, and the log entry.
    pub fn respond<B: From<Bytes>>(&self, rejection: Rejection, path: &str) -> Response<B> {
        let response = self.hook.rejection_response(&rejection);
        let (mut parts, body) = response.into_parts();
        if let Some(after) = rejection.retry_after() {
            parts
                .headers
                .entry(header::RETRY_AFTER)
                // Whole seconds, rounded up: a sender told to come back sooner finds no room.
                .or_insert_with(|| {
                    HeaderValue::from(
                        (after.as_secs() + u64::from(after.subsec_nanos() > 0)).max(1),
                    )
                });
        }
        self.log.record(&rejection, path);
        parts.extensions.insert(rejection);
        Response::from_parts(parts, B::from(body))
    }
}

/// What an extractor rejection needs to answer like the layer would.
#[cfg(feature = "axum")]
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) responder: Responder,
    pub(crate) path: String,
}

#[cfg(feature = "axum")]
impl Rejection {
    /// Remembers how the request that was refused is answered.
    pub(crate) fn answered_by(mut self, parts: &http::request::Parts) -> Self {
        self.answer = Some(Box::new(Answer {
            responder: Responder::from_extensions(&parts.extensions),
            path: parts.uri.path().to_owned(),
        }));
        self
    }
}

/// Answers through the route's [`Responder`] (the default one without the layer).
#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for Rejection {
    fn into_response(mut self) -> axum_core::response::Response {
        let Answer { responder, path } = self.answer.take().map_or_else(
            || Answer {
                responder: Responder::default(),
                path: String::new(),
            },
            |answer| *answer,
        );
        responder.respond(self, &path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn default_response_is_generic_plain_text() {
        let rejection = Rejection::verification(crate::VerificationError::new(
            crate::VerificationErrorKind::TokenMismatch,
        ));
        let response: Response<Bytes> = Responder::default().respond(rejection, "/hook");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert!(response.extensions().get::<Rejection>().is_some());
        assert_eq!(response.body().as_ref(), b"Unauthorized");
    }

    #[test]
    fn missing_layer_body_names_no_rust_type() {
        let rejection = Rejection::missing_layer("ledgerhook::railz::Event");
        let response: Response<Bytes> = Responder::default().respond(rejection, "/hook");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.body().as_ref(), b"Internal Server Error");
    }

    #[test]
    fn retry_after_is_added_unless_the_hook_set_it() {
        let response: Response<Bytes> =
            Responder::default().respond(Rejection::overloaded(Duration::from_secs(5)), "/");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
        // Below a second rounds up: `Retry-After: 0` would invite an immediate retry.
        let response: Response<Bytes> =
            Responder::default().respond(Rejection::in_flight(Duration::from_millis(10)), "/");
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");

        let own = Responder::new(|r: &Rejection| {
            let mut res = Response::new(Bytes::from_static(b"later"));
            *res.status_mut() = r.status();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            res
        });
        let response: Response<Bytes> =
            own.respond(Rejection::store_full(Duration::from_secs(1)), "/");
        assert_eq!(response.headers()[header::RETRY_AFTER], "60");
        assert_eq!(response.body().as_ref(), b"later");
    }

    #[test]
    fn the_responder_travels_in_the_extensions() {
        let mut extensions = Extensions::new();
        let custom = Responder::new(|_: &Rejection| {
            let mut res = Response::new(Bytes::from_static(b"custom"));
            *res.status_mut() = StatusCode::IM_A_TEAPOT;
            res
        });
        extensions.insert(custom);
        let response: Response<Bytes> = Responder::from_extensions(&extensions)
            .respond(Rejection::in_flight(Duration::from_secs(1)), "/");
        assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
        // And the default without one.
        let response: Response<Bytes> = Responder::from_extensions(&Extensions::new())
            .respond(Rejection::in_flight(Duration::from_secs(1)), "/");
        assert_eq!(response.status(), StatusCode::CONFLICT);
    }
}
