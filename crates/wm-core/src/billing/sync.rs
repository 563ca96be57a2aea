//! Re-sync a Whop membership from Whop's API (e.g. after missed webhooks), through the
//! resilient outbound client. The fetched state is processed like a webhook: recorded in the
//! inbox under a synthetic id and decided by the same rules.

use super::{Billing, HandleOutcome};
use crate::CoreError;
use wm_billing::{Access, BillingEvent, ClientError, Customer, EventKind, Provider};

/// Why a re-sync did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// `WHOP_API_KEY` is not configured.
    #[error("the Whop API is not configured (set WHOP_API_KEY)")]
    NotConfigured,
    /// Whop's API failed (after retries) or the circuit breaker is open.
    #[error("Whop API: {0}")]
    Upstream(ClientError),
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl Billing {
    /// Fetch membership `id` from Whop and apply its current state.
    pub async fn sync_whop_membership(&self, id: &str) -> Result<HandleOutcome, SyncError> {
        let whop = self.config.whop.as_ref().ok_or(SyncError::NotConfigured)?;
        let m = whop.membership(id).await.map_err(SyncError::Upstream)?;
        let now = self.clock.now();
        let access = match m.status.as_deref() {
            Some("trialing" | "active" | "completed") => Access::Grant,
            Some("past_due" | "unresolved") => Access::Grace,
            Some("canceled" | "expired") => Access::Revoke,
            _ => Access::Unchanged,
        };
        let mut product_refs: Vec<String> = m.plan_id.iter().cloned().collect();
        product_refs.extend(m.product_id.iter().cloned());
        let event = BillingEvent {
            provider: Provider::Whop,
            event_id: format!("sync:{}:{}", m.id, now.timestamp_micros()),
            event_type: "membership.sync".into(),
            occurred_at: now,
            kind: EventKind::SubscriptionUpdated,
            access,
            customer: Customer { provider_customer_id: m.user_id.clone(), email: m.email.clone() },
            subscription_ref: Some(m.id.clone()),
            product_refs,
            period_end: m.renewal_period_end,
            cancel_at_period_end: m.cancel_at_period_end,
            status: m.status.clone(),
            client_reference_id: None,
            livemode: None,
        };
        let raw = serde_json::to_vec(&m.raw).unwrap_or_default();
        Ok(self.handle(&event, &raw).await?)
    }
}
