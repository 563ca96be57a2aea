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
/// State lives in memory only (not shared between instances). What a restart would lose of the
/// daily and monthly counts comes back through [`seed`](Self::seed): the caller reads an
/// account's recorded usage when [`decide_seeded`](Self::decide_seeded) says it has not yet.
/// Entries whose minute, day and month have all passed are dropped, so memory is bounded by
/// the accounts active in the current month. Cheap to clone: clones share the state.
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
    /// The counts include the account's usage recorded before this entry (see [`Seed`]).
    seeded: bool,
}

/// What an account used in one UTC day and its month before this limiter counted it (read
/// from the usage records, which survive restarts): the counts the limiter starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seed {
    /// The UTC date the counts were read for: (year, month 1-12, day 1-31).
    pub date: (i64, u32, u32),
    /// Requests on that date.
    pub day_count: u64,
    /// Requests in that date's month, up to and including the date.
    pub month_count: u64,
}

impl Seed {
    /// No recorded usage: the counts start from zero.
    pub const EMPTY: Seed = Seed { date: (0, 0, 0), day_count: 0, month_count: 0 };

    /// The date as `YYYY-MM-DD` (as in the Redis counter keys).
    pub(crate) fn stamp(&self) -> String {
        let (y, m, d) = self.date;
        format!("{y:04}-{m:02}-{d:02}")
    }
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

    /// The synchronous form of [`Limiter::check`] (which cannot fail here). An account not
    /// [seeded](Self::seed) is counted from what this limiter has seen of it.
    pub fn decide(&self, account: Uuid, limits: &Limits) -> Decision {
        let (now, periods) = self.now();
        let mut shard = self.shard(account);
        if let Some(entry) = shard.entries.get_mut(&account) {
            return apply(entry, limits, now, &periods);
        }
        let mut entry = Entry::default();
        let decision = apply(&mut entry, limits, now, &periods);
        if decision.is_allowed() {
            shard.entries.insert(account, entry);
            sweep_when_grown(&mut shard, now, &periods);
        }
        decision
    }

    /// [`decide`](Self::decide) for an account whose counts were [seeded](Self::seed); `None`,
    /// with nothing counted, for one that was not.
    pub fn decide_seeded(&self, account: Uuid, limits: &Limits) -> Option<Decision> {
        let (now, periods) = self.now();
        let mut shard = self.shard(account);
        let entry = shard.entries.get_mut(&account).filter(|e| e.seeded)?;
        Some(apply(entry, limits, now, &periods))
    }

    /// Starts `account`'s daily and monthly counts from `seed` where it covers the current
    /// day or month. A count already above the seed's (requests admitted here that the usage
    /// records do not show yet) is kept.
    pub fn seed(&self, account: Uuid, seed: Seed) {
        let (now, periods) = self.now();
        let (year, month, _) = seed.date;
        let mut shard = self.shard(account);
        let tracked = shard.entries.len();
        let entry = shard.entries.entry(account).or_default();
        if seed.date == periods.date {
            let kept = if entry.day == periods.day { entry.day_count } else { 0 };
            (entry.day, entry.day_count) = (periods.day, kept.max(seed.day_count));
        }
        if (year, month) == (periods.date.0, periods.date.1) {
            let kept = if entry.month == periods.month { entry.month_count } else { 0 };
            (entry.month, entry.month_count) = (periods.month, kept.max(seed.month_count));
        }
        entry.seeded = true;
        if shard.entries.len() > tracked {
            sweep_when_grown(&mut shard, now, &periods);
        }
    }

    /// Marks every account as not seeded: its counts here went stale while another limiter
    /// (Redis) counted, so its next [`decide_seeded`](Self::decide_seeded) asks for a new seed.
    pub fn unseed_all(&self) {
        for shard in self.inner.shards.iter() {
            lock(shard).entries.values_mut().for_each(|e| e.seeded = false);
        }
    }

    /// Whether this limiter holds counts of `account` (including ones not yet swept).
    pub fn contains(&self, account: Uuid) -> bool {
        self.shard(account).entries.contains_key(&account)
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
        let (now, periods) = self.now();
        for shard in self.inner.shards.iter() {
            sweep(&mut lock(shard), now, &periods);
        }
    }

    /// Unix µs now, and the day and month around it.
    fn now(&self) -> (i64, Periods) {
        let now = i64::try_from(self.inner.clock.now_micros()).unwrap_or(i64::MAX);
        (now, Periods::at(now))
    }

    fn shard(&self, account: Uuid) -> MutexGuard<'_, Shard> {
        let index = self.inner.hasher.hash_one(account) as usize % SHARDS;
        lock(&self.inner.shards[index])
    }
}

/// Decides one request against `entry` and, when it is allowed, counts it there.
fn apply(entry: &mut Entry, limits: &Limits, now: i64, periods: &Periods) -> Decision {
    let mut usage = Usage {
        tat: entry.tat,
        day_count: if entry.day == periods.day { entry.day_count } else { 0 },
        month_count: if entry.month == periods.month { entry.month_count } else { 0 },
    };
    let decision = decide(&mut usage, limits, now, periods);
    if decision.is_allowed() {
        *entry = Entry {
            tat: usage.tat,
            day: periods.day,
            day_count: usage.day_count,
            month: periods.month,
            month_count: usage.month_count,
            seeded: entry.seeded,
        };
    }
    decision
}

/// After an account was added: sweeps the shard when it has grown enough.
fn sweep_when_grown(shard: &mut Shard, now_us: i64, periods: &Periods) {
    if shard.entries.len() >= shard.sweep_at {
        sweep(shard, now_us, periods);
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

    /// A seed taken on `date` (START_US is 2026-11-23).
    fn seed(date: (i64, u32, u32), day_count: u64, month_count: u64) -> Seed {
        Seed { date, day_count, month_count }
    }

    #[test]
    fn seeded_accounts_count_on_from_their_recorded_usage() {
        let (l, _clock) = limiter();
        let lim = limits(100, 6, 30);
        assert_eq!(l.decide_seeded(A, &lim), None, "not seeded yet");
        assert!(l.is_empty(), "and nothing counted");
        l.seed(A, seed((2026, 11, 23), 5, 20));
        let d = l.decide_seeded(A, &lim).expect("seeded");
        assert_eq!(d.status(LimitKind::Daily).remaining, 0);
        assert_eq!(d.status(LimitKind::Monthly).remaining, 9);
        let denial = l.decide_seeded(A, &lim).unwrap().denial.unwrap();
        assert_eq!(denial.limit, LimitKind::Daily);
        assert_eq!(l.decide_seeded(B, &lim), None, "seeds are per account");
    }

    #[test]
    fn a_seed_counts_only_toward_the_periods_it_covers() {
        let (l, clock) = limiter();
        let lim = limits(100, 10, 100);
        // Read yesterday: only its month still counts.
        l.seed(A, seed((2026, 11, 22), 9, 50));
        let d = l.decide_seeded(A, &lim).unwrap();
        assert_eq!(d.status(LimitKind::Daily).remaining, 9);
        assert_eq!(d.status(LimitKind::Monthly).remaining, 49);
        // Read last month: nothing counts.
        l.seed(B, seed((2026, 10, 31), 9, 90));
        let d = l.decide_seeded(B, &lim).unwrap();
        assert_eq!(d.status(LimitKind::Daily).remaining, 9);
        assert_eq!(d.status(LimitKind::Monthly).remaining, 99);
        // The next day rolls over from the seeded counts like from any others.
        clock.advance(Duration::from_secs(60));
        let d = l.decide_seeded(A, &lim).unwrap();
        assert_eq!(d.status(LimitKind::Daily).remaining, 9);
        assert_eq!(d.status(LimitKind::Monthly).remaining, 48);
    }

    #[test]
    fn seeding_keeps_counts_above_the_seed() {
        let (l, _clock) = limiter();
        let lim = limits(100, 100, 100);
        for _ in 0..3 {
            assert!(l.decide(A, &lim).is_allowed());
        }
        assert_eq!(l.decide_seeded(A, &lim), None, "counted, but not seeded");
        // The usage records do not show the three requests yet.
        l.seed(A, seed((2026, 11, 23), 1, 2));
        let d = l.decide_seeded(A, &lim).unwrap();
        assert_eq!(d.status(LimitKind::Daily).remaining, 96);
        assert_eq!(d.status(LimitKind::Monthly).remaining, 96);
        l.seed(A, seed((2026, 11, 23), 10, 10));
        let d = l.decide_seeded(A, &lim).unwrap();
        assert_eq!(d.status(LimitKind::Daily).remaining, 89, "a later seed above the count wins");
    }

    #[test]
    fn unseeding_asks_every_account_for_a_new_seed() {
        let (l, _clock) = limiter();
        let lim = limits(100, 100, 100);
        l.seed(A, seed((2026, 11, 23), 4, 4));
        assert!(l.decide_seeded(A, &lim).is_some());
        l.unseed_all();
        assert_eq!(l.decide_seeded(A, &lim), None);
        assert_eq!(l.decide(A, &lim).status(LimitKind::Daily).remaining, 94, "the counts stay");
    }

    #[test]
    fn shards_sweep_themselves_as_seeds_add_accounts() {
        let (l, clock) = limiter();
        for i in 0..5_000 {
            l.seed(Uuid::from_u128(i), seed((2026, 11, 23), 1, 1));
        }
        clock.advance(Duration::from_secs(40 * 86_400));
        for i in 0..40_000 {
            l.seed(Uuid::from_u128(1_000_000 + i), seed((2027, 1, 2), 1, 1));
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
