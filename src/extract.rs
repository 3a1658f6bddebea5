//! What the verifying layer leaves in the request, and (feature `axum`) the extractors that
//! read it.
//!
//! After a request passes [`VerifyWebhookLayer`](crate::layer::VerifyWebhookLayer), its
//! extensions hold a [`WebhookEvent<E>`] (the parsed event) and a
//! [`VerifiedBytes`](crate::VerifiedBytes) (the exact bytes that were verified). Plain hyper or tower services read
//! them with `req.extensions()`; axum handlers take them as extractors:
//!
//! | extractor | gives | on failure |
//! |---|---|---|
//! | [`WebhookEvent<E>`] | the event the layer parsed | 500 if the layer is missing or parses another type |
//! | [`VerifiedBytes`](crate::VerifiedBytes) | the verified raw body | 500 if the layer is missing |
//! | `VerifiedJson<T>` | your own `T: DeserializeOwned` from the verified body | 400 not JSON, 422 wrong shape, 500 layer missing |
//!
//! None of them reads the body: they can be combined with each other in one handler.
#![cfg_attr(
    feature = "axum",
    doc = r#"
```
use axum::{Router, routing::post};
use ledgerhook::{extract::{VerifiedJson, WebhookEvent}, layer::VerifyWebhookLayer, railz};

#[derive(serde::Deserialize)]
struct Envelope {
    #[serde(rename = "requestId")]
    request_id: Option<String>,
}

async fn on_railz(
    WebhookEvent(event): WebhookEvent<railz::Event>,
    VerifiedJson(envelope): VerifiedJson<Envelope>,
) -> String {
    format!("{} {:?}", event.tag(), envelope.request_id)
}

# fn app() -> Result<Router, ledgerhook::ConfigError> {
let app = Router::new()
    .route("/webhooks/railz", post(on_railz))
    .route_layer(VerifyWebhookLayer::railz("whsec")?);
# Ok(app) }
```
"#
)]

use std::ops::{Deref, DerefMut};

/// A verified, parsed webhook event of type `E`.
///
/// [`VerifyWebhook`](crate::layer::VerifyWebhook) inserts it into the request extensions.
/// With the `axum` feature it is an extractor (`WebhookEvent<E>` and
/// `Option<WebhookEvent<E>>`) that takes the event out of the extensions without copying
/// it, so it can be extracted once per request.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent<E>(pub E);

impl<E> WebhookEvent<E> {
    /// The event.
    pub fn into_inner(self) -> E {
        self.0
    }
}

impl<E> Deref for WebhookEvent<E> {
    type Target = E;

    fn deref(&self) -> &E {
        &self.0
    }
}

impl<E> DerefMut for WebhookEvent<E> {
    fn deref_mut(&mut self) -> &mut E {
        &mut self.0
    }
}

#[cfg(feature = "axum")]
pub use self::axum_impls::VerifiedJson;

#[cfg(feature = "axum")]
mod axum_impls {
    use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
    use http::request::Parts;
    use serde::de::DeserializeOwned;

    use super::WebhookEvent;
    use crate::VerifiedBytes;
    use crate::rejection::{
        JsonDataError, JsonSyntaxError, MissingVerifyWebhookLayer, VerifiedJsonRejection,
    };

    fn missing(what: &'static str) -> MissingVerifyWebhookLayer {
        MissingVerifyWebhookLayer { what }
    }

    impl<S, E> FromRequestParts<S> for WebhookEvent<E>
    where
        S: Send + Sync,
        E: Send + Sync + 'static,
    {
        type Rejection = MissingVerifyWebhookLayer;

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
            // Moved out, not cloned: events with many records are large.
            parts
                .extensions
                .remove::<Self>()
                .ok_or_else(|| missing(std::any::type_name::<E>()))
        }
    }

    impl<S, E> OptionalFromRequestParts<S> for WebhookEvent<E>
    where
        S: Send + Sync,
        E: Send + Sync + 'static,
    {
        type Rejection = std::convert::Infallible;

        async fn from_request_parts(
            parts: &mut Parts,
            _: &S,
        ) -> Result<Option<Self>, Self::Rejection> {
            Ok(parts.extensions.remove::<Self>())
        }
    }

    impl<S: Send + Sync> FromRequestParts<S> for VerifiedBytes {
        type Rejection = MissingVerifyWebhookLayer;

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
            // `Bytes` clones share the buffer.
            parts
                .extensions
                .get::<Self>()
                .cloned()
                .ok_or_else(|| missing("body bytes"))
        }
    }

    impl<S: Send + Sync> OptionalFromRequestParts<S> for VerifiedBytes {
        type Rejection = std::convert::Infallible;

        async fn from_request_parts(
            parts: &mut Parts,
            _: &S,
        ) -> Result<Option<Self>, Self::Rejection> {
            Ok(parts.extensions.get::<Self>().cloned())
        }
    }

    /// Your own type `T`, deserialized from the verified body.
    ///
    /// Reads the [`VerifiedBytes`] left by
    /// [`VerifyWebhookLayer`](crate::layer::VerifyWebhookLayer), so it only ever sees bytes
    /// whose signature was checked, and can be combined with [`WebhookEvent`]. The content
    /// type is not checked (see
    /// [`require_json_content_type`](crate::layer::VerifyWebhookLayer::require_json_content_type)).
    ///
    /// Rejections: 400 when the body is not JSON, 422 when it is JSON of another shape (with
    /// the path of the offending field), 500 when the layer is missing.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct VerifiedJson<T>(pub T);

    impl<S, T> FromRequestParts<S> for VerifiedJson<T>
    where
        S: Send + Sync,
        T: DeserializeOwned,
    {
        type Rejection = VerifiedJsonRejection;

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
            let bytes = parts
                .extensions
                .get::<VerifiedBytes>()
                .ok_or_else(|| missing("body bytes"))?;
            parse(bytes).map(Self)
        }
    }

    fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, VerifiedJsonRejection> {
        let error = match serde_json::from_slice(bytes) {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        if !error.is_data() {
            return Err(JsonSyntaxError {
                message: error.to_string(),
            }
            .into());
        }
        // Failure path only: parse again to name the offending field.
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let message = match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Err(e) => e.to_string(),
            Ok(_) => error.to_string(),
        };
        Err(JsonDataError { message }.into())
    }
}

#[cfg(all(test, feature = "axum"))]
mod tests {
    use axum_core::extract::FromRequestParts;
    use axum_core::response::IntoResponse;
    use bytes::Bytes;
    use http::{Request, StatusCode};

    use super::*;
    use crate::VerifiedBytes;

    fn parts_with(
        bytes: Option<&'static [u8]>,
        event: Option<&'static str>,
    ) -> http::request::Parts {
        let mut req = Request::new(());
        if let Some(b) = bytes {
            req.extensions_mut()
                .insert(VerifiedBytes(Bytes::from_static(b)));
        }
        if let Some(e) = event {
            req.extensions_mut().insert(WebhookEvent(e.to_owned()));
        }
        req.into_parts().0
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Mine {
        id: u32,
        name: String,
    }

    #[tokio::test]
    async fn event_is_taken_from_the_extensions() {
        let mut parts = parts_with(None, Some("auth"));
        let WebhookEvent(event) = WebhookEvent::<String>::from_request_parts(&mut parts, &())
            .await
            .map_err(|r| r.body_text())
            .unwrap();
        assert_eq!(event, "auth");
    }

    #[tokio::test]
    async fn missing_layer_is_500_naming_the_layer() {
        let mut parts = parts_with(None, None);
        let rejection = WebhookEvent::<String>::from_request_parts(&mut parts, &())
            .await
            .unwrap_err();
        assert_eq!(rejection.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            rejection
                .body_text()
                .contains("VerifyWebhookLayer not installed")
        );
        assert_eq!(
            rejection.into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );

        // An event of another type counts as missing too.
        let mut parts = parts_with(None, Some("auth"));
        assert!(
            WebhookEvent::<u32>::from_request_parts(&mut parts, &())
                .await
                .is_err()
        );
        assert!(
            VerifiedBytes::from_request_parts(&mut parts, &())
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn optional_event_is_none_without_the_layer() {
        let mut parts = parts_with(None, None);
        let event = Option::<WebhookEvent<String>>::from_request_parts(&mut parts, &()).await;
        assert_eq!(event, Ok(None));
        let mut parts = parts_with(None, Some("x"));
        let event = Option::<WebhookEvent<String>>::from_request_parts(&mut parts, &()).await;
        assert_eq!(event, Ok(Some(WebhookEvent("x".to_owned()))));
    }

    #[tokio::test]
    async fn verified_bytes_and_json() {
        let body: &[u8] = br#"{"id":7,"name":"n"}"#;
        let mut parts = parts_with(Some(body), None);
        let bytes = VerifiedBytes::from_request_parts(&mut parts, &())
            .await
            .unwrap();
        assert_eq!(&bytes[..], body);
        let VerifiedJson(mine) = VerifiedJson::<Mine>::from_request_parts(&mut parts, &())
            .await
            .unwrap();
        assert_eq!(
            mine,
            Mine {
                id: 7,
                name: "n".into()
            }
        );
    }

    #[tokio::test]
    async fn verified_json_statuses() {
        let cases: [(&[u8], StatusCode); 3] = [
            (b"not json", StatusCode::BAD_REQUEST),
            (
                br#"{"id":"seven","name":"n"}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (br#"{"id":7"#, StatusCode::BAD_REQUEST),
        ];
        for (body, status) in cases {
            let mut parts = parts_with(Some(body), None);
            let rejection = VerifiedJson::<Mine>::from_request_parts(&mut parts, &())
                .await
                .unwrap_err();
            assert_eq!(rejection.status(), status, "{}", rejection.body_text());
            assert_eq!(rejection.into_response().status(), status);
        }
        // The 422 message names the offending field.
        let mut parts = parts_with(Some(br#"{"id":"seven","name":"n"}"#), None);
        let rejection = VerifiedJson::<Mine>::from_request_parts(&mut parts, &())
            .await
            .unwrap_err();
        assert!(
            rejection.body_text().contains("id"),
            "{}",
            rejection.body_text()
        );

        let mut parts = parts_with(None, None);
        let rejection = VerifiedJson::<Mine>::from_request_parts(&mut parts, &())
            .await
            .unwrap_err();
        assert_eq!(rejection.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
