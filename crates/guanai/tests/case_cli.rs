//! `guanai case …` and `guanai confirm …` through the real binary: families imported as
//! applications are not paid; one goes through village check, public notice, township review and
//! county approval by three different people and is then paid; steps out of order are refused
//! with the reason (exit 1); the re-confirmation list is opened and a parent confirmed.

use std::path::Path;
use std::process::{Command, Output};

fn guanai(data: &Path, operator: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guanai"))
        .env_remove("GUANAI_KEY")
        .env_remove("GUANAI_DATABASE_URL")
        .env_remove("GUANAI_KEY_FILE")
        .env("GUANAI_DATA_DIR", data)
        .env("GUANAI_OPERATOR", operator)
        .args(args)
        .output()
        .expect("guanai runs")
}

fn ok(data: &Path, operator: &str, args: &[&str]) -> String {
    let o = guanai(data, operator, args);
    assert!(
        o.status.success(),
        "guanai {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn refused(data: &Path, operator: &str, args: &[&str]) -> String {
    let o = guanai(data, operator, args);
    assert_eq!(
        o.status.code(),
        Some(1),
        "guanai {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
}

#[test]
fn an_application_from_intake_to_payment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let csv = dir.path().join("申请.csv");
    ok(
        &data,
        "x",
        &[
            "gen",
            "--format",
            "census-csv",
            "--count",
            "40",
            "--seed",
            "3",
            "--output",
            csv.to_str().expect("path"),
        ],
    );
    let week_ago = (today() - jiff::Span::new().days(8)).to_string();
    let imported = ok(
        &data,
        "受理员 王丽",
        &[
            "import",
            csv.to_str().expect("path"),
            "--as-applications",
            &week_ago,
            "--evidence",
            "申请表、户口簿、独生子女证",
        ],
    );
    assert!(imported.contains("40"), "{imported}");
    let month = today().strftime("%Y-%m").to_string();
    let run = ok(&data, "张三", &["pay", "run", "--month", &month]);
    assert!(
        run.contains("无新增发放"),
        "applications are not paid: {run}"
    );

    let list = ok(&data, "x", &["case", "list", "--status", "applied"]);
    assert!(list.contains("共 40 件"), "{list}");
    let ids: Vec<String> = list
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|id| id.starts_with('A'))
        .map(str::to_owned)
        .collect();
    assert_eq!(ids.len(), 40);

    // Out of order: approval first, review before the notice.
    for id in &ids {
        let early = refused(
            &data,
            "县审批 李四",
            &["case", "approve", "--application", id, "--evidence", "同意"],
        );
        assert!(early.contains("not its next step"), "{early}");
    }
    for id in &ids {
        ok(
            &data,
            "村专干 张丽",
            &[
                "case",
                "check",
                "--application",
                id,
                "--evidence",
                "入户核实属实",
                "--date",
                &week_ago,
            ],
        );
        ok(
            &data,
            "村专干 张丽",
            &["case", "notice", "--application", id, "--from", &week_ago],
        );
    }
    let shown = ok(&data, "x", &["case", "show", &ids[0]]);
    assert!(shown.contains("公示期"), "{shown}");
    let notice = ok(&data, "x", &["case", "notice-list", "--date", &week_ago]);
    assert!(notice.contains("共 40 户"), "{notice}");
    assert!(notice.contains('*'), "names are masked: {notice}");
    let bad_reject = refused(
        &data,
        "乡镇 孙强",
        &["case", "review", "--application", &ids[0], "--reject"],
    );
    assert!(bad_reject.contains("reason"), "{bad_reject}");
    let same = refused(
        &data,
        "村专干 张丽",
        &[
            "case",
            "review",
            "--application",
            &ids[0],
            "--evidence",
            "审核",
        ],
    );
    assert!(same.contains("four eyes"), "{same}");
    for id in &ids {
        ok(
            &data,
            "乡镇 孙强",
            &[
                "case",
                "review",
                "--application",
                id,
                "--evidence",
                "公示无异议",
            ],
        );
        let approved = ok(
            &data,
            "县审批 李四",
            &[
                "case",
                "approve",
                "--application",
                id,
                "--evidence",
                "同意纳入",
            ],
        );
        assert!(approved.contains("已批准纳入"), "{approved}");
    }
    let run = ok(&data, "张三", &["pay", "run", "--month", &month]);
    assert!(run.contains("明细"), "enrolled families are paid: {run}");
    let family = ok(&data, "x", &["case", "show", &ids[0]]);
    assert!(family.contains("已办结"), "{family}");

    // Re-confirmation: the list for next year, one parent confirmed.
    let next = (today().year() + 1).to_string();
    let opened = ok(&data, "市计生办", &["confirm", "open", "--year", &next]);
    assert!(opened.contains("年度资格确认已开始"), "{opened}");
    let roster = ok(&data, "x", &["confirm", "list", "--year", &next, "--open"]);
    let person = roster
        .lines()
        .skip(1)
        .find_map(|l| l.split('\t').nth(3).filter(|p| p.starts_with('P')))
        .unwrap_or_else(|| panic!("a parent to confirm: {roster}"))
        .to_owned();
    ok(
        &data,
        "村专干 张丽",
        &["confirm", "parent", "--year", &next, "--person", &person],
    );
    let twice = refused(
        &data,
        "村专干 张丽",
        &["confirm", "parent", "--year", &next, "--person", &person],
    );
    assert!(twice.contains("already confirmed"), "{twice}");
    // Every step went into the audit log, and the chain holds.
    ok(&data, "x", &["audit", "verify"]);
}

#[test]
fn the_service_checklist_on_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_guanai"))
        .args([
            "demo",
            "--no-serve",
            "--families",
            "60",
            "--months",
            "1",
            "--dir",
        ])
        .arg(&demo)
        .output()
        .expect("demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A family with a parent entitled to medical relief (49+, bereaved or disabled).
    let due = ok(&demo, "x", &["visit", "due", "--limit", "200"]);
    let families: Vec<String> = due
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(2).filter(|f| f.starts_with('F')))
        .map(str::to_owned)
        .collect();
    let (family, person) = families
        .iter()
        .find_map(|f| {
            let list = ok(&demo, "x", &["service", "list", f]);
            list.lines()
                .find(|l| l.contains("\tmedical_relief\t"))
                .and_then(|l| l.split('\t').next())
                .map(|p| (f.clone(), p.to_owned()))
        })
        .expect("a parent entitled to medical relief");
    ok(
        &demo,
        "村专干 张丽",
        &[
            "service",
            "set",
            "--family",
            &family,
            "--person",
            &person,
            "--service",
            "medical_relief",
            "--status",
            "in_progress",
            "--note",
            "已协助提交报销材料",
        ],
    );
    let list = ok(&demo, "x", &["service", "list", &family]);
    assert!(list.contains("办理中"), "{list}");
    let declined = refused(
        &demo,
        "村专干 张丽",
        &[
            "service",
            "set",
            "--family",
            &family,
            "--person",
            &person,
            "--service",
            "medical_relief",
            "--status",
            "declined",
        ],
    );
    assert!(declined.contains("note"), "{declined}");
    let unknown = refused(
        &demo,
        "村专干 张丽",
        &[
            "service",
            "set",
            "--family",
            &family,
            "--person",
            &person,
            "--service",
            "spa",
            "--status",
            "granted",
        ],
    );
    assert!(unknown.contains("--service"), "{unknown}");

    // A complaint about the family: filed, listed, the complainant revealed with a reason, answered.
    let filed = ok(
        &demo,
        "县专干 刘洋",
        &[
            "complaint",
            "file",
            "--area",
            "371300",
            "--family",
            &family,
            "--source",
            "neighbour",
            "--complainant",
            "赵某 13900000000",
            "--summary",
            "反映走访不及时",
            "--detail",
            "近两个月无人走访",
        ],
    );
    let id = filed
        .split_whitespace()
        .find_map(|w| w.split('，').next().filter(|id| id.starts_with('Q')))
        .expect("complaint id")
        .to_owned();
    let list = ok(&demo, "x", &["complaint", "list"]);
    assert!(
        list.contains("反映走访不及时") && !list.contains("13900000000"),
        "{list}"
    );
    let no_reason = refused(
        &demo,
        "县专干 刘洋",
        &["complaint", "reveal", &id, "--reason", ""],
    );
    assert!(no_reason.contains("reason"), "{no_reason}");
    assert!(
        ok(
            &demo,
            "县专干 刘洋",
            &["complaint", "reveal", &id, "--reason", "回访投诉人"]
        )
        .contains("13900000000")
    );
    ok(
        &demo,
        "县专干 刘洋",
        &[
            "complaint",
            "answer",
            &id,
            "--answer",
            "已安排村专干本周走访",
        ],
    );
    assert!(ok(&demo, "x", &["complaint", "list", "--show", "all"]).contains("已答复"));

    // The care network: the demo's volunteer registered, a family refusing pairing, a referral.
    ok(
        &demo,
        "admin",
        &[
            "volunteer",
            "register",
            "--login",
            "volunteer",
            "--organisation",
            "沂南县志愿者协会",
        ],
    );
    let bad = refused(
        &demo,
        "admin",
        &[
            "volunteer",
            "register",
            "--login",
            "county",
            "--organisation",
            "x",
        ],
    );
    assert!(bad.contains("volunteer"), "{bad}");
    let add = Command::new(env!("CARGO_BIN_EXE_guanai"))
        .env("GUANAI_PASSWORD", "counsellor-pass-1")
        .args([
            "user",
            "add",
            "--login",
            "psy",
            "--name",
            "心理咨询师 周敏",
            "--role",
            "counsellor",
            "--area",
            "371300",
            "--data-dir",
        ])
        .arg(&demo)
        .output()
        .expect("user add");
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    ok(
        &demo,
        "县专干 刘洋",
        &[
            "volunteer",
            "refer",
            "--family",
            &family,
            "--counsellor",
            "psy",
            "--reason",
            "失眠、情绪低落",
        ],
    );
    ok(
        &demo,
        "县专干 刘洋",
        &[
            "volunteer",
            "refuse",
            "--family",
            &family,
            "--reason",
            "不愿外人打扰",
        ],
    );
    let shown = ok(&demo, "x", &["volunteer", "show", &family]);
    assert!(
        shown.contains("不需要志愿者结对") && shown.contains("心理咨询转介"),
        "{shown}"
    );
    assert!(
        !shown.contains("失眠"),
        "the referral's reason is not printed: {shown}"
    );

    // The family moves out of Linyi: proposed by the village, approved by someone else.
    let proposed = ok(
        &demo,
        "村专干 张丽",
        &[
            "case",
            "exit",
            "--family",
            &family,
            "--detail",
            "迁往江苏省徐州市",
        ],
    );
    let exit = proposed
        .split_whitespace()
        .find_map(|w| w.split('（').next().filter(|id| id.starts_with('E')))
        .expect("exit id")
        .to_owned();
    let own = refused(
        &demo,
        "村专干 张丽",
        &["case", "exit-decide", "--family", &family, "--exit", &exit],
    );
    assert!(own.contains("four eyes"), "{own}");
    let approved = ok(
        &demo,
        "县专干 刘洋",
        &["case", "exit-decide", "--family", &family, "--exit", &exit],
    );
    assert!(approved.contains("已批准"), "{approved}");
}
