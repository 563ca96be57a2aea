//! `AccountStore` for SQLite.

use crate::SqliteStore;
use crate::backend::{db_err, micros};
use crate::rows::{self, KEY_COLS, USER_COLS};
use chrono::{DateTime, Utc};
use wm_domain::account::{ApiKeyRecord, User};
use wm_domain::api_key::KeyHash;
use wm_domain::email::Email;
use wm_domain::ids::{KeyId, UserId};
use wm_store::{AccountStore, NewApiKey, NewUser, StoreResult, UserPatch, UserQuery};

#[async_trait::async_trait]
impl AccountStore for SqliteStore {
    async fn create_user(&self, u: NewUser) -> StoreResult<User> {
        sqlx::query(
            "INSERT INTO users (id, email, role, plan, suspended, created_at, updated_at) \
             VALUES (?, ?, ?, ?, 0, ?, ?)",
        )
        .bind(u.id.0)
        .bind(u.email.as_str())
        .bind(u.role.as_str())
        .bind(u.plan.as_str())
        .bind(micros(u.now))
        .bind(micros(u.now))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(User {
            id: u.id,
            email: u.email,
            role: u.role,
            plan: u.plan,
            suspended: false,
            created_at: u.now,
            updated_at: u.now,
            last_seen_at: None,
        })
    }

    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?");
        let row = sqlx::query(&sql).bind(id.0).fetch_optional(&self.pool).await.map_err(db_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.email = ?");
        let row = sqlx::query(&sql).bind(email.as_str()).fetch_optional(&self.pool).await.map_err(db_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn list_users(&self, q: &UserQuery) -> StoreResult<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLS} FROM users u \
             WHERE (?1 IS NULL OR instr(u.email, ?1) > 0) AND (?2 IS NULL OR u.id > ?2) \
             ORDER BY u.id LIMIT ?3"
        );
        let rows = sqlx::query(&sql)
            .bind(q.q.as_deref().map(str::to_lowercase))
            .bind(q.after.map(|a| a.0))
            .bind(i64::from(q.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(rows::user).collect()
    }

    async fn count_users(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await.map_err(db_err)?;
        Ok(n as u64)
    }

    async fn update_user(&self, id: UserId, p: &UserPatch, now: DateTime<Utc>) -> StoreResult<Option<User>> {
        let done = sqlx::query(
            "UPDATE users SET plan = COALESCE(?, plan), role = COALESCE(?, role), \
             suspended = COALESCE(?, suspended), updated_at = ? WHERE id = ?",
        )
        .bind(p.plan.as_ref().map(|x| x.as_str()))
        .bind(p.role.map(|r| r.as_str()))
        .bind(p.suspended)
        .bind(micros(now))
        .bind(id.0)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.get_user(id).await
    }

    async fn insert_key(&self, k: NewApiKey) -> StoreResult<ApiKeyRecord> {
        insert_key(&self.pool, &k).await?;
        Ok(record(k))
    }

    async fn find_key_by_hash(&self, hash: &KeyHash) -> StoreResult<Option<(ApiKeyRecord, User)>> {
        let sql = format!(
            "SELECT {KEY_COLS}, {USER_COLS} FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?"
        );
        let row = sqlx::query(&sql).bind(hash.as_str()).fetch_optional(&self.pool).await.map_err(db_err)?;
        row.map(|r| Ok((rows::key(&r)?, rows::user(&r)?))).transpose()
    }

    async fn list_keys(&self, user: UserId) -> StoreResult<Vec<ApiKeyRecord>> {
        let sql =
            format!("SELECT {KEY_COLS} FROM api_keys k WHERE k.user_id = ? ORDER BY k.created_at DESC, k.id DESC");
        let rows = sqlx::query(&sql).bind(user.0).fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(rows::key).collect()
    }

    async fn get_key(&self, user: UserId, id: KeyId) -> StoreResult<Option<ApiKeyRecord>> {
        let sql = format!("SELECT {KEY_COLS} FROM api_keys k WHERE k.user_id = ? AND k.id = ?");
        let row = sqlx::query(&sql).bind(user.0).bind(id.0).fetch_optional(&self.pool).await.map_err(db_err)?;
        row.as_ref().map(rows::key).transpose()
    }

    async fn revoke_key(&self, user: UserId, id: KeyId, at: DateTime<Utc>) -> StoreResult<Option<ApiKeyRecord>> {
        sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE user_id = ? AND id = ?")
            .bind(micros(at))
            .bind(user.0)
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        self.get_key(user, id).await
    }

    async fn rotate_key(
        &self,
        user: UserId,
        old: KeyId,
        new: NewApiKey,
        old_expires_at: DateTime<Utc>,
    ) -> StoreResult<Option<ApiKeyRecord>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let updated = sqlx::query(
            "UPDATE api_keys SET expires_at = MIN(COALESCE(expires_at, ?1), ?1) \
             WHERE user_id = ?2 AND id = ?3 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?4)",
        )
        .bind(micros(old_expires_at))
        .bind(user.0)
        .bind(old.0)
        .bind(micros(new.created_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        insert_key(&mut *tx, &new).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(record(new)))
    }

    async fn touch_keys(&self, uses: &[(KeyId, DateTime<Utc>)]) -> StoreResult<()> {
        if uses.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for (id, at) in uses {
            sqlx::query("UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, ?1), ?1) WHERE id = ?2")
                .bind(micros(*at))
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query(
                "UPDATE users SET last_seen_at = MAX(COALESCE(last_seen_at, ?1), ?1) \
                 WHERE id = (SELECT user_id FROM api_keys WHERE id = ?2)",
            )
            .bind(micros(*at))
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }
}

async fn insert_key<'e, E: sqlx::SqliteExecutor<'e>>(ex: E, k: &NewApiKey) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(k.id.0)
    .bind(k.user_id.0)
    .bind(&k.name)
    .bind(&k.prefix)
    .bind(k.hash.as_str())
    .bind(micros(k.created_at))
    .bind(k.expires_at.map(micros))
    .execute(ex)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn record(k: NewApiKey) -> ApiKeyRecord {
    ApiKeyRecord {
        id: k.id,
        user_id: k.user_id,
        name: k.name,
        prefix: k.prefix,
        created_at: k.created_at,
        expires_at: k.expires_at,
        revoked_at: None,
        last_used_at: None,
    }
}
