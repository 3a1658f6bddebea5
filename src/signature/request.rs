//! Complete signed requests, for testing your own handlers and for local senders.

use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Uri, header::CONTENT_TYPE};

use super::Verifier;

impl Verifier {
    /// A `POST` request to `uri` carrying `body` as `application/json`, signed as the
    /// provider would sign it at the verifier's clock's current time.
    ///
    /// Feed it to your service (e.g. with `tower::ServiceExt::oneshot`) to test handlers
    /// behind the verifying layer; change anything afterwards through the `Request` methods.
    ///
    /// ```
    /// use http::Uri;
    /// use ledgerhook::Verifier;
    ///
    /// let verifier = Verifier::railz("railz_test_secret")?;
    /// let request = verifier.signed_request(
    ///     Uri::from_static("/webhooks/railz"),
    ///     r#"{"data":{"event":"login"}}"#,
    /// );
    /// assert!(request.headers().contains_key("railz-signature"));
    /// assert!(verifier.verify(request.headers(), request.body()).is_ok());
    /// # Ok::<(), ledgerhook::ConfigError>(())
    /// ```
    #[must_use]
    pub fn signed_request(&self, uri: Uri, body: impl Into<Bytes>) -> Request<Bytes> {
        let now = self.keys.clock().now();
        self.signed_request_at(uri, body, now)
    }

    /// Like [`signed_request`](Self::signed_request), signed at `at` (for stale or future
    /// timestamps in tests).
    #[must_use]
    pub fn signed_request_at(
        &self,
        uri: Uri,
        body: impl Into<Bytes>,
        at: SystemTime,
    ) -> Request<Bytes> {
        let body = body.into();
        let headers = self.sign(&body, at);
        let mut request = Request::new(body);
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        request.headers_mut().extend(headers);
        request
    }
}
