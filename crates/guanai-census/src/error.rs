//! The two kinds of failure: [`CensusError`] when a file as a whole cannot be read or written,
//! and [`RowError`] for one problem in one row, which a county office fixes and re-submits.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// One problem in one row of a census file, in Chinese, for the UI and the error report.
///
/// The UI form is `第 7 行「公民身份号码」：校验位错误：应为 3，实为 4` ([`fmt::Display`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowError {
    /// The row number as Excel shows it (the header is row 1 in the template).
    pub row: usize,
    /// The column header in Chinese; empty for a problem with the whole row or family.
    pub column: String,
    /// What is wrong, in Chinese.
    pub reason: String,
}

impl RowError {
    /// An error in `row`, column `column` (`""` for the whole row).
    pub fn new(row: usize, column: &str, reason: impl Into<String>) -> RowError {
        RowError {
            row,
            column: column.to_owned(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "第 {} 行：{}", self.row, self.reason)
        } else {
            write!(f, "第 {} 行「{}」：{}", self.row, self.column, self.reason)
        }
    }
}

impl std::error::Error for RowError {}

/// Why a census file as a whole cannot be read, or a template or report cannot be written.
/// Each message is in Chinese, then ` / `, then English.
#[derive(Debug, Error)]
pub enum CensusError {
    /// The file could not be opened or read.
    #[error("无法读取文件 {}：{source} / cannot read {}: {source}", .path.display(), .path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Neither `.xlsx` nor `.csv`.
    #[error(
        "不支持的文件类型「{extension}」：请另存为 .xlsx 或 .csv / unsupported file type \"{extension}\": save as .xlsx or .csv"
    )]
    UnsupportedExtension { extension: String },
    /// Not a readable XLSX workbook (damaged, encrypted, or another format renamed).
    #[error("XLSX 文件已损坏或不是 XLSX 格式：{detail} / broken XLSX file: {detail}")]
    BrokenXlsx { detail: String },
    /// No worksheet has the required headers; lists each sheet with the headers it lacks.
    #[error("{}", no_sheet_message(.sheets))]
    NoSheetWithHeaders {
        /// Every sheet in workbook order with its missing required headers.
        sheets: Vec<(String, Vec<String>)>,
    },
    /// The header row lacks required columns (`sheet` names the worksheet for XLSX).
    #[error("{}缺少必填列：{} / {}missing required column(s): {}",
        sheet_zh(.sheet), .missing.join("、"), sheet_en(.sheet), .missing.join(", "))]
    MissingColumns {
        sheet: Option<String>,
        missing: Vec<String>,
    },
    /// A known header appears twice, so it is unclear which column to read.
    #[error("{}列「{column}」出现了不止一次 / {}column \"{column}\" appears more than once",
        sheet_zh(.sheet), sheet_en(.sheet))]
    DuplicateColumn {
        sheet: Option<String>,
        column: String,
    },
    /// The file has no non-empty row to serve as the header.
    #[error("文件中没有表头行（文件为空）/ the file has no header row (it is empty)")]
    NoHeaderRow,
    /// A CSV file that is neither UTF-8 nor GB18030/GBK.
    #[error(
        "CSV 文件无法解码（第 {row} 行附近）：既不是 UTF-8 也不是 GBK/GB18030 编码{hint} / CSV file cannot be decoded near row {row}: neither UTF-8 nor GBK/GB18030{hint_en}"
    )]
    CsvNotDecodable {
        row: usize,
        hint: &'static str,
        hint_en: &'static str,
    },
    /// A template, error report or table could not be written.
    #[error("无法写入文件 {}：{detail} / cannot write {}: {detail}", .path.display(), .path.display())]
    Write { path: PathBuf, detail: String },
    /// A table has more data rows than an Excel sheet holds below its header; nothing was
    /// written. CSV has no such limit.
    #[error(
        "数据超过 Excel 的行数上限（表头以下最多 {limit} 行），未写入 {}；请改为导出 CSV / too many rows for Excel (at most {limit} below the header), {} not written: export as CSV instead",
        .path.display(), .path.display()
    )]
    TooManyRows { path: PathBuf, limit: usize },
}

fn sheet_zh(sheet: &Option<String>) -> String {
    sheet
        .as_ref()
        .map(|s| format!("工作表「{s}」"))
        .unwrap_or_default()
}

fn sheet_en(sheet: &Option<String>) -> String {
    sheet
        .as_ref()
        .map(|s| format!("sheet \"{s}\": "))
        .unwrap_or_default()
}

fn no_sheet_message(sheets: &[(String, Vec<String>)]) -> String {
    let zh: Vec<String> = sheets
        .iter()
        .map(|(name, missing)| format!("「{name}」缺少 {}", missing.join("、")))
        .collect();
    let en: Vec<String> = sheets
        .iter()
        .map(|(name, missing)| format!("\"{name}\" lacks {}", missing.join(", ")))
        .collect();
    format!(
        "没有含必填表头的工作表：{} / no sheet has the required headers: {}",
        if zh.is_empty() {
            "工作簿中没有工作表".to_owned()
        } else {
            zh.join("；")
        },
        if en.is_empty() {
            "the workbook has no sheets".to_owned()
        } else {
            en.join("; ")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_errors_show_in_the_ui_form() {
        let e = RowError::new(7, "公民身份号码", "校验位错误：应为 3，实为 4");
        assert_eq!(
            e.to_string(),
            "第 7 行「公民身份号码」：校验位错误：应为 3，实为 4"
        );
        let e = RowError::new(3, "", "本家庭没有子女行");
        assert_eq!(e.to_string(), "第 3 行：本家庭没有子女行");
    }

    #[test]
    fn file_errors_speak_chinese_and_english() {
        let e = CensusError::MissingColumns {
            sheet: None,
            missing: vec!["公民身份号码".into()],
        };
        assert_eq!(
            e.to_string(),
            "缺少必填列：公民身份号码 / missing required column(s): 公民身份号码"
        );
        let e = CensusError::NoSheetWithHeaders {
            sheets: vec![("Sheet1".into(), vec!["家庭编号".into(), "姓名".into()])],
        };
        assert_eq!(
            e.to_string(),
            "没有含必填表头的工作表：「Sheet1」缺少 家庭编号、姓名 / no sheet has the required headers: \"Sheet1\" lacks 家庭编号, 姓名"
        );
        let e = CensusError::TooManyRows {
            path: PathBuf::from("导出.xlsx"),
            limit: 1_048_575,
        };
        assert_eq!(
            e.to_string(),
            "数据超过 Excel 的行数上限（表头以下最多 1048575 行），未写入 导出.xlsx；请改为导出 CSV / too many rows for Excel (at most 1048575 below the header), 导出.xlsx not written: export as CSV instead"
        );
    }
}
