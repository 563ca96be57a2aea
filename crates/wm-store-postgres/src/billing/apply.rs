//! The transactional writes: an event's effects with its inbox status, the end of a
//! subscription's access, and claim tokens. Concurrent deliveries of one event queue on the inbox
//! row's lock taken by the conditional `UPDATE`; when the winner commits, the others re-check the
//! condition, find the event finished and write nothing.

use crate::PostgresStore;
use crate::backend::db_err;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};
use wm_domain::api_key::KeyHash;
use wm_domain::ids::{KeyId, UserId};
use wm_domain::plan::PlanName;
use wm_store::{
    AccessEnd, ApplyOutcome, BillingWrite, ClaimOutcome, NewApiKey, NewClaimToken, NewOutboxEmail, StoreResult,
};

pub(crate) async fn apply(store: &PostgresStore, w: &BillingWrite) -> StoreResult<ApplyOutcome> {
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    // One round trip: finish the inbox row (if still open) and, only then, lock the
    // subscription row the guard names (so duplicates never touch it).
    let (provider, sub_id) = w
        .guard
        .as_ref()
        .map_or((None, None), |g| (Some(g.provider.as_str()), Some(g.provider_subscription_id.as_str())));
    let row = sqlx::query(
        "WITH claim AS (UPDATE billing_events SET status = $1, attempts = attempts + 1, last_error = $2, \
                        processed_at = $3 WHERE id = $4 AND status IN ('received', 'failed') RETURNING 1), \
              cur AS (SELECT last_event_at FROM subscriptions \
                      WHERE provider = $5 AND provider_subscription_id = $6 AND EXISTS (SELECT 1 FROM claim) \
                      FOR UPDATE) \
         SELECT (SELECT count(*) FROM claim) AS claimed, (SELECT last_event_at FROM cur) AS current",
    )
    .bind(w.status.as_str())
    .bind(w.note.as_deref())
    .bind(w.at)
    .bind(w.inbox_id)
    .bind(provider)
    .bind(sub_id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    if row.try_get::<i64, _>("claimed").map_err(db_err)? == 0 {
        return Ok(ApplyOutcome::Duplicate);
    }
    if let Some(g) = &w.guard {
        let current: Option<DateTime<Utc>> = row.try_get("current").map_err(db_err)?;
        if let Some(newer) = current.filter(|c| *c > g.event_at) {
            sqlx::query("UPDATE billing_events SET status = 'ignored', last_error = $1 WHERE id = $2")
                .bind(wm_store::stale_event_note(newer))
                .bind(w.inbox_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            return Ok(ApplyOutcome::Stale);
        }
        if current != g.seen_last_event_at {
            return Ok(ApplyOutcome::Changed);
        }
    }
    super::effects::write(&mut tx, w).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(ApplyOutcome::Applied)
}

async fn access_effects(
    c: &mut PgConnection,
    at: DateTime<Utc>,
    set_plan: Option<&(UserId, PlanName)>,
    revoke_keys_of: Option<UserId>,
) -> StoreResult<()> {
    if let Some((user, plan)) = set_plan {
        sqlx::query("UPDATE users SET plan = $1, updated_at = $2 WHERE id = $3")
            .bind(plan.as_str())
            .bind(at)
            .bind(user.0)
            .execute(&mut *c)
            .await
            .map_err(db_err)?;
    }
    if let Some(user) = revoke_keys_of {
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(user.0)
            .execute(&mut *c)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

async fn insert_key(c: &mut PgConnection, k: &NewApiKey) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(k.id.0)
    .bind(k.user_id.0)
    .bind(&k.name)
    .bind(&k.prefix)
    .bind(k.hash.as_str())
    .bind(k.created_at)
    .bind(k.expires_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn insert_claim(c: &mut PgConnection, t: &NewClaimToken) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO claim_tokens (token_hash, key_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(t.token_hash.as_str())
    .bind(t.key_id.0)
    .bind(t.user_id.0)
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn insert_emails(c: &mut PgConnection, emails: &[NewOutboxEmail]) -> StoreResult<()> {
    for e in emails {
        sqlx::query(
            "INSERT INTO email_outbox (id, to_address, subject, body, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(e.id)
        .bind(&e.to)
        .bind(&e.subject)
        .bind(&e.body)
        .bind(e.created_at)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

pub(crate) async fn end_access(store: &PostgresStore, end: &AccessEnd) -> StoreResult<bool> {
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    let claimed = sqlx::query(
        "UPDATE subscriptions SET ended_at = $1, status = $2, updated_at = $1 \
         WHERE id = $3 AND ended_at IS NULL AND access_ends_at IS NOT NULL AND access_ends_at <= $1",
    )
    .bind(end.at)
    .bind(end.status.as_str())
    .bind(end.subscription_id)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    if claimed.rows_affected() == 0 {
        return Ok(false);
    }
    access_effects(&mut tx, end.at, end.set_plan.as_ref(), end.revoke_keys_of).await?;
    insert_emails(&mut tx, &end.emails).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

pub(crate) async fn insert_claimable(store: &PostgresStore, key: &NewApiKey, claim: &NewClaimToken) -> StoreResult<()> {
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    insert_key(&mut tx, key).await?;
    insert_claim(&mut tx, claim).await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn claim(
    store: &PostgresStore,
    token: &KeyHash,
    new_hash: &KeyHash,
    new_prefix: &str,
    at: DateTime<Utc>,
) -> StoreResult<ClaimOutcome> {
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    let row = sqlx::query(
        "UPDATE claim_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING key_id, user_id",
    )
    .bind(at)
    .bind(token.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some(row) = row else {
        let found = sqlx::query("SELECT used_at FROM claim_tokens WHERE token_hash = $1")
            .bind(token.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        return Ok(match found {
            None => ClaimOutcome::NotFound,
            Some(r) if r.try_get::<Option<DateTime<Utc>>, _>("used_at").map_err(db_err)?.is_some() => {
                ClaimOutcome::AlreadyUsed
            }
            Some(_) => ClaimOutcome::Expired,
        });
    };
    let key_id = KeyId(row.try_get("key_id").map_err(db_err)?);
    let user_id = UserId(row.try_get("user_id").map_err(db_err)?);
    let updated = sqlx::query("UPDATE api_keys SET key_hash = $1, prefix = $2 WHERE id = $3 AND revoked_at IS NULL")
        .bind(new_hash.as_str())
        .bind(new_prefix)
        .bind(key_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    if updated.rows_affected() == 0 {
        return Ok(ClaimOutcome::KeyRevoked);
    }
    tx.commit().await.map_err(db_err)?;
    Ok(ClaimOutcome::Claimed { user_id, key_id })
}
