//! The axum extractors: each reads the [`VerifiedBytes`] and rejects with a [`Rejection`].

use std::convert::Infallible;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::{Parsed, VerifiedBytes, WebhookEvent};
use crate::WebhookPayload;
use crate::rejection::Rejection;

/// The verified bytes, or a 500 answered like the layer's refusals.
fn verified(parts: &Parts) -> Result<&VerifiedBytes, Rejection> {
    parts
        .extensions
        .get::<VerifiedBytes>()
        .ok_or_else(|| Rejection::missing_layer("verified webhook bytes").answered_by(parts))
}

impl<S, E> FromRequestParts<S> for WebhookEvent<E>
where
    S: Send + Sync,
    E: WebhookPayload,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Taken, not cloned: a second extractor of the same type parses the bytes.
        let parsed = parts.extensions.remove::<Parsed<E>>();
        let bytes = verified(parts)?;
        if let Some(Parsed(event)) = parsed {
            crate::observe::event_parsed(bytes, &event);
            return Ok(Self(event));
        }
        match bytes.parse() {
            Ok(event) => {
                crate::observe::event_parsed(bytes, &event);
                Ok(Self(event))
            }
            Err(rejection) => Err(rejection.answered_by(parts)),
        }
    }
}

impl<S, E> OptionalFromRequestParts<S> for WebhookEvent<E>
where
    S: Send + Sync,
    E: WebhookPayload,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        let parsed = parts.extensions.remove::<Parsed<E>>();
        let Some(bytes) = parts.extensions.get::<VerifiedBytes>() else {
            return Ok(None);
        };
        if let Some(Parsed(event)) = parsed {
            crate::observe::event_parsed(bytes, &event);
            return Ok(Some(Self(event)));
        }
        match bytes.parse() {
            Ok(event) => {
                crate::observe::event_parsed(bytes, &event);
                Ok(Some(Self(event)))
            }
            Err(rejection) => Err(rejection.answered_by(parts)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for VerifiedBytes {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        verified(parts).cloned()
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for VerifiedBytes {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
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
/// Rejections: 400 when the body is not JSON, 422 when it is JSON of another shape (the
/// log and the [`Rejection`] name the offending field), 500 when the layer is missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifiedJson<T>(pub T);

impl<S, T> FromRequestParts<S> for VerifiedJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let bytes = verified(parts)?;
        parse(bytes)
            .map(Self)
            .map_err(|rejection| rejection.answered_by(parts))
    }
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Rejection> {
    let error = match serde_json::from_slice(bytes) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    if !error.is_data() {
        return Err(Rejection::json(error, String::new()));
    }
    // Failure path only: parse again to name the offending field.
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => {
            let path = e.path().to_string();
            Err(Rejection::json(e.into_inner(), path))
        }
        Ok(_) => Err(Rejection::json(error, String::new())),
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::sync::Arc;

    use axum_core::response::IntoResponse;
    use bytes::Bytes;
    use http::{Request, StatusCode};

    use axum_core::extract::FromRequestParts;
    use http::request::Parts;

    use super::{VerifiedBytes, VerifiedJson, WebhookEvent};
    use crate::extract::RouteContext;
    use crate::rejection::{Rejection, RejectionKind, Responder};
    use crate::{ParseErrorKind, railz};

    fn parts_with(bytes: Option<&'static [u8]>) -> Parts {
        let mut req = Request::new(());
        if let Some(b) = bytes {
            req.extensions_mut().insert(VerifiedBytes::new(
                Bytes::from_static(b),
                Arc::new(RouteContext::standalone(Arc::from("railz"))),
            ));
        }
        req.into_parts().0
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Mine {
        id: u32,
        name: String,
    }

    const AUTH: &[u8] = br#"{"data":{"event":"auth","connectionId":"CON-1"}}"#;

    async fn body_of(response: axum_core::response::Response) -> Vec<u8> {
        use http_body_util::BodyExt;
        response
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes().to_vec())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn the_event_is_parsed_from_the_verified_bytes() {
        let mut parts = parts_with(Some(AUTH));
        let WebhookEvent(event) = WebhookEvent::<railz::Event>::from_request_parts(&mut parts, &())
            .await
            .unwrap();
        assert_eq!(event.tag(), "auth");
        // The bytes stay for other extractors.
        assert!(
            VerifiedBytes::from_request_parts(&mut parts, &())
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn an_event_parsed_before_is_taken_not_parsed_again() {
        use super::Parsed;

        // The event left in the request differs from the bytes': the extractor returns it,
        // so it did not parse the bytes.
        let before =
            railz::Event::from_slice(br#"{"data":{"event":"login"},"requestId":"r"}"#).unwrap();
        let mut parts = parts_with(Some(AUTH));
        parts.extensions.insert(Parsed(before.clone()));
        let WebhookEvent(event) = WebhookEvent::<railz::Event>::from_request_parts(&mut parts, &())
            .await
            .unwrap();
        assert_eq!(event, before);
        assert!(
            parts.extensions.get::<Parsed<railz::Event>>().is_none(),
            "taken"
        );
        // A second extractor parses the bytes.
        let WebhookEvent(again) = WebhookEvent::<railz::Event>::from_request_parts(&mut parts, &())
            .await
            .unwrap();
        assert_eq!(again.tag(), "auth");

        let mut parts = parts_with(Some(AUTH));
        parts.extensions.insert(Parsed(before.clone()));
        let event = Option::<WebhookEvent<railz::Event>>::from_request_parts(&mut parts, &()).await;
        assert_eq!(event.unwrap().map(WebhookEvent::into_inner), Some(before));
        assert!(
            parts.extensions.get::<Parsed<railz::Event>>().is_none(),
            "taken"
        );

        // An event of another type is left alone.
        let mut parts = parts_with(Some(AUTH));
        let rootfi =
            crate::rootfi::Event::from_slice(br#"{"event":"connection.changed","company_id":1}"#)
                .unwrap();
        parts.extensions.insert(Parsed(rootfi));
        let WebhookEvent(event) = WebhookEvent::<railz::Event>::from_request_parts(&mut parts, &())
            .await
            .unwrap();
        assert_eq!(event.tag(), "auth");
        assert!(
            parts
                .extensions
                .get::<Parsed<crate::rootfi::Event>>()
                .is_some()
        );
    }

    #[tokio::test]
    async fn a_malformed_verified_body_is_400_or_422_with_the_parse_error_as_source() {
        let mut parts = parts_with(Some(b"{\"data\":"));
        let rejection = WebhookEvent::<railz::Event>::from_request_parts(&mut parts, &())
            .await
            .unwrap_err();
        assert_eq!(
            rejection.kind(),
            RejectionKind::Payload(ParseErrorKind::Syntax)
        );
        assert!(rejection.parse_error().is_some());
        assert!(rejection.source().is_some());
        assert_eq!(rejection.into_response().status(), StatusCode::BAD_REQUEST);

        let mut parts = parts_with(Some(br#"{"data":7}"#));
        let rejection = WebhookEvent::<railz::Event>::from_request_parts(&mut parts, &())
            .await
            .unwrap_err();
        assert_eq!(
            rejection.into_response().status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }

    #[tokio::test]
    async fn missing_layer_is_500_whose_body_names_no_rust_type() {
        let mut parts = parts_with(None);
        let rejection = WebhookEvent::<railz::Event>::from_request_parts(&mut parts, &())
            .await
            .unwrap_err();
        assert_eq!(rejection.kind(), RejectionKind::MissingLayer);
        let response = rejection.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_of(response).await;
        assert_eq!(body, b"Internal Server Error");
        assert!(
            VerifiedBytes::from_request_parts(&mut parts, &())
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn extractor_rejections_answer_through_the_routes_responder() {
        let mut parts = parts_with(Some(b"not json"));
        parts.extensions.insert(Responder::new(|r: &Rejection| {
            let mut res = http::Response::new(Bytes::from(r.kind().code()));
            *res.status_mut() = r.status();
            res
        }));
        let rejection = VerifiedJson::<Mine>::from_request_parts(&mut parts, &())
            .await
            .unwrap_err();
        let response = rejection.into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(body_of(response).await, b"invalid_json");
    }

    #[tokio::test]
    async fn optional_event_is_none_without_the_layer() {
        let mut parts = parts_with(None);
        let event = Option::<WebhookEvent<railz::Event>>::from_request_parts(&mut parts, &()).await;
        assert!(matches!(event, Ok(None)));
        let mut parts = parts_with(Some(AUTH));
        let event = Option::<WebhookEvent<railz::Event>>::from_request_parts(&mut parts, &()).await;
        assert!(matches!(event, Ok(Some(_))));
    }

    #[tokio::test]
    async fn verified_json_statuses_and_field_path() {
        let body: &[u8] = br#"{"id":7,"name":"n"}"#;
        let mut parts = parts_with(Some(body));
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
        let cases: [(&'static [u8], StatusCode); 3] = [
            (b"not json", StatusCode::BAD_REQUEST),
            (
                br#"{"id":"seven","name":"n"}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (br#"{"id":7"#, StatusCode::BAD_REQUEST),
        ];
        for (body, status) in cases {
            let mut parts = parts_with(Some(body));
            let rejection = VerifiedJson::<Mine>::from_request_parts(&mut parts, &())
                .await
                .unwrap_err();
            assert_eq!(rejection.status(), status, "{rejection}");
            assert!(rejection.source().is_some(), "serde_json error kept");
            assert_eq!(rejection.into_response().status(), status);
        }
        let mut parts = parts_with(Some(br#"{"id":"seven","name":"n"}"#));
        let rejection = VerifiedJson::<Mine>::from_request_parts(&mut parts, &())
            .await
            .unwrap_err();
        assert!(rejection.to_string().contains("id"), "{rejection}");
    }
}
