//! The email outbox. A claim takes due rows with `FOR UPDATE SKIP LOCKED`, so concurrent workers
//! on several instances each get different emails, each held until its lease ends.

use super::rows::{self, OUTBOX_COLS};
use crate::backend::db_err;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;
use wm_store::{OutboxEmail, StoreResult};

pub(crate) async fn claim(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<OutboxEmail>> {
    let sql = format!(
        "UPDATE email_outbox SET status = 'sending', lease_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM email_outbox \
                      WHERE (status = 'pending' AND next_attempt_at <= $1) OR (status = 'sending' AND lease_until <= $1) \
                      ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
         RETURNING {OUTBOX_COLS}"
    );
    let rows =
        sqlx::query(&sql).bind(now).bind(lease_until).bind(i64::from(limit)).fetch_all(pool).await.map_err(db_err)?;
    rows.iter().map(rows::outbox_email).collect()
}

pub(crate) async fn sent(pool: &PgPool, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query(
        "UPDATE email_outbox SET status = 'sent', body = '', sent_at = $1, lease_until = NULL, last_error = NULL \
         WHERE id = $2",
    )
    .bind(at)
    .bind(id)
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn retry(pool: &PgPool, id: Uuid, next: DateTime<Utc>, error: &str) -> StoreResult<()> {
    sqlx::query(
        "UPDATE email_outbox SET status = 'pending', next_attempt_at = $1, last_error = $2, lease_until = NULL \
         WHERE id = $3",
    )
    .bind(next)
    .bind(error)
    .bind(id)
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn failed(pool: &PgPool, id: Uuid, error: &str) -> StoreResult<()> {
    sqlx::query("UPDATE email_outbox SET status = 'failed', last_error = $1, lease_until = NULL WHERE id = $2")
        .bind(error)
        .bind(id)
        .execute(pool)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn list(pool: &PgPool, limit: u32) -> StoreResult<Vec<OutboxEmail>> {
    let sql = format!("SELECT {OUTBOX_COLS} FROM email_outbox ORDER BY created_at DESC, id DESC LIMIT $1");
    let rows = sqlx::query(&sql).bind(i64::from(limit)).fetch_all(pool).await.map_err(db_err)?;
    rows.iter().map(rows::outbox_email).collect()
}
