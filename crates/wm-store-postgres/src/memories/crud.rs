//! Insert, import, get, update, delete and touch.

use super::row::{self, COLS, status_str, type_str};
use crate::backend::db_err;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::memory::Memory;
use wm_store::{ImportOutcome, Quota, StoreResult, footprint};

const INSERT: &str = "INSERT INTO memories (id, user_id, title, content, type, status, tags, metadata, scope, \
     created_at, updated_at, accessed_at, archived_at, size_bytes, content_hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

/// The account's totals, (memories, bytes), from its `memory_counts` row (kept by statement-level
/// triggers, migration 0006), locked until the transaction ends.
const LOCK_TOTALS: &str = "SELECT short_active + short_archived + long_active + long_archived, bytes \
     FROM memory_counts WHERE user_id = $1 FOR UPDATE";

fn totals((memories, bytes): (i64, i64)) -> (u64, u64) {
    (u64::try_from(memories).unwrap_or(0), u64::try_from(bytes).unwrap_or(0))
}

/// The account's totals, (memories, bytes), with its `memory_counts` row locked until the
/// transaction ends: every other write that changes the totals (its trigger updates that row)
/// waits, and a concurrent one that committed first is seen (`FOR UPDATE` returns the newest
/// version of the row). One statement when the row exists, which it does once the account has
/// held a memory; otherwise it is created first (a concurrent creator makes this wait for it).
pub(super) async fn lock_totals(conn: &mut PgConnection, owner: UserId) -> StoreResult<(u64, u64)> {
    let lock = || sqlx::query_as::<_, (i64, i64)>(LOCK_TOTALS).bind(owner.0);
    if let Some(row) = lock().fetch_optional(&mut *conn).await.map_err(db_err)? {
        return Ok(totals(row));
    }
    sqlx::query("INSERT INTO memory_counts (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING")
        .bind(owner.0)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(totals(lock().fetch_one(&mut *conn).await.map_err(db_err)?))
}

/// Refuses, inside the caller's transaction and after its inserts, the `(memories, bytes)` they
/// added when that took the account beyond `quota`; the caller's error return rolls them back.
/// The inserts' trigger already holds the account's `memory_counts` row until commit, so the
/// totals read here include every concurrent write that got the row first, and the account's
/// holdings before this write are those totals less what it added. Checking after (not before)
/// keeps the inserts themselves — the costly part, with the GIN index updates — outside the
/// section that concurrent writes of one account go through one at a time.
pub(super) async fn check_quota(
    conn: &mut PgConnection,
    owner: UserId,
    quota: Option<Quota>,
    (memories, bytes): (u64, u64),
) -> StoreResult<()> {
    match quota {
        Some(q) if memories > 0 || bytes > 0 => {
            let (after_memories, after_bytes) = lock_totals(conn, owner).await?;
            q.check(after_memories.saturating_sub(memories), after_bytes.saturating_sub(bytes), memories, bytes)
        }
        _ => Ok(()),
    }
}

/// Insert one memory; `ignore_taken` turns an id collision into "0 rows" instead of `Conflict`.
async fn insert_one(conn: &mut PgConnection, owner: UserId, m: &Memory, ignore_taken: bool) -> StoreResult<u64> {
    let sql = if ignore_taken { format!("{INSERT} ON CONFLICT (id) DO NOTHING") } else { INSERT.to_owned() };
    let done = sqlx::query(&sql)
        .bind(m.id)
        .bind(owner.0)
        .bind(&m.title)
        .bind(&m.content)
        .bind(type_str(m.memory_type))
        .bind(status_str(m.status))
        .bind(&m.tags)
        .bind(Json(&m.metadata))
        .bind(m.scope.as_deref())
        .bind(m.created_at)
        .bind(m.updated_at)
        .bind(m.accessed_at)
        .bind(m.archived_at)
        .bind(i64::try_from(m.size_bytes).unwrap_or(i64::MAX))
        .bind(&m.content_hash)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected())
}

/// Rows per multi-row `INSERT` (15 parameters each, well under PostgreSQL's 65,535).
const INSERT_CHUNK: usize = 500;

/// Insert several memories on one connection (the caller owns the transaction), as one multi-row
/// statement per chunk: one round trip, and the statement-level `memory_counts` trigger runs once.
pub(super) async fn insert_all(conn: &mut PgConnection, owner: UserId, memories: &[Memory]) -> StoreResult<()> {
    for chunk in memories.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<Postgres>::new(
            "INSERT INTO memories (id, user_id, title, content, type, status, tags, metadata, scope, \
             created_at, updated_at, accessed_at, archived_at, size_bytes, content_hash) ",
        );
        qb.push_values(chunk, |mut row, m| {
            row.push_bind(m.id)
                .push_bind(owner.0)
                .push_bind(m.title.clone())
                .push_bind(m.content.clone())
                .push_bind(type_str(m.memory_type))
                .push_bind(status_str(m.status))
                .push_bind(m.tags.clone())
                .push_bind(Json(m.metadata.clone()))
                .push_bind(m.scope.clone())
                .push_bind(m.created_at)
                .push_bind(m.updated_at)
                .push_bind(m.accessed_at)
                .push_bind(m.archived_at)
                .push_bind(i64::try_from(m.size_bytes).unwrap_or(i64::MAX))
                .push_bind(m.content_hash.clone());
        });
        qb.build().execute(&mut *conn).await.map_err(db_err)?;
    }
    Ok(())
}

pub(super) async fn insert(pool: &PgPool, owner: UserId, memories: &[Memory], quota: Option<Quota>) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    insert_all(&mut tx, owner, memories).await?;
    check_quota(&mut tx, owner, quota, footprint(memories)).await?;
    tx.commit().await.map_err(db_err)
}

/// Inserts what is new; with a quota, what was actually created must fit, or the transaction
/// rolls back ([`check_quota`]; locking the totals first could also deadlock with a
/// concurrent delete of an imported id).
pub(super) async fn import(
    pool: &PgPool,
    owner: UserId,
    memories: &[Memory],
    quota: Option<Quota>,
) -> StoreResult<Vec<ImportOutcome>> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let mut out = Vec::with_capacity(memories.len());
    let (mut created, mut created_bytes) = (0u64, 0u64);
    for m in memories {
        if insert_one(&mut tx, owner, m, true).await? == 1 {
            out.push(ImportOutcome::Created);
            created += 1;
            created_bytes += m.size_bytes;
            continue;
        }
        let holder: Option<Uuid> = sqlx::query_scalar("SELECT user_id FROM memories WHERE id = $1")
            .bind(m.id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        out.push(if holder == Some(owner.0) { ImportOutcome::Skipped } else { ImportOutcome::IdTaken });
    }
    check_quota(&mut tx, owner, quota, (created, created_bytes)).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(out)
}

pub(super) async fn get(pool: &PgPool, owner: UserId, id: Uuid) -> StoreResult<Option<Memory>> {
    let sql = format!("SELECT {COLS} FROM memories m WHERE m.id = $1 AND m.user_id = $2");
    let found = sqlx::query(&sql).bind(id).bind(owner.0).fetch_optional(pool).await.map_err(db_err)?;
    found.as_ref().map(row::memory).transpose()
}

/// Replaces the memory; with a quota, its growth over the stored size must fit. One statement
/// locks the memory and then the account's totals (the order every other write takes them in:
/// a memory's trigger updates the totals after the memory) and reads both; the update follows
/// in the same transaction. The totals row exists whenever the account holds a memory, so no
/// row means no such memory.
pub(super) async fn update(pool: &PgPool, owner: UserId, m: &Memory, quota: Option<Quota>) -> StoreResult<bool> {
    let Some(q) = quota else {
        let mut conn = pool.acquire().await.map_err(db_err)?;
        return update_row(&mut conn, owner, m).await;
    };
    let mut tx = pool.begin().await.map_err(db_err)?;
    let locked: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT m.size_bytes, c.short_active + c.short_archived + c.long_active + c.long_archived, c.bytes \
         FROM memories m JOIN memory_counts c ON c.user_id = m.user_id \
         WHERE m.id = $1 AND m.user_id = $2 FOR UPDATE",
    )
    .bind(m.id)
    .bind(owner.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some((stored, held_memories, held_bytes)) = locked else { return Ok(false) };
    let (held_memories, held_bytes) = totals((held_memories, held_bytes));
    q.check(held_memories, held_bytes, 0, m.size_bytes.saturating_sub(u64::try_from(stored).unwrap_or(0)))?;
    let updated = update_row(&mut tx, owner, m).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(updated)
}

async fn update_row(conn: &mut PgConnection, owner: UserId, m: &Memory) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE memories SET title = $1, content = $2, type = $3, status = $4, tags = $5, metadata = $6, \
         scope = $7, created_at = $8, updated_at = $9, accessed_at = $10, archived_at = $11, size_bytes = $12, \
         content_hash = $13 WHERE id = $14 AND user_id = $15",
    )
    .bind(&m.title)
    .bind(&m.content)
    .bind(type_str(m.memory_type))
    .bind(status_str(m.status))
    .bind(&m.tags)
    .bind(Json(&m.metadata))
    .bind(m.scope.as_deref())
    .bind(m.created_at)
    .bind(m.updated_at)
    .bind(m.accessed_at)
    .bind(m.archived_at)
    .bind(i64::try_from(m.size_bytes).unwrap_or(i64::MAX))
    .bind(&m.content_hash)
    .bind(m.id)
    .bind(owner.0)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn delete(pool: &PgPool, owner: UserId, id: Uuid) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM memories WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(owner.0)
        .execute(pool)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn touch(pool: &PgPool, owner: UserId, ids: &[Uuid], at: DateTime<Utc>) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("UPDATE memories SET accessed_at = $1 WHERE user_id = $2 AND id = ANY($3) AND accessed_at < $1")
        .bind(at)
        .bind(owner.0)
        .bind(ids)
        .execute(pool)
        .await
        .map_err(db_err)?;
    Ok(())
}
