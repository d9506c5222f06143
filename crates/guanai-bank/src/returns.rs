//! The bank's return files (回盘文件): what [`read_return`] gives back ([`ReturnLine`]) and how
//! it tells the formats apart. The formats themselves are read by `return_csv`, `return_xlsx`
//! (both through `table`) and `pain002`.
//!
//! Name, account and amount are `Option`s: a CSV/XLSX return file must state them (they are
//! required columns, so they are always `Some` there), a pain.002 states them only when it
//! carries `OrgnlTxRef`. Callers compare them with what was sent only when they are `Some`.

use guanai_rules::Fen;

use crate::error::BankError;
use crate::{pain002, return_csv, return_xlsx};

/// What the bank says happened to one transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnStatus {
    /// 成功: the money reached the account.
    Paid,
    /// 失败 / 退回: it did not; see [`ReturnLine::reason`].
    Failed,
}

/// One line of a return file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnLine {
    /// Where the line is: for CSV/XLSX the row Excel shows (1-based, title rows counted); for
    /// pain.002 the position of its `TxInfAndSts` (1-based, in document order).
    pub row: usize,
    /// 业务参考号 / `OrgnlEndToEndId`, as the export wrote it; unique within the file.
    pub reference: String,
    /// 户名 / `OrgnlTxRef/Cdtr/Nm`, trimmed; `None` when the file does not state it.
    pub name: Option<String>,
    /// 账号 / `OrgnlTxRef/CdtrAcct/Id/Othr/Id`, without whitespace (compare it with
    /// [`normalize_account`](crate::normalize_account) of the account sent); `None` when the
    /// file does not state it.
    pub account: Option<String>,
    /// 金额(元) / `OrgnlTxRef/Amt/InstdAmt` (in CNY); `None` when the file does not state it.
    pub amount: Option<Fen>,
    pub status: ReturnStatus,
    /// 失败原因, or the pain.002 reason codes and texts (`AC04 账户已销户`, several joined by
    /// `; `); `None` when empty. Kept for paid lines too when the bank wrote one.
    pub reason: Option<String>,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A problem with the file as a whole.
pub(crate) fn file_error(file_name: &str, problem: impl Into<String>) -> BankError {
    BankError::File {
        file: file_name.to_owned(),
        problem: problem.into(),
    }
}

/// The 1-based line of byte `offset` in `bytes`.
pub(crate) fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Reads a return file, telling its format from its content (the name is only used in
/// messages): XLSX when it starts with the zip signature; pain.002 XML when its first character
/// after a UTF-8 BOM and whitespace is `<`; otherwise CSV, in UTF-8 (BOM or not) or GBK/GB18030
/// as older Excel saves it. Strict: the first problem (unknown status, bad amount, missing or
/// duplicate reference, ...) is an error naming its row and column, and a file without lines is
/// an error too.
pub fn read_return(bytes: &[u8], file_name: &str) -> Result<Vec<ReturnLine>, BankError> {
    if bytes.starts_with(ZIP_MAGIC) {
        return return_xlsx::read(bytes, file_name);
    }
    if bytes.starts_with(OLE_MAGIC) {
        return Err(file_error(
            file_name,
            "the old Excel 97-2003 format (.xls) is not read: save the file as .xlsx or CSV",
        ));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(file_error(
            file_name,
            "the file is UTF-16 text: save it as \"CSV UTF-8\" or .xlsx",
        ));
    }
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(file_error(file_name, "the file is empty")),
        Some(b'<') => pain002::read(body, file_name),
        Some(_) => return_csv::read(bytes, file_name),
    }
}
