//! Budget forecast for county finance under 临政办发〔2014〕42号: what the families known today
//! will be due month by month, per county and per funding source (二(二): the higher-level
//! standard from higher-level funds, the raised part and every one-time grant from county
//! finance), with parents' deaths weighed by a monthly mortality rate, and what a policy change
//! would cost ([`compare`]).
//!
//! Pure: no I/O, no database, no clock. Every amount comes from the rules engine
//! ([`guanai_rules::evaluate`]); this crate only weighs and adds them up, in integers.

mod compare;
mod forecast;
mod mortality;

pub use compare::{Comparison, Difference, compare};
pub use forecast::{Cell, Forecast, Source, Subject, forecast};
pub use mortality::Mortality;

use thiserror::Error;

/// Why forecast parameters cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ForecastError {
    #[error(
        "a monthly mortality of {ppb} per billion is above certainty (1,000,000,000 per billion)"
    )]
    MortalityAboveCertainty { ppb: u64 },
}
