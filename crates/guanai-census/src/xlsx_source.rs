//! Rows of an XLSX workbook (a census sheet or a death list, per its [`Schema`]), streamed with
//! calamine's cell reader (`Xlsx::worksheet_cells_reader`), which walks the sheet's XML without
//! building the cell grid.
//!
//! The cell reader borrows the workbook, so it cannot live next to it in one struct without
//! `unsafe`; instead a worker thread owns the workbook and sends rows in batches over a bounded
//! channel. Memory stays flat (a few batches in flight) apart from what calamine keeps for the
//! whole workbook: the shared-string table, i.e. every distinct text in the file.

use std::fmt::Write as _;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use calamine::{DataRef, Reader, Xlsx, XlsxError};

use crate::columns::{ColumnMap, HeaderProblem, Schema, trim_cell};
use crate::csv_source::HEADER_SEARCH_ROWS;
use crate::error::{CensusError, RowError};
use crate::source::RawRow;

/// Rows per message from the worker.
const BATCH: usize = 512;

/// Messages in flight; with [`BATCH`] this bounds the rows held between the threads.
const IN_FLIGHT: usize = 4;

type Workbook = Xlsx<BufReader<File>>;

enum Message {
    Rows(Vec<RawRow>),
    Failed { row: usize, detail: String },
    Done,
}

/// An XLSX sheet being read.
pub(crate) struct XlsxRows {
    receiver: Option<Receiver<Message>>,
    worker: Option<JoinHandle<()>>,
    batch: std::vec::IntoIter<RawRow>,
    /// Excel row number of the header.
    header_row: usize,
    last_row: usize,
    total: Option<usize>,
    finished: bool,
}

/// A sheet's header row: its 0-based index and its cell texts with their 0-based columns.
struct Header {
    row: u32,
    cells: Vec<(usize, String)>,
    /// 0-based index of the last row the sheet declares, when it declares one.
    last_row: Option<u32>,
}

fn broken(e: XlsxError) -> CensusError {
    CensusError::BrokenXlsx {
        detail: e.to_string(),
    }
}

/// Appends a cell's value as text; returns true when the cell held a number.
fn cell_text(value: &DataRef<'_>, out: &mut String) -> bool {
    match value {
        DataRef::Empty => false,
        DataRef::String(s) => {
            out.push_str(s);
            false
        }
        DataRef::SharedString(s) => {
            out.push_str(s);
            false
        }
        DataRef::Int(i) => {
            let _ = write!(out, "{i}");
            true
        }
        DataRef::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 9.0e18 {
                // Whole numbers (codes, phone numbers typed as numbers) without ".0".
                let _ = write!(out, "{}", *f as i64);
            } else {
                let _ = write!(out, "{f}");
            }
            true
        }
        DataRef::Bool(b) => {
            out.push_str(if *b { "是" } else { "否" });
            false
        }
        DataRef::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            let _ = write!(out, "{y:04}-{m:02}-{d:02}");
            false
        }
        DataRef::DateTime(dt) => {
            let _ = write!(out, "{}", dt.as_f64());
            true
        }
        DataRef::DateTimeIso(s) => {
            out.push_str(s.get(..10).unwrap_or(s));
            false
        }
        DataRef::DurationIso(s) => {
            out.push_str(s);
            false
        }
        DataRef::Error(e) => {
            let _ = write!(out, "#{e}");
            false
        }
    }
}

/// Finds a sheet's header row, the first with a cell equal to `anchor` (see
/// [`HEADER_SEARCH_ROWS`]); `None` for an empty sheet.
fn read_header(
    workbook: &mut Workbook,
    sheet: &str,
    schema: &Schema,
) -> Result<Option<Header>, XlsxError> {
    let mut cells = workbook.worksheet_cells_reader(sheet)?;
    let dims = cells.dimensions();
    // A missing <dimension> reads as A1:A1, which says nothing.
    let last_row = (dims.end.0 > 0).then_some(dims.end.0);
    let mut rows: Vec<(u32, Vec<(usize, String)>)> = Vec::new();
    let mut text = String::new();
    while let Some(cell) = cells.next_cell()? {
        let (row, col) = cell.get_position();
        text.clear();
        cell_text(cell.get_value(), &mut text);
        let value = trim_cell(&text);
        if value.is_empty() {
            continue;
        }
        match rows.last_mut() {
            Some((r, row_cells)) if *r == row => row_cells.push((col as usize, value.to_owned())),
            _ => {
                if rows
                    .last()
                    .is_some_and(|(_, c)| c.iter().any(|(_, v)| schema.is_anchor(v)))
                    || rows.len() >= HEADER_SEARCH_ROWS
                {
                    break;
                }
                rows.push((row, vec![(col as usize, value.to_owned())]));
            }
        }
    }
    let chosen = rows
        .iter()
        .position(|(_, c)| c.iter().any(|(_, v)| schema.is_anchor(v)))
        .unwrap_or(0);
    Ok(rows.into_iter().nth(chosen).map(|(row, cells)| Header {
        row,
        cells,
        last_row,
    }))
}

fn header_map(schema: &Schema, header: Option<&Header>) -> Result<ColumnMap, HeaderProblem> {
    let cells = header.map_or(&[][..], |h| &h.cells[..]);
    ColumnMap::from_headers(schema, cells.iter().map(|(c, v)| (*c, v.as_str())))
}

impl XlsxRows {
    /// Opens a workbook, chooses the sheet (the schema's preferred sheet, 普查 for the census, if
    /// present, else the first whose header row has the required columns) and starts the worker
    /// thread.
    pub fn open(path: &Path, schema: Schema) -> Result<XlsxRows, CensusError> {
        let file = File::open(path).map_err(|source| CensusError::Unreadable {
            path: path.to_owned(),
            source,
        })?;
        let mut workbook: Workbook = Xlsx::new(BufReader::new(file)).map_err(broken)?;
        let names = workbook.sheet_names();
        let preferred = schema
            .preferred_sheet
            .filter(|p| names.iter().any(|n| n == p));
        let (sheet, header, map) = if let Some(preferred) = preferred {
            let header = read_header(&mut workbook, preferred, &schema).map_err(broken)?;
            let map = header_map(&schema, header.as_ref()).map_err(|p| match p {
                HeaderProblem::Missing(missing) => CensusError::MissingColumns {
                    sheet: Some(preferred.to_owned()),
                    missing,
                },
                HeaderProblem::Duplicate(column) => CensusError::DuplicateColumn {
                    sheet: Some(preferred.to_owned()),
                    column,
                },
            })?;
            (preferred.to_owned(), header, map)
        } else {
            let mut lacking = Vec::new();
            let mut chosen = None;
            for name in &names {
                let header = match read_header(&mut workbook, name, &schema) {
                    Ok(h) => h,
                    // A chart sheet or the like: it has no header row.
                    Err(XlsxError::NotAWorksheet(_)) => None,
                    Err(e) => return Err(broken(e)),
                };
                match header_map(&schema, header.as_ref()) {
                    Ok(map) => {
                        chosen = Some((name.clone(), header, map));
                        break;
                    }
                    Err(HeaderProblem::Duplicate(column)) => {
                        return Err(CensusError::DuplicateColumn {
                            sheet: Some(name.clone()),
                            column,
                        });
                    }
                    Err(HeaderProblem::Missing(missing)) => lacking.push((name.clone(), missing)),
                }
            }
            chosen.ok_or(CensusError::NoSheetWithHeaders { sheets: lacking })?
        };
        // `header` is `Some` here: an empty header row lacks every required column.
        let header_row0 = header.as_ref().map_or(0, |h| h.row);
        let total = header
            .as_ref()
            .and_then(|h| h.last_row)
            .filter(|&last| last > header_row0)
            .map(|last| (last - header_row0) as usize);
        let by_file_column = map.by_file_column();
        let width = schema.columns.len();
        let (sender, receiver) = sync_channel(IN_FLIGHT);
        let worker = std::thread::Builder::new()
            .name("guanai-census-xlsx".to_owned())
            .spawn(move || {
                let layout = SheetLayout {
                    sheet: &sheet,
                    header_row0,
                    by_file_column: &by_file_column,
                    width,
                };
                stream(workbook, &layout, &sender);
            })
            .map_err(|source| CensusError::Unreadable {
                path: path.to_owned(),
                source,
            })?;
        let header_row = header_row0 as usize + 1;
        Ok(XlsxRows {
            receiver: Some(receiver),
            worker: Some(worker),
            batch: Vec::new().into_iter(),
            header_row,
            last_row: header_row,
            total,
            finished: false,
        })
    }

    /// Data rows below the header, from the sheet's declared dimensions.
    pub fn total_rows(&self) -> Option<usize> {
        self.total
    }

    /// Rows passed so far (by row number, so that it reaches [`XlsxRows::total_rows`]).
    pub fn rows_read(&self) -> usize {
        self.last_row - self.header_row
    }

    /// Fills `buf` with the next row that has a cell in a known column; `Ok(false)` at the end.
    pub fn read_into(&mut self, buf: &mut RawRow) -> Result<bool, RowError> {
        loop {
            if let Some(row) = self.batch.next() {
                self.last_row = row.row;
                *buf = row;
                return Ok(true);
            }
            if self.finished {
                return Ok(false);
            }
            let message = self.receiver.as_ref().map(Receiver::recv);
            match message {
                Some(Ok(Message::Rows(rows))) => self.batch = rows.into_iter(),
                Some(Ok(Message::Done)) => {
                    self.finished = true;
                    return Ok(false);
                }
                Some(Ok(Message::Failed { row, detail })) => {
                    self.finished = true;
                    return Err(RowError::new(
                        row,
                        "",
                        format!("读取工作表失败，导入中止：{detail}"),
                    ));
                }
                Some(Err(_)) | None => {
                    self.finished = true;
                    return Err(RowError::new(
                        self.last_row + 1,
                        "",
                        "读取工作表时意外中断，导入中止",
                    ));
                }
            }
        }
    }
}

impl Drop for XlsxRows {
    /// Stops the worker (its next send fails once the receiver is gone) and waits for it, so
    /// that the file is closed when the reader is dropped.
    fn drop(&mut self) {
        self.receiver = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// Where the worker finds the rows: the sheet, its header row and its known columns.
struct SheetLayout<'a> {
    sheet: &'a str,
    /// 0-based index of the header row.
    header_row0: u32,
    /// For each file column, the schema column it holds.
    by_file_column: &'a [Option<usize>],
    /// Cells per raw row: the schema's column count.
    width: usize,
}

/// The worker: reads the sheet below the header row and sends rows in batches. Returns early,
/// quietly, when the reader has been dropped.
fn stream(mut workbook: Workbook, layout: &SheetLayout<'_>, sender: &SyncSender<Message>) {
    let &SheetLayout {
        sheet,
        header_row0,
        by_file_column,
        width,
    } = layout;
    let mut cells = match workbook.worksheet_cells_reader(sheet) {
        Ok(cells) => cells,
        Err(e) => {
            let _ = sender.send(Message::Failed {
                row: header_row0 as usize + 2,
                detail: e.to_string(),
            });
            return;
        }
    };
    let mut batch: Vec<RawRow> = Vec::with_capacity(BATCH);
    let mut current: Option<RawRow> = None;
    loop {
        let cell = match cells.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(e) => {
                let row = current
                    .as_ref()
                    .map_or(header_row0 as usize + 2, |r| r.row + 1);
                batch.extend(current.take());
                let sent = batch.is_empty() || sender.send(Message::Rows(batch)).is_ok();
                if sent {
                    let _ = sender.send(Message::Failed {
                        row,
                        detail: e.to_string(),
                    });
                }
                return;
            }
        };
        let (row0, col0) = cell.get_position();
        if row0 <= header_row0 {
            continue;
        }
        let Some(&Some(col)) = by_file_column.get(col0 as usize) else {
            continue;
        };
        let row = row0 as usize + 1;
        if current.as_ref().is_some_and(|r| r.row != row) {
            batch.extend(current.take());
            if batch.len() >= BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if sender.send(Message::Rows(full)).is_err() {
                    return;
                }
            }
        }
        let raw = current.get_or_insert_with(|| RawRow::new(row, width));
        if let Some(out) = raw.cells.get_mut(col)
            && cell_text(cell.get_value(), out)
        {
            raw.mark_number(col);
        }
    }
    batch.extend(current.take());
    if !batch.is_empty() && sender.send(Message::Rows(batch)).is_err() {
        return;
    }
    let _ = sender.send(Message::Done);
}
