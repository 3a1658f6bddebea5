//! The receiving end: a service that stores each verified delivery and answers for it.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, header};
use http_body_util::Full;
use tower::Service;

use super::envelope::{Appended, NewEnvelope};
use super::store::{InboxError, InboxErrorKind, InboxStore};
use crate::VerifiedBytes;
use crate::idempotency::KeySource;
use crate::rejection::{Rejection, Responder};

/// Response header set to `true` on the answer to a duplicate delivery (the same name
/// the idempotency layer uses).
pub const DUPLICATE_HEADER: HeaderName = HeaderName::from_static("x-ledgerhook-duplicate");

type TagFn = dyn Fn(&Bytes) -> Option<String> + Send + Sync;

/// A `tower::Service` that appends each verified delivery to an [`InboxStore`] and
/// answers `200` only once the store confirmed the write.
///
/// It takes the place of the handler, behind the verifying layer, and reads the
/// [`VerifiedBytes`] that layer leaves in the request extensions (never the raw body).
///
/// | outcome | answer |
/// |---|---|
/// | stored | `200` `{"stored":true}` |
/// | duplicate (same dedup key and body within the TTL) | `200` `{"duplicate":true}` and `x-ledgerhook-duplicate: true` |
/// | store unreachable or timed out | `503` `{"error":"store_unavailable"}` + `Retry-After`: the provider retries, nothing is lost |
/// | store at its maximum depth | `503` `{"error":"store_full"}` + `Retry-After` |
/// | no `VerifiedBytes` (not behind the verifying layer) | `500` `{"error":"internal"}`: unverified bytes are never stored |
///
/// The [`InboxOutcome`] is in the response extensions.
///
/// ```
/// use axum::{Router, routing::post_service};
/// use ledgerhook::idempotency::KeySource;
/// use ledgerhook::inbox::{InboxService, MemoryInbox};
///
/// let inbox = InboxService::new("railz", MemoryInbox::new())
///     .key(KeySource::railz())
///     .keep_header(http::header::USER_AGENT)
///     .tag_with(|body| {
///         use ledgerhook::WebhookPayload;
///         ledgerhook::railz::Event::parse(body).ok().map(|e| e.tag().to_owned())
///     });
/// let app: Router = Router::new().route("/webhooks/railz", post_service(inbox));
/// // ...then `.route_layer(<the verifying layer>)`, which runs first.
/// # let _ = app;
/// ```
#[derive(Clone)]
#[must_use]
pub struct InboxService {
    store: Arc<dyn InboxStore>,
    config: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    provider: String,
    key: Option<KeySource>,
    headers: Vec<HeaderName>,
    tag: Option<Arc<TagFn>>,
    retry_after: Duration,
}

/// What [`InboxService`] did with a request; in the response extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InboxOutcome {
    /// Stored: a worker will process it.
    Stored,
    /// A duplicate of a stored delivery: nothing stored.
    Duplicate,
    /// The store could not confirm the write: `503`.
    StoreUnavailable,
    /// The store is full: `503`.
    StoreFull,
    /// No [`VerifiedBytes`] in the request: `500`.
    MissingVerifiedBytes,
}

impl InboxOutcome {
    /// A stable machine-readable code: `stored`, `duplicate`, `store_unavailable`,
    /// `store_full`, `missing_verified_bytes`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::Duplicate => "duplicate",
            Self::StoreUnavailable => "store_unavailable",
            Self::StoreFull => "store_full",
            Self::MissingVerifiedBytes => "missing_verified_bytes",
        }
    }
}

impl InboxService {
    /// Stores deliveries for `provider` (the route name kept in each envelope, e.g.
    /// `railz`) in `store`. Deduplicates by the body hash by default ([`key`](Self::key)).
    pub fn new(provider: impl Into<String>, store: impl InboxStore) -> Self {
        Self::from_arc(provider, Arc::new(store))
    }

    /// Like [`new`](Self::new), with a store already shared.
    pub fn from_arc(provider: impl Into<String>, store: Arc<dyn InboxStore>) -> Self {
        Self {
            store,
            config: Arc::new(Config {
                provider: provider.into(),
                key: Some(KeySource::body_hash()),
                headers: Vec::new(),
                tag: None,
                retry_after: Duration::from_secs(1),
            }),
        }
    }

    fn config_mut(&mut self) -> &mut Config {
        // Builders run before the service is cloned; if not, this copies once.
        Arc::make_mut(&mut self.config)
    }

    /// Where the dedup key comes from (the idempotency layer's [`KeySource`]; default:
    /// the body hash).
    pub fn key(mut self, source: KeySource) -> Self {
        self.config_mut().key = Some(source);
        self
    }

    /// Stores every delivery, without deduplication (e.g. when an `IdempotencyLayer`
    /// in front already answers duplicates).
    pub fn no_dedup(mut self) -> Self {
        self.config_mut().key = None;
        self
    }

    /// Keeps request header `name` in the envelope for the worker (none by default).
    pub fn keep_header(mut self, name: HeaderName) -> Self {
        self.config_mut().headers.push(name);
        self
    }

    /// Derives the event tag stored in the envelope from the verified body (none by
    /// default). Return `None` when there is no tag; the delivery is stored anyway.
    pub fn tag_with(
        mut self,
        tag: impl Fn(&Bytes) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.config_mut().tag = Some(Arc::new(tag));
        self
    }

    /// The `Retry-After` sent with a `503` (default 1 s, rounded up to whole seconds).
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.config_mut().retry_after = after;
        self
    }

    fn envelope(&self, headers: &HeaderMap, body: &Bytes) -> NewEnvelope {
        let config = &self.config;
        let mut kept = HeaderMap::new();
        for name in &config.headers {
            for value in headers.get_all(name) {
                kept.append(name.clone(), value.clone());
            }
        }
        NewEnvelope {
            provider: config.provider.clone(),
            tag: config.tag.as_ref().and_then(|tag| tag(body)),
            dedup_key: config.key.as_ref().map(|k| {
                let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(body.as_ref()).into();
                k.key_for(headers, body, &digest).text
            }),
            received_at: SystemTime::now(),
            body: body.clone(),
            headers: kept,
        }
    }
}

impl<B> Service<Request<B>> for InboxService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let responder = Responder::from_extensions(req.extensions());
        let path: Arc<str> = req.uri().path().into();
        let retry_after = self.config.retry_after;
        let Some(bytes) = req.extensions().get::<VerifiedBytes>() else {
            let res = refusal(
                &responder,
                &path,
                InboxOutcome::MissingVerifiedBytes,
                retry_after,
                None,
            );
            return Box::pin(async move { Ok(res) });
        };
        let envelope = self.envelope(req.headers(), bytes);
        let store = Arc::clone(&self.store);
        Box::pin(async move {
            Ok(match store.append(&envelope).await {
                Ok(Appended::Stored(_)) => answer(InboxOutcome::Stored, br#"{"stored":true}"#),
                Ok(Appended::Duplicate(_)) => {
                    let mut res = answer(InboxOutcome::Duplicate, br#"{"duplicate":true}"#);
                    res.headers_mut()
                        .insert(DUPLICATE_HEADER, HeaderValue::from_static("true"));
                    res
                }
                Err(err) => {
                    let outcome = match err.kind() {
                        InboxErrorKind::Full => InboxOutcome::StoreFull,
                        _ => InboxOutcome::StoreUnavailable,
                    };
                    refusal(&responder, &path, outcome, retry_after, Some(err))
                }
            })
        })
    }
}

fn answer(outcome: InboxOutcome, body: &'static [u8]) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from_static(body)));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res.extensions_mut().insert(outcome);
    res
}

/// Every refusal this service makes, in one place: through the route's [`Responder`] (the
/// one the verifying layer left in the request), so it is answered, logged and carries its
/// [`Rejection`] like every other refusal of the crate; the [`InboxOutcome`] is in the
/// response extensions too.
fn refusal(
    responder: &Responder,
    path: &str,
    outcome: InboxOutcome,
    retry_after: Duration,
    cause: Option<InboxError>,
) -> Response<Full<Bytes>> {
    let rejection = match outcome {
        InboxOutcome::StoreFull => Rejection::store_full(retry_after),
        InboxOutcome::MissingVerifiedBytes => Rejection::missing_layer("verified webhook bytes"),
        _ => {
            Rejection::store_unavailable(retry_after, cause.map(|e| Box::new(e) as tower::BoxError))
        }
    };
    let mut res: Response<Full<Bytes>> = responder.respond(rejection, path);
    res.extensions_mut().insert(outcome);
    res
}

impl fmt::Debug for InboxService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxService")
            .field("provider", &self.config.provider)
            .field("key", &self.config.key)
            .field("headers", &self.config.headers)
            .field("retry_after", &self.config.retry_after)
            .finish_non_exhaustive()
    }
}
