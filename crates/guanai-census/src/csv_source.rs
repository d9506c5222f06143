//! Rows of a CSV file (a census sheet or a death list, per its [`Schema`]), streamed. The
//! encoding is decided by a first pass that also counts the records: UTF-8 (a BOM is skipped)
//! when every record is valid UTF-8, otherwise GB18030 (a superset of GBK, which older Chinese
//! Excel writes) when every field decodes as such. The second pass decodes field by field: the
//! CSV delimiters are ASCII, and neither encoding uses ASCII bytes inside a multi-byte
//! character, so splitting before decoding is safe.
//!
//! Row numbers are those Excel shows when it opens the file: one per record, counting blank
//! lines (which the CSV parser skips) and not counting line breaks inside quoted cells
//! (see `RowCounter`).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use csv::{ByteRecord, Reader, ReaderBuilder};
use encoding_rs::GB18030;

use crate::columns::{ColumnMap, HeaderProblem, Schema, trim_cell};
use crate::error::{CensusError, RowError};
use crate::source::RawRow;

/// How the header row is found: the first row, among the first [`HEADER_SEARCH_ROWS`]
/// non-blank ones, that has a cell equal to the schema's anchor header (家庭编号 for the
/// census), so title rows above the header are allowed. Without one, the first non-blank row
/// is reported with the required headers it lacks.
pub(crate) const HEADER_SEARCH_ROWS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextEncoding {
    Utf8,
    Gb18030,
}

/// A CSV file being read.
pub(crate) struct CsvRows {
    reader: Reader<File>,
    record: ByteRecord,
    encoding: TextEncoding,
    /// For each file column, the known column it holds.
    by_file_column: Vec<Option<usize>>,
    /// Cells per raw row: the schema's column count.
    width: usize,
    rows: RowCounter,
    consumed: usize,
    total: usize,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

fn unreadable(path: &Path, source: std::io::Error) -> CensusError {
    CensusError::Unreadable {
        path: path.to_owned(),
        source,
    }
}

fn csv_failure(path: &Path, e: csv::Error) -> CensusError {
    let source = match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    };
    unreadable(path, source)
}

/// Opens the file positioned after a UTF-8 BOM; says whether there was one. A UTF-16 BOM is
/// refused with advice, since Excel's "Unicode text" export is not CSV.
fn open_after_bom(path: &Path) -> Result<(File, bool), CensusError> {
    let mut file = File::open(path).map_err(|e| unreadable(path, e))?;
    let mut head = [0u8; 3];
    let mut filled = 0;
    while filled < head.len() {
        let n = file
            .read(&mut head[filled..])
            .map_err(|e| unreadable(path, e))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    if head[..filled].starts_with(b"\xFF\xFE") || head[..filled].starts_with(b"\xFE\xFF") {
        return Err(CensusError::CsvNotDecodable {
            row: 1,
            hint: "（文件为 UTF-16 编码，请在 Excel 中另存为「CSV UTF-8」）",
            hint_en: " (the file is UTF-16; save it as \"CSV UTF-8\" in Excel)",
        });
    }
    let bom = head[..filled] == *UTF8_BOM;
    file.seek(SeekFrom::Start(if bom { 3 } else { 0 }))
        .map_err(|e| unreadable(path, e))?;
    Ok((file, bom))
}

fn csv_reader(file: File) -> Reader<File> {
    ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(file)
}

/// First pass: the number of records and the encoding.
fn scan(path: &Path, layout: Layout) -> Result<(TextEncoding, usize), CensusError> {
    let (file, bom) = open_after_bom(path)?;
    let mut reader = csv_reader(file);
    let mut record = ByteRecord::new();
    let mut records = 0usize;
    let mut rows = RowCounter::new(layout, None);
    let mut first_non_utf8: Option<usize> = None;
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| csv_failure(path, e))?
    {
        records += 1;
        let row = rows.next(reader.position().line(), &record);
        if first_non_utf8.is_none() && std::str::from_utf8(record.as_slice()).is_err() {
            first_non_utf8 = Some(row);
        }
    }
    let Some(bad_row) = first_non_utf8 else {
        return Ok((TextEncoding::Utf8, records));
    };
    if bom {
        return Err(CensusError::CsvNotDecodable {
            row: bad_row,
            hint: "（文件以 UTF-8 标记开头，但内容不是 UTF-8）",
            hint_en: " (the file starts with a UTF-8 BOM but is not UTF-8)",
        });
    }
    let (file, _) = open_after_bom(path)?;
    let mut reader = csv_reader(file);
    let mut rows = RowCounter::new(layout, None);
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| csv_failure(path, e))?
    {
        let row = rows.next(reader.position().line(), &record);
        let malformed = record.iter().any(|field| {
            GB18030
                .decode_without_bom_handling_and_without_replacement(field)
                .is_none()
        });
        if malformed {
            return Err(CensusError::CsvNotDecodable {
                row,
                hint: "",
                hint_en: "",
            });
        }
    }
    Ok((TextEncoding::Gb18030, records))
}

/// Turns the parser's line count into the row numbers Excel shows.
///
/// After a record is read, the parser has consumed every line break before it (blank lines
/// included), those inside its quoted cells, and — for LF files — its own terminator; with CRLF
/// the terminator's `\n` is consumed only with the next record (`lag` 1), and an LF file's last
/// record has no terminator to consume when the file does not end in a line break
/// (`short_record`). Excel's row is that count minus the breaks inside cells.
#[derive(Debug, Clone, Copy)]
struct RowCounter {
    lag: u64,
    short_record: Option<usize>,
    records: usize,
    inner_breaks: u64,
    last_row: usize,
}

impl RowCounter {
    fn new(layout: Layout, records: Option<usize>) -> RowCounter {
        RowCounter {
            lag: u64::from(layout.crlf),
            short_record: records.filter(|_| !layout.crlf && !layout.ends_with_newline),
            records: 0,
            inner_breaks: 0,
            last_row: 0,
        }
    }

    /// The row of `record`, just read; `line` is the parser's line after reading it.
    fn next(&mut self, line: u64, record: &ByteRecord) -> usize {
        self.records += 1;
        self.inner_breaks += record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
        let lag = self.lag + u64::from(self.short_record == Some(self.records));
        let estimate = (line.saturating_sub(1) + lag).saturating_sub(self.inner_breaks);
        self.last_row = (self.last_row + 1).max(usize::try_from(estimate).unwrap_or(usize::MAX));
        self.last_row
    }
}

/// How the file's lines end.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// The first line ends in CRLF (what Excel writes on Windows).
    crlf: bool,
    /// The last byte is a line break.
    ends_with_newline: bool,
}

fn layout(path: &Path) -> Result<Layout, CensusError> {
    let (mut file, _) = open_after_bom(path)?;
    let mut head = Vec::with_capacity(1 << 16);
    (&mut file)
        .take(1 << 16)
        .read_to_end(&mut head)
        .map_err(|e| unreadable(path, e))?;
    let crlf = head
        .iter()
        .position(|&b| b == b'\n')
        .is_some_and(|i| i > 0 && head[i - 1] == b'\r');
    let mut last = [0u8; 1];
    let ends_with_newline = match file.seek(SeekFrom::End(-1)) {
        Ok(_) => {
            file.read_exact(&mut last)
                .map_err(|e| unreadable(path, e))?;
            last[0] == b'\n'
        }
        // An empty file.
        Err(_) => true,
    };
    Ok(Layout {
        crlf,
        ends_with_newline,
    })
}

impl CsvRows {
    /// Opens a CSV file and reads up to its header row, as described by `schema`.
    pub fn open(path: &Path, schema: Schema) -> Result<CsvRows, CensusError> {
        let layout = layout(path)?;
        let (encoding, records) = scan(path, layout)?;
        let (file, _) = open_after_bom(path)?;
        let mut rows = CsvRows {
            reader: csv_reader(file),
            record: ByteRecord::new(),
            encoding,
            by_file_column: Vec::new(),
            width: schema.columns.len(),
            rows: RowCounter::new(layout, Some(records)),
            consumed: 0,
            total: 0,
        };
        // The header row: the first with an anchor cell among the first non-blank rows. If
        // there is none, the first non-blank row stands in, only to name what it lacks.
        let mut first_non_blank: Option<Vec<String>> = None;
        let mut non_blank = 0;
        let mut header_index = 0;
        let headers = loop {
            if !rows.advance().map_err(|e| csv_failure(path, e))? {
                break first_non_blank.ok_or(CensusError::NoHeaderRow)?;
            }
            header_index += 1;
            let cells: Vec<String> = rows
                .record
                .iter()
                .map(|f| trim_cell(&rows.decode(f)).to_owned())
                .collect();
            if cells.iter().all(String::is_empty) {
                continue;
            }
            non_blank += 1;
            if cells.iter().any(|c| schema.is_anchor(c)) {
                break cells;
            }
            let first = first_non_blank.get_or_insert(cells);
            if non_blank >= HEADER_SEARCH_ROWS {
                break std::mem::take(first);
            }
        };
        let map = ColumnMap::from_headers(&schema, headers.iter().map(String::as_str).enumerate())
            .map_err(|p| match p {
                HeaderProblem::Missing(missing) => CensusError::MissingColumns {
                    sheet: None,
                    missing,
                },
                HeaderProblem::Duplicate(column) => CensusError::DuplicateColumn {
                    sheet: None,
                    column,
                },
            })?;
        rows.by_file_column = map.by_file_column();
        rows.total = records.saturating_sub(header_index);
        Ok(rows)
    }

    /// Reads the next record and advances the Excel row number.
    fn advance(&mut self) -> Result<bool, csv::Error> {
        if !self.reader.read_byte_record(&mut self.record)? {
            return Ok(false);
        }
        self.rows.next(self.reader.position().line(), &self.record);
        Ok(true)
    }

    fn decode<'a>(&self, field: &'a [u8]) -> std::borrow::Cow<'a, str> {
        match self.encoding {
            TextEncoding::Utf8 => String::from_utf8_lossy(field),
            TextEncoding::Gb18030 => GB18030.decode_without_bom_handling(field).0,
        }
    }

    /// Data records after the header.
    pub fn total_rows(&self) -> usize {
        self.total
    }

    /// Data records read so far.
    pub fn rows_read(&self) -> usize {
        self.consumed
    }

    /// Fills `buf` with the next record; `Ok(false)` at the end of the file.
    pub fn read_into(&mut self, buf: &mut RawRow) -> Result<bool, RowError> {
        match self.advance() {
            Ok(false) => return Ok(false),
            Ok(true) => {}
            Err(e) => {
                return Err(RowError::new(
                    self.rows.last_row + 1,
                    "",
                    format!("读取文件失败，导入中止：{e}"),
                ));
            }
        }
        self.consumed += 1;
        buf.reset(self.rows.last_row, self.width);
        for (field, slot) in self.record.iter().zip(&self.by_file_column) {
            if let Some(col) = *slot
                && let Some(cell) = buf.cells.get_mut(col)
            {
                cell.push_str(&self.decode(field));
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(data: &str) -> Vec<usize> {
        let layout = Layout {
            crlf: data.contains("\r\n"),
            ends_with_newline: data.ends_with('\n'),
        };
        let records = csv_reader_of(data.as_bytes()).byte_records().count();
        let mut reader = csv_reader_of(data.as_bytes());
        let mut record = ByteRecord::new();
        let mut counter = RowCounter::new(layout, Some(records));
        let mut rows = Vec::new();
        while reader.read_byte_record(&mut record).unwrap_or(false) {
            rows.push(counter.next(reader.position().line(), &record));
        }
        rows
    }

    fn csv_reader_of(bytes: &[u8]) -> Reader<&[u8]> {
        ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes)
    }

    #[test]
    fn rows_count_blank_lines_but_not_breaks_inside_cells() {
        assert_eq!(rows_of("a,b\nc,d\n\n\ne,\"f\ng\"\nh,i\n"), [1, 2, 5, 6]);
        assert_eq!(
            rows_of("a,b\r\nc,d\r\n\r\ne,\"f\r\ng\"\r\nh,i"),
            [1, 2, 4, 5]
        );
        assert_eq!(rows_of("a,b\r\nc,d\r\n"), [1, 2]);
        assert_eq!(
            rows_of("a\n\nb"),
            [1, 3],
            "last record without a terminator"
        );
        assert_eq!(rows_of("a\nb"), [1, 2]);
    }
}
