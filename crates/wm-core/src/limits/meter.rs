//! The usage meter: per-counter sums kept in memory until the next flush.

use super::shard::{self, lock};
use foldhash::fast::RandomState;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Mutex;
use wm_domain::ids::UserId;
use wm_store::{UsageIncrement, UsageKey};

/// Per-counter sums (foldhash: updated on every metered request).
type Counts = HashMap<UsageKey, u64, RandomState>;

/// One thread shard's counts, and where each account's are.
#[derive(Default)]
struct Shard {
    counts: Counts,
    /// The keys in `counts` of each account, so that reading one account's pending counts (a
    /// usage report, a limiter's seed) looks them up instead of scanning every account's.
    by_user: HashMap<UserId, Vec<UsageKey>, RandomState>,
}

/// Counts waiting to be written. Memory is bounded by the distinct counters touched between
/// two flushes (accounts × groups × status classes × days), times the threads counting them.
pub(crate) struct UsageMeter {
    shards: Box<[Mutex<Shard>]>,
}

impl UsageMeter {
    pub fn new() -> Self {
        Self { shards: (0..shard::COUNT).map(|_| Mutex::new(Shard::default())).collect() }
    }

    /// Adds `n` to one counter.
    pub fn add(&self, key: UsageKey, n: u64) {
        let mut guard = lock(&self.shards[shard::home()]);
        let Shard { counts, by_user } = &mut *guard;
        match counts.entry(key) {
            Entry::Occupied(mut slot) => *slot.get_mut() = slot.get().saturating_add(n),
            Entry::Vacant(slot) => {
                slot.insert(n);
                by_user.entry(key.user_id).or_default().push(key);
            }
        }
    }

    /// Takes every pending count, leaving the meter empty: one increment per counter.
    pub fn drain(&self) -> Vec<UsageIncrement> {
        merge(self.shards.iter().flat_map(|shard| std::mem::take(&mut *lock(shard)).counts))
    }

    /// Puts back counts that could not be written (added to anything counted since).
    pub fn restore(&self, batch: &[UsageIncrement]) {
        for inc in batch {
            self.add(inc.key, inc.count);
        }
    }

    /// Every pending count (left in place), one increment per counter.
    pub fn pending_all(&self) -> Vec<UsageIncrement> {
        merge(self.shards.iter().flat_map(|shard| lock(shard).counts.iter().map(|(k, n)| (*k, *n)).collect::<Vec<_>>()))
    }

    /// The pending counts of one account, one increment per counter.
    pub fn pending(&self, user: UserId) -> Vec<UsageIncrement> {
        merge(self.shards.iter().flat_map(|shard| {
            let shard = lock(shard);
            let keys = shard.by_user.get(&user).map_or(&[][..], Vec::as_slice);
            keys.iter().map(|k| (*k, shard.counts.get(k).copied().unwrap_or(0))).collect::<Vec<_>>()
        }))
    }
}

/// Sums the counts of each counter (threads count the same counter in their own shards).
fn merge(counts: impl Iterator<Item = (UsageKey, u64)>) -> Vec<UsageIncrement> {
    let mut merged = Counts::default();
    for (key, count) in counts {
        let slot = merged.entry(key).or_default();
        *slot = slot.saturating_add(count);
    }
    merged.into_iter().map(|(key, count)| UsageIncrement { key, count }).collect()
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

    #[test]
    fn each_accounts_pending_counts_are_found_among_many() {
        let meter = UsageMeter::new();
        let users: Vec<UserId> = (0..400).map(|_| UserId::new()).collect();
        std::thread::scope(|s| {
            for _ in 0..3 {
                for chunk in users.chunks(100) {
                    let meter = &meter;
                    s.spawn(move || {
                        for &user in chunk {
                            meter.add(key(user, EndpointGroup::Memories), 1);
                            meter.add(key(user, EndpointGroup::Search), 2);
                        }
                    });
                }
            }
        });
        for &user in &users {
            let mut pending = meter.pending(user);
            pending.sort_by_key(|i| i.count);
            let want = [(EndpointGroup::Memories, 3), (EndpointGroup::Search, 6)]
                .map(|(group, count)| UsageIncrement { key: key(user, group), count });
            assert_eq!(pending, want);
        }
        assert_eq!(meter.drain().len(), 2 * users.len());
        assert!(meter.pending(users[0]).is_empty(), "drained");
    }

    #[test]
    fn counts_from_many_threads_drain_as_one_increment_per_counter() {
        let meter = UsageMeter::new();
        let (a, b) = (UserId::new(), UserId::new());
        std::thread::scope(|s| {
            for _ in 0..2 * shard::COUNT {
                s.spawn(|| {
                    for _ in 0..10 {
                        meter.add(key(a, EndpointGroup::Memories), 1);
                        meter.add(key(b, EndpointGroup::Search), 2);
                    }
                });
            }
        });
        let threads = 2 * shard::COUNT as u64;
        assert_eq!(
            meter.pending(a),
            vec![UsageIncrement { key: key(a, EndpointGroup::Memories), count: 10 * threads }]
        );
        let mut batch = meter.drain();
        batch.sort_by_key(|i| i.count);
        let counts: Vec<_> = batch.iter().map(|i| (i.key.user_id, i.count)).collect();
        assert_eq!(counts, [(a, 10 * threads), (b, 20 * threads)], "one increment per counter");
        assert!(meter.drain().is_empty());
    }
}
