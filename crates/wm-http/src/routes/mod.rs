//! Route handlers, grouped by area. Each module's `router()` registers its routes with their
//! OpenAPI descriptions.

pub mod admin;
pub mod docs;
pub mod health;
pub mod user;
