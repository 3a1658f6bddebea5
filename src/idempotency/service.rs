//! The idempotency `Service`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use http::{HeaderValue, Request, Response, header::HeaderName};
use sha2::{Digest, Sha256};
use tower::Service;

use super::future::ResponseFuture;
use super::layer::{Config, OutagePolicy};
use super::store::{Begin, RecordId, Store, StoreError, StoreErrorKind, StoreFuture, Token};
use crate::VerifiedBytes;
use crate::observe::{self, StoreOp, StoreTimer};
use crate::rejection::{Rejection, Responder};
use bytes::Bytes;

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
    namespace: Arc<str>,
}

/// The key a delivery was deduplicated under, in the request extensions seen by the
/// handler (e.g. `Extension<IdempotencyKey>` in axum), for logging and records.
///
/// It shows (`Display`) as `<namespace>:id:<id>` (Railz: `<namespace>:id:<requestId>:<event>`),
/// `<namespace>:idsha256:<hex>` (long ids) or `<namespace>:sha256:<hex of the body>`. The
/// record behind it also holds the body's digest: see [`RecordId`].
///
/// ```
/// # use ledgerhook::idempotency::IdempotencyKey;
/// fn log(key: &IdempotencyKey) -> String {
///     // e.g. "railz" and "id:428ebd8f-...:dataPerType", shown "railz:id:428ebd8f-...:dataPerType"
///     format!("{} {} {key}", key.namespace(), key.key())
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    namespace: Arc<str>,
    key: Arc<str>,
}

impl IdempotencyKey {
    /// The route's namespace ([`IdempotencyLayer::namespace`](super::IdempotencyLayer::namespace)).
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The key within the namespace, e.g. `id:<requestId>:<event>` or `sha256:<hex>`.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.namespace, self.key)
    }
}

/// What the layer did with a request; inserted in the response extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The handler ran and its answer completes the record (by default a `2xx`).
    Processed,
    /// The handler's answer does not complete the record (by default anything but a
    /// `2xx`), or it failed: the record was released, so a retry is handled.
    Released,
    /// The same key and body were completed within the window: `200` with
    /// `x-ledgerhook-duplicate: true`, handler not called.
    Duplicate,
    /// The same key and body are being handled: `409` + `Retry-After`, handler not called.
    InFlight,
    /// The store could not answer and the policy is [`OutagePolicy::FailClosed`]: `503` +
    /// `Retry-After`, handler not called.
    StoreUnavailable,
    /// The store (this route's namespace) is full of records still inside their window:
    /// `503` + `Retry-After`, handler not called, nothing forgotten.
    StoreFull,
    /// The store could not answer and the policy is [`OutagePolicy::FailOpen`]: the
    /// handler ran without deduplication.
    Unprotected,
    /// No verified body in the request: the layer is not behind the verifying layer.
    /// `500`, handler not called.
    MissingVerifiedBytes,
}

impl Outcome {
    /// A stable machine-readable code: `processed`, `released`, `duplicate`, `in_flight`,
    /// `store_unavailable`, `store_full`, `unprotected`, `misconfigured`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Released => "released",
            Self::Duplicate => "duplicate",
            Self::InFlight => "in_flight",
            Self::StoreUnavailable => "store_unavailable",
            Self::StoreFull => "store_full",
            Self::Unprotected => "unprotected",
            Self::MissingVerifiedBytes => "misconfigured",
        }
    }

    /// A short description, e.g. for logs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Released => "not completed by the handler, record released",
            Self::Duplicate => "duplicate of a completed delivery",
            Self::InFlight => "duplicate of a delivery in flight",
            Self::StoreUnavailable => "idempotency store unavailable",
            Self::StoreFull => "idempotency store full for this route",
            Self::Unprotected => "processed without deduplication (store unavailable)",
            Self::MissingVerifiedBytes => {
                "the idempotency layer must run after the verifying layer (no verified body in the request)"
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
        let namespace = config.namespace.as_str().into();
        Self {
            inner,
            store,
            config,
            namespace,
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
    ResBody: From<Bytes> + Send + 'static,
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
            let responder = Responder::from_extensions(req.extensions());
            return ResponseFuture::new(std::future::ready(Ok(answer(
                &responder,
                req.uri().path(),
                Outcome::MissingVerifiedBytes,
                None,
            ))));
        };
        let config = Arc::clone(&self.config);
        let timer = StoreTimer::of(body);
        let digest: [u8; 32] = Sha256::digest(body.as_ref()).into();
        // With the extractors built, a source that parses the body as a typed event hands
        // the event on to the handler's `WebhookEvent`, so the body is parsed once.
        #[cfg(feature = "axum")]
        let (key, parsed) = config
            .key
            .key_and_event(req.headers(), body.bytes(), &digest);
        #[cfg(not(feature = "axum"))]
        let key = config.key.key_for(req.headers(), body, &digest);
        let ttl = config.ttl(key.from_body_hash);
        let record = RecordId::from_digest(Arc::clone(&self.namespace), key.text, digest);
        // The handler's copy shares the record's strings.
        req.extensions_mut().insert(IdempotencyKey {
            namespace: Arc::clone(record.namespace_arc()),
            key: Arc::clone(record.key_arc()),
        });
        #[cfg(feature = "axum")]
        if let Some(event) = parsed {
            event.hand_on(req.extensions_mut());
        }
        let store = Arc::clone(&self.store);
        let responder = Responder::from_extensions(req.extensions());

        ResponseFuture::new(async move {
            // Refusals are answered before the request moves on to the handler, so they
            // read its path from it.
            let refuse = |req: &Request<ReqBody>, outcome, error| {
                answer(&responder, req.uri().path(), outcome, error)
            };
            let began = timer.time(StoreOp::Begin, store.try_begin(&record, config.lease));
            let token = match began.await {
                Ok(Begin::Acquired { token, other_body }) => {
                    if other_body {
                        log_other_body(&record);
                    }
                    token
                }
                Ok(Begin::Completed) => return Ok(refuse(&req, Outcome::Duplicate, None)),
                Ok(Begin::InFlight) => return Ok(refuse(&req, Outcome::InFlight, None)),
                // Full is not an outage: handling without a record would let a replay
                // through, so even fail-open refuses (nothing is lost, the sender retries).
                Err(err) if err.kind() == StoreErrorKind::Full => {
                    return Ok(refuse(&req, Outcome::StoreFull, Some(err)));
                }
                Err(err) => match config.outage {
                    OutagePolicy::FailClosed => {
                        return Ok(refuse(&req, Outcome::StoreUnavailable, Some(err)));
                    }
                    OutagePolicy::FailOpen => {
                        log_error(Outcome::Unprotected, Some(&err));
                        observe::dedup(Outcome::Unprotected);
                        let mut res = inner.call(req).await?;
                        res.extensions_mut().insert(Outcome::Unprotected);
                        return Ok(res);
                    }
                },
            };

            // From here until the record is settled, dropping this future (the client
            // went away) settles it from `Drop`.
            let mut claim = Claim {
                store: &store,
                record: &record,
                token,
                ttl,
                on_drop: Some(Settle::Release),
            };
            match inner.call(req).await {
                Ok(mut res) if config.completion.completes(res.status()) => {
                    // The event was handled: the record must be written, or a duplicate
                    // arriving after the lease would be handled again. Keep trying while
                    // the lease holds duplicates off (e.g. through a Redis restart).
                    claim.on_drop = Some(Settle::Complete);
                    let completed = persist(config.lease, &timer, StoreOp::Complete, || {
                        store.complete(&record, token, ttl)
                    })
                    .await;
                    claim.on_drop = None;
                    match completed {
                        Ok(true) => {}
                        // Handled, but another delivery claimed the key after this lease
                        // ran out. Nothing to undo here, so report it.
                        Ok(false) => log_lost_lease(&record),
                        Err(err) => log_error(Outcome::Processed, Some(&err)),
                    }
                    observe::dedup(Outcome::Processed);
                    res.extensions_mut().insert(Outcome::Processed);
                    Ok(res)
                }
                other => {
                    // If the release fails the key stays in flight until its lease ends,
                    // after which a retry is handled.
                    let released = persist(config.lease, &timer, StoreOp::Release, || {
                        store.release(&record, token)
                    })
                    .await;
                    claim.on_drop = None;
                    if let Err(err) = released {
                        log_error(Outcome::Released, Some(&err));
                    }
                    observe::dedup(Outcome::Released);
                    other.map(|mut res| {
                        res.extensions_mut().insert(Outcome::Released);
                        res
                    })
                }
            }
        })
    }
}

/// What a dropped response future still owes the store.
#[derive(Debug, Clone, Copy)]
enum Settle {
    /// The handler did not finish: give the key back so the sender's retry is handled.
    Release,
    /// The handler succeeded: record it, or a retry would handle the event again.
    Complete,
}

/// A claim held by a response future; settles it when the future is dropped unsettled.
struct Claim<'a> {
    store: &'a Arc<dyn Store>,
    record: &'a RecordId,
    token: Token,
    ttl: Duration,
    on_drop: Option<Settle>,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let Some(settle) = self.on_drop.take() else {
            return;
        };
        let store = Arc::clone(self.store);
        let record = self.record.clone();
        let (token, ttl) = (self.token, self.ttl);
        let mut settling: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
            let result = match settle {
                Settle::Release => store.release(&record, token).await.map(drop),
                Settle::Complete => store.complete(&record, token, ttl).await.map(drop),
            };
            if let Err(err) = result {
                log_error(Outcome::Released, Some(&err));
            }
        });
        // An in-process store answers at once: settle right here. A remote one (Redis)
        // needs I/O: hand it to the runtime; without one the lease ends the claim.
        let mut cx = Context::from_waker(Waker::noop());
        if settling.as_mut().poll(&mut cx).is_ready() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(settling)),
            Err(_) => log_unsettled(self.record),
        }
    }
}

/// Runs `op` until it succeeds, with backoff (10 ms doubling to 1 s), for at most `budget`
/// after its first failure;
/// then returns its last error.
async fn persist<'a, T>(
    budget: Duration,
    timer: &StoreTimer,
    kind: StoreOp,
    mut op: impl FnMut() -> StoreFuture<'a, T>,
) -> Result<T, StoreError> {
    // Capped so that a huge lease cannot overflow the clock or retry forever. Read at the
    // first failure, not before: the usual call succeeds at once and needs no clock.
    let budget = budget.min(Duration::from_secs(3600));
    let mut deadline = None;
    let mut wait = Duration::from_millis(10);
    loop {
        match timer.time(kind, op()).await {
            Ok(value) => return Ok(value),
            Err(err) => {
                let now = tokio::time::Instant::now();
                if now + wait > *deadline.get_or_insert(now + budget) {
                    return Err(err);
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Every answer the layer gives itself, in one place. Refusals go through the route's
/// [`Responder`] (the one the verifying layer left in the request), so they look and log
/// like every other refusal of the crate; a duplicate is answered `200` with an empty body
/// (the handler's answer is not replayed). The outcome is in the response extensions.
fn answer<B: From<Bytes>>(
    responder: &Responder,
    path: &str,
    outcome: Outcome,
    error: Option<StoreError>,
) -> Response<B> {
    const RETRY: Duration = Duration::from_secs(1);
    observe::dedup(outcome);
    let rejection = match outcome {
        Outcome::Duplicate => {
            let mut res = Response::new(B::from(Bytes::new()));
            res.headers_mut()
                .insert(DUPLICATE_HEADER, HeaderValue::from_static("true"));
            res.extensions_mut().insert(outcome);
            return res;
        }
        Outcome::InFlight => Rejection::in_flight(RETRY),
        Outcome::StoreFull => Rejection::store_full(
            error
                .as_ref()
                .and_then(StoreError::retry_after)
                .unwrap_or(RETRY),
        ),
        Outcome::StoreUnavailable => {
            Rejection::store_unavailable(RETRY, error.map(|e| Box::new(e) as tower::BoxError))
        }
        _ => Rejection::missing_layer("verified webhook bytes"),
    };
    let mut res = responder.respond(rejection, path);
    res.extensions_mut().insert(outcome);
    res
}

#[cfg(feature = "tracing")]
fn log_error(outcome: Outcome, err: Option<&StoreError>) {
    match err {
        Some(err) => tracing::error!(
            target: "ledgerhook",
            outcome = outcome.code(),
            error = %err,
            cause = ?std::error::Error::source(err),
            "idempotency store error"
        ),
        None => tracing::error!(target: "ledgerhook", outcome = outcome.code(), "{outcome}"),
    }
}

#[cfg(not(feature = "tracing"))]
fn log_error(_: Outcome, _: Option<&StoreError>) {}

#[cfg(feature = "tracing")]
fn log_other_body(record: &RecordId) {
    tracing::warn!(
        target: "ledgerhook",
        key = %record,
        "idempotency key reused with a different body: handled as a new delivery"
    );
}

#[cfg(not(feature = "tracing"))]
fn log_other_body(_: &RecordId) {}

#[cfg(feature = "tracing")]
fn log_lost_lease(record: &RecordId) {
    tracing::warn!(
        target: "ledgerhook",
        key = %record,
        "handler outlived its idempotency lease and another delivery claimed the key"
    );
}

#[cfg(not(feature = "tracing"))]
fn log_lost_lease(_: &RecordId) {}

#[cfg(feature = "tracing")]
fn log_unsettled(record: &RecordId) {
    tracing::warn!(
        target: "ledgerhook",
        key = %record,
        "response dropped outside a runtime: the claim lasts until its lease ends"
    );
}

#[cfg(not(feature = "tracing"))]
fn log_unsettled(_: &RecordId) {}

#[cfg(all(test, feature = "axum"))]
mod tests {
    use std::convert::Infallible;
    use std::sync::Mutex;

    use axum_core::extract::FromRequestParts;
    use tower::{Layer, ServiceExt, service_fn};

    use super::*;
    use crate::extract::{Parsed, RouteContext};
    use crate::idempotency::{IdempotencyLayer, KeySource};
    use crate::{WebhookEvent, railz};

    const BODY: &[u8] = include_bytes!("../../tests/fixtures/railz_data_per_type.json");

    fn delivery(body: &'static [u8]) -> Request<()> {
        let mut req = Request::new(());
        req.extensions_mut().insert(VerifiedBytes::new(
            Bytes::from_static(body),
            Arc::new(RouteContext::standalone(Arc::from("railz"))),
        ));
        req
    }

    /// What the handler behind the layer saw: the key, whether a parsed event was waiting
    /// for its extractor, whether the extractor took it, the event.
    type Seen = (String, bool, bool, railz::Event);

    /// One delivery of `body` through the layer with `source`, to a handler that extracts
    /// `WebhookEvent<railz::Event>`.
    async fn through(source: KeySource, body: &'static [u8]) -> (Outcome, Option<Seen>) {
        let seen = Arc::new(Mutex::new(None));
        let handler = {
            let seen = Arc::clone(&seen);
            service_fn(move |req: Request<()>| {
                let seen = Arc::clone(&seen);
                async move {
                    let (mut parts, ()) = req.into_parts();
                    let key = parts
                        .extensions
                        .get::<IdempotencyKey>()
                        .unwrap()
                        .to_string();
                    let waiting = parts.extensions.get::<Parsed<railz::Event>>().is_some();
                    let WebhookEvent(event) =
                        WebhookEvent::<railz::Event>::from_request_parts(&mut parts, &())
                            .await
                            .unwrap();
                    let taken = parts.extensions.get::<Parsed<railz::Event>>().is_none();
                    *seen.lock().unwrap() = Some((key, waiting, taken, event));
                    Ok::<_, Infallible>(Response::new(Bytes::new()))
                }
            })
        };
        let layer = IdempotencyLayer::in_memory().namespace("t").key(source);
        let res = layer.layer(handler).oneshot(delivery(body)).await.unwrap();
        let outcome = *res.extensions().get::<Outcome>().unwrap();
        let seen = seen.lock().unwrap().take();
        (outcome, seen)
    }

    #[tokio::test]
    async fn railz_key_source_parses_once_and_the_extractor_takes_the_event() {
        let (outcome, seen) = through(KeySource::railz(), BODY).await;
        assert_eq!(outcome, Outcome::Processed);
        let (key, waiting, taken, event) = seen.expect("handler called");
        assert!(waiting, "the layer handed its parse on");
        assert!(taken, "the extractor took it");
        assert_eq!(event, railz::Event::from_slice(BODY).unwrap());
        // The key of the seek pass, as before.
        let digest: [u8; 32] = Sha256::digest(BODY).into();
        let old = KeySource::railz().key_for(&http::HeaderMap::new(), BODY, &digest);
        assert_eq!(key, format!("t:{}", old.text));
        assert_eq!(key, "t:id:428ebd8f-7cb2-4fa7-9cdb-00f083044324:dataPerType");
    }

    #[tokio::test]
    async fn other_sources_and_refused_bodies_leave_the_parse_to_the_extractor() {
        let (_, seen) = through(KeySource::body_hash(), BODY).await;
        let (_, waiting, _, event) = seen.expect("handler called");
        assert!(!waiting);
        assert_eq!(event.tag(), "dataPerType");
        // A known event the typed parse refuses (a duplicate `requestId`) keeps the seek
        // pass's key; the extractor is then the one to refuse it, as without the layer.
        let refused: &[u8] = br#"{"data":{"event":"auth"},"requestId":"a","requestId":"b"}"#;
        let digest: [u8; 32] = Sha256::digest(refused).into();
        let (key, parsed) = KeySource::railz().key_and_event(
            &http::HeaderMap::new(),
            &Bytes::from_static(refused),
            &digest,
        );
        assert!(parsed.is_none());
        assert_eq!(key.text, "id:a:auth");
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn the_handlers_key_shares_the_records_strings_and_shows_namespace_colon_key() {
        let record = RecordId::from_digest("railz", "id:r-1:auth", [7; 32]);
        let key = IdempotencyKey {
            namespace: Arc::clone(record.namespace_arc()),
            key: Arc::clone(record.key_arc()),
        };
        assert_eq!(key.namespace(), "railz");
        assert_eq!(key.key(), "id:r-1:auth");
        assert_eq!(key.to_string(), "railz:id:r-1:auth");
        assert!(
            Arc::ptr_eq(&key.key, record.key_arc()),
            "no copy of the key"
        );
    }
}
