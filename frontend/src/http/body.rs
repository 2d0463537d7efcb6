//! Request bodies under `server.max_request_bytes`: a larger one is refused with 413 and a JSON
//! error naming the limit, before any of it is parsed.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The limit, as the router's layer put it on every request.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A whole request body within [`BodyLimit`].
pub struct LimitedBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for LimitedBody {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = request.extensions().get::<BodyLimit>().copied();
        Bytes::from_request(request, state)
            .await
            .map(LimitedBody)
            .map_err(|rejection| {
                let status = rejection.status();
                let (code, message) = match limit {
                    Some(BodyLimit(limit)) if status == StatusCode::PAYLOAD_TOO_LARGE => (
                        "REQUEST_TOO_LARGE",
                        format!(
                            "the request body is over the limit of {limit} bytes \
                             (server.max_request_bytes)"
                        ),
                    ),
                    _ => ("MALFORMED_REQUEST", rejection.body_text()),
                };
                super::error(status, code, message).into_response()
            })
    }
}
