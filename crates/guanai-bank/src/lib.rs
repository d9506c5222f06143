//! Bank files (代发): exports for the bank and the bank's return files. Pure formats: no
//! database, no clock (times are passed in), money only as integer [`Fen`](guanai_rules::Fen).
//!
//! A [`Batch`] (one county, one bank) is written as CSV ([`write_csv`]), XLSX ([`write_xlsx`])
//! or ISO 20022 pain.001.001.09 ([`write_pain001`]), each after [`Batch::check`]. The bank's
//! answer, a CSV/XLSX return file or a pain.002, is read by [`read_return`] into
//! [`ReturnLine`]s.

mod amount;
mod batch;
mod columns;
mod csv_out;
mod error;
mod pain001;
mod pain002;
mod return_csv;
mod return_xlsx;
mod returns;
mod table;
mod xlsx_out;

pub use batch::{Batch, Payer, Transfer, normalize_account};
pub use csv_out::write_csv;
pub use error::BankError;
pub use pain001::{PAIN001_NAMESPACE, message_id, write_pain001};
pub use returns::{ReturnLine, ReturnStatus, read_return};
pub use xlsx_out::write_xlsx;
