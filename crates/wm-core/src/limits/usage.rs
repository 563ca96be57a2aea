//! An account's usage: the daily series and today's / this month's totals against the plan.

use super::PlanLimits;
use super::shard::lock;
use crate::{CoreError, CoreResult};
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use wm_domain::ValidationError;
use wm_domain::ids::UserId;
use wm_limits::{Seed, UsageSource};
use wm_store::UsageRow;

/// Most days one usage report covers.
pub const MAX_DAYS: u32 = 90;

/// One UTC day of an account's metered requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageDay {
    /// The UTC day.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    /// Metered requests that day (requests refused by a rate limit are not counted).
    pub requests: u64,
    /// Requests per endpoint group (`memories`, `search`, `context`, `keys`, `admin`...).
    pub by_group: BTreeMap<String, u64>,
    /// Requests per status class (`2xx`, `4xx`, `5xx`...).
    pub by_status: BTreeMap<String, u64>,
}

/// Requests in a period against the plan's limit for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeriodUsage {
    /// Metered requests so far in the period.
    pub requests: u64,
    /// The plan's limit for the period.
    pub limit: u64,
    /// `limit - requests` (never below 0).
    pub remaining: u64,
}

/// A quota's use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotaUsage {
    /// What the account holds.
    pub used: u64,
    /// The plan's limit.
    pub limit: u64,
}

/// `GET /user/usage`: the daily series and the totals against the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageReport {
    /// The account.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub user_id: UserId,
    /// The account's plan.
    pub plan: String,
    /// One entry per day, oldest first, ending today (UTC); days without requests are zeros.
    pub days: Vec<UsageDay>,
    /// Today (UTC) against the daily limit.
    pub today: PeriodUsage,
    /// This UTC month against the monthly limit.
    pub month: PeriodUsage,
    /// Memories against the plan's memory quota.
    pub memories: QuotaUsage,
    /// Bytes of memories against the plan's storage quota.
    pub storage_bytes: QuotaUsage,
}

impl PlanLimits {
    /// `user`'s requests from `from` to `to` (inclusive) by day, endpoint group and status
    /// class: the written counts plus those this instance has not written yet (never read in
    /// the middle of a flush, when a batch is in neither place).
    pub(super) async fn recorded(&self, user: UserId, from: NaiveDate, to: NaiveDate) -> CoreResult<Vec<UsageRow>> {
        let _not_mid_flush = self.flushing.read().await;
        let mut rows = self.store.usage_between(user, from, to).await?;
        rows.extend(self.meter.pending(user).into_iter().filter(|i| (from..=to).contains(&i.key.day)).map(|i| {
            UsageRow { day: i.key.day, group: i.key.group.as_str().to_owned(), class: i.key.class, count: i.count }
        }));
        Ok(rows)
    }

    /// What `user` used today and this month (UTC), as recorded: what the limiters start (or
    /// raise) the account's daily and monthly counts from, so that neither a restart, a fall
    /// back from Redis, a Redis that lost its data, nor the return from an outage hands out a
    /// fresh day's or month's allowance. `None` (logged) when the usage cannot be read.
    /// Concurrent callers for one account share one read.
    pub(super) async fn usage_seed(&self, user: UserId) -> Option<Seed> {
        let read = Arc::clone(lock(&self.seeding).entry(user).or_default());
        let seed = *read.get_or_init(|| self.read_usage_seed(user)).await;
        // Done: the next caller that needs a seed reads afresh.
        let mut seeding = lock(&self.seeding);
        if seeding.get(&user).is_some_and(|r| Arc::ptr_eq(r, &read)) {
            seeding.remove(&user);
        }
        seed
    }

    /// What a seed covers: today (UTC, on the app's clock), the first day of its month, and
    /// today as a seed's date.
    fn seed_days(&self) -> (NaiveDate, NaiveDate, (i64, u32, u32)) {
        let today = self.clock.today();
        (today, today.with_day(1).unwrap_or(today), (i64::from(today.year()), today.month(), today.day()))
    }

    async fn read_usage_seed(&self, user: UserId) -> Option<Seed> {
        metrics::counter!("whitemagic_rate_limit_seeds_total").increment(1);
        let (today, month_start, date) = self.seed_days();
        let rows = match self.recorded(user, month_start, today).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, user.id = %user, "reading recorded usage failed; rate limits count from what they see for now");
                return None;
            }
        };
        let day_count = rows.iter().filter(|r| r.day == today).map(|r| r.count).sum();
        let month_count = rows.iter().map(|r| r.count).sum();
        Some(Seed { date, day_count, month_count })
    }

    /// Every account's usage today and this month as recorded (the store and this instance's
    /// unwritten counts): for a Redis server that has not had it (see [`UsageSource`]), and for
    /// the in-process limiter while Redis is unreachable.
    pub(super) async fn read_all_seeds(&self) -> CoreResult<Vec<(uuid::Uuid, Seed)>> {
        let (today, month_start, date) = self.seed_days();
        let _not_mid_flush = self.flushing.read().await;
        let mut seeds: HashMap<UserId, Seed> = HashMap::new();
        for u in self.store.usage_by_account(month_start, today).await? {
            seeds.insert(u.user_id, Seed { date, day_count: u.last_day, month_count: u.total });
        }
        for inc in self.meter.pending_all().into_iter().filter(|i| (month_start..=today).contains(&i.key.day)) {
            let seed = seeds.entry(inc.key.user_id).or_insert(Seed { date, day_count: 0, month_count: 0 });
            seed.month_count = seed.month_count.saturating_add(inc.count);
            if inc.key.day == today {
                seed.day_count = seed.day_count.saturating_add(inc.count);
            }
        }
        Ok(seeds.into_iter().map(|(user, seed)| (user.0, seed)).collect())
    }

    /// `user`'s usage over the last `days` days (1-90, ending today), including what this
    /// instance counted and has not written yet.
    pub async fn usage(&self, user: UserId, days: u32) -> CoreResult<UsageReport> {
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(ValidationError::new("days", format!("must be between 1 and {MAX_DAYS}")).into());
        }
        let account = self.store.get_user(user).await?.ok_or(CoreError::NotFound("user"))?;
        let plan = self.plan(&account.plan).await?;
        let today = self.clock.now().date_naive();
        let first = today - Duration::days(i64::from(days) - 1);
        let month_start = today.with_day(1).unwrap_or(today);
        let from = first.min(month_start);

        let mut counts: BTreeMap<(NaiveDate, String, &'static str), u64> = BTreeMap::new();
        for r in self.recorded(user, from, today).await? {
            *counts.entry((r.day, r.group, r.class.as_str())).or_default() += r.count;
        }

        let mut series: BTreeMap<NaiveDate, UsageDay> = first
            .iter_days()
            .take_while(|d| *d <= today)
            .map(|date| (date, UsageDay { date, requests: 0, by_group: BTreeMap::new(), by_status: BTreeMap::new() }))
            .collect();
        let (mut today_total, mut month_total) = (0, 0);
        for ((date, group, class), n) in counts {
            if date == today {
                today_total += n;
            }
            if date >= month_start {
                month_total += n;
            }
            if let Some(day) = series.get_mut(&date) {
                day.requests += n;
                *day.by_group.entry(group).or_default() += n;
                *day.by_status.entry(class.to_owned()).or_default() += n;
            }
        }
        let stats = self.store.memory_stats(user).await?;
        let period =
            |requests: u64, limit: u64| PeriodUsage { requests, limit, remaining: limit.saturating_sub(requests) };
        Ok(UsageReport {
            user_id: user,
            plan: account.plan.to_string(),
            days: series.into_values().collect(),
            today: period(today_total, plan.daily),
            month: period(month_total, plan.monthly),
            memories: QuotaUsage { used: stats.total(), limit: plan.max_memories },
            storage_bytes: QuotaUsage { used: stats.storage_bytes, limit: plan.max_storage_bytes },
        })
    }
}

#[async_trait::async_trait]
impl UsageSource for PlanLimits {
    async fn all_seeds(&self) -> Option<Vec<(uuid::Uuid, Seed)>> {
        metrics::counter!("whitemagic_rate_limit_catch_ups_total").increment(1);
        self.read_all_seeds()
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "reading every account's usage failed; Redis is used once it can be read"))
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use crate::{AccountsConfig, Core};
    use metrics_exporter_prometheus::PrometheusBuilder;
    use std::sync::Arc;
    use wm_domain::SystemClock;
    use wm_domain::email::Email;
    use wm_domain::plan::PlanFeatures;
    use wm_domain::usage::EndpointGroup;
    use wm_store::Backend;

    /// The first requests of an account in a process all need its recorded usage; arriving
    /// together, they read it once.
    #[tokio::test]
    async fn concurrent_first_requests_of_an_account_read_its_usage_once() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let _local = metrics::set_default_local_recorder(&recorder);
        let store = wm_store_sqlite::SqliteStore::connect(&wm_testkit::fresh_sqlite_url()).await.unwrap();
        store.migrate_up().await.unwrap();
        let core = Core::new(Arc::new(store), Arc::new(SystemClock), AccountsConfig::default());
        let key = core.accounts.create_admin_key(&Email::parse("seeds@example.com").unwrap(), "t").await.unwrap();
        let who = core.accounts.authenticate(key.key.expose()).await.unwrap();

        core.limits.plan(&who.plan).await.unwrap(); // cached: the requests wait only for the usage

        // One task polls them all: each runs until it waits, so they overlap.
        let admits = (0..16).map(|_| core.admit(&who, PlanFeatures::REST_API, EndpointGroup::Account));
        let decisions = futures_util::future::join_all(admits).await;
        assert!(decisions.iter().all(|d| d.as_ref().unwrap().as_ref().unwrap().is_allowed()));
        let seeds = |rendered: String| {
            rendered.lines().find_map(|l| l.strip_prefix("whitemagic_rate_limit_seeds_total ")).map(str::to_owned)
        };
        assert_eq!(seeds(handle.render()).as_deref(), Some("1"), "one read for 16 requests");

        // Seeded: later requests read nothing.
        core.admit(&who, PlanFeatures::REST_API, EndpointGroup::Account).await.unwrap();
        assert_eq!(seeds(handle.render()).as_deref(), Some("1"));
    }
}
