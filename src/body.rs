//! The request body the verifying layer hands to the inner service.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// The buffered, verified request body that
/// [`VerifyWebhook`](crate::layer::VerifyWebhook) passes to the inner service.
///
/// It holds exactly the bytes the signature was checked over (the same [`Bytes`] as the
/// [`VerifiedBytes`](crate::VerifiedBytes) request extension, without a copy) and yields
/// them as a single frame. It satisfies axum's body bounds, so the layer works in
/// `Router::layer` and `Router::route_layer`.
#[derive(Debug, Clone, Default)]
pub struct VerifiedBody {
    data: Option<Bytes>,
}

impl VerifiedBody {
    /// A body that yields `bytes` once.
    #[must_use]
    pub fn new(bytes: Bytes) -> Self {
        Self {
            data: Some(bytes).filter(|b| !b.is_empty()),
        }
    }

    /// The bytes not yet yielded (all of them until the body is polled).
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        self.data.unwrap_or_default()
    }
}

impl From<Bytes> for VerifiedBody {
    fn from(bytes: Bytes) -> Self {
        Self::new(bytes)
    }
}

impl Body for VerifiedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(self.get_mut().data.take().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |b| b.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn yields_the_bytes_once_with_an_exact_size_hint() {
        let body = VerifiedBody::new(Bytes::from_static(b"{\"a\":1}"));
        assert_eq!(body.size_hint().exact(), Some(7));
        assert!(!body.is_end_stream());
        let collected = body.collect().await.map(|c| c.to_bytes());
        assert_eq!(collected.ok().as_deref(), Some(&b"{\"a\":1}"[..]));
    }

    #[test]
    fn empty_body_is_at_end() {
        let body = VerifiedBody::new(Bytes::new());
        assert!(body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(0));
        assert!(body.into_bytes().is_empty());
    }
}
