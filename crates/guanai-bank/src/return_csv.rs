//! A CSV return file: decoded whole, then split into rows for `table`.
//!
//! Encoding: UTF-8 when the bytes are UTF-8 (a BOM is skipped; with a BOM they must be);
//! otherwise GB18030, a superset of the GBK that older Chinese Excel saves. Decoding before
//! splitting is safe: neither encoding uses `,`, `"`, CR or LF inside a multi-byte character.
//! Row numbers are those Excel shows: one per line, blank lines counted, line breaks inside
//! quoted cells not.

use std::borrow::Cow;

use encoding_rs::GB18030;

use crate::error::BankError;
use crate::returns::{ReturnLine, UTF8_BOM, file_error, line_of};
use crate::table::{self, Cell, Row};

fn decode<'a>(bytes: &'a [u8], file_name: &str) -> Result<Cow<'a, str>, BankError> {
    let (body, bom) = match bytes.strip_prefix(UTF8_BOM) {
        Some(body) => (body, true),
        None => (bytes, false),
    };
    match std::str::from_utf8(body) {
        Ok(text) => Ok(Cow::Borrowed(text)),
        Err(e) if bom => Err(file_error(
            file_name,
            format!(
                "row {}: the file starts with a UTF-8 BOM but is not UTF-8",
                line_of(body, e.valid_up_to())
            ),
        )),
        Err(_) => GB18030
            .decode_without_bom_handling_and_without_replacement(body)
            .ok_or_else(|| {
                let gb18030 = |line: &[u8]| {
                    GB18030
                        .decode_without_bom_handling_and_without_replacement(line)
                        .is_some()
                };
                let mut lines = body.split(|&b| b == b'\n');
                let bad = lines
                    .clone()
                    .position(|line| std::str::from_utf8(line).is_err() && !gb18030(line))
                    .or_else(|| lines.position(|line| !gb18030(line)))
                    .map_or(1, |i| i + 1);
                file_error(
                    file_name,
                    format!("row {bad}: the text is neither UTF-8 nor GBK/GB18030"),
                )
            }),
    }
}

/// The rows of a CSV text. The parser's own line count lags behind CRLF line ends, so rows are
/// counted here: the line breaks before where a record starts (its reported start may sit on
/// the line breaks ending the previous record, or on blank lines, which are skipped), less
/// those inside quoted cells.
fn rows(text: &str, file_name: &str) -> Result<Vec<Row>, BankError> {
    let bytes = text.as_bytes();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    let mut counted_to = 0usize;
    let mut line_breaks = 0usize;
    let mut inner_breaks = 0usize;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(file_error(file_name, format!("not readable as CSV: {e}"))),
        }
        let reported = record
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        let start = reported
            + bytes
                .get(reported..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
        let start = start.max(counted_to).min(bytes.len());
        line_breaks += bytes[counted_to..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted_to = start;
        rows.push(Row {
            number: line_breaks + 1 - inner_breaks,
            cells: record
                .iter()
                .map(|field| Cell::Text(field.to_owned()))
                .collect(),
        });
        inner_breaks += record
            .iter()
            .map(|field| field.bytes().filter(|&b| b == b'\n').count())
            .sum::<usize>();
    }
    Ok(rows)
}

/// Reads a CSV return file (see the module documentation).
pub(crate) fn read(bytes: &[u8], file_name: &str) -> Result<Vec<ReturnLine>, BankError> {
    let text = decode(bytes, file_name)?;
    let rows = rows(&text, file_name)?;
    let header =
        table::find_header(&rows).ok_or_else(|| file_error(file_name, table::no_header()))?;
    table::lines(&rows, header, file_name)
}
