//! The email outbox. A claim is one `UPDATE ... RETURNING`, atomic under SQLite's write lock, so
//! each due email goes to exactly one worker until its lease ends.

use super::rows::{self, OUTBOX_COLS};
use crate::backend::{db_err, micros};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use uuid::Uuid;
use wm_store::{OutboxEmail, StoreResult};

pub(crate) async fn claim(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<OutboxEmail>> {
    let sql = format!(
        "UPDATE email_outbox SET status = 'sending', lease_until = ?2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM email_outbox \
                      WHERE (status = 'pending' AND next_attempt_at <= ?1) OR (status = 'sending' AND lease_until <= ?1) \
                      ORDER BY next_attempt_at LIMIT ?3) \
         RETURNING {OUTBOX_COLS}"
    );
    let rows = sqlx::query(&sql)
        .bind(micros(now))
        .bind(micros(lease_until))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    rows.iter().map(rows::outbox_email).collect()
}

pub(crate) async fn sent(pool: &SqlitePool, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query(
        "UPDATE email_outbox SET status = 'sent', body = '', sent_at = ?, lease_until = NULL, last_error = NULL \
         WHERE id = ?",
    )
    .bind(micros(at))
    .bind(id)
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn retry(pool: &SqlitePool, id: Uuid, next: DateTime<Utc>, error: &str) -> StoreResult<()> {
    sqlx::query(
        "UPDATE email_outbox SET status = 'pending', next_attempt_at = ?, last_error = ?, lease_until = NULL \
         WHERE id = ?",
    )
    .bind(micros(next))
    .bind(error)
    .bind(id)
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn failed(pool: &SqlitePool, id: Uuid, error: &str) -> StoreResult<()> {
    sqlx::query("UPDATE email_outbox SET status = 'failed', last_error = ?, lease_until = NULL WHERE id = ?")
        .bind(error)
        .bind(id)
        .execute(pool)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn list(pool: &SqlitePool, limit: u32) -> StoreResult<Vec<OutboxEmail>> {
    let sql = format!("SELECT {OUTBOX_COLS} FROM email_outbox ORDER BY created_at DESC, id DESC LIMIT ?");
    let rows = sqlx::query(&sql).bind(i64::from(limit)).fetch_all(pool).await.map_err(db_err)?;
    rows.iter().map(rows::outbox_email).collect()
}
