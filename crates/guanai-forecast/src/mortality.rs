//! Parent mortality: the probability that a living parent dies in a given month, held as an
//! integer number of parts per billion; the survival factors the forecast weighs monthly
//! assistance with; and the rate observed among the families in the archive.

use guanai_rules::{Month, Parent};

use crate::ForecastError;
use crate::forecast::Subject;

const BILLION: u64 = 1_000_000_000;

/// A monthly probability of death for a living parent, in parts per billion (0 to 10⁹).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Mortality {
    per_billion_per_month: u64,
}

impl Mortality {
    /// The fixed-point unit of survival factors: [`Mortality::survival`] returns `S(k)` in units
    /// of 10⁻¹⁸, so certain survival is `SURVIVAL_SCALE`.
    pub const SURVIVAL_SCALE: u64 = 1_000_000_000_000_000_000;

    /// No deaths forecast.
    pub const ZERO: Mortality = Mortality {
        per_billion_per_month: 0,
    };

    /// A rate of `ppb` parts per billion per month; at most 10⁹ (certain death).
    pub fn from_ppb(ppb: u64) -> Result<Mortality, ForecastError> {
        if ppb > BILLION {
            return Err(ForecastError::MortalityAboveCertainty { ppb });
        }
        Ok(Mortality {
            per_billion_per_month: ppb,
        })
    }

    /// The observed rate: deaths of the subjects' parents dated in the months `window_start`
    /// through `window_end`, over the parent-months at risk in those months, rounded half up to
    /// the part per billion. A parent is at risk in month M when alive at its start: born on or
    /// before its first day and not dead before it (a parent who dies in M is at risk in M and
    /// counts as one death). No parent-months at risk (also an empty or reversed window) gives 0.
    pub fn observed(subjects: &[Subject], window_start: Month, window_end: Month) -> Mortality {
        let last = window_start.months_until(window_end);
        let (mut deaths, mut at_risk) = (0u128, 0u128);
        for parent in subjects.iter().flat_map(|s| s.family.parents()) {
            let (months, died) = exposure(parent, window_start, last);
            at_risk += u128::from(months);
            deaths += u128::from(died);
        }
        if at_risk == 0 {
            return Mortality::ZERO;
        }
        // deaths ≤ at_risk, so the quotient is at most 10⁹.
        let ppb = (2 * deaths * u128::from(BILLION) + at_risk) / (2 * at_risk);
        Mortality {
            per_billion_per_month: u64::try_from(ppb).unwrap_or(BILLION).min(BILLION),
        }
    }

    /// The rate in parts per billion per month.
    pub fn ppb(&self) -> u64 {
        self.per_billion_per_month
    }

    /// `S(k) = (1 − q)^k` in units of 10⁻¹⁸ ([`Mortality::SURVIVAL_SCALE`]): the probability that
    /// a parent alive now is still alive after `k` months. Computed month by month, each step
    /// rounded half up to 10⁻¹⁸, so it never increases with `k`.
    pub fn survival(&self, k: u16) -> u64 {
        self.survival_table(usize::from(k) + 1)
            .last()
            .copied()
            .unwrap_or(Mortality::SURVIVAL_SCALE)
    }

    /// `S(0)`, …, `S(n − 1)`.
    pub(crate) fn survival_table(&self, n: usize) -> Vec<u64> {
        let keep = u128::from(BILLION - self.per_billion_per_month.min(BILLION));
        let mut table = Vec::with_capacity(n);
        let mut s = u128::from(Mortality::SURVIVAL_SCALE);
        for _ in 0..n {
            // s ≤ 10¹⁸ throughout: it starts there and each step multiplies by keep/10⁹ ≤ 1.
            table.push(u64::try_from(s).unwrap_or(Mortality::SURVIVAL_SCALE));
            s = (s * keep + u128::from(BILLION / 2)) / u128::from(BILLION);
        }
        table
    }
}

/// A parent's months at risk in the window of month offsets `0..=last` from `start`, and whether
/// the parent died in one of them.
fn exposure(parent: &Parent, start: Month, last: i32) -> (u32, bool) {
    // The first month at whose first day the parent was alive.
    let born_late = i32::from(parent.birth_date.day() != 1);
    let first = (start.months_until(Month::of(parent.birth_date)) + born_late).max(0);
    let death = parent.death_date.map(|d| start.months_until(Month::of(d)));
    let end = death.map_or(last, |d| d.min(last));
    if end < first {
        return (0, false);
    }
    let months = u32::try_from(end - first + 1).unwrap_or(0);
    (months, death.is_some_and(|d| d <= last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use guanai_rules::{Sex, parse_date};

    fn m(s: &str) -> Month {
        Month::parse(s).expect("month")
    }

    fn parent(birth: &str, death: Option<&str>) -> Parent {
        Parent {
            sex: Sex::Female,
            birth_date: parse_date(birth).expect("date"),
            death_date: death.map(|d| parse_date(d).expect("date")),
            later_child_date: None,
            dibao: false,
            wubao: false,
            chronically_ill: false,
        }
    }

    #[test]
    fn exposure_counts_months_alive_at_their_start() {
        let (start, last) = (m("2020-01"), 9); // 2020-01 ..= 2020-10
        assert_eq!(
            exposure(&parent("1960-01-01", None), start, last),
            (10, false)
        );
        assert_eq!(
            exposure(&parent("1960-01-01", Some("2020-03-10")), start, last),
            (3, true)
        );
        assert_eq!(
            exposure(&parent("1960-01-01", Some("2020-01-01")), start, last),
            (1, true)
        );
        assert_eq!(
            exposure(&parent("1960-01-01", Some("2019-12-31")), start, last),
            (0, false)
        );
        assert_eq!(
            exposure(&parent("1960-01-01", Some("2020-11-01")), start, last),
            (10, false)
        );
        // Born on the first of a month: alive at its start. Born later: from the next month.
        assert_eq!(
            exposure(&parent("2020-10-01", None), start, last),
            (1, false)
        );
        assert_eq!(
            exposure(&parent("2020-09-02", None), start, last),
            (1, false)
        );
        assert_eq!(
            exposure(&parent("2020-10-02", None), start, last),
            (0, false)
        );
        // A reversed window has no months.
        assert_eq!(exposure(&parent("1960-01-01", None), start, -1), (0, false));
    }

    #[test]
    fn rates_above_certainty_are_refused() {
        assert_eq!(
            Mortality::from_ppb(1_000_000_000).map(|m| m.ppb()),
            Ok(BILLION)
        );
        assert_eq!(
            Mortality::from_ppb(1_000_000_001),
            Err(ForecastError::MortalityAboveCertainty { ppb: 1_000_000_001 })
        );
    }

    #[test]
    fn survival_steps_round_half_up() {
        // q = 1/2: S(k) = 2^-k exactly until the 10⁻¹⁸ grid is reached.
        let half = Mortality::from_ppb(500_000_000).expect("rate");
        let table = half.survival_table(4);
        assert_eq!(
            table,
            vec![
                1_000_000_000_000_000_000,
                500_000_000_000_000_000,
                250_000_000_000_000_000,
                125_000_000_000_000_000
            ]
        );
        assert_eq!(half.survival(3), 125_000_000_000_000_000);
        // 1 × 10⁻¹⁸ halved is 0.5 × 10⁻¹⁸, rounded up to 1; then it stays there.
        let tail = half.survival_table(80);
        assert_eq!(tail[60], 1);
        assert_eq!(tail[79], 1);
    }
}
