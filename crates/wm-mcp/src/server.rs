//! The MCP server handler: who the caller is, and the plumbing every tool and resource shares
//! (authentication, session binding, admission, success and error results). The tools are in
//! `tools`, the resources in `resources`.

use crate::errors::Failure;
use crate::http::ForeignSession;
use crate::render::Render;
use rmcp::model::{CallToolResult, ContentBlock, Extensions};
use std::sync::{Arc, OnceLock};
use wm_core::{AuthFailure, Core, CoreError, CoreResult};
use wm_domain::ValidationError;
use wm_domain::account::Principal;
use wm_domain::api_key::ApiKey;
use wm_domain::ids::UserId;
use wm_domain::plan::PlanFeatures;
use wm_domain::usage::EndpointGroup;

/// Whom a server acts for.
#[derive(Debug, Clone)]
pub enum Caller {
    /// One fixed account (stdio with `--user`): resolved once, at start.
    Fixed(Principal),
    /// The holder of an API key (stdio with `--key`): checked on every request, so a revoked
    /// key stops working mid-session.
    Key(ApiKey),
    /// Streamable HTTP: the principal the HTTP layer authenticated for this very request
    /// (`http::request::Parts` extensions), bound to the session at `initialize`.
    Http,
}

/// The WhiteMagic MCP server: tools and resources over one [`Core`]. One value per session
/// (streamable HTTP creates one per session, or per request when stateless).
#[derive(Clone)]
pub struct WhiteMagicMcp {
    pub(crate) core: Core,
    caller: Caller,
    /// The account this session was opened by (HTTP sessions only).
    bound: Arc<OnceLock<UserId>>,
}

impl WhiteMagicMcp {
    /// A server acting as `caller`.
    pub fn new(core: Core, caller: Caller) -> Self {
        Self { core, caller, bound: Arc::default() }
    }

    /// The principal of the current request. Over HTTP, a session is bound to the account
    /// that initialized it and refuses any other.
    pub(crate) async fn principal(&self, ext: &Extensions) -> Result<Principal, Failure> {
        let who = match &self.caller {
            Caller::Fixed(p) => p.clone(),
            Caller::Key(key) => self.core.accounts.authenticate(key.expose()).await?,
            Caller::Http => ext
                .get::<http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Arc<Principal>>())
                .map(|p| Principal::clone(p))
                .ok_or(CoreError::Unauthorized(AuthFailure::Missing))?,
        };
        match self.bound.get() {
            Some(owner) if *owner != who.user_id => Err(CoreError::Forbidden(ForeignSession::MESSAGE.into()).into()),
            _ => Ok(who),
        }
    }

    /// Bind the session to the account of the request that opened it (`initialize`).
    pub(crate) async fn bind(&self, ext: &Extensions) -> Result<(), Failure> {
        let who = self.principal(ext).await?;
        let _ = self.bound.set(who.user_id);
        Ok(())
    }

    /// Admission: over HTTP a tool call (or resource read) is one request of the account, so
    /// the plan must include MCP and its request limits must allow it — the same
    /// [`Core::admit`] REST requests go through. Local stdio servers are not metered (like the CLI).
    pub(crate) async fn admit(&self, who: &Principal, group: EndpointGroup) -> Result<(), Failure> {
        if !matches!(self.caller, Caller::Http) {
            return Ok(());
        }
        match self.core.admit(who, PlanFeatures::MCP, group).await? {
            Some(decision) if decision.denial.is_some() => Err(Failure::RateLimited(Box::new(decision))),
            _ => Ok(()),
        }
    }

    /// Usage metering of an admitted HTTP request, by the status REST would have answered.
    pub(crate) fn record(&self, who: &Principal, group: EndpointGroup, status: u16) {
        if matches!(self.caller, Caller::Http) {
            self.core.limits.record(who, group, status);
        }
    }

    /// Authenticate, admit, check the arguments, run the use-case, meter, and shape the result.
    pub(crate) async fn run<A, T, Fut>(
        &self,
        ext: &Extensions,
        group: EndpointGroup,
        args: Result<A, ValidationError>,
        op: impl FnOnce(Core, UserId, A) -> Fut,
    ) -> CallToolResult
    where
        T: Render,
        Fut: Future<Output = CoreResult<T>>,
    {
        let who = match self.principal(ext).await {
            Ok(who) => who,
            Err(f) => return f.tool_result(),
        };
        if let Err(f) = self.admit(&who, group).await {
            return f.tool_result();
        }
        let outcome = match args {
            Ok(args) => op(self.core.clone(), who.user_id, args).await.map_err(Failure::from).and_then(|v| success(&v)),
            Err(e) => Err(e.into()),
        };
        let (result, status) = match outcome {
            Ok(result) => (result, 200),
            Err(f) => (f.tool_result(), f.status()),
        };
        self.record(&who, group, status);
        result
    }
}

/// A successful tool result: the value as structured content and its text rendering.
fn success<T: Render>(value: &T) -> Result<CallToolResult, Failure> {
    let structured = serde_json::to_value(value).map_err(|e| {
        tracing::error!(error = %e, "serialising a tool result failed");
        CoreError::Store(wm_store::StoreError::Corrupt("unserialisable result".into()))
    })?;
    let mut result = CallToolResult::success(vec![ContentBlock::text(value.text())]);
    result.structured_content = Some(structured);
    Ok(result)
}
