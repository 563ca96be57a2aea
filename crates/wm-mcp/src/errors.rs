//! Failures in MCP terms. Tool failures are tool results with `isError: true` whose text is the
//! REST error envelope (same `code`, same `message`, same `details`); resource failures are
//! JSON-RPC errors carrying the same envelope in `data`.

use rmcp::ErrorData;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};
use wm_core::CoreError;
use wm_limits::Decision;
use wm_store::StoreError;

/// Why a tool call or resource read did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The use-case (or authentication) failed.
    Core(CoreError),
    /// The plan's request limit refused it (a denied [`Decision`]).
    RateLimited(Box<Decision>),
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Self::Core(e)
    }
}

impl From<wm_domain::ValidationError> for Failure {
    fn from(e: wm_domain::ValidationError) -> Self {
        Self::Core(e.into())
    }
}

impl Failure {
    /// `{"code": ..., "message": ..., "details"?: ...}`, exactly as in the REST envelope.
    pub fn envelope(&self) -> Value {
        let (code, message, details) = match self {
            Self::Core(e) => {
                log_internal(e);
                let (code, message) = e.code_and_message();
                (code, message, e.details())
            }
            Self::RateLimited(d) => rate_limited(d),
        };
        let mut error = json!({ "code": code, "message": message });
        if let Some(details) = details {
            error["details"] = details;
        }
        error
    }

    /// The HTTP status REST answers for the same failure (for usage metering by status class).
    pub fn status(&self) -> u16 {
        match self {
            Self::RateLimited(_) => 429,
            Self::Core(CoreError::Store(StoreError::Unavailable(_))) => 503,
            Self::Core(CoreError::Store(StoreError::Conflict(_))) => 409,
            Self::Core(CoreError::Store(_)) => 500,
            Self::Core(_) => 400,
        }
    }

    /// A failed tool call: `isError: true`, text `{"error": {...}}`. No structured content, so
    /// a client validating results against the tool's output schema is not confused by it.
    pub fn tool_result(&self) -> CallToolResult {
        let text = json!({ "error": self.envelope() }).to_string();
        CallToolResult::error(vec![ContentBlock::text(text)])
    }

    /// A failed resource request as a JSON-RPC error.
    pub fn protocol_error(&self) -> ErrorData {
        let error = self.envelope();
        let message = error["message"].as_str().unwrap_or_default().to_owned();
        let data = Some(json!({ "error": error }));
        match self {
            Self::Core(CoreError::NotFound(_)) => ErrorData::resource_not_found(message, data),
            Self::Core(CoreError::Validation(_)) => ErrorData::invalid_params(message, data),
            Self::Core(CoreError::Store(_)) => ErrorData::internal_error(message, data),
            _ => ErrorData::invalid_request(message, data),
        }
    }
}

/// The REST 429's code, message and details (see wm-http `limits::rate_limited`).
fn rate_limited(d: &Decision) -> (&'static str, String, Option<Value>) {
    let Some(denial) = d.denial else {
        return ("internal_error", "internal server error".into(), None);
    };
    let limit = denial.limit.as_str();
    let max = d.status(denial.limit).limit;
    let message = format!("{limit} rate limit of {max} requests reached; retry in {} s", denial.retry_after);
    ("rate_limited", message, Some(json!({ "limit": limit, "max": max, "retry_after": denial.retry_after })))
}

/// Storage failures are logged once, here at the boundary; the caller sees only the safe text.
fn log_internal(e: &CoreError) {
    match e {
        CoreError::Store(s @ StoreError::Unavailable(_)) => tracing::error!(error = %s, "storage unavailable"),
        CoreError::Store(StoreError::Conflict(_)) => {}
        CoreError::Store(s) => tracing::error!(error = %s, "storage failure"),
        _ => {}
    }
}
