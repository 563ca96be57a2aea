//! SQLite backend: one file, WAL mode, FTS5 for search. Timestamps are stored as unix microseconds.

mod accounts;
mod backend;
mod billing;
mod memories;
mod plans;
mod rows;

pub use backend::SqliteStore;
