//! GCRA (generic cell rate algorithm) for the per-minute limit: pure integer math,
//! shared by [`LocalLimiter`](crate::LocalLimiter) and mirrored line by line in
//! `limit.lua` (keep both in sync).
//!
//! For a limit of `n` requests per minute:
//! - emission interval `I = floor(60 s / n)` (in µs),
//! - window `W = n * I` (= `I` + tolerance `I * (n - 1)`), so a fresh account can
//!   make `n` requests at once, then one every `I`.
//!
//! The only state is the theoretical arrival time `TAT` (stored with the interval it
//! was computed with, see [`TatState`]). At time `now`, with `tat = max(TAT, now)`,
//! the requests available are `floor((now + W - tat) / I)`; a request is allowed
//! when at least one is available, and moves `TAT` to `tat + I`.
//!
//! When the limit changes, the outstanding debt `TAT - now` is converted from the
//! old interval to the new one (in requests, capped at one full new window), so a
//! plan change takes effect at once in terms of requests already made.

/// One minute in microseconds.
pub const MINUTE_US: i64 = 60_000_000;

/// The stored per-minute state of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TatState {
    /// Theoretical arrival time, Unix µs.
    pub tat_us: i64,
    /// The emission interval (µs) `tat_us` was computed with.
    pub interval_us: i64,
}

/// GCRA parameters of a per-minute limit of at least one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    limit: u64,
    interval_us: i64,
    window_us: i64,
}

/// What a limit allows at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Available {
    /// Requests that can be made now.
    pub remaining: u64,
    /// µs until one more becomes available (always ≥ 1).
    pub reset_after_us: i64,
}

impl Gcra {
    /// The parameters for `limit` requests per minute, `None` for `0` (blocked).
    ///
    /// Limits above 60 000 000 per minute behave as 60 000 000 (one per µs).
    pub fn per_minute(limit: u64) -> Option<Gcra> {
        if limit == 0 {
            return None;
        }
        let burst = i64::try_from(limit).unwrap_or(MINUTE_US).min(MINUTE_US);
        let interval_us = MINUTE_US / burst;
        Some(Gcra { limit, interval_us, window_us: interval_us * burst })
    }

    /// The emission interval `I` in µs.
    pub fn interval_us(&self) -> i64 {
        self.interval_us
    }

    /// The window `W = n * I` in µs (at most one minute).
    pub fn window_us(&self) -> i64 {
        self.window_us
    }

    /// `max(TAT, now)`, with a `stored` state from another interval rescaled to
    /// this one: `debt' = min(debt * I, W * I_old) / I_old`.
    pub fn effective_tat(&self, stored: Option<TatState>, now_us: i64) -> i64 {
        match stored {
            Some(s) if s.tat_us > now_us && s.interval_us > 0 => {
                let debt = (s.tat_us - now_us).min(s.max_debt_us());
                let scaled = (debt.saturating_mul(self.interval_us)).min(self.window_us.saturating_mul(s.interval_us));
                now_us + scaled / s.interval_us
            }
            _ => now_us,
        }
    }

    /// What is available at `now_us` given an effective `tat_us` (≥ `now_us`).
    pub fn available(&self, tat_us: i64, now_us: i64) -> Available {
        let room = now_us + self.window_us - tat_us;
        if room < self.interval_us {
            return Available { remaining: 0, reset_after_us: self.interval_us - room };
        }
        Available {
            remaining: (room / self.interval_us).unsigned_abs().min(self.limit),
            reset_after_us: self.interval_us - room % self.interval_us,
        }
    }

    /// The state after one request is admitted at effective `tat_us`.
    pub fn consume(&self, tat_us: i64) -> TatState {
        TatState { tat_us: tat_us + self.interval_us, interval_us: self.interval_us }
    }
}

impl TatState {
    /// More debt than a consistent state can carry (one minute plus one interval);
    /// bounds the multiplication in [`Gcra::effective_tat`] for corrupt values.
    fn max_debt_us(&self) -> i64 {
        MINUTE_US.saturating_add(self.interval_us)
    }
}

/// What a blocked (`0` per minute) limit reports: nothing available, retry in a minute.
pub const BLOCKED: Available = Available { remaining: 0, reset_after_us: MINUTE_US };

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000_000;

    /// Runs `count` requests at `now` from `state`; returns the admitted count.
    fn burst(g: &Gcra, state: &mut Option<TatState>, now: i64, count: u32) -> u32 {
        let mut admitted = 0;
        for _ in 0..count {
            let tat = g.effective_tat(*state, now);
            if g.available(tat, now).remaining > 0 {
                *state = Some(g.consume(tat));
                admitted += 1;
            }
        }
        admitted
    }

    #[test]
    fn consuming_leaves_one_request_fewer_and_the_same_wait() {
        // `local::decide` relies on this instead of computing `available` again.
        for limit in [1, 2, 3, 7, 60, 1_000, 59_999, 60_000_000, u64::MAX] {
            let g = Gcra::per_minute(limit).unwrap();
            for debt in (0..=g.window_us()).step_by((g.window_us() / 97).max(1) as usize) {
                let tat = NOW + debt;
                let before = g.available(tat, NOW);
                if before.remaining == 0 {
                    continue;
                }
                let after = g.available(g.consume(tat).tat_us, NOW);
                let expected = Available { remaining: before.remaining - 1, ..before };
                assert_eq!(after, expected, "limit {limit}, debt {debt}");
            }
        }
    }

    #[test]
    fn parameters() {
        let g = Gcra::per_minute(60).unwrap();
        assert_eq!((g.interval_us(), g.window_us()), (1_000_000, MINUTE_US));
        let g = Gcra::per_minute(7).unwrap();
        assert_eq!(g.interval_us(), 8_571_428);
        assert_eq!(g.window_us(), 7 * 8_571_428);
        assert!(Gcra::per_minute(0).is_none());
        let g = Gcra::per_minute(u64::MAX).unwrap();
        assert_eq!((g.interval_us(), g.window_us()), (1, MINUTE_US));
    }

    #[test]
    fn fresh_account_gets_the_full_burst_then_one_per_interval() {
        for n in [1u64, 2, 7, 10, 60, 300, 1000] {
            let g = Gcra::per_minute(n).unwrap();
            let mut state = None;
            assert_eq!(g.available(g.effective_tat(state, NOW), NOW).remaining, n);
            assert_eq!(burst(&g, &mut state, NOW, n as u32 + 5), n as u32);
            // Just before one interval has passed: nothing; at it: exactly one.
            let later = NOW + g.interval_us() - 1;
            assert_eq!(burst(&g, &mut state, later, 3), 0);
            assert_eq!(burst(&g, &mut state, NOW + g.interval_us(), 3), 1);
        }
    }

    #[test]
    fn remaining_counts_down_and_reset_is_the_next_refill() {
        let g = Gcra::per_minute(60).unwrap();
        let mut tat = g.effective_tat(None, NOW);
        for expected in (0..60).rev() {
            tat = g.consume(tat).tat_us;
            let a = g.available(tat, NOW);
            assert_eq!(a.remaining, expected);
            assert_eq!(a.reset_after_us, 1_000_000);
        }
        // Half an interval later, the next request is 0.5 s away.
        let a = g.available(tat, NOW + 500_000);
        assert_eq!(a, Available { remaining: 0, reset_after_us: 500_000 });
    }

    #[test]
    fn denied_retry_after_is_until_one_more_fits() {
        let g = Gcra::per_minute(3).unwrap();
        let mut state = None;
        burst(&g, &mut state, NOW, 3);
        let now = NOW + 5_000_000;
        let a = g.available(g.effective_tat(state, now), now);
        assert_eq!(a, Available { remaining: 0, reset_after_us: 15_000_000 });
        let now = NOW + 20_000_000;
        assert_eq!(burst(&g, &mut state, now, 2), 1);
    }

    #[test]
    fn expired_state_is_a_fresh_start() {
        let g = Gcra::per_minute(10).unwrap();
        let mut state = None;
        burst(&g, &mut state, NOW, 10);
        let later = NOW + MINUTE_US;
        assert_eq!(g.effective_tat(state, later), later);
        assert_eq!(burst(&g, &mut state, later, 20), 10);
    }

    #[test]
    fn a_new_limit_applies_to_requests_already_made() {
        // 2 of 2 used; the plan goes to 60/min: 58 more now.
        let (old, new) = (Gcra::per_minute(2).unwrap(), Gcra::per_minute(60).unwrap());
        let mut state = None;
        burst(&old, &mut state, NOW, 2);
        assert_eq!(burst(&new, &mut state, NOW, 100), 58);

        // 6 of 10 used; the plan goes to 5/min: nothing until one interval (12 s) passes.
        let (old, new) = (Gcra::per_minute(10).unwrap(), Gcra::per_minute(5).unwrap());
        let mut state = None;
        burst(&old, &mut state, NOW, 6);
        let a = new.available(new.effective_tat(state, NOW), NOW);
        assert_eq!(a, Available { remaining: 0, reset_after_us: 12_000_000 });
    }

    #[test]
    fn corrupt_state_cannot_block_for_longer_than_a_window() {
        let g = Gcra::per_minute(10).unwrap();
        let state = Some(TatState { tat_us: i64::MAX, interval_us: 1 });
        let tat = g.effective_tat(state, NOW);
        assert!(tat <= NOW + g.window_us());
        assert!(g.available(tat, NOW).reset_after_us <= g.interval_us());
    }
}
