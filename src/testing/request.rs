//! Signed requests, as a provider would send them.

use std::time::SystemTime;

use bytes::Bytes;
use http::{Method, Request, header};

use crate::Verifier;

/// A `POST /` request carrying `body` (`Content-Type: application/json`) and the headers
/// `verifier` would expect for it now ([`Verifier::sign`] with the primary key).
///
/// The body is `Bytes`: map it to your server's body type (`.map(axum::body::Body::from)`,
/// `.map(http_body_util::Full::new)`) and set the URI with `uri_mut` as needed.
///
/// ```
/// use ledgerhook::{Verifier, testing};
///
/// let verifier = Verifier::railz("whsec_test")?;
/// let request = testing::signed_request(&verifier, testing::fixtures::RAILZ_AUTH);
/// assert_eq!(request.method(), http::Method::POST);
/// assert!(verifier.verify(request.headers(), request.body()).is_ok());
/// # Ok::<(), ledgerhook::ConfigError>(())
/// ```
#[must_use]
pub fn signed_request(verifier: &Verifier, body: impl Into<Bytes>) -> Request<Bytes> {
    signed_request_at(verifier, body, SystemTime::now())
}

/// [`signed_request`] signed at `now`: for tests that drive the verifier's clock (a
/// `ManualClock`), or that need a stale or future timestamp.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use ledgerhook::{Verifier, testing};
///
/// let verifier = Verifier::railz("whsec_test")?;
/// let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
/// let request = testing::signed_request_at(&verifier, &b"{}"[..], an_hour_ago);
/// assert!(verifier.verify(request.headers(), request.body()).is_err());
/// # Ok::<(), ledgerhook::ConfigError>(())
/// ```
#[must_use]
pub fn signed_request_at(
    verifier: &Verifier,
    body: impl Into<Bytes>,
    now: SystemTime,
) -> Request<Bytes> {
    let body = body.into();
    let mut request = Request::new(Bytes::new());
    *request.method_mut() = Method::POST;
    *request.headers_mut() = verifier.sign(&body, now);
    request.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    *request.body_mut() = body;
    request
}
