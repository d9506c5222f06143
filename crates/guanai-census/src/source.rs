//! What the readers share: a file's kind by extension ([`FileKind`]), one row's cell texts as
//! a row source delivers them ([`RawRow`]), and the row source itself ([`RowSource`]), a CSV or
//! XLSX file streamed row by row against a [`Schema`].

use std::path::Path;

use crate::columns::{Col, Schema, trim_cell};
use crate::csv_source::CsvRows;
use crate::error::{CensusError, RowError};
use crate::xlsx_source::XlsxRows;

/// The two file formats read and written, told apart by extension (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Csv,
    Xlsx,
}

impl FileKind {
    /// The kind of `path` by its extension; anything else is [`CensusError::UnsupportedExtension`].
    pub fn of(path: &Path) -> Result<FileKind, CensusError> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv") => Ok(FileKind::Csv),
            Some("xlsx") => Ok(FileKind::Xlsx),
            other => Err(CensusError::UnsupportedExtension {
                extension: other.map_or_else(|| "（无扩展名）".to_owned(), |e| format!(".{e}")),
            }),
        }
    }
}

/// One row's cell texts, indexed by the schema's columns (for the census, by [`Col`]), as a row
/// source delivers them.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawRow {
    /// The row number as Excel shows it.
    pub row: usize,
    /// One cell per schema column; a column absent from the file stays empty.
    pub cells: Vec<String>,
    /// Bit `c` set: the XLSX cell of column `c` held a number rather than text (columns past
    /// the 32nd are never marked).
    pub numeric: u32,
}

impl RawRow {
    /// An empty row numbered `row` with `width` cells.
    pub fn new(row: usize, width: usize) -> RawRow {
        RawRow {
            row,
            cells: vec![String::new(); width],
            numeric: 0,
        }
    }

    /// Empties every cell and sets the row number and width, keeping the buffers.
    pub fn reset(&mut self, row: usize, width: usize) {
        self.row = row;
        self.cells.resize_with(width, String::new);
        for cell in &mut self.cells {
            cell.clear();
        }
        self.numeric = 0;
    }

    /// The trimmed text of the schema's column `index`; empty when there is no such cell.
    pub fn cell(&self, index: usize) -> &str {
        self.cells.get(index).map_or("", |c| trim_cell(c))
    }

    /// The trimmed text of a census cell.
    pub fn get(&self, col: Col) -> &str {
        self.cell(col as usize)
    }

    /// Records that the XLSX cell of column `index` held a number.
    pub fn mark_number(&mut self, index: usize) {
        if let Some(bit) = u32::try_from(index).ok().and_then(|i| 1u32.checked_shl(i)) {
            self.numeric |= bit;
        }
    }

    /// Whether the XLSX cell of column `index` held a number.
    pub fn is_number(&self, index: usize) -> bool {
        u32::try_from(index)
            .ok()
            .and_then(|i| 1u32.checked_shl(i))
            .is_some_and(|bit| self.numeric & bit != 0)
    }

    /// Whether the census cell held a number in the XLSX file.
    pub fn was_number(&self, col: Col) -> bool {
        self.is_number(col as usize)
    }

    /// True when every known cell is blank (Excel keeps formatted empty rows).
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| trim_cell(c).is_empty())
    }
}

/// A CSV or XLSX file being read row by row.
pub(crate) enum RowSource {
    Csv(CsvRows),
    Xlsx(XlsxRows),
}

impl RowSource {
    /// Opens `path` by extension and reads up to the header row of `schema`: for CSV, UTF-8
    /// (with or without BOM) or else GB18030/GBK; for XLSX, the schema's preferred sheet if
    /// present, else the first sheet whose header row has the required columns.
    pub fn open(path: &Path, schema: Schema) -> Result<RowSource, CensusError> {
        Ok(match FileKind::of(path)? {
            FileKind::Csv => RowSource::Csv(CsvRows::open(path, schema)?),
            FileKind::Xlsx => RowSource::Xlsx(XlsxRows::open(path, schema)?),
        })
    }

    /// Data rows in the file, when known up front: always for CSV, for XLSX when the sheet
    /// declares its dimensions.
    pub fn total_rows(&self) -> Option<usize> {
        match self {
            RowSource::Csv(csv) => Some(csv.total_rows()),
            RowSource::Xlsx(xlsx) => xlsx.total_rows(),
        }
    }

    /// Rows consumed so far, comparable with [`RowSource::total_rows`].
    pub fn rows_read(&self) -> usize {
        match self {
            RowSource::Csv(csv) => csv.rows_read(),
            RowSource::Xlsx(xlsx) => xlsx.rows_read(),
        }
    }

    /// Fills `buf` with the next row; `Ok(false)` at the end. An `Err` is a read failure in the
    /// middle of the file, naming the row; nothing more should be read after it.
    pub fn read_into(&mut self, buf: &mut RawRow) -> Result<bool, RowError> {
        match self {
            RowSource::Csv(csv) => csv.read_into(buf),
            RowSource::Xlsx(xlsx) => xlsx.read_into(buf),
        }
    }

    /// `"csv"` or `"xlsx"`, for `Debug` output.
    pub fn format_name(&self) -> &'static str {
        match self {
            RowSource::Csv(_) => "csv",
            RowSource::Xlsx(_) => "xlsx",
        }
    }
}
