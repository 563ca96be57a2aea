//! `MemoryStore` for SQLite: memories with a JSON tag array mirrored into `memory_tags`, and an
//! FTS5 external-content index (`porter unicode61`, bm25 weights title 10 > tags 4 > body 1)
//! kept in sync by triggers (see `migrations/0002_memories.up.sql`), plus an unstemmed twin
//! (`unicode61`, `migrations/0005_fts_prefix.up.sql`) for trailing-prefix terms. Both indexes
//! key their entries by owner and insertion order (`migrations/0007_search_candidates.up.sql`),
//! so a search walks only its account's matches, newest first, and ranks at most
//! `SearchQuery::candidates` of them. Every write waits its turn on the store's write queue
//! (`SqliteStore::write_lock`), inside a `BEGIN IMMEDIATE` transaction when it has several
//! statements; a plan quota is checked in that transaction (see `crud::check_quota`). Creates
//! that wait together are written in one transaction (group commit, see `group`).

mod crud;
mod group;
pub(crate) use group::Creates;
mod query;
mod row;
mod stats;

use crate::SqliteStore;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::memory::Memory;
use wm_store::{
    ConsolidationRun, ConsolidationWrite, ImportOutcome, MemoryQuery, MemoryStats, MemoryStore, Quota, SearchHit,
    SearchQuery, StoreResult, TagCount,
};

#[async_trait::async_trait]
impl MemoryStore for SqliteStore {
    async fn insert_memories(&self, owner: UserId, memories: &[Memory], quota: Option<Quota>) -> StoreResult<()> {
        self.create(owner, memories, quota).await
    }
    async fn import_memories(
        &self,
        owner: UserId,
        memories: &[Memory],
        quota: Option<Quota>,
    ) -> StoreResult<Vec<ImportOutcome>> {
        let _w = self.write_lock().await;
        crud::import(&self.pool, owner, memories, quota).await
    }
    async fn get_memory(&self, owner: UserId, id: Uuid) -> StoreResult<Option<Memory>> {
        crud::get(&self.pool, owner, id).await
    }
    async fn update_memory(&self, owner: UserId, memory: &Memory, quota: Option<Quota>) -> StoreResult<bool> {
        let _w = self.write_lock().await;
        crud::update(&self.pool, owner, memory, quota).await
    }
    async fn delete_memory(&self, owner: UserId, id: Uuid) -> StoreResult<bool> {
        let _w = self.write_lock().await;
        crud::delete(&self.pool, owner, id).await
    }
    async fn list_memories(&self, owner: UserId, query: &MemoryQuery) -> StoreResult<Vec<Memory>> {
        query::list(&self.pool, owner, query).await
    }
    async fn search_memories(&self, owner: UserId, query: &SearchQuery) -> StoreResult<Vec<SearchHit>> {
        query::search(&self.pool, owner, query).await
    }
    async fn touch_memories(&self, owner: UserId, ids: &[Uuid], at: DateTime<Utc>) -> StoreResult<()> {
        let _w = self.write_lock().await;
        crud::touch(&self.pool, owner, ids, at).await
    }
    async fn tag_counts(&self, owner: UserId) -> StoreResult<Vec<TagCount>> {
        stats::tag_counts(&self.pool, owner).await
    }
    async fn memory_stats(&self, owner: UserId) -> StoreResult<MemoryStats> {
        stats::stats(&self.pool, owner).await
    }
    async fn apply_consolidation(
        &self,
        owner: UserId,
        write: &ConsolidationWrite,
        quota: Option<Quota>,
    ) -> StoreResult<()> {
        let _w = self.write_lock().await;
        stats::apply(&self.pool, owner, write, quota).await
    }
    async fn log_consolidation(&self, owner: UserId, run: &ConsolidationRun) -> StoreResult<()> {
        let _w = self.write_lock().await;
        stats::log_run(&self.pool, owner, run).await
    }
    async fn list_consolidations(&self, owner: UserId, limit: u32) -> StoreResult<Vec<ConsolidationRun>> {
        stats::list_runs(&self.pool, owner, limit).await
    }
}
