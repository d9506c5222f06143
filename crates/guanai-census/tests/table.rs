//! `write_table`, end to end: CSV with a BOM read back with the csv crate, XLSX read back with
//! calamine, Excel's row limit, and the extensions it refuses.

use std::path::Path;

use calamine::{Data, Reader as _};
use guanai_census::{CensusError, write_table};
use tempfile::TempDir;

const HEADERS: [&str; 4] = ["公民身份号码", "姓名", "银行账号", "备注"];

/// Rows with what Excel and CSV tend to mangle: 18-digit numbers, leading zeros, an `X` check
/// character, commas, quotes, a line break, an empty cell, and a short row.
fn rows() -> Vec<Vec<String>> {
    let row = |cells: &[&str]| cells.iter().map(|&c| c.to_owned()).collect::<Vec<String>>();
    vec![
        row(&[
            "372822196503120173",
            "李建国",
            "6228480312345678901",
            "父亲，已故",
        ]),
        row(&["37131119960415001X", "王秀英", "", "备注含\"引号\", 逗号"]),
        row(&["371302199901010885", "李娜", "0012345678", "第一行\n第二行"]),
        row(&["371324201502280114", "张伟"]),
    ]
}

fn xlsx_rows(path: &Path, sheet: &str) -> Vec<Vec<Data>> {
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(path).expect("calamine");
    let range = workbook.worksheet_range(sheet).expect("sheet");
    range.rows().map(<[Data]>::to_vec).collect()
}

#[test]
fn csv_starts_with_a_bom_and_round_trips_through_the_csv_crate() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("export.csv");
    let written = write_table(&path, "unused", &HEADERS, rows()).expect("write csv");
    assert_eq!(written, 4);

    let bytes = std::fs::read(&path).expect("read back");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&bytes[3..]);
    let headers: Vec<String> = reader
        .headers()
        .expect("headers")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(headers, HEADERS);
    let read: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("record").iter().map(str::to_owned).collect())
        .collect();
    let mut expected = rows();
    // The short row is completed with empty cells.
    expected[3].resize(HEADERS.len(), String::new());
    assert_eq!(read, expected);
}

#[test]
fn csv_rows_are_consumed_lazily_from_any_iterator() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("many.CSV");
    let rows = (0..50_000u32).map(|n| vec![format!("{n:06}"), format!("第 {n} 行")]);
    let written = write_table(&path, "", &["编号", "说明"], rows).expect("write csv");
    assert_eq!(written, 50_000);
    let bytes = std::fs::read(&path).expect("read back");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let last = reader.records().last().expect("rows").expect("record");
    assert_eq!(&last[0], "049999");
}

#[test]
fn a_table_with_no_rows_is_just_the_header() {
    let dir = TempDir::new().expect("tempdir");
    let csv_path = dir.path().join("empty.csv");
    assert_eq!(
        write_table(&csv_path, "空", &HEADERS, Vec::new()).expect("csv"),
        0
    );
    let bytes = std::fs::read(&csv_path).expect("read back");
    assert_eq!(
        std::str::from_utf8(&bytes[3..]).expect("utf-8"),
        "公民身份号码,姓名,银行账号,备注\n"
    );

    let xlsx_path = dir.path().join("empty.xlsx");
    assert_eq!(
        write_table(&xlsx_path, "空", &HEADERS, Vec::new()).expect("xlsx"),
        0
    );
    assert_eq!(xlsx_rows(&xlsx_path, "空").len(), 1);
}

#[test]
fn xlsx_is_readable_with_calamine_with_the_header_and_every_cell_as_text() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("export.xlsx");
    let written = write_table(&path, "死亡名单", &HEADERS, rows()).expect("write xlsx");
    assert_eq!(written, 4);

    let workbook: calamine::Xlsx<_> = calamine::open_workbook(&path).expect("calamine");
    assert_eq!(workbook.sheet_names(), ["死亡名单"]);
    drop(workbook);
    let read = xlsx_rows(&path, "死亡名单");
    let text = |s: &str| Data::String(s.to_owned());
    assert_eq!(read[0], HEADERS.map(text));
    // Long numbers and leading zeros are text cells, exactly as given.
    assert_eq!(read[1][0], text("372822196503120173"));
    assert_eq!(read[1][2], text("6228480312345678901"));
    assert_eq!(read[3][2], text("0012345678"));
    assert_eq!(read[2][0], text("37131119960415001X"));
    assert_eq!(read[2][2], Data::Empty);
    assert_eq!(read[2][3], text("备注含\"引号\", 逗号"));
    assert_eq!(read[3][3], text("第一行\n第二行"));
    assert_eq!(read[4][..2], [text("371324201502280114"), text("张伟")]);
    assert_eq!(read.len(), 5);
}

#[test]
fn more_rows_than_excel_holds_is_an_error_suggesting_csv() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("huge.xlsx");
    // Empty cells store nothing, so the limit is reached without the memory of a full sheet.
    let rows = std::iter::repeat_with(|| vec![String::new()]).take(1_048_576);
    let e = write_table(&path, "大表", &["编号"], rows).expect_err("too many rows");
    assert!(
        matches!(
            e,
            CensusError::TooManyRows {
                limit: 1_048_575,
                ..
            }
        ),
        "{e:?}"
    );
    let message = e.to_string();
    assert!(message.contains("CSV"), "{message}");
    assert!(message.contains("1048575"), "{message}");
    assert!(!path.exists(), "nothing is written");

    let rows = std::iter::repeat_with(|| vec![String::new()]).take(1_048_575);
    assert_eq!(
        write_table(&path, "大表", &["编号"], rows).expect("exactly the limit"),
        1_048_575
    );
}

#[test]
fn other_extensions_and_bad_sheet_names_are_refused() {
    let dir = TempDir::new().expect("tempdir");
    let e = write_table(&dir.path().join("t.xls"), "表", &HEADERS, rows()).expect_err("xls");
    assert!(
        matches!(&e, CensusError::UnsupportedExtension { extension } if extension == ".xls"),
        "{e:?}"
    );
    let e = write_table(&dir.path().join("t.xlsx"), "a/b", &HEADERS, rows()).expect_err("name");
    assert!(matches!(e, CensusError::Write { .. }), "{e:?}");
    let e = write_table(
        &dir.path().join("no-such-dir").join("t.csv"),
        "",
        &HEADERS,
        rows(),
    )
    .expect_err("no directory");
    assert!(matches!(e, CensusError::Write { .. }), "{e:?}");
}
