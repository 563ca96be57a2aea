//! The storage backends a test can run on.

use crate::{fresh_postgres_url, fresh_sqlite_url};

/// Which storage backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

impl Backend {
    /// URL of a brand-new, empty database of this backend.
    pub async fn fresh_url(self) -> String {
        match self {
            Backend::Sqlite => fresh_sqlite_url(),
            Backend::Postgres => fresh_postgres_url().await,
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}
