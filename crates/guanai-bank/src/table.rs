//! A CSV or XLSX return file once its cells are read: finding the header row by its column
//! names, mapping the columns, and turning each row below it into a [`ReturnLine`].
//!
//! The header is the first row, among the first [`HEADER_SEARCH_ROWS`] non-blank ones, with a
//! cell 业务参考号 (title and info rows above it are skipped). Header names are compared
//! without whitespace, with full-width parentheses read as ASCII ones and ASCII letters in
//! any case. Columns: 业务参考号, 户名, 账号, 金额(元) (or 金额), 状态 are required; 失败原因 is
//! optional; any other column is ignored, in any order. Below the header, blank rows and the
//! totals row (first non-blank cell 合计) are skipped.

use std::collections::HashMap;

use crate::amount::{parse_yuan, yuan_from_number};
use crate::columns::TOTAL_LABEL;
use crate::error::BankError;
use crate::returns::{ReturnLine, ReturnStatus, file_error};

/// How many non-blank rows from the top may hold the header.
pub(crate) const HEADER_SEARCH_ROWS: usize = 20;

/// The header cell that marks the header row.
const ANCHOR: &str = "业务参考号";

/// Numbers from 10^15 up have more digits than Excel keeps: as account numbers or references
/// they may have lost some.
const EXACT_DIGITS_LIMIT: f64 = 1e15;

/// One cell as read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Empty,
    Text(String),
    /// A numeric XLSX cell (a CSV has only text).
    Number(f64),
}

impl Cell {
    fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            Cell::Number(_) => false,
        }
    }

    /// The text, trimmed; `None` for a number.
    fn text(&self) -> Option<&str> {
        match self {
            Cell::Empty => Some(""),
            Cell::Text(t) => Some(t.trim()),
            Cell::Number(_) => None,
        }
    }

    /// The cell as text: numbers as Excel shows them in General format, more or less.
    fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_owned(),
            Cell::Number(n) => n.to_string(),
        }
    }
}

/// One row as read, `number` being the row Excel shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub number: usize,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Reference,
    Name,
    Account,
    Amount,
    Status,
    Reason,
}

const COLUMNS: [Column; 6] = [
    Column::Reference,
    Column::Name,
    Column::Account,
    Column::Amount,
    Column::Status,
    Column::Reason,
];

impl Column {
    fn from_header(header: &str) -> Option<Column> {
        let name: String = header
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                '（' => '(',
                '）' => ')',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        match name.as_str() {
            "业务参考号" => Some(Column::Reference),
            "户名" => Some(Column::Name),
            "账号" => Some(Column::Account),
            "金额(元)" | "金额" => Some(Column::Amount),
            "状态" => Some(Column::Status),
            "失败原因" => Some(Column::Reason),
            _ => None,
        }
    }

    /// The name in messages about a missing column.
    fn canonical(self) -> &'static str {
        match self {
            Column::Reference => "业务参考号",
            Column::Name => "户名",
            Column::Account => "账号",
            Column::Amount => "金额(元)",
            Column::Status => "状态",
            Column::Reason => "失败原因",
        }
    }

    fn required(self) -> bool {
        self != Column::Reason
    }
}

/// Excel's letters for a 0-based column.
fn letters(mut col: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.iter().rev().map(|&b| char::from(b)).collect()
}

/// The index in `rows` of the header row, if one of the first [`HEADER_SEARCH_ROWS`] non-blank
/// rows has a 业务参考号 cell.
pub(crate) fn find_header(rows: &[Row]) -> Option<usize> {
    rows.iter()
        .enumerate()
        .filter(|(_, r)| !r.cells.iter().all(Cell::is_blank))
        .take(HEADER_SEARCH_ROWS)
        .find(|(_, r)| {
            r.cells
                .iter()
                .any(|c| c.text().and_then(Column::from_header) == Some(Column::Reference))
        })
        .map(|(i, _)| i)
}

/// The message when no header row is found.
pub(crate) fn no_header() -> String {
    format!("no header row: none of the first {HEADER_SEARCH_ROWS} rows has a {ANCHOR} cell")
}

/// Where each known column is: its 0-based index and the header as the file spells it.
type ColumnMap = [Option<(usize, String)>; COLUMNS.len()];

fn map_columns(header: &Row) -> Result<ColumnMap, BankError> {
    let mut map: ColumnMap = Default::default();
    for (col, cell) in header.cells.iter().enumerate() {
        let Some(text) = cell.text() else { continue };
        let Some(column) = Column::from_header(text) else {
            continue;
        };
        let slot = &mut map[column as usize];
        if let Some((first, _)) = slot {
            return Err(BankError::Cell {
                row: header.number,
                column: text.to_owned(),
                problem: format!(
                    "the column appears twice (columns {} and {})",
                    letters(*first),
                    letters(col)
                ),
            });
        }
        *slot = Some((col, text.to_owned()));
    }
    let missing: Vec<&'static str> = COLUMNS
        .iter()
        .filter(|c| c.required() && map[**c as usize].is_none())
        .map(|c| c.canonical())
        .collect();
    if missing.is_empty() {
        Ok(map)
    } else {
        Err(BankError::MissingColumns {
            row: header.number,
            missing,
        })
    }
}

fn parse_status(text: &str) -> Option<ReturnStatus> {
    match text.to_ascii_lowercase().as_str() {
        "成功" | "支付成功" | "已支付" | "success" | "paid" => Some(ReturnStatus::Paid),
        "失败" | "支付失败" | "退回" | "已退回" | "failed" => Some(ReturnStatus::Failed),
        _ => None,
    }
}

/// Text for an identifier (业务参考号, 账号): a numeric cell is accepted only as a whole number
/// Excel can hold exactly.
fn identifier(cell: &Cell) -> Result<String, String> {
    match cell {
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < EXACT_DIGITS_LIMIT => {
            Ok(format!("{n:.0}"))
        }
        Cell::Number(n) => Err(format!(
            "stored as a number ({n}), digits may be lost: format the column as text"
        )),
        other => Ok(other.display()),
    }
}

/// The lines below the header row `rows[header]`.
pub(crate) fn lines(
    rows: &[Row],
    header: usize,
    file_name: &str,
) -> Result<Vec<ReturnLine>, BankError> {
    let header_row = &rows[header];
    let map = map_columns(header_row)?;
    let mut out: Vec<ReturnLine> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in &rows[header + 1..] {
        if row.cells.iter().all(Cell::is_blank) {
            continue;
        }
        if row
            .cells
            .iter()
            .find(|c| !c.is_blank())
            .and_then(Cell::text)
            == Some(TOTAL_LABEL)
        {
            continue;
        }
        let empty = Cell::Empty;
        let at = |column: Column| -> (&Cell, &str) {
            match &map[column as usize] {
                Some((col, name)) => (row.cells.get(*col).unwrap_or(&empty), name.as_str()),
                None => (&empty, column.canonical()),
            }
        };
        let fail = |column: Column, problem: String| BankError::Cell {
            row: row.number,
            column: at(column).1.to_owned(),
            problem,
        };

        let reference =
            identifier(at(Column::Reference).0).map_err(|p| fail(Column::Reference, p))?;
        if reference.is_empty() {
            return Err(fail(Column::Reference, "missing reference".to_owned()));
        }
        if let Some(first) = seen.insert(reference.clone(), row.number) {
            return Err(fail(
                Column::Reference,
                format!("duplicate reference {reference:?} (also row {first})"),
            ));
        }

        let name = at(Column::Name).0.display();
        if name.is_empty() {
            return Err(fail(Column::Name, "missing name".to_owned()));
        }

        let account: String = identifier(at(Column::Account).0)
            .map_err(|p| fail(Column::Account, p))?
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if account.is_empty() {
            return Err(fail(Column::Account, "missing account number".to_owned()));
        }

        let amount = match at(Column::Amount).0 {
            Cell::Number(n) => yuan_from_number(*n),
            other => parse_yuan(&other.display()),
        }
        .map_err(|p| fail(Column::Amount, p))?;

        let status_cell = at(Column::Status).0;
        let status = status_cell.text().and_then(parse_status).ok_or_else(|| {
            let shown = status_cell.display();
            if shown.is_empty() {
                fail(Column::Status, "missing status".to_owned())
            } else {
                fail(
                    Column::Status,
                    format!("unknown status {shown:?} (expected 成功 or 失败)"),
                )
            }
        })?;

        let reason = Some(at(Column::Reason).0.display()).filter(|r| !r.is_empty());

        out.push(ReturnLine {
            row: row.number,
            reference,
            name: Some(name),
            account: Some(account),
            amount: Some(amount),
            status,
            reason,
        });
    }
    if out.is_empty() {
        return Err(file_error(
            file_name,
            format!(
                "no payment lines below the header (row {})",
                header_row.number
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(letters(0), "A");
        assert_eq!(letters(25), "Z");
        assert_eq!(letters(26), "AA");
        assert_eq!(letters(27), "AB");
        assert_eq!(letters(701), "ZZ");
        assert_eq!(letters(702), "AAA");
    }

    #[test]
    fn header_names_are_compared_loosely() {
        assert_eq!(Column::from_header("金额（元）"), Some(Column::Amount));
        assert_eq!(Column::from_header(" 金额 (元) "), Some(Column::Amount));
        assert_eq!(Column::from_header("金额"), Some(Column::Amount));
        assert_eq!(Column::from_header("账 号"), Some(Column::Account));
        assert_eq!(Column::from_header("身份证号"), None);
    }

    #[test]
    fn statuses() {
        for paid in ["成功", "支付成功", "已支付", "success", "Paid", "SUCCESS"] {
            assert_eq!(parse_status(paid), Some(ReturnStatus::Paid), "{paid}");
        }
        for failed in ["失败", "支付失败", "退回", "已退回", "failed", "FAILED"] {
            assert_eq!(parse_status(failed), Some(ReturnStatus::Failed), "{failed}");
        }
        assert_eq!(parse_status("处理中"), None);
    }

    #[test]
    fn identifiers_from_numbers() {
        assert_eq!(
            identifier(&Cell::Number(622_848_001_234_567.0)),
            Ok("622848001234567".to_owned())
        );
        assert_eq!(
            identifier(&Cell::Number(6.228_480_012_345_679e18)),
            Err(
                "stored as a number (6228480012345679000), digits may be lost: format the column as text"
                    .to_owned()
            )
        );
    }
}
