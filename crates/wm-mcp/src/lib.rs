//! The MCP adapter of WhiteMagic (rmcp): the memory use-cases as MCP tools and resources.
//!
//! No logic of its own: every tool parses its arguments into the same request type as the
//! REST route, calls the same `wm_core` use-case, and reports errors with the same codes and
//! messages ([`wm_core::CoreError::code_and_message`]). Two transports:
//! - stdio ([`serve_stdio`]): `whitemagic mcp`, one local account;
//! - streamable HTTP ([`McpHttp`]): mounted at `/mcp` by wm-http, which authenticates each
//!   request with a bearer API key; each session stays bound to the account that opened it.
//!
//! [`client_config`] renders the snippets that register WhiteMagic with IDE clients.

mod args;
pub mod client_config;
mod errors;
mod handler;
mod http;
mod render;
mod resources;
mod schema;
mod server;
mod stdio;
mod tools;

pub use http::{ForeignSession, McpHttp, SESSION_IDLE};
pub use render::{DeleteOutcome, Deleted};
pub use resources::{MEMORY_TEMPLATE, PAGE as RESOURCE_PAGE};
pub use server::{Caller, WhiteMagicMcp};
pub use stdio::serve_stdio;
