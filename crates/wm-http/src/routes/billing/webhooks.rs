//! `POST /webhooks/{stripe,whop,revenuecat}` (Whop also at `/api/v1/webhooks/whop`).
//!
//! The [`VerifiedWebhook`] extractor authenticates and parses; the handler records and processes
//! through `Billing::handle`. 200 for processed, duplicate and ignored events; 5xx when processing
//! failed (the event is stored as `failed`, the provider retries, operators can replay). A
//! provider without a configured secret has no endpoint (404). The signature headers are
//! documented as optional because a disabled endpoint answers 404 whatever is sent; an enabled
//! one refuses a request without them with 400.

use super::dto::{ProviderPayload, WebhookAck};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::webhook::{RevenueCat, Stripe, VerifiedWebhook, WebhookProvider, Whop, count};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wm_core::Core;
use wm_core::billing::HandleOutcome;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stripe))
        .routes(routes!(whop))
        .routes(routes!(whop_v1))
        .routes(routes!(revenuecat))
}

async fn ack<P: WebhookProvider>(core: &Core, hook: VerifiedWebhook<P>) -> Result<Json<WebhookAck>, ApiError> {
    let ev = &hook.event;
    let outcome = match core.billing.handle(ev, &hook.raw).await {
        Ok(o) => o,
        Err(e) => {
            count(P::PROVIDER, &ev.event_type, "error");
            return Err(e.into());
        }
    };
    count(P::PROVIDER, &ev.event_type, outcome.as_str());
    tracing::info!(
        webhook.provider = P::PROVIDER.as_str(),
        webhook.event_id = %ev.event_id,
        webhook.type = %ev.event_type,
        outcome = outcome.as_str(),
        "webhook handled"
    );
    let status = outcome.as_str();
    let reason = match outcome {
        HandleOutcome::Failed(_) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "webhook_processing_failed",
                "the event was recorded but could not be processed; it is processed again when retried",
            ));
        }
        HandleOutcome::Ignored(reason) => Some(reason),
        _ => None,
    };
    Ok(Json(WebhookAck { status, event_id: ev.event_id.clone(), reason }))
}

/// Stripe events (`Stripe-Signature`, endpoint secret `STRIPE_WEBHOOK_SECRET`).
#[utoipa::path(post, path = "/webhooks/stripe", tag = "billing",
    params(("Stripe-Signature" = Option<String>, Header, description = "t=<unix>,v1=<hex HMAC-SHA256 of \"t.body\">")),
    request_body(content = ProviderPayload, description = "A Stripe event", content_type = "application/json"),
    responses((status = 200, body = WebhookAck), (status = 400, description = "Malformed headers, stale timestamp or unusable payload", body = ErrorBody),
        (status = 401, description = "Signature mismatch", body = ErrorBody), (status = 404, description = "Stripe webhooks are not configured", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 500, description = "Recorded but not processed: retry", body = ErrorBody)))]
async fn stripe(State(core): State<Core>, hook: VerifiedWebhook<Stripe>) -> Result<Json<WebhookAck>, ApiError> {
    ack(&core, hook).await
}

/// Whop events (Standard Webhooks headers, secret `WHOP_WEBHOOK_SECRET`).
#[utoipa::path(post, path = "/webhooks/whop", tag = "billing",
    params(("webhook-id" = Option<String>, Header, description = "Message id"), ("webhook-timestamp" = Option<String>, Header, description = "Unix seconds"),
        ("webhook-signature" = Option<String>, Header, description = "v1,<base64 HMAC-SHA256 of \"id.timestamp.body\">")),
    request_body(content = ProviderPayload, description = "A Whop event", content_type = "application/json"),
    responses((status = 200, body = WebhookAck), (status = 400, description = "Malformed headers, stale timestamp or unusable payload", body = ErrorBody),
        (status = 401, description = "Signature mismatch", body = ErrorBody), (status = 404, description = "Whop webhooks are not configured", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 500, description = "Recorded but not processed: retry", body = ErrorBody)))]
async fn whop(State(core): State<Core>, hook: VerifiedWebhook<Whop>) -> Result<Json<WebhookAck>, ApiError> {
    ack(&core, hook).await
}

/// Whop events, at the path the original service used.
#[utoipa::path(post, path = "/api/v1/webhooks/whop", tag = "billing",
    params(("webhook-id" = Option<String>, Header, description = "Message id"), ("webhook-timestamp" = Option<String>, Header, description = "Unix seconds"),
        ("webhook-signature" = Option<String>, Header, description = "v1,<base64 HMAC-SHA256 of \"id.timestamp.body\">")),
    request_body(content = ProviderPayload, description = "A Whop event", content_type = "application/json"),
    responses((status = 200, body = WebhookAck), (status = 400, description = "Malformed headers, stale timestamp or unusable payload", body = ErrorBody),
        (status = 401, description = "Signature mismatch", body = ErrorBody), (status = 404, description = "Whop webhooks are not configured", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 500, description = "Recorded but not processed: retry", body = ErrorBody)))]
async fn whop_v1(State(core): State<Core>, hook: VerifiedWebhook<Whop>) -> Result<Json<WebhookAck>, ApiError> {
    ack(&core, hook).await
}

/// RevenueCat events (`Authorization` equal to `REVENUECAT_WEBHOOK_SECRET`, with or without `Bearer `).
#[utoipa::path(post, path = "/webhooks/revenuecat", tag = "billing",
    params(("Authorization" = Option<String>, Header, description = "The configured value, e.g. `Bearer <secret>`")),
    request_body(content = ProviderPayload, description = "A RevenueCat event", content_type = "application/json"),
    responses((status = 200, body = WebhookAck), (status = 400, description = "Missing header or unusable payload", body = ErrorBody),
        (status = 401, description = "Authorization mismatch", body = ErrorBody), (status = 404, description = "RevenueCat webhooks are not configured", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 500, description = "Recorded but not processed: retry", body = ErrorBody)))]
async fn revenuecat(State(core): State<Core>, hook: VerifiedWebhook<RevenueCat>) -> Result<Json<WebhookAck>, ApiError> {
    ack(&core, hook).await
}
