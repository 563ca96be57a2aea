//! Subscription and customer reads.

use super::rows::{self, SUB_COLS};
use crate::backend::db_err;
use crate::rows::{USER_COLS, user};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use wm_domain::account::User;
use wm_domain::ids::UserId;
use wm_store::{StoreResult, Subscription};

pub(crate) async fn user_by_customer(pool: &PgPool, provider: &str, customer: &str) -> StoreResult<Option<User>> {
    let sql = format!(
        "SELECT {USER_COLS} FROM billing_customers c JOIN users u ON u.id = c.user_id \
         WHERE c.provider = $1 AND c.customer_id = $2"
    );
    let row = sqlx::query(&sql).bind(provider).bind(customer).fetch_optional(pool).await.map_err(db_err)?;
    row.as_ref().map(user).transpose()
}

pub(crate) async fn subscription(pool: &PgPool, provider: &str, id: &str) -> StoreResult<Option<Subscription>> {
    let sql = format!("SELECT {SUB_COLS} FROM subscriptions WHERE provider = $1 AND provider_subscription_id = $2");
    let row = sqlx::query(&sql).bind(provider).bind(id).fetch_optional(pool).await.map_err(db_err)?;
    row.as_ref().map(rows::subscription).transpose()
}

pub(crate) async fn user_subscriptions(pool: &PgPool, user: UserId) -> StoreResult<Vec<Subscription>> {
    let sql = format!("SELECT {SUB_COLS} FROM subscriptions WHERE user_id = $1 ORDER BY updated_at DESC, id DESC");
    let rows = sqlx::query(&sql).bind(user.0).fetch_all(pool).await.map_err(db_err)?;
    rows.iter().map(rows::subscription).collect()
}

pub(crate) async fn due(pool: &PgPool, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Subscription>> {
    let sql = format!(
        "SELECT {SUB_COLS} FROM subscriptions WHERE ended_at IS NULL AND access_ends_at <= $1 \
         ORDER BY access_ends_at, id LIMIT $2"
    );
    let rows = sqlx::query(&sql).bind(now).bind(i64::from(limit)).fetch_all(pool).await.map_err(db_err)?;
    rows.iter().map(rows::subscription).collect()
}
