//! `guanai visit …` through the real binary, on a demo archive: the overdue list, recording a
//! visit (and the refusals: a date in the future, a follow-up without a deadline), the family's
//! plan with the period visited, a dedicated visitor, withdrawing, re-planning the year.

use std::path::Path;
use std::process::{Command, Output};

fn guanai(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guanai"))
        .env_remove("GUANAI_KEY")
        .env_remove("GUANAI_DATABASE_URL")
        .env_remove("GUANAI_KEY_FILE")
        .env("GUANAI_OPERATOR", "村计生专干 张丽")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .expect("guanai runs")
}

fn ok(data: &Path, args: &[&str]) -> String {
    let o = guanai(data, args);
    assert!(
        o.status.success(),
        "guanai {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn refused(data: &Path, args: &[&str]) -> String {
    let o = guanai(data, args);
    assert_eq!(
        o.status.code(),
        Some(1),
        "guanai {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn visits_from_the_overdue_list_to_a_recorded_visit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_guanai"))
        .args([
            "demo",
            "--no-serve",
            "--families",
            "150",
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
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date();
    let tomorrow = today.tomorrow().expect("tomorrow").to_string();
    let today = today.to_string();

    let due = ok(&demo, &["visit", "due"]);
    // Village, census number, family id, names, occasion, window.
    let family = due
        .lines()
        .skip(1)
        .find_map(|l| l.split('\t').nth(2).filter(|f| f.starts_with('F')))
        .unwrap_or_else(|| panic!("no overdue visit in the demo: {due}"))
        .to_owned();
    assert!(
        ok(&demo, &["visit", "due", "--area", "371302"])
            .lines()
            .count()
            >= 1
    );
    let bad_area = refused(&demo, &["visit", "due", "--area", "999999"]);
    assert!(bad_area.contains("--area"), "{bad_area}");

    let future = refused(
        &demo,
        &[
            "visit",
            "record",
            "--family",
            &family,
            "--date",
            &tomorrow,
            "--visitor",
            "张丽",
            "--found",
            "身体尚可",
        ],
    );
    assert!(
        future.contains("visited_on") && future.contains("future"),
        "{future}"
    );
    let no_deadline = refused(
        &demo,
        &[
            "visit",
            "record",
            "--family",
            &family,
            "--date",
            &today,
            "--visitor",
            "张丽",
            "--found",
            "身体尚可",
            "--follow-up",
            "协助申请医疗救助",
        ],
    );
    assert!(no_deadline.contains("follow_up_due"), "{no_deadline}");

    let recorded = ok(
        &demo,
        &[
            "visit",
            "record",
            "--family",
            &family,
            "--date",
            &today,
            "--visitor",
            "张丽",
            "--found",
            "身体尚可，情绪平稳",
        ],
    );
    // 已登记走访 V…：F… date occasion
    let visit = recorded
        .split_whitespace()
        .find_map(|w| w.split('：').next().filter(|id| id.starts_with('V')))
        .expect("visit id")
        .to_owned();
    let shown = ok(&demo, &["visit", "show", &family]);
    assert!(shown.contains(&format!("已走访 {today}")), "{shown}");
    assert!(shown.contains("身体尚可，情绪平稳"), "{shown}");

    ok(
        &demo,
        &[
            "visit",
            "assign",
            "--family",
            &family,
            "--visitor",
            "王芳",
            "--unit",
            "村计生专干",
        ],
    );
    assert!(ok(&demo, &["visit", "show", &family]).contains("专人：王芳（村计生专干）"));

    ok(
        &demo,
        &[
            "visit",
            "withdraw",
            "--family",
            &family,
            "--visit",
            &visit,
            "--reason",
            "录错了家庭",
        ],
    );
    let shown = ok(&demo, &["visit", "show", &family]);
    assert!(shown.contains("[已撤销"), "{shown}");

    let planned = ok(&demo, &["visit", "plan"]);
    // The demo's 150 census families and its new applicants.
    let families: usize = planned
        .split('：')
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{planned}"));
    assert!(families >= 150, "{planned}");
    let audit = ok(&demo, &["audit", "verify"]);
    assert!(!audit.is_empty());
}
