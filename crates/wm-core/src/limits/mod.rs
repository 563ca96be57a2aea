//! Plans, request limits, quotas and usage metering.
//!
//! - Plans are data ([`PlanLimits::list_plans`], [`PlanLimits::put_plan`]), read through a short
//!   cache ([`LimitsConfig::plan_cache_ttl`]); a change made on this instance applies to the next
//!   request at once, on other instances within the TTL. The plan *name* travels in the
//!   [`Principal`] (whose cache `Accounts` clears when a user changes).
//! - [`PlanLimits::admit`] checks one request against the account's per-minute, daily and
//!   monthly limits through the [`FallbackLimiter`] (Redis when configured and up, in-process
//!   otherwise; either starts an account's day and month from its recorded usage when it has
//!   no count of them, so neither restarts, nor a Redis that lost its data, nor requests
//!   counted in process during an outage hand out a new allowance; a Redis server process
//!   that kept older counts is given every account's usage first, see
//!   [`PlanLimits::catch_up_redis`]). REST and MCP both call it, so both are limited alike.
//! - [`PlanLimits::record`] counts a finished request in memory (account, UTC day, endpoint
//!   group, status class); [`PlanLimits::flush`] writes the counts in one batch. The request
//!   path never waits for a usage write.
//! - [`PlanLimits::check_quota`] enforces memory-count and storage quotas on writes that add
//!   memories or bytes (403 `plan_limit_reached`).

mod counters;
mod meter;
mod plans;
mod quota;
mod shard;
mod usage;

pub use plans::{PlanInput, PlanList, PlanView};
pub use quota::{QuotaExceeded, QuotaKind};
pub use usage::{PeriodUsage, QuotaUsage, UsageDay, UsageReport};

use crate::accounts::Accounts;
use crate::accounts::admin::BUILTIN_PLANS;
use crate::{CoreError, CoreResult};
use counters::PlanCounters;
use meter::UsageMeter;
use plans::PlanCache;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wm_domain::Clock;
use wm_domain::account::Principal;
use wm_domain::ids::UserId;
use wm_domain::plan::{Plan, PlanFeatures, PlanName};
use wm_domain::usage::{EndpointGroup, StatusClass};
use wm_limits::{Checked, Decision, FallbackLimiter, InProcess, LocalLimiter, RedisStatus, Seed};
use wm_store::{Store, UsageKey};

/// How often (at most) the platform gauges are recomputed by [`PlanLimits::flush`].
const GAUGE_INTERVAL: Duration = Duration::from_secs(60);

/// The plan as a metric label: the built-in plans without an allocation.
fn plan_label(plan: &PlanName) -> metrics::SharedString {
    match builtin_plan(plan) {
        Some(i) => metrics::SharedString::const_str(BUILTIN_PLANS[i]),
        None => metrics::SharedString::from(plan.as_str().to_owned()),
    }
}

/// The index of a built-in plan in [`BUILTIN_PLANS`].
fn builtin_plan(plan: &PlanName) -> Option<usize> {
    BUILTIN_PLANS.iter().position(|p| *p == plan.as_str())
}

fn feature_allowed(who: &Principal, plan: &Plan, flag: &str) -> CoreResult<()> {
    if plan.features.allows(flag) {
        return Ok(());
    }
    let what = match flag {
        PlanFeatures::REST_API => "the REST API",
        PlanFeatures::MCP => "the MCP server",
        other => other,
    };
    Err(CoreError::Forbidden(format!("the {} plan does not include {what}", who.plan)))
}

/// What is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Request limits and usage metering (`WM_RATE_LIMITS=on|off`). Off: requests are neither
    /// limited nor counted (benchmarks, trusted single-user installs).
    pub rate_limits: bool,
    /// Memory-count and storage quotas of the plan.
    pub quotas: bool,
    /// How long plans stay cached: how late another instance sees a plan edit.
    pub plan_cache_ttl: Duration,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self { rate_limits: true, quotas: true, plan_cache_ttl: Duration::from_secs(5) }
    }
}

impl LimitsConfig {
    /// Nothing enforced, nothing metered (test harnesses of unrelated features).
    pub fn off() -> Self {
        Self { rate_limits: false, quotas: false, ..Self::default() }
    }
}

/// Plans, admission, quotas and usage for every account.
pub struct PlanLimits {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Where an account's plan is looked up for its quotas (the key cache, then the store).
    accounts: Arc<Accounts>,
    config: LimitsConfig,
    limiter: FallbackLimiter,
    plans: PlanCache,
    meter: UsageMeter,
    /// Held for writing while a batch of counts is drained and written: readers of the usage
    /// hold it for reading, so they never see a batch that is in neither place.
    flushing: tokio::sync::RwLock<()>,
    /// The usage reads for seeds in flight, by account (see `usage_seed`).
    seeding: Mutex<HashMap<UserId, Arc<tokio::sync::OnceCell<Option<Seed>>>>>,
    gauges_at: Mutex<Option<Instant>>,
    counters: PlanCounters,
}

impl PlanLimits {
    /// The use-cases over `store`, limiting through `limiter`; `accounts` looks up owners' plans.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        accounts: Arc<Accounts>,
        config: LimitsConfig,
        limiter: FallbackLimiter,
    ) -> Self {
        Self {
            plans: PlanCache::new(config.plan_cache_ttl),
            store,
            clock,
            accounts,
            config,
            limiter,
            meter: UsageMeter::new(),
            flushing: tokio::sync::RwLock::new(()),
            seeding: Mutex::default(),
            gauges_at: Mutex::new(None),
            counters: PlanCounters::default(),
        }
    }

    /// In-process limits only, default configuration.
    pub fn local(store: Arc<dyn Store>, clock: Arc<dyn Clock>, accounts: Arc<Accounts>) -> Self {
        Self::new(store, clock, accounts, LimitsConfig::default(), FallbackLimiter::local_only(LocalLimiter::new()))
    }

    /// What is enforced.
    pub fn config(&self) -> &LimitsConfig {
        &self.config
    }

    /// Catches the Redis server in use up with every account's recorded usage if it has not
    /// had it (see [`wm_limits::UsageSource`]); later connections do so by themselves. Call
    /// once at startup, before serving.
    pub async fn catch_up_redis(&self) {
        self.limiter.catch_up().await;
    }

    /// Whether the shared Redis limiter is in use (`/health`).
    pub fn redis_status(&self) -> RedisStatus {
        self.limiter.status()
    }

    /// The limiter (tests and admin tooling).
    pub fn limiter(&self) -> &FallbackLimiter {
        &self.limiter
    }

    /// Fires after every plan edit made here: other instances must drop their cached plans
    /// (see [`Self::drop_cached_plans`]).
    pub fn plan_changes(&self) -> tokio::sync::broadcast::Receiver<()> {
        self.plans.changes()
    }

    /// Forget the cached plans: another instance edited one.
    pub fn drop_cached_plans(&self) {
        self.plans.drop_all();
    }

    /// The plan called `name`; an unknown name gets the `free` plan's limits.
    pub async fn plan(&self, name: &PlanName) -> CoreResult<Arc<Plan>> {
        self.plans.get(self.store.as_ref(), name, self.clock.now()).await
    }

    /// Checks one request of `who` through `surface` (a [`PlanFeatures`] flag: the REST API or
    /// MCP; 403 when the plan lacks it, admins always pass) against their plan's request limits
    /// and, when every limit allows it, counts it. `None` when request limits are off. A denied
    /// request consumes nothing (see `decision.denial`); the limiter never fails (Redis trouble
    /// falls back to in-process limits).
    pub async fn admit(&self, who: &Principal, surface: &str, group: EndpointGroup) -> CoreResult<Option<Decision>> {
        let plan = self.plan(&who.plan).await?;
        if !who.is_admin() {
            feature_allowed(who, &plan, surface)?;
        }
        if !self.config.rate_limits {
            return Ok(None);
        }
        let limits = wm_limits::Limits { per_minute: plan.per_minute, daily: plan.daily, monthly: plan.monthly };
        let account = who.user_id.0;
        // Without Redis in use the decision is made here. Either limiter starts an account's day
        // and month from its recorded usage when it lacks them: the local one the first time it
        // sees the account (and after a loss of Redis); Redis when it has no count for this
        // month (a new month, or Redis lost its data), or the local limiter counted the account
        // while Redis was unreachable. The fallback limiter answers from the local limiter
        // itself when Redis fails. The rarer paths are boxed: the in-process one keeps a small
        // future.
        let checked = match self.limiter.decide_in_process(account, &limits) {
            InProcess::Decided(d) => Checked::Decided(d),
            InProcess::NeedsSeed => Checked::NeedsSeed,
            InProcess::Shared => Box::pin(self.limiter.check_shared(account, &limits)).await,
        };
        let decision = match checked {
            Checked::Decided(d) => d,
            Checked::NeedsSeed => {
                Box::pin(async {
                    let seed = self.usage_seed(who.user_id).await;
                    self.limiter.seed_and_check(account, &limits, seed).await
                })
                .await
            }
        };
        self.counters.count(&who.plan, decision.denial.is_none());
        if let Some(denial) = decision.denial {
            tracing::debug!(user.id = %who.user_id, limit = denial.limit.as_str(), endpoint.group = group.as_str(), "rate limited");
            metrics::counter!("whitemagic_rate_limit_hits_total", "plan" => plan_label(&who.plan), "limit" => denial.limit.as_str())
                .increment(1);
        }
        Ok(Some(decision))
    }

    /// Counts one finished, admitted request (buffered; see [`flush`](Self::flush)). No-op
    /// when request limits are off.
    pub fn record(&self, who: &Principal, group: EndpointGroup, status: u16) {
        if !self.config.rate_limits {
            return;
        }
        let key = UsageKey { user_id: who.user_id, day: self.clock.today(), group, class: StatusClass::of(status) };
        self.meter.add(key, 1);
    }

    /// Brings the per-plan request counters up to date (they are counted per thread); the
    /// `/metrics` route calls it before rendering.
    pub fn publish_metrics(&self) {
        self.counters.publish();
    }

    /// The periodic flush: writes the buffered usage ([`Self::write_usage`]), raises the
    /// in-process counts to the recorded usage while Redis is unreachable, and refreshes the
    /// platform gauges at most once a minute.
    pub async fn flush(&self) -> CoreResult<()> {
        self.write_usage().await?;
        if self.limiter.status() == RedisStatus::Disconnected {
            self.reseed_in_process().await;
        }
        self.refresh_gauges().await;
        Ok(())
    }

    /// Writes the buffered usage in one batch (kept for the next flush when the write fails).
    /// All a shutdown needs: the rest of [`Self::flush`] only serves a process that goes on.
    pub async fn write_usage(&self) -> CoreResult<()> {
        let _flushing = self.flushing.write().await;
        let batch = self.meter.drain();
        if !batch.is_empty()
            && let Err(e) = self.store.add_usage(&batch).await
        {
            self.meter.restore(&batch);
            return Err(e.into());
        }
        Ok(())
    }

    /// While Redis is unreachable, each instance limits on its own, from the recorded usage.
    /// After each flush, the counts the in-process limiter holds are raised to it again: by
    /// then it includes the other instances' requests up to their last flush (without this,
    /// each instance would only ever add its own requests to what it read when Redis went).
    async fn reseed_in_process(&self) {
        let local = self.limiter.local();
        if local.is_empty() {
            return;
        }
        match self.read_all_seeds().await {
            Ok(seeds) => {
                for (account, seed) in seeds.into_iter().filter(|(account, _)| local.contains(*account)) {
                    local.seed(account, seed);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the recorded usage failed; the in-process limits keep their counts")
            }
        }
    }

    async fn refresh_gauges(&self) {
        {
            let mut at = shard::lock(&self.gauges_at);
            if at.is_some_and(|t| t.elapsed() < GAUGE_INTERVAL) {
                return;
            }
            *at = Some(Instant::now());
        }
        match self.store.platform_counts(self.clock.now().date_naive()).await {
            Ok(c) => {
                metrics::gauge!("whitemagic_memories_total").set(c.memories as f64);
                metrics::gauge!("whitemagic_active_users").set(c.active_users as f64);
            }
            Err(e) => tracing::warn!(error = %e, "counting memories and active users failed"),
        }
    }
}
