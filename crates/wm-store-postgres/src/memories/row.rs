//! Memory row decoding and the shared column list.

use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;
use wm_domain::memory::{Memory, MemoryStatus, MemoryType};
use wm_store::{StoreError, StoreResult};

/// Every column of `memories m` needed to build a [`Memory`].
pub(super) const COLS: &str = "m.id, m.title, m.content, m.type, m.status, m.tags, m.metadata, m.scope, \
     m.created_at, m.updated_at, m.accessed_at, m.archived_at, m.size_bytes, m.content_hash";

fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r PgRow,
    col: &str,
) -> StoreResult<T> {
    row.try_get(col).map_err(|e| StoreError::Corrupt(format!("memories.{col}: {e}")))
}

pub(super) fn type_str(t: MemoryType) -> &'static str {
    t.as_str()
}

pub(super) fn status_str(s: MemoryStatus) -> &'static str {
    match s {
        MemoryStatus::Active => "active",
        MemoryStatus::Archived => "archived",
    }
}

pub(super) fn parse_type(s: &str) -> StoreResult<MemoryType> {
    match s {
        "short_term" => Ok(MemoryType::ShortTerm),
        "long_term" => Ok(MemoryType::LongTerm),
        _ => Err(StoreError::Corrupt(format!("memory type {s}"))),
    }
}

fn parse_status(s: &str) -> StoreResult<MemoryStatus> {
    match s {
        "active" => Ok(MemoryStatus::Active),
        "archived" => Ok(MemoryStatus::Archived),
        _ => Err(StoreError::Corrupt(format!("memory status {s}"))),
    }
}

/// Decode one row selected with [`COLS`].
pub(super) fn memory(row: &PgRow) -> StoreResult<Memory> {
    let size: i64 = get(row, "size_bytes")?;
    let metadata = match get::<serde_json::Value>(row, "metadata")? {
        serde_json::Value::Object(map) => map,
        other => return Err(StoreError::Corrupt(format!("memories.metadata is not an object: {other}"))),
    };
    Ok(Memory {
        id: get::<Uuid>(row, "id")?,
        title: get(row, "title")?,
        content: get(row, "content")?,
        memory_type: parse_type(&get::<String>(row, "type")?)?,
        status: parse_status(&get::<String>(row, "status")?)?,
        tags: get(row, "tags")?,
        metadata,
        scope: get(row, "scope")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        accessed_at: get(row, "accessed_at")?,
        archived_at: get(row, "archived_at")?,
        size_bytes: u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("size_bytes {size}")))?,
        content_hash: get(row, "content_hash")?,
    })
}
