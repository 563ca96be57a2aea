//! `GET /health/external` (outbound clients' circuit breakers) and `GET /health/webhooks`
//! (inbox and outbox figures). Unauthenticated, never cached, no secrets.

use super::dto::{ExternalHealth, ExternalServiceView, WebhookHealth};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wm_billing::BreakerState;
use wm_core::Core;
use wm_store::InboxStatus;

/// An event waiting longer than this makes the webhooks health `degraded`.
const PENDING_WARN_SECS: i64 = 300;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(external)).routes(routes!(webhooks))
}

/// Circuit-breaker state of each outbound provider client (also the
/// `whitemagic_circuit_breaker_state{service}` gauge: 0 closed, 1 open, 2 half-open).
#[utoipa::path(get, path = "/health/external", tag = "health", responses((status = 200, body = ExternalHealth)))]
async fn external(State(core): State<Core>) -> Json<ExternalHealth> {
    let services: Vec<_> = core
        .billing
        .external_services()
        .into_iter()
        .map(|s| {
            metrics::gauge!("whitemagic_circuit_breaker_state", "service" => s.name)
                .set(f64::from(s.state.as_metric_value()));
            ExternalServiceView { name: s.name, state: s.state.as_str(), consecutive_failures: s.consecutive_failures }
        })
        .collect();
    let degraded = services.iter().any(|s| s.state != BreakerState::Closed.as_str());
    Json(ExternalHealth { status: if degraded { "degraded" } else { "ok" }, services })
}

/// Webhook processing: inbox events by status, the oldest unprocessed one, the last finished.
#[utoipa::path(get, path = "/health/webhooks", tag = "health",
    responses((status = 200, body = WebhookHealth), (status = 503, body = ErrorBody)))]
async fn webhooks(State(core): State<Core>) -> Result<Json<WebhookHealth>, ApiError> {
    let stats = core.billing.stats().await?;
    let now = core.clock.now();
    let age = stats.oldest_pending.map(|t| (now - t).num_seconds().max(0));
    let failed = stats.inbox.iter().any(|(s, n)| *s == InboxStatus::Failed && *n > 0);
    let degraded = failed || age.is_some_and(|a| a > PENDING_WARN_SECS);
    Ok(Json(WebhookHealth {
        status: if degraded { "degraded" } else { "ok" },
        counts: stats.inbox.iter().map(|(s, n)| (s.as_str().to_owned(), *n)).collect(),
        oldest_pending_at: stats.oldest_pending,
        oldest_pending_age_seconds: age,
        last_processed_at: stats.last_processed,
        outbox: stats.outbox.iter().map(|(s, n)| (s.as_str().to_owned(), *n)).collect(),
    }))
}
