//! Bodies of the billing routes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use wm_store::{InboxEvent, Subscription};

/// A provider's event body, exactly as the provider sends it (verified on the raw bytes).
#[derive(Debug, ToSchema)]
#[schema(value_type = Object)]
pub struct ProviderPayload(pub serde_json::Value);

/// The answer to a provider: 2xx means "do not retry".
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAck {
    /// `processed`, `duplicate` (already handled: no effect) or `ignored` (recorded, no effect).
    #[schema(example = "processed")]
    pub status: &'static str,
    /// The provider's event id.
    pub event_id: String,
    /// Why an event was ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A subscription as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionItem {
    /// `stripe`, `whop` or `revenuecat`.
    pub provider: String,
    pub plan: String,
    /// `trialing`, `active`, `past_due`, `canceled` or `expired`.
    pub status: &'static str,
    pub period_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    /// While `past_due`: access continues until then.
    pub grace_until: Option<DateTime<Utc>>,
    /// When paid access ends (or ended), if known.
    pub access_ends_at: Option<DateTime<Utc>>,
}

impl From<Subscription> for SubscriptionItem {
    fn from(s: Subscription) -> Self {
        Self {
            provider: s.provider,
            plan: s.plan.into(),
            status: s.status.as_str(),
            period_end: s.period_end,
            cancel_at_period_end: s.cancel_at_period_end,
            grace_until: s.grace_until,
            access_ends_at: s.access_ends_at.or(s.ended_at),
        }
    }
}

/// My plan and subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    /// The plan in force now.
    #[schema(example = "pro")]
    pub plan: String,
    /// The most recently updated subscription's status; absent without any.
    pub status: Option<&'static str>,
    pub provider: Option<String>,
    pub period_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub grace_until: Option<DateTime<Utc>>,
    /// Every subscription, most recently updated first.
    pub subscriptions: Vec<SubscriptionItem>,
}

/// An inbox event (without its payload).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEventView {
    pub id: Uuid,
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// `received`, `processed`, `failed` or `ignored`.
    pub status: &'static str,
    pub attempts: u32,
    /// Why the last attempt failed, or why the event was ignored.
    pub last_error: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
}

impl From<InboxEvent> for WebhookEventView {
    fn from(e: InboxEvent) -> Self {
        Self {
            id: e.id,
            provider: e.provider,
            event_id: e.event_id,
            event_type: e.event_type,
            occurred_at: e.occurred_at,
            received_at: e.received_at,
            status: e.status.as_str(),
            attempts: e.attempts,
            last_error: e.last_error,
            processed_at: e.processed_at,
        }
    }
}

/// A page of inbox events, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEventList {
    pub events: Vec<WebhookEventView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

/// Filters of the inbox listing.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WebhookListQuery {
    /// `received`, `processed`, `failed` or `ignored`.
    pub status: Option<String>,
    /// `stripe`, `whop` or `revenuecat`.
    pub provider: Option<String>,
    /// 1–100, default 50.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

/// What a replay did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayResult {
    /// `processed`, `ignored`, `duplicate` or `failed` (then `event.last_error` says why).
    pub outcome: &'static str,
    pub event: WebhookEventView,
}

/// A one-time link revealing a new key.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimLinkView {
    /// Send this to the user; it works once.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// What a membership re-sync did.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncResult {
    /// `processed`, `ignored`, `duplicate` or `failed`.
    pub outcome: &'static str,
    pub reason: Option<String>,
}

/// One outbound service.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExternalServiceView {
    #[schema(example = "whop")]
    pub name: &'static str,
    /// Circuit breaker: `closed` (normal), `open` (failing fast) or `half_open` (probing).
    #[schema(example = "closed")]
    pub state: &'static str,
    pub consecutive_failures: u32,
}

/// Outbound dependencies.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExternalHealth {
    /// `ok`, or `degraded` when a breaker is not closed.
    #[schema(example = "ok")]
    pub status: &'static str,
    pub services: Vec<ExternalServiceView>,
}

/// Webhook inbox and email outbox figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookHealth {
    /// `ok`, or `degraded` when events failed or one has waited more than 5 minutes.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// Inbox events per status.
    pub counts: std::collections::BTreeMap<String, u64>,
    /// When the oldest event still `received` arrived.
    pub oldest_pending_at: Option<DateTime<Utc>>,
    pub oldest_pending_age_seconds: Option<i64>,
    /// When an event was last finished.
    pub last_processed_at: Option<DateTime<Utc>>,
    /// Outbox emails per status.
    pub outbox: std::collections::BTreeMap<String, u64>,
}
