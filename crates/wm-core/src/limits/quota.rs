//! Memory-count and storage quotas, enforced by the writes that add memories or bytes.
//!
//! The plan is looked up here (the store does not know plans), from the owner's account as cached
//! with their just-verified key (dropped with the key cache on any plan or user change, here or,
//! through Redis, on another instance) or else read from the store; its limits go to the store as a
//! [`Quota`] with the write ([`PlanLimits::with_quota`]). The store checks them in the write's
//! own transaction against the account's totals read under a lock — PostgreSQL locks the
//! account's `memory_counts` row `FOR UPDATE`, SQLite's write transactions hold the database's
//! write lock from `BEGIN IMMEDIATE` — so concurrent writes near a limit are decided one after
//! another and never take the account past it together. A refusal writes nothing and comes back
//! as `StoreError::QuotaExceeded`, reported as [`CoreError::PlanLimitReached`] (403
//! `plan_limit_reached`) with the plan's name.

use super::PlanLimits;
use crate::memories::QuotaDelta;
use crate::{CoreError, CoreResult};
use std::future::Future;
use wm_domain::ids::UserId;
use wm_domain::plan::PlanName;
use wm_store::{Quota, StoreError, StoreResult};

pub use wm_store::QuotaKind;

/// A write refused because it would take the account over a plan quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaExceeded {
    /// The account's plan.
    pub plan: String,
    pub kind: QuotaKind,
    /// The plan's limit.
    pub max: u64,
    /// What the account holds now.
    pub current: u64,
    /// What the write would add.
    pub requested: u64,
}

impl QuotaExceeded {
    /// A sentence for the caller.
    pub fn message(&self) -> String {
        let what = match self.kind {
            QuotaKind::Memories => format!("{} memories", self.max),
            QuotaKind::StorageBytes => format!("{} bytes of memories", self.max),
        };
        format!(
            "plan limit reached: the {} plan allows {what} and this account holds {}; delete some or upgrade",
            self.plan, self.current
        )
    }

    /// The structured details (`limit`, `max`, `current`, `requested`, `plan`).
    pub fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "limit": self.kind.as_str(),
            "max": self.max,
            "current": self.current,
            "requested": self.requested,
            "plan": self.plan,
        })
    }
}

impl PlanLimits {
    /// The plan of `owner` and its limits as a store [`Quota`]; `None` when quotas are off.
    async fn plan_quota(&self, owner: UserId) -> CoreResult<Option<(PlanName, Quota)>> {
        if !self.config.quotas {
            return Ok(None);
        }
        // Cached with the owner's key when it was just verified (API requests); otherwise (CLI,
        // a key that expired from the cache) read from the store.
        let user = self.accounts.user(owner).await?;
        let plan = self.plan(&user.plan).await?;
        Ok(Some((
            user.plan.clone(),
            Quota { max_memories: plan.max_memories, max_storage_bytes: plan.max_storage_bytes },
        )))
    }

    /// Runs `write`, a store write adding `delta` to `owner`'s memories, held to the plan's
    /// quota: `write` gets the [`Quota`] to pass to the store, which checks it atomically with
    /// the write; a refusal becomes 403 `plan_limit_reached`. A write adding nothing, or quotas
    /// off: no plan lookup, and `write` gets `None`.
    pub async fn with_quota<T, Fut>(
        &self,
        owner: UserId,
        delta: QuotaDelta,
        write: impl FnOnce(Option<Quota>) -> Fut,
    ) -> CoreResult<T>
    where
        Fut: Future<Output = StoreResult<T>>,
    {
        let limits = if delta.memories == 0 && delta.bytes == 0 { None } else { self.plan_quota(owner).await? };
        match (write(limits.as_ref().map(|(_, q)| *q)).await, limits) {
            (Err(StoreError::QuotaExceeded { kind, max, current, requested }), Some((plan, _))) => {
                tracing::debug!(user.id = %owner, limit = kind.as_str(), "plan quota reached");
                Err(CoreError::PlanLimitReached(QuotaExceeded {
                    plan: plan.to_string(),
                    kind,
                    max,
                    current,
                    requested,
                }))
            }
            (written, _) => Ok(written?),
        }
    }

    /// An early check of a write adding `delta`, from the totals as they are now — not atomic
    /// with any write, so only a way to refuse a large write (an import of several store calls)
    /// before it starts; the writes themselves are held to the quota by [`Self::with_quota`].
    /// Refuses with 403 `plan_limit_reached`; no-op when quotas are off or nothing is added.
    pub async fn check_quota(&self, owner: UserId, delta: QuotaDelta) -> CoreResult<()> {
        let store = &self.store;
        self.with_quota(owner, delta, |quota| async move {
            match quota {
                Some(q) => {
                    let stats = store.memory_stats(owner).await?;
                    q.check(stats.total(), stats.storage_bytes, delta.memories, delta.bytes)
                }
                None => Ok(()),
            }
        })
        .await
    }
}
