//! `UsageStore` for SQLite: batched upserts of per-day counters.

use crate::SqliteStore;
use crate::backend::db_err;
use chrono::NaiveDate;
use sqlx::Row;
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::usage::StatusClass;
use wm_store::{AccountUsage, PlatformCounts, StoreError, StoreResult, UsageIncrement, UsageRow, UsageStore};

#[async_trait::async_trait]
impl UsageStore for SqliteStore {
    async fn add_usage(&self, batch: &[UsageIncrement]) -> StoreResult<()> {
        let batch = UsageIncrement::merged(batch);
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for inc in &batch {
            sqlx::query(
                "INSERT INTO usage_daily (user_id, day, endpoint_group, status_class, count) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (user_id, day, endpoint_group, status_class) DO UPDATE SET count = count + excluded.count",
            )
            .bind(inc.key.user_id.0)
            .bind(inc.key.day)
            .bind(inc.key.group.as_str())
            .bind(i64::from(inc.key.class.digit()))
            .bind(i64::try_from(inc.count).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn usage_between(&self, user: UserId, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<UsageRow>> {
        let rows = sqlx::query(
            "SELECT day, endpoint_group, status_class, count FROM usage_daily \
             WHERE user_id = ? AND day BETWEEN ? AND ? ORDER BY day, endpoint_group, status_class",
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
                let class: i64 = r.try_get("status_class").map_err(corrupt)?;
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
            "SELECT user_id, SUM(CASE WHEN day = ? THEN count ELSE 0 END), SUM(count) FROM usage_daily \
             WHERE day BETWEEN ? AND ? GROUP BY user_id",
        )
        .bind(to)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(AccountUsage::from_sums).collect())
    }

    async fn platform_counts(&self, day: NaiveDate) -> StoreResult<PlatformCounts> {
        let (memories, active): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM memories), (SELECT COUNT(DISTINCT user_id) FROM usage_daily WHERE day = ?)",
        )
        .bind(day)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(PlatformCounts { memories: memories.unsigned_abs(), active_users: active.unsigned_abs() })
    }
}
