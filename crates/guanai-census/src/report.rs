//! The error report a county office receives back: one line per [`RowError`] with the columns
//! 行号, 列, 原因, as .xlsx or as .csv (UTF-8 with BOM, which Excel needs to read Chinese).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, XlsxError};

use crate::error::{CensusError, RowError};

const HEADERS: [&str; 3] = ["行号", "列", "原因"];

/// Data rows an Excel sheet can hold below the header.
const XLSX_MAX_ERRORS: usize = 1_048_575;

/// Writes the error report to `path`: .xlsx (bold header, column widths, frozen header) or
/// .csv (UTF-8 with BOM), by extension.
pub fn write_error_report(path: &Path, errors: &[RowError]) -> Result<(), CensusError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let write_error = |detail: String| CensusError::Write {
        path: path.to_owned(),
        detail,
    };
    match extension.as_deref() {
        Some("xlsx") => write_xlsx(path, errors).map_err(|e| write_error(e.to_string())),
        Some("csv") => write_csv(path, errors).map_err(|e| write_error(e.to_string())),
        other => Err(CensusError::UnsupportedExtension {
            extension: other.map_or_else(|| "（无扩展名）".to_owned(), |e| format!(".{e}")),
        }),
    }
}

fn write_xlsx(path: &Path, errors: &[RowError]) -> Result<(), XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("错误")?;
    let bold = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin);
    let wrap = Format::new().set_text_wrap();
    for (col, header) in (0u16..).zip(HEADERS) {
        sheet.write_string_with_format(0, col, header, &bold)?;
    }
    sheet.set_column_width(0, 8)?;
    sheet.set_column_width(1, 20)?;
    sheet.set_column_width(2, 80)?;
    sheet.set_freeze_panes(1, 0)?;
    // Beyond Excel's row limit the last line says how many more there are.
    let (shown, hidden) = if errors.len() > XLSX_MAX_ERRORS {
        (
            &errors[..XLSX_MAX_ERRORS - 1],
            errors.len() - (XLSX_MAX_ERRORS - 1),
        )
    } else {
        (errors, 0)
    };
    let mut row: u32 = 1;
    for e in shown {
        sheet.write_number(row, 0, e.row as f64)?;
        sheet.write_string(row, 1, &e.column)?;
        sheet.write_string_with_format(row, 2, &e.reason, &wrap)?;
        row += 1;
    }
    if hidden > 0 {
        sheet.write_string(
            row,
            2,
            format!("另有 {hidden} 条错误超出 Excel 行数上限，未列出；请导出 CSV 查看全部"),
        )?;
    }
    sheet.autofilter(0, 0, row.saturating_sub(1).max(1), 2)?;
    workbook.save(path)
}

fn write_csv(path: &Path, errors: &[RowError]) -> Result<(), csv::Error> {
    let mut file = BufWriter::new(File::create(path)?);
    file.write_all(b"\xEF\xBB\xBF")?;
    let mut writer = csv::Writer::from_writer(file);
    writer.write_record(HEADERS)?;
    let mut row = String::new();
    for e in errors {
        row.clear();
        row.push_str(&e.row.to_string());
        writer.write_record([row.as_str(), e.column.as_str(), e.reason.as_str()])?;
    }
    writer.flush()?;
    Ok(())
}
