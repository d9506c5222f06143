//! Guanai's reporting for 三(三) (target-responsibility assessment, inspections and unannounced spot
//! checks) and 三(四) (publicity that respects privacy) of 临政办发〔2014〕42号: a pure library — no
//! I/O, no clock, no database. The storage layer hands it figures already summed per area and
//! period; it lays them out as [`table::Table`]s, scores counties ([`scorecard`]), draws spot-check
//! samples ([`sample`]), withholds small cells ([`publicity`]), draws charts ([`chart`]) and writes
//! XLSX and CSV ([`export`]).

pub mod chart;
pub mod export;
pub mod publicity;
pub mod register;
pub mod sample;
pub mod scorecard;
pub mod table;
pub mod tables;

pub use chart::ChartError;
pub use export::{ExportError, to_csv, to_xlsx};
pub use publicity::suppress;
pub use sample::{draw, population_digest};
pub use table::{Cell, Column, ColumnKind, Label, Table, share, share_text};
