//! The payment side of the archive (社会化发放, 二(二)): payment runs and their life-cycle
//! (draft → checked → approved → exported → settled → closed, four eyes between creator and
//! approver), the double-entry ledger, bank files and the bank's return files. Amounts come from
//! the rules engine through `guanai-pay`; this module stores, checks, posts and exports them.

mod bank;
mod build;
mod claims;
mod ledger;
mod lifecycle;
mod query;

use std::fmt;

use guanai_rules::Month;

pub use bank::{BankFile, ExportedFiles, ReturnReport, bank_group};
pub use build::{BuildOptions, BuildOutcome, BuildProgress};
pub use claims::{ClaimView, FuneralClaimInput, MedicalClaimInput};
pub use ledger::{Reconciliation, StatementLine, TrialBalanceRow, account_name_zh};
pub(crate) use ledger::{statement_from, statement_read};
pub use query::{LineView, ProblemView, RunSummary, TransferView};
pub(crate) use query::{family_lines_from, family_lines_read};

/// A payment run's id: `YYYYMM-SCOPE-SEQ`, e.g. `202612-371302-1` or `202612-all-2`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(String);

impl RunId {
    pub fn new(month: Month, scope: &str, seq: i64) -> RunId {
        RunId(format!(
            "{:04}{:02}-{scope}-{seq}",
            month.year(),
            month.month()
        ))
    }

    /// Checks the shape of a run id typed by a user.
    pub fn parse(text: &str) -> Option<RunId> {
        let mut parts = text.split('-');
        let (Some(ym), Some(scope), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let ok = ym.len() == 6
            && ym.bytes().all(|b| b.is_ascii_digit())
            && (scope == "all" || (scope.len() == 6 && scope.bytes().all(|b| b.is_ascii_digit())))
            && !seq.is_empty()
            && seq.len() <= 6
            && seq.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| RunId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Draft,
    Checked,
    Approved,
    Exported,
    Settled,
    Closed,
    Discarded,
}

impl RunStatus {
    pub const ALL: [RunStatus; 7] = [
        RunStatus::Draft,
        RunStatus::Checked,
        RunStatus::Approved,
        RunStatus::Exported,
        RunStatus::Settled,
        RunStatus::Closed,
        RunStatus::Discarded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Draft => "draft",
            RunStatus::Checked => "checked",
            RunStatus::Approved => "approved",
            RunStatus::Exported => "exported",
            RunStatus::Settled => "settled",
            RunStatus::Closed => "closed",
            RunStatus::Discarded => "discarded",
        }
    }

    pub fn parse(text: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn as_zh(self) -> &'static str {
        match self {
            RunStatus::Draft => "草稿",
            RunStatus::Checked => "已审核",
            RunStatus::Approved => "已批准",
            RunStatus::Exported => "已报送银行",
            RunStatus::Settled => "银行已回盘",
            RunStatus::Closed => "已关闭",
            RunStatus::Discarded => "已作废",
        }
    }
}

/// Why a payment operation was refused. Each says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error("payment run {0} not found")]
    RunNotFound(String),
    #[error("payment run {run} is {status}; {action} needs it to be {needed}")]
    WrongStatus {
        run: String,
        status: &'static str,
        action: &'static str,
        needed: &'static str,
    },
    #[error(
        "payment run {run} for county {county} is still open ({status}): export or discard it before building another"
    )]
    RunOpen {
        run: String,
        county: String,
        status: String,
    },
    #[error(
        "another payment run for county {0} was built at the same time and committed first; nothing was written — build again"
    )]
    Concurrent(String),
    #[error(
        "payment run {run} was built by {creator}; it must be approved by someone else (four eyes)"
    )]
    SameApprover { run: String, creator: String },
    #[error(
        "payment run {run} has {count} blocking problem(s); resolve them and build again, or hold the affected transfers:\n{list}"
    )]
    Blocked {
        run: String,
        count: usize,
        list: String,
    },
    #[error("the bank return file does not match payment run {run}; nothing was changed:\n{list}")]
    ReturnMismatch { run: String, list: String },
    #[error(
        "this bank return file was already imported for payment run {run} on {at}; nothing was changed"
    )]
    ReturnAgain { run: String, at: String },
    #[error(
        "payment run {run} still has {pending} transfer(s) without a bank result; import the bank's return file first"
    )]
    NotSettled { run: String, pending: i64 },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Bank(#[from] guanai_bank::BankError),
    #[error(transparent)]
    Booked(#[from] guanai_pay::BookedError),
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

impl From<sqlx::Error> for PayError {
    fn from(e: sqlx::Error) -> PayError {
        PayError::Store(crate::StoreError::Database(e))
    }
}
