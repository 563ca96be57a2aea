//! The one error type storage returns.

/// A storage failure. `Conflict` is a uniqueness violation the caller can report as 409;
/// `QuotaExceeded` is a write refused by the [`Quota`](crate::Quota) it was given (the caller
/// knows the plan and reports it); everything else is internal and never shown to clients
/// verbatim.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The write would take the account over its quota; nothing was written.
    #[error("quota exceeded: {} allows {max}, the account holds {current} and the write adds {requested}", .kind.as_str())]
    QuotaExceeded {
        kind: crate::QuotaKind,
        /// The limit.
        max: u64,
        /// What the account held when the write was checked.
        current: u64,
        /// What the write would add.
        requested: u64,
    },
}
