//! `PlanStore` and `UsageStore` for PostgreSQL (see `migrations/0003_plans_usage.up.sql`).

mod usage;

use crate::PostgresStore;
use crate::backend::db_err;
use sqlx::Row;
use sqlx::postgres::PgRow;
use wm_domain::plan::{Plan, PlanFeatures, PlanName};
use wm_store::{PlanStore, StoreError, StoreResult};

const PLAN_COLS: &str = "name, per_minute, daily, monthly, max_memories, max_storage_bytes, features, updated_at";

#[async_trait::async_trait]
impl PlanStore for PostgresStore {
    async fn list_plans(&self) -> StoreResult<Vec<Plan>> {
        let sql = format!("SELECT {PLAN_COLS} FROM plans ORDER BY monthly, name");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(plan).collect()
    }

    async fn get_plan(&self, name: &PlanName) -> StoreResult<Option<Plan>> {
        let sql = format!("SELECT {PLAN_COLS} FROM plans WHERE name = $1");
        let row = sqlx::query(&sql).bind(name.as_str()).fetch_optional(&self.pool).await.map_err(db_err)?;
        row.as_ref().map(plan).transpose()
    }

    async fn upsert_plan(&self, p: &Plan) -> StoreResult<()> {
        p.validate().map_err(|e| StoreError::Database(format!("plan out of range: {e}")))?;
        sqlx::query(
            "INSERT INTO plans (name, per_minute, daily, monthly, max_memories, max_storage_bytes, features, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (name) DO UPDATE SET per_minute = EXCLUDED.per_minute, daily = EXCLUDED.daily, \
             monthly = EXCLUDED.monthly, max_memories = EXCLUDED.max_memories, \
             max_storage_bytes = EXCLUDED.max_storage_bytes, features = EXCLUDED.features, \
             updated_at = EXCLUDED.updated_at",
        )
        .bind(p.name.as_str())
        .bind(p.per_minute as i64)
        .bind(p.daily as i64)
        .bind(p.monthly as i64)
        .bind(p.max_memories as i64)
        .bind(p.max_storage_bytes as i64)
        .bind(p.features.to_json())
        .bind(p.updated_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}

fn plan(row: &PgRow) -> StoreResult<Plan> {
    let count = |col: &str| -> StoreResult<u64> {
        let v: i64 = row.try_get(col).map_err(corrupt(col))?;
        u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("plans.{col} = {v}")))
    };
    let name: String = row.try_get("name").map_err(corrupt("name"))?;
    let features: serde_json::Value = row.try_get("features").map_err(corrupt("features"))?;
    let features =
        PlanFeatures::parse(&features).map_err(|e| StoreError::Corrupt(format!("plans.features of {name}: {e}")))?;
    Ok(Plan {
        name: PlanName::parse(&name).map_err(|e| StoreError::Corrupt(format!("plans.name: {e}")))?,
        per_minute: count("per_minute")?,
        daily: count("daily")?,
        monthly: count("monthly")?,
        max_memories: count("max_memories")?,
        max_storage_bytes: count("max_storage_bytes")?,
        features,
        updated_at: row.try_get("updated_at").map_err(corrupt("updated_at"))?,
    })
}

fn corrupt(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("plans.{what}: {e}"))
}
