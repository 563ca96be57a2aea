//! Insert, import, get, update, delete and touch.

use super::row::{self, COLS, status_str, type_str};
use crate::backend::db_err;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::memory::Memory;
use wm_store::{ImportOutcome, StoreResult};

const INSERT: &str = "INSERT INTO memories (id, user_id, title, content, type, status, tags, metadata, scope, \
     created_at, updated_at, accessed_at, archived_at, size_bytes, content_hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

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

pub(super) async fn insert(pool: &PgPool, owner: UserId, memories: &[Memory]) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    insert_all(&mut tx, owner, memories).await?;
    tx.commit().await.map_err(db_err)
}

pub(super) async fn import(pool: &PgPool, owner: UserId, memories: &[Memory]) -> StoreResult<Vec<ImportOutcome>> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let mut out = Vec::with_capacity(memories.len());
    for m in memories {
        if insert_one(&mut tx, owner, m, true).await? == 1 {
            out.push(ImportOutcome::Created);
            continue;
        }
        let holder: Option<Uuid> = sqlx::query_scalar("SELECT user_id FROM memories WHERE id = $1")
            .bind(m.id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        out.push(if holder == Some(owner.0) { ImportOutcome::Skipped } else { ImportOutcome::IdTaken });
    }
    tx.commit().await.map_err(db_err)?;
    Ok(out)
}

pub(super) async fn get(pool: &PgPool, owner: UserId, id: Uuid) -> StoreResult<Option<Memory>> {
    let sql = format!("SELECT {COLS} FROM memories m WHERE m.id = $1 AND m.user_id = $2");
    let found = sqlx::query(&sql).bind(id).bind(owner.0).fetch_optional(pool).await.map_err(db_err)?;
    found.as_ref().map(row::memory).transpose()
}

pub(super) async fn update(pool: &PgPool, owner: UserId, m: &Memory) -> StoreResult<bool> {
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
    .execute(pool)
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
