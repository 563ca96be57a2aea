//! Streamable HTTP: the rmcp service behind `/mcp`, with each session bound to one account.
//!
//! The HTTP layer (wm-http) authenticates every request first (`Authorization: Bearer <key>`,
//! 401 in the API's error envelope otherwise) and puts the `Arc<Principal>` in the request's
//! extensions; this module then refuses a request that carries a session id opened by another
//! account, and hands the rest to rmcp. The session is also bound inside the handler at
//! `initialize`, so a tool call can never run as anyone but the session's account.

use crate::server::{Caller, WhiteMagicMcp};
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::convert::Infallible;
use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;
use wm_core::Core;
use wm_domain::account::Principal;
use wm_domain::ids::UserId;

/// How long an idle session lives (an IDE may stay quiet for a long time between calls).
pub const SESSION_IDLE: Duration = Duration::from_secs(60 * 60);
/// Most sessions whose owner is remembered.
const MAX_SESSIONS: u64 = 100_000;
/// The session header.
const SESSION_HEADER: &str = "mcp-session-id";

/// A request on a session another account opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignSession;

impl ForeignSession {
    /// The sentence to show the caller.
    pub const MESSAGE: &'static str = "this MCP session belongs to another account";
}

/// The `/mcp` endpoint: an rmcp streamable HTTP service plus the owner of every session.
#[derive(Clone)]
pub struct McpHttp {
    service: StreamableHttpService<WhiteMagicMcp, LocalSessionManager>,
    owners: moka::sync::Cache<String, UserId>,
}

impl McpHttp {
    /// The service over `core`; request bodies above `max_body_bytes` get 413.
    pub fn new(core: Core, max_body_bytes: usize) -> Self {
        let mut sessions = LocalSessionManager::default();
        sessions.session_config.keep_alive = Some(SESSION_IDLE);
        // Callers authenticate with a bearer key (no ambient cookies), so the DNS-rebinding
        // guard's Host allow-list (loopback only by default) would only break real deployments.
        let config =
            StreamableHttpServerConfig::default().disable_allowed_hosts().with_max_request_body_bytes(max_body_bytes);
        let service = StreamableHttpService::new(
            move || Ok(WhiteMagicMcp::new(core.clone(), Caller::Http)),
            Arc::new(sessions),
            config,
        );
        // Remembered at least as long as rmcp keeps an idle session (both idle clocks restart on use).
        let owners = moka::sync::Cache::builder().max_capacity(MAX_SESSIONS).time_to_idle(SESSION_IDLE * 2).build();
        Self { service, owners }
    }

    /// Serve one request of `who` (who must also be in the request's extensions, as `Arc<Principal>`). A session id
    /// opened by another account is refused before rmcp sees the request.
    pub async fn serve<B>(&self, req: Request<B>) -> Result<Response<BoxBody<Bytes, Infallible>>, ForeignSession>
    where
        B: http_body::Body + Send + 'static,
        B::Error: Display,
        B::Data: Send + 'static,
    {
        let user = req.extensions().get::<Arc<Principal>>().map(|p| p.user_id);
        let session = session_id(req.headers());
        if let Some(s) = &session
            && let Some(owner) = self.owners.get(s)
            && Some(owner) != user
        {
            tracing::warn!(user.id = ?user, "refused a request on another account's MCP session");
            return Err(ForeignSession);
        }
        let closing = req.method() == Method::DELETE;
        let mut res = self.service.handle(req).await;
        if closing && res.status() == StatusCode::ACCEPTED {
            // rmcp answers a closed session with 202; clients (the Python SDK) expect 200 or 204.
            *res.status_mut() = StatusCode::NO_CONTENT;
        }
        match (session, user) {
            (None, Some(user)) => {
                if let Some(opened) = session_id(res.headers()) {
                    self.owners.insert(opened, user);
                }
            }
            (Some(s), _) if closing && res.status().is_success() => self.owners.invalidate(&s),
            _ => {}
        }
        Ok(res)
    }
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned)
}
