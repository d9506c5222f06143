//! Drives the real binary over a real archive: census import (all-or-nothing, partial,
//! idempotent, killed mid-way), the family file, corrections under optimistic concurrency,
//! masked and audited exports, backup and restore, death cross-checks and key rotation.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use guanai_rules::{CountyCode, ResidentId, Sex, VillageCode, parse_date};

fn guanai(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_guanai"));
    c.env_remove("GUANAI_KEY")
        .env_remove("GUANAI_DATABASE_URL")
        .env_remove("GUANAI_KEY_FILE")
        .env("GUANAI_DATA_DIR", data)
        .env("GUANAI_OPERATOR", "测试员");
    c
}

fn run(data: &Path, args: &[&str]) -> Output {
    guanai(data).args(args).output().expect("guanai runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const HEADER: &str = "家庭编号,成员关系,姓名,性别,公民身份号码,出生日期,户籍性质,所在村居代码,联系电话,开户银行,银行账号,低保,五保,慢性病,居住状况,独生子女父母光荣证号,死亡日期,死亡证明编号,再生育或收养日期,残疾等级,残疾评定日期,残疾证号,备注";

fn village() -> String {
    let county = CountyCode::parse("371321").expect("county");
    VillageCode::in_county(county)[0].to_string()
}

fn id(birth: &str, seq: u16, sex: Sex) -> String {
    let seq = if (seq % 2 == 1) == (sex == Sex::Male) {
        seq
    } else {
        seq + 1
    };
    ResidentId::build("371321", parse_date(birth).expect("date"), seq)
        .expect("id")
        .as_str()
        .to_owned()
}

/// A bereaved family: three rows.
fn bereaved_rows(no: &str, n: u16) -> Vec<String> {
    let v = village();
    vec![
        format!(
            "{no},母亲,王秀英,女,{},1960-04-12,农村,{v},13812345678,临沂农商银行,6222021234567890123,否,否,否,,GR-{n},,,,,,,",
            id("1960-04-12", n * 2, Sex::Female)
        ),
        format!(
            "{no},父亲,李建国,男,{},1958-01-30,农村,{v},,临沂农商银行,6222021234567890124,否,否,是,,GR-{n},,,,,,,",
            id("1958-01-30", n * 2 + 1, Sex::Male)
        ),
        format!("{no},子女,李明,男,,1984-06-01,农村,{v},,,,,,,,,2009-08-17,D-{n},,,,,"),
    ]
}

fn write_csv(dir: &Path, name: &str, rows: &[String]) -> PathBuf {
    let path = dir.join(name);
    let mut text = format!("{HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&path, text).expect("write csv");
    path
}

fn families_listed(data: &Path) -> usize {
    let o = run(data, &["family", "list", "--area", "3713"]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o).lines().count().saturating_sub(2)
}

#[test]
fn the_template_is_an_excel_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let template = dir.path().join("普查模板.xlsx");
    let o = run(
        dir.path(),
        &["import", "--template", template.to_str().expect("path")],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&template).expect("template");
    assert_eq!(&bytes[..2], b"PK", "an xlsx is a zip file");
}

#[test]
fn import_is_all_or_nothing_idempotent_and_partial_on_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut rows = bereaved_rows("YN-001", 1);
    rows.extend(bereaved_rows("YN-002", 2));
    let good = write_csv(dir.path(), "good.csv", &rows);
    let o = run(&data, &["import", good.to_str().expect("path")]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("新增 2 户"), "{}", stdout(&o));
    let key = data.join("guanai.key");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key).expect("key file").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the key file is created private");

    let again = run(&data, &["import", good.to_str().expect("path")]);
    assert!(again.status.success());
    assert!(
        stdout(&again).contains("新增 0 户，已存在未变 2 户"),
        "{}",
        stdout(&again)
    );
    assert_eq!(families_listed(&data), 2);

    let mut bad_rows = bereaved_rows("YN-003", 3);
    bad_rows.extend(bereaved_rows("YN-004", 4));
    bad_rows[4] = bad_rows[4].replace(",男,", ",女,");
    let bad = write_csv(dir.path(), "bad.csv", &bad_rows);
    let o = run(&data, &["import", bad.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("未写入任何数据"), "{}", stdout(&o));
    let report =
        std::fs::read_to_string(dir.path().join("bad.csv.errors.csv")).expect("error report");
    assert!(report.starts_with('\u{feff}'), "UTF-8 with BOM for Excel");
    assert!(
        report.contains("6,性别,成员关系为父亲，性别应为男"),
        "{report}"
    );
    assert_eq!(
        families_listed(&data),
        2,
        "nothing of the rejected file was written"
    );

    let o = run(&data, &["import", "--partial", bad.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("新增 1 户"), "{}", stdout(&o));
    assert_eq!(families_listed(&data), 3);
}

#[test]
fn a_person_already_in_the_archive_is_a_row_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let first = write_csv(dir.path(), "a.csv", &bereaved_rows("YN-001", 1));
    assert!(
        run(&data, &["import", first.to_str().expect("path")])
            .status
            .success()
    );
    let same_people = write_csv(dir.path(), "b.csv", &bereaved_rows("YN-009", 1));
    let o = run(&data, &["import", same_people.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("已登记在档案家庭"), "{}", stdout(&o));
}

fn family_id_of(data: &Path) -> String {
    let o = run(data, &["family", "list", "--area", "371321"]);
    stdout(&o)
        .lines()
        .nth(1)
        .and_then(|l| l.split('\t').next())
        .expect("a family")
        .to_owned()
}

fn version_of(show: &str) -> i64 {
    show.split("版本 ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("version shown")
}

#[test]
fn the_family_file_is_masked_until_revealed_and_edits_need_the_current_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let csv = write_csv(dir.path(), "a.csv", &bereaved_rows("YN-001", 1));
    assert!(
        run(&data, &["import", csv.to_str().expect("path")])
            .status
            .success()
    );
    let mother = id("1960-04-12", 2, Sex::Female);

    let o = run(&data, &["family", "show", &mother, "--month", "2014-12"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let shown = stdout(&o);
    assert!(
        !shown.contains(&mother)
            && shown.contains(
                &ResidentId::parse(&mother, parse_date("2026-11-30").expect("d"))
                    .expect("id")
                    .masked()
            )
    );
    assert!(
        !shown.contains("13812345678") && shown.contains("138****5678"),
        "{shown}"
    );
    assert!(
        shown.contains("失独家庭") && shown.contains("500.00") && shown.contains("二(二)"),
        "{shown}"
    );
    let version = version_of(&shown);

    let o = run(&data, &["family", "show", &mother, "--unmasked"]);
    assert_eq!(o.status.code(), Some(2), "--unmasked needs --reason");
    let o = run(
        &data,
        &[
            "family",
            "show",
            &mother,
            "--unmasked",
            "--reason",
            "核对银行账户",
        ],
    );
    assert!(stdout(&o).contains(&mother));

    let family = family_id_of(&data);
    let person = shown
        .lines()
        .find(|l| l.trim_start().starts_with("父亲"))
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("father's person id")
        .to_owned();
    let v = version.to_string();
    let o = run(
        &data,
        &[
            "family",
            "record",
            &family,
            "--person",
            &person,
            "--death",
            "2016-03-10",
            "--expected-version",
            &v,
            "--reason",
            "殡仪馆通报",
        ],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = run(
        &data,
        &[
            "family",
            "record",
            &family,
            "--person",
            &person,
            "--death",
            "2016-03-11",
            "--expected-version",
            &v,
            "--reason",
            "村居报告",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("changed by someone else"),
        "{}",
        stderr(&o)
    );

    let o = run(&data, &["family", "show", &family, "--month", "2016-04"]);
    let after = stdout(&o);
    assert_eq!(
        after.matches("特别扶助金 ").count(),
        1,
        "only the mother is paid after the father's death:\n{after}"
    );
    assert!(
        after.contains("殡仪馆通报") && after.contains("测试员"),
        "the history says who and why"
    );

    let backup = dir.path().join("backup.jsonl");
    assert!(
        run(&data, &["backup", backup.to_str().expect("path")])
            .status
            .success()
    );
    let text = std::fs::read_to_string(&backup).expect("backup");
    assert!(
        text.contains("\"action\":\"reveal\"") && text.contains("核对银行账户"),
        "the reveal is audited"
    );
    assert!(!text.contains(&mother), "backups hold sealed values only");
}

#[test]
fn exports_are_masked_unless_audited_and_backups_restore_elsewhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let csv = write_csv(dir.path(), "a.csv", &bereaved_rows("YN-001", 1));
    assert!(
        run(&data, &["import", csv.to_str().expect("path")])
            .status
            .success()
    );
    let mother = id("1960-04-12", 2, Sex::Female);
    let out = dir.path().join("export.csv");
    let o = run(
        &data,
        &[
            "export",
            "--area",
            "371321",
            "--format",
            "csv",
            "--output",
            out.to_str().expect("path"),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).expect("export");
    assert!(
        text.starts_with('\u{feff}')
            && text.contains("王秀英")
            && !text.contains(&mother)
            && text.contains("********")
    );
    let o = run(
        &data,
        &[
            "export",
            "--area",
            "371321",
            "--format",
            "csv",
            "--output",
            out.to_str().expect("path"),
            "--unmasked",
            "--reason",
            "县财政核对",
        ],
    );
    assert!(o.status.success());
    assert!(
        std::fs::read_to_string(&out)
            .expect("export")
            .contains(&mother)
    );

    let backup = dir.path().join("b.jsonl");
    assert!(
        run(&data, &["backup", backup.to_str().expect("path")])
            .status
            .success()
    );
    let other = dir.path().join("other");
    let key = data.join("guanai.key");
    let o = guanai(&other)
        .args([
            "--key-file",
            key.to_str().expect("path"),
            "restore",
            backup.to_str().expect("path"),
        ])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = guanai(&other)
        .args([
            "--key-file",
            key.to_str().expect("path"),
            "family",
            "show",
            &mother,
        ])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("王秀英"));
}

#[test]
fn reported_deaths_are_flagged_and_key_rotation_keeps_everything_readable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let csv = write_csv(dir.path(), "a.csv", &bereaved_rows("YN-001", 1));
    assert!(
        run(&data, &["import", csv.to_str().expect("path")])
            .status
            .success()
    );
    let mother = id("1960-04-12", 2, Sex::Female);
    let deaths = dir.path().join("deaths.csv");
    std::fs::write(
        &deaths,
        format!("公民身份号码,死亡日期,姓名\n{mother},2024-02-29,王秀英\n"),
    )
    .expect("write");
    let o = run(&data, &["match", "deaths", deaths.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("自 2024-03 起停发"), "{}", stdout(&o));

    let o = run(&data, &["key", "rotate", "--algorithm", "sm4-gcm"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("重新加密 6 条事实"),
        "ID numbers, phone, bank accounts, health: {}",
        stdout(&o)
    );
    let o = run(&data, &["family", "show", &mother]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("138****5678"));
}

#[test]
fn an_import_killed_midway_leaves_the_archive_as_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut rows = Vec::new();
    let v = village();
    for n in 0..6000u16 {
        // A distinct birth date per mother keeps every ID number unique.
        let day = format!(
            "{}-{:02}-{:02}",
            1940 + n % 30,
            1 + (n / 30) % 12,
            1 + (n / 360) % 28
        );
        let m = id(&day, 4, Sex::Female);
        rows.push(format!(
            "K-{n:05},母亲,王秀英,女,{m},{day},农村,{v},,,,,,,,,,,,,,,"
        ));
        rows.push(format!(
            "K-{n:05},子女,李明,男,,1984-06-01,农村,{v},,,,,,,,,2009-08-17,,,,,,"
        ));
    }
    let csv = write_csv(dir.path(), "big.csv", &rows);
    // First make sure the archive exists (and holds one family), then kill an import mid-way.
    let small = write_csv(dir.path(), "a.csv", &bereaved_rows("YN-001", 1));
    assert!(
        run(&data, &["import", small.to_str().expect("path")])
            .status
            .success()
    );
    let mut child = guanai(&data)
        .args(["import", csv.to_str().expect("path")])
        .spawn()
        .expect("start import");
    // Kill it once it has written for a while: the import takes seconds in a debug build.
    let wal = data.join("guanai.db-wal");
    let start = std::time::Instant::now();
    while std::fs::metadata(&wal).map_or(0, |m| m.len()) < 1_000_000
        && start.elapsed() < std::time::Duration::from_millis(800)
    {
        if child.try_wait().expect("poll").is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let finished_early = child.try_wait().expect("poll").is_some();
    child.kill().ok();
    child.wait().expect("reaped");
    assert!(
        !finished_early,
        "the import finished before it could be killed: make the file larger"
    );
    assert_eq!(
        families_listed(&data),
        1,
        "the killed import left nothing behind"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let pool =
            sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("guanai.db").display()))
                .await
                .expect("open");
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await
            .expect("check");
        assert_eq!(check, "ok");
        pool.close().await;
    });
    let o = run(&data, &["import", csv.to_str().expect("path")]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(families_listed(&data), 6001);
}

#[test]
fn contact_details_are_recorded_checked_and_sealed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let csv = write_csv(dir.path(), "a.csv", &bereaved_rows("YN-001", 1));
    assert!(
        run(&data, &["import", csv.to_str().expect("path")])
            .status
            .success()
    );
    let family = family_id_of(&data);
    let shown = stdout(&run(&data, &["family", "show", &family]));
    let version = version_of(&shown).to_string();
    let mother = shown
        .lines()
        .find(|l| l.trim_start().starts_with("母亲"))
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("mother's person id")
        .to_owned();
    let record = |extra: &[&str], version: &str| {
        let mut args = vec![
            "family",
            "record",
            family.as_str(),
            "--person",
            mother.as_str(),
            "--expected-version",
            version,
            "--reason",
            "本人申请变更",
        ];
        args.extend_from_slice(extra);
        run(&data, &args)
    };
    let o = record(&["--phone", "139-0000-1111"], &version);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = record(
        &["--bank-account", "中国农业银行临沂分行:6228480000000000017"],
        "2",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = record(&["--phone", "12"], "3");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--phone"), "{}", stderr(&o));
    let wrong_person = id("1958-01-30", 3, Sex::Male);
    let o = record(&["--id-number", &wrong_person], "3");
    assert_eq!(
        o.status.code(),
        Some(2),
        "an ID number of another birth date and sex is refused"
    );
    assert!(stderr(&o).contains("--id-number"), "{}", stderr(&o));
    let after = stdout(&run(&data, &["family", "show", &family]));
    assert!(
        after.contains("139****1111") && after.contains("6228 **** **** 0017"),
        "{after}"
    );
    assert!(
        after.contains("138****5678") && after.contains("[已被更正]"),
        "the old phone stays in the history, marked replaced"
    );
}

#[test]
fn help_never_shows_a_database_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = guanai(dir.path())
        .env("GUANAI_DATABASE_URL", "postgres://guanai:s3cret@db/guanai")
        .arg("--help")
        .output()
        .expect("runs");
    assert!(o.status.success());
    assert!(!stdout(&o).contains("s3cret"));
}
