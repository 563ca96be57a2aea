//! The limits of an account and the outcome of one check.

use std::fmt;
use std::time::Duration;

/// One of the three limits every account has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LimitKind {
    /// Requests per minute (GCRA: a full burst at once, then one per `60 s / limit`).
    PerMinute,
    /// Requests per UTC day.
    Daily,
    /// Requests per UTC month.
    Monthly,
}

impl LimitKind {
    /// All kinds, shortest window first (the order of [`Decision::statuses`]).
    pub const ALL: [LimitKind; 3] = [LimitKind::PerMinute, LimitKind::Daily, LimitKind::Monthly];

    /// `per_minute`, `daily` or `monthly`: the name used in headers and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::PerMinute => "per_minute",
            LimitKind::Daily => "daily",
            LimitKind::Monthly => "monthly",
        }
    }

    /// The nominal window: 60 s, 1 day, 30 days. Daily and monthly counters
    /// really reset at the UTC day and month boundaries.
    pub fn window(self) -> Duration {
        match self {
            LimitKind::PerMinute => Duration::from_secs(60),
            LimitKind::Daily => Duration::from_secs(86_400),
            LimitKind::Monthly => Duration::from_secs(30 * 86_400),
        }
    }

    /// The position of this limit in [`LimitKind::ALL`] (and [`Decision::statuses`]).
    pub fn index(self) -> usize {
        match self {
            LimitKind::PerMinute => 0,
            LimitKind::Daily => 1,
            LimitKind::Monthly => 2,
        }
    }
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The request limits of one account (from its plan). A value is the number of
/// requests allowed in the window; `0` blocks every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Requests per minute; also the largest burst.
    pub per_minute: u64,
    /// Requests per UTC day.
    pub daily: u64,
    /// Requests per UTC month.
    pub monthly: u64,
}

impl Limits {
    /// The value of one limit.
    pub fn get(&self, kind: LimitKind) -> u64 {
        match kind {
            LimitKind::PerMinute => self.per_minute,
            LimitKind::Daily => self.daily,
            LimitKind::Monthly => self.monthly,
        }
    }
}

/// The state of one limit after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitStatus {
    /// Which limit.
    pub kind: LimitKind,
    /// The limit's value (requests per window).
    pub limit: u64,
    /// Requests still available now (after this request, when it was allowed).
    pub remaining: u64,
    /// Time until more becomes available: for `per_minute`, until one more request
    /// is restored; for `daily`/`monthly`, until the UTC period rolls over.
    pub reset_after: Duration,
    /// The same instant as Unix seconds, rounded up (`X-RateLimit-Reset`).
    pub reset_at: u64,
}

impl LimitStatus {
    /// [`reset_after`](Self::reset_after) in whole seconds, rounded up.
    pub fn reset_after_secs(&self) -> u64 {
        ceil_secs(self.reset_after)
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denial {
    /// The limit that refused it. When several did, the one that lifts last.
    pub limit: LimitKind,
    /// Whole seconds (rounded up, at least 1) until the request can succeed
    /// (`Retry-After`).
    pub retry_after: u64,
}

/// The outcome of [`Limiter::check`](crate::Limiter::check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// One status per limit, in the order of [`LimitKind::ALL`].
    pub statuses: [LimitStatus; 3],
    /// `None` when the request is allowed (and was counted).
    pub denial: Option<Denial>,
}

impl Decision {
    /// True when the request may proceed.
    pub fn is_allowed(&self) -> bool {
        self.denial.is_none()
    }

    /// The status of one limit.
    pub fn status(&self, kind: LimitKind) -> &LimitStatus {
        &self.statuses[kind.index()]
    }

    /// The limit to show in `X-RateLimit-*`: the one that refused the request, or
    /// else the one with the fewest remaining requests (ties: the shortest window).
    pub fn tightest(&self) -> &LimitStatus {
        if let Some(denial) = self.denial {
            return self.status(denial.limit);
        }
        // `min_by_key` keeps the first of equal elements: statuses are shortest window first.
        self.statuses.iter().min_by_key(|s| s.remaining).unwrap_or(&self.statuses[0])
    }

    /// Builds a decision from what a backend computed at `now_us` (Unix µs):
    /// `parts[i]` is `(remaining, reset_after_us)` for `LimitKind::ALL[i]`, after
    /// consumption when `allowed`, untouched otherwise.
    pub(crate) fn from_parts(now_us: i64, limits: &Limits, allowed: bool, parts: [(u64, i64); 3]) -> Decision {
        let statuses = LimitKind::ALL.map(|kind| {
            let (remaining, reset_us) = parts[kind.index()];
            let reset_us = reset_us.max(0);
            LimitStatus {
                kind,
                limit: limits.get(kind),
                remaining,
                reset_after: Duration::from_micros(reset_us.unsigned_abs()),
                reset_at: ceil_div(now_us.max(0).saturating_add(reset_us), 1_000_000),
            }
        });
        let denial = (!allowed).then(|| {
            // The request can only succeed once every exhausted limit has lifted.
            let status = statuses.iter().max_by_key(|s| (s.remaining == 0, s.reset_after)).unwrap_or(&statuses[0]);
            Denial { limit: status.kind, retry_after: status.reset_after_secs().max(1) }
        });
        Decision { statuses, denial }
    }
}

fn ceil_div(value: i64, by: i64) -> u64 {
    (value.max(0).unsigned_abs()).div_ceil(by.unsigned_abs())
}

fn ceil_secs(d: Duration) -> u64 {
    let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    micros.div_ceil(1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { per_minute: 60, daily: 100, monthly: 1000 };

    #[test]
    fn tightest_prefers_fewest_remaining_then_shortest_window() {
        let d = Decision::from_parts(0, &LIMITS, true, [(5, 1), (5, 2), (7, 3)]);
        assert_eq!(d.tightest().kind, LimitKind::PerMinute);
        let d = Decision::from_parts(0, &LIMITS, true, [(5, 1), (4, 2), (4, 3)]);
        assert_eq!(d.tightest().kind, LimitKind::Daily);
    }

    #[test]
    fn denial_names_the_exhausted_limit_that_lifts_last() {
        let d = Decision::from_parts(0, &LIMITS, false, [(0, 500_000), (0, 7_200_000_000), (9, 1)]);
        let denial = d.denial.unwrap();
        assert_eq!(denial.limit, LimitKind::Daily);
        assert_eq!(denial.retry_after, 7200);
        assert_eq!(d.tightest().kind, LimitKind::Daily);
    }

    #[test]
    fn retry_after_rounds_up_and_is_at_least_one() {
        let d = Decision::from_parts(0, &LIMITS, false, [(0, 1), (3, 2), (3, 3)]);
        assert_eq!(d.denial.unwrap().retry_after, 1);
        let d = Decision::from_parts(0, &LIMITS, false, [(0, 1_000_001), (3, 2), (3, 3)]);
        assert_eq!(d.denial.unwrap().retry_after, 2);
    }

    #[test]
    fn reset_at_is_rounded_up_unix_seconds() {
        let d = Decision::from_parts(1_700_000_000_500_000, &LIMITS, true, [(1, 1_000_000), (1, 0), (1, 1)]);
        assert_eq!(d.status(LimitKind::PerMinute).reset_at, 1_700_000_002);
        assert_eq!(d.status(LimitKind::Daily).reset_at, 1_700_000_001);
        assert_eq!(d.status(LimitKind::PerMinute).reset_after_secs(), 1);
    }
}
