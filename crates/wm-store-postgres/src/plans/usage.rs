//! `UsageStore` for PostgreSQL: one `INSERT ... SELECT FROM UNNEST ... ON CONFLICT` per batch.

use crate::PostgresStore;
use crate::backend::db_err;
use chrono::NaiveDate;
use sqlx::Row;
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::usage::StatusClass;
use wm_store::{AccountUsage, PlatformCounts, StoreError, StoreResult, UsageIncrement, UsageRow, UsageStore};

#[async_trait::async_trait]
impl UsageStore for PostgresStore {
    async fn add_usage(&self, batch: &[UsageIncrement]) -> StoreResult<()> {
        // Merged: a key appears once (ON CONFLICT may touch a row only once per statement),
        // and sorted, so concurrent flushes from several instances lock rows in the same order.
        let batch = UsageIncrement::merged(batch);
        if batch.is_empty() {
            return Ok(());
        }
        let users: Vec<Uuid> = batch.iter().map(|i| i.key.user_id.0).collect();
        let days: Vec<NaiveDate> = batch.iter().map(|i| i.key.day).collect();
        let groups: Vec<&str> = batch.iter().map(|i| i.key.group.as_str()).collect();
        let classes: Vec<i16> = batch.iter().map(|i| i16::from(i.key.class.digit())).collect();
        let counts: Vec<i64> = batch.iter().map(|i| i64::try_from(i.count).unwrap_or(i64::MAX)).collect();
        sqlx::query(
            "INSERT INTO usage_daily (user_id, day, endpoint_group, status_class, count) \
             SELECT * FROM UNNEST($1::uuid[], $2::date[], $3::text[], $4::smallint[], $5::bigint[]) \
             ON CONFLICT (user_id, day, endpoint_group, status_class) \
             DO UPDATE SET count = usage_daily.count + EXCLUDED.count",
        )
        .bind(&users)
        .bind(&days)
        .bind(&groups)
        .bind(&classes)
        .bind(&counts)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn usage_between(&self, user: UserId, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<UsageRow>> {
        let rows = sqlx::query(
            "SELECT day, endpoint_group, status_class, count FROM usage_daily \
             WHERE user_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day, endpoint_group, status_class",
        )
        .bind(user.0)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let corrupt = |e: sqlx::Error| StoreError::Corrupt(format!("usage_daily: {e}"));
                let class: i16 = r.try_get("status_class").map_err(corrupt)?;
                let count: i64 = r.try_get("count").map_err(corrupt)?;
                Ok(UsageRow {
                    day: r.try_get("day").map_err(corrupt)?,
                    group: r.try_get("endpoint_group").map_err(corrupt)?,
                    class: u8::try_from(class)
                        .ok()
                        .and_then(|c| StatusClass::from_digit(c).ok())
                        .ok_or_else(|| StoreError::Corrupt(format!("usage_daily.status_class = {class}")))?,
                    count: u64::try_from(count).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn usage_by_account(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<AccountUsage>> {
        let rows: Vec<(Uuid, i64, i64)> = sqlx::query_as(
            "SELECT user_id, SUM(CASE WHEN day = $2 THEN count ELSE 0 END)::BIGINT, SUM(count)::BIGINT FROM usage_daily \
             WHERE day BETWEEN $1 AND $2 GROUP BY user_id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(AccountUsage::from_sums).collect())
    }

    async fn platform_counts(&self, day: NaiveDate) -> StoreResult<PlatformCounts> {
        let (memories, active): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM memories), (SELECT COUNT(DISTINCT user_id) FROM usage_daily WHERE day = $1)",
        )
        .bind(day)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(PlatformCounts { memories: memories.unsigned_abs(), active_users: active.unsigned_abs() })
    }
}
