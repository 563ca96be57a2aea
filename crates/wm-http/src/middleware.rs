//! Cross-cutting middleware: request ids and the error envelope.

use crate::error::{ApiError, ErrorBody, ErrorInfo};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The request id of the current request (also in the `x-request-id` header).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

const REQUEST_ID: &str = "x-request-id";

fn valid_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| s.to_owned())
}

/// Outermost layer: give every request an id (echoing a valid incoming one), put it on the
/// response, dress every error response in the envelope, and set the security headers and
/// `Cache-Control: no-store` (always on health routes; elsewhere unless the handler chose).
pub async fn request_context(mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let no_store = path == "/health" || path.starts_with("/health/") || path == "/version" || path == "/metrics";
    let id =
        req.headers().get(REQUEST_ID).and_then(valid_request_id).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let hv = HeaderValue::from_str(&id).expect("request id is header-safe");
    req.headers_mut().insert(REQUEST_ID, hv.clone());
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.run(req).await;
    let is_error = res.status().is_client_error() || res.status().is_server_error();
    if is_error && (res.extensions().get::<ErrorInfo>().is_some() || !is_json(&res)) {
        res = envelope(res, &id);
    }
    let headers = res.headers_mut();
    headers.insert(REQUEST_ID, hv);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if no_store || !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// A handler's own JSON answer (e.g. `/health` when unhealthy) is left as it is.
fn is_json(res: &Response) -> bool {
    res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

fn envelope(res: Response, request_id: &str) -> Response {
    let (mut parts, body) = res.into_parts();
    let err = match parts.extensions.remove::<ErrorInfo>() {
        Some(ErrorInfo(e)) => e,
        None => ApiError::from_status(parts.status),
    };
    if parts.status.is_server_error() && err.code == "internal_error" {
        tracing::error!(status = parts.status.as_u16(), "request failed");
    }
    drop(body);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(ErrorBody::render(&err, request_id)))
}

/// Turns a caught panic into a plain 500 (the envelope is added outside), logged once.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    let mut res = Response::new(Body::empty());
    *res.status_mut() = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
    res
}
