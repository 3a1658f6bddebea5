//! The per-delivery `tracing` span (nothing without the `tracing` feature).

/// Longest `requestId` recorded into a span: Railz ids are far shorter, and a verified
/// sender still should not fill log lines.
#[cfg(all(feature = "tracing", feature = "axum"))]
const MAX_REQUEST_ID_CHARS: usize = 64;

/// The span of one delivery: `webhook{provider, event, request_id, dedup, outcome}`.
#[derive(Debug)]
pub(crate) struct DeliverySpan {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

/// The span entered (nothing without the `tracing` feature).
pub(crate) struct Entered<'a> {
    #[cfg(feature = "tracing")]
    _entered: tracing::span::Entered<'a>,
    #[cfg(not(feature = "tracing"))]
    _span: std::marker::PhantomData<&'a ()>,
}

impl DeliverySpan {
    pub(crate) fn new(provider: &str) -> Self {
        let _ = provider;
        Self {
            #[cfg(feature = "tracing")]
            span: tracing::info_span!(
                target: "ledgerhook",
                "webhook",
                provider,
                event = tracing::field::Empty,
                request_id = tracing::field::Empty,
                dedup = tracing::field::Empty,
                outcome = tracing::field::Empty,
            ),
        }
    }

    /// Enters the span until the guard is dropped.
    pub(crate) fn enter(&self) -> Entered<'_> {
        Entered {
            #[cfg(feature = "tracing")]
            _entered: self.span.enter(),
            #[cfg(not(feature = "tracing"))]
            _span: std::marker::PhantomData,
        }
    }

    /// Whether a subscriber records this span.
    pub(crate) fn is_enabled(&self) -> bool {
        #[cfg(feature = "tracing")]
        return !self.span.is_disabled();
        #[cfg(not(feature = "tracing"))]
        false
    }

    pub(crate) fn record_outcome(&self, outcome: &'static str) {
        let _ = outcome;
        #[cfg(feature = "tracing")]
        self.span.record("outcome", outcome);
    }
}

/// Records the event's tag, and its `requestId` (read only if the span is enabled), into
/// the current span: the delivery's, when called behind the verifying layer.
#[cfg(all(feature = "axum", any(feature = "metrics", feature = "tracing")))]
pub(crate) fn record_event<'e>(tag: &'static str, request_id: impl FnOnce() -> Option<&'e str>) {
    #[cfg(feature = "tracing")]
    {
        let span = tracing::Span::current();
        if span.is_disabled() {
            return;
        }
        span.record("event", tag);
        if let Some(id) = request_id() {
            span.record("request_id", sanitized(id).as_str());
        }
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (tag, request_id);
}

/// The idempotency layer's outcome code, into the current span.
#[cfg(feature = "idempotency")]
pub(crate) fn record_dedup(code: &'static str) {
    let _ = code;
    #[cfg(feature = "tracing")]
    tracing::Span::current().record("dedup", code);
}

/// At most [`MAX_REQUEST_ID_CHARS`] characters, anything but visible ASCII replaced by
/// `?`: the id is signed by the provider but chosen by whoever triggered the event.
#[cfg(all(feature = "tracing", feature = "axum"))]
fn sanitized(id: &str) -> String {
    id.chars()
        .take(MAX_REQUEST_ID_CHARS)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

#[cfg(all(test, feature = "tracing", feature = "axum"))]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_truncated_and_printable() {
        assert_eq!(sanitized("req-1"), "req-1");
        assert_eq!(sanitized("a\nb\u{1b}[31mc é"), "a?b?[31mc??");
        assert_eq!(sanitized(&"x".repeat(500)).len(), MAX_REQUEST_ID_CHARS);
    }
}
