//! The census (普查) of family-planning special-difficulty families (失独/伤残/计划生育孤儿)
//! ordered by the 2014 Linyi notice: county offices fill one spreadsheet row per person, rows of
//! one family contiguous under one 家庭编号, in Excel (.xlsx) or exported as CSV (UTF-8 or, from
//! older Excel, GBK/GB18030). This crate reads such files, applies every row and family rule,
//! and yields families ([`CensusReader`]); it writes the empty template ([`write_template`]) and
//! the error report ([`write_error_report`]). It does no database work: duplicates against the
//! archive are the storage layer's to find, reported with the same [`RowError`].
//!
//! Two more file jobs share its readers and writers: the death lists that civil affairs offices
//! and funeral homes send for 数据比对 ([`read_death_list`]), and any table exported for Excel
//! ([`write_table`]).
//!
//! Modules: `columns` is the one table of headers; `fields` parses cells;
//! `validate` holds the row and family rules; `source` opens a file by extension, and
//! `csv_source` and `xlsx_source` stream its rows; `reader` groups them into families;
//! `death_list` reads death lists; `table` writes tables, which `report` uses.

mod columns;
mod csv_source;
mod death_list;
mod error;
mod family;
mod fields;
mod reader;
mod report;
mod source;
mod table;
mod template;
mod validate;
mod xlsx_source;

pub use death_list::{DeathList, ReportedDeath, read_death_list};
pub use error::{CensusError, RowError};
pub use family::{CensusFamily, CensusPerson, Relation};
pub use reader::CensusReader;
pub use report::write_error_report;
pub use table::write_table;
pub use template::write_template;
