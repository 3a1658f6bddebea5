use std::fmt;
use std::mem;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, header};
use http_body::Body;
use tower::{BoxError, Service};

use super::budget::Charge;
use super::future::{Admission, ResponseFuture, closing};
use super::layer::{Config, VerifyWebhookLayer};
use crate::Verifier;
use crate::body::VerifiedBody;
use crate::macros::define_inner_service_accessors;
use crate::observe::Delivery;
use crate::rejection::Rejection;
use crate::signature::{Prechecked, header_value};

/// Middleware that prechecks, buffers (bounded, under the shared budget) and verifies
/// webhook requests, and only then calls the inner service.
///
/// The inner service receives a [`VerifiedBody`] holding the verified bytes, with
/// [`VerifiedBytes`](crate::extract::VerifiedBytes) and the route's
/// [`Responder`](crate::rejection::Responder) in the request extensions. A refused request
/// is answered by the responder and never reaches the inner service.
///
/// See the [module docs](crate::layer) for an example.
#[derive(Clone)]
#[must_use]
pub struct VerifyWebhook<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> VerifyWebhook<S> {
    /// Wraps `inner` with the defaults of [`VerifyWebhookLayer::new`].
    pub fn new(inner: S, verifier: Verifier) -> Self {
        Self::from_parts(inner, VerifyWebhookLayer::new(verifier).shared_config())
    }

    /// A [`VerifyWebhookLayer`] with the defaults for `verifier`.
    pub fn layer(verifier: Verifier) -> VerifyWebhookLayer {
        VerifyWebhookLayer::new(verifier)
    }

    pub(super) fn from_parts(inner: S, config: Arc<Config>) -> Self {
        Self { inner, config }
    }

    define_inner_service_accessors!();
}

impl<S: fmt::Debug> fmt::Debug for VerifyWebhook<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyWebhook")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for VerifyWebhook<S>
where
    S: Service<Request<VerifiedBody>, Response = Response<ResBody>> + Clone,
    ReqBody: Body,
    ReqBody::Error: Into<BoxError>,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let config = &self.config;
        let observed = Delivery::start(&config.provider);
        let prechecked = {
            let _entered = observed.span.enter();
            precheck(config, &req)
                .map_err(|rejection| config.responder.respond(rejection, req.uri().path()))
        };
        match prechecked {
            Ok((prechecked, charge)) => {
                // Run the instance that was polled ready; leave a fresh clone in its place.
                let clone = self.inner.clone();
                let inner = mem::replace(&mut self.inner, clone);
                let (parts, body) = req.into_parts();
                let admission = Admission { prechecked, charge };
                ResponseFuture::buffering(
                    parts,
                    body,
                    inner,
                    Arc::clone(config),
                    admission,
                    observed,
                )
            }
            // The inner service stays ready (and keeps any reservation) for the next call.
            Err(response) => {
                let response = if req.body().is_end_stream() {
                    response
                } else {
                    closing(response, req.version())
                };
                ResponseFuture::rejected(response, Arc::clone(config), observed)
            }
        }
    }
}

/// Header-only checks, so the body is not polled, ending with the budget's charge for the
/// declared length. Authentication comes first: a caller without a well-formed signature
/// (or with a wrong shared-secret token) is told 401/400 whatever it sends, learns nothing
/// about the limits, and its body is never read. What the signature check parsed is kept
/// for the body's verification.
fn precheck<B: Body>(config: &Config, req: &Request<B>) -> Result<(Prechecked, Charge), Rejection> {
    let prechecked = config
        .verifier
        .precheck_keeping(req.headers())
        .map_err(Rejection::verification)?;
    let declared = declared_length(req.headers(), req.body());
    if declared > config.max_body_size {
        return Err(Rejection::body_too_large(config.max_body_size));
    }
    if config.require_json && !is_json_content_type(req.headers()) {
        return Err(Rejection::unsupported_media_type());
    }
    let charge = config
        .budget
        .charge(declared)
        .ok_or_else(|| Rejection::overloaded(config.budget.retry_after()))?;
    Ok((prechecked, charge))
}

/// The larger of `Content-Length` and the body's own size hint (saturating); 0 when neither
/// says anything, and then the streamed chunks are charged as they arrive.
fn declared_length<B: Body>(headers: &HeaderMap, body: &B) -> usize {
    let declared = header_value(headers, &header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let length = declared.max(body.size_hint().lower());
    usize::try_from(length).unwrap_or(usize::MAX)
}

/// `application/json` or `application/<anything>+json`, parameters allowed.
fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = header_value(headers, &header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
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
    fn declared_length_from_header_or_size_hint() {
        let body = VerifiedBody::default();
        assert_eq!(
            declared_length(&headers(header::CONTENT_LENGTH, "11"), &body),
            11
        );
        // Unparseable lengths are left to the streamed cap.
        assert_eq!(
            declared_length(&headers(header::CONTENT_LENGTH, "x"), &body),
            0
        );
        // A body's size hint counts without a header.
        let big = VerifiedBody::new(bytes::Bytes::from_static(&[b'a'; 11]));
        assert_eq!(declared_length(&HeaderMap::new(), &big), 11);
        assert_eq!(
            declared_length(
                &headers(header::CONTENT_LENGTH, "99999999999999999999999"),
                &body
            ),
            0,
            "not a u64: left to the streamed cap"
        );
    }
}
