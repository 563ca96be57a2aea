//! Cross-cutting middleware: request ids, the request span, request metrics, the error
//! envelope and the response headers every answer carries.
//!
//! One hand-written tower service instead of several `from_fn` layers: it runs on every
//! request, and each `from_fn` layer costs a clone of the service below it and two boxes.

use crate::error::{ApiError, ErrorBody, ErrorInfo};
use crate::metrics::RequestMetrics;
use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;
use tower::{Layer, Service};
use tracing::Instrument;

const REQUEST_ID: &str = "x-request-id";

/// The outermost layer of every route (and of the 404/405 fallbacks): give every request an id
/// (echoing a valid incoming one), run it in a `request` span, count and time it, dress every
/// error response in the envelope, and set the security headers and `Cache-Control: no-store`
/// (always on health routes; elsewhere unless the handler chose).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestContextLayer;

impl<S> Layer<S> for RequestContextLayer {
    type Service = RequestContext<S>;
    fn layer(&self, inner: S) -> RequestContext<S> {
        RequestContext { inner }
    }
}

/// See [`RequestContextLayer`].
#[derive(Debug, Clone)]
pub struct RequestContext<S> {
    inner: S,
}

impl<S, B> Service<Request> for RequestContext<S>
where
    S: Service<Request, Response = Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let start = Instant::now();
        let path = req.uri().path();
        let no_store = path == "/health" || path.starts_with("/health/") || path == "/version" || path == "/metrics";
        let id = match req.headers().get(REQUEST_ID).filter(|v| valid_request_id(v)) {
            Some(v) => v.clone(),
            None => new_request_id(),
        };
        let span = tracing::info_span!("request", method = %req.method(), path = %path,
            request.id = id.to_str().unwrap_or_default(), user.id = tracing::field::Empty);
        let metrics = RequestMetrics::new(req.method(), req.extensions().get::<MatchedPath>());
        req.headers_mut().insert(REQUEST_ID, id.clone());
        let future = span.in_scope(|| self.inner.call(req)).instrument(span);
        Box::pin(async move {
            let Ok(res) = future.await;
            let mut res = res.map(Body::new);
            metrics.record(res.status(), start);
            let is_error = res.status().is_client_error() || res.status().is_server_error();
            if is_error && (res.extensions().get::<ErrorInfo>().is_some() || !is_json(&res)) {
                res = envelope(res, id.to_str().unwrap_or_default());
            }
            tracing::debug!(
                status = res.status().as_u16(),
                latency_us = start.elapsed().as_micros() as u64,
                "request finished"
            );
            let headers = res.headers_mut();
            headers.insert(REQUEST_ID, id);
            headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            if no_store || !headers.contains_key(header::CACHE_CONTROL) {
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            Ok(res)
        })
    }
}

/// 1–128 characters of `[A-Za-z0-9-_.:]`.
fn valid_request_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty() && b.len() <= 128 && b.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
}

/// A fresh UUIDv7, hyphenated.
fn new_request_id() -> HeaderValue {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let id = uuid::Uuid::now_v7().hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(id).expect("a UUID is header-safe")
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
