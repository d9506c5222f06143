//! Writing a table of text — a header row and data rows — as .xlsx or .csv, by extension
//! ([`write_table`]): for exports a county office opens in Excel, and for the error report.
//!
//! XLSX: one sheet, bold frozen header with an autofilter, column widths from the content
//! (Chinese characters counted double), and every cell a text cell in a text-formatted column,
//! so that ID and account numbers keep every digit and leading zeros. CSV: UTF-8 with a BOM,
//! which Excel needs to read Chinese; rows are streamed to the file, never collected.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, XlsxError};

use crate::error::CensusError;
use crate::source::FileKind;

/// Data rows an Excel sheet holds below its header (1,048,576 rows in all).
pub(crate) const XLSX_MAX_ROWS: usize = 1_048_575;

/// Column widths, in characters, that content-based sizing stays within.
const MIN_WIDTH: usize = 6;
const MAX_WIDTH: usize = 60;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How the XLSX sheet departs from [`write_table`]'s defaults; CSV output ignores it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SheetStyle<'a> {
    /// Fixed widths in characters by column; `None` sizes every column to its content.
    pub widths: Option<&'a [f64]>,
    /// Columns whose cells are written as numbers when they read as one (not text-formatted).
    pub number_columns: &'a [usize],
    /// Columns whose text wraps within the cell.
    pub wrap_columns: &'a [usize],
}

/// Writes a table to `path`, by extension:
///
/// - `.xlsx`: one worksheet named `sheet`; `headers` in a bold, frozen first row with an
///   autofilter; columns sized to their content; every cell written as text, so long numbers
///   (ID numbers, bank accounts) are kept exactly. More than 1,048,575 data rows — Excel's
///   limit — is [`CensusError::TooManyRows`], and no file is written: export CSV instead.
/// - `.csv`: UTF-8 with a BOM so that Excel opens Chinese text correctly; `sheet` is unused.
///   Rows are written as they come from `rows`, without collecting them.
///
/// Each row should have one cell per header: a shorter row is completed with empty cells, a
/// longer one's extra cells are written past the last header. Returns the number of data rows
/// written. Any other extension is [`CensusError::UnsupportedExtension`]; a failure to write is
/// [`CensusError::Write`].
pub fn write_table(
    path: &Path,
    sheet: &str,
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<usize, CensusError> {
    write_styled(path, sheet, headers, rows, SheetStyle::default())
}

/// [`write_table`] with a [`SheetStyle`] for the XLSX sheet.
pub(crate) fn write_styled(
    path: &Path,
    sheet: &str,
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
    style: SheetStyle<'_>,
) -> Result<usize, CensusError> {
    let written = match FileKind::of(path)? {
        FileKind::Xlsx => write_xlsx(path, sheet, headers, rows, style),
        FileKind::Csv => write_csv(path, headers, rows),
    };
    written.map_err(|failure| match failure {
        Failure::TooManyRows => CensusError::TooManyRows {
            path: path.to_owned(),
            limit: XLSX_MAX_ROWS,
        },
        Failure::Xlsx(e) => CensusError::Write {
            path: path.to_owned(),
            detail: e.to_string(),
        },
        Failure::Csv(e) => CensusError::Write {
            path: path.to_owned(),
            detail: e.to_string(),
        },
    })
}

/// Why a table was not written.
enum Failure {
    TooManyRows,
    Xlsx(XlsxError),
    Csv(csv::Error),
}

impl From<XlsxError> for Failure {
    fn from(e: XlsxError) -> Failure {
        Failure::Xlsx(e)
    }
}

impl From<csv::Error> for Failure {
    fn from(e: csv::Error) -> Failure {
        Failure::Csv(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::Csv(e.into())
    }
}

/// The header cells' format: bold on light blue, thin border.
fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin)
}

/// The width of `text` in Excel's character units: East Asian wide and full-width characters
/// count two; for text over several lines, the longest line.
fn text_width(text: &str) -> usize {
    text.lines()
        .map(unicode_width::UnicodeWidthStr::width)
        .max()
        .unwrap_or(0)
}

fn column(index: usize) -> Result<u16, XlsxError> {
    u16::try_from(index).map_err(|_| XlsxError::RowColumnLimitError)
}

fn write_xlsx(
    path: &Path,
    sheet_name: &str,
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
    style: SheetStyle<'_>,
) -> Result<usize, Failure> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name)?;
    let bold = header_format();
    // One format per header column: text unless a number column, wrapped if asked.
    let formats: Vec<Option<Format>> = (0..headers.len())
        .map(|c| {
            let number = style.number_columns.contains(&c);
            let wrap = style.wrap_columns.contains(&c);
            match (number, wrap) {
                (true, false) => None,
                (true, true) => Some(Format::new().set_text_wrap()),
                (false, false) => Some(Format::new().set_num_format("@")),
                (false, true) => Some(Format::new().set_num_format("@").set_text_wrap()),
            }
        })
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| text_width(h)).collect();
    for (c, (header, format)) in headers.iter().zip(&formats).enumerate() {
        let col = column(c)?;
        sheet.write_string_with_format(0, col, *header, &bold)?;
        if let Some(format) = format {
            sheet.set_column_format(col, format)?;
        }
    }

    let mut written = 0usize;
    for cells in rows {
        if written >= XLSX_MAX_ROWS {
            return Err(Failure::TooManyRows);
        }
        written += 1;
        let row = u32::try_from(written).map_err(|_| Failure::TooManyRows)?;
        for (c, text) in cells.iter().enumerate() {
            if style.widths.is_none() {
                let width = text_width(text);
                match widths.get_mut(c) {
                    Some(w) => *w = (*w).max(width),
                    None => {
                        widths.resize(c, 0);
                        widths.push(width);
                    }
                }
            }
            if text.is_empty() {
                continue;
            }
            let col = column(c)?;
            let format = formats.get(c).and_then(Option::as_ref);
            let number = style
                .number_columns
                .contains(&c)
                .then(|| text.parse::<f64>().ok().filter(|n| n.is_finite()))
                .flatten();
            match (number, format) {
                (Some(n), Some(f)) => sheet.write_number_with_format(row, col, n, f)?,
                (Some(n), None) => sheet.write_number(row, col, n)?,
                (None, Some(f)) => sheet.write_string_with_format(row, col, text, f)?,
                (None, None) => sheet.write_string(row, col, text)?,
            };
        }
    }

    match style.widths {
        Some(fixed) => {
            for (c, &width) in fixed.iter().enumerate() {
                sheet.set_column_width(column(c)?, width)?;
            }
        }
        None => {
            for (c, &width) in widths.iter().enumerate() {
                let width = (width + 2).clamp(MIN_WIDTH, MAX_WIDTH);
                // At most 60, so exact as f64.
                sheet.set_column_width(column(c)?, width as f64)?;
            }
        }
    }
    if !headers.is_empty() {
        sheet.set_freeze_panes(1, 0)?;
        let last_row = u32::try_from(written.max(1)).map_err(|_| Failure::TooManyRows)?;
        sheet.autofilter(0, 0, last_row, column(headers.len() - 1)?)?;
    }
    workbook.save(path)?;
    Ok(written)
}

fn write_csv(
    path: &Path,
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<usize, Failure> {
    let file = File::create(path)?;
    let written = fill_csv(file, headers, rows);
    if written.is_err() {
        // Best effort: leave no half-written file behind; the write error is what matters.
        let _ = std::fs::remove_file(path);
    }
    written
}

fn fill_csv(
    file: File,
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<usize, Failure> {
    let mut file = BufWriter::new(file);
    file.write_all(UTF8_BOM)?;
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(file);
    writer.write_record(headers)?;
    let mut written = 0usize;
    for cells in rows {
        let missing = headers.len().saturating_sub(cells.len());
        writer.write_record(
            cells
                .iter()
                .map(String::as_str)
                .chain(std::iter::repeat_n("", missing)),
        )?;
        written += 1;
    }
    // Both layers flush as they are unwrapped, so a full disk is reported here.
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.into_inner().map_err(|e| e.into_error())?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_characters_count_double() {
        assert_eq!(text_width("公民身份号码"), 12);
        assert_eq!(text_width("372822196503120173"), 18);
        assert_eq!(text_width("王秀英 (母亲)"), 13);
        assert_eq!(text_width("第一行\nab"), 6);
        assert_eq!(text_width(""), 0);
    }
}
