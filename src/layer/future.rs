use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use http::request::Parts;
use http::{HeaderValue, Request, Response, Version, header};
use http_body::Body;
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tower::{BoxError, Service};

use super::budget::Charge;
use super::layer::Config;
use crate::body::VerifiedBody;
use crate::extract::VerifiedBytes;
use crate::observe::{Delivery, HandlerTimer};
use crate::rejection::Rejection;
use crate::signature::Prechecked;

pin_project! {
    /// Response future of [`VerifyWebhook`](super::VerifyWebhook).
    ///
    /// Reads the body (bounded by the limit, the shared budget and the deadline), verifies
    /// it, then runs the inner service; or resolves to the rejection response.
    pub struct ResponseFuture<S, ReqBody>
    where
        S: Service<Request<VerifiedBody>>,
    {
        #[pin]
        state: State<S, ReqBody>,
        // Never changes: beside the state machine, so no state needs a fallback value.
        config: Arc<Config>,
        // The delivery's span and handler timer, and where its outcome is counted once.
        observed: Delivery,
    }
}

pin_project! {
    #[project = StateProj]
    #[project_replace = StateOwned]
    enum State<S, ReqBody>
    where
        S: Service<Request<VerifiedBody>>,
    {
        Buffering {
            #[pin]
            body: ReqBody,
            // Armed on the first poll that finds the body incomplete; boxed, so a body that
            // is complete at once does not carry the timer's bytes through every move.
            deadline: Option<Pin<Box<Sleep>>>,
            received: Received,
            admission: Admission,
            parts: Parts,
            inner: S,
        },
        Calling {
            #[pin]
            future: S::Future,
            // Held until the response is ready: the verified bytes live that long.
            charge: Charge,
        },
        Rejected {
            response: S::Response,
        },
        Done,
    }
}

/// What the precheck granted a request: the parsed signature header, kept for the body's
/// verification, and the budget's charge for its body.
#[derive(Debug)]
pub(super) struct Admission {
    pub(super) prechecked: Prechecked,
    pub(super) charge: Charge,
}

/// The chunks of the body read so far. The first is kept inline: a body that arrives in one
/// frame (the common case) costs no allocation here and is not copied.
#[derive(Debug, Default)]
struct Received {
    first: Option<Bytes>,
    rest: Vec<Bytes>,
    len: usize,
}

impl Received {
    fn push(&mut self, chunk: Bytes) {
        match &self.first {
            None => self.first = Some(chunk),
            Some(_) => self.rest.push(chunk),
        }
    }

    /// One contiguous buffer: the single chunk itself when the body came in one frame.
    fn into_bytes(self) -> Bytes {
        let Some(first) = self.first else {
            return Bytes::new();
        };
        if self.rest.is_empty() {
            return first;
        }
        let mut all = BytesMut::with_capacity(self.len);
        all.extend_from_slice(&first);
        for chunk in self.rest {
            all.extend_from_slice(&chunk);
        }
        all.freeze()
    }
}

const POLLED_AFTER_COMPLETION: &str = "ledgerhook ResponseFuture polled after completion";

impl<S, ReqBody> ResponseFuture<S, ReqBody>
where
    S: Service<Request<VerifiedBody>>,
{
    pub(super) fn buffering(
        parts: Parts,
        body: ReqBody,
        inner: S,
        config: Arc<Config>,
        admission: Admission,
        observed: Delivery,
    ) -> Self {
        Self {
            state: State::Buffering {
                body,
                deadline: None,
                received: Received::default(),
                admission,
                parts,
                inner,
            },
            config,
            observed,
        }
    }

    pub(super) fn rejected(response: S::Response, config: Arc<Config>, observed: Delivery) -> Self {
        Self {
            state: State::Rejected { response },
            config,
            observed,
        }
    }
}

impl<S, ReqBody, ResBody> Future for ResponseFuture<S, ReqBody>
where
    S: Service<Request<VerifiedBody>, Response = Response<ResBody>>,
    ReqBody: Body,
    ReqBody::Error: Into<BoxError>,
    ResBody: From<Bytes>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let config: &Config = this.config;
        let observed = this.observed;
        let output = {
            // Everything behind the layer runs in the delivery's span.
            let _entered = observed.span.enter();
            ready!(poll_state(this.state, cx, config, &mut observed.timer))
        };
        observed.finish(&config.observer, &output);
        Poll::Ready(output)
    }
}

/// Drives the state machine: buffering, verification, then the inner service.
fn poll_state<S, ReqBody, ResBody>(
    mut state: Pin<&mut State<S, ReqBody>>,
    cx: &mut Context<'_>,
    config: &Config,
    timer: &mut HandlerTimer,
) -> Poll<Result<Response<ResBody>, S::Error>>
where
    S: Service<Request<VerifiedBody>, Response = Response<ResBody>>,
    ReqBody: Body,
    ReqBody::Error: Into<BoxError>,
    ResBody: From<Bytes>,
{
    {
        let read = match state.as_mut().project() {
            StateProj::Calling { future, .. } => return future.poll(cx),
            StateProj::Rejected { .. } => Ok(()),
            StateProj::Done => panic!("{POLLED_AFTER_COMPLETION}"),
            StateProj::Buffering {
                body,
                deadline,
                received,
                admission,
                ..
            } => match poll_body(body, cx, received, &mut admission.charge, config) {
                Poll::Ready(read) => read,
                Poll::Pending => {
                    let Some(after) = config.body_timeout else {
                        return Poll::Pending;
                    };
                    let sleep = deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(after)));
                    ready!(sleep.as_mut().poll(cx));
                    Err(Rejection::body_timeout(after))
                }
            },
        };
        match state.as_mut().project_replace(State::Done) {
            StateOwned::Rejected { response } => Poll::Ready(Ok(response)),
            StateOwned::Buffering {
                received,
                admission: Admission { prechecked, charge },
                mut parts,
                mut inner,
                ..
            } => {
                let body_unread = read.is_err();
                let admitted = read
                    .map(|()| received.into_bytes())
                    .and_then(|bytes| admit(config, &prechecked, &mut parts, bytes));
                match admitted {
                    Ok(body) => {
                        timer.start(&config.observer);
                        let future = inner.call(Request::from_parts(parts, body));
                        state.set(State::Calling { future, charge });
                        // Poll the handler now, so its waker is registered.
                        state.as_mut().poll_calling(cx)
                    }
                    Err(rejection) => {
                        let response = config.responder.respond(rejection, parts.uri.path());
                        Poll::Ready(Ok(if body_unread {
                            closing(response, parts.version)
                        } else {
                            response
                        }))
                    }
                }
            }
            StateOwned::Calling { .. } | StateOwned::Done => {
                unreachable!("the state was Buffering or Rejected above")
            }
        }
    }
}

impl<S, ReqBody> State<S, ReqBody>
where
    S: Service<Request<VerifiedBody>>,
{
    fn poll_calling(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<S::Response, S::Error>> {
        match self.project() {
            StateProj::Calling { future, .. } => future.poll(cx),
            _ => unreachable!("just set to Calling"),
        }
    }
}

/// Marks a refusal sent before the request body was read to its end with
/// `Connection: close` (HTTP/1): the server closes such a connection rather than drain the
/// rest, and without the header a keep-alive client may send its next request on a
/// connection that is being closed and see it fail.
pub(super) fn closing<B>(mut response: Response<B>, version: Version) -> Response<B> {
    if matches!(version, Version::HTTP_10 | Version::HTTP_11) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Reads frames until the body ends, charging each data chunk to the budget and against
/// the limit before keeping it.
fn poll_body<B>(
    mut body: Pin<&mut B>,
    cx: &mut Context<'_>,
    received: &mut Received,
    charge: &mut Charge,
    config: &Config,
) -> Poll<Result<(), Rejection>>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    loop {
        let Some(frame) = ready!(body.as_mut().poll_frame(cx)) else {
            return Poll::Ready(Ok(()));
        };
        // A broken connection or bad chunking: 400.
        let frame = match frame {
            Ok(frame) => frame,
            Err(error) => return Poll::Ready(Err(Rejection::body_read(error.into()))),
        };
        // Trailers are not part of what is signed.
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        let len = received.len.saturating_add(data.remaining());
        if len > config.max_body_size {
            return Poll::Ready(Err(Rejection::body_too_large(config.max_body_size)));
        }
        if !charge.grow_to(len) {
            return Poll::Ready(Err(Rejection::overloaded(config.budget.retry_after())));
        }
        received.push(data.copy_to_bytes(data.remaining()));
        received.len = len;
    }
}

/// Verifies the exact received bytes and leaves them, with the route's responder, in the
/// extensions. Parsing is the extractor's job (see the `extract` module docs).
///
/// The HMAC over the body is what proves the signature; the signature header it is checked
/// against is the one the precheck parsed (and checked the tolerance of) before buffering,
/// not parsed again. The key ring is read now, so a secret revoked while the body was
/// arriving is refused; for shared-secret verifiers the token check is repeated (one
/// SHA-256 of the short token) for the same reason.
fn admit(
    config: &Config,
    prechecked: &Prechecked,
    parts: &mut Parts,
    bytes: Bytes,
) -> Result<VerifiedBody, Rejection> {
    let verified = config
        .verifier
        .verify_prechecked(prechecked, &parts.headers, &bytes);
    if let Err(error) = verified {
        if let Some(explainer) = &config.explain_failures {
            explainer.explain(&config.verifier, &config.provider, parts, &bytes);
        }
        return Err(Rejection::verification(error));
    }
    config.observer.admitted(bytes.len());
    // The route's responder travels inside: one insertion (each can allocate).
    let verified = VerifiedBytes::new(bytes.clone(), Arc::clone(&config.route));
    parts.extensions.insert(verified);
    Ok(VerifiedBody::new(bytes))
}

impl<S, ReqBody> fmt::Debug for ResponseFuture<S, ReqBody>
where
    S: Service<Request<VerifiedBody>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Buffering { .. } => "Buffering",
            State::Calling { .. } => "Calling",
            State::Rejected { .. } => "Rejected",
            State::Done => "Done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(chunks: &[&'static [u8]]) -> Bytes {
        let mut received = Received::default();
        for chunk in chunks {
            received.push(Bytes::from_static(chunk));
            received.len += chunk.len();
        }
        received.into_bytes()
    }

    #[test]
    fn chunks_are_joined_in_order() {
        assert_eq!(received(&[]), Bytes::new());
        assert_eq!(received(&[b"one"]), Bytes::from_static(b"one"));
        assert_eq!(
            received(&[b"", b"ab", b"c", b"de"]),
            Bytes::from_static(b"abcde")
        );
    }

    #[test]
    fn a_single_chunk_is_not_copied() {
        let chunk = Bytes::from_static(b"{}");
        let mut received = Received::default();
        received.push(chunk.clone());
        assert_eq!(received.into_bytes().as_ptr(), chunk.as_ptr());
    }
}
