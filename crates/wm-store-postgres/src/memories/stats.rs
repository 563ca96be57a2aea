//! Tag counts, per-account statistics and consolidation (apply and log).

use super::crud::{check_quota, insert_all};
use super::row::parse_type;
use crate::backend::db_err;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row};
use wm_domain::ids::UserId;
use wm_domain::memory::MemoryType;
use wm_store::{ConsolidationRun, ConsolidationWrite, MemoryStats, Quota, StoreResult, TagCount, footprint};

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) async fn tag_counts(pool: &PgPool, owner: UserId) -> StoreResult<Vec<TagCount>> {
    let rows = sqlx::query(
        "SELECT t.tag AS tag, COUNT(DISTINCT m.id) AS n, array_agg(DISTINCT m.type) AS types \
         FROM memories m CROSS JOIN LATERAL unnest(m.tags) AS t(tag) \
         WHERE m.user_id = $1 GROUP BY t.tag ORDER BY n DESC, t.tag COLLATE \"C\"",
    )
    .bind(owner.0)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let types: Vec<String> = r.try_get("types").map_err(db_err)?;
            let mut types = types.iter().map(|t| parse_type(t)).collect::<StoreResult<Vec<MemoryType>>>()?;
            types.sort_by_key(|t| t.as_str());
            Ok(TagCount {
                tag: r.try_get("tag").map_err(db_err)?,
                count: count(r.try_get("n").map_err(db_err)?),
                types,
            })
        })
        .collect()
}

/// Counts and bytes from `memory_counts` (kept by triggers, migration 0006); oldest and newest
/// by two seeks on `(user_id, created_at)`. Constant time in the account's size.
pub(super) async fn stats(pool: &PgPool, owner: UserId) -> StoreResult<MemoryStats> {
    let row = sqlx::query(
        "SELECT c.short_active, c.short_archived, c.long_active, c.long_archived, c.bytes, \
         (SELECT MIN(created_at) FROM memories WHERE user_id = c.user_id) AS oldest, \
         (SELECT MAX(created_at) FROM memories WHERE user_id = c.user_id) AS newest \
         FROM memory_counts c WHERE c.user_id = $1",
    )
    .bind(owner.0)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    let Some(r) = row else { return Ok(MemoryStats::default()) };
    let get = |col: &str| r.try_get::<i64, _>(col).map(count).map_err(db_err);
    let at = |col: &str| r.try_get::<Option<DateTime<Utc>>, _>(col).map_err(db_err);
    Ok(MemoryStats {
        short_term_active: get("short_active")?,
        short_term_archived: get("short_archived")?,
        long_term_active: get("long_active")?,
        long_term_archived: get("long_archived")?,
        storage_bytes: get("bytes")?,
        oldest: at("oldest")?,
        newest: at("newest")?,
    })
}

async fn log(conn: &mut PgConnection, owner: UserId, run: &ConsolidationRun) -> StoreResult<()> {
    sqlx::query("INSERT INTO consolidations (id, user_id, ran_at, dry_run, report) VALUES ($1, $2, $3, $4, $5)")
        .bind(run.id)
        .bind(owner.0)
        .bind(run.ran_at)
        .bind(run.dry_run)
        .bind(Json(&run.report))
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(super) async fn log_run(pool: &PgPool, owner: UserId, run: &ConsolidationRun) -> StoreResult<()> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    log(&mut conn, owner, run).await
}

/// Applies and logs a consolidation; with a quota, its inserts must fit. The quota check locks
/// the account's totals after the retags and archives (which lock memories first, as every
/// write does) and before the inserts.
pub(super) async fn apply(
    pool: &PgPool,
    owner: UserId,
    w: &ConsolidationWrite,
    quota: Option<Quota>,
) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    for (id, tags) in &w.retag {
        sqlx::query("UPDATE memories SET tags = $1, updated_at = $2 WHERE id = $3 AND user_id = $4")
            .bind(tags)
            .bind(w.at)
            .bind(id)
            .bind(owner.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    if !w.archive.is_empty() {
        sqlx::query(
            "UPDATE memories SET status = 'archived', archived_at = $1, updated_at = $1 \
             WHERE id = ANY($2) AND user_id = $3 AND status = 'active'",
        )
        .bind(w.at)
        .bind(&w.archive)
        .bind(owner.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    insert_all(&mut tx, owner, &w.insert).await?;
    check_quota(&mut tx, owner, quota, footprint(&w.insert)).await?;
    log(&mut tx, owner, &w.log).await?;
    tx.commit().await.map_err(db_err)
}

pub(super) async fn list_runs(pool: &PgPool, owner: UserId, limit: u32) -> StoreResult<Vec<ConsolidationRun>> {
    let rows = sqlx::query(
        "SELECT id, ran_at, dry_run, report FROM consolidations WHERE user_id = $1 \
         ORDER BY ran_at DESC, id DESC LIMIT $2",
    )
    .bind(owner.0)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(ConsolidationRun {
                id: r.try_get("id").map_err(db_err)?,
                ran_at: r.try_get("ran_at").map_err(db_err)?,
                dry_run: r.try_get("dry_run").map_err(db_err)?,
                report: r.try_get("report").map_err(db_err)?,
            })
        })
        .collect()
}
