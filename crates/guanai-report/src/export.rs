//! Writing report tables to files people open in Excel: CSV (UTF-8 with a BOM) and XLSX, one
//! table after another (CSV) or one worksheet per table (XLSX), in Chinese or English. Both are
//! written into memory; the caller decides where the bytes go.

use crate::table::{Cell, Table, share_text};
use rust_xlsxwriter::{
    ColNum, Color, Format, FormatAlign, FormatBorder, RowNum, Workbook, Worksheet, XlsxError,
};

/// What a withheld cell (三(四)) shows; the threshold is in the table's notes.
pub const SUPPRESSED_TEXT: &str = "*";

/// The totals row's heading as [`Table::sum_rows`] writes it.
const TOTALS_ZH: &str = "合计";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the XLSX workbook: {0}")]
    Xlsx(#[from] XlsxError),
}

/// The tables as CSV: UTF-8 with a byte-order mark (so Excel reads the Chinese), CRLF line ends.
/// Each table is its title, its subtitle (when it has one), the header, the rows, the totals row
/// and the notes, with a blank line between tables. Money is exact yuan ("1234.56", "-0.05"),
/// counts integers, shares "87.5%" or "—", withheld cells "*".
pub fn to_csv(tables: &[&Table], english: bool) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    for (i, table) in tables.iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        csv_line(&mut out, [table.title.pick(english)]);
        let subtitle = table.subtitle.pick(english);
        if !subtitle.is_empty() {
            csv_line(&mut out, [subtitle]);
        }
        csv_line(
            &mut out,
            table.columns.iter().map(|c| c.label.pick(english)),
        );
        for row in &table.rows {
            let fields: Vec<String> = row.iter().map(|c| cell_text(c, english, false)).collect();
            csv_line(&mut out, fields.iter().map(String::as_str));
        }
        if let Some(totals) = &table.totals {
            let fields: Vec<String> = totals.iter().map(|c| cell_text(c, english, true)).collect();
            csv_line(&mut out, fields.iter().map(String::as_str));
        }
        for note in &table.notes {
            csv_line(&mut out, [note.pick(english)]);
        }
    }
    out.into_bytes()
}

/// A cell as text, the way the CSV (and the screen) shows it.
pub fn cell_text(cell: &Cell, english: bool, totals: bool) -> String {
    match cell {
        Cell::Text(s) => heading(s, english, totals).to_owned(),
        Cell::Count(n) => n.to_string(),
        Cell::Fen(f) => f.to_string(),
        Cell::Share(bp) => share_text(*bp),
        Cell::Suppressed => SUPPRESSED_TEXT.to_owned(),
    }
}

/// The totals row's "合计" in the chosen language; any other text as it is.
fn heading(s: &str, english: bool, totals: bool) -> &str {
    if totals && english && s == TOTALS_ZH {
        "Total"
    } else {
        s
    }
}

fn csv_line<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// The tables as an XLSX workbook, one worksheet per table named after its title.
///
/// Row 1 holds the title (merged over the columns), row 2 the subtitle, row 3 the header; then the
/// rows, the totals row and, after a blank row, the notes. Panes are frozen under the header.
/// Money is a number of yuan formatted `#,##0.00` — converted from fen to a floating-point number
/// only for Excel to display; the exact figure is in the CSV — counts `#,##0`, shares `0.0%`
/// (or "—"), withheld cells "*".
pub fn to_xlsx(tables: &[&Table], english: bool) -> Result<Vec<u8>, ExportError> {
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let mut names: Vec<String> = Vec::with_capacity(tables.len());
    for (i, table) in tables.iter().enumerate() {
        let name = sheet_name(table.title.pick(english), &table.key, i, &names);
        let sheet = workbook.add_worksheet();
        sheet.set_name(name.as_str())?;
        names.push(name);
        write_sheet(sheet, table, english, &formats)?;
    }
    Ok(workbook.save_to_buffer()?)
}

/// Cell formats for one kind of row (body or totals).
struct RowFormats {
    text: Format,
    count: Format,
    money: Format,
    share: Format,
    /// "—" and "*": text, aligned with the numbers.
    missing: Format,
}

impl RowFormats {
    fn new(base: &Format) -> RowFormats {
        RowFormats {
            text: base.clone(),
            count: base.clone().set_num_format("#,##0"),
            money: base.clone().set_num_format("#,##0.00"),
            share: base.clone().set_num_format("0.0%"),
            missing: base.clone().set_align(FormatAlign::Right),
        }
    }
}

struct Formats {
    title: Format,
    subtitle: Format,
    header: Format,
    body: RowFormats,
    totals: RowFormats,
    note: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            title: Format::new()
                .set_bold()
                .set_font_size(14)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            subtitle: Format::new().set_align(FormatAlign::Center),
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xDDEBF7))
                .set_border(FormatBorder::Thin)
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            body: RowFormats::new(&Format::new()),
            totals: RowFormats::new(&Format::new().set_bold().set_border_top(FormatBorder::Thin)),
            note: Format::new().set_font_size(9),
        }
    }
}

const TITLE_ROW: RowNum = 0;
const SUBTITLE_ROW: RowNum = 1;
const HEADER_ROW: RowNum = 2;
const FIRST_ROW: RowNum = 3;

fn write_sheet(
    sheet: &mut Worksheet,
    table: &Table,
    english: bool,
    formats: &Formats,
) -> Result<(), XlsxError> {
    let ncols = table.columns.len();
    let last_col = col_num(ncols.saturating_sub(1));

    let title = table.title.pick(english);
    let subtitle = table.subtitle.pick(english);
    if ncols > 1 {
        sheet.merge_range(TITLE_ROW, 0, TITLE_ROW, last_col, title, &formats.title)?;
        sheet.merge_range(
            SUBTITLE_ROW,
            0,
            SUBTITLE_ROW,
            last_col,
            subtitle,
            &formats.subtitle,
        )?;
    } else {
        sheet.write_string_with_format(TITLE_ROW, 0, title, &formats.title)?;
        sheet.write_string_with_format(SUBTITLE_ROW, 0, subtitle, &formats.subtitle)?;
    }
    sheet.set_row_height(TITLE_ROW, 24)?;

    let widths = column_widths(table, english);
    let mut header_lines = 1;
    for (c, column) in table.columns.iter().enumerate() {
        let label = column.label.pick(english);
        sheet.write_string_with_format(HEADER_ROW, col_num(c), label, &formats.header)?;
        let width = widths.get(c).copied().unwrap_or(MIN_WIDTH);
        sheet.set_column_width(col_num(c), u32::try_from(width).unwrap_or(MAX_WIDTH as u32))?;
        header_lines = header_lines.max(display_width(label).div_ceil(width.max(1)));
    }
    sheet.set_row_height(
        HEADER_ROW,
        15 * u32::try_from(header_lines).unwrap_or(1) + 4,
    )?;

    let mut row_num = FIRST_ROW;
    for row in &table.rows {
        write_row(sheet, row_num, row, english, false, &formats.body)?;
        row_num += 1;
    }
    if let Some(totals) = &table.totals {
        write_row(sheet, row_num, totals, english, true, &formats.totals)?;
        row_num += 1;
    }
    row_num += 1;
    for note in &table.notes {
        sheet.write_string_with_format(row_num, 0, note.pick(english), &formats.note)?;
        row_num += 1;
    }

    sheet.set_freeze_panes(FIRST_ROW, 0)?;
    Ok(())
}

fn write_row(
    sheet: &mut Worksheet,
    row_num: RowNum,
    row: &[Cell],
    english: bool,
    totals: bool,
    f: &RowFormats,
) -> Result<(), XlsxError> {
    for (c, cell) in row.iter().enumerate() {
        let col = col_num(c);
        match cell {
            // An empty text (the totals row's) is a blank that still carries the format.
            Cell::Text(s) => sheet.write_string_with_format(
                row_num,
                col,
                heading(s, english, totals),
                &f.text,
            )?,
            // Counts stay far below 2^53, so the conversion is exact.
            Cell::Count(n) => sheet.write_number_with_format(row_num, col, *n as f64, &f.count)?,
            // Display only: Excel holds numbers as doubles; the exact amount is in the CSV.
            Cell::Fen(fen) => {
                sheet.write_number_with_format(row_num, col, fen.get() as f64 / 100.0, &f.money)?
            }
            Cell::Share(Some(bp)) => {
                sheet.write_number_with_format(row_num, col, *bp as f64 / 10000.0, &f.share)?
            }
            Cell::Share(None) => sheet.write_string_with_format(row_num, col, "—", &f.missing)?,
            Cell::Suppressed => {
                sheet.write_string_with_format(row_num, col, SUPPRESSED_TEXT, &f.missing)?
            }
        };
    }
    Ok(())
}

fn col_num(c: usize) -> ColNum {
    ColNum::try_from(c).unwrap_or(ColNum::MAX)
}

const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 40;
/// Header labels wrap, so a long one widens its column only this far.
const MAX_HEADER_WIDTH: usize = 16;

/// Column widths in Excel's character units: a Chinese character takes two.
fn column_widths(table: &Table, english: bool) -> Vec<usize> {
    let mut widths: Vec<usize> = table
        .columns
        .iter()
        .map(|c| display_width(c.label.pick(english)).min(MAX_HEADER_WIDTH))
        .collect();
    let rows = table
        .rows
        .iter()
        .map(|r| (r, false))
        .chain(table.totals.iter().map(|r| (r, true)));
    for (row, totals) in rows {
        for (c, cell) in row.iter().enumerate() {
            let text = cell_text(cell, english, totals);
            let w = match cell {
                // Thousands separators add a comma every three digits.
                Cell::Count(_) | Cell::Fen(_) => text.len() + text.len() / 3,
                _ => display_width(&text),
            };
            if let Some(width) = widths.get_mut(c) {
                *width = (*width).max(w);
            }
        }
    }
    widths
        .into_iter()
        .map(|w| (w + 2).clamp(MIN_WIDTH, MAX_WIDTH))
        .collect()
}

/// Width of text in Excel's character units: East Asian wide characters count two.
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

fn is_wide(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// Excel's limit on a worksheet name, in UTF-16 units.
const SHEET_NAME_MAX: usize = 31;

/// A worksheet name from a title: without the characters Excel refuses (`[]:*?/\`), not starting
/// or ending with an apostrophe, at most 31 characters, and unique in the workbook (Excel compares
/// names without regard to case).
fn sheet_name(title: &str, key: &str, index: usize, taken: &[String]) -> String {
    let clean = |s: &str| -> String {
        let kept: String = s
            .chars()
            .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
            .collect();
        kept.trim().trim_matches('\'').trim().to_owned()
    };
    let mut base = truncate_utf16(&clean(title), SHEET_NAME_MAX);
    if base.is_empty() {
        base = truncate_utf16(&clean(key), SHEET_NAME_MAX);
    }
    if base.is_empty() {
        base = format!("Sheet{}", index + 1);
    }
    let is_taken = |name: &str| {
        name.eq_ignore_ascii_case("History")
            || taken
                .iter()
                .any(|t| t.to_lowercase() == name.to_lowercase())
    };
    if !is_taken(&base) {
        return base;
    }
    (2..)
        .map(|n| {
            let suffix = format!(" ({n})");
            let room = SHEET_NAME_MAX.saturating_sub(suffix.len());
            let stem = truncate_utf16(&base, room);
            format!("{}{suffix}", stem.trim_end().trim_end_matches('\''))
        })
        .find(|name| !is_taken(name))
        .unwrap_or(base)
}

fn truncate_utf16(s: &str, max: usize) -> String {
    let mut used = 0;
    let mut out = String::new();
    for c in s.chars() {
        used += c.len_utf16();
        if used > max {
            break;
        }
        out.push(c);
    }
    out.trim_end().trim_end_matches('\'').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Column, ColumnKind, Label};
    use calamine::{Data, Reader, Xlsx};
    use guanai_rules::Fen;
    use std::io::Cursor;

    fn small() -> Table {
        let mut t = Table {
            key: "payments".into(),
            title: Label::new("扶助金发放情况", "Relief payments"),
            subtitle: Label::new("临沂市 2026-01 至 2026-03", "Linyi 2026-01 to 2026-03"),
            columns: vec![
                Column::new(ColumnKind::Text, "县区", "County"),
                Column::new(ColumnKind::Count, "户数", "Families"),
                Column::new(ColumnKind::Fen, "金额（元）", "Amount (yuan)"),
                Column::new(ColumnKind::Share, "到账率", "Credited"),
            ],
            rows: vec![
                vec![
                    Cell::Text("兰山区".into()),
                    Cell::Count(1234),
                    Cell::Fen(Fen(123_456)),
                    Cell::Share(Some(8750)),
                ],
                vec![
                    Cell::Text("费县, 东".into()),
                    Cell::Suppressed,
                    Cell::Fen(Fen(-5)),
                    Cell::Share(None),
                ],
            ],
            totals: None,
            notes: vec![Label::new("金额含追回款", "Amounts net of \"recoveries\"")],
        };
        t.totals = Some(t.sum_rows(|_, _| Some(10_000)));
        t
    }

    fn csv_text(tables: &[&Table], english: bool) -> String {
        let bytes = to_csv(tables, english);
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM");
        String::from_utf8(bytes[3..].to_vec()).expect("UTF-8")
    }

    #[test]
    fn csv_in_chinese() {
        let text = csv_text(&[&small()], false);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines,
            [
                "扶助金发放情况",
                "临沂市 2026-01 至 2026-03",
                "县区,户数,金额（元）,到账率",
                "兰山区,1234,1234.56,87.5%",
                "\"费县, 东\",*,-0.05,—",
                "合计,1234,1234.51,100.0%",
                "金额含追回款",
                "",
            ]
        );
    }

    #[test]
    fn csv_in_english_with_two_tables() {
        let mut second = small();
        second.title = Label::new("第二表", "Second");
        second.subtitle = Label::new("", "");
        second.rows.truncate(1);
        second.totals = None;
        second.notes.clear();
        let text = csv_text(&[&small(), &second], true);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines,
            [
                "Relief payments",
                "Linyi 2026-01 to 2026-03",
                "County,Families,Amount (yuan),Credited",
                "兰山区,1234,1234.56,87.5%",
                "\"费县, 东\",*,-0.05,—",
                "Total,1234,1234.51,100.0%",
                "\"Amounts net of \"\"recoveries\"\"\"",
                "",
                "Second",
                "County,Families,Amount (yuan),Credited",
                "兰山区,1234,1234.56,87.5%",
                "",
            ]
        );
        // A standard reader gets the fields back.
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let records: Vec<csv::StringRecord> =
            reader.records().collect::<Result<_, _>>().expect("csv");
        assert_eq!(&records[4][0], "费县, 东");
        assert_eq!(&records[6][0], "Amounts net of \"recoveries\"");
        assert_eq!(to_csv(&[], false), "\u{feff}".as_bytes());
    }

    fn sheet(bytes: Vec<u8>, name: &str) -> calamine::Range<Data> {
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("a readable workbook");
        book.worksheet_range(name).expect("the sheet")
    }

    #[test]
    fn xlsx_round_trip() {
        let bytes = to_xlsx(&[&small()], false).expect("xlsx");
        let book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).expect("workbook");
        assert_eq!(book.sheet_names(), ["扶助金发放情况"]);
        let range = sheet(bytes, "扶助金发放情况");
        let at = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
        assert_eq!(at(0, 0), Data::String("扶助金发放情况".into()));
        assert_eq!(at(1, 0), Data::String("临沂市 2026-01 至 2026-03".into()));
        let header: Vec<Data> = (0..4).map(|c| at(2, c)).collect();
        assert_eq!(
            header,
            ["县区", "户数", "金额（元）", "到账率"].map(|s| Data::String(s.into()))
        );
        assert_eq!(at(3, 0), Data::String("兰山区".into()));
        assert_eq!(at(3, 1), Data::Float(1234.0));
        assert_eq!(at(3, 2), Data::Float(1234.56));
        assert_eq!(at(3, 3), Data::Float(0.875));
        assert_eq!(at(4, 1), Data::String("*".into()));
        assert_eq!(at(4, 2), Data::Float(-0.05));
        assert_eq!(at(4, 3), Data::String("—".into()));
        // Totals row.
        assert_eq!(at(5, 0), Data::String("合计".into()));
        assert_eq!(at(5, 1), Data::Float(1234.0));
        assert_eq!(at(5, 2), Data::Float(1234.51));
        assert_eq!(at(5, 3), Data::Float(1.0));
        // A blank row, then the notes.
        assert_eq!(at(6, 0), Data::Empty);
        assert_eq!(at(7, 0), Data::String("金额含追回款".into()));
    }

    #[test]
    fn xlsx_in_english_names_sheets_safely_and_uniquely() {
        let mut odd = small();
        odd.title = Label::new(
            "x",
            "Payments [by county]: 2026/01*?\\ and a very long tail of words",
        );
        let english = to_xlsx(&[&small(), &small(), &odd], true).expect("xlsx");
        let book: Xlsx<_> = Xlsx::new(Cursor::new(english.clone())).expect("workbook");
        assert_eq!(
            book.sheet_names(),
            [
                "Relief payments",
                "Relief payments (2)",
                "Payments by county 202601 and a"
            ]
        );
        let range = sheet(english, "Relief payments (2)");
        assert_eq!(
            range.get_value((2, 2)),
            Some(&Data::String("Amount (yuan)".into()))
        );
        assert_eq!(range.get_value((5, 0)), Some(&Data::String("Total".into())));
        assert_eq!(range.get_value((5, 2)), Some(&Data::Float(1234.51)));
        assert!(to_xlsx(&[], false).is_ok());
    }

    #[test]
    fn sheet_names_follow_excels_rules() {
        let taken = vec!["Relief".to_owned()];
        assert_eq!(sheet_name("relief", "k", 1, &taken), "relief (2)");
        assert_eq!(sheet_name("History", "k", 0, &[]), "History (2)");
        assert_eq!(sheet_name("[]:*?/\\", "families", 0, &[]), "families");
        assert_eq!(sheet_name("", "", 2, &[]), "Sheet3");
        assert_eq!(sheet_name("'quoted'", "k", 0, &[]), "quoted");
        let long = "特".repeat(40);
        assert_eq!(sheet_name(&long, "k", 0, &[]).chars().count(), 31);
        let taken = vec!["特".repeat(31)];
        assert_eq!(
            sheet_name(&long, "k", 0, &taken),
            format!("{} (2)", "特".repeat(27))
        );
    }

    #[test]
    fn widths_count_chinese_characters_double() {
        assert_eq!(display_width("兰山区"), 6);
        assert_eq!(display_width("Lanshan"), 7);
        assert_eq!(display_width("（元）"), 6);
        let widths = column_widths(&small(), false);
        assert_eq!(widths.len(), 4);
        assert!(widths.iter().all(|w| (MIN_WIDTH..=MAX_WIDTH).contains(w)));
        assert_eq!(widths[0], 10); // "费县, 东" is 8 wide, plus 2.
    }
}
