//! The stdio transport: one client (an IDE launching `whitemagic mcp`) for one account.
//! Standard output carries only the protocol; logs go to standard error.

use crate::server::{Caller, WhiteMagicMcp};
use rmcp::ServiceExt;
use wm_core::Core;

/// Serve MCP on standard input/output as `caller` until the client closes the stream.
pub async fn serve_stdio(core: Core, caller: Caller) -> std::io::Result<()> {
    let running = WhiteMagicMcp::new(core, caller)
        .serve(rmcp::transport::stdio_pipes())
        .await
        .map_err(|e| std::io::Error::other(format!("MCP session did not start: {e}")))?;
    let reason = running.waiting().await.map_err(std::io::Error::other)?;
    tracing::debug!(?reason, "MCP stdio session ended");
    Ok(())
}
