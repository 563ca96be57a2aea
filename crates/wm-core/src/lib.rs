//! WhiteMagic use-cases over the storage traits. No HTTP, no SQL: the HTTP, MCP and CLI
//! adapters call these, and the backend is whatever `dyn Store` they were given.

pub mod accounts;
pub mod billing;
pub mod limits;
pub mod memories;
pub use accounts::admin::BOOTSTRAP_ADMIN_EMAIL;
mod error;

pub use accounts::{Accounts, AccountsConfig, CreatedKey};
pub use billing::{Billing, BillingConfig};
pub use error::{AuthFailure, CoreError, CoreResult};
pub use limits::{LimitsConfig, PlanLimits};
pub use memories::Memories;

use std::sync::Arc;
use wm_domain::Clock;
use wm_store::Store;

/// Every use-case, over one store and one clock. Cheap to clone: one `Arc` (adapters clone it
/// per request). The use-cases are reached through `Deref` (`core.accounts`, `core.limits`...).
#[derive(Clone)]
pub struct Core(Arc<Parts>);

/// The use-cases a [`Core`] holds.
#[derive(Clone)]
pub struct Parts {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub accounts: Arc<Accounts>,
    pub memories: Arc<Memories>,
    pub billing: Arc<Billing>,
    /// Plans, request limits, quotas and usage metering.
    pub limits: Arc<PlanLimits>,
}

impl std::ops::Deref for Core {
    type Target = Parts;
    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl Core {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, accounts: AccountsConfig) -> Self {
        let memory_limits = accounts.memory_limits;
        let accounts = Arc::new(Accounts::new(store.clone(), clock.clone(), accounts));
        let limits = Arc::new(PlanLimits::local(store.clone(), clock.clone(), accounts.clone()));
        let memories = Arc::new(Memories::new(store.clone(), clock.clone(), memory_limits).with_quotas(limits.clone()));
        let billing = Arc::new(Billing::new(store.clone(), clock.clone(), accounts.clone(), BillingConfig::default()));
        Self(Arc::new(Parts { store, clock, accounts, memories, billing, limits }))
    }

    /// The same use-cases with billing configured (plan map, grace period, SMTP, Whop API...).
    pub fn with_billing(mut self, config: BillingConfig) -> Self {
        let parts = Arc::make_mut(&mut self.0);
        parts.billing =
            Arc::new(Billing::new(parts.store.clone(), parts.clock.clone(), parts.accounts.clone(), config));
        self
    }

    /// The same use-cases enforcing `config` through `limiter` (Redis or in-process).
    pub fn with_limits(mut self, config: LimitsConfig, limiter: wm_limits::FallbackLimiter) -> Self {
        let parts = Arc::make_mut(&mut self.0);
        let limits = Arc::new(PlanLimits::new(
            parts.store.clone(),
            parts.clock.clone(),
            parts.accounts.clone(),
            config,
            limiter,
        ));
        // Redis servers read every account's usage from here (held weakly: no cycle).
        let source: std::sync::Weak<PlanLimits> = Arc::downgrade(&limits);
        limits.limiter().set_usage_source(source);
        parts.limits = limits;
        parts.memories = Arc::new((*parts.memories).clone().with_quotas(parts.limits.clone()));
        self
    }

    /// Checks one request of `who` through `surface` (REST or MCP, a plan feature flag) against
    /// their plan; see [`PlanLimits::admit`]. `None` when request limits are off.
    pub async fn admit(
        &self,
        who: &wm_domain::account::Principal,
        surface: &str,
        group: wm_domain::usage::EndpointGroup,
    ) -> CoreResult<Option<wm_limits::Decision>> {
        self.limits.admit(who, surface, group).await
    }

    /// Write out everything buffered in memory (key usage stamps, usage counts), and do the
    /// periodic upkeep that comes with it (see [`PlanLimits::flush`]).
    pub async fn flush(&self) {
        if let Err(e) = self.accounts.flush_touches().await {
            tracing::warn!(error = %e, "flushing key usage failed; will retry");
        }
        if let Err(e) = self.limits.flush().await {
            tracing::warn!(error = %e, "flushing usage counts failed; will retry");
        }
    }

    /// Write out everything buffered in memory, as the process stops.
    pub async fn flush_on_shutdown(&self) {
        if let Err(e) = self.accounts.flush_touches().await {
            tracing::warn!(error = %e, "writing key usage at shutdown failed; it is lost");
        }
        if let Err(e) = self.limits.write_usage().await {
            tracing::warn!(error = %e, "writing usage counts at shutdown failed; they are lost");
        }
    }

    /// Flush buffered writes every `every` until `shutdown` resolves, then write out what is
    /// left ([`Self::flush_on_shutdown`]).
    pub async fn run_flusher(self, every: std::time::Duration, shutdown: impl std::future::Future<Output = ()>) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = tick.tick() => self.flush().await,
                () = &mut shutdown => break,
            }
        }
        self.flush_on_shutdown().await;
    }
}
