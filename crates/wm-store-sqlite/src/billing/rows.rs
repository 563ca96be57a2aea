//! Row decoding for the billing tables.

use crate::backend::from_micros;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::plan::PlanName;
use wm_store::{InboxEvent, InboxStatus, OutboxEmail, OutboxStatus, StoreError, StoreResult, Subscription};

pub(crate) const INBOX_COLS: &str = "id, provider, event_id, event_type, occurred_at, received_at, payload, normalized, \
     status, attempts, last_error, processed_at";

pub(crate) const SUB_COLS: &str = "id, provider, provider_subscription_id, provider_customer_id, \
     provider_membership_id, user_id, plan, status, period_end, cancel_at_period_end, grace_until, access_ends_at, \
     ended_at, last_event_at, created_at, updated_at";

pub(crate) const OUTBOX_COLS: &str =
    "id, to_address, subject, body, status, attempts, next_attempt_at, last_error, created_at, sent_at";

fn get<'r, T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>>(
    row: &'r SqliteRow,
    col: &str,
) -> StoreResult<T> {
    row.try_get(col).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn time(row: &SqliteRow, col: &str) -> StoreResult<DateTime<Utc>> {
    from_micros(get(row, col)?)
}

fn opt_time(row: &SqliteRow, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
    get::<Option<i64>>(row, col)?.map(from_micros).transpose()
}

fn parsed<T>(row: &SqliteRow, col: &str, parse: impl Fn(&str) -> Option<T>) -> StoreResult<T> {
    let raw: String = get(row, col)?;
    parse(&raw).ok_or_else(|| StoreError::Corrupt(format!("{col}: {raw}")))
}

pub(crate) fn inbox_event(row: &SqliteRow) -> StoreResult<InboxEvent> {
    Ok(InboxEvent {
        id: get(row, "id")?,
        provider: get(row, "provider")?,
        event_id: get(row, "event_id")?,
        event_type: get(row, "event_type")?,
        occurred_at: time(row, "occurred_at")?,
        received_at: time(row, "received_at")?,
        payload: get(row, "payload")?,
        normalized: get(row, "normalized")?,
        status: parsed(row, "status", InboxStatus::parse)?,
        attempts: get::<i64>(row, "attempts")?.try_into().unwrap_or(0),
        last_error: get(row, "last_error")?,
        processed_at: opt_time(row, "processed_at")?,
    })
}

pub(crate) fn subscription(row: &SqliteRow) -> StoreResult<Subscription> {
    Ok(Subscription {
        id: get(row, "id")?,
        provider: get(row, "provider")?,
        provider_subscription_id: get(row, "provider_subscription_id")?,
        provider_customer_id: get(row, "provider_customer_id")?,
        provider_membership_id: get(row, "provider_membership_id")?,
        user_id: UserId(get::<Uuid>(row, "user_id")?),
        plan: parsed(row, "plan", |s| PlanName::parse(s).ok())?,
        status: parsed(row, "status", wm_store::SubscriptionStatus::parse)?,
        period_end: opt_time(row, "period_end")?,
        cancel_at_period_end: get(row, "cancel_at_period_end")?,
        grace_until: opt_time(row, "grace_until")?,
        access_ends_at: opt_time(row, "access_ends_at")?,
        ended_at: opt_time(row, "ended_at")?,
        last_event_at: time(row, "last_event_at")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(crate) fn outbox_email(row: &SqliteRow) -> StoreResult<OutboxEmail> {
    Ok(OutboxEmail {
        id: get(row, "id")?,
        to: get(row, "to_address")?,
        subject: get(row, "subject")?,
        body: get(row, "body")?,
        status: parsed(row, "status", OutboxStatus::parse)?,
        attempts: get::<i64>(row, "attempts")?.try_into().unwrap_or(0),
        next_attempt_at: time(row, "next_attempt_at")?,
        last_error: get(row, "last_error")?,
        created_at: time(row, "created_at")?,
        sent_at: opt_time(row, "sent_at")?,
    })
}
