//! `ApiError`: the one error type handlers return, and the one envelope every error wears:
//! `{"error":{"code":"snake_case","message":"...","request_id":"..."}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use wm_core::{AuthFailure, CoreError};
use wm_store::StoreError;

/// An error on its way to the client. The body is written by the envelope middleware, which
/// knows the request id; handlers only say status, code, message and optional details.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<serde_json::Value>,
}

/// Carried in the response extensions from `ApiError` to the envelope middleware.
#[derive(Debug, Clone)]
pub(crate) struct ErrorInfo(pub ApiError);

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: None }
    }
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", format!("{field}: {message}"))
            .with_details(serde_json::json!({ "field": field }))
    }
    pub fn unauthorized(f: AuthFailure) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", f.message())
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal server error")
    }

    /// The default error for a bare status produced by the framework (404, 405, 408, 413...).
    pub(crate) fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such route"),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed on this route"),
            StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took too long"),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "request body too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "unsupported content type"),
            StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "service unavailable"),
            s if s.is_server_error() => ("internal_error", "internal server error"),
            _ => ("bad_request", "bad request"),
        };
        Self::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res.extensions_mut().insert(ErrorInfo(self));
        res
    }
}

impl From<CoreError> for ApiError {
    /// Code and message come from [`CoreError::code_and_message`] (shared with the MCP adapter);
    /// only the status is HTTP's own.
    fn from(e: CoreError) -> Self {
        let status = match &e {
            CoreError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            CoreError::NotFound(_) => StatusCode::NOT_FOUND,
            CoreError::Conflict(_) | CoreError::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            CoreError::Forbidden(_)
            | CoreError::Unauthorized(AuthFailure::Suspended)
            | CoreError::PlanLimitReached(_) => StatusCode::FORBIDDEN,
            CoreError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            CoreError::Store(e @ StoreError::Unavailable(_)) => {
                tracing::error!(error = %e, "storage unavailable");
                StatusCode::SERVICE_UNAVAILABLE
            }
            CoreError::Store(e) => {
                tracing::error!(error = %e, "storage failure");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let (code, message) = e.code_and_message();
        let err = Self::new(status, code, message);
        match e.details() {
            Some(details) => err.with_details(details),
            None => err,
        }
    }
}

/// The error envelope (documentation type).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `unauthorized`, `validation_failed`, `not_found`.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// A human sentence.
    pub message: String,
    /// The request's `X-Request-ID`.
    pub request_id: String,
    /// Extra structured context (e.g. `field`), when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ErrorBody {
    pub(crate) fn render(e: &ApiError, request_id: &str) -> Vec<u8> {
        let body = ErrorBody {
            error: ErrorDetail {
                code: e.code.to_owned(),
                message: e.message.clone(),
                request_id: request_id.to_owned(),
                details: e.details.clone(),
            },
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }
}
