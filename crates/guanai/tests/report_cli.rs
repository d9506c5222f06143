//! `guanai report …` through the real binary, each test on its own copy of one demo archive: the
//! statistical tables as text, CSV and XLSX (the same figures, and the families counted as the
//! archive counts them), the assessment's scores and ranks, a public summary that names no one,
//! spot checks drawn again to the same families, findings and their refusals, and the register's
//! refresh. Refused input exits 2 naming the field.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn guanai(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guanai"))
        .env_remove("GUANAI_KEY")
        .env_remove("GUANAI_DATABASE_URL")
        .env_remove("GUANAI_KEY_FILE")
        .env("GUANAI_OPERATOR", "inspector (吴刚)")
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
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

/// Runs a command that must be refused with exit status 2; its message.
fn refused(data: &Path, args: &[&str]) -> String {
    let o = guanai(data, args);
    assert_eq!(
        o.status.code(),
        Some(2),
        "guanai {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The demo archive the tests copy, made once per run: 120 census families, two months paid
/// (the older run approved and closed), this year's visits, casework and a spot check.
fn master() -> &'static Path {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_cli-demo");
        let out = Command::new(env!("CARGO_BIN_EXE_guanai"))
            .args([
                "demo",
                "--no-serve",
                "--families",
                "120",
                "--months",
                "2",
                "--dir",
            ])
            .arg(&dir)
            .output()
            .expect("demo");
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
    .as_path()
}

/// A copy of the demo archive (database, key) in `into`.
fn copy_of_demo(into: &Path) -> PathBuf {
    let to = into.join("archive");
    std::fs::create_dir_all(&to).expect("dir");
    for entry in std::fs::read_dir(master()).expect("demo dir") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
    to
}

/// The figure in column `column` of the first totals row (合计) of a CSV or text report: the
/// families table's, which comes first.
fn first_total(text: &str, csv: bool, column: usize) -> i64 {
    let line = text
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}'))
        .find(|l| l.starts_with("合计"))
        .unwrap_or_else(|| panic!("no 合计 row:\n{text}"));
    let field = if csv {
        line.split(',').nth(column)
    } else {
        line.split_whitespace().nth(column)
    };
    field
        .and_then(|f| f.parse().ok())
        .unwrap_or_else(|| panic!("column {column} of {line:?}"))
}

/// Families whose application is not approved (the register counts them as pending).
fn pending_families(data: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for status in ["applied", "checked", "notice", "reviewed", "rejected"] {
        for line in ok(data, &["case", "list", "--status", status])
            .lines()
            .skip(1)
        {
            if let Some(family) = line.split('\t').nth(1).filter(|f| f.starts_with('F')) {
                out.insert(family.to_owned());
            }
        }
    }
    out
}

#[test]
fn statistics_as_text_csv_and_xlsx_agree_with_the_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = copy_of_demo(dir.path());

    let refreshed = ok(&data, &["report", "refresh"]);
    assert!(refreshed.contains("统计台账已更新"), "{refreshed}");

    let csv = guanai(&data, &["report", "stats", "--format", "csv"]);
    assert!(
        csv.status.success(),
        "{}",
        String::from_utf8_lossy(&csv.stderr)
    );
    assert!(
        csv.stdout.starts_with(&[0xEF, 0xBB, 0xBF]),
        "CSV starts with the UTF-8 BOM"
    );
    let csv = String::from_utf8(csv.stdout).expect("UTF-8");
    for heading in [
        "计划生育特殊困难家庭及扶助对象情况表",
        "地区,特殊困难家庭（户）,失独家庭,伤残家庭,孤儿家庭",
        "扶助资金发放情况表（按月）",
        "走访慰问情况表",
    ] {
        assert!(csv.contains(heading), "{heading} missing:\n{csv}");
    }
    assert!(csv.lines().any(|l| l.starts_with("合计,")), "{csv}");

    let text = ok(&data, &["report", "stats"]);
    assert!(text.contains("特殊困难家庭（户）"), "{text}");
    let families = first_total(&csv, true, 1);
    assert!(families >= 1, "{csv}");
    assert_eq!(first_total(&text, false, 1), families, "{text}");

    // Counted independently: families of a special category this month, less those whose
    // application is not approved yet.
    let pending = pending_families(&data);
    let listed = ok(&data, &["family", "list", "--area", "3713"]);
    let special = listed
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() == 5 && cols[3] != "none" && !pending.contains(cols[0])).then_some(cols[0])
        })
        .count();
    assert_eq!(families, special as i64, "{listed}");

    // Two months were paid: the month's payments add up, the older run being approved.
    let paid: f64 = csv
        .lines()
        .skip_while(|l| !l.starts_with("扶助资金发放情况表（按月）"))
        .find(|l| l.starts_with("合计,"))
        .and_then(|l| l.rsplit(',').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(paid > 0.0, "{csv}");

    // One county: the counties' rows become townships.
    let county = ok(
        &data,
        &["report", "stats", "--area", "371302", "--format", "csv"],
    );
    assert!(county.contains("兰山区"), "{county}");

    let english = ok(&data, &["report", "stats", "--english", "--format", "csv"]);
    assert!(english.contains("Area,Families,Bereaved"), "{english}");
    assert!(
        english.lines().any(|l| l.starts_with("Total,")),
        "{english}"
    );

    let xlsx = dir.path().join("统计.xlsx");
    let charts = dir.path().join("charts");
    ok(
        &data,
        &[
            "report",
            "stats",
            "--format",
            "xlsx",
            "--output",
            xlsx.to_str().expect("path"),
            "--charts",
            charts.to_str().expect("path"),
        ],
    );
    {
        use calamine::{Data, Reader};
        let mut book = calamine::open_workbook_auto(&xlsx).expect("calamine opens it");
        assert_eq!(book.sheet_names().len(), 6);
        let sheet = book
            .worksheet_range_at(0)
            .expect("a first sheet")
            .expect("readable");
        assert_eq!(
            sheet.get_value((0, 0)),
            Some(&Data::String(
                "计划生育特殊困难家庭及扶助对象情况表".to_owned()
            ))
        );
    }
    for name in ["payments.svg", "families.svg", "visits.svg"] {
        let svg = std::fs::read_to_string(charts.join(name)).expect(name);
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{name}"
        );
    }

    let bad_month = refused(&data, &["report", "stats", "--from", "2026-13"]);
    assert!(bad_month.contains("from"), "{bad_month}");
    let backwards = refused(
        &data,
        &["report", "stats", "--from", "2026-10", "--to", "2026-02"],
    );
    assert!(backwards.contains("from"), "{backwards}");
    let bad_area = refused(&data, &["report", "stats", "--area", "37130x"]);
    assert!(bad_area.contains("area"), "{bad_area}");
    let bad_day = refused(&data, &["report", "stats", "--as-of", "2026-02-30"]);
    assert!(bad_day.contains("as_of"), "{bad_day}");
    let no_file = refused(&data, &["report", "stats", "--format", "xlsx"]);
    assert!(no_file.contains("output"), "{no_file}");
}

#[test]
fn the_assessment_scores_and_ranks_every_county() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = copy_of_demo(dir.path());
    let text = ok(&data, &["report", "assessment"]);
    // "  第 N 名　county　score 分", best first.
    let ranked: Vec<(usize, String, f64)> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("第 ")?;
            let (rank, rest) = l.split_once(" 名　")?;
            let (county, score) = rest.split_once('　')?;
            Some((
                rank.parse().ok()?,
                county.to_owned(),
                score.strip_suffix(" 分")?.parse().ok()?,
            ))
        })
        .collect();
    assert!(!ranked.is_empty(), "{text}");
    assert_eq!(ranked[0].0, 1, "{text}");
    for pair in ranked.windows(2) {
        assert!(pair[0].0 <= pair[1].0 && pair[0].2 >= pair[1].2, "{text}");
    }
    // Every county with special-difficulty families is scored.
    let stats = ok(&data, &["report", "stats", "--format", "csv"]);
    let counties: Vec<&str> = stats
        .lines()
        .skip_while(|l| !l.starts_with("地区,"))
        .skip(1)
        .take_while(|l| !l.starts_with("合计,"))
        .filter(|l| l.split(',').nth(1).is_some_and(|n| n != "0"))
        .filter_map(|l| l.split(',').next())
        .collect();
    assert!(!counties.is_empty(), "{stats}");
    for county in &counties {
        assert!(
            ranked.iter().any(|(_, c, _)| c == county),
            "{county} has no score:\n{text}"
        );
    }
    // The scorecard (a row per county with score and rank) and the lost points follow.
    assert!(
        text.contains("计划生育特殊困难家庭扶助工作考核评分表"),
        "{text}"
    );
    assert!(text.contains("得分") && text.contains("名次"), "{text}");
    assert!(text.contains("考核扣分明细"), "{text}");
    let csv = ok(&data, &["report", "assessment", "--format", "csv"]);
    let rows = csv
        .lines()
        .skip_while(|l| !l.starts_with("县区,"))
        .skip(1)
        .take_while(|l| l.split(',').count() > 2)
        .count();
    assert_eq!(rows, ranked.len(), "{csv}");

    let one = ok(
        &data,
        &["report", "assessment", "--area", &county_code(&data)],
    );
    assert_eq!(
        one.lines().filter(|l| l.trim().starts_with("第 ")).count(),
        1,
        "{one}"
    );
    let township = refused(&data, &["report", "assessment", "--area", "371302001"]);
    assert!(township.contains("area"), "{township}");
}

/// The county of the demo's spot check (one with families in the programme).
fn county_code(data: &Path) -> String {
    let list = ok(data, &["report", "spot-check", "list"]);
    list.lines()
        .nth(1)
        .and_then(|l| l.split('\t').nth(1))
        .and_then(|c| c.split_once('（'))
        .and_then(|(_, rest)| rest.strip_suffix('）'))
        .unwrap_or_else(|| panic!("no spot check in the demo:\n{list}"))
        .to_owned()
}

#[test]
fn the_public_summary_names_no_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = copy_of_demo(dir.path());
    let text = ok(&data, &["report", "public"]);
    let csv = ok(&data, &["report", "public", "--format", "csv"]);
    assert!(text.contains("公示") && text.contains("合计"), "{text}");
    // Names and ID numbers of everyone in the demo's census and applications.
    let mut names = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for file in ["普查-演示.csv", "申请-演示.csv"] {
        let census = std::fs::read_to_string(master().join("files").join(file)).expect(file);
        for line in census.lines().skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            if let Some(name) = cols.get(2).filter(|n| !n.is_empty()) {
                names.insert(name.to_string());
            }
            if let Some(id) = cols.get(4).filter(|n| !n.is_empty()) {
                ids.insert(id.to_string());
            }
        }
    }
    assert!(names.len() > 100, "{names:?}");
    for out in [&text, &csv] {
        for name in &names {
            assert!(!out.contains(name.as_str()), "{name} in\n{out}");
        }
        for id in &ids {
            assert!(!out.contains(id.as_str()), "{id} in\n{out}");
        }
        // No ID number, phone or account: no run of 11 or more digits at all.
        let longest = out
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(longest < 11, "{out}");
    }
    // Small counts are withheld.
    assert!(csv.contains(",*"), "{csv}");
    let backwards = refused(
        &data,
        &["report", "public", "--from", "2026-10", "--to", "2026-02"],
    );
    assert!(backwards.contains("from"), "{backwards}");
    let bad_month = refused(&data, &["report", "public", "--to", "2026/10"]);
    assert!(bad_month.contains("to"), "{bad_month}");
}

/// The families of a draw's output, in the order drawn.
fn drawn(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() == 4 && cols[0].parse::<u32>().is_ok()).then(|| cols[1].to_owned())
        })
        .collect()
}

fn check_id(out: &str) -> String {
    out.split(['：', ' '])
        .find(|w| w.starts_with('S') && w.len() == 33)
        .unwrap_or_else(|| panic!("no check id in {out}"))
        .to_owned()
}

#[test]
fn spot_checks_draw_again_to_the_same_families_and_keep_their_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = copy_of_demo(&dir.path().join("a"));
    let b = copy_of_demo(&dir.path().join("b"));
    let county = county_code(&a);
    let draw = [
        "report",
        "spot-check",
        "draw",
        "--county",
        county.as_str(),
        "--seed",
        "2024",
        "--size",
        "4",
        "--note",
        "县区交叉抽查",
    ];
    let (first, second) = (ok(&a, &draw), ok(&b, &draw));
    let families = drawn(&first);
    assert_eq!(families.len(), 4, "{first}");
    assert_eq!(families, drawn(&second), "{first}\n{second}");
    let digest = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("名单摘要"))
            .map(str::to_owned)
    };
    assert!(digest(&first).is_some());
    assert_eq!(digest(&first), digest(&second));
    assert!(first.contains("种子 / seed: 2024"), "{first}");

    let check = check_id(&first);
    let verified = ok(&a, &["report", "spot-check", "verify", &check]);
    assert!(!verified.contains("NO"), "{verified}");

    let family = families[0].as_str();
    let record = |item: &str, result: &[&str]| {
        let mut args = vec![
            "report",
            "spot-check",
            "record",
            check.as_str(),
            "--family",
            family,
            "--item",
            item,
        ];
        args.extend_from_slice(result);
        guanai(&a, &args)
    };
    let status = |o: &Output| {
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, e) = status(&record("bogus", &["--passed"]));
    assert!(code == Some(2) && e.contains("item"), "{code:?} {e}");
    let (code, e) = status(&record("visits", &["--failed"]));
    assert!(code == Some(2) && e.contains("note"), "{code:?} {e}");
    let (code, e) = status(&record("identity", &["--passed"]));
    assert_eq!(code, Some(0), "{e}");
    let (code, e) = status(&record(
        "payment",
        &["--failed", "--note", "九月扶助金迟发十天"],
    ));
    assert_eq!(code, Some(0), "{e}");

    let shown = ok(&a, &["report", "spot-check", "show", &check]);
    assert!(shown.contains("县区交叉抽查"), "{shown}");
    let items: Vec<&str> = shown
        .lines()
        .skip_while(|l| !l.starts_with(&format!("1\t{family}")))
        .skip(1)
        .take(6)
        .collect();
    assert_eq!(items.len(), 6, "{shown}");
    assert!(
        items[0].contains("identity") && items[0].contains("合格"),
        "{shown}"
    );
    assert!(
        items[2].contains("payment") && items[2].contains("不合格：九月扶助金迟发十天"),
        "{shown}"
    );
    assert!(
        items[3].contains("visits") && items[3].ends_with("未查"),
        "{shown}"
    );
    let list = ok(&a, &["report", "spot-check", "list", "--area", &county]);
    let row = list
        .lines()
        .find(|l| l.starts_with(&check))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(row.ends_with("\t2\t1"), "{row}");

    // A list altered after the draw no longer matches its digest.
    let b_check = check_id(&second);
    let url = format!("sqlite://{}", b.join("guanai.db").display());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let db = guanai_store::Db::open(&url).await.expect("open");
            guanai_store::on_db!(&db, pool => {
                sqlx::query("UPDATE spot_check SET population_ids = population_ids || char(10) || 'F0'")
                    .execute(pool)
                    .await
                    .expect("tamper");
            });
            db.close().await;
        });
    let o = guanai(&b, &["report", "spot-check", "verify", &b_check]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    let e = refused(&a, &["report", "spot-check", "draw", "--county", "999999"]);
    assert!(e.contains("county"), "{e}");
    let e = refused(&a, &["report", "spot-check", "show", "Snothing"]);
    assert!(e.contains("check"), "{e}");
}
