//! Opt-in explanations, in the log, of deliveries whose signature failed verification
//! (see [`VerifyWebhookLayer::explain_failures`](super::VerifyWebhookLayer::explain_failures)).
//!
//! [`Verifier::explain`] tries a few hundred HMACs, and anyone can send a forged delivery:
//! at most one explanation runs per interval, so a flood of forgeries costs one explanation
//! per interval and not one per request. The findings go to the log only, never to the
//! caller, and never contain a secret.

use std::sync::Mutex;
use std::time::Duration;

use http::request::Parts;
use tokio::time::Instant;

use crate::Verifier;

/// When the last explanation ran, shared by a layer, its clones and every service built
/// from them.
#[derive(Debug)]
pub(super) struct FailureExplainer {
    interval: Duration,
    // Without `tracing` nothing is logged, so nothing is claimed.
    #[cfg_attr(not(all(feature = "tracing", feature = "explain")), allow(dead_code))]
    last: Mutex<Option<Instant>>,
}

impl FailureExplainer {
    pub(super) fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: Mutex::new(None),
        }
    }

    /// Whether an explanation may run now; if so, the interval starts again.
    #[cfg_attr(not(all(feature = "tracing", feature = "explain")), allow(dead_code))]
    fn claim(&self) -> bool {
        // Contended: another failing delivery is claiming this very moment, let it.
        let Ok(mut last) = self.last.try_lock() else {
            return false;
        };
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < self.interval) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Logs at WARN (target `ledgerhook`) why `verifier` refused this delivery, unless one
    /// was explained less than the interval ago or the log would drop the line anyway.
    pub(super) fn explain(&self, verifier: &Verifier, provider: &str, parts: &Parts, body: &[u8]) {
        #[cfg(all(feature = "tracing", feature = "explain"))]
        {
            if !tracing::enabled!(target: "ledgerhook", tracing::Level::WARN) || !self.claim() {
                return;
            }
            let explanation = verifier.explain(&parts.headers, body);
            let Some(error) = explanation.error() else {
                // The keys changed since the verification: nothing left to explain.
                return;
            };
            let findings = explanation
                .findings()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            tracing::warn!(
                target: "ledgerhook", provider, path = parts.uri.path(), code = error.kind().code(),
                reason = %error, findings = %findings,
                "webhook signature failure explained (at most one every {:?})",
                self.interval,
            );
        }
        #[cfg(not(all(feature = "tracing", feature = "explain")))]
        let _ = (self.interval, verifier, provider, parts, body);
    }
}

#[cfg(all(test, feature = "tracing", feature = "explain"))]
mod tests {
    use std::convert::Infallible;
    use std::sync::Arc;
    use std::time::SystemTime;

    use bytes::Bytes;
    use http::{Request, Response, StatusCode};
    use http_body_util::Full;
    use tower::{Service, ServiceBuilder, ServiceExt};

    use super::*;
    use crate::body::VerifiedBody;
    use crate::layer::VerifyWebhookLayer;

    const SECRET: &str = "railz-explain-test-secret";
    const BODY: &[u8] = br#"{"data":{"event":"auth","connectionId":"CON-1"}}"#;
    const EXPLAINED: &str = "webhook signature failure explained";

    /// Collects formatted `tracing` output.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (captured, guard)
    }

    /// Sends deliveries signed with the trimmed secret to a layer configured with the
    /// secret and a trailing newline: each fails verification after buffering.
    async fn send_misconfigured(layer: VerifyWebhookLayer, deliveries: usize) {
        let signer = Verifier::railz(SECRET).unwrap();
        let mut svc =
            ServiceBuilder::new()
                .layer(layer)
                .service_fn(|_: Request<VerifiedBody>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
                });
        for _ in 0..deliveries {
            // Another test's thread may register a callsite while no subscriber is
            // installed, caching "never" (a tracing-core race): rebuild before each.
            tracing::callsite::rebuild_interest_cache();
            let mut request = Request::post("/webhooks/railz")
                .body(Full::new(Bytes::from_static(BODY)))
                .unwrap();
            *request.headers_mut() = signer.sign(BODY, SystemTime::now());
            let response = ServiceExt::<Request<Full<Bytes>>>::ready(&mut svc)
                .await
                .unwrap()
                .call(request)
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
    }

    fn misconfigured_layer() -> VerifyWebhookLayer {
        VerifyWebhookLayer::railz(format!("{SECRET}\n")).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn one_explanation_per_interval() {
        let (captured, _guard) = capture();
        let layer = misconfigured_layer().explain_failures(Duration::from_secs(60));

        send_misconfigured(layer.clone(), 2).await;
        let log = captured.text();
        assert_eq!(log.matches(EXPLAINED).count(), 1, "{log}");
        assert!(log.contains("WARN ledgerhook:"), "{log}");
        assert!(log.contains("code=\"signature_mismatch\""), "{log}");
        assert!(
            log.contains("the configured secret has surrounding whitespace"),
            "{log}"
        );
        assert!(log.contains("provider=\"railz\""), "{log}");
        assert!(!log.contains(SECRET), "never the secret: {log}");

        // Still inside the interval, through a clone of the layer: no second one.
        tokio::time::advance(Duration::from_secs(59)).await;
        send_misconfigured(layer.clone(), 1).await;
        assert_eq!(captured.text().matches(EXPLAINED).count(), 1);

        tokio::time::advance(Duration::from_secs(1)).await;
        send_misconfigured(layer, 3).await;
        let log = captured.text();
        assert_eq!(log.matches(EXPLAINED).count(), 2, "{log}");
    }

    #[tokio::test(start_paused = true)]
    async fn off_by_default() {
        let (captured, _guard) = capture();
        send_misconfigured(misconfigured_layer(), 3).await;
        let log = captured.text();
        // The refusal itself is logged, so the subscriber saw the layer's events.
        assert!(log.contains("webhook rejected"), "{log}");
        assert_eq!(log.matches(EXPLAINED).count(), 0, "{log}");
    }

    #[test]
    fn claims_at_most_one_per_interval() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let explainer = FailureExplainer::new(Duration::from_secs(10));
            assert!(explainer.claim());
            assert!(!explainer.claim());
            tokio::time::advance(Duration::from_secs(10)).await;
            assert!(explainer.claim());
            assert!(!explainer.claim());
        });
    }
}
