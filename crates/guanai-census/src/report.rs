//! The error report a county office receives back: one line per [`RowError`] with the columns
//! 行号, 列, 原因, as .xlsx or as .csv (UTF-8 with BOM, which Excel needs to read Chinese),
//! written with [`crate::write_table`]'s machinery.

use std::path::Path;

use crate::error::{CensusError, RowError};
use crate::source::FileKind;
use crate::table::{SheetStyle, XLSX_MAX_ROWS, write_styled};

const HEADERS: [&str; 3] = ["行号", "列", "原因"];

/// The report's sheet: 行号 a number column, 原因 wrapped, fixed widths.
const STYLE: SheetStyle<'static> = SheetStyle {
    widths: Some(&[8.0, 20.0, 80.0]),
    number_columns: &[0],
    wrap_columns: &[2],
};

/// Writes the error report to `path`: .xlsx (sheet 错误, bold header, column widths, frozen
/// header, autofilter; beyond Excel's row limit the last line says how many errors are left
/// out) or .csv (UTF-8 with BOM, every error), by extension.
pub fn write_error_report(path: &Path, errors: &[RowError]) -> Result<(), CensusError> {
    let kind = FileKind::of(path)?;
    // Beyond Excel's row limit the last line says how many more there are.
    let (shown, hidden) = if kind == FileKind::Xlsx && errors.len() > XLSX_MAX_ROWS {
        (
            &errors[..XLSX_MAX_ROWS - 1],
            errors.len() - (XLSX_MAX_ROWS - 1),
        )
    } else {
        (errors, 0)
    };
    let lines = shown
        .iter()
        .map(|e| vec![e.row.to_string(), e.column.clone(), e.reason.clone()]);
    let overflow = (hidden > 0).then(|| {
        vec![
            String::new(),
            String::new(),
            format!("另有 {hidden} 条错误超出 Excel 行数上限，未列出；请导出 CSV 查看全部"),
        ]
    });
    write_styled(path, "错误", &HEADERS, lines.chain(overflow), STYLE)?;
    Ok(())
}
