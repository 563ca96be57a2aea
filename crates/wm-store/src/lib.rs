//! Storage traits, split by aggregate, and the conformance suite every backend passes.
//!
//! SQL lives only in the backend crates (`wm-store-sqlite`, `wm-store-postgres`); everything above
//! them talks to `dyn Store`.

mod accounts;
mod billing;
mod error;
mod memories;
mod plans;

pub mod fts_query;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use accounts::{AccountStore, NewApiKey, NewUser, UserPatch, UserQuery};
pub use billing::{
    AccessEnd, ApplyOutcome, BillingLookup, BillingLookupQuery, BillingStats, BillingStore, BillingWrite, ClaimOutcome,
    CustomerLink, InboxEvent, InboxQuery, InboxStatus, NewClaimToken, NewInboxEvent, NewOutboxEmail, OutboxEmail,
    OutboxStatus, Recorded, Subscription, SubscriptionGuard, SubscriptionStatus, stale_event_note,
};
pub use error::StoreError;
pub use memories::{
    ConsolidationRun, ConsolidationWrite, ImportOutcome, ListCursor, MemoryQuery, MemoryStats, MemoryStore, Quota,
    QuotaKind, SearchHit, SearchQuery, SortField, SortOrder, StatusFilter, TagCount, footprint,
};
pub use plans::{AccountUsage, PlanStore, PlatformCounts, UsageIncrement, UsageKey, UsageRow, UsageStore};

/// Result alias for storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// One applied or pending migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationInfo {
    pub version: i64,
    pub description: String,
    pub applied: bool,
}

/// Operations on the backend itself: health and schema.
#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    /// `sqlite` or `postgres`.
    fn kind(&self) -> &'static str;
    /// A cheap round trip proving the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// Apply every pending migration.
    async fn migrate_up(&self) -> StoreResult<()>;
    /// Revert the newest `steps` applied migrations.
    async fn migrate_down(&self, steps: u32) -> StoreResult<()>;
    /// Every known migration and whether it is applied.
    async fn migration_status(&self) -> StoreResult<Vec<MigrationInfo>>;
    /// Close the pool, waiting for connections to be returned.
    async fn close(&self);
}

/// Everything a backend provides. Implemented automatically.
pub trait Store: Backend + AccountStore + MemoryStore + BillingStore + PlanStore + UsageStore {}
impl<T: Backend + AccountStore + MemoryStore + BillingStore + PlanStore + UsageStore> Store for T {}
