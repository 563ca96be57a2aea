//! Subscription and customer reads.

use super::rows::{self, SUB_COLS};
use crate::backend::{db_err, micros};
use crate::rows::{USER_COLS, user};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use wm_domain::account::User;
use wm_domain::ids::UserId;
use wm_store::{BillingLookup, BillingLookupQuery, StoreResult, Subscription};

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

/// The three lookups, one after the other (SQLite answers in-process).
pub(crate) async fn lookup(pool: &SqlitePool, q: &BillingLookupQuery<'_>) -> StoreResult<BillingLookup> {
    let mut out = BillingLookup::default();
    if let Some(id) = q.subscription_id {
        let sql = format!(
            "SELECT {SUB_COLS_S}, {USER_COLS} FROM subscriptions s JOIN users u ON u.id = s.user_id \
             WHERE s.provider = ? AND s.provider_subscription_id = ?"
        );
        let row = sqlx::query(&sql).bind(q.provider).bind(id).fetch_optional(pool).await.map_err(db_err)?;
        out.subscription =
            row.map(|r| Ok::<_, wm_store::StoreError>((rows::subscription(&r)?, user(&r)?))).transpose()?;
    }
    if let Some(c) = q.customer_id {
        out.customer_user = user_by_customer(pool, q.provider, c).await?;
    }
    if let Some(email) = q.email {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.email = ?");
        let row = sqlx::query(&sql).bind(email.as_str()).fetch_optional(pool).await.map_err(db_err)?;
        out.email_user = row.as_ref().map(user).transpose()?;
    }
    Ok(out)
}

/// The subscription's columns, qualified.
const SUB_COLS_S: &str = "s.id, s.provider, s.provider_subscription_id, s.provider_customer_id, \
     s.provider_membership_id, s.user_id, s.plan, s.status, s.period_end, s.cancel_at_period_end, s.grace_until, \
     s.access_ends_at, s.ended_at, s.last_event_at, s.created_at, s.updated_at";
