//! `layer`: the tower layer driven in-process.
//!
//! The input is a few `arbitrary` knobs (which verifier and payload type, body limit,
//! JSON content-type requirement, `Content-Length` handling, how the body is cut into
//! frames, whether it fails mid-way or returns `Pending` between frames) followed by a
//! request in the [`request`](super::request) text format. The future is polled on the
//! spot with a no-op waker (no runtime: the layer needs one only for `body_timeout`,
//! which this target turns off), so an execution costs little more than the verifier.
//!
//! Oracle: the layer's documented order of checks, computed from the same request with
//! the crate's public pieces (`precheck`, `verify`, the payload's `parse`):
//! header check (401/400), declared size (413), content type (415), body read (413 when
//! the limit is crossed, 400 when the body fails), `verify` (401/400), parse (400/422),
//! then the inner service, which must see exactly the verified bytes and parse them as
//! the handler's extractor would.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use http_body::{Body, Frame, SizeHint};
use ledgerhook::body::VerifiedBody;
use ledgerhook::layer::{BufferBudget, DEFAULT_MAX_BODY_SIZE, VerifyWebhookLayer};
use ledgerhook::rejection::{Rejection, RejectionKind};
use ledgerhook::{Event, VerifiedBytes, WebhookPayload, railz, rootfi};
use tower::{Layer, Service};

use super::model::PRESETS;
use super::request;

/// Body limits the target picks from.
pub const LIMITS: [usize; 8] = [0, 1, 16, 64, 256, 1024, 65_536, DEFAULT_MAX_BODY_SIZE];

/// The structured input of `layer` (decoded with `arbitrary`; fixed size but the tail).
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub struct LayerInput<'a> {
    /// Which preset's verifier (modulo their number).
    pub preset: u8,
    /// Payload type: `Event`, `rootfi::Event`, `railz::Event`, `Bytes` (modulo 4).
    pub payload: u8,
    /// Index into [`LIMITS`] (modulo 8).
    pub limit: u8,
    /// Bit 0: require a JSON content type. Bits 1-2: `Content-Length` as in the request,
    /// the true length, [`content_length`](Self::content_length), or none. Bit 3: the body
    /// reports its exact size. Bit 4: the body fails at frame [`fail_at`](Self::fail_at).
    /// Bit 5: the body returns `Pending` before every frame.
    pub flags: u8,
    /// `Content-Length` value when the flags ask for it.
    pub content_length: u16,
    /// Frame sizes, used in turn; 0 is an empty frame (the first 64 frames only).
    pub chunks: [u8; 4],
    /// Frame index at which the body fails, when the flags ask for it.
    pub fail_at: u8,
    /// Request headers and body.
    pub request: &'a [u8],
}

/// One frame as the body yields it.
#[derive(Debug, Clone)]
enum Step {
    Data(Bytes),
    Fail,
}

/// The frames `body` is cut into (see [`LayerInput::chunks`]).
fn frames(input: &LayerInput<'_>, body: &Bytes) -> Vec<Step> {
    let mut rest = body.clone();
    let mut out = Vec::new();
    let fail_at = (input.flags & 0x10 != 0).then_some(usize::from(input.fail_at));
    loop {
        if Some(out.len()) == fail_at {
            out.push(Step::Fail);
            return out;
        }
        if rest.is_empty() {
            return out;
        }
        let size = usize::from(input.chunks[out.len() % 4]);
        let size = if size == 0 && out.len() >= 64 {
            1
        } else {
            size
        };
        out.push(Step::Data(rest.split_to(size.min(rest.len()))));
    }
}

/// A request body that yields prepared frames, optionally `Pending` before each.
struct FuzzBody {
    steps: std::vec::IntoIter<Step>,
    remaining: u64,
    exact_hint: bool,
    pending_first: bool,
    ready: bool,
}

impl Body for FuzzBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.pending_first && !this.ready {
            this.ready = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        this.ready = false;
        Poll::Ready(this.steps.next().map(|step| match step {
            Step::Data(data) => {
                this.remaining -= data.len() as u64;
                Ok(Frame::data(data))
            }
            Step::Fail => Err(io::Error::new(io::ErrorKind::ConnectionReset, "peer gone")),
        }))
    }

    fn size_hint(&self) -> SizeHint {
        if self.exact_hint {
            SizeHint::with_exact(self.remaining)
        } else {
            SizeHint::default()
        }
    }
}

/// What the inner service saw, returned in its response's extensions.
#[derive(Debug, Clone)]
struct Seen {
    body: Bytes,
    verified: Option<Bytes>,
    /// What `VerifiedBytes::parse::<E>` gave, as the `WebhookEvent<E>` extractor would.
    parsed: Result<(), RejectionKind>,
}

/// The outcome: the inner service's view, or the rejection.
#[derive(Debug, PartialEq)]
enum Outcome {
    Called,
    Rejected(RejectionKind),
}

/// Decodes the input; `None` if it is too short.
pub fn decode(data: &[u8]) -> Option<LayerInput<'_>> {
    LayerInput::arbitrary_take_rest(Unstructured::new(data)).ok()
}

/// `layer`.
pub fn layer(data: &[u8]) {
    if let Some(input) = decode(data) {
        let _called = check(&input);
    }
}

/// Runs one input; whether the inner service was called.
pub fn check(input: &LayerInput<'_>) -> bool {
    match input.payload % 4 {
        0 => run::<Event>(input),
        1 => run::<rootfi::Event>(input),
        2 => run::<railz::Event>(input),
        _ => run::<Bytes>(input),
    }
}

fn run<E: WebhookPayload>(input: &LayerInput<'_>) -> bool {
    let preset = &PRESETS[usize::from(input.preset) % PRESETS.len()];
    let limit = LIMITS[usize::from(input.limit) % LIMITS.len()];
    let require_json = input.flags & 1 != 0;
    let (mut headers, body) = request::parse(input.request);
    let body = Bytes::copy_from_slice(body);
    match (input.flags >> 1) & 3 {
        0 => {}
        1 => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        }
        2 => {
            headers.insert(
                header::CONTENT_LENGTH,
                HeaderValue::from(input.content_length),
            );
        }
        _ => {
            headers.remove(header::CONTENT_LENGTH);
        }
    }
    let steps = frames(input, &body);
    let fuzz_body = FuzzBody {
        steps: steps.clone().into_iter(),
        remaining: body.len() as u64,
        exact_hint: input.flags & 0x08 != 0,
        pending_first: input.flags & 0x20 != 0,
        ready: false,
    };
    let expected = expect::<E>(preset, &headers, &fuzz_body, &steps, limit, require_json);

    let layer = VerifyWebhookLayer::new(preset.verifier.clone())
        .max_body_size(limit)
        .require_json_content_type(require_json)
        .without_body_timeout()
        .buffer_budget(BufferBudget::new(usize::MAX));
    let mut service = layer.layer(tower::service_fn(inner::<E>));
    let mut request = Request::post("/webhook").body(fuzz_body).expect("request");
    *request.headers_mut() = headers;

    let response = block_on(async move {
        std::future::poll_fn(|cx| Service::<Request<FuzzBody>>::poll_ready(&mut service, cx))
            .await?;
        service.call(request).await
    })
    .expect("inner service is infallible");

    let outcome = match response.extensions().get::<Rejection>() {
        Some(rejection) => {
            assert_eq!(response.status(), rejection.status());
            assert_eq!(
                response.body(),
                response.status().canonical_reason().unwrap_or("Rejected"),
                "default rejection body is the reason phrase only"
            );
            let _ = rejection.to_string();
            Outcome::Rejected(rejection.kind())
        }
        None => {
            assert_eq!(response.status(), StatusCode::OK);
            let seen = response.extensions().get::<Seen>().expect("inner ran");
            // Exactly the bytes sent, verified, in the body and the extension alike.
            assert_eq!(seen.body, body);
            assert_eq!(seen.verified.as_ref(), Some(&body));
            match seen.parsed {
                Ok(()) => Outcome::Called,
                Err(kind) => Outcome::Rejected(kind),
            }
        }
    };
    assert_eq!(outcome, expected, "{}: {input:?}", preset.name);
    outcome == Outcome::Called
}

/// The documented order of checks, from the crate's public pieces.
fn expect<E: WebhookPayload>(
    preset: &super::model::Preset,
    headers: &HeaderMap,
    body: &FuzzBody,
    steps: &[Step],
    limit: usize,
    require_json: bool,
) -> Outcome {
    use Outcome::Rejected;
    if let Err(e) = preset.verifier.precheck(headers) {
        return Rejected(RejectionKind::Verification(e.kind()));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    if declared.max(body.size_hint().lower()) > limit as u64 {
        return Rejected(RejectionKind::BodyTooLarge);
    }
    if require_json && !is_json(headers) {
        return Rejected(RejectionKind::UnsupportedMediaType);
    }
    let mut received = Vec::new();
    for step in steps {
        match step {
            Step::Data(data) => {
                received.extend_from_slice(data);
                if received.len() > limit {
                    return Rejected(RejectionKind::BodyTooLarge);
                }
            }
            Step::Fail => return Rejected(RejectionKind::BodyRead),
        }
    }
    if let Err(e) = preset.verifier.verify(headers, &received) {
        return Rejected(RejectionKind::Verification(e.kind()));
    }
    match E::parse(&Bytes::from(received)) {
        Ok(_) => Outcome::Called,
        Err(e) => Rejected(RejectionKind::Payload(e.kind())),
    }
}

/// `application/json` or `application/*+json`, parameters allowed (as documented).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence
        .split_once('/')
        .is_some_and(|(ty, sub)| ty == "application" && (sub == "json" || sub.ends_with("+json")))
}

async fn inner<E: WebhookPayload>(
    request: Request<VerifiedBody>,
) -> Result<Response<Bytes>, std::convert::Infallible> {
    let verified = request.extensions().get::<VerifiedBytes>();
    let seen = Seen {
        verified: verified.map(|v| v.bytes().clone()),
        parsed: verified.map_or(Err(RejectionKind::MissingLayer), |v| {
            v.parse::<E>().map(drop).map_err(|r| r.kind())
        }),
        body: request.into_body().into_bytes(),
    };
    let mut response = Response::new(Bytes::from_static(b"ok"));
    response.extensions_mut().insert(seen);
    Ok(response)
}

/// Polls `future` to completion on this thread. Everything it waits for (the body's
/// `Pending`) wakes it at once, so a bounded number of polls suffices.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..100_000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("the layer's future made no progress");
}
