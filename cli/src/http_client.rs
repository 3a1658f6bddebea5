//! The HTTP/1 client `send` posts with: plain HTTP, or HTTPS through rustls with the
//! system's root certificates.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::failure::Failure;

/// The largest answer read.
const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// Sends `request` and reads the whole answer.
pub(crate) async fn send(request: Request<Full<Bytes>>) -> Result<Response<Bytes>, Failure> {
    let target = request.uri().to_string();
    let https = request.uri().scheme_str() == Some("https");
    let fail = |e: &dyn std::fmt::Display| Failure::io(format!("POST {target}: {e}"));
    let response = if https {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| fail(&e))?
            .https_only()
            .enable_http1()
            .build();
        Client::builder(TokioExecutor::new())
            .build(connector)
            .request(request)
            .await
            .map_err(|e| fail(&e))?
    } else {
        Client::builder(TokioExecutor::new())
            .build_http()
            .request(request)
            .await
            .map_err(|e| fail(&e))?
    };
    let (parts, body) = response.into_parts();
    let body = Limited::new(body, MAX_RESPONSE)
        .collect()
        .await
        .map_err(|e| fail(&e))?
        .to_bytes();
    Ok(Response::from_parts(parts, body))
}
