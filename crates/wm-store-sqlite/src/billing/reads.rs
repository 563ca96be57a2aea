//! Subscription and customer reads.

use super::rows::{self, SUB_COLS};
use crate::backend::{db_err, micros};
use crate::rows::{USER_COLS, user};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use wm_domain::account::User;
use wm_domain::ids::UserId;
use wm_store::{StoreResult, Subscription};

pub(crate) async fn user_by_customer(pool: &SqlitePool, provider: &str, customer: &str) -> StoreResult<Option<User>> {
    let sql = format!(
        "SELECT {USER_COLS} FROM billing_customers c JOIN users u ON u.id = c.user_id \
         WHERE c.provider = ? AND c.customer_id = ?"
    );
    let row = sqlx::query(&sql).bind(provider).bind(customer).fetch_optional(pool).await.map_err(db_err)?;
    row.as_ref().map(user).transpose()
}

pub(crate) async fn subscription(pool: &SqlitePool, provider: &str, id: &str) -> StoreResult<Option<Subscription>> {
    let sql = format!("SELECT {SUB_COLS} FROM subscriptions WHERE provider = ? AND provider_subscription_id = ?");
    let row = sqlx::query(&sql).bind(provider).bind(id).fetch_optional(pool).await.map_err(db_err)?;
    row.as_ref().map(rows::subscription).transpose()
}

pub(crate) async fn user_subscriptions(pool: &SqlitePool, user: UserId) -> StoreResult<Vec<Subscription>> {
    let sql = format!("SELECT {SUB_COLS} FROM subscriptions WHERE user_id = ? ORDER BY updated_at DESC, id DESC");
    let rows = sqlx::query(&sql).bind(user.0).fetch_all(pool).await.map_err(db_err)?;
    rows.iter().map(rows::subscription).collect()
}

pub(crate) async fn due(pool: &SqlitePool, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Subscription>> {
    let sql = format!(
        "SELECT {SUB_COLS} FROM subscriptions WHERE ended_at IS NULL AND access_ends_at <= ? \
         ORDER BY access_ends_at, id LIMIT ?"
    );
    let rows = sqlx::query(&sql).bind(micros(now)).bind(i64::from(limit)).fetch_all(pool).await.map_err(db_err)?;
    rows.iter().map(rows::subscription).collect()
}
