//! `/mcp`: the MCP streamable HTTP endpoint ([`wm_mcp::McpHttp`]) behind the API's key
//! authentication. A missing or bad key gets 401 in the usual error envelope before any MCP
//! processing; a request on a session another account opened gets 403. Tool calls are
//! admitted and metered one by one inside the MCP server (not here), like REST requests.
//!
//! `POST` carries JSON-RPC messages and `DELETE` ends a session. `GET` (a server-to-client
//! event stream) is not offered — this server never sends unsolicited messages — so it gets
//! 405, as the transport allows, and no idle stream can hold up a graceful shutdown.

use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::post;
use wm_mcp::{ForeignSession, McpHttp};

/// The `/mcp` route over the state's use-cases.
pub fn router(state: &AppState) -> Router<AppState> {
    let mcp = McpHttp::new(state.core.clone(), state.settings.body_limit);
    let serve = move |Auth(_who): Auth, req: Request| {
        let mcp = mcp.clone();
        async move { handle(&mcp, req).await }
    };
    Router::new().route("/mcp", post(serve.clone()).delete(serve))
}

/// `Auth` has put the principal in the request's extensions; the MCP server reads it there.
async fn handle(mcp: &McpHttp, req: Request) -> Result<Response, ApiError> {
    let res = mcp.serve(req).await.map_err(|ForeignSession| ApiError::forbidden(ForeignSession::MESSAGE))?;
    Ok(res.map(Body::new))
}
