//! Tag counts, per-account statistics and consolidation (apply and log).

use super::crud::{BEGIN_WRITE, check_quota, insert_all};
use super::row::{encode_err, parse_type};
use crate::backend::{db_err, from_micros, micros};
use sqlx::{Row, SqliteConnection, SqlitePool};
use wm_domain::ids::UserId;
use wm_domain::memory::MemoryType;
use wm_store::{
    ConsolidationRun, ConsolidationWrite, MemoryStats, Quota, StoreError, StoreResult, TagCount, footprint,
};

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) async fn tag_counts(pool: &SqlitePool, owner: UserId) -> StoreResult<Vec<TagCount>> {
    let rows = sqlx::query(
        "SELECT t.tag AS tag, COUNT(*) AS n, group_concat(DISTINCT m.type) AS types \
         FROM memory_tags t JOIN memories m ON m.seq = t.memory_seq \
         WHERE t.user_id = ? GROUP BY t.tag ORDER BY n DESC, t.tag",
    )
    .bind(owner.0)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let types: String = r.try_get("types").map_err(db_err)?;
            let mut types = types.split(',').map(parse_type).collect::<StoreResult<Vec<MemoryType>>>()?;
            types.sort_by_key(|t| t.as_str());
            types.dedup();
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
pub(super) async fn stats(pool: &SqlitePool, owner: UserId) -> StoreResult<MemoryStats> {
    let row = sqlx::query(
        "SELECT c.short_active, c.short_archived, c.long_active, c.long_archived, c.bytes, \
         (SELECT MIN(created_at) FROM memories WHERE user_id = c.user_id) AS oldest, \
         (SELECT MAX(created_at) FROM memories WHERE user_id = c.user_id) AS newest \
         FROM memory_counts c WHERE c.user_id = ?",
    )
    .bind(owner.0)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    let Some(r) = row else { return Ok(MemoryStats::default()) };
    let get = |col: &str| r.try_get::<i64, _>(col).map(count).map_err(db_err);
    let at = |col: &str| r.try_get::<Option<i64>, _>(col).map_err(db_err)?.map(from_micros).transpose();
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

async fn log(conn: &mut SqliteConnection, owner: UserId, run: &ConsolidationRun) -> StoreResult<()> {
    sqlx::query("INSERT INTO consolidations (id, user_id, ran_at, dry_run, report) VALUES (?, ?, ?, ?, ?)")
        .bind(run.id)
        .bind(owner.0)
        .bind(micros(run.ran_at))
        .bind(run.dry_run)
        .bind(serde_json::to_string(&run.report).map_err(encode_err)?)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(super) async fn log_run(pool: &SqlitePool, owner: UserId, run: &ConsolidationRun) -> StoreResult<()> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    log(&mut conn, owner, run).await
}

/// Applies and logs a consolidation; with a quota, its inserts must fit (retags and archives
/// change neither the count nor the bytes, so the check comes first).
pub(super) async fn apply(
    pool: &SqlitePool,
    owner: UserId,
    w: &ConsolidationWrite,
    quota: Option<Quota>,
) -> StoreResult<()> {
    let at = micros(w.at);
    let mut tx = pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
    check_quota(&mut tx, owner, quota, footprint(&w.insert)).await?;
    for (id, tags) in &w.retag {
        sqlx::query("UPDATE memories SET tags = ?, updated_at = ? WHERE id = ? AND user_id = ?")
            .bind(serde_json::to_string(tags).map_err(encode_err)?)
            .bind(at)
            .bind(id)
            .bind(owner.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    for id in &w.archive {
        sqlx::query(
            "UPDATE memories SET status = 'archived', archived_at = ?, updated_at = ? \
             WHERE id = ? AND user_id = ? AND status = 'active'",
        )
        .bind(at)
        .bind(at)
        .bind(id)
        .bind(owner.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    insert_all(&mut tx, owner, &w.insert).await?;
    log(&mut tx, owner, &w.log).await?;
    tx.commit().await.map_err(db_err)
}

pub(super) async fn list_runs(pool: &SqlitePool, owner: UserId, limit: u32) -> StoreResult<Vec<ConsolidationRun>> {
    let rows = sqlx::query(
        "SELECT id, ran_at, dry_run, report FROM consolidations WHERE user_id = ? \
         ORDER BY ran_at DESC, id DESC LIMIT ?",
    )
    .bind(owner.0)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let report: String = r.try_get("report").map_err(db_err)?;
            Ok(ConsolidationRun {
                id: r.try_get("id").map_err(db_err)?,
                ran_at: from_micros(r.try_get("ran_at").map_err(db_err)?)?,
                dry_run: r.try_get("dry_run").map_err(db_err)?,
                report: serde_json::from_str(&report)
                    .map_err(|e| StoreError::Corrupt(format!("consolidations.report: {e}")))?,
            })
        })
        .collect()
}
