use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response};
use http_body::Body;
use http_body_util::combinators::Collect;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tower::Service;

use super::service::{BoxError, Config};
use crate::body::VerifiedBody;
use crate::extract::WebhookEvent;
use crate::rejection::{Rejection, RejectionResponse};
use crate::{VerifiedBytes, WebhookPayload};

pin_project! {
    /// Response future of [`VerifyWebhook`](super::VerifyWebhook).
    ///
    /// Reads the body (bounded, with the optional deadline), verifies and parses it, then
    /// runs the inner service; or resolves to the rejection response.
    pub struct ResponseFuture<S, ReqBody, E, R>
    where
        S: Service<Request<VerifiedBody>>,
        ReqBody: Body,
        ReqBody::Error: Into<BoxError>,
    {
        #[pin]
        state: State<S, ReqBody, R>,
        _event: PhantomData<fn() -> E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, ReqBody, R>
    where
        S: Service<Request<VerifiedBody>>,
        ReqBody: Body,
        ReqBody::Error: Into<BoxError>,
    {
        Buffering {
            #[pin]
            collect: Collect<Limited<ReqBody>>,
            // Armed on the first poll that finds the body incomplete.
            #[pin]
            deadline: Option<Sleep>,
            pending: Option<Pending<S, R>>,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
        Rejected {
            response: Option<S::Response>,
        },
    }
}

/// What the buffering state owns until the body is in.
struct Pending<S, R> {
    parts: Parts,
    inner: S,
    config: Arc<Config<R>>,
}

const POLLED_AFTER_COMPLETION: &str = "ledgerhook ResponseFuture polled after completion";

impl<S, ReqBody, E, R> ResponseFuture<S, ReqBody, E, R>
where
    S: Service<Request<VerifiedBody>>,
    ReqBody: Body,
    ReqBody::Error: Into<BoxError>,
{
    pub(super) fn buffering(parts: Parts, body: ReqBody, inner: S, config: Arc<Config<R>>) -> Self {
        let collect = Limited::new(body, config.max_body_size).collect();
        let pending = Some(Pending {
            parts,
            inner,
            config,
        });
        Self::with_state(State::Buffering {
            collect,
            deadline: None,
            pending,
        })
    }

    pub(super) fn rejected(response: S::Response) -> Self {
        Self::with_state(State::Rejected {
            response: Some(response),
        })
    }

    fn with_state(state: State<S, ReqBody, R>) -> Self {
        Self {
            state,
            _event: PhantomData,
        }
    }
}

impl<S, ReqBody, E, R, ResBody> Future for ResponseFuture<S, ReqBody, E, R>
where
    S: Service<Request<VerifiedBody>, Response = Response<ResBody>>,
    ReqBody: Body,
    ReqBody::Error: Into<BoxError>,
    E: WebhookPayload,
    R: RejectionResponse<ResBody>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let next = match this.state.as_mut().project() {
                StateProj::Calling { future } => return future.poll(cx),
                StateProj::Rejected { response } => {
                    return Poll::Ready(Ok(response.take().expect(POLLED_AFTER_COMPLETION)));
                }
                StateProj::Buffering {
                    collect,
                    mut deadline,
                    pending,
                } => {
                    let outcome = match collect.poll(cx) {
                        Poll::Ready(Ok(collected)) => Ok(collected.to_bytes()),
                        Poll::Ready(Err(error)) => Err(body_error(error, pending.as_ref())),
                        Poll::Pending => {
                            let after = pending.as_ref().and_then(|p| p.config.body_timeout);
                            let Some(after) = after else {
                                return Poll::Pending;
                            };
                            if deadline.is_none() {
                                deadline.set(Some(tokio::time::sleep(after)));
                            }
                            if let Some(sleep) = deadline.as_pin_mut() {
                                ready!(sleep.poll(cx));
                            }
                            Err(Rejection::body_timeout(after))
                        }
                    };
                    let Pending {
                        mut parts,
                        mut inner,
                        config,
                    } = pending.take().expect(POLLED_AFTER_COMPLETION);
                    match outcome.and_then(|bytes| admit::<E, R>(&config, &mut parts, bytes)) {
                        Ok(body) => State::Calling {
                            future: inner.call(Request::from_parts(parts, body)),
                        },
                        Err(rejection) => State::Rejected {
                            response: Some(config.reject(rejection, parts.uri.path())),
                        },
                    }
                }
            };
            this.state.set(next);
        }
    }
}

/// Maps a body error: the cap is 413, anything else (client hung up, bad chunking) is 400.
fn body_error<S, R>(error: BoxError, pending: Option<&Pending<S, R>>) -> Rejection {
    if error.is::<LengthLimitError>() {
        Rejection::body_too_large(pending.map_or(0, |p| p.config.max_body_size))
    } else {
        Rejection::body_read(error)
    }
}

/// Verifies the exact received bytes, parses them, and stores both in the extensions.
///
/// The full `verify` runs even though `precheck` passed before buffering: it is what
/// proves the signature. For shared-secret verifiers it repeats the token check, one
/// SHA-256 of the short token: measured within noise of skipping it (about 2 % of this
/// layer's time on a small v3 request), and it honours a key revoked while the body was
/// arriving.
fn admit<E: WebhookPayload, R>(
    config: &Config<R>,
    parts: &mut Parts,
    bytes: Bytes,
) -> Result<VerifiedBody, Rejection> {
    config
        .verifier
        .verify(&parts.headers, &bytes)
        .map_err(Rejection::verification)?;
    let event = E::parse(&bytes).map_err(Rejection::payload)?;
    parts.extensions.insert(VerifiedBytes(bytes.clone()));
    parts.extensions.insert(WebhookEvent(event));
    Ok(VerifiedBody::new(bytes))
}

impl<S, ReqBody, E, R> fmt::Debug for ResponseFuture<S, ReqBody, E, R>
where
    S: Service<Request<VerifiedBody>>,
    ReqBody: Body,
    ReqBody::Error: Into<BoxError>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Buffering { .. } => "Buffering",
            State::Calling { .. } => "Calling",
            State::Rejected { .. } => "Rejected",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
