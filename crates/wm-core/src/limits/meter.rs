//! The usage meter: per-counter sums kept in memory until the next flush.

use foldhash::fast::RandomState;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use wm_domain::ids::UserId;
use wm_store::{UsageIncrement, UsageKey};

/// Independently locked shards (by account), so concurrent requests rarely contend.
const SHARDS: usize = 16;

/// One shard's counts (foldhash: updated on every metered request).
type Counts = HashMap<UsageKey, u64, RandomState>;

/// Counts waiting to be written. Memory is bounded by the distinct counters touched between
/// two flushes (accounts × groups × status classes × days).
pub(crate) struct UsageMeter {
    shards: Box<[Mutex<Counts>]>,
}

impl UsageMeter {
    pub fn new() -> Self {
        Self { shards: (0..SHARDS).map(|_| Mutex::new(Counts::default())).collect() }
    }

    /// Adds `n` to one counter.
    pub fn add(&self, key: UsageKey, n: u64) {
        let mut shard = self.shard(key.user_id);
        let slot = shard.entry(key).or_default();
        *slot = slot.saturating_add(n);
    }

    /// Takes every pending count, leaving the meter empty.
    pub fn drain(&self) -> Vec<UsageIncrement> {
        self.shards
            .iter()
            .flat_map(|s| std::mem::take(&mut *lock(s)))
            .map(|(key, count)| UsageIncrement { key, count })
            .collect()
    }

    /// Puts back counts that could not be written (added to anything counted since).
    pub fn restore(&self, batch: &[UsageIncrement]) {
        for inc in batch {
            self.add(inc.key, inc.count);
        }
    }

    /// The pending counts of one account.
    pub fn pending(&self, user: UserId) -> Vec<UsageIncrement> {
        self.shard(user)
            .iter()
            .filter(|(k, _)| k.user_id == user)
            .map(|(key, count)| UsageIncrement { key: *key, count: *count })
            .collect()
    }

    fn shard(&self, user: UserId) -> MutexGuard<'_, Counts> {
        // UUIDv7: the low bits are random.
        let index = (user.0.as_u128() % SHARDS as u128) as usize;
        lock(&self.shards[index])
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use wm_domain::usage::{EndpointGroup, StatusClass};

    fn key(user: UserId, group: EndpointGroup) -> UsageKey {
        UsageKey {
            user_id: user,
            day: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
            group,
            class: StatusClass::of(200),
        }
    }

    #[test]
    fn counts_drain_and_restore() {
        let meter = UsageMeter::new();
        let (a, b) = (UserId::new(), UserId::new());
        for _ in 0..3 {
            meter.add(key(a, EndpointGroup::Memories), 1);
        }
        meter.add(key(b, EndpointGroup::Search), 2);
        assert_eq!(meter.pending(a), vec![UsageIncrement { key: key(a, EndpointGroup::Memories), count: 3 }]);
        let mut batch = meter.drain();
        batch.sort_by_key(|i| i.count);
        assert_eq!(batch.iter().map(|i| i.count).collect::<Vec<_>>(), [2, 3]);
        assert!(meter.drain().is_empty());
        meter.add(key(a, EndpointGroup::Memories), 1);
        meter.restore(&batch);
        assert_eq!(meter.pending(a)[0].count, 4, "restored counts add to new ones");
    }
}
