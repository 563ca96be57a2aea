//! Health, readiness, liveness, version and metrics. Never authenticated, never cached, and
//! never showing secrets.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wm_core::Core;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(live))
        .routes(routes!(version))
        .routes(routes!(metrics))
}

/// Overall health.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `healthy`, `degraded` (a secondary dependency is down) or `unhealthy` (the database is down).
    #[schema(example = "healthy")]
    pub status: &'static str,
    pub version: &'static str,
    /// `connected` or `disconnected`.
    pub database: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Shared rate-limit state: `connected`, `disconnected` (limits are per instance until it
    /// returns: `degraded`) or `not_configured` (in-process limits by design).
    #[schema(example = "not_configured")]
    pub redis: &'static str,
}

/// Readiness to take traffic.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    pub ready: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// Liveness.
#[derive(Debug, Serialize, ToSchema)]
pub struct Live {
    pub live: bool,
}

/// Build information.
#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    pub name: &'static str,
    pub version: &'static str,
}

async fn database_up(core: &Core) -> bool {
    matches!(tokio::time::timeout(Duration::from_secs(2), core.store.ping()).await, Ok(Ok(())))
}

/// Health of the service and its dependencies; 503 only when unhealthy.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn health(State(core): State<Core>) -> (StatusCode, Json<Health>) {
    let up = database_up(&core).await;
    let redis = core.limits.redis_status();
    let status = match (up, redis) {
        (false, _) => "unhealthy",
        (true, wm_limits::RedisStatus::Disconnected) => "degraded",
        (true, _) => "healthy",
    };
    let body = Health {
        status,
        version: VERSION,
        database: if up { "connected" } else { "disconnected" },
        backend: core.store.kind(),
        redis: redis.as_str(),
    };
    (if up { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}

/// Whether this instance should receive traffic (the database answers).
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, body = Ready), (status = 503, body = Ready)))]
async fn ready(State(core): State<Core>) -> (StatusCode, Json<Ready>) {
    if database_up(&core).await {
        (StatusCode::OK, Json(Ready { ready: true, reason: None }))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(Ready { ready: false, reason: Some("database unreachable") }))
    }
}

/// The process is alive (no dependency is checked).
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200, body = Live)))]
async fn live() -> Json<Live> {
    Json(Live { live: true })
}

/// Name and version.
#[utoipa::path(get, path = "/version", tag = "health", responses((status = 200, body = Version)))]
async fn version() -> Json<Version> {
    Json(Version { name: "whitemagic", version: VERSION })
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
async fn metrics(State(core): State<Core>, State(handle): State<PrometheusHandle>) -> String {
    core.limits.publish_metrics();
    handle.render()
}
