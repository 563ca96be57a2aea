//! The webhook inbox.

use super::rows::{self, INBOX_COLS};
use crate::backend::db_err;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use uuid::Uuid;
use wm_store::{
    BillingStats, InboxEvent, InboxQuery, InboxStatus, NewInboxEvent, OutboxStatus, Recorded, StoreError, StoreResult,
};

pub(crate) async fn record(pool: &PgPool, e: &NewInboxEvent) -> StoreResult<Recorded> {
    let inserted = sqlx::query(
        "INSERT INTO billing_events (id, provider, event_id, event_type, occurred_at, received_at, payload, normalized) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (provider, event_id) DO NOTHING",
    )
    .bind(e.id)
    .bind(&e.provider)
    .bind(&e.event_id)
    .bind(&e.event_type)
    .bind(e.occurred_at)
    .bind(e.received_at)
    .bind(&e.payload)
    .bind(&e.normalized)
    .execute(pool)
    .await
    .map_err(db_err)?;
    if inserted.rows_affected() == 1 {
        return Ok(Recorded::New(e.id));
    }
    // A new statement, so a fresh snapshot: it sees the row whose insert we waited on.
    let row = sqlx::query("SELECT id, status FROM billing_events WHERE provider = $1 AND event_id = $2")
        .bind(&e.provider)
        .bind(&e.event_id)
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    let status: String = row.try_get("status").map_err(db_err)?;
    let status = InboxStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?;
    Ok(Recorded::Existing { id: row.try_get("id").map_err(db_err)?, status })
}

pub(crate) async fn get(pool: &PgPool, id: Uuid) -> StoreResult<Option<InboxEvent>> {
    let sql = format!("SELECT {INBOX_COLS} FROM billing_events WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await.map_err(db_err)?;
    row.as_ref().map(rows::inbox_event).transpose()
}

pub(crate) async fn list(pool: &PgPool, q: &InboxQuery) -> StoreResult<Vec<InboxEvent>> {
    let sql = format!(
        "SELECT {INBOX_COLS} FROM billing_events \
         WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR provider = $2) \
           AND ($3::uuid IS NULL OR id < $3) \
         ORDER BY id DESC LIMIT $4"
    );
    let rows = sqlx::query(&sql)
        .bind(q.status.map(InboxStatus::as_str))
        .bind(q.provider.as_deref())
        .bind(q.before)
        .bind(i64::from(q.limit))
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    rows.iter().map(rows::inbox_event).collect()
}

pub(crate) async fn stats(pool: &PgPool) -> StoreResult<BillingStats> {
    let inbox = counts(pool, "SELECT status, COUNT(*) AS n FROM billing_events GROUP BY status").await?;
    let outbox = counts(pool, "SELECT status, COUNT(*) AS n FROM email_outbox GROUP BY status").await?;
    let row = sqlx::query(
        "SELECT (SELECT MIN(received_at) FROM billing_events WHERE status = 'received') AS oldest, \
                (SELECT MAX(processed_at) FROM billing_events) AS last",
    )
    .fetch_one(pool)
    .await
    .map_err(db_err)?;
    let at = |col: &str| row.try_get::<Option<DateTime<Utc>>, _>(col).map_err(db_err);
    Ok(BillingStats {
        inbox: InboxStatus::ALL.iter().map(|s| (*s, lookup(&inbox, s.as_str()))).collect(),
        oldest_pending: at("oldest")?,
        last_processed: at("last")?,
        outbox: OutboxStatus::ALL.iter().map(|s| (*s, lookup(&outbox, s.as_str()))).collect(),
    })
}

async fn counts(pool: &PgPool, sql: &str) -> StoreResult<Vec<(String, u64)>> {
    let rows = sqlx::query(sql).fetch_all(pool).await.map_err(db_err)?;
    rows.iter()
        .map(|r| Ok((r.try_get("status").map_err(db_err)?, r.try_get::<i64, _>("n").map_err(db_err)? as u64)))
        .collect()
}

fn lookup(counts: &[(String, u64)], status: &str) -> u64 {
    counts.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n)
}

pub(crate) async fn mark_failed(pool: &PgPool, id: Uuid, error: &str) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE billing_events SET status = 'failed', attempts = attempts + 1, last_error = $1 \
         WHERE id = $2 AND status IN ('received', 'failed')",
    )
    .bind(error)
    .bind(id)
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}
