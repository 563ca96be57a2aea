//! Extractors whose rejections are `ApiError`s, so bad input always gets the envelope and a
//! clear message: 400 bad JSON, 413 too large, 415 wrong content type, 422 invalid fields.

use crate::error::ApiError;
use crate::state::HttpSettings;
use axum::extract::FromRef;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// `Json<T>` with enveloped rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
    Arc<HttpSettings>: FromRef<S>,
{
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let limit = Arc::<HttpSettings>::from_ref(state).body_limit;
        if declared_length(&req).is_some_and(|n| n > limit as u64) {
            return Err(too_large_after_draining(req, limit).await);
        }
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(r) => Err(json_rejection(r)),
        }
    }
}

fn declared_length(req: &Request) -> Option<u64> {
    req.headers().get(axum::http::header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// Refuse an over-long body, but read (and drop) a bounded amount of it first: closing a socket
/// with unread data makes the kernel send a reset, and the client may then lose the 413.
async fn too_large_after_draining(req: Request, limit: usize) -> ApiError {
    use http_body_util::BodyExt;
    let cap = (limit as u64).saturating_mul(4).max(1 << 20);
    if declared_length(&req).is_some_and(|n| n <= cap) {
        let mut body = req.into_body();
        let mut read = 0u64;
        while read <= cap {
            match body.frame().await {
                Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len() as u64),
                _ => break,
            }
        }
    }
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("request body too large (limit {limit} bytes)"),
    )
}

fn json_rejection(r: JsonRejection) -> ApiError {
    let status = r.status();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        _ => "invalid_json",
    };
    let message = match &r {
        JsonRejection::MissingJsonContentType(_) => "expected 'Content-Type: application/json'".to_owned(),
        JsonRejection::BytesRejection(_) if status == StatusCode::PAYLOAD_TOO_LARGE => {
            "request body too large".to_owned()
        }
        _ => r.body_text(),
    };
    ApiError::new(status, code, message)
}

/// A JSON body that may be absent: an empty body means `T::default()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
    Arc<HttpSettings>: FromRef<S>,
{
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let empty = req.headers().get(axum::http::header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() == b"0")
            || (!req.headers().contains_key(axum::http::header::CONTENT_TYPE)
                && !req.headers().contains_key(axum::http::header::TRANSFER_ENCODING)
                && !req.headers().contains_key(axum::http::header::CONTENT_LENGTH));
        if empty {
            return Ok(Self(T::default()));
        }
        ApiJson::<T>::from_request(req, state).await.map(|ApiJson(v)| Self(v))
    }
}

/// `Query<T>` with enveloped rejections (422).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state).await.map(|q| Self(q.0)).map_err(
            |r: QueryRejection| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", r.body_text()),
        )
    }
}

/// `Path<T>` with enveloped rejections (a malformed id is a 404: no such resource).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state).await.map(|p| Self(p.0)).map_err(
            |r: PathRejection| {
                tracing::debug!(rejection = %r.body_text(), "bad path parameter");
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
            },
        )
    }
}
