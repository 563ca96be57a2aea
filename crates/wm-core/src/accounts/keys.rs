//! A user's own API keys: create, list, revoke, rotate.

use super::{Accounts, CreatedKey, new_key};
use crate::{CoreError, CoreResult};
use chrono::{DateTime, Duration, Utc};
use wm_domain::ValidationError;
use wm_domain::account::{ApiKeyRecord, parse_key_name};
use wm_domain::ids::{KeyId, UserId};

/// The longest grace period a rotation may give the old key.
pub const MAX_GRACE_SECONDS: i64 = 30 * 24 * 3600;

impl Accounts {
    /// Issue a new key for `user`. The raw key is in the result and nowhere else.
    pub async fn create_key(
        &self,
        user: UserId,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> CoreResult<CreatedKey> {
        let name = parse_key_name(name)?;
        let now = self.now();
        if expires_at.is_some_and(|e| e <= now) {
            return Err(ValidationError::new("expires_at", "must be in the future").into());
        }
        let (key, new) = new_key(self.config.key_env, user, name, now, expires_at);
        let record = self.store.insert_key(new).await?;
        self.cache.forget(key.hash().as_str());
        Ok(CreatedKey { record, key })
    }

    pub async fn list_keys(&self, user: UserId) -> CoreResult<Vec<ApiKeyRecord>> {
        Ok(self.store.list_keys(user).await?)
    }

    /// Revoke one of the user's keys, effective on the next request. Revoking twice is fine.
    pub async fn revoke_key(&self, user: UserId, id: KeyId) -> CoreResult<ApiKeyRecord> {
        let rec = self.store.revoke_key(user, id, self.now()).await?.ok_or(CoreError::NotFound("API key"))?;
        self.cache.clear();
        Ok(rec)
    }

    /// Issue a replacement for `id` (same name); the old key keeps working for `grace_seconds`.
    pub async fn rotate_key(&self, user: UserId, id: KeyId, grace_seconds: i64) -> CoreResult<CreatedKey> {
        if !(0..=MAX_GRACE_SECONDS).contains(&grace_seconds) {
            return Err(
                ValidationError::new("grace_seconds", format!("must be between 0 and {MAX_GRACE_SECONDS}")).into()
            );
        }
        let old = self.store.get_key(user, id).await?.ok_or(CoreError::NotFound("API key"))?;
        let now = self.now();
        if !old.is_usable(now) {
            return Err(CoreError::Conflict("this API key is revoked or expired and cannot be rotated".into()));
        }
        let (key, new) = new_key(self.config.key_env, user, old.name.clone(), now, old.expires_at);
        let grace_end = now + Duration::seconds(grace_seconds);
        let record = self
            .store
            .rotate_key(user, id, new, grace_end)
            .await?
            .ok_or_else(|| CoreError::Conflict("this API key changed while rotating; try again".into()))?;
        self.cache.clear();
        Ok(CreatedKey { record, key })
    }
}
