//! Users and API keys.

use crate::StoreResult;
use chrono::{DateTime, Utc};
use wm_domain::account::{ApiKeyRecord, Role, User};
use wm_domain::api_key::KeyHash;
use wm_domain::email::Email;
use wm_domain::ids::{KeyId, UserId};
use wm_domain::plan::PlanName;

/// A user to insert.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub role: Role,
    pub plan: PlanName,
    pub now: DateTime<Utc>,
}

/// A key to insert (only its hash).
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: KeyId,
    pub user_id: UserId,
    pub name: String,
    pub prefix: String,
    pub hash: KeyHash,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Fields an admin may change on a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub plan: Option<PlanName>,
    pub role: Option<Role>,
    pub suspended: Option<bool>,
}

/// A page of users: optional case-insensitive email substring, keyset pagination by id.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub q: Option<String>,
    pub limit: u32,
    pub after: Option<UserId>,
}

/// Users and API keys.
#[async_trait::async_trait]
pub trait AccountStore: Send + Sync {
    /// Insert a user; `Conflict` if the email is taken.
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;
    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<User>>;
    /// Users ordered by id, after `query.after`, at most `query.limit`.
    async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<User>>;
    async fn count_users(&self) -> StoreResult<u64>;
    /// Apply a patch; `None` if the user does not exist.
    async fn update_user(&self, id: UserId, patch: &UserPatch, now: DateTime<Utc>) -> StoreResult<Option<User>>;

    /// Insert a key; `Conflict` on a duplicate hash.
    async fn insert_key(&self, key: NewApiKey) -> StoreResult<ApiKeyRecord>;
    /// The key with this hash and its owner, whatever the key's state.
    async fn find_key_by_hash(&self, hash: &KeyHash) -> StoreResult<Option<(ApiKeyRecord, User)>>;
    /// A user's keys, newest first.
    async fn list_keys(&self, user: UserId) -> StoreResult<Vec<ApiKeyRecord>>;
    /// One of a user's keys (`None` if it is someone else's).
    async fn get_key(&self, user: UserId, id: KeyId) -> StoreResult<Option<ApiKeyRecord>>;
    /// Mark a user's key revoked; `None` if not theirs, the record otherwise (already-revoked keep their time).
    async fn revoke_key(&self, user: UserId, id: KeyId, at: DateTime<Utc>) -> StoreResult<Option<ApiKeyRecord>>;
    /// In one transaction: insert `new`, and make the old key expire at `old_expires_at`
    /// (never later than it already would). `None` if the old key is not the user's or not usable.
    async fn rotate_key(
        &self,
        user: UserId,
        old: KeyId,
        new: NewApiKey,
        old_expires_at: DateTime<Utc>,
    ) -> StoreResult<Option<ApiKeyRecord>>;
    /// Batched usage stamps: each key's `last_used_at` and its owner's `last_seen_at`
    /// move forward to the given time (never backwards).
    async fn touch_keys(&self, uses: &[(KeyId, DateTime<Utc>)]) -> StoreResult<()>;
}
