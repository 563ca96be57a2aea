//! Insert, import, get, update, delete and touch.

use super::group::Create;
use super::row::{self, COLS, encode_err, status_str, type_str};
use crate::backend::{db_err, micros};
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::memory::Memory;
use wm_store::{ImportOutcome, Quota, StoreError, StoreResult, footprint};

/// The start of every insert into `memories`; the values follow.
const INSERT_INTO: &str = "INSERT INTO memories (id, user_id, title, content, type, status, tags, metadata, \
     scope, created_at, updated_at, accessed_at, archived_at, size_bytes, content_hash) ";

/// Opens every memory write transaction: `BEGIN IMMEDIATE` takes the write lock up front (waiting
/// up to the busy timeout), where a deferred `BEGIN` can fail at once with "database is locked"
/// when its read snapshot (e.g. from loading the schema on a fresh connection) went stale while
/// another writer committed.
pub(super) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// The account's totals: (memories, bytes), from `memory_counts` (kept by triggers, migration
/// 0006; no row yet means nothing held). Read inside a write transaction, which holds the
/// database's write lock from `BEGIN IMMEDIATE` on, they cannot change before it ends: that
/// makes a quota check with them atomic with the write.
async fn totals(conn: &mut SqliteConnection, owner: UserId) -> StoreResult<(u64, u64)> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT short_active + short_archived + long_active + long_archived, bytes \
         FROM memory_counts WHERE user_id = ?",
    )
    .bind(owner.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    let (memories, bytes) = row.unwrap_or_default();
    Ok((u64::try_from(memories).unwrap_or(0), u64::try_from(bytes).unwrap_or(0)))
}

/// Refuses, inside the caller's write transaction and before its writes, adding `(memories,
/// bytes)` beyond `quota`. No quota, or nothing added: no check and no read.
pub(super) async fn check_quota(
    conn: &mut SqliteConnection,
    owner: UserId,
    quota: Option<Quota>,
    (memories, bytes): (u64, u64),
) -> StoreResult<()> {
    match quota {
        Some(q) if memories > 0 || bytes > 0 => {
            let (held_memories, held_bytes) = totals(conn, owner).await?;
            q.check(held_memories, held_bytes, memories, bytes)
        }
        _ => Ok(()),
    }
}

/// Insert one memory; `ignore_taken` turns an id collision into "0 rows" instead of `Conflict`.
async fn insert_one(conn: &mut SqliteConnection, owner: UserId, m: &Memory, ignore_taken: bool) -> StoreResult<u64> {
    let rows = [(owner, m)];
    let mut qb = insert_statement(&rows)?;
    if ignore_taken {
        qb.push(" ON CONFLICT (id) DO NOTHING");
    }
    let done = qb.build().execute(&mut *conn).await.map_err(db_err)?;
    Ok(done.rows_affected())
}

/// Rows per multi-row `INSERT` (15 parameters each, under SQLite's 32,766).
const INSERT_CHUNK: usize = 500;

/// Insert several memories on one connection (the caller owns the transaction).
pub(super) async fn insert_all(conn: &mut SqliteConnection, owner: UserId, memories: &[Memory]) -> StoreResult<()> {
    let rows: Vec<(UserId, &Memory)> = memories.iter().map(|m| (owner, m)).collect();
    insert_rows(conn, &rows).await
}

/// Insert `(owner, memory)` rows as one multi-row statement per chunk: each statement is a hop
/// to the connection's worker thread, which costs more than the row.
async fn insert_rows(conn: &mut SqliteConnection, rows: &[(UserId, &Memory)]) -> StoreResult<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        insert_statement(chunk)?.build().execute(&mut *conn).await.map_err(db_err)?;
    }
    Ok(())
}

/// `INSERT INTO memories … VALUES (…), (…)` for `(owner, memory)` rows.
fn insert_statement<'a>(rows: &'a [(UserId, &'a Memory)]) -> StoreResult<QueryBuilder<'a, Sqlite>> {
    let json = rows
        .iter()
        .map(|(_, m)| {
            Ok((
                serde_json::to_string(&m.tags).map_err(encode_err)?,
                serde_json::to_string(&m.metadata).map_err(encode_err)?,
            ))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let mut qb = QueryBuilder::<Sqlite>::new(INSERT_INTO);
    qb.push_values(rows.iter().zip(json), |mut row, ((owner, m), (tags, metadata))| {
        row.push_bind(m.id)
            .push_bind(owner.0)
            .push_bind(m.title.as_str())
            .push_bind(m.content.as_str())
            .push_bind(type_str(m.memory_type))
            .push_bind(status_str(m.status))
            .push_bind(tags)
            .push_bind(metadata)
            .push_bind(m.scope.as_deref())
            .push_bind(micros(m.created_at))
            .push_bind(micros(m.updated_at))
            .push_bind(micros(m.accessed_at))
            .push_bind(m.archived_at.map(micros))
            .push_bind(i64::try_from(m.size_bytes).unwrap_or(i64::MAX))
            .push_bind(m.content_hash.as_str());
    });
    Ok(qb)
}

/// Writes a group of creates in one transaction (see `group`): each create's quota is checked
/// in order against the account's totals (read once per account, then kept up to date with what
/// the group adds), a refused create is skipped, the others are inserted. If an insert conflicts
/// (an id already taken), the group is written again one savepoint per create, so only that
/// create fails. The outer error is the transaction's own, which fails them all.
pub(super) async fn insert_group(pool: &SqlitePool, group: &[Create]) -> StoreResult<Vec<StoreResult<()>>> {
    match insert_group_at_once(pool, group).await {
        Err(StoreError::Conflict(_)) if group.len() > 1 => insert_group_one_by_one(pool, group).await,
        written => written,
    }
}

async fn insert_group_at_once(pool: &SqlitePool, group: &[Create]) -> StoreResult<Vec<StoreResult<()>>> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
    // Per account: (memories, bytes) held before the group, and what the group's allowed
    // creates add, in order.
    let mut held: Vec<(UserId, u64, u64)> = Vec::new();
    let mut added: Vec<(UserId, u64, u64)> = Vec::new();
    let mut results = Vec::with_capacity(group.len());
    let mut rows = Vec::new();
    for c in group {
        let (memories, bytes) = footprint(&c.memories);
        let allowed = match c.quota {
            Some(q) if memories > 0 || bytes > 0 => {
                let (m, b) = match held.iter().find(|(owner, ..)| *owner == c.owner) {
                    Some(&(_, m, b)) => (m, b),
                    None => {
                        let (m, b) = totals(&mut tx, c.owner).await?;
                        held.push((c.owner, m, b));
                        (m, b)
                    }
                };
                let (am, ab) = added.iter().find(|(owner, ..)| *owner == c.owner).map_or((0, 0), |&(_, m, b)| (m, b));
                q.check(m + am, b + ab, memories, bytes)
            }
            _ => Ok(()),
        };
        if allowed.is_ok() {
            rows.extend(c.memories.iter().map(|m| (c.owner, m)));
            match added.iter_mut().find(|(owner, ..)| *owner == c.owner) {
                Some(entry) => {
                    entry.1 += memories;
                    entry.2 += bytes;
                }
                None => added.push((c.owner, memories, bytes)),
            }
        }
        results.push(allowed);
    }
    insert_rows(&mut tx, &rows).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(results)
}

async fn insert_group_one_by_one(pool: &SqlitePool, group: &[Create]) -> StoreResult<Vec<StoreResult<()>>> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
    let mut results = Vec::with_capacity(group.len());
    for c in group {
        sqlx::query("SAVEPOINT one_create").execute(&mut *tx).await.map_err(db_err)?;
        let result = match check_quota(&mut tx, c.owner, c.quota, footprint(&c.memories)).await {
            Ok(()) => insert_all(&mut tx, c.owner, &c.memories).await,
            Err(e) => Err(e),
        };
        if result.is_err() {
            sqlx::query("ROLLBACK TO one_create").execute(&mut *tx).await.map_err(db_err)?;
        }
        sqlx::query("RELEASE one_create").execute(&mut *tx).await.map_err(db_err)?;
        results.push(result);
    }
    tx.commit().await.map_err(db_err)?;
    Ok(results)
}

/// Inserts what is new; with a quota, what was actually created must fit (checked against the
/// totals before the import, read in the same transaction), or the transaction rolls back.
pub(super) async fn import(
    pool: &SqlitePool,
    owner: UserId,
    memories: &[Memory],
    quota: Option<Quota>,
) -> StoreResult<Vec<ImportOutcome>> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
    let before = match quota {
        Some(_) => Some(totals(&mut tx, owner).await?),
        None => None,
    };
    let mut out = Vec::with_capacity(memories.len());
    let (mut created, mut created_bytes) = (0u64, 0u64);
    for m in memories {
        if insert_one(&mut tx, owner, m, true).await? == 1 {
            out.push(ImportOutcome::Created);
            created += 1;
            created_bytes += m.size_bytes;
            continue;
        }
        let holder: Option<Uuid> = sqlx::query_scalar("SELECT user_id FROM memories WHERE id = ?")
            .bind(m.id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        out.push(if holder == Some(owner.0) { ImportOutcome::Skipped } else { ImportOutcome::IdTaken });
    }
    if let (Some(q), Some((held_memories, held_bytes))) = (quota, before) {
        q.check(held_memories, held_bytes, created, created_bytes)?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(out)
}

pub(super) async fn get(pool: &SqlitePool, owner: UserId, id: Uuid) -> StoreResult<Option<Memory>> {
    let sql = format!("SELECT {COLS} FROM memories m WHERE m.id = ? AND m.user_id = ?");
    let found = sqlx::query(&sql).bind(id).bind(owner.0).fetch_optional(pool).await.map_err(db_err)?;
    found.as_ref().map(row::memory).transpose()
}

/// Replaces the memory; with a quota, its growth over the stored size must fit (checked in a
/// write transaction, against the stored size and totals read there).
pub(super) async fn update(pool: &SqlitePool, owner: UserId, m: &Memory, quota: Option<Quota>) -> StoreResult<bool> {
    let Some(q) = quota else {
        let mut conn = pool.acquire().await.map_err(db_err)?;
        return update_row(&mut conn, owner, m).await;
    };
    let mut tx = pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
    let stored: Option<i64> = sqlx::query_scalar("SELECT size_bytes FROM memories WHERE id = ? AND user_id = ?")
        .bind(m.id)
        .bind(owner.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
    let Some(stored) = stored else { return Ok(false) };
    let grown = m.size_bytes.saturating_sub(u64::try_from(stored).unwrap_or(0));
    check_quota(&mut tx, owner, Some(q), (0, grown)).await?;
    let updated = update_row(&mut tx, owner, m).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(updated)
}

async fn update_row(conn: &mut SqliteConnection, owner: UserId, m: &Memory) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE memories SET title = ?, content = ?, type = ?, status = ?, tags = ?, metadata = ?, scope = ?, \
         created_at = ?, updated_at = ?, accessed_at = ?, archived_at = ?, size_bytes = ?, content_hash = ? \
         WHERE id = ? AND user_id = ?",
    )
    .bind(&m.title)
    .bind(&m.content)
    .bind(type_str(m.memory_type))
    .bind(status_str(m.status))
    .bind(serde_json::to_string(&m.tags).map_err(encode_err)?)
    .bind(serde_json::to_string(&m.metadata).map_err(encode_err)?)
    .bind(m.scope.as_deref())
    .bind(micros(m.created_at))
    .bind(micros(m.updated_at))
    .bind(micros(m.accessed_at))
    .bind(m.archived_at.map(micros))
    .bind(i64::try_from(m.size_bytes).unwrap_or(i64::MAX))
    .bind(&m.content_hash)
    .bind(m.id)
    .bind(owner.0)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn delete(pool: &SqlitePool, owner: UserId, id: Uuid) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM memories WHERE id = ? AND user_id = ?")
        .bind(id)
        .bind(owner.0)
        .execute(pool)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}

/// Ids per statement (well under SQLite's bound-parameter limit).
const TOUCH_CHUNK: usize = 500;

pub(super) async fn touch(pool: &SqlitePool, owner: UserId, ids: &[Uuid], at: DateTime<Utc>) -> StoreResult<()> {
    for chunk in ids.chunks(TOUCH_CHUNK) {
        let mut qb = QueryBuilder::<Sqlite>::new("UPDATE memories SET accessed_at = ");
        qb.push_bind(micros(at)).push(" WHERE user_id = ").push_bind(owner.0);
        qb.push(" AND accessed_at < ").push_bind(micros(at)).push(" AND id IN (");
        let mut list = qb.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        qb.push(")");
        qb.build().execute(pool).await.map_err(db_err)?;
    }
    Ok(())
}
