//! Plans (request limits, quotas, feature flags) and usage counters.
//!
//! Usage is written in batches by the usage meter: each [`UsageIncrement`] adds `count` to the
//! row of one (account, UTC day, endpoint group, status class), creating it when missing.

use crate::StoreResult;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use wm_domain::ids::UserId;
use wm_domain::plan::{Plan, PlanName};
use wm_domain::usage::{EndpointGroup, StatusClass};

/// The key of one usage counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsageKey {
    pub user_id: UserId,
    /// The UTC day.
    pub day: NaiveDate,
    pub group: EndpointGroup,
    pub class: StatusClass,
}

/// Add `count` requests to one usage counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageIncrement {
    pub key: UsageKey,
    pub count: u64,
}

impl UsageIncrement {
    /// The increments with equal keys summed, sorted by key: what backends write (one row
    /// touched once per batch, always in the same order, so concurrent flushes cannot deadlock).
    pub fn merged(batch: &[UsageIncrement]) -> Vec<UsageIncrement> {
        let mut sums: BTreeMap<UsageKey, u64> = BTreeMap::new();
        for inc in batch.iter().filter(|i| i.count > 0) {
            let slot = sums.entry(inc.key).or_default();
            *slot = slot.saturating_add(inc.count);
        }
        sums.into_iter().map(|(key, count)| UsageIncrement { key, count }).collect()
    }
}

/// One stored usage counter of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub day: NaiveDate,
    /// The endpoint group's name (see [`EndpointGroup::as_str`]); kept as text so rows written
    /// by a newer version still read.
    pub group: String,
    pub class: StatusClass,
    pub count: u64,
}

/// One account's requests in a period and on its last day (what rate limiters start from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountUsage {
    pub user_id: UserId,
    /// Requests on the period's last day.
    pub last_day: u64,
    /// Requests over the whole period.
    pub total: u64,
}

impl AccountUsage {
    /// From a backend's row: the account and its two sums (SQL `SUM`s are signed).
    pub fn from_sums((user, last_day, total): (uuid::Uuid, i64, i64)) -> Self {
        Self { user_id: UserId(user), last_day: last_day.unsigned_abs(), total: total.unsigned_abs() }
    }
}

/// Platform-wide numbers for the metrics gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlatformCounts {
    /// Memories of every account (active and archived).
    pub memories: u64,
    /// Accounts with at least one metered request on the given day.
    pub active_users: u64,
}

/// Plans as data.
#[async_trait::async_trait]
pub trait PlanStore: Send + Sync {
    /// Every plan, ordered by monthly limit, then name.
    async fn list_plans(&self) -> StoreResult<Vec<Plan>>;
    async fn get_plan(&self, name: &PlanName) -> StoreResult<Option<Plan>>;
    /// Insert the plan, or replace every field of the plan with that name.
    async fn upsert_plan(&self, plan: &Plan) -> StoreResult<()>;
}

/// Usage counters, written in batches.
#[async_trait::async_trait]
pub trait UsageStore: Send + Sync {
    /// Add every increment (all or none): `count = count + n`, creating missing rows.
    async fn add_usage(&self, batch: &[UsageIncrement]) -> StoreResult<()>;
    /// The account's counters for `from..=to`, ordered by day, group, class.
    async fn usage_between(&self, user: UserId, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<UsageRow>>;
    /// Every account with requests in `from..=to`: its total, and its requests on `to`.
    async fn usage_by_account(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<AccountUsage>>;
    /// Platform-wide counts, with active users counted on `day`.
    async fn platform_counts(&self, day: NaiveDate) -> StoreResult<PlatformCounts>;
}
