//! Memory-count and storage quotas: checked before writes that add memories or bytes.
//!
//! The check reads the account's current totals, then the write happens: two concurrent
//! writes near the limit can both pass (the overshoot is bounded by the writes in flight).

use super::PlanLimits;
use crate::memories::QuotaDelta;
use crate::{CoreError, CoreResult};
use wm_domain::ids::UserId;

/// Which quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaKind {
    /// Number of memories (active and archived).
    Memories,
    /// Sum of the memories' sizes in bytes.
    StorageBytes,
}

impl QuotaKind {
    /// `memories` or `storage_bytes`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memories => "memories",
            Self::StorageBytes => "storage_bytes",
        }
    }
}

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
    /// Refuses (403 `plan_limit_reached`) a write adding `delta` to `owner`'s memories when it
    /// would exceed the plan's memory count or storage. No-op when quotas are off.
    pub async fn check_quota(&self, owner: UserId, delta: QuotaDelta) -> CoreResult<()> {
        if !self.config.quotas || (delta.memories == 0 && delta.bytes == 0) {
            return Ok(());
        }
        let user = self.store.get_user(owner).await?.ok_or(CoreError::NotFound("user"))?;
        let plan = self.plan(&user.plan).await?;
        let stats = self.store.memory_stats(owner).await?;
        let exceeded = |kind, max, current: u64, requested: u64| {
            (requested > 0 && current.saturating_add(requested) > max).then(|| {
                CoreError::PlanLimitReached(QuotaExceeded {
                    plan: user.plan.to_string(),
                    kind,
                    max,
                    current,
                    requested,
                })
            })
        };
        let refused = exceeded(QuotaKind::Memories, plan.max_memories, stats.total(), delta.memories)
            .or_else(|| exceeded(QuotaKind::StorageBytes, plan.max_storage_bytes, stats.storage_bytes, delta.bytes));
        match refused {
            Some(e) => {
                tracing::debug!(user.id = %owner, "plan quota reached");
                Err(e)
            }
            None => Ok(()),
        }
    }
}
