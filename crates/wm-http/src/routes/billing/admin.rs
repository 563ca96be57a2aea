//! Operator routes: the webhook inbox, replays, claim links, Whop re-syncs.

use super::dto::{ClaimLinkView, ReplayResult, SyncResult, WebhookEventList, WebhookEventView, WebhookListQuery};
use crate::auth::AdminAuth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use wm_billing::{ClientError, Provider};
use wm_core::Core;
use wm_core::billing::{HandleOutcome, SyncError};
use wm_domain::ids::UserId;
use wm_store::{InboxQuery, InboxStatus};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks))
        .routes(routes!(replay_webhook))
        .routes(routes!(claim_link))
        .routes(routes!(sync_whop_membership))
}

/// Webhook events, newest first; `status=failed` lists what needs attention.
#[utoipa::path(get, path = "/api/v1/admin/webhooks", tag = "admin", security(("bearer" = [])), params(WebhookListQuery),
    responses((status = 200, body = WebhookEventList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_webhooks(
    State(core): State<Core>,
    _: AdminAuth,
    ApiQuery(q): ApiQuery<WebhookListQuery>,
) -> Result<Json<WebhookEventList>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation("limit", "must be between 1 and 100"));
    }
    let status = q
        .status
        .map(|s| {
            InboxStatus::parse(&s)
                .ok_or_else(|| ApiError::validation("status", "must be received, processed, failed or ignored"))
        })
        .transpose()?;
    let provider = q
        .provider
        .map(|p| {
            p.parse::<Provider>().map_err(|_| ApiError::validation("provider", "must be stripe, whop or revenuecat"))
        })
        .transpose()?;
    let query =
        InboxQuery { status, provider: provider.map(|p| p.as_str().to_owned()), limit: limit + 1, before: q.cursor };
    let mut events = core.billing.list_events(&query).await?;
    let next_cursor = if events.len() > limit as usize {
        events.truncate(limit as usize);
        events.last().map(|e| e.id)
    } else {
        None
    };
    Ok(Json(WebhookEventList { events: events.into_iter().map(Into::into).collect(), next_cursor }))
}

/// Process a `failed` (or stuck `received`) event again, after fixing its cause.
#[utoipa::path(post, path = "/api/v1/admin/webhooks/{id}/replay", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Inbox event id")),
    responses((status = 200, body = ReplayResult), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Already processed or ignored", body = ErrorBody)))]
async fn replay_webhook(
    State(core): State<Core>,
    _: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ReplayResult>, ApiError> {
    let (outcome, event) = core.billing.replay(id).await?;
    tracing::info!(webhook.inbox_id = %id, outcome = outcome.as_str(), "webhook replayed");
    Ok(Json(ReplayResult { outcome: outcome.as_str(), event: WebhookEventView::from(event) }))
}

/// A new API key for a user, delivered by a one-time claim link (for users without email
/// delivery, or who lost theirs). Send them the URL; the key works once claimed.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/claim-link", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 201, body = ClaimLinkView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn claim_link(
    State(core): State<Core>,
    _: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let link = core.billing.issue_claim_link(UserId(id)).await?;
    Ok((StatusCode::CREATED, Json(ClaimLinkView { url: link.url, expires_at: link.expires_at })))
}

/// Fetch a Whop membership from Whop's API and apply its current state (after missed webhooks).
#[utoipa::path(post, path = "/api/v1/admin/billing/whop/memberships/{id}/sync", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "Whop membership id (mem_...)")),
    responses((status = 200, body = SyncResult), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "WHOP_API_KEY is not configured", body = ErrorBody),
        (status = 422, description = "Malformed membership id", body = ErrorBody),
        (status = 502, description = "Whop's API failed after retries", body = ErrorBody),
        (status = 503, description = "The circuit breaker is open", body = ErrorBody)))]
async fn sync_whop_membership(
    State(core): State<Core>,
    _: AdminAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SyncResult>, ApiError> {
    let outcome = core.billing.sync_whop_membership(&id).await.map_err(|e| match e {
        SyncError::NotConfigured => ApiError::new(StatusCode::CONFLICT, "not_configured", e.to_string()),
        SyncError::Upstream(ClientError::InvalidRequest(m)) => ApiError::validation("id", m),
        SyncError::Upstream(ClientError::BreakerOpen) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "circuit_open",
            "Whop's API is failing; calls are paused (see /health/external)",
        ),
        SyncError::Upstream(err) => {
            tracing::warn!(error = %err, "Whop API call failed");
            ApiError::new(StatusCode::BAD_GATEWAY, "upstream_failed", format!("Whop's API failed: {err}"))
        }
        SyncError::Core(e) => e.into(),
    })?;
    let reason = match &outcome {
        HandleOutcome::Ignored(r) | HandleOutcome::Failed(r) => Some(r.clone()),
        _ => None,
    };
    Ok(Json(SyncResult { outcome: outcome.as_str(), reason }))
}
