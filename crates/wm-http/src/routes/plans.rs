//! Plans and usage: admins edit plans and read anyone's usage; users read their own usage.

use crate::auth::{AdminAuth, Auth};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use wm_core::Core;
use wm_core::limits::{PlanInput, PlanList, PlanView, UsageReport};
use wm_domain::ids::UserId;
use wm_domain::plan::PlanName;

/// Plan administration and usage routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plans))
        .routes(routes!(put_plan))
        .routes(routes!(my_usage))
        .routes(routes!(user_usage))
}

/// How many days of usage to show.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// Days ending today (UTC), 1–90; default 30.
    #[param(minimum = 1, maximum = 90)]
    pub days: Option<u32>,
}

/// Every plan with its limits, quotas and feature flags.
#[utoipa::path(get, path = "/api/v1/admin/plans", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = PlanList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_plans(State(core): State<Core>, _: AdminAuth) -> Result<Json<PlanList>, ApiError> {
    let plans = core.limits.list_plans().await?;
    Ok(Json(PlanList { plans: plans.iter().map(PlanView::from).collect() }))
}

/// Create or replace a plan. Accounts on it get the new limits on their next request (on
/// other instances within a few seconds).
#[utoipa::path(put, path = "/api/v1/admin/plans/{name}", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plan name: 1-32 of a-z, 0-9, '_', '-'")), request_body = PlanInput,
    responses((status = 200, body = PlanView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn put_plan(
    State(core): State<Core>,
    _: AdminAuth,
    ApiPath(name): ApiPath<String>,
    ApiJson(input): ApiJson<PlanInput>,
) -> Result<Json<PlanView>, ApiError> {
    let name = PlanName::parse(&name).map_err(|e| ApiError::validation(&e.field, e.message))?;
    let plan = core.limits.put_plan(&name, &input).await?;
    Ok(Json(PlanView::from(&plan)))
}

/// My usage: requests per day (by endpoint group and status class), today's and this month's
/// totals against my plan's limits, and my memory and storage quotas.
#[utoipa::path(get, path = "/api/v1/user/usage", tag = "user", security(("bearer" = [])), params(UsageQuery),
    responses((status = 200, body = UsageReport), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn my_usage(
    State(core): State<Core>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<UsageQuery>,
) -> Result<Json<UsageReport>, ApiError> {
    Ok(Json(core.limits.usage(who.user_id, q.days.unwrap_or(30)).await?))
}

/// A user's usage (same report as `GET /api/v1/user/usage`).
#[utoipa::path(get, path = "/api/v1/admin/users/{id}/usage", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id"), UsageQuery),
    responses((status = 200, body = UsageReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn user_usage(
    State(core): State<Core>,
    _: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<UsageQuery>,
) -> Result<Json<UsageReport>, ApiError> {
    Ok(Json(core.limits.usage(UserId(id), q.days.unwrap_or(30)).await?))
}
