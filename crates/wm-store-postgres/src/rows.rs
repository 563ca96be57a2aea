//! Row decoding shared by the query modules.

use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;
use wm_domain::account::{ApiKeyRecord, Role, User};
use wm_domain::email::Email;
use wm_domain::ids::{KeyId, UserId};
use wm_domain::plan::PlanName;
use wm_store::{StoreError, StoreResult};

pub(crate) const USER_COLS: &str = "u.id AS u_id, u.email AS u_email, u.role AS u_role, u.plan AS u_plan, \
     u.suspended AS u_suspended, u.created_at AS u_created_at, u.updated_at AS u_updated_at, \
     u.last_seen_at AS u_last_seen_at";

pub(crate) const KEY_COLS: &str = "k.id AS k_id, k.user_id AS k_user_id, k.name AS k_name, k.prefix AS k_prefix, \
     k.created_at AS k_created_at, k.expires_at AS k_expires_at, k.revoked_at AS k_revoked_at, \
     k.last_used_at AS k_last_used_at";

fn corrupt(what: &str) -> impl Fn(wm_domain::ValidationError) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r PgRow,
    col: &str,
) -> StoreResult<T> {
    row.try_get(col).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn user(row: &PgRow) -> StoreResult<User> {
    let role: String = get(row, "u_role")?;
    Ok(User {
        id: UserId(get::<Uuid>(row, "u_id")?),
        email: Email::parse(&get::<String>(row, "u_email")?).map_err(corrupt("email"))?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        plan: PlanName::parse(&get::<String>(row, "u_plan")?).map_err(corrupt("plan"))?,
        suspended: get::<bool>(row, "u_suspended")?,
        created_at: get(row, "u_created_at")?,
        updated_at: get(row, "u_updated_at")?,
        last_seen_at: get(row, "u_last_seen_at")?,
    })
}

pub(crate) fn key(row: &PgRow) -> StoreResult<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: KeyId(get::<Uuid>(row, "k_id")?),
        user_id: UserId(get::<Uuid>(row, "k_user_id")?),
        name: get(row, "k_name")?,
        prefix: get(row, "k_prefix")?,
        created_at: get(row, "k_created_at")?,
        expires_at: get(row, "k_expires_at")?,
        revoked_at: get(row, "k_revoked_at")?,
        last_used_at: get(row, "k_last_used_at")?,
    })
}
