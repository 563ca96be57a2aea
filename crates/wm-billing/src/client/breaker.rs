//! A consecutive-failure circuit breaker: closed → open after N failures in a row → half-open
//! after a cool-down (one probe at a time) → closed on the probe's success, open again on failure.

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

/// The breaker's state, for `/health/external` and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Requests flow normally.
    Closed,
    /// Requests fail fast without reaching the remote.
    Open,
    /// The cool-down has passed: the next request is a probe.
    HalfOpen,
}

impl BreakerState {
    /// Gauge value: closed 0, open 1, half-open 2.
    pub fn as_metric_value(self) -> u8 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }

    /// snake_case name: `closed`, `open`, `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    consecutive_failures: u32,
    opened_at: Option<Instant>,
    probe_in_flight: bool,
}

/// Thread-safe circuit breaker shared by all requests of one outbound client.
#[derive(Debug)]
pub struct CircuitBreaker {
    name: &'static str,
    failure_threshold: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    /// A closed breaker that opens after `failure_threshold` (at least 1) consecutive failures
    /// and allows a probe after `cooldown`. `name` labels log lines.
    pub fn new(name: &'static str, failure_threshold: u32, cooldown: Duration) -> Self {
        CircuitBreaker {
            name,
            failure_threshold: failure_threshold.max(1),
            cooldown,
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                consecutive_failures: 0,
                opened_at: None,
                probe_in_flight: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Current state. An open breaker whose cool-down has passed reports `HalfOpen`.
    pub fn state(&self) -> BreakerState {
        let inner = self.lock();
        match inner.state {
            BreakerState::Open if self.cooled_down(&inner) => BreakerState::HalfOpen,
            s => s,
        }
    }

    /// Failures in a row since the last success.
    pub fn consecutive_failures(&self) -> u32 {
        self.lock().consecutive_failures
    }

    fn cooled_down(&self, inner: &Inner) -> bool {
        inner.opened_at.is_none_or(|t| t.elapsed() >= self.cooldown)
    }

    /// Asks to send one request. `None` means fail fast (open, or a half-open probe is already
    /// in flight). Record the outcome on the permit; dropping it unrecorded is neutral.
    pub fn try_acquire(&self) -> Option<BreakerPermit<'_>> {
        let mut inner = self.lock();
        let probe = match inner.state {
            BreakerState::Closed => false,
            BreakerState::Open if !self.cooled_down(&inner) => return None,
            BreakerState::Open | BreakerState::HalfOpen => {
                if inner.probe_in_flight {
                    return None;
                }
                if inner.state == BreakerState::Open {
                    tracing::info!(breaker.name = self.name, "circuit breaker half-open");
                }
                inner.state = BreakerState::HalfOpen;
                inner.probe_in_flight = true;
                true
            }
        };
        Some(BreakerPermit { breaker: self, probe, recorded: false })
    }

    fn on_success(&self, probe: bool) {
        let mut inner = self.lock();
        if probe {
            inner.probe_in_flight = false;
        }
        if inner.state != BreakerState::Closed {
            tracing::info!(breaker.name = self.name, "circuit breaker closed");
        }
        inner.state = BreakerState::Closed;
        inner.consecutive_failures = 0;
        inner.opened_at = None;
    }

    fn on_failure(&self, probe: bool) {
        let mut inner = self.lock();
        inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
        if probe {
            inner.probe_in_flight = false;
        }
        let trip = match inner.state {
            BreakerState::Closed => inner.consecutive_failures >= self.failure_threshold,
            BreakerState::HalfOpen => probe,
            BreakerState::Open => false,
        };
        if trip {
            tracing::warn!(
                breaker.name = self.name,
                breaker.failures = inner.consecutive_failures,
                "circuit breaker opened"
            );
            inner.state = BreakerState::Open;
            inner.opened_at = Some(Instant::now());
        }
    }

    fn on_neutral(&self, probe: bool) {
        if probe {
            self.lock().probe_in_flight = false;
        }
    }
}

/// Permission to send one request; record how it went.
#[derive(Debug)]
#[must_use = "record the outcome with success() or failure()"]
pub struct BreakerPermit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
    recorded: bool,
}

impl BreakerPermit<'_> {
    /// The remote answered properly (2xx, or a 4xx that is our fault): resets/closes.
    pub fn success(mut self) {
        self.recorded = true;
        self.breaker.on_success(self.probe);
    }

    /// The remote failed (network error, timeout, 5xx): counts towards opening.
    pub fn failure(mut self) {
        self.recorded = true;
        self.breaker.on_failure(self.probe);
    }
}

impl Drop for BreakerPermit<'_> {
    /// Unrecorded (neutral outcome such as 429, or a cancelled request): frees the probe slot.
    fn drop(&mut self) {
        if !self.recorded {
            self.breaker.on_neutral(self.probe);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_recovers_through_probe() {
        let b = CircuitBreaker::new("t", 2, Duration::from_millis(30));
        b.try_acquire().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Closed);
        b.try_acquire().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.state().as_metric_value(), 1);
        assert!(b.try_acquire().is_none());

        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let probe = b.try_acquire().unwrap();
        assert!(b.try_acquire().is_none(), "only one probe at a time");
        probe.failure();
        assert_eq!(b.state(), BreakerState::Open);

        std::thread::sleep(Duration::from_millis(40));
        b.try_acquire().unwrap().success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.consecutive_failures(), 0);
    }

    #[test]
    fn success_resets_the_count_and_neutral_frees_the_probe() {
        let b = CircuitBreaker::new("t", 2, Duration::ZERO);
        b.try_acquire().unwrap().failure();
        b.try_acquire().unwrap().success();
        b.try_acquire().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Closed);
        b.try_acquire().unwrap().failure();
        assert_eq!(b.state(), BreakerState::HalfOpen); // zero cool-down
        drop(b.try_acquire().unwrap()); // neutral probe
        assert!(b.try_acquire().is_some(), "probe slot released");
    }

    #[test]
    fn names_and_metric_values() {
        let all = [BreakerState::Closed, BreakerState::Open, BreakerState::HalfOpen];
        let got: Vec<_> = all.iter().map(|s| (s.as_str(), s.as_metric_value())).collect();
        assert_eq!(got, [("closed", 0), ("open", 1), ("half_open", 2)]);
    }
}
