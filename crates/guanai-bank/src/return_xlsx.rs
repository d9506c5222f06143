//! An XLSX return file, read with calamine: the first sheet whose top rows hold the header (see
//! `table`) is read into rows for `table`. Text cells stay text; numeric cells stay numbers
//! (`table` decides what a number may stand for); whole numbers stored as integers become text.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::error::BankError;
use crate::returns::{ReturnLine, file_error};
use crate::table::{self, Cell, Row};

fn cell(value: &Data) -> Cell {
    match value {
        Data::Empty => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Text(i.to_string()),
        Data::Float(f) => Cell::Number(*f),
        Data::DateTime(d) => Cell::Number(d.as_f64()),
        Data::Bool(b) => Cell::Text(if *b { "TRUE" } else { "FALSE" }.to_owned()),
        Data::Error(e) => Cell::Text(e.to_string()),
    }
}

/// Reads an XLSX return file (see the module documentation).
pub(crate) fn read(bytes: &[u8], file_name: &str) -> Result<Vec<ReturnLine>, BankError> {
    let broken =
        |e: calamine::XlsxError| file_error(file_name, format!("not a readable XLSX file: {e}"));
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(broken)?;
    for sheet in workbook.sheet_names() {
        let range = match workbook.worksheet_range(&sheet) {
            Ok(range) => range,
            // A chart sheet or the like: no cells.
            Err(calamine::XlsxError::NotAWorksheet(_)) => continue,
            Err(e) => return Err(broken(e)),
        };
        let (top, left) = range.start().unwrap_or((0, 0));
        let rows: Vec<Row> = range
            .rows()
            .enumerate()
            .map(|(i, cells)| Row {
                number: top as usize + i + 1,
                cells: std::iter::repeat_n(Cell::Empty, left as usize)
                    .chain(cells.iter().map(cell))
                    .collect(),
            })
            .collect();
        if let Some(header) = table::find_header(&rows) {
            return table::lines(&rows, header, file_name);
        }
    }
    Err(file_error(
        file_name,
        format!("{} (in any sheet)", table::no_header()),
    ))
}
