//! Calendar facts the policy is written in: calendar months, strict `YYYY-MM-DD` dates,
//! birthdays (29 February falls on 28 February in common years) and the timing rule
//! (spec §1: an event dated `d` counts for month `M` iff `d < first_day(M)`).

use std::fmt;

use jiff::civil::Date;
use thiserror::Error;

/// A calendar month, stored as `year * 12 + (month - 1)` so that months compare and step cheaply.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i32);

/// Why a text is not a month or a date.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    #[error("not a month (expected YYYY-MM): {0}")]
    NotAMonth(String),
    #[error("not a date: {0}")]
    NotADate(String),
}

impl Month {
    /// Builds a month; `month` must be 1–12 and `year` 1–9999.
    pub fn new(year: i16, month: i8) -> Option<Month> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        Some(Month(i32::from(year) * 12 + i32::from(month) - 1))
    }

    /// Parses exactly `YYYY-MM`.
    pub fn parse(text: &str) -> Result<Month, CalendarError> {
        let b = text.as_bytes();
        let bad = || CalendarError::NotAMonth(text.to_owned());
        if b.len() != 7 || b[4] != b'-' {
            return Err(bad());
        }
        let year = digits(&b[0..4]).ok_or_else(bad)?;
        let month = digits(&b[5..7]).ok_or_else(bad)?;
        let year = i16::try_from(year).map_err(|_| bad())?;
        let month = i8::try_from(month).map_err(|_| bad())?;
        Month::new(year, month).ok_or_else(bad)
    }

    /// The month containing `date`.
    pub fn of(date: Date) -> Month {
        Month(i32::from(date.year()) * 12 + i32::from(date.month()) - 1)
    }

    pub fn year(self) -> i16 {
        // In range by construction (years 1–9999).
        i16::try_from(self.0.div_euclid(12)).unwrap_or(i16::MAX)
    }

    pub fn month(self) -> i8 {
        i8::try_from(self.0.rem_euclid(12) + 1).unwrap_or(1)
    }

    /// The first day of the month.
    pub fn first_day(self) -> Date {
        // Day 1 exists in every month of years 1–9999.
        Date::new(self.year(), self.month(), 1).unwrap_or(Date::MIN)
    }

    /// The month after this one (saturating at 9999-12).
    pub fn next(self) -> Month {
        if self.0 >= 9999 * 12 + 11 {
            self
        } else {
            Month(self.0 + 1)
        }
    }

    /// The month before this one (saturating at 0001-01).
    pub fn prev(self) -> Month {
        if self.0 <= 12 {
            self
        } else {
            Month(self.0 - 1)
        }
    }

    /// The first month in which an event dated `date` counts (timing rule, spec §1):
    /// the month after the month in which it happened.
    pub fn effective_from(date: Date) -> Month {
        Month::of(date).next()
    }

    /// Months from `self` to `later` (negative when `later` is earlier).
    pub fn months_until(self, later: Month) -> i32 {
        later.0 - self.0
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written digit by digit: months are formatted for every output line.
        let mut buf = [0u8; 7];
        put_digits(&mut buf[0..4], self.year() as u32);
        buf[4] = b'-';
        put_digits(&mut buf[5..7], self.month() as u32);
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

/// Writes `value` as fixed-width decimal digits into `out` (zero-padded, truncated on the left).
fn put_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// A date shown as `YYYY-MM-DD`, quickly (for explanations written on every output line).
#[derive(Clone, Copy)]
pub struct Ymd(pub Date);

impl fmt::Display for Ymd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 10];
        put_digits(&mut buf[0..4], self.0.year().max(0) as u32);
        buf[4] = b'-';
        put_digits(&mut buf[5..7], self.0.month().max(0) as u32);
        buf[7] = b'-';
        put_digits(&mut buf[8..10], self.0.day().max(0) as u32);
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Month {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Month::parse(s)
    }
}

/// Parses exactly `YYYY-MM-DD` (years 0001–9999) into a real calendar date.
pub fn parse_date(text: &str) -> Result<Date, CalendarError> {
    let b = text.as_bytes();
    let bad = || CalendarError::NotADate(text.to_owned());
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let year = digits(&b[0..4]).ok_or_else(bad)?;
    let month = digits(&b[5..7]).ok_or_else(bad)?;
    let day = digits(&b[8..10]).ok_or_else(bad)?;
    if year == 0 {
        return Err(bad());
    }
    let (Ok(year), Ok(month), Ok(day)) =
        (i16::try_from(year), i8::try_from(month), i8::try_from(day))
    else {
        return Err(bad());
    };
    Date::new(year, month, day).map_err(|_| bad())
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// The date of the `years`-th birthday of a person born on `birth`.
/// A 29 February birthday falls on 28 February in common years (spec §1).
/// Returns `None` past the year 9999.
pub fn birthday(birth: Date, years: i16) -> Option<Date> {
    let year = birth.year().checked_add(years)?;
    if year > 9999 {
        return None;
    }
    let day = if birth.month() == 2 && birth.day() == 29 {
        Date::new(year, 2, 1).ok()?.days_in_month()
    } else {
        birth.day()
    };
    Date::new(year, birth.month(), day).ok()
}

/// The timing rule (spec §1): an event dated `date` counts for `month` iff it happened
/// before the first day of that month.
#[inline]
pub fn counts_in(date: Date, month: Month) -> bool {
    Month::of(date) < month
}

/// Whether a person born on `birth` "has reached age `years`" for `month` under the timing rule:
/// the birthday is an event, so it counts from the month after the birthday month.
#[inline]
pub fn has_reached_age(birth: Date, years: i16, month: Month) -> bool {
    birthday(birth, years).is_some_and(|d| counts_in(d, month))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_date(s).expect("test date")
    }

    fn m(s: &str) -> Month {
        Month::parse(s).expect("test month")
    }

    #[test]
    fn event_in_march_counts_from_april() {
        assert!(!counts_in(d("2020-03-31"), m("2020-03")));
        assert!(counts_in(d("2020-03-31"), m("2020-04")));
        assert!(counts_in(d("2020-03-01"), m("2020-04")));
    }

    #[test]
    fn event_on_first_of_december_counts_from_january() {
        assert!(!counts_in(d("2014-12-01"), m("2014-12")));
        assert!(counts_in(d("2014-12-01"), m("2015-01")));
    }

    #[test]
    fn birthday_on_30_november_counts_from_december() {
        let birth = d("1965-11-30");
        assert!(!has_reached_age(birth, 49, m("2014-11")));
        assert!(has_reached_age(birth, 49, m("2014-12")));
    }

    #[test]
    fn leap_day_birthday_falls_on_28_february_in_common_years() {
        assert_eq!(birthday(d("1960-02-29"), 49), Some(d("2009-02-28")));
        assert_eq!(birthday(d("1960-02-29"), 48), Some(d("2008-02-29")));
        assert!(has_reached_age(d("1960-02-29"), 49, m("2009-03")));
        assert!(!has_reached_age(d("1960-02-29"), 49, m("2009-02")));
    }

    #[test]
    fn dates_are_strict() {
        for bad in [
            "1960-02-30",
            "1960-2-03",
            "19600203",
            "0000-01-01",
            "2020-13-01",
            "2020-00-10",
            " 2020-01-01",
            "2020-01-01T00",
            "２０２０-01-01",
        ] {
            assert!(parse_date(bad).is_err(), "{bad} should be rejected");
        }
        assert_eq!(parse_date("2020-02-29").map(|x| x.day()), Ok(29));
        assert_eq!(parse_date("9999-12-31").map(|x| x.year()), Ok(9999));
    }

    #[test]
    fn dates_and_months_show_zero_padded() {
        assert_eq!(Ymd(d("0987-02-03")).to_string(), "0987-02-03");
        assert_eq!(Ymd(d("2024-12-31")).to_string(), "2024-12-31");
        assert_eq!(m("0001-01").to_string(), "0001-01");
        assert_eq!(m("9999-12").to_string(), "9999-12");
    }

    #[test]
    fn months_parse_and_step() {
        assert_eq!(m("2014-12").next(), m("2015-01"));
        assert_eq!(m("2015-01").prev(), m("2014-12"));
        assert_eq!(m("2014-10").to_string(), "2014-10");
        assert!(Month::parse("2014-13").is_err());
        assert!(Month::parse("2014-1").is_err());
        assert_eq!(m("2014-10").months_until(m("2015-01")), 3);
    }
}
