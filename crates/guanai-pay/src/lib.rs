//! Payment computation (社会化发放, 二(二)), pure: no I/O, no database, no clock. For one family
//! it compares what the rules engine says is due for every month of the ledger's window with
//! what has already been booked for that month and kind, and turns the difference into payment
//! lines — the month's regular payment, arrears (补发) and recoveries (追回) — and one-time grants.
//! It then nets a family's balances (a recovery is set against the family's other payments) into
//! bank transfers. It adds and subtracts amounts the engine computed; it computes no entitlement.

pub mod booked;
pub mod due;
pub mod kinds;
pub mod netting;

pub use booked::{Booked, BookedError, Entry};
pub use due::{DueLine, FamilyDue, Window, family_lines, family_lines_until};
pub use kinds::{LineKind, Nature};
pub use netting::{Netting, Payee, net_family};
