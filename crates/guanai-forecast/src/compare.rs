//! Comparing two policy packs on the same families and mortality: the cost of a proposal per
//! county, month and funding source.

use std::collections::BTreeMap;

use guanai_rules::{CountyCode, Fen, Month, Policy};

use crate::forecast::{Forecast, Source, Subject, forecast};
use crate::mortality::Mortality;

/// The forecasts under the base pack and under the proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub base: Forecast,
    pub proposal: Forecast,
}

/// One cell of a comparison: (county, month, source, base, proposal, proposal − base), where
/// base and proposal are the cell's monthly assistance plus grants.
pub type Difference = (CountyCode, Month, Source, Fen, Fen, Fen);

impl Comparison {
    /// Every cell where either side forecasts a non-zero amount, sorted by county, month and
    /// source.
    pub fn differences(&self) -> Vec<Difference> {
        let mut cells: BTreeMap<(CountyCode, Month, Source), (Fen, Fen)> = BTreeMap::new();
        for c in &self.base.cells {
            cells.entry((c.county, c.month, c.source)).or_default().0 = c.total();
        }
        for c in &self.proposal.cells {
            cells.entry((c.county, c.month, c.source)).or_default().1 = c.total();
        }
        cells
            .into_iter()
            .filter(|(_, (base, proposal))| *base != Fen::ZERO || *proposal != Fen::ZERO)
            .map(|((county, month, source), (base, proposal))| {
                (county, month, source, base, proposal, proposal - base)
            })
            .collect()
    }

    /// The proposal's total minus the base's.
    pub fn total_difference(&self) -> Fen {
        self.proposal.total() - self.base.total()
    }
}

/// Forecasts the same subjects under `base` and `proposal` with the same window and mortality.
pub fn compare(
    subjects: &[Subject],
    base: &Policy,
    proposal: &Policy,
    from: Month,
    months: u16,
    mortality: &Mortality,
) -> Comparison {
    Comparison {
        base: forecast(subjects, base, from, months, mortality),
        proposal: forecast(subjects, proposal, from, months, mortality),
    }
}
