//! Subscription and customer reads.

use super::rows::{self, SUB_COLS};
use crate::backend::db_err;
use crate::rows::{USER_COLS, user};
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use wm_domain::account::User;
use wm_domain::ids::UserId;
use wm_store::{BillingLookup, BillingLookupQuery, StoreResult, Subscription};

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

/// The subscription's columns, qualified (the subscription branch of [`lookup`]).
const S_COLS: &str = "s.id, s.provider, s.provider_subscription_id, s.provider_customer_id, s.provider_membership_id, \
     s.user_id, s.plan, s.status, s.period_end, s.cancel_at_period_end, s.grace_until, s.access_ends_at, s.ended_at, \
     s.last_event_at, s.created_at, s.updated_at";

/// Typed NULLs standing for the subscription's columns in the other branches.
const NO_SUB: &str = "NULL::uuid, NULL, NULL, NULL, NULL, NULL::uuid, NULL, NULL, NULL::timestamptz, NULL::boolean, \
     NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz";

/// Three lookups, one round trip: rows tagged `sub`, `customer` or `email`.
pub(crate) async fn lookup(pool: &PgPool, q: &BillingLookupQuery<'_>) -> StoreResult<BillingLookup> {
    let sql = format!(
        "SELECT 'sub' AS src, {S_COLS}, {USER_COLS} FROM subscriptions s JOIN users u ON u.id = s.user_id \
           WHERE s.provider = $1 AND s.provider_subscription_id = $2 \
         UNION ALL \
         SELECT 'customer', {NO_SUB}, {USER_COLS} FROM billing_customers c JOIN users u ON u.id = c.user_id \
           WHERE c.provider = $1 AND c.customer_id = $3 \
         UNION ALL \
         SELECT 'email', {NO_SUB}, {USER_COLS} FROM users u WHERE u.email = $4"
    );
    let rows = sqlx::query(&sql)
        .bind(q.provider)
        .bind(q.subscription_id)
        .bind(q.customer_id)
        .bind(q.email.map(|e| e.as_str()))
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    let mut out = BillingLookup::default();
    for row in &rows {
        let src: String = row.try_get("src").map_err(db_err)?;
        match src.as_str() {
            "sub" => out.subscription = Some((rows::subscription(row)?, user(row)?)),
            "customer" => out.customer_user = Some(user(row)?),
            _ => out.email_user = Some(user(row)?),
        }
    }
    Ok(out)
}
