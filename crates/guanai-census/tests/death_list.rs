//! `read_death_list`, end to end: each test writes a small death list (CSV in UTF-8 or GBK, or
//! XLSX) into a temporary directory and checks the deaths and row errors that come out. The ID
//! numbers are the synthetic ones of /work/shared/data/id-numbers.csv.

use std::path::{Path, PathBuf};

use guanai_census::{CensusError, DeathList, RowError, read_death_list};
use jiff::civil::Date;
use tempfile::TempDir;

// From /work/shared/data/id-numbers.csv.
/// Male, born 1965-03-12 (old 临沂地区 code 372822).
const FATHER: &str = "372822196503120173";
/// The same person's 15-character legacy number.
const FATHER_LEGACY: &str = "372822650312017";
/// Female, born 1968-07-05.
const MOTHER: &str = "372832196807050242";
/// Male, born 1962-11-30.
const NEIGHBOUR: &str = "372831196211300531";
/// Female, born 1999-01-01.
const DAUGHTER: &str = "371302199901010885";
/// Male, born 1996-04-15, check character X.
const WITH_X: &str = "37131119960415001X";

const HEADERS: [&str; 3] = ["公民身份号码", "死亡日期", "姓名"];

fn today() -> Date {
    d("2026-06-30")
}

fn d(text: &str) -> Date {
    text.parse().expect("test date")
}

fn csv_text(headers: &[&str], rows: &[&[&str]]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    writer.write_record(headers).expect("header");
    for row in rows {
        writer.write_record(*row).expect("row");
    }
    String::from_utf8(writer.into_inner().expect("flush")).expect("utf-8")
}

fn write_file(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

/// Reads a UTF-8 CSV (no BOM) with the standard headers.
fn read_csv(rows: &[&[&str]]) -> DeathList {
    let dir = TempDir::new().expect("tempdir");
    let path = write_file(&dir, "deaths.csv", csv_text(&HEADERS, rows).as_bytes());
    read_death_list(&path, today()).expect("read")
}

fn err(row: usize, column: &str, reason: &str) -> RowError {
    RowError::new(row, column, reason)
}

/// (row, ID number, death date, name) of each death.
fn summary(list: &DeathList) -> Vec<(usize, String, String, Option<String>)> {
    list.deaths
        .iter()
        .map(|death| {
            (
                death.row,
                death.id_number.as_str().to_owned(),
                death.death_date.to_string(),
                death.name.clone(),
            )
        })
        .collect()
}

fn death(
    row: usize,
    id: &str,
    date: &str,
    name: Option<&str>,
) -> (usize, String, String, Option<String>) {
    (row, id.to_owned(), date.to_owned(), name.map(str::to_owned))
}

fn open_error(path: &Path) -> CensusError {
    match read_death_list(path, today()) {
        Ok(list) => panic!("{} should not open: {list:?}", path.display()),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------- good files

#[test]
fn utf8_csv_yields_each_death_with_its_excel_row() {
    let list = read_csv(&[
        &[FATHER, "2024-03-15", "李建国"],
        &[MOTHER, "2023/1/2", ""],
        &[DAUGHTER, "2020年5月17日", "李娜"],
        &[WITH_X, "20250101", "张伟"],
        &[NEIGHBOUR, "2024.12.31 0:00", " 赵四\u{3000}"],
    ]);
    assert_eq!(list.errors, vec![]);
    assert_eq!(
        summary(&list),
        vec![
            death(2, FATHER, "2024-03-15", Some("李建国")),
            death(3, MOTHER, "2023-01-02", None),
            death(4, DAUGHTER, "2020-05-17", Some("李娜")),
            death(5, WITH_X, "2025-01-01", Some("张伟")),
            death(6, NEIGHBOUR, "2024-12-31", Some("赵四")),
        ]
    );
}

#[test]
fn utf8_csv_with_a_bom_a_title_row_blank_lines_and_no_name_column() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend("兰山区 2024 年死亡人员名单,,\n\n".as_bytes());
    bytes.extend(
        csv_text(
            &["序号", "死亡日期", "公民身份号码"],
            &[
                &["1", "2024-03-15", FATHER],
                &["", "", ""],
                &["2", "2024-04-01", MOTHER],
            ],
        )
        .as_bytes(),
    );
    let dir = TempDir::new().expect("tempdir");
    let path = write_file(&dir, "bom.csv", &bytes);
    let list = read_death_list(&path, today()).expect("read");
    assert_eq!(list.errors, vec![]);
    assert_eq!(
        summary(&list),
        vec![
            death(4, FATHER, "2024-03-15", None),
            death(6, MOTHER, "2024-04-01", None),
        ]
    );
}

#[test]
fn gbk_csv_reads_chinese_headers_and_names() {
    let text = csv_text(
        &HEADERS,
        &[
            &[FATHER, "2024年3月15日", "李建国"],
            &[MOTHER, "2024-04-01", "王秀英"],
        ],
    );
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    let dir = TempDir::new().expect("tempdir");
    let path = write_file(&dir, "gbk.csv", &bytes);
    let list = read_death_list(&path, today()).expect("read");
    assert_eq!(list.errors, vec![]);
    assert_eq!(
        summary(&list),
        vec![
            death(2, FATHER, "2024-03-15", Some("李建国")),
            death(3, MOTHER, "2024-04-01", Some("王秀英")),
        ]
    );
}

#[test]
fn xlsx_with_date_cells_text_cells_and_extra_columns() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("deaths.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    // A first sheet without the headers is passed over.
    let notes = workbook.add_worksheet();
    notes.set_name("说明").expect("name");
    notes.write_string(0, 0, "本表由殡仪馆报送").expect("cell");
    let sheet = workbook.add_worksheet();
    sheet.set_name("名单").expect("name");
    sheet
        .write_string(0, 0, "2024 年一季度火化人员")
        .expect("title");
    for (c, h) in (0u16..).zip(["序号", "姓名", "公民身份号码", "死亡日期", "火化日期"])
    {
        sheet.write_string(1, c, h).expect("header");
    }
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let date = |text: &str| rust_xlsxwriter::ExcelDateTime::parse_from_str(text).expect("date");
    sheet.write_number(2, 0, 1).expect("n");
    sheet.write_string(2, 1, "李建国").expect("name");
    sheet.write_string(2, 2, FATHER).expect("id");
    sheet
        .write_datetime_with_format(2, 3, date("2024-03-15"), &date_format)
        .expect("date cell");
    sheet
        .write_datetime_with_format(2, 4, date("2024-03-18"), &date_format)
        .expect("date cell");
    sheet.write_number(3, 0, 2).expect("n");
    sheet.write_string(3, 2, MOTHER).expect("id");
    sheet.write_string(3, 3, "2024/2/29").expect("date text");
    // A date typed as a number.
    sheet.write_number(4, 0, 3).expect("n");
    sheet.write_string(4, 2, DAUGHTER).expect("id");
    sheet.write_number(4, 3, 20_240_101).expect("date number");
    workbook.save(&path).expect("save");

    let list = read_death_list(&path, today()).expect("read");
    assert_eq!(list.errors, vec![]);
    assert_eq!(
        summary(&list),
        vec![
            death(3, FATHER, "2024-03-15", Some("李建国")),
            death(4, MOTHER, "2024-02-29", None),
            death(5, DAUGHTER, "2024-01-01", None),
        ]
    );
}

#[test]
fn a_15_character_legacy_number_is_converted() {
    let list = read_csv(&[&[FATHER_LEGACY, "2024-03-15", "李建国"]]);
    assert_eq!(list.errors, vec![]);
    assert_eq!(
        summary(&list),
        vec![death(2, FATHER, "2024-03-15", Some("李建国"))]
    );
}

#[test]
fn an_xlsx_legacy_number_stored_as_a_number_is_converted_but_an_18_digit_one_is_refused() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("numbers.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, h) in (0u16..).zip(HEADERS) {
        sheet.write_string(0, c, h).expect("header");
    }
    sheet
        .write_number(1, 0, 372_822_650_312_017.0)
        .expect("legacy");
    sheet.write_string(1, 1, "2024-03-15").expect("date");
    sheet
        .write_number(2, 0, 372_832_196_807_050_242.0)
        .expect("mangled");
    sheet.write_string(2, 1, "2024-03-15").expect("date");
    workbook.save(&path).expect("save");

    let list = read_death_list(&path, today()).expect("read");
    assert_eq!(summary(&list), vec![death(2, FATHER, "2024-03-15", None)]);
    assert_eq!(
        list.errors,
        vec![err(
            3,
            "公民身份号码",
            "单元格为数字格式，Excel 只保留 15 位有效数字，号码已失真；请把该列设为文本格式后重新填写"
        )]
    );
}

// ---------------------------------------------------------------- row errors

#[test]
fn every_number_of_the_shared_test_list_is_accepted_or_refused_as_its_kind_says() {
    // (number, kind) as in /work/shared/data/id-numbers.csv; each row dies on 2025-01-01.
    let numbers = [
        ("372822196503120173", "valid"),
        ("372832196807050242", "valid"),
        ("372831196211300531", "valid"),
        ("371302199901010885", "valid"),
        ("371324201502280114", "valid"),
        ("371312200509180423", "valid"),
        ("37131119960415001X", "valid"),
        ("372822196503120174", "invalid"),
        ("372822196502300173", "invalid"),
        ("37282219650312017", "invalid"),
        ("3728221965031201733", "invalid"),
        ("37282219650312O173", "invalid"),
        ("372822210001010175", "invalid"),
    ];
    let rows: Vec<[&str; 3]> = numbers
        .iter()
        .map(|(n, _)| [*n, "2025-01-01", ""])
        .collect();
    let rows: Vec<&[&str]> = rows.iter().map(|r| &r[..]).collect();
    let list = read_csv(&rows);
    let accepted: Vec<String> = list
        .deaths
        .iter()
        .map(|death| death.id_number.as_str().to_owned())
        .collect();
    let valid: Vec<&str> = numbers
        .iter()
        .filter(|(_, kind)| *kind == "valid")
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(accepted, valid);
    assert_eq!(
        list.errors,
        vec![
            err(9, "公民身份号码", "校验位错误：应为 3，实为 4"),
            err(10, "公民身份号码", "出生日期 19650230 不是有效日期"),
            err(11, "公民身份号码", "应为 18 位，实为 17 位"),
            err(12, "公民身份号码", "应为 18 位，实为 19 位"),
            err(13, "公民身份号码", "第 15 位是「O」，应为数字"),
            err(
                14,
                "公民身份号码",
                "出生日期 2100-01-01 晚于今天（2026-06-30）"
            ),
        ]
    );
}

#[test]
fn a_lower_case_x_is_stored_upper_case() {
    let list = read_csv(&[&["37131119960415001x", "2025-01-01", ""]]);
    assert_eq!(list.errors, vec![]);
    assert_eq!(list.deaths[0].id_number.as_str(), WITH_X);
}

#[test]
fn bad_death_dates_are_reported_with_row_and_column() {
    let list = read_csv(&[
        &[FATHER, "2024-02-30", "不存在的日期"],
        &[MOTHER, "去年三月", "不是日期"],
        &[NEIGHBOUR, "2026-07-01", "明天"],
        &[DAUGHTER, "1998-12-31", "出生前"],
        &[WITH_X, "", "空白"],
        &["", "2024-01-01", "无号码"],
        &[FATHER, "2026-06-30", "今天可以"],
    ]);
    assert_eq!(
        list.errors,
        vec![
            err(2, "死亡日期", "2024-02-30 不是真实存在的日期"),
            err(
                3,
                "死亡日期",
                "「去年三月」不是有效日期，应写成 YYYY-MM-DD（如 1965-03-12）"
            ),
            err(4, "死亡日期", "2026-07-01 晚于今天（2026-06-30）"),
            err(
                5,
                "死亡日期",
                "1998-12-31 早于身份号码中的出生日期 1999-01-01"
            ),
            err(6, "死亡日期", "必填，不能为空"),
            err(7, "公民身份号码", "必填，不能为空"),
        ]
    );
    assert_eq!(
        summary(&list),
        vec![death(8, FATHER, "2026-06-30", Some("今天可以"))]
    );
}

#[test]
fn a_row_with_a_bad_id_and_a_bad_date_reports_both() {
    let list = read_csv(&[&["372822196503120174", "2024-13-01", ""]]);
    assert_eq!(
        list.errors,
        vec![
            err(2, "公民身份号码", "校验位错误：应为 3，实为 4"),
            err(2, "死亡日期", "2024-13-01 不是真实存在的日期"),
        ]
    );
    assert!(list.deaths.is_empty());
}

// ---------------------------------------------------------------- duplicates

#[test]
fn the_same_person_with_the_same_date_is_merged_silently() {
    let list = read_csv(&[
        &[FATHER, "2024-03-15", ""],
        &[MOTHER, "2024-04-01", "王秀英"],
        &[FATHER_LEGACY, "2024/3/15", "李建国"],
        &[FATHER, "2024-03-15", "李建国（重复）"],
        &[WITH_X, "2025-01-01", "张伟"],
        &["37131119960415001x", "2025-01-01", ""],
    ]);
    assert_eq!(list.errors, vec![]);
    assert_eq!(
        summary(&list),
        vec![
            // The first row's name was blank, so the first name given fills it.
            death(2, FATHER, "2024-03-15", Some("李建国")),
            death(3, MOTHER, "2024-04-01", Some("王秀英")),
            death(6, WITH_X, "2025-01-01", Some("张伟")),
        ]
    );
}

#[test]
fn the_same_person_with_another_date_is_an_error_on_the_later_row() {
    let list = read_csv(&[
        &[FATHER, "2024-03-15", "李建国"],
        &[MOTHER, "2024-04-01", "王秀英"],
        &[FATHER_LEGACY, "2024-03-16", "李建国"],
    ]);
    assert_eq!(
        list.errors,
        vec![err(
            4,
            "公民身份号码",
            "与第 2 行的公民身份号码重复，但死亡日期不同（第 2 行为 2024-03-15，本行为 2024-03-16）"
        )]
    );
    assert_eq!(
        summary(&list),
        vec![
            death(2, FATHER, "2024-03-15", Some("李建国")),
            death(3, MOTHER, "2024-04-01", Some("王秀英")),
        ]
    );
}

#[test]
fn a_refused_first_row_does_not_block_a_later_valid_one() {
    let list = read_csv(&[&[FATHER, "2027-01-01", ""], &[FATHER, "2024-03-15", ""]]);
    assert_eq!(
        list.errors,
        vec![err(2, "死亡日期", "2027-01-01 晚于今天（2026-06-30）")]
    );
    assert_eq!(summary(&list), vec![death(3, FATHER, "2024-03-15", None)]);
}

// ---------------------------------------------------------------- file-level errors

#[test]
fn missing_required_columns_are_named() {
    let dir = TempDir::new().expect("tempdir");
    let path = write_file(
        &dir,
        "no-date.csv",
        csv_text(&["公民身份号码", "姓名"], &[&[FATHER, "李建国"]]).as_bytes(),
    );
    let e = open_error(&path);
    assert!(
        matches!(&e, CensusError::MissingColumns { sheet: None, missing } if *missing == ["死亡日期"]),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "缺少必填列：死亡日期 / missing required column(s): 死亡日期"
    );

    // Headers other offices use are accepted for the same columns.
    let path = write_file(
        &dir,
        "aliases.csv",
        csv_text(
            &["身份证号", "去世时间", "姓名"],
            &[&[FATHER, "2024-03-15", "李建国"]],
        )
        .as_bytes(),
    );
    let list = read_death_list(&path, today()).expect("aliases are read");
    assert_eq!(list.deaths.len(), 1, "{:?}", list.errors);

    let path = write_file(
        &dir,
        "neither.csv",
        csv_text(
            &["证件", "日期", "姓名"],
            &[&[FATHER, "2024-03-15", "李建国"]],
        )
        .as_bytes(),
    );
    let e = open_error(&path);
    assert!(
        matches!(&e, CensusError::MissingColumns { missing, .. }
            if *missing == ["公民身份号码", "死亡日期"]),
        "{e:?}"
    );

    let path = dir.path().join("no-date.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("死亡名单").expect("name");
    sheet.write_string(0, 0, "公民身份号码").expect("header");
    sheet.write_string(1, 0, FATHER).expect("id");
    workbook.save(&path).expect("save");
    let e = open_error(&path);
    assert!(
        matches!(&e, CensusError::NoSheetWithHeaders { sheets }
            if *sheets == [("死亡名单".to_owned(), vec!["死亡日期".to_owned()])]),
        "{e:?}"
    );
    assert!(e.to_string().contains("「死亡名单」缺少 死亡日期"), "{e}");
}

#[test]
fn a_column_given_twice_is_a_file_error() {
    let dir = TempDir::new().expect("tempdir");
    let path = write_file(
        &dir,
        "twice.csv",
        csv_text(
            &["公民身份号码", "死亡日期", "死亡日期"],
            &[&[FATHER, "2024-03-15", "2024-03-16"]],
        )
        .as_bytes(),
    );
    let e = open_error(&path);
    assert!(
        matches!(&e, CensusError::DuplicateColumn { column, .. } if column == "死亡日期"),
        "{e:?}"
    );
}

#[test]
fn empty_files_and_other_extensions_are_file_errors() {
    let dir = TempDir::new().expect("tempdir");
    let e = open_error(&write_file(&dir, "empty.csv", b""));
    assert!(matches!(e, CensusError::NoHeaderRow), "{e:?}");
    let e = open_error(&write_file(&dir, "deaths.xls", b"not really"));
    assert!(
        matches!(e, CensusError::UnsupportedExtension { .. }),
        "{e:?}"
    );
    let e = open_error(&dir.path().join("missing.csv"));
    assert!(matches!(e, CensusError::Unreadable { .. }), "{e:?}");
}

#[test]
fn debug_output_masks_the_id_number_and_leaves_out_the_name() {
    let list = read_csv(&[&[FATHER, "2024-03-15", "李建国"]]);
    let shown = format!("{list:?}");
    assert!(!shown.contains(FATHER), "{shown}");
    assert!(shown.contains("372822********0173"), "{shown}");
    assert!(!shown.contains("李建国"), "{shown}");
    assert!(shown.contains("2024-03-15"), "{shown}");
}
