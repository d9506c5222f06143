//! The forecast itself: for each family known today and each month of the window, the engine's
//! monthly assistance per parent weighted by the parent's survival, split by funding source, and
//! the one-time grants still to be paid, summed per county, month and source.

use std::collections::BTreeMap;
use std::thread;

use guanai_rules::{CountyCode, Family, Fen, Month, Policy, evaluate};

use crate::mortality::Mortality;

/// Fewer subjects than this per thread are not worth a thread.
const MIN_CHUNK: usize = 4096;

/// A family with its facts as known today, and the one-time grants it has already been paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub family: Family,
    /// By [`guanai_rules::GrantKind::ALL`] order: already paid, so not forecast again.
    pub paid_grants: [bool; 3],
}

/// Who pays (二(二)): the higher-level standard comes from higher-level (national and
/// provincial) funds; the raised part and every one-time grant from county finance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Higher,
    County,
}

impl Source {
    pub const ALL: [Source; 2] = [Source::Higher, Source::County];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Higher => "higher",
            Source::County => "county",
        }
    }
}

/// What one funding source is forecast to pay in one county and month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub county: CountyCode,
    pub month: Month,
    pub source: Source,
    /// Expected monthly assistance (weighted by survival), rounded half up to the fen.
    pub monthly: Fen,
    /// One-time grants to be paid (always zero for [`Source::Higher`]).
    pub grants: Fen,
    /// Parents with monthly assistance due whose part from this source is not zero, counted
    /// before mortality (the expected number still alive is smaller).
    pub parents: u64,
}

impl Cell {
    /// Monthly assistance and grants together.
    pub fn total(&self) -> Fen {
        self.monthly + self.grants
    }
}

/// A budget forecast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    pub from: Month,
    /// The number of months forecast (fewer than asked only where the calendar ends at 9999-12).
    pub months: u16,
    pub mortality: Mortality,
    /// Sorted by county, month and source; only cells with something in them.
    pub cells: Vec<Cell>,
}

impl Forecast {
    /// Everything forecast: monthly assistance and grants, all counties, months and sources
    /// (the sum of the cells as rounded).
    pub fn total(&self) -> Fen {
        self.cells.iter().fold(Fen::ZERO, |sum, c| sum + c.total())
    }

    /// Totals over the window per county and source, sorted.
    pub fn by_county(&self) -> Vec<(CountyCode, Source, Fen)> {
        let mut sums: BTreeMap<(CountyCode, Source), Fen> = BTreeMap::new();
        for c in &self.cells {
            let sum = sums.entry((c.county, c.source)).or_default();
            *sum = *sum + c.total();
        }
        sums.into_iter().map(|((c, s), fen)| (c, s, fen)).collect()
    }

    /// The cell of a county, month and source, if anything is forecast there.
    pub fn cell(&self, county: CountyCode, month: Month, source: Source) -> Option<&Cell> {
        self.cells
            .binary_search_by(|c| (c.county, c.month, c.source).cmp(&(county, month, source)))
            .ok()
            .map(|i| &self.cells[i])
    }
}

/// Forecasts what `subjects` will be due under `policy` in the `months` months from `from`, with
/// parents dying at the rate `mortality`. Work is split over the available cores; the result does
/// not depend on the split.
///
/// Semantics (the choices a reader must know):
/// - The window is the `months` calendar months from `from` on. Month M lies `k` months after
///   `from` (`k = 0` for `from` itself). A parent alive today is paid for `from` whatever happens
///   in it (the timing rule pays the month of death), so each parent's assistance for M is
///   weighted by `S(k) = (1 − q)^k`: the chance of surviving the `k` months `from` … M − 1.
/// - Deaths already recorded, birthdays (49, 18), later children, assessments and rate rows that
///   start inside the window are the engine's business: it is evaluated for every month.
/// - Only the parent's own assistance is weighted. Knock-on effects of a forecast death are not
///   forecast: a father whose own age starts to count after the mother dies young, an orphan
///   grant, funeral reimbursement. Nor are deaths of children: a disabled family becoming
///   bereaved (and due the bereaved grant and rate) is not forecast.
/// - One-time grants are forecast in full (they are due to the family, not to a living parent),
///   once per family and kind not already paid, in the first month of the window in which the
///   engine lists them (arrears due before `from` fall in `from`), and always to county finance.
/// - Money stays exact until the cell: each amount is multiplied by `S(k)` (10⁻¹⁸ units) and
///   the products are summed per cell in `i128`, then rounded half up to the fen once per cell.
///   With mortality 0 every cell is therefore the exact sum of the engine's amounts.
pub fn forecast(
    subjects: &[Subject],
    policy: &Policy,
    from: Month,
    months: u16,
    mortality: &Mortality,
) -> Forecast {
    let window = window(from, months);
    let survival: Vec<i128> = mortality
        .survival_table(window.len())
        .into_iter()
        .map(i128::from)
        .collect();
    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = subjects.len().div_ceil(threads).max(MIN_CHUNK);
    let tally = |part: &[Subject]| tally(part, policy, &window, &survival);
    let ledgers: Vec<Ledger> = if subjects.len() <= chunk {
        vec![tally(subjects)]
    } else {
        thread::scope(|scope| {
            let handles: Vec<_> = subjects
                .chunks(chunk)
                .map(|part| scope.spawn(move || tally(part)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    let mut merged = Ledger::new();
    for ledger in ledgers {
        for (county, rows) in ledger {
            match merged.get_mut(&county) {
                Some(into) => {
                    for (a, b) in into.iter_mut().zip(rows) {
                        for (x, y) in a.iter_mut().zip(b) {
                            x.add(y);
                        }
                    }
                }
                None => {
                    merged.insert(county, rows);
                }
            }
        }
    }
    let mut cells = Vec::new();
    for (county, rows) in merged {
        for (&month, row) in window.iter().zip(rows) {
            for (source, acc) in Source::ALL.into_iter().zip(row) {
                if acc.is_empty() {
                    continue;
                }
                cells.push(Cell {
                    county,
                    month,
                    source,
                    monthly: Fen(round_to_fen(acc.monthly)),
                    grants: Fen(acc.grants),
                    parents: acc.parents,
                });
            }
        }
    }
    Forecast {
        from,
        months: u16::try_from(window.len()).unwrap_or(months),
        mortality: *mortality,
        cells,
    }
}

/// The months of the window, stopping at the calendar's end.
fn window(from: Month, months: u16) -> Vec<Month> {
    let mut out = Vec::with_capacity(usize::from(months));
    let mut m = from;
    for _ in 0..months {
        if out.last() == Some(&m) {
            break;
        }
        out.push(m);
        m = m.next();
    }
    out
}

/// One cell's running sums: monthly assistance in 10⁻¹⁸ fen, grants in fen.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    monthly: i128,
    grants: i64,
    parents: u64,
}

impl Acc {
    fn add(&mut self, other: Acc) {
        self.monthly += other.monthly;
        self.grants += other.grants;
        self.parents += other.parents;
    }

    fn is_empty(&self) -> bool {
        self.monthly == 0 && self.grants == 0 && self.parents == 0
    }

    /// A parent's part from one source, weighted by survival. Amounts are at most 10⁸ fen (the
    /// policy's cap) and survival at most 10¹⁸, so a cell overflows `i128` only past 10¹² parents.
    fn pay(&mut self, part: Fen, survival: i128) {
        if part != Fen::ZERO {
            self.monthly += i128::from(part.get()) * survival;
            self.parents += 1;
        }
    }
}

/// Per county, one `[Higher, County]` pair of sums per month of the window: a dense form of the
/// map keyed by (county, month, source), looked up once per family.
type Ledger = BTreeMap<CountyCode, Vec<[Acc; 2]>>;

fn tally(subjects: &[Subject], policy: &Policy, window: &[Month], survival: &[i128]) -> Ledger {
    let mut ledger = Ledger::new();
    for subject in subjects {
        let rows = ledger
            .entry(subject.family.county())
            .or_insert_with(|| vec![[Acc::default(); 2]; window.len()]);
        let mut pending = subject.paid_grants.map(|paid| !paid);
        for ((&month, row), &s) in window.iter().zip(rows.iter_mut()).zip(survival) {
            let eval = evaluate(&subject.family, month, policy);
            for (_, assistance) in eval.monthly() {
                row[0].pay(assistance.standard, s);
                row[1].pay(assistance.county, s);
            }
            for (grant, todo) in eval.one_time.iter().zip(pending.iter_mut()) {
                if let Some(g) = grant
                    && *todo
                {
                    *todo = false;
                    row[1].grants += g.amount.get();
                }
            }
        }
    }
    ledger
}

/// Rounds an amount in 10⁻¹⁸ fen half up to the fen.
fn round_to_fen(scaled: i128) -> i64 {
    let scale = i128::from(Mortality::SURVIVAL_SCALE);
    let fen = (scaled + scale / 2).div_euclid(scale);
    i64::try_from(fen).unwrap_or(if fen < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Month {
        Month::parse(s).expect("month")
    }

    #[test]
    fn rounding_is_half_up_to_the_fen() {
        let one = i128::from(Mortality::SURVIVAL_SCALE);
        assert_eq!(round_to_fen(0), 0);
        assert_eq!(round_to_fen(one / 2 - 1), 0);
        assert_eq!(round_to_fen(one / 2), 1);
        assert_eq!(round_to_fen(3 * one + one / 2), 4);
        assert_eq!(round_to_fen(-one / 2), 0);
        assert_eq!(round_to_fen(-one / 2 - 1), -1);
    }

    #[test]
    fn the_window_stops_at_the_end_of_the_calendar() {
        assert_eq!(
            window(m("2027-11"), 3),
            vec![m("2027-11"), m("2027-12"), m("2028-01")]
        );
        assert_eq!(window(m("9999-11"), 5), vec![m("9999-11"), m("9999-12")]);
        assert!(window(m("2027-11"), 0).is_empty());
    }
}
