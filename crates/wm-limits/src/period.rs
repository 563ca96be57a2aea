//! UTC day and month periods of the daily and monthly counters, in integer math
//! mirrored by `limit.lua` (which computes the same from the Redis server clock).

use std::cell::Cell;

/// One day in microseconds.
pub(crate) const DAY_US: i64 = 86_400_000_000;
/// 9999-12-31T23:59:59.999999Z: later (or earlier than 1970) clocks are clamped.
const MAX_US: i64 = 253_402_300_799_999_999;

/// The periods containing one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Periods {
    /// Days since 1970-01-01.
    pub day: i64,
    /// Months since 1970-01 (`year * 12 + month - 1`, relative).
    pub month: i64,
    /// Start of the next day, Unix µs.
    pub day_end_us: i64,
    /// Start of the next month, Unix µs.
    pub month_end_us: i64,
    /// Calendar date of the day: (year, month 1-12, day 1-31).
    pub date: (i64, u32, u32),
}

impl Periods {
    /// The periods containing `now_us` (Unix µs, UTC; clamped to years 1970-9999). Every check
    /// asks, so each thread keeps the last answer for the rest of its day.
    pub fn at(now_us: i64) -> Periods {
        thread_local! {
            static LAST: Cell<Option<Periods>> = const { Cell::new(None) };
        }
        if let Some(p) = LAST.get()
            && (p.day_end_us - DAY_US..p.day_end_us).contains(&now_us)
        {
            return p;
        }
        let p = Self::compute(now_us);
        LAST.set(Some(p));
        p
    }

    fn compute(now_us: i64) -> Periods {
        let day = now_us.clamp(0, MAX_US).div_euclid(DAY_US);
        let (y, m, d) = civil_from_days(day);
        let month_days = i64::from(days_in_month(y, m));
        Periods {
            day,
            month: y * 12 + i64::from(m) - 1,
            day_end_us: (day + 1) * DAY_US,
            month_end_us: (day + month_days - i64::from(d) + 1) * DAY_US,
            date: (y, m, d),
        }
    }

    /// `YYYY-MM-DD`, as in the Redis day counter key.
    pub fn day_stamp(&self) -> String {
        let (y, m, d) = self.date;
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// `YYYY-MM`, as in the Redis month counter key.
    pub fn month_stamp(&self) -> String {
        let (y, m, _) = self.date;
        format!("{y:04}-{m:02}")
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // d is 1..=31 and m is 1..=12 by construction.
    (y, m as u32, d as u32)
}

/// Number of days in `month` (1-12) of `year`.
pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn civil_dates_match_chrono() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for days in (-800..200_000).step_by(7).chain(19_000..21_000) {
            let date = epoch + chrono::TimeDelta::days(days);
            let expected = (i64::from(date.year()), date.month(), date.day());
            assert_eq!(civil_from_days(days), expected, "day {days}");
            assert_eq!(days_in_month(expected.0, expected.1), days_in_month_chrono(date));
        }
    }

    fn days_in_month_chrono(date: NaiveDate) -> u32 {
        let first = date.with_day(1).unwrap();
        let next = first + chrono::Months::new(1);
        (next - first).num_days() as u32
    }

    #[test]
    fn remembered_periods_equal_computed_ones() {
        let start = 1_795_478_340_000_000; // 2026-11-23T23:59:00Z
        for t in (start - 2 * DAY_US..start + 40 * DAY_US).step_by(3_599_999_999).chain([i64::MIN, -1, 0, i64::MAX]) {
            assert_eq!(Periods::at(t), Periods::compute(t), "at {t}");
            assert_eq!(Periods::at(t), Periods::compute(t), "at {t}, remembered");
        }
    }

    #[test]
    fn absurd_clocks_do_not_overflow() {
        assert_eq!(Periods::at(i64::MAX).day_stamp(), "9999-12-31");
        assert_eq!(Periods::at(i64::MIN).day_stamp(), "1970-01-01");
    }

    #[test]
    fn period_boundaries() {
        // 2024-02-29T23:59:59.999999Z
        let leap_last =
            NaiveDate::from_ymd_opt(2024, 3, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_micros();
        let p = Periods::at(leap_last - 1);
        assert_eq!(p.day_stamp(), "2024-02-29");
        assert_eq!(p.month_stamp(), "2024-02");
        assert_eq!(p.day_end_us, leap_last);
        assert_eq!(p.month_end_us, leap_last);
        let q = Periods::at(leap_last);
        assert_eq!((q.day_stamp(), q.month_stamp()), ("2024-03-01".into(), "2024-03".into()));
        assert_eq!((q.day, q.month), (p.day + 1, p.month + 1));
        assert_eq!(q.month_end_us - q.day_end_us, 30 * DAY_US);
    }
}
