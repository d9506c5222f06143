//! What goes to the bank: a [`Batch`] of [`Transfer`]s from one [`Payer`], for one county and
//! one bank, and the rules it must meet before any file is written ([`Batch::check`]).

use std::collections::HashMap;

use guanai_rules::Fen;

use crate::amount::MAX_FEN;
use crate::error::BankError;

/// The longest reference (ISO 20022 `Max35Text`, for `EndToEndId`).
const MAX_REFERENCE: usize = 35;
/// The longest name, bank name or memo (ISO 20022 `Max140Text`), in characters.
const MAX_TEXT: usize = 140;
/// The longest account number without spaces (ISO 20022 `Max34Text`).
const MAX_ACCOUNT: usize = 34;
/// The longest ID number (ISO 20022 `Max35Text`).
const MAX_ID_NUMBER: usize = 35;

/// The debtor: the account the money leaves, e.g. 临沂市兰山区财政局 特扶资金专户.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payer {
    pub name: String,
    /// Digits, spaces allowed (written without them).
    pub account: String,
    pub bank: String,
}

/// One payment line (one 代发 row, one pain.001 `CdtTrfTxInf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// 业务参考号 / `EndToEndId`: unique within the batch, ASCII letters, digits and `-`, at most
    /// 35, e.g. `R2026120001-000123`.
    pub reference: String,
    /// 户名.
    pub name: String,
    /// 账号: digits, spaces allowed (written without them, always as text).
    pub account: String,
    /// 开户行.
    pub bank: String,
    /// 金额, more than zero.
    pub amount: Fen,
    /// 身份证号, written as text; not validated here.
    pub id_number: String,
    /// 摘要, e.g. 2026年12月计划生育特别扶助金; at most 140 characters.
    pub memo: String,
}

/// One file's worth of transfers: one county, one bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// e.g. `R2026120001-371302-农业银行`; pain.001 uses [`message_id`](crate::message_id) of
    /// it.
    pub batch_id: String,
    /// e.g. 临沂市兰山区 2026年12月 计划生育特别扶助金 代发清单 (the XLSX title row).
    pub title: String,
    pub county_code: String,
    pub county_name: String,
    /// The bank the file goes to.
    pub bank: String,
    pub payer: Payer,
    /// When the file was made (Beijing time; written with `+08:00`).
    pub created_at: jiff::civil::DateTime,
    /// The day the bank is asked to pay.
    pub execution_date: jiff::civil::Date,
    pub transfers: Vec<Transfer>,
}

impl Batch {
    /// The number of transfers.
    pub fn count(&self) -> usize {
        self.transfers.len()
    }

    /// The sum of the amounts (saturating; [`Batch::check`] refuses a total that does not fit).
    pub fn total(&self) -> Fen {
        Fen(self
            .transfers
            .iter()
            .fold(0i64, |sum, t| sum.saturating_add(t.amount.get())))
    }

    /// Checks what every writer needs: at least one transfer; the batch's text fields and each
    /// transfer's non-empty, without control characters and within the ISO 20022 lengths;
    /// references of ASCII letters, digits and `-`, unique; account numbers of digits (spaces
    /// allowed); amounts more than zero, with a total of at most 18 digits. Reports the first
    /// problem found.
    pub fn check(&self) -> Result<(), BankError> {
        let batch_text = |field: &'static str, value: &str, max: usize| {
            text_problem(value, max).map_or(Ok(()), |problem| {
                Err(BankError::BatchField { field, problem })
            })
        };
        batch_text("批次号", &self.batch_id, MAX_TEXT)?;
        batch_text("标题", &self.title, MAX_TEXT * 2)?;
        batch_text("区县代码", &self.county_code, MAX_TEXT)?;
        batch_text("区县", &self.county_name, MAX_TEXT)?;
        batch_text("代发银行", &self.bank, MAX_TEXT)?;
        batch_text("付款单位", &self.payer.name, MAX_TEXT)?;
        batch_text("付款开户行", &self.payer.bank, MAX_TEXT)?;
        if let Some(problem) = account_problem(&self.payer.account) {
            return Err(BankError::BatchField {
                field: "付款账号",
                problem,
            });
        }
        if self.transfers.is_empty() {
            return Err(BankError::EmptyBatch);
        }
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(self.transfers.len());
        let mut total: i64 = 0;
        for (i, t) in self.transfers.iter().enumerate() {
            let number = i + 1;
            let fail = |column: &'static str, problem: String| {
                Err(BankError::Transfer {
                    number,
                    column,
                    problem,
                })
            };
            if let Some(problem) = reference_problem(&t.reference) {
                return fail("业务参考号", problem);
            }
            if let Some(first) = seen.insert(&t.reference, number) {
                return fail(
                    "业务参考号",
                    format!(
                        "duplicate reference {:?} (also transfer {first})",
                        t.reference
                    ),
                );
            }
            for (column, value, max) in [
                ("户名", &t.name, MAX_TEXT),
                ("开户行", &t.bank, MAX_TEXT),
                ("身份证号", &t.id_number, MAX_ID_NUMBER),
                ("摘要", &t.memo, MAX_TEXT),
            ] {
                if let Some(problem) = text_problem(value, max) {
                    return fail(column, problem);
                }
            }
            if let Some(problem) = account_problem(&t.account) {
                return fail("账号", problem);
            }
            if t.amount.get() <= 0 {
                return fail(
                    "金额(元)",
                    format!("must be more than 0.00, is {}", t.amount),
                );
            }
            total = match total.checked_add(t.amount.get()) {
                Some(sum) if sum <= MAX_FEN => sum,
                _ => return fail("金额(元)", "the batch total is too large".to_owned()),
            };
        }
        Ok(())
    }
}

/// The account number as written: `account` without whitespace.
pub fn normalize_account(account: &str) -> String {
    account.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Non-empty (not only spaces), no control characters, at most `max` characters.
fn text_problem(value: &str, max: usize) -> Option<String> {
    if value.trim().is_empty() {
        return Some("must not be empty".to_owned());
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Some(format!("control character {c:?} in {value:?}"));
    }
    let length = value.chars().count();
    (length > max).then(|| format!("longer than {max} characters ({length})"))
}

fn reference_problem(reference: &str) -> Option<String> {
    if reference.is_empty() {
        return Some("must not be empty".to_owned());
    }
    if !reference
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Some(format!(
            "{reference:?} may hold only ASCII letters, digits and '-'"
        ));
    }
    (reference.len() > MAX_REFERENCE).then(|| {
        format!(
            "{reference:?} is longer than {MAX_REFERENCE} characters ({})",
            reference.len()
        )
    })
}

fn account_problem(account: &str) -> Option<String> {
    if let Some(problem) = text_problem(account, usize::MAX) {
        return Some(problem);
    }
    let digits = normalize_account(account);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!(
            "not an account number (digits, spaces allowed): {account:?}"
        ));
    }
    (digits.len() > MAX_ACCOUNT).then(|| {
        format!(
            "longer than {MAX_ACCOUNT} digits ({}): {account:?}",
            digits.len()
        )
    })
}
