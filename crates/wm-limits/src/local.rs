//! The in-process limiter: a sharded map of per-account state.

use std::collections::HashMap;
use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use uuid::Uuid;

use crate::gcra::{self, Available, Gcra, TatState};
use crate::period::Periods;
use crate::{Clock, Decision, LimitError, Limiter, Limits, SystemClock};

/// Number of independently locked shards.
const SHARDS: usize = 16;
/// A shard is swept of expired entries when it grows to this size (at least),
/// and then again when it doubles; memory stays within twice the live entries.
const MIN_SWEEP_AT: usize = 1024;

/// In-process limiter for a single instance.
///
/// State lives in memory only (it is lost on restart and not shared between
/// instances). Entries whose minute, day and month have all passed are dropped,
/// so memory is bounded by the accounts active in the current month. Cheap to
/// clone: clones share the state.
#[derive(Clone)]
pub struct LocalLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    clock: Arc<dyn Clock>,
}

struct Shard {
    /// Keyed by account id (16 bytes: no formatting, no allocation); foldhash: the map is on
    /// every request's path, and seeded per process.
    entries: HashMap<Uuid, Entry, RandomState>,
    sweep_at: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    tat: Option<TatState>,
    day: i64,
    day_count: u64,
    month: i64,
    month_count: u64,
}

impl Entry {
    /// True when nothing in the entry still counts at `now_us`.
    fn is_expired(&self, now_us: i64, periods: &Periods) -> bool {
        self.tat.is_none_or(|t| t.tat_us <= now_us)
            && (self.day != periods.day || self.day_count == 0)
            && (self.month != periods.month || self.month_count == 0)
    }
}

/// What one account has used, as a check sees it at one instant: the per-minute
/// GCRA state and the counts of the current UTC day and month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Per-minute state (`None`: nothing outstanding).
    pub tat: Option<TatState>,
    /// Requests counted in the current UTC day.
    pub day_count: u64,
    /// Requests counted in the current UTC month.
    pub month_count: u64,
}

/// Decides one request at `now` (Unix µs, in `periods`), and consumes one unit of every
/// limit from `usage` when (and only when) all of them allow it.
///
/// The single definition of a check: [`LocalLimiter`] applies it to its map, and
/// [`RedisLimiter`](crate::RedisLimiter) replays it over the state `limit.lua`
/// read, once per request of a batch, to give each request its own decision.
pub(crate) fn decide(usage: &mut Usage, limits: &Limits, now: i64, periods: &Periods) -> Decision {
    let minute_state = Gcra::per_minute(limits.per_minute).map(|g| (g, g.effective_tat(usage.tat, now)));
    let minute = minute_state.map_or(gcra::BLOCKED, |(g, tat)| g.available(tat, now));
    let day_left = limits.daily.saturating_sub(usage.day_count);
    let month_left = limits.monthly.saturating_sub(usage.month_count);
    let day_reset = periods.day_end_us - now;
    let month_reset = periods.month_end_us - now;

    let allowed = minute.remaining > 0 && day_left > 0 && month_left > 0;
    let Some((g, tat)) = minute_state.filter(|_| allowed) else {
        return Decision::from_parts(
            now,
            limits,
            false,
            [(minute.remaining, minute.reset_after_us), (day_left, day_reset), (month_left, month_reset)],
        );
    };

    let state = g.consume(tat);
    // One interval less room than before: one request fewer, the same wait for the next.
    let Available { remaining, reset_after_us } = Available { remaining: minute.remaining - 1, ..minute };
    *usage = Usage { tat: Some(state), day_count: usage.day_count + 1, month_count: usage.month_count + 1 };
    Decision::from_parts(
        now,
        limits,
        true,
        [(remaining, reset_after_us), (day_left - 1, day_reset), (month_left - 1, month_reset)],
    )
}

impl Default for LocalLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for LocalLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalLimiter").field("accounts", &self.len()).finish_non_exhaustive()
    }
}

impl LocalLimiter {
    /// A limiter on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// A limiter on `clock` (e.g. a [`ManualClock`](crate::ManualClock) in tests).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        let shards =
            (0..SHARDS).map(|_| Mutex::new(Shard { entries: HashMap::default(), sweep_at: MIN_SWEEP_AT })).collect();
        Self { inner: Arc::new(Inner { shards, hasher: RandomState::default(), clock }) }
    }

    /// The synchronous form of [`Limiter::check`] (which cannot fail here).
    pub fn decide(&self, account: Uuid, limits: &Limits) -> Decision {
        let now = i64::try_from(self.inner.clock.now_micros()).unwrap_or(i64::MAX);
        let periods = Periods::at(now);
        let mut shard = self.shard(account);
        let slot = shard.entries.get_mut(&account);
        let entry = slot.as_deref().copied().unwrap_or_default();
        let mut usage = Usage {
            tat: entry.tat,
            day_count: if entry.day == periods.day { entry.day_count } else { 0 },
            month_count: if entry.month == periods.month { entry.month_count } else { 0 },
        };
        let decision = decide(&mut usage, limits, now, &periods);
        if !decision.is_allowed() {
            return decision;
        }
        let updated = Entry {
            tat: usage.tat,
            day: periods.day,
            day_count: usage.day_count,
            month: periods.month,
            month_count: usage.month_count,
        };
        match slot {
            Some(slot) => *slot = updated,
            None => {
                shard.entries.insert(account, updated);
                if shard.entries.len() >= shard.sweep_at {
                    sweep(&mut shard, now, &periods);
                }
            }
        }
        decision
    }

    /// Forgets `account` (synchronous form of [`Limiter::reset`]).
    pub fn forget(&self, account: Uuid) {
        self.shard(account).entries.remove(&account);
    }

    /// Number of accounts currently tracked (including expired entries not yet swept).
    pub fn len(&self) -> usize {
        self.inner.shards.iter().map(|s| lock(s).entries.len()).sum()
    }

    /// True when no account is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every expired entry now (normally done incrementally as shards grow).
    pub fn sweep(&self) {
        let now = i64::try_from(self.inner.clock.now_micros()).unwrap_or(i64::MAX);
        let periods = Periods::at(now);
        for shard in self.inner.shards.iter() {
            sweep(&mut lock(shard), now, &periods);
        }
    }

    fn shard(&self, account: Uuid) -> MutexGuard<'_, Shard> {
        let index = self.inner.hasher.hash_one(account) as usize % SHARDS;
        lock(&self.inner.shards[index])
    }
}

fn sweep(shard: &mut Shard, now_us: i64, periods: &Periods) {
    shard.entries.retain(|_, e| !e.is_expired(now_us, periods));
    shard.sweep_at = (shard.entries.len() * 2).max(MIN_SWEEP_AT);
}

/// Locks a shard, recovering from poisoning: every update is a single assignment,
/// so a panic elsewhere cannot leave an entry half-written.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl Limiter for LocalLimiter {
    async fn check(&self, account: Uuid, limits: &Limits) -> Result<Decision, LimitError> {
        Ok(self.decide(account, limits))
    }

    async fn reset(&self, account: Uuid) -> Result<(), LimitError> {
        self.forget(account);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{LimitKind, ManualClock};

    // 2026-11-23T23:59:00Z
    const START_US: u64 = 1_795_478_340_000_000;
    const A: Uuid = Uuid::from_u128(1);
    const B: Uuid = Uuid::from_u128(2);

    fn limiter() -> (LocalLimiter, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(START_US));
        (LocalLimiter::with_clock(clock.clone()), clock)
    }

    fn limits(per_minute: u64, daily: u64, monthly: u64) -> Limits {
        Limits { per_minute, daily, monthly }
    }

    #[test]
    fn refills_one_per_interval() {
        let (l, clock) = limiter();
        let lim = limits(6, 100, 100);
        for _ in 0..6 {
            assert!(l.decide(A, &lim).is_allowed());
        }
        let denied = l.decide(A, &lim);
        assert_eq!(denied.denial.unwrap().retry_after, 10);
        clock.advance(Duration::from_millis(9_999));
        assert!(!l.decide(A, &lim).is_allowed());
        clock.advance(Duration::from_millis(1));
        let d = l.decide(A, &lim);
        assert!(d.is_allowed());
        assert_eq!(d.status(LimitKind::PerMinute).remaining, 0);
    }

    #[test]
    fn daily_counter_rolls_over_at_utc_midnight() {
        let (l, clock) = limiter();
        let lim = limits(100, 2, 100);
        assert!(l.decide(A, &lim).is_allowed());
        assert!(l.decide(A, &lim).is_allowed());
        let denied = l.decide(A, &lim);
        let denial = denied.denial.unwrap();
        assert_eq!((denial.limit, denial.retry_after), (LimitKind::Daily, 60));
        clock.advance(Duration::from_secs(60));
        let d = l.decide(A, &lim);
        assert!(d.is_allowed());
        assert_eq!(d.status(LimitKind::Daily).remaining, 1);
        // 2026-11-24 is not a new month.
        assert_eq!(d.status(LimitKind::Monthly).remaining, 97);
    }

    #[test]
    fn monthly_denial_waits_for_the_next_month() {
        let (l, _clock) = limiter();
        let lim = limits(100, 100, 1);
        assert!(l.decide(A, &lim).is_allowed());
        let denial = l.decide(A, &lim).denial.unwrap();
        assert_eq!(denial.limit, LimitKind::Monthly);
        // From 2026-11-23T23:59Z to 2026-12-01T00:00Z.
        assert_eq!(denial.retry_after, 7 * 86_400 + 60);
    }

    #[test]
    fn expired_entries_are_swept() {
        let (l, clock) = limiter();
        let lim = limits(10, 100, 100);
        for i in 0..50 {
            l.decide(Uuid::from_u128(i), &lim);
        }
        assert_eq!(l.len(), 50);
        l.sweep();
        assert_eq!(l.len(), 50, "this minute, day and month still count");
        clock.advance(Duration::from_secs(40 * 86_400));
        l.sweep();
        assert!(l.is_empty());
    }

    #[test]
    fn shards_sweep_themselves_as_they_grow() {
        let (l, clock) = limiter();
        let lim = limits(10, 100, 100);
        for i in 0..5_000 {
            l.decide(Uuid::from_u128(i), &lim);
        }
        clock.advance(Duration::from_secs(40 * 86_400));
        for i in 0..40_000 {
            l.decide(Uuid::from_u128(1_000_000 + i), &lim);
        }
        assert!(l.len() < 40_000 + 5_000, "old entries were dropped on the way");
    }

    #[test]
    fn denied_requests_of_unknown_accounts_store_nothing() {
        let (l, _clock) = limiter();
        assert!(!l.decide(A, &limits(0, 10, 10)).is_allowed());
        assert!(!l.decide(B, &limits(10, 0, 10)).is_allowed());
        assert!(l.is_empty());
    }
}
