//! The error every use-case returns; the adapters map it onto their protocol.

use wm_domain::ValidationError;
use wm_store::StoreError;

/// Why a key did not authenticate. All of these are answered the same way (401) except `Suspended`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    Unknown,
    Expired,
    Revoked,
    Suspended,
}

impl AuthFailure {
    /// A sentence safe to show the caller.
    pub fn message(self) -> &'static str {
        match self {
            Self::Missing => "missing API key: send 'Authorization: Bearer <key>'",
            Self::Malformed => "malformed API key",
            Self::Unknown => "unknown API key",
            Self::Expired => "this API key has expired",
            Self::Revoked => "this API key has been revoked",
            Self::Suspended => "this account is suspended",
        }
    }
}

/// A use-case failure.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{0}")]
    Validation(#[from] ValidationError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{}", .0.message())]
    Unauthorized(AuthFailure),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// A write would exceed the plan's memory-count or storage quota (403 `plan_limit_reached`).
    #[error("{}", .0.message())]
    PlanLimitReached(crate::limits::QuotaExceeded),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    /// The stable snake_case code and the caller-safe message of this error: what every
    /// adapter shows (the REST error envelope, MCP tool errors), so both say the same thing.
    /// Storage failures never reveal their internal text.
    pub fn code_and_message(&self) -> (&'static str, String) {
        match self {
            Self::Validation(v) => ("validation_failed", format!("{}: {}", v.field, v.message)),
            Self::NotFound(what) => ("not_found", format!("{what} not found")),
            Self::Conflict(m) => ("conflict", m.clone()),
            Self::Forbidden(m) => ("forbidden", m.clone()),
            Self::Unauthorized(AuthFailure::Suspended) => {
                ("account_suspended", AuthFailure::Suspended.message().into())
            }
            Self::Unauthorized(f) => ("unauthorized", f.message().into()),
            Self::Store(StoreError::Conflict(_)) => ("conflict", "this conflicts with existing data".into()),
            Self::Store(StoreError::Unavailable(_)) => ("unavailable", "storage is unavailable; try again".into()),
            Self::Store(_) => ("internal_error", "internal server error".into()),
            Self::PlanLimitReached(q) => ("plan_limit_reached", q.message()),
        }
    }

    /// Structured context shown next to the message (the envelope's `details`), when any:
    /// the offending `field` of a validation error, the quota of `plan_limit_reached`.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            Self::Validation(v) => Some(serde_json::json!({ "field": v.field })),
            Self::PlanLimitReached(q) => Some(q.details()),
            _ => None,
        }
    }
}
