use std::fmt;
use std::marker::PhantomData;
use std::mem;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderMap, Request, Response, header};
use http_body::Body;
use tower::Service;

use super::future::ResponseFuture;
use super::layer::VerifyWebhookLayer;
use crate::body::VerifiedBody;
use crate::rejection::{DefaultRejectionResponse, Rejection, RejectionResponse};
use crate::{Verifier, WebhookPayload};

pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Settings shared by the layer and every service (and in-flight future) it builds.
#[derive(Clone)]
pub(super) struct Config<R> {
    pub(super) verifier: Verifier,
    pub(super) max_body_size: usize,
    pub(super) body_timeout: Option<Duration>,
    pub(super) require_json: bool,
    pub(super) rejection_response: R,
}

impl<R> Config<R> {
    /// Builds the response for a refused request: the user's (or the default) response,
    /// with the full reason in its extensions and in a `tracing` event.
    pub(super) fn reject<B>(&self, rejection: Rejection, path: &str) -> Response<B>
    where
        R: RejectionResponse<B>,
    {
        let mut response = self.rejection_response.rejection_response(&rejection);
        crate::rejection::log_rejection(&rejection, path);
        response.extensions_mut().insert(rejection);
        response
    }

    pub(super) fn fmt_fields(&self, d: &mut fmt::DebugStruct<'_, '_>) {
        // `Verifier`'s own `Debug` redacts its secrets.
        d.field("verifier", &self.verifier)
            .field("max_body_size", &self.max_body_size)
            .field("body_timeout", &self.body_timeout)
            .field("require_json_content_type", &self.require_json)
            .field("rejection_response", &std::any::type_name::<R>());
    }
}

/// Middleware that buffers (bounded), verifies and parses webhook requests, and only then
/// calls the inner service.
///
/// The inner service receives a [`VerifiedBody`] holding the verified bytes, with a
/// [`VerifiedBytes`](crate::VerifiedBytes) and a [`WebhookEvent<E>`](crate::extract::WebhookEvent)
/// in the request extensions. A refused request is answered by the layer's
/// [`RejectionResponse`] and never reaches the inner service.
///
/// See the [module docs](crate::layer) for an example.
#[must_use]
pub struct VerifyWebhook<S, E, R = DefaultRejectionResponse> {
    inner: S,
    config: Arc<Config<R>>,
    // `fn() -> E`: the service never holds an `E`, so `E` must not affect `Send`/`Sync`.
    _event: PhantomData<fn() -> E>,
}

impl<S, E: WebhookPayload> VerifyWebhook<S, E> {
    /// Wraps `inner` with the default settings (see [`VerifyWebhookLayer::new`]).
    pub fn new(inner: S, verifier: Verifier) -> Self {
        Self::from_parts(
            inner,
            Arc::new(VerifyWebhookLayer::<E>::new(verifier).into_config()),
        )
    }

    /// A [`VerifyWebhookLayer`] with the default settings, parsing into `E`.
    pub fn layer(verifier: Verifier) -> VerifyWebhookLayer<E> {
        VerifyWebhookLayer::new(verifier)
    }
}

impl<S, E, R> VerifyWebhook<S, E, R> {
    pub(super) fn from_parts(inner: S, config: Arc<Config<R>>) -> Self {
        Self {
            inner,
            config,
            _event: PhantomData,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, E, R> Clone for VerifyWebhook<S, E, R> {
    fn clone(&self) -> Self {
        Self::from_parts(self.inner.clone(), Arc::clone(&self.config))
    }
}

impl<S: fmt::Debug, E, R> fmt::Debug for VerifyWebhook<S, E, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("VerifyWebhook");
        d.field("inner", &self.inner)
            .field("event", &std::any::type_name::<E>());
        self.config.fmt_fields(&mut d);
        d.finish()
    }
}

impl<S, E, R, ReqBody, ResBody> Service<Request<ReqBody>> for VerifyWebhook<S, E, R>
where
    S: Service<Request<VerifiedBody>, Response = Response<ResBody>> + Clone,
    ReqBody: Body,
    ReqBody::Error: Into<BoxError>,
    E: WebhookPayload,
    R: RejectionResponse<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, E, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let config = &self.config;
        // Header-only checks, so the body is not polled. Authentication comes first: a
        // caller without a well-formed signature (or with a wrong shared-secret token) is
        // told 401/400 whatever it sends, and its body is never read.
        let early = if let Err(error) = config.verifier.precheck(req.headers()) {
            Some(Rejection::verification(error))
        } else if declared_too_large(req.headers(), req.body(), config.max_body_size) {
            Some(Rejection::body_too_large(config.max_body_size))
        } else if config.require_json && !is_json_content_type(req.headers()) {
            Some(Rejection::unsupported_media_type())
        } else {
            None
        };
        if let Some(rejection) = early {
            // The inner service stays ready (and keeps any reservation) for the next call.
            return ResponseFuture::rejected(config.reject(rejection, req.uri().path()));
        }

        // Run the instance that was polled ready; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let inner = mem::replace(&mut self.inner, clone);
        let (parts, body) = req.into_parts();
        ResponseFuture::buffering(parts, body, inner, Arc::clone(config))
    }
}

/// Whether `Content-Length` (or the body's own size hint) already exceeds the limit.
fn declared_too_large<B: Body>(headers: &HeaderMap, body: &B, limit: usize) -> bool {
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    declared.max(body.size_hint().lower()) > limit
}

/// `application/json` or `application/<anything>+json`, parameters allowed.
fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((ty, subtype)) = essence.split_once('/') else {
        return false;
    };
    let suffix_json = subtype
        .len()
        .checked_sub(5)
        .and_then(|at| subtype.get(at..))
        .is_some_and(|s| s.eq_ignore_ascii_case("+json"));
    ty.eq_ignore_ascii_case("application") && (subtype.eq_ignore_ascii_case("json") || suffix_json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn json_content_types() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/vnd.railz+json",
        ] {
            assert!(
                is_json_content_type(&headers(header::CONTENT_TYPE, ok)),
                "{ok}"
            );
        }
        for bad in [
            "text/plain",
            "application/jsonx",
            "json",
            "+json",
            "application/x-www-form-urlencoded",
        ] {
            assert!(
                !is_json_content_type(&headers(header::CONTENT_TYPE, bad)),
                "{bad}"
            );
        }
        assert!(!is_json_content_type(&HeaderMap::new()));
    }

    #[test]
    fn content_length_against_limit() {
        let body = VerifiedBody::default();
        assert!(!declared_too_large(
            &headers(header::CONTENT_LENGTH, "10"),
            &body,
            10
        ));
        assert!(declared_too_large(
            &headers(header::CONTENT_LENGTH, "11"),
            &body,
            10
        ));
        // Unparseable lengths are left to the streamed cap.
        assert!(!declared_too_large(
            &headers(header::CONTENT_LENGTH, "x"),
            &body,
            10
        ));
        // A body whose size hint already exceeds the limit is refused without a header.
        let big = VerifiedBody::new(bytes::Bytes::from_static(&[b'a'; 11]));
        assert!(declared_too_large(&HeaderMap::new(), &big, 10));
    }
}
