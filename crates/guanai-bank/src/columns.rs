//! The 代发 columns, shared by the CSV and XLSX writers and the return-file reader, and the
//! cell texts of one transfer in that order.

use crate::batch::{Transfer, normalize_account};

/// The export's columns, in order.
pub(crate) const HEADERS: [&str; 8] = [
    "序号",
    "业务参考号",
    "户名",
    "账号",
    "开户行",
    "金额(元)",
    "身份证号",
    "摘要",
];

/// 0-based position of 金额(元) in [`HEADERS`].
pub(crate) const AMOUNT_COLUMN: usize = 5;
/// 0-based position of 摘要 in [`HEADERS`] (the totals row puts the count there).
pub(crate) const MEMO_COLUMN: usize = 7;

/// The first cell of the totals row.
pub(crate) const TOTAL_LABEL: &str = "合计";

/// The totals row's count cell: `2笔`.
pub(crate) fn count_text(count: usize) -> String {
    format!("{count}笔")
}

/// A transfer's cells in [`HEADERS`] order, `number` being its 序号; the amount with exactly 2
/// decimals, the account without spaces.
pub(crate) fn transfer_cells(number: usize, t: &Transfer) -> [String; 8] {
    [
        number.to_string(),
        t.reference.clone(),
        t.name.clone(),
        normalize_account(&t.account),
        t.bank.clone(),
        t.amount.to_string(),
        t.id_number.clone(),
        t.memo.clone(),
    ]
}
