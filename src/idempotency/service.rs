//! The idempotency `Service`.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderValue, Request, Response, StatusCode, header::HeaderName};
use tower::Service;

use super::future::ResponseFuture;
use super::layer::{Config, OutagePolicy};
use super::store::{Begin, Store, StoreError, StoreFuture};
use crate::VerifiedBytes;

/// Response header set to `true` on the answer to a duplicate delivery.
pub const DUPLICATE_HEADER: HeaderName = HeaderName::from_static("x-ledgerhook-duplicate");

/// Middleware that handles each delivery once; see
/// [`IdempotencyLayer`](super::IdempotencyLayer) and the [module docs](crate::idempotency).
#[derive(Clone)]
#[must_use]
pub struct Idempotency<S> {
    inner: S,
    store: Arc<dyn Store>,
    config: Arc<Config>,
}

/// The key a delivery was deduplicated under, in the request extensions seen by the
/// handler (e.g. `Extension<IdempotencyKey>` in axum), for logging and records.
///
/// It is `<namespace>:id:<id>`, `<namespace>:idsha256:<hex>` (long ids) or
/// `<namespace>:sha256:<hex of the body>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(Arc<str>);

impl IdempotencyKey {
    /// The key as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the layer did with a request; inserted in the response extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// First delivery: the handler ran and succeeded; the key is now completed.
    Processed,
    /// The handler answered `5xx`, `408` or `429`: the key was released, so a retry is
    /// handled.
    Released,
    /// The key was completed within the TTL: `200` with `x-ledgerhook-duplicate: true`,
    /// handler not called.
    Duplicate,
    /// Another delivery with this key is being handled: `409`, handler not called.
    InFlight,
    /// The store could not answer and the policy is [`OutagePolicy::FailClosed`]: `503`,
    /// handler not called.
    StoreUnavailable,
    /// The store could not answer and the policy is [`OutagePolicy::FailOpen`]: the
    /// handler ran without deduplication.
    Unprotected,
    /// No [`VerifiedBytes`] in the request: the layer is not behind the verifying layer.
    /// `500`, handler not called.
    MissingVerifiedBytes,
}

impl Outcome {
    /// A short description, e.g. for logs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Released => "handler failed, key released",
            Self::Duplicate => "duplicate of a completed delivery",
            Self::InFlight => "duplicate of a delivery in flight",
            Self::StoreUnavailable => "idempotency store unavailable",
            Self::Unprotected => "processed without deduplication (store unavailable)",
            Self::MissingVerifiedBytes => {
                "IdempotencyLayer must run after VerifyWebhookLayer (no VerifiedBytes in request)"
            }
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<S> Idempotency<S> {
    pub(crate) fn new(inner: S, store: Arc<dyn Store>, config: Arc<Config>) -> Self {
        Self {
            inner,
            store,
            config,
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the wrapped service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for Idempotency<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Idempotency")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Idempotency<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // Run the instance that was polled ready; keep a fresh clone for the next call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);

        let Some(body) = req.extensions().get::<VerifiedBytes>() else {
            // Hashing nothing would give every request the same key and silently drop all
            // but the first, and deduplicating unverified requests would let a forger
            // occupy keys: refuse loudly instead.
            log_error(Outcome::MissingVerifiedBytes, None);
            return ResponseFuture::new(std::future::ready(Ok(rejection(
                Outcome::MissingVerifiedBytes,
            ))));
        };
        let config = Arc::clone(&self.config);
        let key: Arc<str> = format!(
            "{}:{}",
            config.namespace,
            config.key.key_for(req.headers(), body)
        )
        .into();
        req.extensions_mut()
            .insert(IdempotencyKey(Arc::clone(&key)));
        let store = Arc::clone(&self.store);

        ResponseFuture::new(async move {
            let token = match store.try_begin(&key, config.lease).await {
                Ok(Begin::Acquired(token)) => token,
                Ok(Begin::Completed) => return Ok(rejection(Outcome::Duplicate)),
                Ok(Begin::InFlight) => return Ok(rejection(Outcome::InFlight)),
                Err(err) => match config.outage {
                    OutagePolicy::FailClosed => {
                        log_error(Outcome::StoreUnavailable, Some(&err));
                        return Ok(rejection(Outcome::StoreUnavailable));
                    }
                    OutagePolicy::FailOpen => {
                        log_error(Outcome::Unprotected, Some(&err));
                        let mut res = inner.call(req).await?;
                        res.extensions_mut().insert(Outcome::Unprotected);
                        return Ok(res);
                    }
                },
            };

            match inner.call(req).await {
                Ok(mut res) if !not_processed(res.status()) => {
                    // The event was handled: the record must be written, or a duplicate
                    // arriving after the lease would be handled again. Keep trying while
                    // the lease holds duplicates off (e.g. through a Redis restart).
                    let completed = persist(config.lease, || {
                        store.complete(&key, token, config.completed_ttl)
                    })
                    .await;
                    match completed {
                        Ok(true) => {}
                        // Handled, but another delivery claimed the key after this lease
                        // ran out. Nothing to undo here, so report it.
                        Ok(false) => log_lost_lease(&key),
                        Err(err) => log_error(Outcome::Processed, Some(&err)),
                    }
                    res.extensions_mut().insert(Outcome::Processed);
                    Ok(res)
                }
                other => {
                    // If the release fails the key stays in flight until its lease ends,
                    // after which a retry is handled.
                    let released = persist(config.lease, || store.release(&key, token)).await;
                    if let Err(err) = released {
                        log_error(Outcome::Released, Some(&err));
                    }
                    other.map(|mut res| {
                        res.extensions_mut().insert(Outcome::Released);
                        res
                    })
                }
            }
        })
    }
}

/// Runs `op` until it succeeds, with backoff (10 ms doubling to 1 s), for at most `budget`;
/// then returns its last error.
async fn persist<'a, T>(
    budget: Duration,
    mut op: impl FnMut() -> StoreFuture<'a, T>,
) -> Result<T, StoreError> {
    // Capped so that a huge lease cannot overflow the clock or retry forever.
    let deadline = tokio::time::Instant::now() + budget.min(Duration::from_secs(3600));
    let mut wait = Duration::from_millis(10);
    loop {
        match op().await {
            Ok(value) => return Ok(value),
            Err(err) if tokio::time::Instant::now() + wait > deadline => return Err(err),
            Err(_) => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Statuses by which a handler says it did not process the event and wants a retry.
fn not_processed(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
}

/// The layer's own answer: empty body, status and headers by outcome, the outcome in the
/// extensions.
fn rejection<B: Default>(outcome: Outcome) -> Response<B> {
    let mut res = Response::new(B::default());
    let headers = res.headers_mut();
    *res.status_mut() = match outcome {
        Outcome::Duplicate => {
            headers.insert(DUPLICATE_HEADER, HeaderValue::from_static("true"));
            StatusCode::OK
        }
        Outcome::InFlight => {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
            StatusCode::CONFLICT
        }
        Outcome::StoreUnavailable => {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    res.extensions_mut().insert(outcome);
    res
}

#[cfg(feature = "tracing")]
fn log_error(outcome: Outcome, err: Option<&StoreError>) {
    match err {
        Some(err) => tracing::error!(
            target: "ledgerhook",
            outcome = outcome.as_str(),
            error = %err,
            cause = ?std::error::Error::source(err),
            "idempotency store error"
        ),
        None => tracing::error!(target: "ledgerhook", "{outcome}"),
    }
}

#[cfg(not(feature = "tracing"))]
fn log_error(_: Outcome, _: Option<&StoreError>) {}

#[cfg(feature = "tracing")]
fn log_lost_lease(key: &str) {
    tracing::warn!(
        target: "ledgerhook",
        key,
        "handler outlived its idempotency lease and another delivery claimed the key"
    );
}

#[cfg(not(feature = "tracing"))]
fn log_lost_lease(_: &str) {}
