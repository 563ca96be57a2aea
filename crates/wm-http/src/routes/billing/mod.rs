//! Billing over HTTP: provider webhooks, the key claim page, the user's subscription, operator
//! routes (inbox, replay, claim links, Whop re-sync) and billing health.

pub mod admin;
pub mod claim;
pub mod dto;
pub mod health;
pub mod subscription;
pub mod webhooks;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Every billing route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(webhooks::router())
        .merge(claim::router())
        .merge(subscription::router())
        .merge(admin::router())
        .merge(health::router())
}
