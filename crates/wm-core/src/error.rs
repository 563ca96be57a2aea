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
}

pub type CoreResult<T> = Result<T, CoreError>;
