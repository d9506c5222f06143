//! The festival dates of 二(一)'s holiday visits (节日慰问): the Gregorian dates of Spring Festival
//! (春节) and Mid-Autumn (中秋) by year, read from the project's verified table
//! `data/holidays.csv` (see `data/HOLIDAYS.md`) and checked row by row. Lunar dates are never
//! computed here: a year missing from the table is missing, not guessed.

use std::sync::OnceLock;

use guanai_rules::calendar::parse_date;
use jiff::civil::Date;
use thiserror::Error;

/// The table shipped with Guanai, a byte-identical copy of `shared/data/holidays.csv`.
const EMBEDDED_CSV: &str = include_str!("../../../data/holidays.csv");

/// The only header [`Holidays::parse`] accepts.
const HEADER: &str = "year,spring_festival,mid_autumn";

/// A festival with a holiday visit (二(一): 春节、中秋节 走访慰问).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Festival {
    /// 春节: 正月初一, in January or February.
    SpringFestival,
    /// 中秋节: 八月十五, in September or October.
    MidAutumn,
}

impl Festival {
    /// In calendar order within a year.
    pub const ALL: [Festival; 2] = [Festival::SpringFestival, Festival::MidAutumn];

    /// The stored form, also the column name in `holidays.csv`: `spring_festival`, `mid_autumn`.
    pub fn as_str(self) -> &'static str {
        match self {
            Festival::SpringFestival => "spring_festival",
            Festival::MidAutumn => "mid_autumn",
        }
    }

    /// The festival's name on screen: 春节, 中秋节.
    pub fn as_zh(self) -> &'static str {
        match self {
            Festival::SpringFestival => "春节",
            Festival::MidAutumn => "中秋节",
        }
    }

    /// The Gregorian months (1–12) the festival can fall in, and how to say so.
    fn months(self) -> ([i8; 2], &'static str) {
        match self {
            Festival::SpringFestival => ([1, 2], "January or February"),
            Festival::MidAutumn => ([9, 10], "September or October"),
        }
    }

    fn index(self) -> usize {
        match self {
            Festival::SpringFestival => 0,
            Festival::MidAutumn => 1,
        }
    }
}

/// Why a holidays table cannot be used. `line` counts from 1 (the header); `column` is the
/// header's name for the field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HolidayError {
    #[error("line 1: the header must be exactly `{HEADER}`, not {found:?}")]
    Header { found: String },
    #[error("line {line}: expected 3 columns `{HEADER}`, found {found}")]
    Columns { line: usize, found: usize },
    #[error("line {line}, column `year`: not a year YYYY (0001–9999): {text:?}")]
    Year { line: usize, text: String },
    #[error("line {line}, column `{column}`: not a date YYYY-MM-DD: {text:?}")]
    Date {
        line: usize,
        column: &'static str,
        text: String,
    },
    #[error("line {line}, column `{column}`: {date} is not in the row's year {year}")]
    WrongYear {
        line: usize,
        column: &'static str,
        date: Date,
        year: i16,
    },
    #[error("line {line}, column `{column}`: {date} is not in {months}, where the festival falls")]
    WrongMonth {
        line: usize,
        column: &'static str,
        date: Date,
        months: &'static str,
    },
    #[error("line {line}, column `year`: {year} is listed twice (first on line {first_line})")]
    Duplicate {
        line: usize,
        year: i16,
        first_line: usize,
    },
    #[error(
        "line {line}, column `year`: expected {expected} (years must increase by one, without gaps), found {year}"
    )]
    OutOfSequence {
        line: usize,
        year: i16,
        expected: i16,
    },
}

/// Festival dates by year, for a run of consecutive years (possibly none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holidays {
    /// One row per year, years consecutive; dates indexed by [`Festival::index`].
    rows: Vec<(i16, [Date; 2])>,
}

impl Holidays {
    /// Parses a table `year,spring_festival,mid_autumn` (the header exactly so), one row per year:
    /// strict `YYYY-MM-DD` dates in the row's year, Spring Festival in January or February,
    /// Mid-Autumn in September or October, years increasing by one without gaps. A table with
    /// only the header is empty.
    pub fn parse(csv: &str) -> Result<Holidays, HolidayError> {
        let mut lines = csv.lines();
        let header = lines.next().unwrap_or_default();
        if header != HEADER {
            return Err(HolidayError::Header {
                found: header.to_owned(),
            });
        }
        let mut rows: Vec<(i16, [Date; 2])> = Vec::new();
        for (i, text) in lines.enumerate() {
            let line = i + 2;
            let fields: Vec<&str> = text.split(',').collect();
            let [year_text, spring, autumn] = fields.as_slice() else {
                return Err(HolidayError::Columns {
                    line,
                    found: fields.len(),
                });
            };
            let year = parse_year(year_text).ok_or_else(|| HolidayError::Year {
                line,
                text: (*year_text).to_owned(),
            })?;
            if let (Some(&(first, _)), Some(&(last, _))) = (rows.first(), rows.last()) {
                // `last` is at most 9999, so this cannot overflow.
                let expected = last + 1;
                if (first..=last).contains(&year) {
                    return Err(HolidayError::Duplicate {
                        line,
                        year,
                        first_line: 2 + (year - first) as usize,
                    });
                }
                if year != expected {
                    return Err(HolidayError::OutOfSequence {
                        line,
                        year,
                        expected,
                    });
                }
            }
            let dates = [
                festival_date(line, year, Festival::SpringFestival, spring)?,
                festival_date(line, year, Festival::MidAutumn, autumn)?,
            ];
            rows.push((year, dates));
        }
        Ok(Holidays { rows })
    }

    /// The table shipped in `data/holidays.csv` (2014–2040), parsed once at first use.
    ///
    /// The test `the_embedded_table_parses_and_spans_2014_to_2040` proves that the shipped file
    /// parses, so for a released build this is always `Ok`. It stays a `Result` rather than
    /// panicking so that a table edited into a broken state reaches the caller as a
    /// [`HolidayError`] naming the line, not as a crash.
    pub fn embedded() -> Result<&'static Holidays, HolidayError> {
        static TABLE: OnceLock<Result<Holidays, HolidayError>> = OnceLock::new();
        TABLE
            .get_or_init(|| Holidays::parse(EMBEDDED_CSV))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The festival's date in `year`, if the table has the year.
    pub fn date(&self, year: i16, festival: Festival) -> Option<Date> {
        let &(first, _) = self.rows.first()?;
        let index = usize::try_from(year.checked_sub(first)?).ok()?;
        self.rows
            .get(index)
            .map(|(_, dates)| dates[festival.index()])
    }

    /// The first year of the table; `None` when it is empty.
    pub fn first_year(&self) -> Option<i16> {
        self.rows.first().map(|(year, _)| *year)
    }

    /// The last year of the table; `None` when it is empty.
    pub fn last_year(&self) -> Option<i16> {
        self.rows.last().map(|(year, _)| *year)
    }
}

/// Exactly four ASCII digits, 0001–9999 (the years [`parse_date`] accepts).
fn parse_year(text: &str) -> Option<i16> {
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|year| *year >= 1)
}

fn festival_date(
    line: usize,
    year: i16,
    festival: Festival,
    text: &str,
) -> Result<Date, HolidayError> {
    let column = festival.as_str();
    let date = parse_date(text).map_err(|_| HolidayError::Date {
        line,
        column,
        text: text.to_owned(),
    })?;
    if date.year() != year {
        return Err(HolidayError::WrongYear {
            line,
            column,
            date,
            year,
        });
    }
    let (months, named) = festival.months();
    if !months.contains(&date.month()) {
        return Err(HolidayError::WrongMonth {
            line,
            column,
            date,
            months: named,
        });
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_date(s).expect("test date")
    }

    fn table(rows: &[&str]) -> Result<Holidays, HolidayError> {
        Holidays::parse(&format!("{HEADER}\n{}\n", rows.join("\n")))
    }

    fn message(rows: &[&str]) -> String {
        match table(rows) {
            Err(e) => e.to_string(),
            Ok(t) => panic!("expected a refusal, got {t:?}"),
        }
    }

    #[test]
    fn the_embedded_table_parses_and_spans_2014_to_2040() {
        let t = Holidays::embedded().expect("the shipped table parses");
        assert_eq!(t.first_year(), Some(2014));
        assert_eq!(t.last_year(), Some(2040));
        assert_eq!(t.rows.len(), 27);
    }

    #[test]
    fn the_embedded_table_is_the_verified_one() {
        // The first and last rows of shared/data/holidays.csv, which data/holidays.csv copies.
        assert!(
            EMBEDDED_CSV
                .starts_with("year,spring_festival,mid_autumn\n2014,2014-01-31,2014-09-08\n")
        );
        assert!(EMBEDDED_CSV.ends_with("\n2040,2040-02-12,2040-09-20\n"));
    }

    #[test]
    fn known_festival_dates() {
        let t = Holidays::embedded().expect("table");
        assert_eq!(
            t.date(2026, Festival::SpringFestival),
            Some(d("2026-02-17"))
        );
        assert_eq!(t.date(2026, Festival::MidAutumn), Some(d("2026-09-25")));
        assert_eq!(
            t.date(2014, Festival::SpringFestival),
            Some(d("2014-01-31"))
        );
        assert_eq!(t.date(2024, Festival::MidAutumn), Some(d("2024-09-17")));
        // The "2033 problem": 闰十一月, so 中秋 is in September.
        assert_eq!(t.date(2033, Festival::MidAutumn), Some(d("2033-09-08")));
        assert_eq!(t.date(2040, Festival::MidAutumn), Some(d("2040-09-20")));
    }

    #[test]
    fn years_outside_the_table_have_no_dates() {
        let t = Holidays::embedded().expect("table");
        assert_eq!(t.date(2013, Festival::SpringFestival), None);
        assert_eq!(t.date(2041, Festival::MidAutumn), None);
        assert_eq!(t.date(i16::MIN, Festival::MidAutumn), None);
        assert_eq!(t.date(i16::MAX, Festival::MidAutumn), None);
    }

    #[test]
    fn a_header_only_table_is_empty() {
        let t = Holidays::parse("year,spring_festival,mid_autumn\n").expect("empty table");
        assert_eq!(t.first_year(), None);
        assert_eq!(t.last_year(), None);
        assert_eq!(t.date(2026, Festival::SpringFestival), None);
    }

    #[test]
    fn festival_names() {
        assert_eq!(
            Festival::ALL.map(Festival::as_str),
            ["spring_festival", "mid_autumn"]
        );
        assert_eq!(Festival::ALL.map(Festival::as_zh), ["春节", "中秋节"]);
    }

    #[test]
    fn the_header_must_be_exact() {
        assert_eq!(
            Holidays::parse("").map_err(|e| e.to_string()),
            Err(
                "line 1: the header must be exactly `year,spring_festival,mid_autumn`, not \"\""
                    .to_owned()
            )
        );
        assert_eq!(
            Holidays::parse("year,mid_autumn,spring_festival\n2026,2026-09-25,2026-02-17\n")
                .map_err(|e| e.to_string()),
            Err("line 1: the header must be exactly `year,spring_festival,mid_autumn`, not \"year,mid_autumn,spring_festival\"".to_owned())
        );
    }

    #[test]
    fn a_row_needs_three_columns() {
        assert_eq!(
            message(&["2026,2026-02-17"]),
            "line 2: expected 3 columns `year,spring_festival,mid_autumn`, found 2"
        );
        assert_eq!(
            message(&["2026,2026-02-17,2026-09-25", ""]),
            "line 3: expected 3 columns `year,spring_festival,mid_autumn`, found 1"
        );
    }

    #[test]
    fn the_year_is_four_digits() {
        assert_eq!(
            message(&["26,2026-02-17,2026-09-25"]),
            "line 2, column `year`: not a year YYYY (0001–9999): \"26\""
        );
        for bad in ["+026", "0000", " 2026", "２０２６"] {
            assert!(
                matches!(
                    table(&[&format!("{bad},2026-02-17,2026-09-25")]),
                    Err(HolidayError::Year { line: 2, .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            message(&["2026,2026-2-17,2026-09-25"]),
            "line 2, column `spring_festival`: not a date YYYY-MM-DD: \"2026-2-17\""
        );
        assert_eq!(
            message(&["2026,2026-02-17,2026-09-31"]),
            "line 2, column `mid_autumn`: not a date YYYY-MM-DD: \"2026-09-31\""
        );
    }

    #[test]
    fn a_date_must_be_in_its_row_s_year() {
        assert_eq!(
            message(&["2026,2027-02-06,2026-09-25"]),
            "line 2, column `spring_festival`: 2027-02-06 is not in the row's year 2026"
        );
    }

    #[test]
    fn each_festival_falls_in_its_months() {
        assert_eq!(
            message(&["2026,2026-03-01,2026-09-25"]),
            "line 2, column `spring_festival`: 2026-03-01 is not in January or February, where the festival falls"
        );
        assert_eq!(
            message(&["2026,2026-02-17,2026-08-31"]),
            "line 2, column `mid_autumn`: 2026-08-31 is not in September or October, where the festival falls"
        );
        // The columns swapped: the Spring Festival column holds a Mid-Autumn date.
        assert!(matches!(
            table(&["2026,2026-09-25,2026-02-17"]),
            Err(HolidayError::WrongMonth {
                line: 2,
                column: "spring_festival",
                ..
            })
        ));
    }

    #[test]
    fn years_increase_by_one_without_gaps_or_duplicates() {
        let y2025 = "2025,2025-01-29,2025-10-06";
        let y2026 = "2026,2026-02-17,2026-09-25";
        let y2027 = "2027,2027-02-06,2027-09-15";
        assert_eq!(
            message(&[y2025, y2027]),
            "line 3, column `year`: expected 2026 (years must increase by one, without gaps), found 2027"
        );
        assert_eq!(
            message(&[y2025, y2026, y2025]),
            "line 4, column `year`: 2025 is listed twice (first on line 2)"
        );
        assert_eq!(
            message(&[y2026, y2025]),
            "line 3, column `year`: expected 2027 (years must increase by one, without gaps), found 2025"
        );
        let t = table(&[y2025, y2026, y2027]).expect("consecutive years");
        assert_eq!(t.first_year(), Some(2025));
        assert_eq!(t.last_year(), Some(2027));
        assert_eq!(t.date(2027, Festival::MidAutumn), Some(d("2027-09-15")));
    }
}
