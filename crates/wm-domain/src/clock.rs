//! Time as a dependency, so time-based behaviour is testable with a fixed clock.

use chrono::{DateTime, NaiveDate, Utc};
use std::cell::Cell;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Source of the current time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// The current UTC date.
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// Every metered request asks: each thread keeps the date of the day it last saw.
    fn today(&self) -> NaiveDate {
        thread_local! {
            static LAST: Cell<Option<(u64, NaiveDate)>> = const { Cell::new(None) };
        }
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let day = secs / 86_400;
        if let Some((d, date)) = LAST.get()
            && d == day
        {
            return date;
        }
        let date = i64::try_from(secs)
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .map_or_else(|| Utc::now().date_naive(), |t| t.date_naive());
        LAST.set(Some((day, date)));
        date
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<Mutex<DateTime<Utc>>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = at;
    }
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().expect("clock lock");
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_today_is_the_utc_date_and_stays_so_when_cached() {
        for _ in 0..3 {
            let before = Utc::now().date_naive();
            let today = SystemClock.today();
            let after = Utc::now().date_naive();
            assert!(today == before || today == after, "{today} not in {before}..={after}");
        }
    }

    #[test]
    fn fixed_today_follows_the_clock() {
        let clock = FixedClock::new("2026-11-23T23:59:59Z".parse().unwrap());
        assert_eq!(clock.today().to_string(), "2026-11-23");
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(clock.today().to_string(), "2026-11-24");
    }
}
