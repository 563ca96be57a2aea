//! Accounts: authentication, API keys, users, admin bootstrap.

pub mod admin;
mod cache;
mod keys;
mod local;

use cache::{CachedKey, KeyCache};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wm_domain::Clock;
use wm_domain::account::{ApiKeyRecord, Principal, User};
use wm_domain::api_key::{ApiKey, KeyEnv};
use wm_domain::ids::{KeyId, UserId};
use wm_store::Store;

pub use admin::{AdminUserPatch, NewAccount, UserPage};

use crate::{AuthFailure, CoreError, CoreResult};

/// Settings for the accounts use-cases.
#[derive(Debug, Clone)]
pub struct AccountsConfig {
    /// The `<env>` part of keys this instance issues.
    pub key_env: KeyEnv,
    /// How long a verified (or unknown) key stays cached; bounds how stale another instance's
    /// revocation can be.
    pub key_cache_ttl: Duration,
    pub key_cache_capacity: u64,
    /// Size limits of memory input (used by [`crate::Memories`]).
    pub memory_limits: wm_domain::memory::MemoryLimits,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            key_env: KeyEnv::Dev,
            key_cache_ttl: Duration::from_secs(5),
            key_cache_capacity: 100_000,
            memory_limits: Default::default(),
        }
    }
}

/// A key just issued: the record, and the raw key to show once.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub record: ApiKeyRecord,
    pub key: ApiKey,
}

/// Authentication, keys and users.
pub struct Accounts {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    cache: KeyCache,
    touches: Mutex<HashMap<KeyId, DateTime<Utc>>>,
    config: AccountsConfig,
}

impl Accounts {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: AccountsConfig) -> Self {
        Self {
            cache: KeyCache::new(config.key_cache_ttl, config.key_cache_capacity),
            store,
            clock,
            touches: Mutex::new(HashMap::new()),
            config,
        }
    }

    /// Check a presented key and say who it belongs to. Cache hits touch no database; the
    /// key's `last_used_at` is buffered and written by [`Accounts::flush_touches`].
    pub async fn authenticate(&self, raw: &str) -> CoreResult<Principal> {
        let key = ApiKey::parse(raw).map_err(|_| CoreError::Unauthorized(AuthFailure::Malformed))?;
        let hash = key.hash();
        let entry = match self.cache.get(hash.as_str()) {
            Some(e) => e,
            None if self.cache.is_known_unknown(hash.as_str()) => {
                return Err(CoreError::Unauthorized(AuthFailure::Unknown));
            }
            None => match self.store.find_key_by_hash(&hash).await? {
                Some((key, user)) => {
                    let e = Arc::new(CachedKey { key, user });
                    self.cache.insert(hash.0, e.clone());
                    e
                }
                None => {
                    self.cache.insert_unknown(hash.0);
                    return Err(CoreError::Unauthorized(AuthFailure::Unknown));
                }
            },
        };
        let now = self.clock.now();
        check_usable(&entry.key, &entry.user, now)?;
        self.touches.lock().expect("touch lock").insert(entry.key.id, now);
        Ok(Principal {
            user_id: entry.user.id,
            key_id: entry.key.id,
            email: entry.user.email.clone(),
            role: entry.user.role,
            plan: entry.user.plan.clone(),
        })
    }

    /// Fires after every change made here to keys or users (create, revoke, rotate, plan or
    /// role change...): other instances must drop their cached keys (see [`Self::drop_cached`]).
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<()> {
        self.cache.changes()
    }

    /// Forget every cached key, user and unknown hash: another instance changed something.
    pub fn drop_cached(&self) {
        self.cache.drop_all();
    }

    /// The caller's own account.
    /// Served from the key cache when the caller's key was just verified (as fresh as the
    /// principal itself); `last_seen_at` there may trail by one flush interval.
    pub async fn me(&self, who: &Principal) -> CoreResult<Arc<User>> {
        self.user(who.user_id).await
    }

    /// An account, from the key cache when one of its keys was just verified (as fresh as that
    /// key's principal), else from the store.
    pub async fn user(&self, id: UserId) -> CoreResult<Arc<User>> {
        if let Some(user) = self.cache.user(id) {
            return Ok(user);
        }
        self.store.get_user(id).await?.map(Arc::new).ok_or(CoreError::NotFound("user"))
    }

    /// Write buffered key-usage stamps in one batch.
    pub async fn flush_touches(&self) -> CoreResult<()> {
        let batch: Vec<_> = std::mem::take(&mut *self.touches.lock().expect("touch lock")).into_iter().collect();
        if let Err(e) = self.store.touch_keys(&batch).await {
            // Put them back (keeping any newer stamp) so the next flush retries.
            let mut t = self.touches.lock().expect("touch lock");
            for (k, at) in batch {
                let slot = t.entry(k).or_insert(at);
                *slot = (*slot).max(at);
            }
            return Err(e.into());
        }
        Ok(())
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The `<env>` part of keys this instance issues.
    pub fn key_env(&self) -> KeyEnv {
        self.config.key_env
    }

    /// Forget every cached verified key, so the next request re-reads users and keys (after a
    /// plan change or revocation made outside these use-cases, e.g. by billing).
    pub fn invalidate_cached_keys(&self) {
        self.cache.clear();
    }

    /// Forget one hash in the positive and negative caches (a key now carries it).
    pub fn forget_cached_key(&self, hash: &str) {
        self.cache.forget(hash);
    }
}

fn check_usable(key: &ApiKeyRecord, user: &User, now: DateTime<Utc>) -> CoreResult<()> {
    let failure = if key.revoked_at.is_some_and(|r| r <= now) {
        Some(AuthFailure::Revoked)
    } else if key.expires_at.is_some_and(|e| e <= now) {
        Some(AuthFailure::Expired)
    } else if user.suspended {
        Some(AuthFailure::Suspended)
    } else {
        None
    };
    failure.map_or(Ok(()), |f| Err(CoreError::Unauthorized(f)))
}

/// Build the key to insert for `user`.
fn new_key(
    env: KeyEnv,
    user: UserId,
    name: String,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> (ApiKey, wm_store::NewApiKey) {
    let key = ApiKey::generate(env);
    let new = wm_store::NewApiKey {
        id: KeyId::new(),
        user_id: user,
        name,
        prefix: key.prefix().to_owned(),
        hash: key.hash(),
        created_at: now,
        expires_at,
    };
    (key, new)
}
