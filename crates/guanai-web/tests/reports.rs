//! Reports (issue 7) through the real router: the statistical report of a county with its
//! charts, tables and totals, reconciled with the engine (families) and the approved run's lines
//! (payments); the XLSX download opened with calamine holds the page's totals, the CSV starts
//! with a BOM; scope and roles (a village user asks for another area: 403; a volunteer: 403);
//! the assessment lists every county with a score; spot checks drawn by an inspector (not by a
//! county), verified, with findings (a failure needs a note); the public summary without
//! signing in (no names, no ID numbers, small counts withheld); the dashboard's charts card once
//! drawn in the background; the JSON API.

mod support;

use std::io::Cursor;

use axum::http::{StatusCode, header};
use calamine::{Data, Reader, Xlsx};
use guanai_rules::engine::{Category, evaluate};
use guanai_rules::{Month, Policy};
use guanai_store::Actor;
use guanai_store::pay::RunId;
use support::{Client, MOTHER_A, World, both};

const RUN: &str = "202610-371321-1";
const PERIOD: &str = "from=2026-01&to=2026-10&as_of=2026-10-31";

fn policy() -> Policy {
    Policy::embedded("linyi-2014").expect("policy")
}

/// The cells of a table's totals row on a page (`id="total-<key>"`).
fn totals(body: &str, key: &str) -> Vec<String> {
    let marker = format!("id=\"total-{key}\"");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no totals row {key}"));
    let row = &body[at..at + body[at..].find("</tr>").expect("end of row")];
    row.split("<td")
        .skip(1)
        .map(|cell| {
            let start = cell.find('>').expect("cell") + 1;
            let end = cell.find("</td>").expect("cell end");
            cell[start..end].to_owned()
        })
        .collect()
}

/// The column index of a header in a table of the page.
fn column(body: &str, key: &str, header: &str) -> usize {
    let at = body.find(&format!("id=\"table-{key}\"")).expect("table");
    let head = &body[at..at + body[at..].find("</thead>").expect("head")];
    head.split("<th")
        .skip(1)
        .position(|th| th.contains(&format!(">{header}</th>")))
        .unwrap_or_else(|| panic!("no column {header} in {key}"))
}

/// 沂南县's October run, built by `finance`, checked with the fathers' transfers held (they
/// have no account) and approved by `finance2`.
async fn approved_run(w: &World) -> RunId {
    let mut f = w.client("finance").await;
    let r = f
        .post(
            "/payments/payer",
            &[
                ("county", "371321"),
                ("name", "沂南县财政局"),
                ("account", "37001626800050123456"),
                ("bank", "中国农业银行沂南支行"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = f
        .post(
            "/payments",
            &[
                ("month", "2026-10"),
                ("county", "371321"),
                ("ledger_start", "2026-10"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = f
        .post(
            &format!("/payments/{RUN}/check"),
            &[("hold", "父亲账户待补录")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let mut f2 = w.client("finance2").await;
    let r = f2.post(&format!("/payments/{RUN}/approve"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    RunId::parse(RUN).expect("run")
}

/// Special-difficulty families of an area in a month, counted file by file with the engine.
async fn special_families(w: &World, area: &str, month: Month) -> i64 {
    let policy = policy();
    let mut n = 0;
    for f in w.archive.list_families(area).await.expect("families") {
        let file = w.archive.family_file(&f.family_id).await.expect("file");
        let family = file.engine_family(month, None).expect("engine family");
        if evaluate(&family, month, &policy).category != Category::None {
            n += 1;
        }
    }
    n
}

/// A sheet's totals row (the row whose first cell is 合计), as text.
fn sheet_totals(xlsx: &[u8], sheet: usize) -> Vec<String> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(xlsx.to_vec())).expect("an XLSX workbook");
    let name = book.sheet_names()[sheet].clone();
    let range = book.worksheet_range(&name).expect("sheet");
    let row = range
        .rows()
        .find(|r| matches!(r.first(), Some(Data::String(s)) if s == "合计"))
        .expect("a totals row");
    row.iter()
        .map(|c| match c {
            Data::Float(f) => format!("{f}"),
            Data::Int(i) => i.to_string(),
            Data::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

#[tokio::test]
async fn a_county_report_has_charts_tables_and_totals_that_reconcile_with_the_engine_and_the_run() {
    both(async |w: &World| {
        let run = approved_run(w).await;
        let mut county = w.client("county").await;
        let r = county.get(&format!("/reports?{PERIOD}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("id=\"nav-reports\""), "in the navigation");
        assert_eq!(
            r.body.matches("<svg role=\"img\"").count(),
            3,
            "three charts"
        );
        assert!(r.body.contains("<title>"), "charts are titled");
        for key in [
            "families",
            "payments_by_month",
            "payments_by_area",
            "grants",
            "services",
            "visits",
        ] {
            assert!(
                r.body.contains(&format!("id=\"table-{key}\"")),
                "table {key}"
            );
        }
        assert!(r.body.contains("特殊困难家庭（户）") && r.body.contains("合计"));
        assert!(r.body.contains("id=\"report-area\">沂南县<"), "{}", r.body);
        // Families: the engine's count, file by file.
        let october = Month::parse("2026-10").expect("month");
        let engine = special_families(w, "371321", october).await;
        assert_eq!(engine, 2, "both of 沂南县's families are bereaved");
        let families = totals(&r.body, "families");
        assert_eq!(families[0], "合计");
        assert_eq!(
            families[column(&r.body, "families", "特殊困难家庭（户）")],
            engine.to_string()
        );
        // Payments: the approved run's lines, summed.
        let lines = w.archive.run_lines(&run, None).await.expect("lines");
        let paid = lines.iter().fold(guanai_rules::Fen(0), |s, l| s + l.amount);
        assert!(paid > guanai_rules::Fen(0));
        let summary = w.archive.run_summary(&run).await.expect("run");
        assert_eq!(summary.total, paid);
        let by_month = totals(&r.body, "payments_by_month");
        assert_eq!(fen(by_month.last().expect("total")), paid.get());
        let by_area = totals(&r.body, "payments_by_area");
        assert_eq!(fen(by_area.last().expect("total")), paid.get());
        // Higher-level funds and county finance add up to the total.
        let higher = fen(&by_month[by_month.len() - 3]);
        let local = fen(&by_month[by_month.len() - 2]);
        assert_eq!(higher + local, paid.get(), "{higher} + {local}");

        // The XLSX opens and holds the page's totals.
        let x = county
            .get(&format!("/reports/download.xlsx?{PERIOD}"))
            .await;
        assert_eq!(x.status, StatusCode::OK);
        assert_eq!(
            x.headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        );
        let disposition = x
            .headers
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .expect("disposition");
        assert!(
            disposition.starts_with("attachment;") && disposition.contains(".xlsx"),
            "{disposition}"
        );
        let bytes = x.bytes.clone();
        let sheet = sheet_totals(&bytes, 0);
        assert_eq!(sheet[1], engine.to_string(), "families in the workbook");
        let money = sheet_totals(&bytes, 1);
        // Excel holds money as a number of yuan (for display); the cell must round to the fen.
        let yuan: f64 = money.last().expect("total").parse().expect("yuan");
        assert_eq!((yuan * 100.0).round() as i64, paid.get(), "workbook {yuan}");
        // The CSV starts with a byte-order mark and holds the same total.
        let c = county.get(&format!("/reports/download.csv?{PERIOD}")).await;
        assert_eq!(c.status, StatusCode::OK);
        assert!(c.bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "BOM");
        assert_eq!(
            c.headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("text/csv; charset=utf-8")
        );
        assert!(c.body.contains(&format!(",{paid}\r\n")), "{}", c.body);
        let log = w.archive.audit_log().await.expect("audit");
        assert_eq!(
            log.iter().filter(|e| e.2 == "report.download").count(),
            2,
            "downloads audited"
        );
        // The printable page: no navigation, the hint, the charts and every table.
        let p = county.get(&format!("/reports/print?{PERIOD}")).await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(p.body.contains("打印 / Print") && p.body.contains("class=\"print-page\""));
        assert!(!p.body.contains("<nav>"), "no navigation");
        assert_eq!(p.body.matches("<svg role=\"img\"").count(), 3);
        assert_eq!(p.body.matches("class=\"card report-table\"").count(), 6);
        assert_eq!(totals(&p.body, "families"), families);
        // In English the headers are English.
        let r = county
            .get_with_lang(&format!("/reports?{PERIOD}"), "en")
            .await;
        assert!(
            r.body.contains(">Families</th>") && r.body.contains(">Total</td>"),
            "{}",
            r.body
        );
    })
    .await;
}

#[tokio::test]
async fn defaults_fields_refused_and_scope() {
    let w = support::sqlite().await;
    let mut village = w.client("village").await;
    // The defaults: this year up to this month.
    let r = village.get("/reports").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let this_month = guanai_web::pages::this_month();
    assert!(
        r.body
            .contains(&format!("name=\"to\" value=\"{this_month}\"")),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains(&format!("name=\"from\" value=\"{}-01\"", this_month.year()))
    );
    // Its own village by code is fine; another area or one above is not.
    let r = village
        .get(&format!("/reports?area={}&{PERIOD}", support::VILLAGE_A))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for area in ["371302", "371321", "371321001", support::VILLAGE_B] {
        for path in [
            "/reports",
            "/reports/print",
            "/reports/download.csv",
            "/reports/download.xlsx",
        ] {
            let r = village.get(&format!("{path}?area={area}&{PERIOD}")).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} {area}");
            assert!(
                !r.body.contains("赵玉梅") && !r.body.contains("兰山区"),
                "{path} {area}"
            );
        }
    }
    // Fields that do not read: the form again, naming the field.
    let r = village
        .get("/reports?from=2026-13&to=2026-10&as_of=2026-10-31")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("id=\"error-from\">月份格式应为 YYYY-MM"),
        "{}",
        r.body
    );
    assert!(r.body.contains("id=\"report-form\"") && !r.body.contains("id=\"table-families\""));
    let r = village.get("/reports?from=2026-10&to=2026-01").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("id=\"error-from\">2026-10 晚于 2026-01"),
        "{}",
        r.body
    );
    let r = village.get("/reports?area=abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("id=\"error-area\">&#34;abc&#34; 不是")
            || r.body.contains("id=\"error-area\">\"abc\" 不是")
            || r.body.contains("id=\"error-area\">&quot;abc&quot; 不是"),
        "{}",
        r.body
    );
    let r = village.get("/reports?as_of=2026-02-30").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("id=\"error-as_of\">日期格式应为"),
        "{}",
        r.body
    );
    let r = village.get("/reports/download.csv?from=x").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The village does not see the assessment or the spot checks.
    for path in [
        "/reports/assessment",
        "/reports/assessment/download.csv",
        "/spot-checks",
    ] {
        let r = village.get(path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert!(
        !village
            .get("/")
            .await
            .body
            .contains("id=\"nav-assessment\"")
    );
    // Roles without reports.
    for login in ["volunteer", "counsellor", "admin"] {
        let mut c = w.client(login).await;
        for path in [
            "/reports",
            "/reports/download.xlsx",
            "/reports/print",
            "/reports/assessment",
            "/spot-checks",
        ] {
            let r = c.get(path).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{login} {path}");
        }
    }
    let mut volunteer = w.client("volunteer").await;
    let r = volunteer.get("/").await;
    assert!(
        !r.body.contains("id=\"nav-reports\"") && !r.body.contains("id=\"charts\""),
        "{}",
        r.body
    );
    w.cleanup().await;
}

#[tokio::test]
async fn the_assessment_scores_every_county_with_its_lost_points() {
    both(async |w: &World| {
        let mut city = w.client("city").await;
        let r = city.get("/reports/assessment?as_of=2026-11-30").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("id=\"table-scorecard\"") && r.body.contains("得分"));
        for county in ["371321", "371302"] {
            let at = r
                .body
                .find(&format!("id=\"county-{county}\""))
                .unwrap_or_else(|| panic!("{county}: {}", r.body));
            let summary = &r.body[at..at + r.body[at..].find("</summary>").expect("summary")];
            let score = &summary[summary.find("class=\"score\">").expect("score") + 14..];
            let score = &score[..score.find('<').expect("end")];
            let points: f64 = score.parse().expect("a score");
            assert!((0.0..=100.0).contains(&points), "{county}: {score}");
        }
        // Weights in the headers.
        assert!(r.body.contains("按时发放（20分）"), "{}", r.body);
        for (path, kind) in [
            (
                "/reports/assessment/download.xlsx?as_of=2026-11-30",
                "spreadsheetml",
            ),
            (
                "/reports/assessment/download.csv?as_of=2026-11-30",
                "text/csv",
            ),
        ] {
            let d = city.get(path).await;
            assert_eq!(d.status, StatusCode::OK, "{path}");
            assert!(
                d.headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|t| t.contains(kind))
            );
        }
        let d = city
            .get("/reports/assessment/download.xlsx?as_of=2026-11-30")
            .await;
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(d.bytes.clone())).expect("workbook");
        assert_eq!(book.sheet_names().len(), 2, "scorecard and lost points");
        let first = book.sheet_names()[0].clone();
        assert!(book.worksheet_range(&first).expect("sheet").rows().count() >= 5);
        let r = city.get("/reports/assessment?as_of=2026-02-30").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("id=\"error-as_of\""));
        // A county sees its own county only.
        let mut county = w.client("county").await;
        let r = county.get("/reports/assessment?as_of=2026-11-30").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("id=\"county-371321\"") && !r.body.contains("id=\"county-371302\"")
        );
    })
    .await;
}

/// The spot check's id from the address drawing redirected to.
fn check_of(location: &str) -> String {
    let rest = location
        .strip_prefix("/spot-checks/")
        .expect("a spot check");
    rest[..rest.find('?').unwrap_or(rest.len())].to_owned()
}

#[tokio::test]
async fn spot_checks_are_drawn_by_the_inspector_verified_and_checked_item_by_item() {
    both(async |w: &World| {
        let month = guanai_web::pages::this_month().to_string();
        let today = guanai_web::pages::today().to_string();
        // A county is inspected, it does not draw.
        let mut county = w.client("county").await;
        let r = county.get("/spot-checks").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains("id=\"draw-button\"") && r.body.contains("id=\"no-checks\""));
        let r = county
            .post(
                "/spot-checks",
                &[
                    ("county", "371321"),
                    ("month", &month),
                    ("size", "2"),
                    ("seed", ""),
                    ("note", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let mut inspector = w.client("inspector").await;
        let r = inspector.get("/spot-checks").await;
        assert!(
            r.body.contains("id=\"draw-button\"") && r.body.contains("value=\"20\""),
            "the pack's size"
        );
        // Without the form's token nothing is drawn.
        let r = inspector
            .post_raw(
                "/spot-checks",
                &[("county", "371321"), ("month", &month), ("size", "2")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Fields refused, named.
        let r = inspector
            .post(
                "/spot-checks",
                &[
                    ("county", "371321"),
                    ("month", "2026-13"),
                    ("size", "x"),
                    ("seed", "-1"),
                    ("note", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        for field in ["month", "size", "seed"] {
            assert!(
                r.body.contains(&format!("id=\"error-{field}\">"))
                    && !r.body.contains(&format!("id=\"error-{field}\"></span>")),
                "{field}: {}",
                r.body
            );
        }
        let r = inspector
            .post(
                "/spot-checks",
                &[
                    ("county", "371321"),
                    ("month", &month),
                    ("size", "20"),
                    ("seed", "42"),
                    ("note", "年度抽查"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let check = check_of(r.location.as_deref().expect("location"));
        let page = format!("/spot-checks/{check}");
        let r = inspector.get(&format!("{page}?drawn=1")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("id=\"seed\">42<") && r.body.contains("id=\"population\">2<"),
            "{}",
            r.body
        );
        assert!(r.body.contains("id=\"redraw-explained\""));
        for family in [&w.family_a, &w.family_a2] {
            assert!(
                r.body.contains(&format!("href=\"/families/{family}\"")),
                "{family} drawn and linked"
            );
        }
        assert!(
            !r.body.contains(&w.family_b.to_string()),
            "only the county's families"
        );
        assert_eq!(
            r.body.matches("未查").count(),
            12,
            "two families, six items, none checked"
        );
        // Verify: the same families from the stored list and seed.
        let r = inspector.post(&format!("{page}/verify"), &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("id=\"verify-result\"") && r.body.contains("复核通过"),
            "{}",
            r.body
        );
        // A failure without a note is refused, naming the note.
        let a = w.family_a.to_string();
        let r = inspector
            .post(
                &format!("{page}/findings"),
                &[
                    ("family", &a),
                    ("item", "identity"),
                    ("result", "failed"),
                    ("note", " "),
                    ("checked_on", &today),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body
                .contains(&format!("id=\"finding-{a}-identity-note-error\""))
                && r.body.contains("不合格须写明情况"),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains(&format!("<details id=\"family-{a}\" open>")),
            "the family's section is open"
        );
        let r = inspector
            .post(
                &format!("{page}/findings"),
                &[
                    ("family", &a),
                    ("item", "identity"),
                    ("result", "failed"),
                    ("note", "户籍地址与实际不符"),
                    ("checked_on", &today),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = inspector
            .post(
                &format!("{page}/findings"),
                &[
                    ("family", &a),
                    ("item", "payment"),
                    ("result", "passed"),
                    ("note", ""),
                    ("checked_on", &today),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // A family not drawn, an unknown item.
        let b = w.family_b.to_string();
        let r = inspector
            .post(
                &format!("{page}/findings"),
                &[
                    ("family", &b),
                    ("item", "identity"),
                    ("result", "passed"),
                    ("note", ""),
                    ("checked_on", &today),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body.contains("id=\"finding-errors\"") && r.body.contains("family: "),
            "{}",
            r.body
        );
        let r = county.get(&page).await;
        assert_eq!(r.status, StatusCode::OK, "the county reads its checks");
        assert!(r.body.contains("户籍地址与实际不符") && r.body.contains("合格"));
        assert!(
            !r.body.contains("action=\"/spot-checks/") || !r.body.contains("/findings\""),
            "no finding forms for the county"
        );
        assert_eq!(r.body.matches("未查").count(), 10);
        let r = county
            .post(
                &format!("{page}/findings"),
                &[
                    ("family", &a),
                    ("item", "visits"),
                    ("result", "passed"),
                    ("note", ""),
                    ("checked_on", &today),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = county.get("/spot-checks").await;
        assert!(r.body.contains(&check), "listed");
        // Another county's user finds no such check.
        let mut county_b = w.client("county_b").await;
        let r = county_b.get(&page).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(!r.body.contains("A-001"));
        let r = county_b.post(&format!("{page}/verify"), &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(!county_b.get("/spot-checks").await.body.contains(&check));
        // Recorded in the audit log by the store.
        let log = w.archive.audit_log().await.expect("audit");
        assert!(log.iter().any(|e| e.2 == "spot_check.draw" && e.3 == check));
        assert_eq!(
            log.iter().filter(|e| e.2 == "spot_check.finding").count(),
            2
        );
    })
    .await;
}

#[tokio::test]
async fn the_public_summary_needs_no_sign_in_and_reveals_nothing_but_withheld_counts() {
    both(async |w: &World| {
        approved_run(w).await;
        let mut anonymous = Client::new(w.router.clone());
        let r = anonymous.get("/login").await;
        assert!(
            r.body.contains("href=\"/public\""),
            "the sign-in page links the publicity"
        );
        let r = anonymous.get("/public").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("id=\"table-public\"") && r.body.contains("沂南县"));
        assert!(r.body.contains("id=\"suppression\"") && r.body.contains("少于 5 户"));
        // Two and one families: withheld, as the total of three.
        assert!(r.body.contains("<td class=\"num\">*</td>"), "{}", r.body);
        let octobers = anonymous.get("/public?from=2026-10&to=2026-10").await;
        for body in [&r.body, &octobers.body] {
            for secret in [
                "王秀英",
                "张桂兰",
                "赵玉梅",
                "李建国",
                "李明",
                MOTHER_A,
                "372832196911150227",
                &w.mother_b_id,
                "A-001",
                "A-002",
                "B-001",
                "13812345678",
                "6222021234567890123",
                support::VILLAGE_A,
                support::VILLAGE_B,
            ] {
                assert!(!body.contains(secret), "{secret} published");
            }
            for family in [&w.family_a, &w.family_a2, &w.family_b] {
                assert!(!body.contains(&family.to_string()), "a family id published");
            }
            assert!(
                !body.contains("<nav>\n    <a href=\"/families"),
                "no navigation of signed-in users"
            );
        }
        // The money of a county with withheld counts is withheld too.
        assert!(!octobers.body.contains(">0.00<") || octobers.body.contains(">*<"));
        let c = anonymous.get("/public/download.csv").await;
        assert_eq!(c.status, StatusCode::OK);
        assert!(c.bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
        assert!(c.body.contains(",*") && !c.body.contains("王秀英"));
        let x = anonymous
            .get("/public/download.xlsx?from=2026-10&to=2026-10")
            .await;
        assert_eq!(x.status, StatusCode::OK);
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(x.bytes.clone())).expect("workbook");
        let name = book.sheet_names()[0].clone();
        let range = book.worksheet_range(&name).expect("sheet");
        assert!(
            range
                .rows()
                .any(|r| r.iter().any(|c| matches!(c, Data::String(s) if s == "*")))
        );
        let r = anonymous.get("/public?from=2026-10&to=2026-01").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body.contains("id=\"error-from\">2026-10 晚于"),
            "{}",
            r.body
        );
        let r = anonymous.get("/public?to=2999-01").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // Still no session.
        assert!(anonymous.cookie.is_none());
        assert_eq!(
            anonymous.get("/reports").await.status,
            StatusCode::SEE_OTHER
        );
    })
    .await;
}

/// The dashboard until its charts card is drawn (in the background).
async fn charts_card(c: &mut Client) -> String {
    for _ in 0..400 {
        let r = c.get("/").await;
        assert!(
            r.body.contains("id=\"charts\""),
            "the card is on the dashboard"
        );
        if r.body.contains("id=\"charts-ready\"") {
            return r.body;
        }
        assert!(r.body.contains("id=\"charts-computing\""));
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the dashboard's charts were never drawn");
}

#[tokio::test]
async fn the_dashboard_draws_the_scopes_charts_in_the_background() {
    both(async |w: &World| {
        let mut county = w.client("county").await;
        let body = charts_card(&mut county).await;
        assert_eq!(body.matches("<svg role=\"img\"").count(), 3, "{body}");
        assert!(body.contains("href=\"/reports\" id=\"charts-reports\""));
        assert!(!body.contains("兰山区"), "only the county's areas");
        let mut city = w.client("city").await;
        let body = charts_card(&mut city).await;
        assert!(body.contains("兰山区") && body.contains("沂南县"));
    })
    .await;
}

#[tokio::test]
async fn the_api_serves_the_tables_and_the_scorecard_in_the_users_scope() {
    both(async |w: &World| {
        let token = w
            .archive
            .create_api_token(&w.user("county").user_id, "test", &Actor::new("test"))
            .await
            .expect("token");
        let mut api = Client::new(w.router.clone());
        let r = api
            .get_bearer(&format!("/api/v1/reports/statistics?{PERIOD}"), &token)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let json: serde_json::Value = serde_json::from_str(&r.body).expect("json");
        assert_eq!(json["area"], "371321");
        let keys: Vec<&str> = json["tables"]
            .as_array()
            .expect("tables")
            .iter()
            .map(|t| t["key"].as_str().expect("key"))
            .collect();
        assert_eq!(
            keys,
            [
                "families",
                "payments_by_month",
                "payments_by_area",
                "grants",
                "services",
                "visits"
            ]
        );
        assert_eq!(json["tables"][0]["totals"][1]["Count"], 2);
        let r = api
            .get_bearer("/api/v1/reports/statistics?area=371302", &token)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = api
            .get_bearer("/api/v1/reports/statistics?from=2026-13", &token)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("from: "), "{}", r.body);
        let r = api
            .get_bearer("/api/v1/reports/statistics?colour=red", &token)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = api
            .get_bearer(
                "/api/v1/reports/assessment?as_of=2026-11-30&lang=en",
                &token,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let json: serde_json::Value = serde_json::from_str(&r.body).expect("json");
        assert_eq!(json["scorecard"]["key"], "scorecard");
        assert_eq!(json["lost"]["key"], "lost_points");
        assert_eq!(
            json["scorecard"]["rows"].as_array().expect("rows").len(),
            1,
            "the county only"
        );
        let volunteer = w
            .archive
            .create_api_token(&w.user("volunteer").user_id, "test", &Actor::new("test"))
            .await
            .expect("token");
        for path in ["/api/v1/reports/statistics", "/api/v1/reports/assessment"] {
            let r = api.get_bearer(path, &volunteer).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        }
        let village = w
            .archive
            .create_api_token(&w.user("village").user_id, "test", &Actor::new("test"))
            .await
            .expect("token");
        let r = api.get_bearer("/api/v1/reports/assessment", &village).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = api.get_bearer("/api/v1/reports/statistics", &village).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = api
            .get_bearer("/api/v1/reports/statistics", "gat_nothing")
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_made_at_once_do_not_trip_over_each_other() {
    // The dashboard's charts, a report page and the public page may refresh the register at
    // the same moment. Each round uses another pack, so every family's row is stale and every
    // report rewrites it; on PostgreSQL the writers used to collide on the key.
    both(async |w: &World| {
        let october = Month::parse("2026-10").expect("month");
        let day = guanai_rules::parse_date("2026-10-31").expect("date");
        for round in 0..8 {
            let mut policy = policy();
            policy.assessment.min_public_cell = 5 + round;
            let mut reports = Vec::new();
            for login in ["county", "city", "village", "inspector"] {
                let (archive, user, policy) =
                    (w.archive.clone(), w.user(login).clone(), policy.clone());
                reports.push(tokio::spawn(async move {
                    archive
                        .scoped(&user)
                        .statistical_report(&policy, None, october, october, day, false)
                        .await
                        .map(|r| r.register_families)
                }));
            }
            let mut counted = Vec::new();
            for report in reports {
                counted.push(
                    report
                        .await
                        .expect("joined")
                        .unwrap_or_else(|e| panic!("round {round}: {e}")),
                );
            }
            assert_eq!(counted, [2, 3, 1, 3], "round {round}");
        }
    })
    .await;
}

/// Fen from a figure as the page shows it ("1,234.56" or "-0.05"), exactly.
fn fen(text: &str) -> i64 {
    let plain: String = text.chars().filter(|c| *c != ',').collect();
    let (negative, digits) = match plain.strip_prefix('-') {
        Some(d) => (true, d.to_owned()),
        None => (false, plain.clone()),
    };
    let (yuan, cents) = digits.split_once('.').expect("two decimals");
    let value = yuan.parse::<i64>().expect("yuan") * 100 + cents.parse::<i64>().expect("fen");
    if negative { -value } else { value }
}
