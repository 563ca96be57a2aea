//! The transactional writes: an event's effects with its inbox status, the end of a
//! subscription's access, and claim tokens. Each opens with `BEGIN IMMEDIATE`, so transactions
//! take the write lock up front and serialise instead of failing on a stale read snapshot.

use crate::SqliteStore;
use crate::backend::{db_err, from_micros, micros};
use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection};
use wm_domain::api_key::KeyHash;
use wm_domain::ids::{KeyId, UserId};
use wm_store::{
    AccessEnd, ApplyOutcome, BillingWrite, ClaimOutcome, NewApiKey, NewClaimToken, NewOutboxEmail, StoreResult,
    Subscription,
};

const BEGIN: &str = "BEGIN IMMEDIATE";

pub(crate) async fn apply(store: &SqliteStore, w: &BillingWrite) -> StoreResult<ApplyOutcome> {
    let mut tx = store.pool.begin_with(BEGIN).await.map_err(db_err)?;
    let claimed = sqlx::query(
        "UPDATE billing_events SET status = ?, attempts = attempts + 1, last_error = ?, processed_at = ? \
         WHERE id = ? AND status IN ('received', 'failed')",
    )
    .bind(w.status.as_str())
    .bind(w.note.as_deref())
    .bind(micros(w.at))
    .bind(w.inbox_id)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    if claimed.rows_affected() == 0 {
        return Ok(ApplyOutcome::Duplicate);
    }
    if let Some(g) = &w.guard {
        let current: Option<i64> = sqlx::query_scalar(
            "SELECT last_event_at FROM subscriptions WHERE provider = ? AND provider_subscription_id = ?",
        )
        .bind(&g.provider)
        .bind(&g.provider_subscription_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let current = current.map(from_micros).transpose()?;
        if let Some(newer) = current.filter(|c| *c > g.event_at) {
            sqlx::query("UPDATE billing_events SET status = 'ignored', last_error = ? WHERE id = ?")
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
    effects(&mut tx, w).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(ApplyOutcome::Applied)
}

async fn effects(c: &mut SqliteConnection, w: &BillingWrite) -> StoreResult<()> {
    if let Some(u) = &w.create_user {
        sqlx::query(
            "INSERT INTO users (id, email, role, plan, suspended, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?)",
        )
        .bind(u.id.0)
        .bind(u.email.as_str())
        .bind(u.role.as_str())
        .bind(u.plan.as_str())
        .bind(micros(u.now))
        .bind(micros(u.now))
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    if let Some(l) = &w.link_customer {
        sqlx::query(
            "INSERT INTO billing_customers (provider, customer_id, user_id, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (provider, customer_id) DO NOTHING",
        )
        .bind(&l.provider)
        .bind(&l.customer_id)
        .bind(l.user_id.0)
        .bind(micros(w.at))
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    access_effects(c, w.at, w.set_plan.as_ref(), w.revoke_keys_of).await?;
    if let Some(k) = &w.new_key {
        insert_key(c, k).await?;
    }
    if let Some(t) = &w.claim {
        insert_claim(c, t).await?;
    }
    if let Some(s) = &w.subscription {
        let exists = w.guard.as_ref().is_some_and(|g| g.seen_last_event_at.is_some());
        write_subscription(c, s, exists).await?;
    }
    insert_emails(c, &w.emails).await
}

async fn access_effects(
    c: &mut SqliteConnection,
    at: DateTime<Utc>,
    set_plan: Option<&(UserId, wm_domain::plan::PlanName)>,
    revoke_keys_of: Option<UserId>,
) -> StoreResult<()> {
    if let Some((user, plan)) = set_plan {
        sqlx::query("UPDATE users SET plan = ?, updated_at = ? WHERE id = ?")
            .bind(plan.as_str())
            .bind(micros(at))
            .bind(user.0)
            .execute(&mut *c)
            .await
            .map_err(db_err)?;
    }
    if let Some(user) = revoke_keys_of {
        sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
            .bind(micros(at))
            .bind(user.0)
            .execute(&mut *c)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

async fn insert_key(c: &mut SqliteConnection, k: &NewApiKey) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(k.id.0)
    .bind(k.user_id.0)
    .bind(&k.name)
    .bind(&k.prefix)
    .bind(k.hash.as_str())
    .bind(micros(k.created_at))
    .bind(k.expires_at.map(micros))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn insert_claim(c: &mut SqliteConnection, t: &NewClaimToken) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO claim_tokens (token_hash, key_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(t.token_hash.as_str())
    .bind(t.key_id.0)
    .bind(t.user_id.0)
    .bind(micros(t.created_at))
    .bind(micros(t.expires_at))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn write_subscription(c: &mut SqliteConnection, s: &Subscription, exists: bool) -> StoreResult<()> {
    let sql = if exists {
        "UPDATE subscriptions SET provider_customer_id = ?4, provider_membership_id = ?5, user_id = ?6, plan = ?7, \
         status = ?8, period_end = ?9, cancel_at_period_end = ?10, grace_until = ?11, access_ends_at = ?12, \
         ended_at = ?13, last_event_at = ?14, created_at = ?15, updated_at = ?16 \
         WHERE id = ?1 AND provider = ?2 AND provider_subscription_id = ?3"
    } else {
        "INSERT INTO subscriptions (id, provider, provider_subscription_id, provider_customer_id, \
         provider_membership_id, user_id, plan, status, period_end, cancel_at_period_end, grace_until, \
         access_ends_at, ended_at, last_event_at, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    };
    let done = sqlx::query(sql)
        .bind(s.id)
        .bind(&s.provider)
        .bind(&s.provider_subscription_id)
        .bind(s.provider_customer_id.as_deref())
        .bind(s.provider_membership_id.as_deref())
        .bind(s.user_id.0)
        .bind(s.plan.as_str())
        .bind(s.status.as_str())
        .bind(s.period_end.map(micros))
        .bind(s.cancel_at_period_end)
        .bind(s.grace_until.map(micros))
        .bind(s.access_ends_at.map(micros))
        .bind(s.ended_at.map(micros))
        .bind(micros(s.last_event_at))
        .bind(micros(s.created_at))
        .bind(micros(s.updated_at))
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    if done.rows_affected() != 1 {
        return Err(wm_store::StoreError::Conflict("the subscription changed while writing it".into()));
    }
    Ok(())
}

async fn insert_emails(c: &mut SqliteConnection, emails: &[NewOutboxEmail]) -> StoreResult<()> {
    for e in emails {
        sqlx::query(
            "INSERT INTO email_outbox (id, to_address, subject, body, next_attempt_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(e.id)
        .bind(&e.to)
        .bind(&e.subject)
        .bind(&e.body)
        .bind(micros(e.created_at))
        .bind(micros(e.created_at))
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

pub(crate) async fn end_access(store: &SqliteStore, end: &AccessEnd) -> StoreResult<bool> {
    let mut tx = store.pool.begin_with(BEGIN).await.map_err(db_err)?;
    let claimed = sqlx::query(
        "UPDATE subscriptions SET ended_at = ?1, status = ?2, updated_at = ?1 \
         WHERE id = ?3 AND ended_at IS NULL AND access_ends_at IS NOT NULL AND access_ends_at <= ?1",
    )
    .bind(micros(end.at))
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

pub(crate) async fn insert_claimable(store: &SqliteStore, key: &NewApiKey, claim: &NewClaimToken) -> StoreResult<()> {
    let mut tx = store.pool.begin_with(BEGIN).await.map_err(db_err)?;
    insert_key(&mut tx, key).await?;
    insert_claim(&mut tx, claim).await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn claim(
    store: &SqliteStore,
    token: &KeyHash,
    new_hash: &KeyHash,
    new_prefix: &str,
    at: DateTime<Utc>,
) -> StoreResult<ClaimOutcome> {
    let mut tx = store.pool.begin_with(BEGIN).await.map_err(db_err)?;
    let row = sqlx::query(
        "UPDATE claim_tokens SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1 \
         RETURNING key_id, user_id",
    )
    .bind(micros(at))
    .bind(token.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some(row) = row else {
        let found = sqlx::query("SELECT used_at FROM claim_tokens WHERE token_hash = ?")
            .bind(token.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        return Ok(match found {
            None => ClaimOutcome::NotFound,
            Some(r) if r.try_get::<Option<i64>, _>("used_at").map_err(db_err)?.is_some() => ClaimOutcome::AlreadyUsed,
            Some(_) => ClaimOutcome::Expired,
        });
    };
    let key_id = KeyId(row.try_get("key_id").map_err(db_err)?);
    let user_id = UserId(row.try_get("user_id").map_err(db_err)?);
    let updated = sqlx::query("UPDATE api_keys SET key_hash = ?, prefix = ? WHERE id = ? AND revoked_at IS NULL")
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
