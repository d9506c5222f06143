//! The payment side through the real binary over a real archive: a month's run from build to
//! close with four eyes, bank files and a bank return file, the ledger, a line explained, a
//! funeral claim, the forecast — and a run killed half-way that leaves nothing behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use guanai_rules::{ResidentId, parse_date};

fn guanai(data: &Path, operator: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_guanai"));
    c.env_remove("GUANAI_KEY")
        .env_remove("GUANAI_DATABASE_URL")
        .env_remove("GUANAI_KEY_FILE")
        .env("GUANAI_DATA_DIR", data)
        .env("GUANAI_OPERATOR", operator);
    c
}

fn run(data: &Path, operator: &str, args: &[&str]) -> Output {
    guanai(data, operator)
        .args(args)
        .output()
        .expect("guanai runs")
}

fn ok(data: &Path, operator: &str, args: &[&str]) -> String {
    let o = run(data, operator, args);
    assert!(
        o.status.success(),
        "guanai {args:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn refused(data: &Path, operator: &str, args: &[&str]) -> String {
    let o = run(data, operator, args);
    assert_eq!(
        o.status.code(),
        Some(1),
        "guanai {args:?}: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const HEADER: &str = "家庭编号,成员关系,姓名,性别,公民身份号码,出生日期,户籍性质,所在村居代码,联系电话,开户银行,银行账号,低保,五保,慢性病,居住状况,独生子女父母光荣证号,死亡日期,死亡证明编号,再生育或收养日期,残疾等级,残疾评定日期,残疾证号,备注";
const VILLAGE: &str = "371321001003";

fn id(birth: &str, seq: u16) -> String {
    ResidentId::build("371321", parse_date(birth).expect("date"), seq)
        .expect("id")
        .as_str()
        .to_owned()
}

/// Bereaved couples; the mother of family `n` is born on a distinct day so ID numbers differ.
fn census(dir: &Path, families: u16) -> PathBuf {
    let mut text = format!("{HEADER}\n");
    for n in 0..families {
        let day = format!("{:02}-{:02}", 1 + (n / 20) % 12, 1 + (n / 240) % 28);
        let born = format!("{}-{day}", 1950 + n % 20);
        let father = format!("{}-{day}", 1945 + n % 20);
        text.push_str(&format!(
            "P-{n:05},母亲,王秀英,女,{},{born},农村,{VILLAGE},,中国农业银行沂南支行,62284800{:011},,,,,,,,,,,,\n",
            id(&born, 2),
            n
        ));
        text.push_str(&format!(
            "P-{n:05},父亲,李建国,男,{},{father},农村,{VILLAGE},,,,,,,,,,,,,,,\n",
            id(&father, 3)
        ));
        text.push_str(&format!(
            "P-{n:05},子女,李明,男,,1984-06-01,农村,{VILLAGE},,,,,,,,,2009-08-17,,,,,,\n"
        ));
    }
    let path = dir.join("census.csv");
    std::fs::write(&path, text).expect("write");
    path
}

/// The bank's answer: every exported line paid.
fn all_paid(out: &Path) -> PathBuf {
    let mut text = String::from("业务参考号,户名,账号,金额(元),状态,失败原因\n");
    for entry in std::fs::read_dir(out).expect("dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) == Some("csv") {
            let csv = std::fs::read_to_string(&path).expect("csv");
            for line in csv.trim_start_matches('\u{feff}').lines().skip(1) {
                let c: Vec<&str> = line.split(',').collect();
                if c[0] != "合计" {
                    text.push_str(&format!("{},{},{},{},成功,\n", c[1], c[2], c[3], c[5]));
                }
            }
        }
    }
    let path = out.join("return.csv");
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn a_month_from_build_to_close_through_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let csv = census(dir.path(), 3);
    ok(&data, "普查员", &["import", csv.to_str().expect("path")]);
    ok(
        &data,
        "财政",
        &[
            "pay",
            "payer",
            "--county",
            "371321",
            "--name",
            "沂南县财政局",
            "--account",
            "37001626800050123456",
            "--bank",
            "中国农业银行沂南支行",
        ],
    );
    let built = ok(
        &data,
        "张三",
        &[
            "pay",
            "run",
            "--month",
            "2026-10",
            "--ledger-start",
            "2026-10",
        ],
    );
    assert!(built.contains("发放批次 202610-all-1"), "{built}");
    assert!(built.contains("明细 6 条"), "{built}");
    // The fathers have no bank account: the run cannot be checked until they are held.
    let problems = run(&data, "张三", &["pay", "problems", "202610-all-1"]);
    assert_eq!(problems.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&problems.stdout).contains("没有银行账户"));
    let err = refused(&data, "张三", &["pay", "check", "202610-all-1"]);
    assert!(err.contains("3 blocking problem(s)"), "{err}");
    ok(
        &data,
        "张三",
        &["pay", "check", "202610-all-1", "--hold", "父亲账户待补录"],
    );
    let err = refused(&data, "张三", &["pay", "approve", "202610-all-1"]);
    assert!(err.contains("must be approved by someone else"), "{err}");
    ok(&data, "李四", &["pay", "approve", "202610-all-1"]);
    // Nothing new when run again.
    let again = ok(&data, "张三", &["pay", "run", "--month", "2026-10"]);
    assert!(again.contains("无新增发放"), "{again}");
    let out = dir.path().join("bank");
    let exported = ok(
        &data,
        "李四",
        &[
            "pay",
            "export",
            "202610-all-1",
            "--out",
            out.to_str().expect("path"),
            "--execution-date",
            "2026-10-25",
        ],
    );
    assert!(exported.contains("共 3 笔，1770.00 元"), "{exported}");
    let ret = all_paid(&out);
    let imported = ok(
        &data,
        "李四",
        &[
            "pay",
            "import-results",
            "202610-all-1",
            ret.to_str().expect("path"),
        ],
    );
    assert!(imported.contains("到账 3 笔，1770.00 元"), "{imported}");
    let err = refused(
        &data,
        "李四",
        &[
            "pay",
            "import-results",
            "202610-all-1",
            ret.to_str().expect("path"),
        ],
    );
    assert!(err.contains("already imported"), "{err}");
    ok(&data, "李四", &["pay", "close", "202610-all-1"]);
    let list = ok(&data, "李四", &["pay", "list"]);
    assert!(
        list.contains("202610-all-1\t2026-10\tall\t已关闭"),
        "{list}"
    );
    let shown = ok(&data, "李四", &["pay", "show", "202610-all-1", "--lines"]);
    assert!(
        shown.contains("失独家庭特别扶助金\t当月\t590.00\t590.00\t0.00"),
        "{shown}"
    );
    let explained = ok(&data, "李四", &["pay", "explain", "202610-all-1", "1"]);
    assert!(explained.contains("二(二)"), "{explained}");
    assert!(
        explained.contains("应发 590.00 − 原已入账 0.00 = 590.00 元"),
        "{explained}"
    );
    let balance = ok(&data, "李四", &["ledger", "balance"]);
    assert!(
        balance.contains("上级特扶资金\tfunding:higher\t3540.00"),
        "{balance}"
    );
    assert!(
        balance.contains("银行已付\tbank:paid\t0.00\t1770.00"),
        "{balance}"
    );
    let reconciled = ok(&data, "李四", &["ledger", "reconcile"]);
    assert!(reconciled.contains("差异 0 处"), "{reconciled}");
    let mother = id("1950-01-01", 2);
    let statement = ok(&data, "李四", &["ledger", "statement", &mother]);
    assert!(statement.contains("应付未付 590.00 元"), "{statement}");
    let forecast = ok(
        &data,
        "李四",
        &[
            "forecast",
            "--from",
            "2027-01",
            "--months",
            "12",
            "--mortality-ppb",
            "0",
        ],
    );
    assert!(forecast.contains("总计 42480.00 元"), "{forecast}");
    let audit = ok(&data, "李四", &["family", "show", &mother]);
    assert!(audit.contains("王秀英"), "{audit}");
}

#[test]
fn a_run_killed_half_way_leaves_nothing_behind() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("tempdir");
    let imported = dir.path().join("imported");
    let csv = census(dir.path(), 3000);
    ok(
        &imported,
        "普查员",
        &["import", csv.to_str().expect("path")],
    );
    // The build says on stderr when its first rows are in the open transaction; it is killed
    // right then, with the rest of the families still to plan and write. Should the kill come too late on a
    // loaded machine (the run already committed), the run must be whole, and a fresh copy is
    // tried again.
    for attempt in 0..3 {
        let data = dir.path().join(format!("attempt-{attempt}"));
        std::fs::create_dir_all(&data).expect("copy dir");
        for f in ["guanai.db", "guanai.key"] {
            std::fs::copy(imported.join(f), data.join(f)).expect("copy");
        }
        let mut child = guanai(&data, "张三")
            .args([
                "pay",
                "run",
                "--month",
                "2026-10",
                "--ledger-start",
                "2026-10",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start");
        let stderr = child.stderr.take().expect("stderr piped");
        let mut told = Vec::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.expect("stderr line");
            let writing = line.starts_with("已计算并写入");
            told.push(line);
            if writing {
                break;
            }
        }
        child.kill().ok();
        child.wait().expect("reaped");
        assert!(
            told.iter().any(|l| l.starts_with("已计算并写入")),
            "the build never said it was writing: {told:?}"
        );
        let list = ok(&data, "张三", &["pay", "list"]);
        if list.lines().count() == 2 {
            // Committed before the kill landed: it must be the whole run.
            assert!(list.contains("\t6000\t"), "a run that is not whole: {list}");
            continue;
        }
        assert_eq!(
            list.lines().count(),
            1,
            "a killed run left something: {list}"
        );
        let reconciled = ok(&data, "张三", &["ledger", "reconcile"]);
        assert!(reconciled.contains("发放明细 0 条"), "{reconciled}");
        // And the month can be built as if nothing happened.
        let built = ok(&data, "张三", &["pay", "run", "--month", "2026-10"]);
        assert!(built.contains("明细 6000 条"), "{built}");
        let reconciled = ok(&data, "张三", &["ledger", "reconcile"]);
        assert!(reconciled.contains("差异 0 处"), "{reconciled}");
        return;
    }
    panic!("three builds committed before they could be killed");
}
