//! The one error type storage returns.

/// A storage failure. `Conflict` is a uniqueness violation the caller can report as 409;
/// everything else is internal and never shown to clients verbatim.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}
