//! PostgreSQL backend: the production source of truth; tsvector + GIN for search.

mod accounts;
mod backend;
mod billing;
mod memories;
mod plans;
mod rows;

pub use backend::PostgresStore;
