//! `PlanStore` and `UsageStore` for SQLite (see `migrations/0003_plans_usage.up.sql`).

mod usage;

use crate::SqliteStore;
use crate::backend::{db_err, from_micros, micros};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use wm_domain::plan::{Plan, PlanFeatures, PlanName};
use wm_store::{PlanStore, StoreError, StoreResult};

const PLAN_COLS: &str = "name, per_minute, daily, monthly, max_memories, max_storage_bytes, features, updated_at";

#[async_trait::async_trait]
impl PlanStore for SqliteStore {
    async fn list_plans(&self) -> StoreResult<Vec<Plan>> {
        let sql = format!("SELECT {PLAN_COLS} FROM plans ORDER BY monthly, name");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(plan).collect()
    }

    async fn get_plan(&self, name: &PlanName) -> StoreResult<Option<Plan>> {
        let sql = format!("SELECT {PLAN_COLS} FROM plans WHERE name = ?");
        let row = sqlx::query(&sql).bind(name.as_str()).fetch_optional(&self.pool).await.map_err(db_err)?;
        row.as_ref().map(plan).transpose()
    }

    async fn upsert_plan(&self, p: &Plan) -> StoreResult<()> {
        p.validate().map_err(|e| StoreError::Database(format!("plan out of range: {e}")))?;
        sqlx::query(
            "INSERT INTO plans (name, per_minute, daily, monthly, max_memories, max_storage_bytes, features, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET per_minute = excluded.per_minute, daily = excluded.daily, \
             monthly = excluded.monthly, max_memories = excluded.max_memories, \
             max_storage_bytes = excluded.max_storage_bytes, features = excluded.features, \
             updated_at = excluded.updated_at",
        )
        .bind(p.name.as_str())
        .bind(p.per_minute as i64)
        .bind(p.daily as i64)
        .bind(p.monthly as i64)
        .bind(p.max_memories as i64)
        .bind(p.max_storage_bytes as i64)
        .bind(p.features.to_json().to_string())
        .bind(micros(p.updated_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}

fn plan(row: &SqliteRow) -> StoreResult<Plan> {
    let count = |col: &str| -> StoreResult<u64> {
        let v: i64 = row.try_get(col).map_err(corrupt(col))?;
        u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("plans.{col} = {v}")))
    };
    let name: String = row.try_get("name").map_err(corrupt("name"))?;
    let features: String = row.try_get("features").map_err(corrupt("features"))?;
    let features = serde_json::from_str(&features)
        .ok()
        .and_then(|v| PlanFeatures::parse(&v).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("plans.features of {name}")))?;
    Ok(Plan {
        name: PlanName::parse(&name).map_err(|e| StoreError::Corrupt(format!("plans.name: {e}")))?,
        per_minute: count("per_minute")?,
        daily: count("daily")?,
        monthly: count("monthly")?,
        max_memories: count("max_memories")?,
        max_storage_bytes: count("max_storage_bytes")?,
        features,
        updated_at: from_micros(row.try_get("updated_at").map_err(corrupt("updated_at"))?)?,
    })
}

fn corrupt(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("plans.{what}: {e}"))
}
