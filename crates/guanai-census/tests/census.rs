//! The census reader, template and error report, end to end: each test writes a small CSV or
//! XLSX file into a temporary directory, reads it back and checks what comes out.

use std::path::{Path, PathBuf};

use guanai_census::{
    CensusError, CensusFamily, CensusReader, Relation, RowError, write_error_report, write_template,
};
use guanai_rules::{Hukou, ResidentId, Sex, VillageCode};
use jiff::civil::Date;
use tempfile::TempDir;

const HEADERS: [&str; 23] = [
    "家庭编号",
    "成员关系",
    "姓名",
    "性别",
    "公民身份号码",
    "出生日期",
    "户籍性质",
    "所在村居代码",
    "联系电话",
    "开户银行",
    "银行账号",
    "低保",
    "五保",
    "慢性病",
    "居住状况",
    "独生子女父母光荣证号",
    "死亡日期",
    "死亡证明编号",
    "再生育或收养日期",
    "残疾等级",
    "残疾评定日期",
    "残疾证号",
    "备注",
];

const DATE_HEADERS: [&str; 4] = ["出生日期", "死亡日期", "再生育或收养日期", "残疾评定日期"];

fn today() -> Date {
    d("2026-06-30")
}

fn d(text: &str) -> Date {
    text.parse().expect("test date")
}

/// A synthetic, valid ID number (the sequence's parity gives the sex: odd male, even female).
fn id(address: &str, birth: &str, sequence: u16) -> String {
    ResidentId::build(address, d(birth), sequence)
        .expect("valid parts")
        .as_str()
        .to_owned()
}

/// One spreadsheet row: header → cell text; absent headers are blank.
#[derive(Clone, Debug)]
struct Row(Vec<(&'static str, String)>);

impl Row {
    fn new(cells: &[(&'static str, &str)]) -> Row {
        Row(cells.iter().map(|&(h, v)| (h, v.to_owned())).collect())
    }

    fn get(&self, header: &str) -> &str {
        self.0
            .iter()
            .find(|(h, _)| *h == header)
            .map_or("", |(_, v)| v.as_str())
    }

    fn set(&mut self, header: &'static str, value: &str) -> &mut Row {
        self.0.retain(|(h, _)| *h != header);
        self.0.push((header, value.to_owned()));
        self
    }
}

/// 失独: mother, father (dead), and the child who died in 2020. Rows 2–4.
fn bereaved(family_no: &str) -> Vec<Row> {
    let common = |rel: &str, name: &str, sex: &str, idn: &str, birth: &str| {
        Row::new(&[
            ("家庭编号", family_no),
            ("成员关系", rel),
            ("姓名", name),
            ("性别", sex),
            ("公民身份号码", idn),
            ("出生日期", birth),
            ("户籍性质", "农村"),
            ("所在村居代码", "371302001001"),
        ])
    };
    let mut mother = common("母亲", "王秀英", "女", "372832196807050242", "1968-07-05");
    mother
        .set("联系电话", "+86 138-0539-1234")
        .set("开户银行", "临沂农商银行兰山支行")
        .set("银行账号", "6228 4803 1234 5678 901")
        .set("低保", "是")
        .set("慢性病", "是")
        .set("居住状况", "与配偶同住")
        .set("独生子女父母光荣证号", "LS1990-0123")
        .set("备注", "母亲备注");
    let mut father = common("父亲", "李建国", "男", "372822196503120173", "1965-03-12");
    father.set("联系电话", "0539-8123456").set("低保", "否");
    let mut child = common("子女", "李娜", "女", "371302199901010885", "1999/1/1");
    child
        .set("死亡日期", "2020-05-17")
        .set("死亡证明编号", "SW2020-0456");
    vec![mother, father, child]
}

fn cells(headers: &[&str], row: &Row) -> Vec<String> {
    headers.iter().map(|h| row.get(h).to_owned()).collect()
}

fn csv_text(headers: &[&str], rows: &[Row]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(headers).expect("header");
    for row in rows {
        writer.write_record(cells(headers, row)).expect("row");
    }
    String::from_utf8(writer.into_inner().expect("flush")).expect("utf-8")
}

fn write_file(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

fn write_csv(dir: &TempDir, rows: &[Row]) -> PathBuf {
    write_file(dir, "census.csv", csv_text(&HEADERS, rows).as_bytes())
}

/// Writes sheets of strings; with `typed`, date columns become Excel date cells and 残疾等级 a
/// number, as Excel stores what an office types.
fn write_xlsx(
    dir: &TempDir,
    name: &str,
    sheets: &[(&str, &[&str], &[Row])],
    typed: bool,
) -> PathBuf {
    let path = dir.path().join(name);
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (sheet_name, headers, rows) in sheets {
        let sheet = workbook.add_worksheet();
        sheet.set_name(*sheet_name).expect("sheet name");
        for (c, h) in (0u16..).zip(headers.iter()) {
            sheet.write_string(0, c, *h).expect("header");
        }
        for (r, row) in (1u32..).zip(rows.iter()) {
            for (c, h) in (0u16..).zip(headers.iter()) {
                let v = row.get(h);
                if v.is_empty() {
                    continue;
                }
                if typed && DATE_HEADERS.contains(h) {
                    let date = rust_xlsxwriter::ExcelDateTime::parse_from_str(v).expect("date");
                    sheet
                        .write_datetime_with_format(r, c, &date, &date_format)
                        .expect("date cell");
                } else if typed && *h == "残疾等级" {
                    sheet
                        .write_number(r, c, v.parse::<f64>().expect("grade"))
                        .expect("number");
                } else {
                    sheet.write_string(r, c, v).expect("cell");
                }
            }
        }
    }
    workbook.save(&path).expect("save xlsx");
    path
}

fn read_all(path: &Path) -> (Vec<CensusFamily>, Vec<RowError>) {
    let reader = CensusReader::open(path, today()).expect("open");
    let mut families = Vec::new();
    let mut errors = Vec::new();
    for item in reader {
        match item {
            Ok(f) => families.push(f),
            Err(e) => errors.extend(e),
        }
    }
    (families, errors)
}

/// The errors of a CSV made of `rows`.
fn errors_of(rows: &[Row]) -> Vec<RowError> {
    let dir = TempDir::new().expect("tempdir");
    read_all(&write_csv(&dir, rows)).1
}

fn err(row: usize, column: &str, reason: &str) -> RowError {
    RowError::new(row, column, reason)
}

fn open_error(path: &Path) -> CensusError {
    match CensusReader::open(path, today()) {
        Ok(_) => panic!("{} should not open", path.display()),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------- good families

#[test]
fn bereaved_family_with_a_dead_child_parses_with_every_field() {
    let dir = TempDir::new().expect("tempdir");
    let (families, errors) = read_all(&write_csv(&dir, &bereaved("LS-001")));
    assert_eq!(errors, vec![]);
    let [family] = families.as_slice() else {
        panic!("one family expected, got {}", families.len());
    };
    assert_eq!(family.family_no, "LS-001");
    assert_eq!(family.first_row, 2);
    assert_eq!(
        family.village,
        VillageCode::parse("371302001001").expect("village")
    );
    assert_eq!(family.county().get(), 371302);
    assert_eq!(family.hukou, Hukou::Rural);
    assert_eq!(family.members.len(), 3);

    let mother = &family.members[0];
    assert_eq!(mother.row, 2);
    assert_eq!(mother.relation, Relation::Mother);
    assert_eq!(mother.name, "王秀英");
    assert_eq!(mother.sex, Sex::Female);
    assert_eq!(
        mother.id_number.map(|i| i.as_str().to_owned()).as_deref(),
        Some("372832196807050242")
    );
    assert_eq!(mother.birth_date, d("1968-07-05"));
    assert_eq!(mother.phone.as_deref(), Some("13805391234"));
    assert_eq!(mother.bank_name.as_deref(), Some("临沂农商银行兰山支行"));
    assert_eq!(mother.bank_account.as_deref(), Some("6228480312345678901"));
    assert!(mother.dibao);
    assert!(!mother.wubao);
    assert!(mother.chronically_ill);
    assert_eq!(mother.living_situation.as_deref(), Some("与配偶同住"));
    assert_eq!(mother.honor_certificate_no.as_deref(), Some("LS1990-0123"));
    assert_eq!(mother.death_date, None);
    assert_eq!(mother.death_certificate_no, None);
    assert_eq!(mother.later_child_date, None);
    assert_eq!(mother.disability, None);
    assert_eq!(mother.disability_certificate_no, None);
    assert_eq!(mother.note.as_deref(), Some("母亲备注"));

    let father = &family.members[1];
    assert_eq!(
        (father.row, father.relation, father.sex),
        (3, Relation::Father, Sex::Male)
    );
    assert_eq!(father.phone.as_deref(), Some("05398123456"));
    assert!(!father.dibao);
    assert_eq!(father.bank_account, None);

    let child = family.child();
    assert_eq!(
        (child.row, child.relation, child.sex),
        (4, Relation::Child, Sex::Female)
    );
    assert_eq!(child.name, "李娜");
    assert_eq!(child.birth_date, d("1999-01-01"), "YYYY/M/D accepted");
    assert_eq!(child.death_date, Some(d("2020-05-17")));
    assert_eq!(child.death_certificate_no.as_deref(), Some("SW2020-0456"));
    assert_eq!(
        family.parents().map(|p| p.row).collect::<Vec<_>>(),
        vec![2, 3]
    );
}

fn disabled_family() -> Vec<Row> {
    let common = |rel: &str, name: &str, sex: &str, idn: &str, birth: &str| {
        Row::new(&[
            ("家庭编号", "YN-002"),
            ("成员关系", rel),
            ("姓名", name),
            ("性别", sex),
            ("公民身份号码", idn),
            ("出生日期", birth),
            ("户籍性质", "城镇"),
            ("所在村居代码", "371321001003"),
        ])
    };
    let mother_id = id("371321", "1975-04-02", 22);
    let father_id = id("371321", "1972-11-30", 31);
    let mut father = common("父亲", "张强", "男", &father_id, "1972-11-30");
    father.set("再生育或收养日期", "2019-03-01");
    let mut child = common("子女", "张小雨", "女", "371312200509180423", "2005-09-18");
    child
        .set("残疾等级", "2")
        .set("残疾评定日期", "2015-06-01")
        .set("残疾证号", "37131220050918042362");
    vec![
        common("母亲", "刘芳", "女", &mother_id, "1975-04-02"),
        father,
        child,
    ]
}

#[test]
fn disabled_child_with_a_grade_parses_from_xlsx_date_and_number_cells() {
    let dir = TempDir::new().expect("tempdir");
    let rows = disabled_family();
    let path = write_xlsx(&dir, "census.xlsx", &[("普查", &HEADERS, &rows)], true);
    let (families, errors) = read_all(&path);
    assert_eq!(errors, vec![]);
    let [family] = families.as_slice() else {
        panic!("one family expected, got {}", families.len());
    };
    assert_eq!(family.hukou, Hukou::Urban);
    assert_eq!(family.county().get(), 371321);
    let child = family.child();
    assert_eq!(child.row, 4);
    let disability = child.disability.expect("disabled");
    assert_eq!(disability.grade.get(), 2);
    assert_eq!(disability.assessed, d("2015-06-01"));
    assert_eq!(
        child.disability_certificate_no.as_deref(),
        Some("37131220050918042362")
    );
    assert_eq!(child.birth_date, d("2005-09-18"));
    let father = &family.members[1];
    assert_eq!(father.relation, Relation::Father);
    assert_eq!(father.later_child_date, Some(d("2019-03-01")));
    assert_eq!(father.birth_date, d("1972-11-30"));
}

#[test]
fn orphan_with_a_guardian_parses_and_the_guardian_is_not_a_parent() {
    let common = |rel: &str, name: &str, sex: &str, idn: &str, birth: &str| {
        Row::new(&[
            ("家庭编号", "LC-003"),
            ("成员关系", rel),
            ("姓名", name),
            ("性别", sex),
            ("公民身份号码", idn),
            ("出生日期", birth),
            ("户籍性质", "农村"),
            ("所在村居代码", "371324001015"),
        ])
    };
    let mut mother = common(
        "母亲",
        "赵丽",
        "女",
        &id("371324", "1985-06-10", 48),
        "1985-06-10",
    );
    mother.set("死亡日期", "2020-01-05");
    let mut father = common(
        "父亲",
        "孙伟",
        "男",
        &id("371324", "1983-02-14", 57),
        "1983-02-14",
    );
    father.set("死亡日期", "20210809");
    let child = common("子女", "孙乐", "男", "371324201502280114", "2015-02-28");
    let mut guardian = common(
        "监护人",
        "钱桂兰",
        "女",
        &id("371324", "1950-02-03", 64),
        "1950-02-03",
    );
    guardian
        .set("联系电话", "139 1234 5678")
        .set("居住状况", "与孙子同住")
        .set("五保", "是");
    let dir = TempDir::new().expect("tempdir");
    let (families, errors) = read_all(&write_csv(&dir, &[mother, father, child, guardian]));
    assert_eq!(errors, vec![]);
    let [family] = families.as_slice() else {
        panic!("one family expected, got {}", families.len());
    };
    assert_eq!(family.child().name, "孙乐");
    assert_eq!(family.child().sex, Sex::Male);
    let parents: Vec<_> = family.parents().collect();
    assert_eq!(parents.len(), 2);
    assert!(parents.iter().all(|p| p.death_date.is_some()));
    assert_eq!(
        parents[1].death_date,
        Some(d("2021-08-09")),
        "YYYYMMDD accepted"
    );
    let guardian = &family.members[3];
    assert_eq!(guardian.relation, Relation::Guardian);
    assert_eq!(guardian.phone.as_deref(), Some("13912345678"));
    assert_eq!(guardian.living_situation.as_deref(), Some("与孙子同住"));
    assert!(guardian.wubao);
    assert_eq!(family.guardians().count(), 1);
}

#[test]
fn a_15_character_legacy_id_number_is_accepted_and_converted() {
    let mut rows = bereaved("LS-001");
    rows[1].set("公民身份号码", "372822650312017");
    let dir = TempDir::new().expect("tempdir");
    let (families, errors) = read_all(&write_csv(&dir, &rows));
    assert_eq!(errors, vec![]);
    assert_eq!(
        families[0].members[1]
            .id_number
            .map(|i| i.as_str().to_owned())
            .as_deref(),
        Some("372822196503120173")
    );
}

#[test]
fn a_child_without_an_id_number_is_accepted() {
    let mut rows = bereaved("LS-001");
    rows[2].set("公民身份号码", "");
    assert_eq!(errors_of(&rows), vec![]);
}

#[test]
fn several_families_come_out_in_file_order() {
    let mut rows = bereaved("A");
    rows.extend(disabled_family());
    let dir = TempDir::new().expect("tempdir");
    let path = write_csv(&dir, &rows);
    let mut reader = CensusReader::open(&path, today()).expect("open");
    assert_eq!(reader.total_rows(), Some(6));
    let first = reader.next().expect("first").expect("valid");
    assert_eq!((first.family_no.as_str(), first.first_row), ("A", 2));
    let second = reader.next().expect("second").expect("valid");
    assert_eq!((second.family_no.as_str(), second.first_row), ("YN-002", 5));
    assert!(reader.next().is_none());
    assert_eq!(reader.rows_read(), 6);
}

#[test]
fn debug_output_never_shows_names_phones_or_full_id_numbers() {
    let dir = TempDir::new().expect("tempdir");
    let (families, _) = read_all(&write_csv(&dir, &bereaved("LS-001")));
    let shown = format!("{:?}", families[0]);
    for secret in [
        "王秀英",
        "13805391234",
        "372832196807050242",
        "6228480312345678901",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("372832********0242"), "masked ID shown");
}

#[test]
fn the_reader_can_move_to_another_thread() {
    fn send<T: Send>() {}
    send::<CensusReader>();
    send::<CensusError>();
}

// ---------------------------------------------------------------- row rules

#[test]
fn wrong_check_character_names_row_column_and_expected_character() {
    let mut rows = bereaved("F");
    rows[0].set("公民身份号码", "372832196807050243");
    let errors = errors_of(&rows);
    assert_eq!(
        errors,
        vec![err(2, "公民身份号码", "校验位错误：应为 2，实为 3")]
    );
    assert_eq!(
        errors[0].to_string(),
        "第 2 行「公民身份号码」：校验位错误：应为 2，实为 3"
    );
}

#[test]
fn id_number_disagreeing_with_the_birth_date_is_reported() {
    let mut rows = bereaved("F");
    rows[0].set("出生日期", "1968-07-06");
    assert_eq!(
        errors_of(&rows),
        vec![err(
            2,
            "公民身份号码",
            "出生日期不一致：号码为 1968-07-05，申报为 1968-07-06"
        )]
    );
}

#[test]
fn mother_must_be_female_and_father_male() {
    let mut rows = bereaved("F");
    rows[0].set("性别", "男");
    rows[1].set("性别", "女");
    assert_eq!(
        errors_of(&rows),
        vec![
            err(2, "性别", "成员关系为母亲，性别应为女"),
            err(
                2,
                "公民身份号码",
                "性别不一致：号码为女（顺序码 024 为偶数），申报为男"
            ),
            err(3, "性别", "成员关系为父亲，性别应为男"),
            err(
                3,
                "公民身份号码",
                "性别不一致：号码为男（顺序码 017 为奇数），申报为女"
            ),
        ]
    );
}

#[test]
fn sex_must_be_male_or_female() {
    let mut rows = bereaved("F");
    rows[2].set("性别", "F");
    assert_eq!(
        errors_of(&rows),
        vec![err(4, "性别", "应为「男」或「女」，实为「F」")]
    );
}

#[test]
fn parents_and_guardians_need_an_id_number() {
    let mut rows = bereaved("F");
    rows[0].set("公民身份号码", "");
    let mut guardian = rows[1].clone();
    guardian
        .set("成员关系", "监护人")
        .set("公民身份号码", "")
        .set("姓名", "周某");
    rows.push(guardian);
    assert_eq!(
        errors_of(&rows),
        vec![
            err(2, "公民身份号码", "母亲行必填，不能为空"),
            err(5, "公民身份号码", "监护人行必填，不能为空"),
        ]
    );
}

#[test]
fn required_cells_must_not_be_blank() {
    let mut rows = bereaved("F");
    rows[2]
        .set("姓名", "")
        .set("出生日期", "")
        .set("户籍性质", "")
        .set("所在村居代码", "");
    assert_eq!(
        errors_of(&rows),
        vec![
            err(4, "姓名", "必填，不能为空"),
            err(4, "出生日期", "必填，不能为空"),
            err(4, "户籍性质", "必填，不能为空"),
            err(4, "所在村居代码", "必填，不能为空"),
        ]
    );
}

#[test]
fn dates_must_be_real() {
    let mut rows = bereaved("F");
    rows[1].set("死亡日期", "2020年13月1日");
    rows[2]
        .set("公民身份号码", "")
        .set("出生日期", "1999-02-30");
    rows[0].set("死亡日期", "2020-5");
    assert_eq!(
        errors_of(&rows),
        vec![
            err(
                2,
                "死亡日期",
                "「2020-5」不是有效日期，应写成 YYYY-MM-DD（如 1965-03-12）"
            ),
            err(3, "死亡日期", "2020-13-01 不是真实存在的日期"),
            err(4, "出生日期", "1999-02-30 不是真实存在的日期"),
        ]
    );
}

#[test]
fn death_date_before_birth_or_in_the_future_is_refused() {
    let mut rows = bereaved("F");
    rows[2].set("死亡日期", "1998-12-31");
    rows[1].set("死亡日期", "2026-07-01");
    assert_eq!(
        errors_of(&rows),
        vec![
            err(3, "死亡日期", "2026-07-01 晚于今天（2026-06-30）"),
            err(4, "死亡日期", "1998-12-31 早于出生日期 1999-01-01"),
        ]
    );
}

#[test]
fn birth_date_in_the_future_is_refused() {
    let mut rows = bereaved("F");
    rows[2]
        .set("公民身份号码", "")
        .set("出生日期", "2027-01-01");
    assert_eq!(
        errors_of(&rows),
        vec![err(4, "出生日期", "2027-01-01 晚于今天（2026-06-30）")]
    );
}

#[test]
fn disability_grade_must_be_1_to_4() {
    let mut rows = bereaved("F");
    rows[2]
        .set("残疾等级", "5")
        .set("残疾评定日期", "2010-01-01");
    assert_eq!(
        errors_of(&rows),
        vec![err(4, "残疾等级", "应为 1–4，实为「5」")]
    );
}

#[test]
fn disability_grade_and_assessment_date_go_together() {
    let mut rows = bereaved("F");
    rows[2].set("残疾等级", "3");
    assert_eq!(
        errors_of(&rows),
        vec![err(4, "残疾评定日期", "填写了残疾等级，须填写残疾评定日期")]
    );
    let mut rows = bereaved("F");
    rows[2].set("残疾评定日期", "2010-01-01");
    assert_eq!(
        errors_of(&rows),
        vec![err(4, "残疾等级", "填写了残疾评定日期，须填写残疾等级")]
    );
}

#[test]
fn disability_assessed_before_birth_is_refused() {
    let mut rows = bereaved("F");
    rows[2]
        .set("残疾等级", "1")
        .set("残疾评定日期", "1998-01-01");
    assert_eq!(
        errors_of(&rows),
        vec![err(4, "残疾评定日期", "1998-01-01 早于出生日期 1999-01-01")]
    );
}

#[test]
fn only_the_child_row_may_carry_disability_columns() {
    let mut rows = bereaved("F");
    rows[0]
        .set("残疾等级", "2")
        .set("残疾评定日期", "2010-01-01")
        .set("残疾证号", "X1");
    assert_eq!(
        errors_of(&rows),
        vec![
            err(2, "残疾等级", "只有子女行可填写残疾信息"),
            err(2, "残疾评定日期", "只有子女行可填写残疾信息"),
            err(2, "残疾证号", "只有子女行可填写残疾信息"),
        ]
    );
}

#[test]
fn later_child_date_only_on_mother_or_father_rows() {
    let mut rows = bereaved("F");
    rows[2].set("再生育或收养日期", "2021-01-01");
    assert_eq!(
        errors_of(&rows),
        vec![err(
            4,
            "再生育或收养日期",
            "只有母亲或父亲行可填写再生育或收养日期"
        )]
    );
    let mut rows = bereaved("F");
    rows[0].set("再生育或收养日期", "1960-01-01");
    assert_eq!(
        errors_of(&rows),
        vec![err(
            2,
            "再生育或收养日期",
            "1960-01-01 早于出生日期 1968-07-05"
        )]
    );
}

#[test]
fn phone_and_account_numbers_must_have_enough_digits() {
    let mut rows = bereaved("F");
    rows[0]
        .set("联系电话", "138-05")
        .set("银行账号", "6228-4803");
    assert_eq!(
        errors_of(&rows),
        vec![
            err(
                2,
                "联系电话",
                "应为 7–15 位数字（可带 +86、空格、连字符），实为「138-05」"
            ),
            err(
                2,
                "银行账号",
                "应为 10–30 位数字（可含空格），实为「6228-4803」"
            ),
        ]
    );
}

#[test]
fn yes_no_columns_take_only_yes_or_no() {
    let mut rows = bereaved("F");
    rows[1].set("五保", "有");
    assert_eq!(
        errors_of(&rows),
        vec![err(
            3,
            "五保",
            "应为「是」或「否」（空白视为否），实为「有」"
        )]
    );
}

#[test]
fn village_code_must_be_a_linyi_village() {
    let mut rows = bereaved("F");
    rows[0].set("所在村居代码", "371302001999");
    rows[1].set("所在村居代码", "3713020010");
    assert_eq!(
        errors_of(&rows),
        vec![
            err(2, "所在村居代码", "371302001999 不是临沂市的村居代码"),
            err(3, "所在村居代码", "应为 12 位数字，实为「3713020010」"),
        ]
    );
}

#[test]
fn relation_must_be_one_of_the_four_words() {
    let mut rows = bereaved("F");
    rows[2].set("成员关系", "女儿");
    assert_eq!(
        errors_of(&rows),
        vec![err(
            4,
            "成员关系",
            "应为「母亲」「父亲」「子女」或「监护人」，实为「女儿」"
        )]
    );
}

// ---------------------------------------------------------------- family rules

#[test]
fn a_family_without_a_child_row_is_refused() {
    let rows = bereaved("F")[..2].to_vec();
    assert_eq!(
        errors_of(&rows),
        vec![err(
            2,
            "成员关系",
            "本家庭没有「子女」行；每个家庭须有且只有一行子女"
        )]
    );
}

#[test]
fn a_second_child_mother_or_father_names_the_first() {
    let mut rows = bereaved("F");
    let mut second_child = rows[2].clone();
    second_child.set("公民身份号码", "");
    let mut second_mother = rows[0].clone();
    second_mother
        .set("公民身份号码", &id("371302", "1970-01-01", 2))
        .set("出生日期", "1970-01-01");
    rows.push(second_child);
    rows.push(second_mother);
    assert_eq!(
        errors_of(&rows),
        vec![
            err(
                5,
                "成员关系",
                "本家庭已有子女（第 4 行）；每个家庭只能有一行子女"
            ),
            err(
                6,
                "成员关系",
                "本家庭已有母亲（第 2 行）；每个家庭只能有一行母亲"
            ),
        ]
    );
}

#[test]
fn several_guardians_are_allowed() {
    let mut rows = bereaved("F");
    for (seq, birth) in [(2, "1950-01-01"), (3, "1951-01-01")] {
        let mut g = rows[1].clone();
        g.set("成员关系", "监护人")
            .set("性别", if seq % 2 == 0 { "女" } else { "男" })
            .set("公民身份号码", &id("371302", birth, seq))
            .set("出生日期", birth);
        rows.push(g);
    }
    assert_eq!(errors_of(&rows), vec![]);
}

#[test]
fn all_rows_of_a_family_share_household_registration_and_village() {
    let mut rows = bereaved("F");
    rows[1].set("户籍性质", "城镇");
    rows[2].set("所在村居代码", "371302001002");
    assert_eq!(
        errors_of(&rows),
        vec![
            err(3, "户籍性质", "与本家庭第 2 行不一致（农村），全家应相同"),
            err(
                4,
                "所在村居代码",
                "与本家庭第 2 行不一致（371302001001），全家应相同"
            ),
        ]
    );
}

#[test]
fn a_family_number_seen_before_other_families_is_refused() {
    let mut rows = bereaved("A");
    rows.extend(disabled_family());
    let mut again = bereaved("A");
    for (row, (address, birth, seq)) in again.iter_mut().zip([
        ("371302", "1969-01-01", 2),
        ("371302", "1966-01-01", 3),
        ("371302", "1999-01-01", 4),
    ]) {
        row.set("公民身份号码", &id(address, birth, seq))
            .set("出生日期", birth);
    }
    rows.extend(again);
    let dir = TempDir::new().expect("tempdir");
    let (families, errors) = read_all(&write_csv(&dir, &rows));
    assert_eq!(families.len(), 2);
    assert_eq!(
        errors,
        vec![err(
            8,
            "家庭编号",
            "家庭编号「A」已在第 2 行出现；同一家庭的各行须连续排列"
        )]
    );
}

#[test]
fn a_row_without_a_family_number_stands_alone() {
    let mut rows = bereaved("F");
    rows[1].set("家庭编号", "");
    let dir = TempDir::new().expect("tempdir");
    let reader = CensusReader::open(&write_csv(&dir, &rows), today()).expect("open");
    let results: Vec<_> = reader.collect();
    assert_eq!(results.len(), 3, "F (mother), the blank row, F again");
    assert_eq!(results[1], Err(vec![err(3, "家庭编号", "必填，不能为空")]));
    assert!(results[0].is_err(), "row 2 alone has no child");
}

#[test]
fn the_same_id_number_twice_names_the_first_row() {
    let mut rows = bereaved("A");
    let mut other = disabled_family();
    other[0]
        .set("公民身份号码", "372832196807050242")
        .set("出生日期", "1968-07-05");
    rows.extend(other);
    let dir = TempDir::new().expect("tempdir");
    let (families, errors) = read_all(&write_csv(&dir, &rows));
    assert_eq!(families.len(), 1);
    assert_eq!(
        errors,
        vec![err(5, "公民身份号码", "与第 2 行的公民身份号码重复")]
    );
}

#[test]
fn a_legacy_number_duplicating_its_18_character_form_is_a_duplicate() {
    let mut rows = bereaved("A");
    let mut guardian = rows[1].clone();
    guardian
        .set("成员关系", "监护人")
        .set("公民身份号码", "372822650312017");
    rows.push(guardian);
    assert_eq!(
        errors_of(&rows),
        vec![err(5, "公民身份号码", "与第 3 行的公民身份号码重复")]
    );
}

// ---------------------------------------------------------------- encodings and layout

#[test]
fn gbk_encoded_csv_with_chinese_headers_reads_correctly() {
    let text = csv_text(&HEADERS, &bereaved("临-001"));
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    let dir = TempDir::new().expect("tempdir");
    let (families, errors) = read_all(&write_file(&dir, "gbk.csv", &bytes));
    assert_eq!(errors, vec![]);
    assert_eq!(families[0].family_no, "临-001");
    assert_eq!(families[0].members[0].name, "王秀英");
    assert_eq!(
        families[0].members[0].bank_name.as_deref(),
        Some("临沂农商银行兰山支行")
    );
}

#[test]
fn utf8_csv_with_a_bom_reads_correctly() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(csv_text(&HEADERS, &bereaved("F")).as_bytes());
    let dir = TempDir::new().expect("tempdir");
    let (families, errors) = read_all(&write_file(&dir, "bom.csv", &bytes));
    assert_eq!(errors, vec![]);
    assert_eq!(families.len(), 1);
    assert_eq!(families[0].family_no, "F");
}

#[test]
fn headers_match_in_any_order_with_full_width_spaces_and_extra_columns() {
    let mut headers: Vec<&str> = HEADERS.iter().rev().copied().collect();
    headers.insert(3, "序号");
    let text = csv_text(&headers, &bereaved("F"))
        .replacen("姓名", "\u{3000}姓名 ", 1)
        .replacen("家庭编号", " 家庭编号\u{3000}", 1);
    let dir = TempDir::new().expect("tempdir");
    let (families, errors) = read_all(&write_file(&dir, "order.csv", text.as_bytes()));
    assert_eq!(errors, vec![]);
    assert_eq!(families[0].members[0].name, "王秀英");
}

#[test]
fn title_row_comment_row_blank_lines_and_line_breaks_in_cells_keep_excel_row_numbers() {
    let mut rows = bereaved("F");
    rows[0].set("备注", "第一行\n第二行");
    rows[2].set("死亡日期", "2030-01-01");
    let body = csv_text(&HEADERS, &rows);
    let (header, data) = body.split_once('\n').expect("header line");
    let comment = format!("说明（本行不导入）：必填{}", ",".repeat(HEADERS.len() - 1));
    // Row 1 title, row 2 header, row 3 comment, row 4 blank, rows 5-7 the family.
    let text = format!("临沂市计划生育特殊家庭普查表\n{header}\n{comment}\n\n{data}");
    let dir = TempDir::new().expect("tempdir");
    let path = write_file(&dir, "title.csv", text.as_bytes());
    let (families, errors) = read_all(&path);
    assert!(families.is_empty());
    assert_eq!(
        errors,
        vec![err(7, "死亡日期", "2030-01-01 晚于今天（2026-06-30）")]
    );
}

#[test]
fn the_comment_row_is_skipped_only_as_the_first_data_row() {
    let mut rows = bereaved("F");
    let mut late_comment = rows[0].clone();
    late_comment.set("家庭编号", "说明：不是第一行");
    rows.push(late_comment);
    let dir = TempDir::new().expect("tempdir");
    let (families, errors) = read_all(&write_csv(&dir, &rows));
    assert_eq!(families.len(), 1);
    assert!(
        errors.iter().all(|e| e.row == 5),
        "row 5 is data: {errors:?}"
    );
    assert!(!errors.is_empty());
}

#[test]
fn an_xlsx_id_number_stored_as_a_number_is_called_out() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("numeric.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, h) in (0u16..).zip(HEADERS) {
        sheet.write_string(0, c, h).expect("header");
    }
    for (r, row) in (1u32..).zip(bereaved("F")) {
        for (c, h) in (0u16..).zip(HEADERS) {
            let v = row.get(h);
            if h == "公民身份号码" && r == 1 {
                sheet
                    .write_number(r, c, 372832196807050242.0)
                    .expect("number");
            } else if h == "所在村居代码" {
                sheet.write_number(r, c, 371302001001.0).expect("number");
            } else if !v.is_empty() {
                sheet.write_string(r, c, v).expect("cell");
            }
        }
    }
    workbook.save(&path).expect("save");
    let (_, errors) = read_all(&path);
    assert_eq!(
        errors,
        vec![err(
            2,
            "公民身份号码",
            "单元格为数字格式，Excel 只保留 15 位有效数字，号码已失真；请把该列设为文本格式后重新填写"
        )],
        "a 12-digit village code stored as a number is fine"
    );
}

// ---------------------------------------------------------------- file-level errors

#[test]
fn a_broken_xlsx_is_a_file_error() {
    let dir = TempDir::new().expect("tempdir");
    let bytes: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let e = open_error(&write_file(&dir, "broken.xlsx", &bytes));
    assert!(matches!(e, CensusError::BrokenXlsx { .. }), "{e:?}");
    assert!(e.to_string().starts_with("XLSX 文件已损坏"), "{e}");
}

#[test]
fn an_unsupported_extension_is_a_file_error() {
    let dir = TempDir::new().expect("tempdir");
    let e = open_error(&write_file(&dir, "old.xls", b"whatever"));
    assert!(
        matches!(&e, CensusError::UnsupportedExtension { extension } if extension == ".xls"),
        "{e:?}"
    );
}

#[test]
fn a_missing_file_is_unreadable() {
    let dir = TempDir::new().expect("tempdir");
    let e = open_error(&dir.path().join("absent.csv"));
    assert!(matches!(e, CensusError::Unreadable { .. }), "{e:?}");
}

#[test]
fn missing_columns_are_named() {
    let headers: Vec<&str> = HEADERS
        .iter()
        .copied()
        .filter(|h| *h != "公民身份号码" && *h != "出生日期")
        .collect();
    let dir = TempDir::new().expect("tempdir");
    let path = write_file(
        &dir,
        "missing.csv",
        csv_text(&headers, &bereaved("F")).as_bytes(),
    );
    let e = open_error(&path);
    assert!(
        matches!(&e, CensusError::MissingColumns { sheet: None, missing }
            if *missing == ["公民身份号码", "出生日期"]),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "缺少必填列：公民身份号码、出生日期 / missing required column(s): 公民身份号码, 出生日期"
    );

    let rows = bereaved("F");
    let xlsx = write_xlsx(&dir, "missing.xlsx", &[("普查", &headers, &rows)], false);
    let e = open_error(&xlsx);
    assert!(
        matches!(&e, CensusError::MissingColumns { sheet: Some(s), missing }
            if s == "普查" && *missing == ["公民身份号码", "出生日期"]),
        "{e:?}"
    );
}

#[test]
fn an_xlsx_whose_only_sheet_lacks_the_headers_names_the_sheet() {
    let dir = TempDir::new().expect("tempdir");
    let rows = [Row::new(&[("姓名", "王秀英"), ("年龄", "58")])];
    let path = write_xlsx(
        &dir,
        "wrong.xlsx",
        &[("Sheet1", &["姓名", "年龄"], &rows)],
        false,
    );
    let e = open_error(&path);
    let CensusError::NoSheetWithHeaders { sheets } = &e else {
        panic!("{e:?}");
    };
    assert_eq!(sheets.len(), 1);
    assert_eq!(sheets[0].0, "Sheet1");
    assert_eq!(
        sheets[0].1,
        [
            "家庭编号",
            "成员关系",
            "性别",
            "公民身份号码",
            "出生日期",
            "户籍性质",
            "所在村居代码"
        ]
    );
    assert!(e.to_string().contains("「Sheet1」缺少 家庭编号"), "{e}");
}

#[test]
fn xlsx_prefers_the_census_sheet_else_the_first_with_the_headers() {
    let dir = TempDir::new().expect("tempdir");
    let notes = [Row::new(&[("说明", "请填写普查表")])];
    let family = bereaved("F");
    let path = write_xlsx(
        &dir,
        "two.xlsx",
        &[("填表说明", &["说明"], &notes), ("数据", &HEADERS, &family)],
        false,
    );
    let (families, errors) = read_all(&path);
    assert_eq!((families.len(), errors.len()), (1, 0));

    let other = disabled_family();
    let path = write_xlsx(
        &dir,
        "preferred.xlsx",
        &[("旧表", &HEADERS, &family), ("普查", &HEADERS, &other)],
        false,
    );
    let (families, _) = read_all(&path);
    assert_eq!(families[0].family_no, "YN-002");
}

#[test]
fn an_empty_csv_has_no_header_row() {
    let dir = TempDir::new().expect("tempdir");
    let e = open_error(&write_file(&dir, "empty.csv", b""));
    assert!(matches!(e, CensusError::NoHeaderRow), "{e:?}");
}

#[test]
fn a_csv_in_neither_utf8_nor_gb18030_is_not_decodable() {
    let header = csv_text(&HEADERS, &[]);
    let mut bytes = encoding_rs::GBK.encode(&header).0.into_owned();
    bytes.extend_from_slice(b"A,\x81\x20,x\n");
    let dir = TempDir::new().expect("tempdir");
    let e = open_error(&write_file(&dir, "garbled.csv", &bytes));
    assert!(
        matches!(e, CensusError::CsvNotDecodable { row: 2, .. }),
        "{e:?}"
    );
}

// ---------------------------------------------------------------- template and report

#[test]
fn the_template_round_trips_to_no_families_and_no_errors() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("template.xlsx");
    write_template(&path).expect("template");
    let reader = CensusReader::open(&path, today()).expect("open template");
    let items: Vec<_> = reader.collect();
    assert!(items.is_empty(), "{items:?}");

    use calamine::Reader as _;
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(&path).expect("calamine");
    assert_eq!(workbook.sheet_names(), ["普查"]);
    let range = workbook.worksheet_range("普查").expect("sheet");
    let header: Vec<String> = (0..23)
        .map(|c| {
            range
                .get_value((0, c))
                .map(|v| v.to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(header, HEADERS);
    let comment = range
        .get_value((1, 0))
        .map(|v| v.to_string())
        .unwrap_or_default();
    assert!(comment.starts_with("说明"), "{comment}");
}

#[test]
fn the_error_report_writes_xlsx_and_csv_with_a_bom() {
    let errors = vec![
        err(7, "公民身份号码", "校验位错误：应为 3，实为 4"),
        err(9, "", "本家庭没有「子女」行"),
    ];
    let dir = TempDir::new().expect("tempdir");

    let csv_path = dir.path().join("errors.csv");
    write_error_report(&csv_path, &errors).expect("csv report");
    let bytes = std::fs::read(&csv_path).expect("read");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = std::str::from_utf8(&bytes[3..]).expect("utf-8");
    assert_eq!(
        text,
        "行号,列,原因\n7,公民身份号码,校验位错误：应为 3，实为 4\n9,,本家庭没有「子女」行\n"
    );

    let xlsx_path = dir.path().join("errors.xlsx");
    write_error_report(&xlsx_path, &errors).expect("xlsx report");
    use calamine::Reader as _;
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(&xlsx_path).expect("calamine");
    let range = workbook.worksheet_range("错误").expect("sheet");
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(
        rows,
        vec![
            vec!["行号", "列", "原因"],
            vec!["7", "公民身份号码", "校验位错误：应为 3，实为 4"],
            vec!["9", "", "本家庭没有「子女」行"],
        ]
    );

    let e = write_error_report(&dir.path().join("errors.txt"), &errors).expect_err("txt");
    assert!(matches!(e, CensusError::UnsupportedExtension { .. }));
}

// ---------------------------------------------------------------- streaming

#[test]
fn xlsx_streams_many_rows_and_stops_cleanly_when_dropped_early() {
    let mut rows = Vec::new();
    for n in 0..1500u16 {
        let mut family = bereaved(&format!("F{n}"));
        for (row, (birth, seq)) in family.iter_mut().zip([
            ("1968-07-05", n * 2 % 1000),
            ("1965-03-12", (n * 2 + 1) % 1000),
            ("1999-01-01", n * 2 % 1000),
        ]) {
            let birth = d(birth)
                .checked_add(jiff::Span::new().days(i64::from(n / 500)))
                .expect("date");
            let text = birth.to_string();
            row.set("公民身份号码", &id("371302", &text, seq))
                .set("出生日期", &text);
        }
        rows.extend(family);
    }
    let dir = TempDir::new().expect("tempdir");
    let path = write_xlsx(&dir, "many.xlsx", &[("普查", &HEADERS, &rows)], false);

    let mut reader = CensusReader::open(&path, today()).expect("open");
    assert_eq!(reader.total_rows(), Some(4500));
    let first = reader.next().expect("first").expect("valid");
    assert_eq!(first.family_no, "F0");
    drop(reader);

    let (families, errors) = read_all(&path);
    assert_eq!(errors, vec![]);
    assert_eq!(families.len(), 1500);
    assert_eq!(families[1499].first_row, 4499);
}
