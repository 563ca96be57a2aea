//! Memories: the per-account use-cases behind the REST API, the MCP server and the CLI.
//!
//! Every method takes the owning account's [`UserId`]; one account never sees another's data
//! (the store enforces it, and an id of someone else's memory is simply "not found").
//!
//! Decisions kept here:
//! - Every timestamp comes from the injected clock, truncated to microseconds (what PostgreSQL
//!   stores), so a value returned on create is exactly the value read back later.
//! - `GET /memories/{id}` ([`Memories::get`]) is a read of one memory and moves its `accessed_at`
//!   to now; listing, searching and exporting do not (they are browsing, and an export must not
//!   change what it exports). [`Memories::context`] touches what it includes.
//! - Plan quotas (memory count, storage bytes) are enforced by every write that adds memories
//!   or bytes, atomically with it: [`Memories::with_quota`] hands the plan's limits to the store
//!   write, which checks them in its own transaction (see `crate::limits::PlanLimits::with_quota`).

mod archive;
mod consolidate;
mod cursor;
mod export;
mod import;
mod list;
mod preview;
mod search;
mod stats;

pub use archive::{ImportFile, ImportLimits, read_zip};
pub use consolidate::ConsolidationRunView;
pub use cursor::Cursor;
pub use export::Export;
pub use import::{ImportFileResult, ImportFileStatus, ImportFormat, ImportReport};
pub use list::{ListOrder, ListRequest, ListSort, ListStatus, MemoryPage};
pub use preview::preview;
pub use search::{SearchFilters, SearchRequest, SearchResponse, SearchResult};
pub use stats::{StatsView, StatusCounts, TagStats, TagView, TagsView, TypeCounts};

use crate::{CoreError, CoreResult};
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::memory::{CreateMemoryRequest, Memory, MemoryLimits, MemoryStatus, UpdateMemoryRequest};
use wm_domain::{Clock, ValidationError};
use wm_store::{Quota, Store, StoreResult};

/// Most memories one `POST /memories/batch` may create.
pub const MAX_BATCH: usize = 100;

/// Memory use-cases over one store and one clock.
#[derive(Clone)]
pub struct Memories {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    limits: MemoryLimits,
    import_limits: ImportLimits,
    /// Plan quotas ([`Memories::with_quotas`]); none: every write is allowed.
    quotas: Option<Arc<crate::limits::PlanLimits>>,
}

/// Create several memories at once (`POST /memories/batch`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchCreateRequest {
    /// 1–100 memories, created in one transaction (all or none).
    pub memories: Vec<CreateMemoryRequest>,
}

/// Memories just created, in request order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchCreated {
    /// The created memories.
    pub memories: Vec<Memory>,
}

/// What a write would add to an account, for [`Memories::with_quota`] and [`Memories::check_quota`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuotaDelta {
    /// Memories added.
    pub memories: u64,
    /// Bytes (`size_bytes`) added.
    pub bytes: u64,
}

impl QuotaDelta {
    /// What storing `memories` adds.
    pub fn of(memories: &[Memory]) -> Self {
        let (memories, bytes) = wm_store::footprint(memories);
        Self { memories, bytes }
    }
}

impl Memories {
    /// The use-cases with the default [`ImportLimits`].
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, limits: MemoryLimits) -> Self {
        Self { store, clock, limits, import_limits: ImportLimits::default(), quotas: None }
    }

    /// Enforce the plan quotas of `quotas` on writes ([`Memories::with_quota`]).
    pub fn with_quotas(mut self, quotas: Arc<crate::limits::PlanLimits>) -> Self {
        self.quotas = Some(quotas);
        self
    }

    /// Replace the import bounds (tests, or an operator's configuration).
    pub fn with_import_limits(mut self, import_limits: ImportLimits) -> Self {
        self.import_limits = import_limits;
        self
    }

    /// The configured input limits.
    pub fn limits(&self) -> &MemoryLimits {
        &self.limits
    }

    /// Now, from the clock, at microsecond precision.
    fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// **The plan-quota hook.** Every write that adds memories or bytes runs through it:
    /// [`Memories::create`], [`Memories::create_batch`], [`Memories::update`] (growth only),
    /// [`Memories::import_files`] and a real [`Memories::consolidate`] (its promotions and digests).
    ///
    /// `write` is the store call; it gets the account's plan limits as a [`Quota`], which the
    /// store checks in the write's own transaction against the account's totals read under a
    /// lock, so concurrent writes cannot pass a limit together. A refusal writes nothing and is
    /// `CoreError::PlanLimitReached` (403 `plan_limit_reached`). `delta` (what the write adds)
    /// only decides whether there is anything to check. Reads, deletes, archives and exports
    /// never pass a quota, so they always stay allowed. Without quotas `write` gets `None`.
    pub async fn with_quota<T, Fut>(
        &self,
        owner: UserId,
        delta: QuotaDelta,
        write: impl FnOnce(Option<Quota>) -> Fut,
    ) -> CoreResult<T>
    where
        Fut: Future<Output = StoreResult<T>>,
    {
        match &self.quotas {
            Some(quotas) => quotas.with_quota(owner, delta, write).await,
            None => Ok(write(None).await?),
        }
    }

    /// An early, advisory check of a write adding `delta` against the totals as they are now
    /// (see [`crate::limits::PlanLimits::check_quota`]): lets an import of several store calls be
    /// refused whole before it starts. Not atomic; the writes are held by [`Self::with_quota`].
    pub async fn check_quota(&self, owner: UserId, delta: QuotaDelta) -> CoreResult<()> {
        match &self.quotas {
            Some(quotas) => quotas.check_quota(owner, delta).await,
            None => Ok(()),
        }
    }

    /// Create one memory (`POST /memories`).
    pub async fn create(&self, owner: UserId, req: &CreateMemoryRequest) -> CoreResult<Memory> {
        let new = req.validate(&self.limits)?;
        let memory = new.into_memory(Uuid::now_v7(), self.now());
        let delta = QuotaDelta { memories: 1, bytes: memory.size_bytes };
        self.with_quota(owner, delta, |quota| self.store.insert_memories(owner, std::slice::from_ref(&memory), quota))
            .await?;
        tracing::debug!(user.id = %owner, memory.id = %memory.id, "memory created");
        Ok(memory)
    }

    /// Create 1–100 memories in one transaction; a validation error names the item
    /// (`memories[3].title`) and creates nothing.
    pub async fn create_batch(&self, owner: UserId, req: &BatchCreateRequest) -> CoreResult<Vec<Memory>> {
        if req.memories.is_empty() || req.memories.len() > MAX_BATCH {
            return Err(ValidationError::new("memories", format!("must hold 1-{MAX_BATCH} memories")).into());
        }
        let now = self.now();
        let memories = req
            .memories
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.validate(&self.limits)
                    .map(|n| n.into_memory(Uuid::now_v7(), now))
                    .map_err(|e| ValidationError::new(format!("memories[{i}].{}", e.field), e.message))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let delta = QuotaDelta::of(&memories);
        self.with_quota(owner, delta, |quota| self.store.insert_memories(owner, &memories, quota)).await?;
        Ok(memories)
    }

    /// One memory; moves its `accessed_at` to now (a read of one memory is an access).
    pub async fn get(&self, owner: UserId, id: Uuid) -> CoreResult<Memory> {
        let mut memory = self.find(owner, id).await?;
        let now = self.now();
        if now > memory.accessed_at {
            self.store.touch_memories(owner, &[id], now).await?;
            memory.accessed_at = now;
        }
        Ok(memory)
    }

    /// One memory without touching it.
    async fn find(&self, owner: UserId, id: Uuid) -> CoreResult<Memory> {
        self.store.get_memory(owner, id).await?.ok_or(CoreError::NotFound("memory"))
    }

    /// Apply a partial update (`PATCH`, and `PUT` which means the same here). A patch that
    /// changes nothing returns the memory as it is, without writing.
    pub async fn update(&self, owner: UserId, id: Uuid, req: &UpdateMemoryRequest) -> CoreResult<Memory> {
        let patch = req.validate(&self.limits)?;
        let mut memory = self.find(owner, id).await?;
        let before = memory.size_bytes;
        if !patch.apply(&mut memory, &self.limits, self.now())? {
            return Ok(memory);
        }
        // Growth is checked by the store against the size stored when it writes.
        let delta = QuotaDelta { memories: 0, bytes: memory.size_bytes.saturating_sub(before) };
        if !self.with_quota(owner, delta, |quota| self.store.update_memory(owner, &memory, quota)).await? {
            return Err(CoreError::NotFound("memory"));
        }
        Ok(memory)
    }

    /// Archive an active memory (`DELETE /memories/{id}`); an archived one is a conflict.
    pub async fn archive(&self, owner: UserId, id: Uuid) -> CoreResult<Memory> {
        let mut memory = self.find(owner, id).await?;
        if memory.status == MemoryStatus::Archived {
            return Err(CoreError::Conflict("this memory is already archived".into()));
        }
        memory.archive(self.now());
        self.save(owner, &memory).await?;
        Ok(memory)
    }

    /// Restore an archived memory; an active one is a conflict.
    pub async fn restore(&self, owner: UserId, id: Uuid) -> CoreResult<Memory> {
        let mut memory = self.find(owner, id).await?;
        if memory.status == MemoryStatus::Active {
            return Err(CoreError::Conflict("this memory is not archived".into()));
        }
        memory.restore(self.now());
        self.save(owner, &memory).await?;
        Ok(memory)
    }

    /// Delete for good (`DELETE /memories/{id}?permanent=true`), active or archived.
    pub async fn delete(&self, owner: UserId, id: Uuid) -> CoreResult<()> {
        if !self.store.delete_memory(owner, id).await? {
            return Err(CoreError::NotFound("memory"));
        }
        tracing::debug!(user.id = %owner, memory.id = %id, "memory deleted permanently");
        Ok(())
    }

    /// Writes a change that adds no bytes (archive, restore).
    async fn save(&self, owner: UserId, memory: &Memory) -> CoreResult<()> {
        if !self.store.update_memory(owner, memory, None).await? {
            return Err(CoreError::NotFound("memory"));
        }
        Ok(())
    }
}
