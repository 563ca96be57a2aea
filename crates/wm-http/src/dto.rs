//! Request and response bodies of the account and admin routes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use wm_domain::account::{ApiKeyRecord, Role, User};

/// An account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    /// Plan name (`free`, `starter`, `pro`, `enterprise`).
    pub plan: String,
    pub suspended: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self::from(&u)
    }
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0,
            email: u.email.as_str().to_owned(),
            role: u.role,
            plan: u.plan.as_str().to_owned(),
            suspended: u.suspended,
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_seen_at: u.last_seen_at,
        }
    }
}

/// An API key's record (never the key itself).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub id: Uuid,
    pub name: String,
    /// The first 16 characters of the key, for recognising it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// `active`, `expired` or `revoked`, as of this response.
    #[schema(example = "active")]
    pub status: &'static str,
}

impl KeyView {
    pub fn new(k: ApiKeyRecord, now: DateTime<Utc>) -> Self {
        let status = if k.revoked_at.is_some() {
            "revoked"
        } else if k.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        };
        Self {
            id: k.id.0,
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
            status,
        }
    }
}

/// A newly issued key. `key` is shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKeyView {
    pub id: Uuid,
    /// The raw API key. Store it now: it cannot be shown again.
    #[schema(example = "wm_prod_0123456789abcdefghijABCDEFGHIJ01")]
    pub key: String,
    pub prefix: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<wm_core::CreatedKey> for CreatedKeyView {
    fn from(c: wm_core::CreatedKey) -> Self {
        Self {
            id: c.record.id.0,
            key: c.key.expose().to_owned(),
            prefix: c.record.prefix,
            name: c.record.name,
            created_at: c.record.created_at,
            expires_at: c.record.expires_at,
        }
    }
}

/// Create a key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// 1–100 characters.
    pub name: String,
    /// When the key stops working (RFC 3339, in the future). Never, if absent.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Rotate a key.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKeyRequest {
    /// How long the old key keeps working (0 to 2,592,000 s; default 0: it stops at once).
    pub grace_seconds: Option<i64>,
}

/// A list of keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

/// Create a user (admin).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    /// Default `free`.
    pub plan: Option<String>,
    /// Default `user`.
    pub role: Option<Role>,
}

/// Change a user (admin). Absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUserRequest {
    pub plan: Option<String>,
    pub role: Option<Role>,
    /// A suspended account's keys are refused with 403.
    pub suspended: Option<bool>,
}

/// Issue a key for a user (admin).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminCreateKeyRequest {
    pub name: String,
}

/// Query of the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Case-insensitive substring of the email.
    pub q: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}
