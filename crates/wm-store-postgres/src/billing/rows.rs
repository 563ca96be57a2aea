//! Row decoding for the billing tables.

use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::plan::PlanName;
use wm_store::{
    InboxEvent, InboxStatus, OutboxEmail, OutboxStatus, StoreError, StoreResult, Subscription, SubscriptionStatus,
};

pub(crate) const INBOX_COLS: &str = "id, provider, event_id, event_type, occurred_at, received_at, payload, normalized, \
     status, attempts, last_error, processed_at";

pub(crate) const SUB_COLS: &str = "id, provider, provider_subscription_id, provider_customer_id, \
     provider_membership_id, user_id, plan, status, period_end, cancel_at_period_end, grace_until, access_ends_at, \
     ended_at, last_event_at, created_at, updated_at";

pub(crate) const OUTBOX_COLS: &str =
    "id, to_address, subject, body, status, attempts, next_attempt_at, last_error, created_at, sent_at";

fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r PgRow,
    col: &str,
) -> StoreResult<T> {
    row.try_get(col).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn parsed<T>(row: &PgRow, col: &str, parse: impl Fn(&str) -> Option<T>) -> StoreResult<T> {
    let raw: String = get(row, col)?;
    parse(&raw).ok_or_else(|| StoreError::Corrupt(format!("{col}: {raw}")))
}

fn count(row: &PgRow, col: &str) -> StoreResult<u32> {
    Ok(get::<i32>(row, col)?.try_into().unwrap_or(0))
}

pub(crate) fn inbox_event(row: &PgRow) -> StoreResult<InboxEvent> {
    Ok(InboxEvent {
        id: get(row, "id")?,
        provider: get(row, "provider")?,
        event_id: get(row, "event_id")?,
        event_type: get(row, "event_type")?,
        occurred_at: get(row, "occurred_at")?,
        received_at: get(row, "received_at")?,
        payload: get(row, "payload")?,
        normalized: get(row, "normalized")?,
        status: parsed(row, "status", InboxStatus::parse)?,
        attempts: count(row, "attempts")?,
        last_error: get(row, "last_error")?,
        processed_at: get(row, "processed_at")?,
    })
}

pub(crate) fn subscription(row: &PgRow) -> StoreResult<Subscription> {
    Ok(Subscription {
        id: get(row, "id")?,
        provider: get(row, "provider")?,
        provider_subscription_id: get(row, "provider_subscription_id")?,
        provider_customer_id: get(row, "provider_customer_id")?,
        provider_membership_id: get(row, "provider_membership_id")?,
        user_id: UserId(get::<Uuid>(row, "user_id")?),
        plan: parsed(row, "plan", |s| PlanName::parse(s).ok())?,
        status: parsed(row, "status", SubscriptionStatus::parse)?,
        period_end: get(row, "period_end")?,
        cancel_at_period_end: get(row, "cancel_at_period_end")?,
        grace_until: get(row, "grace_until")?,
        access_ends_at: get(row, "access_ends_at")?,
        ended_at: get(row, "ended_at")?,
        last_event_at: get(row, "last_event_at")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(crate) fn outbox_email(row: &PgRow) -> StoreResult<OutboxEmail> {
    Ok(OutboxEmail {
        id: get(row, "id")?,
        to: get(row, "to_address")?,
        subject: get(row, "subject")?,
        body: get(row, "body")?,
        status: parsed(row, "status", OutboxStatus::parse)?,
        attempts: count(row, "attempts")?,
        next_attempt_at: get(row, "next_attempt_at")?,
        last_error: get(row, "last_error")?,
        created_at: get(row, "created_at")?,
        sent_at: get(row, "sent_at")?,
    })
}
