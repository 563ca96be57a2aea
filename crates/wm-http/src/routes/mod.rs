//! Route handlers, grouped by area. Each module's `router()` registers its routes with their
//! OpenAPI descriptions.

pub mod admin;
pub mod billing;
pub mod docs;
pub mod health;
pub mod mcp;
pub mod memories;
pub mod memories_io;
pub mod memory_ops;
pub mod memory_query;
pub mod plans;
pub mod user;
