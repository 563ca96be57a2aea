//! Wall clocks for the in-process limiter (the Redis limiter uses the server's clock).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current Unix time, injectable for tests.
pub trait Clock: Send + Sync + 'static {
    /// Microseconds since the Unix epoch (UTC).
    fn now_micros(&self) -> u64;
}

/// The system wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_micros(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs().saturating_mul(1_000_000).saturating_add(u64::from(d.subsec_micros())))
    }
}

/// A clock that only moves when told to, for tests.
#[derive(Debug, Default)]
pub struct ManualClock {
    micros: AtomicU64,
}

impl ManualClock {
    /// A clock showing `unix_micros`.
    pub fn new(unix_micros: u64) -> Self {
        Self { micros: AtomicU64::new(unix_micros) }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_micros()).unwrap_or(u64::MAX);
        self.micros.fetch_add(by, Ordering::SeqCst);
    }

    /// Sets the clock to `unix_micros`.
    pub fn set(&self, unix_micros: u64) {
        self.micros.store(unix_micros, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_micros(&self) -> u64 {
        self.micros.load(Ordering::SeqCst)
    }
}
