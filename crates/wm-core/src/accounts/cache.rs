//! The verified-key cache: hash → principal, with a negative cache for unknown hashes, and the
//! owners of cached keys by id (so `me` needs no query either). Local changes are announced
//! so other instances can drop theirs.

use moka::sync::Cache;
use std::sync::Arc;
use std::time::Duration;
use wm_domain::account::{ApiKeyRecord, User};
use wm_domain::ids::UserId;

/// What a cache hit needs to authorise a request without the database.
#[derive(Debug, Clone)]
pub(crate) struct CachedKey {
    pub key: ApiKeyRecord,
    pub user: User,
}

pub(crate) struct KeyCache {
    known: Cache<String, Arc<CachedKey>>,
    unknown: Cache<String, ()>,
    users: Cache<UserId, Arc<User>>,
    /// Told of every local change, for other instances' caches (see [`Accounts::changes`]).
    changed: tokio::sync::broadcast::Sender<()>,
}

impl KeyCache {
    pub fn new(ttl: Duration, capacity: u64) -> Self {
        Self {
            known: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            unknown: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            users: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            changed: tokio::sync::broadcast::channel(16).0,
        }
    }

    /// Local changes to keys and users, as they happen.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<()> {
        self.changed.subscribe()
    }

    /// Drop everything (a change made elsewhere); not announced.
    pub fn drop_all(&self) {
        self.known.invalidate_all();
        self.unknown.invalidate_all();
        self.users.invalidate_all();
    }

    pub fn get(&self, hash: &str) -> Option<Arc<CachedKey>> {
        self.known.get(hash)
    }

    /// The owner of a recently verified key.
    pub fn user(&self, id: UserId) -> Option<Arc<User>> {
        self.users.get(&id)
    }

    pub fn is_known_unknown(&self, hash: &str) -> bool {
        self.unknown.contains_key(hash)
    }

    pub fn insert(&self, hash: String, entry: Arc<CachedKey>) {
        self.users.insert(entry.user.id, Arc::new(entry.user.clone()));
        self.known.insert(hash, entry);
    }

    pub fn insert_unknown(&self, hash: String) {
        self.unknown.insert(hash, ());
    }

    /// Forget a hash in both caches (a key was just created with it).
    pub fn forget(&self, hash: &str) {
        self.known.invalidate(hash);
        self.unknown.invalidate(hash);
        let _ = self.changed.send(());
    }

    /// Drop every positive entry: a key or a user changed and must be re-read.
    pub fn clear(&self) {
        self.known.invalidate_all();
        self.users.invalidate_all();
        let _ = self.changed.send(());
    }
}
