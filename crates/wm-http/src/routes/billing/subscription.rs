//! `GET /api/v1/user/subscription`: my plan and subscriptions.

use super::dto::{SubscriptionItem, SubscriptionView};
use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wm_core::Core;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(subscription))
}

/// My plan, and the subscriptions (Stripe, Whop, RevenueCat) behind it.
#[utoipa::path(get, path = "/api/v1/user/subscription", tag = "user", security(("bearer" = [])),
    responses((status = 200, body = SubscriptionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn subscription(State(core): State<Core>, Auth(who): Auth) -> Result<Json<SubscriptionView>, ApiError> {
    let user = core.accounts.me(&who).await?;
    let subs = core.billing.subscriptions(who.user_id).await?;
    let first = subs.first();
    Ok(Json(SubscriptionView {
        plan: user.plan.as_str().to_owned(),
        status: first.map(|s| s.status.as_str()),
        provider: first.map(|s| s.provider.clone()),
        period_end: first.and_then(|s| s.period_end),
        cancel_at_period_end: first.is_some_and(|s| s.cancel_at_period_end),
        grace_until: first.and_then(|s| s.grace_until),
        subscriptions: subs.into_iter().map(SubscriptionItem::from).collect(),
    }))
}
