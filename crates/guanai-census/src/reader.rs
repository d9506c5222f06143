//! [`CensusReader`]: opens a census file, then yields one family at a time from a stream of
//! rows, grouping contiguous rows by 家庭编号.
//!
//! Rows that are skipped, never validated:
//! - rows above the header row (a title row is allowed; see the header rule in
//!   [`crate::csv_source::HEADER_SEARCH_ROWS`]);
//! - rows whose known cells are all blank, anywhere (Excel keeps formatted empty rows); they do
//!   not end a family;
//! - **the comment row**: the first non-blank row below the header, when its 家庭编号 cell
//!   (trimmed) starts with 「说明」. The template's row 2 is such a row. Only that one row is
//!   skipped this way; a later row starting with 说明 is data and is validated.

use std::path::Path;

use jiff::civil::Date;

use crate::columns::{CENSUS, COMMENT_MARK, Col};
use crate::error::{CensusError, RowError};
use crate::family::CensusFamily;
use crate::source::{RawRow, RowSource};
use crate::validate::{ParsedRow, Validator};

/// Opens a census file (.xlsx or .csv, by extension). For CSV: UTF-8 (with or without BOM) or,
/// when not valid UTF-8, GB18030/GBK. For XLSX: the sheet named 普查 if present, else the first
/// sheet whose header row has the required columns.
///
/// Iterating yields each family in file order: `Ok` when all its rows pass the row and family
/// rules, otherwise `Err` with every error of that family, ordered by row. A read failure in
/// the middle of the file (a damaged XLSX part, an I/O error) is yielded as a one-element `Err`
/// naming the row, and ends the iteration; the family being assembled is dropped with it.
///
/// Memory stays flat: rows are streamed and only the ID numbers and family numbers already
/// seen are kept (for the duplicate rules).
pub struct CensusReader {
    source: RowSource,
    validator: Validator,
    raw: RawRow,
    /// Rows of the family being assembled (all with the same 家庭编号).
    group: Vec<ParsedRow>,
    /// Whether a non-blank data row has been seen (the comment-row rule applies before).
    seen_data: bool,
    done: bool,
}

impl CensusReader {
    /// Opens `path` and reads its header; `today` is the date after which no date may lie.
    pub fn open(path: &Path, today: Date) -> Result<CensusReader, CensusError> {
        Ok(CensusReader {
            source: RowSource::open(path, CENSUS)?,
            validator: Validator::new(today),
            raw: RawRow::default(),
            group: Vec::new(),
            seen_data: false,
            done: false,
        })
    }

    /// Data rows in the file (for a progress bar), when known up front: always for CSV (counted
    /// while detecting the encoding), for XLSX when the sheet declares its dimensions.
    pub fn total_rows(&self) -> Option<usize> {
        self.source.total_rows()
    }

    /// Rows consumed so far (blank and comment rows included), comparable with
    /// [`CensusReader::total_rows`].
    pub fn rows_read(&self) -> usize {
        self.source.rows_read()
    }

    fn read_row(&mut self) -> Result<bool, RowError> {
        self.source.read_into(&mut self.raw)
    }
}

impl std::fmt::Debug for CensusReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CensusReader")
            .field("format", &self.source.format_name())
            .field("rows_read", &self.rows_read())
            .field("total_rows", &self.total_rows())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Iterator for CensusReader {
    type Item = Result<CensusFamily, Vec<RowError>>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.read_row() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Err(failure) => {
                    self.done = true;
                    self.group.clear();
                    return Some(Err(vec![failure]));
                }
            }
            if self.raw.is_blank() {
                continue;
            }
            if !self.seen_data {
                self.seen_data = true;
                if self.raw.get(Col::FamilyNo).starts_with(COMMENT_MARK) {
                    continue;
                }
            }
            let parsed = self.validator.row(&self.raw);
            // A row without a family number never joins a family: it stands alone.
            let new_family = self
                .group
                .first()
                .is_some_and(|f| f.family_no.is_empty() || f.family_no != parsed.family_no);
            if new_family {
                let finished = std::mem::replace(&mut self.group, vec![parsed]);
                return Some(self.validator.family(finished));
            }
            self.group.push(parsed);
        }
        if self.group.is_empty() {
            None
        } else {
            let finished = std::mem::take(&mut self.group);
            Some(self.validator.family(finished))
        }
    }
}
