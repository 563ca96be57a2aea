//! `BillingStore` for SQLite: the webhook inbox, customer links, subscriptions, claim tokens and
//! the email outbox.

mod apply;
mod inbox;
mod outbox;
mod reads;
mod rows;

use crate::SqliteStore;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use wm_domain::account::User;
use wm_domain::api_key::KeyHash;
use wm_domain::ids::UserId;
use wm_store::{
    AccessEnd, ApplyOutcome, BillingLookup, BillingLookupQuery, BillingStats, BillingStore, BillingWrite, ClaimOutcome,
    InboxEvent, InboxQuery, NewApiKey, NewClaimToken, NewInboxEvent, OutboxEmail, Recorded, StoreResult, Subscription,
};

#[async_trait::async_trait]
impl BillingStore for SqliteStore {
    async fn record_billing_event(&self, event: &NewInboxEvent) -> StoreResult<Recorded> {
        inbox::record(&self.pool, event).await
    }
    async fn get_billing_event(&self, id: Uuid) -> StoreResult<Option<InboxEvent>> {
        inbox::get(&self.pool, id).await
    }
    async fn list_billing_events(&self, query: &InboxQuery) -> StoreResult<Vec<InboxEvent>> {
        inbox::list(&self.pool, query).await
    }
    async fn billing_stats(&self) -> StoreResult<BillingStats> {
        inbox::stats(&self.pool).await
    }
    async fn mark_billing_event_failed(&self, id: Uuid, error: &str) -> StoreResult<bool> {
        inbox::mark_failed(&self.pool, id, error).await
    }
    async fn apply_billing_event(&self, write: &BillingWrite) -> StoreResult<ApplyOutcome> {
        apply::apply(self, write).await
    }
    async fn billing_lookup(&self, query: &BillingLookupQuery<'_>) -> StoreResult<BillingLookup> {
        reads::lookup(&self.pool, query).await
    }
    async fn find_user_by_customer(&self, provider: &str, customer_id: &str) -> StoreResult<Option<User>> {
        reads::user_by_customer(&self.pool, provider, customer_id).await
    }
    async fn get_subscription(&self, provider: &str, id: &str) -> StoreResult<Option<Subscription>> {
        reads::subscription(&self.pool, provider, id).await
    }
    async fn list_user_subscriptions(&self, user: UserId) -> StoreResult<Vec<Subscription>> {
        reads::user_subscriptions(&self.pool, user).await
    }
    async fn due_subscriptions(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Subscription>> {
        reads::due(&self.pool, now, limit).await
    }
    async fn end_subscription_access(&self, end: &AccessEnd) -> StoreResult<bool> {
        apply::end_access(self, end).await
    }
    async fn insert_claimable_key(&self, key: &NewApiKey, claim: &NewClaimToken) -> StoreResult<()> {
        apply::insert_claimable(self, key, claim).await
    }
    async fn claim_key(
        &self,
        token_hash: &KeyHash,
        new_hash: &KeyHash,
        new_prefix: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<ClaimOutcome> {
        apply::claim(self, token_hash, new_hash, new_prefix, at).await
    }
    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxEmail>> {
        outbox::claim(&self.pool, now, lease_until, limit).await
    }
    async fn outbox_sent(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        outbox::sent(&self.pool, id, at).await
    }
    async fn outbox_retry(&self, id: Uuid, next_attempt_at: DateTime<Utc>, error: &str) -> StoreResult<()> {
        outbox::retry(&self.pool, id, next_attempt_at, error).await
    }
    async fn outbox_failed(&self, id: Uuid, error: &str) -> StoreResult<()> {
        outbox::failed(&self.pool, id, error).await
    }
    async fn list_outbox(&self, limit: u32) -> StoreResult<Vec<OutboxEmail>> {
        outbox::list(&self.pool, limit).await
    }
}
