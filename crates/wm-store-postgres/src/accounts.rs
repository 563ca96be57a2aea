//! `AccountStore` for PostgreSQL.

use crate::PostgresStore;
use crate::backend::db_err;
use crate::rows::{self, KEY_COLS, USER_COLS};
use chrono::{DateTime, Utc};
use wm_domain::account::{ApiKeyRecord, User};
use wm_domain::api_key::KeyHash;
use wm_domain::email::Email;
use wm_domain::ids::{KeyId, UserId};
use wm_store::{AccountStore, NewApiKey, NewUser, StoreResult, UserPatch, UserQuery};

#[async_trait::async_trait]
impl AccountStore for PostgresStore {
    async fn create_user(&self, u: NewUser) -> StoreResult<User> {
        sqlx::query(
            "INSERT INTO users (id, email, role, plan, suspended, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, FALSE, $5, $5)",
        )
        .bind(u.id.0)
        .bind(u.email.as_str())
        .bind(u.role.as_str())
        .bind(u.plan.as_str())
        .bind(u.now)
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
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1");
        let row = sqlx::query(&sql).bind(id.0).fetch_optional(&self.pool).await.map_err(db_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.email = $1");
        let row = sqlx::query(&sql).bind(email.as_str()).fetch_optional(&self.pool).await.map_err(db_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn list_users(&self, q: &UserQuery) -> StoreResult<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLS} FROM users u \
             WHERE ($1::text IS NULL OR strpos(u.email, $1) > 0) AND ($2::uuid IS NULL OR u.id > $2) \
             ORDER BY u.id LIMIT $3"
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
        let sql = format!(
            "UPDATE users u SET plan = COALESCE($1, plan), role = COALESCE($2, role), \
             suspended = COALESCE($3, suspended), updated_at = $4 WHERE id = $5 RETURNING {USER_COLS}"
        );
        let row = sqlx::query(&sql)
            .bind(p.plan.as_ref().map(|x| x.as_str()))
            .bind(p.role.map(|r| r.as_str()))
            .bind(p.suspended)
            .bind(now)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn insert_key(&self, k: NewApiKey) -> StoreResult<ApiKeyRecord> {
        insert_key(&self.pool, &k).await?;
        Ok(record(k))
    }

    async fn find_key_by_hash(&self, hash: &KeyHash) -> StoreResult<Option<(ApiKeyRecord, User)>> {
        let sql = format!(
            "SELECT {KEY_COLS}, {USER_COLS} FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1"
        );
        let row = sqlx::query(&sql).bind(hash.as_str()).fetch_optional(&self.pool).await.map_err(db_err)?;
        row.map(|r| Ok((rows::key(&r)?, rows::user(&r)?))).transpose()
    }

    async fn list_keys(&self, user: UserId) -> StoreResult<Vec<ApiKeyRecord>> {
        let sql =
            format!("SELECT {KEY_COLS} FROM api_keys k WHERE k.user_id = $1 ORDER BY k.created_at DESC, k.id DESC");
        let rows = sqlx::query(&sql).bind(user.0).fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(rows::key).collect()
    }

    async fn get_key(&self, user: UserId, id: KeyId) -> StoreResult<Option<ApiKeyRecord>> {
        let sql = format!("SELECT {KEY_COLS} FROM api_keys k WHERE k.user_id = $1 AND k.id = $2");
        let row = sqlx::query(&sql).bind(user.0).bind(id.0).fetch_optional(&self.pool).await.map_err(db_err)?;
        row.as_ref().map(rows::key).transpose()
    }

    async fn revoke_key(&self, user: UserId, id: KeyId, at: DateTime<Utc>) -> StoreResult<Option<ApiKeyRecord>> {
        let sql = format!(
            "UPDATE api_keys k SET revoked_at = COALESCE(revoked_at, $1) WHERE user_id = $2 AND id = $3 RETURNING {KEY_COLS}"
        );
        let row =
            sqlx::query(&sql).bind(at).bind(user.0).bind(id.0).fetch_optional(&self.pool).await.map_err(db_err)?;
        row.as_ref().map(rows::key).transpose()
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
            "UPDATE api_keys SET expires_at = LEAST(COALESCE(expires_at, $1), $1) \
             WHERE user_id = $2 AND id = $3 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $4)",
        )
        .bind(old_expires_at)
        .bind(user.0)
        .bind(old.0)
        .bind(new.created_at)
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
        let ids: Vec<uuid::Uuid> = uses.iter().map(|(k, _)| k.0).collect();
        let times: Vec<DateTime<Utc>> = uses.iter().map(|(_, t)| *t).collect();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "UPDATE api_keys k SET last_used_at = GREATEST(k.last_used_at, s.at) \
             FROM (SELECT id, MAX(at) AS at FROM UNNEST($1::uuid[], $2::timestamptz[]) AS t(id, at) GROUP BY id) s \
             WHERE k.id = s.id",
        )
        .bind(&ids)
        .bind(&times)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "UPDATE users u SET last_seen_at = GREATEST(u.last_seen_at, s.at) \
             FROM (SELECT k.user_id, MAX(t.at) AS at FROM UNNEST($1::uuid[], $2::timestamptz[]) AS t(id, at) \
                   JOIN api_keys k ON k.id = t.id GROUP BY k.user_id) s \
             WHERE u.id = s.user_id",
        )
        .bind(&ids)
        .bind(&times)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }
}

async fn insert_key<'e, E: sqlx::PgExecutor<'e>>(ex: E, k: &NewApiKey) -> StoreResult<()> {
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
