//! The web application in a real headless Chromium: the test world from `support` served on a
//! real port, `chromedriver` started on a free port, and the flows a caseworker goes through
//! driven with WebDriver (fantoccini) — signing in as every role, finding a family, recording a
//! death through the form, another area's family not being found, an overdue visit (二(一))
//! recorded from the `/visits` list, the volunteer's lists holding only the paired family and
//! the help they give recorded on its file (二(一)), an application (申请, issue 6) taken from the
//! village check through the public notice and the township review to the county approval by
//! three users, and a month's payment run built, checked, approved by a second finance officer
//! and exported to bank files, paying the approved family. A PNG screenshot of each key step is
//! written to `<target>/browser-screenshots/`.
//!
//! Without `chromedriver` on PATH the test says it skipped, except in CI (`CI` set), where it
//! fails.

mod support;

use std::future::Future;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::{Capabilities, TimeoutConfiguration};
use fantoccini::{Client, ClientBuilder, Locator};
use guanai_store::access::Role;
use guanai_store::pay::RunStatus;
use serde_json::json;

/// The longest any one wait (an element, a page, chromedriver starting) may take.
const WAIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(50);
const CHROMIUM: &str = "/usr/bin/chromium";

/// The roles signed in through the form, in the order of the screenshots.
const ROLES: [&str; 8] = [
    "village",
    "township",
    "county",
    "city",
    "finance",
    "inspector",
    "volunteer",
    "admin",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caseworker_flows_in_a_real_browser() {
    let Some(driver_path) = on_path("chromedriver") else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "chromedriver is required in CI but not on PATH (apt-get install chromium chromium-driver)"
            );
        }
        eprintln!(
            "SKIPPED browser tests: chromedriver not found (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let started = Instant::now();
    let world = support::sqlite().await;
    // Last year's visit plan and this year's: last year's periods are all overdue, so the
    // village has overdue visits on any day this runs.
    let policy = guanai_rules::Policy::embedded("linyi-2014").expect("policy");
    let holidays = guanai_care::holidays::Holidays::embedded().expect("holidays");
    let this_year = guanai_web::pages::today().year();
    for year in [this_year - 1, this_year] {
        world
            .archive
            .plan_visits(
                year,
                None,
                &policy,
                holidays,
                &guanai_store::Actor::new("test"),
            )
            .await
            .expect("visit plan");
    }
    // A family of village A applying (申请, issue 6): paid only once the county approves it.
    let (family_p, _) = support::applicant(&world, "A-101", "孙凤英", 101).await;
    let family_p = family_p.to_string();
    let base = serve(world.router.clone()).await;
    let driver = ChromeDriver::start(&driver_path);
    let profile = tempfile::tempdir().expect("profile dir");
    let client = connect(&driver.url, profile.path()).await;
    let shots = screenshot_dir();

    let b = Browser {
        client: client.clone(),
        base,
        shots: shots.clone(),
    };
    let family_a = world.family_a.to_string();
    let family_b = world.family_b.to_string();
    // The flows run in their own task so that a failed assertion still ends the browser session
    // (and Chromium with it) before the panic is passed on.
    let flows = tokio::spawn(async move {
        sign_in_as_every_role(&b).await;
        b.sign_in("village").await;
        find_a_family(&b, &family_a).await;
        record_a_death(&b).await;
        another_areas_family_is_not_found(&b, &family_b).await;
        record_an_overdue_visit(&b, &family_a).await;
        b.goto("/").await;
        b.sign_out().await;
        the_volunteer_sees_the_paired_family_only(&b).await;
        the_volunteer_records_help(&b, &family_a).await;
        apply_notice_review_approve(&b).await;
        pay_a_month(&b).await;
        the_approved_family_is_paid(&b, &family_p).await;
        reports_charts_and_a_spot_check(&b).await;
    })
    .await;
    if flows.is_err() {
        // The page as it was when the step failed.
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(shots.join("failed.png"), png);
        }
    }
    let _ = client.close().await;
    drop(driver);
    world.cleanup().await;
    if let Err(e) = flows {
        std::panic::resume_unwind(e.into_panic());
    }
    eprintln!(
        "browser flows passed in {:.1} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        shots.display()
    );
}

/// 1. Every role signs in through the login form and lands on a page whose header shows the
///    user's name and role; the administrator lands on the user list.
async fn sign_in_as_every_role(b: &Browser) {
    for (n, login) in ROLES.iter().enumerate() {
        let role = support::USERS
            .iter()
            .find(|u| u.0 == *login)
            .expect("user")
            .1;
        b.sign_in(login).await;
        let who = b.text("header.top .who").await;
        assert!(
            who.contains(&format!("测试{login}")),
            "{login}: header shows {who:?}"
        );
        assert!(
            who.contains(role.label_zh()),
            "{login}: header shows {who:?}"
        );
        if role == Role::Admin {
            assert_eq!(
                b.path().await,
                "/admin/users",
                "the administrator lands on the user list"
            );
            b.wait_for("#users").await;
        } else {
            assert_eq!(b.path().await, "/", "{login} lands on the dashboard");
        }
        b.screenshot(&format!("01-login-{}-{login}", n + 1)).await;
        b.sign_out().await;
    }
}

/// 2. The village caseworker searches by name, opens the family and sees it is bereaved (失独).
async fn find_a_family(b: &Browser, family_a: &str) {
    b.goto("/families").await;
    b.wait_for("#name")
        .await
        .send_keys("王秀英")
        .await
        .expect("type name");
    b.click("#search").await;
    b.wait_until("the search results", || async {
        b.query().await.contains("name=")
    })
    .await;
    let rows = b
        .client
        .find_all(Locator::Css("#family-list a[href^='/families/']"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "one family named 王秀英 in the village");
    b.screenshot("02-search-village").await;
    rows[0].click().await.expect("open family");
    b.wait_until("the family page", || async {
        b.path().await == format!("/families/{family_a}")
    })
    .await;
    b.wait_for("#entitlements").await;
    assert_eq!(b.text("#category").await, "失独家庭");
    assert_eq!(b.monthly_rows().await, 2, "both parents are paid");
    b.screenshot("03-family-village").await;
}

/// 3. The caseworker records the mother's death through the 死亡 form: it is proposed for the
///    township's approval; once the township approves it on the file, the page says 已保存 and
///    only the father is paid this month.
async fn record_a_death(b: &Browser) {
    b.click("details#form-death > summary").await;
    let form = "details#form-death form";
    let options = b
        .client
        .find_all(Locator::Css(&format!("{form} select[name=person] option")))
        .await
        .expect("persons");
    let mut mother = None;
    for option in options {
        if option.text().await.expect("option").contains("王秀英") {
            mother = Some(option);
        }
    }
    mother
        .expect("the mother is offered")
        .click()
        .await
        .expect("choose the mother");
    // The first of the month two months back: by the timing rule the mother is no longer paid
    // this month, whatever day of the month the test runs on.
    let today = guanai_web::pages::today();
    let date = today
        .first_of_month()
        .checked_sub(jiff::Span::new().months(2))
        .expect("date")
        .to_string();
    b.set_value(&format!("{form} input[name=date]"), &date)
        .await;
    b.wait_for(&format!("{form} input[name=certificate_no]"))
        .await
        .send_keys("D-2026-001")
        .await
        .expect("certificate");
    b.wait_for(&format!("{form} input[name=reason]"))
        .await
        .send_keys("殡仪馆通报")
        .await
        .expect("reason");
    b.screenshot("04-death-form-village").await;
    b.click(&format!("{form} button[type=submit]")).await;
    // A death is approved by the township (变更审批): the village's is proposed, not recorded.
    b.wait_until("the proposed page", || async {
        b.query().await.contains("proposed=township")
    })
    .await;
    assert_eq!(b.text("p.flash").await, "已提交变更申请，待乡镇审批");
    assert_eq!(
        b.monthly_rows().await,
        2,
        "nothing changes before the approval"
    );
    let file = b.path().await;
    b.screenshot("05a-death-proposed-village").await;
    b.sign_out().await;
    b.sign_in("township").await;
    b.goto(&file).await;
    b.scroll_to("#changes").await;
    b.click("#changes form button[type=submit]").await;
    b.wait_until("the saved page", || async {
        b.query().await.contains("saved=1")
    })
    .await;
    assert_eq!(b.text("p.flash").await, "已保存");
    assert_eq!(
        b.monthly_rows().await,
        1,
        "only the father is paid after the mother's death"
    );
    assert_eq!(b.text("#category").await, "失独家庭");
    b.screenshot("05b-death-approved-township").await;
    b.sign_out().await;
    b.sign_in("village").await;
}

/// 4. A family in another county is not found for the village caseworker, even by its address.
async fn another_areas_family_is_not_found(b: &Browser, family_b: &str) {
    b.goto(&format!("/families/{family_b}")).await;
    let status = b
        .client
        .execute(
            "return performance.getEntriesByType('navigation')[0].responseStatus;",
            vec![],
        )
        .await
        .expect("status");
    assert_eq!(status, json!(404));
    let body = b.text("body").await;
    assert!(body.contains("没有找到"), "{body}");
    assert!(!body.contains("赵玉梅"), "nothing of the family is shown");
    b.screenshot("06-other-area-village").await;
}

/// 5. The village caseworker opens `/visits`, finds family A overdue for a regular visit, opens
///    its file from the list and records — in the browser's form — the visit made in that
///    period but not entered yet. The period shows 已走访 with the date, and the list no longer
///    holds it.
async fn record_an_overdue_visit(b: &Browser, family_a: &str) {
    b.goto("/visits").await;
    b.wait_for("#due-list").await;
    let mut chosen = None;
    for row in b
        .client
        .find_all(Locator::Css("#due-list tr"))
        .await
        .expect("rows")
    {
        let text = row.text().await.expect("row text");
        let kind = match row.find(Locator::Css("td:nth-child(4)")).await {
            Ok(cell) => cell.text().await.expect("kind"),
            Err(_) => continue,
        };
        if text.contains("A-001") && kind.trim() == "定期巡访" {
            let window = row
                .find(Locator::Css("td.window"))
                .await
                .expect("window")
                .text()
                .await
                .expect("window text");
            chosen = Some((row, window.trim().to_owned()));
            break;
        }
    }
    let (row, window) = chosen.expect("family A is overdue for a regular visit");
    b.screenshot("10-visits-overdue-village").await;
    row.find(Locator::Css("a"))
        .await
        .expect("link")
        .click()
        .await
        .expect("open the file");
    b.wait_until("the family's file", || async {
        b.path().await == format!("/families/{family_a}")
    })
    .await;
    b.click("details#form-visit > summary").await;
    let form = "details#form-visit form";
    let start = window.split(" – ").next().expect("the window's first day");
    b.set_value(&format!("{form} input[name=visited_on]"), start)
        .await;
    b.wait_for(&format!("{form} textarea[name=found]"))
        .await
        .send_keys("补录:当期已入户,老人身体尚可,独自生活")
        .await
        .expect("found");
    b.wait_for(&format!("{form} textarea[name=needs]"))
        .await
        .send_keys("希望冬季有人帮忙买煤")
        .await
        .expect("needs");
    b.scroll_to("#form-visit").await;
    b.screenshot("11-visit-form-village").await;
    b.click(&format!("{form} button[type=submit]")).await;
    b.wait_until("the saved file", || async {
        b.query().await.contains("saved=1")
    })
    .await;
    assert_eq!(b.text("p.flash").await, "已保存");
    let status = b
        .client
        .execute(
            "for (const r of document.querySelectorAll('#visit-plan tr.period')) {
               if (r.querySelector('td.window').textContent.trim() === arguments[0]) {
                 return r.querySelector('td.status').textContent.trim();
               }
             }
             return null;",
            vec![json!(window)],
        )
        .await
        .expect("the period's status");
    assert_eq!(status, json!(format!("已走访 {start}")), "{window}");
    b.scroll_to("#visits").await;
    b.screenshot("12-visit-saved-village").await;
    b.goto("/visits").await;
    b.wait_for("#due-list").await;
    let windows = b
        .client
        .execute(
            "return [...document.querySelectorAll('#due-list tr')]
               .filter(r => r.textContent.includes('A-001'))
               .map(r => r.querySelector('td.window').textContent.trim());",
            vec![],
        )
        .await
        .expect("windows");
    assert!(
        !windows.as_array().expect("a list").contains(&json!(window)),
        "{window} is still listed overdue: {windows}"
    );
    b.screenshot("13-visits-after-village").await;
}

/// 6. The volunteer's `/visits` lists only the family paired with them (A), not A2 of the same
///    county, and offers no plan.
async fn the_volunteer_sees_the_paired_family_only(b: &Browser) {
    b.sign_in("volunteer").await;
    b.goto("/visits").await;
    let rows = b
        .client
        .execute(
            "return [...document.querySelectorAll('#due-list tr')].slice(1).map(r => r.textContent);",
            vec![],
        )
        .await
        .expect("rows");
    let rows = rows.as_array().expect("a list");
    assert!(!rows.is_empty(), "the paired family has overdue visits");
    for row in rows {
        let text = row.as_str().expect("text");
        assert!(text.contains("A-001") && !text.contains("A-002"), "{text}");
    }
    assert!(
        b.client.find(Locator::Css("#plan")).await.is_err(),
        "a volunteer makes no plans"
    );
    b.screenshot("14-visits-volunteer").await;
    b.sign_out().await;
}

/// 6b. The volunteer's family search lists only the paired family (A, not A2 of the same
///    county); on its file they record — in the browser's form — the help they gave (二(一)),
///    which the file then lists, and they see no counselling.
async fn the_volunteer_records_help(b: &Browser, family_a: &str) {
    b.sign_in("volunteer").await;
    b.goto("/families").await;
    b.click("#search").await;
    b.wait_for("#family-list").await;
    let rows = b
        .client
        .execute(
            "return [...document.querySelectorAll('#family-list a[href^=\"/families/\"]')].map(a => a.closest('tr').textContent);",
            vec![],
        )
        .await
        .expect("rows");
    let rows = rows.as_array().expect("a list");
    assert_eq!(rows.len(), 1, "only the paired family: {rows:?}");
    assert!(
        rows[0].as_str().expect("text").contains("A-001"),
        "{rows:?}"
    );
    b.screenshot("15-families-volunteer").await;
    b.client
        .find(Locator::Css("#family-list a[href^='/families/']"))
        .await
        .expect("the family")
        .click()
        .await
        .expect("open the family");
    b.wait_until("the paired family's file", || async {
        b.path().await == format!("/families/{family_a}")
    })
    .await;
    assert!(
        b.client.find(Locator::Css("#counselling")).await.is_err(),
        "a volunteer sees no counselling"
    );
    b.click("details#form-help > summary").await;
    let form = "details#form-help form";
    let yesterday = guanai_web::pages::today()
        .checked_sub(jiff::Span::new().days(1))
        .expect("date")
        .to_string();
    b.set_value(&format!("{form} input[name=on_date]"), &yesterday)
        .await;
    let kinds = b
        .client
        .find_all(Locator::Css(&format!("{form} select[name=kind] option")))
        .await
        .expect("kinds");
    let mut daily_care = None;
    for option in kinds {
        if option.text().await.expect("option").contains("生活照料") {
            daily_care = Some(option);
        }
    }
    daily_care
        .expect("生活照料 is offered")
        .click()
        .await
        .expect("choose 生活照料");
    b.wait_for(&format!("{form} input[name=minutes]"))
        .await
        .send_keys("120")
        .await
        .expect("minutes");
    b.wait_for(&format!("{form} textarea[name=note]"))
        .await
        .send_keys("帮老人买菜、打扫院子")
        .await
        .expect("note");
    b.scroll_to("#form-help").await;
    b.screenshot("16-help-form-volunteer").await;
    b.click(&format!("{form} button[type=submit]")).await;
    b.wait_until("the saved file", || async {
        b.query().await.contains("saved=1")
    })
    .await;
    assert_eq!(b.text("p.flash").await, "已保存");
    let record = b.text("#help-records tr.help").await;
    for expected in [
        yesterday.as_str(),
        "生活照料",
        "120",
        "帮老人买菜、打扫院子",
        "测试volunteer",
    ] {
        assert!(record.contains(expected), "{expected} in {record:?}");
    }
    b.scroll_to("#network").await;
    b.screenshot("17-help-saved-volunteer").await;
    b.sign_out().await;
}

/// 7. A month is paid (二(二)): `finance` sets the county's paying account, builds the run and
///    checks it (holding blocked transfers, if any, for a reason); `finance2` approves it (four
///    eyes) and exports the bank files, whose download links work.
async fn pay_a_month(b: &Browser) {
    let month = guanai_rules::Month::of(guanai_web::pages::today()).to_string();
    b.sign_in("finance").await;
    b.goto("/payments").await;
    b.wait_for("#payer-name")
        .await
        .send_keys("沂南县财政局")
        .await
        .expect("payer name");
    b.wait_for("#payer-account")
        .await
        .send_keys("370016123456789012")
        .await
        .expect("payer account");
    b.wait_for("#payer-bank")
        .await
        .send_keys("中国农业银行沂南支行")
        .await
        .expect("payer bank");
    b.click("#payer button[type=submit]").await;
    b.wait_until("the paying account to be saved", || async {
        b.query().await.contains("done=payer")
    })
    .await;
    b.wait_for("p.flash").await;
    // <input type=month> takes typing differently per locale, like a date input.
    b.set_value("#build-month", &month).await;
    b.screenshot("07-payments-finance").await;
    b.click("#build-run").await;
    b.wait_until("the new run's page", || async {
        b.query().await.contains("done=built")
    })
    .await;
    let run = b.path().await.trim_start_matches("/payments/").to_owned();
    assert!(b.text("h1").await.contains(&month), "the run pays {month}");
    assert_eq!(b.text("#run-status").await, RunStatus::Draft.as_zh());
    let lines = b
        .client
        .find_all(Locator::Css("#lines table tr td:first-child"))
        .await
        .expect("lines");
    assert!(!lines.is_empty(), "the run has lines");
    assert_eq!(b.text("#created-by").await, "finance (测试finance)");
    b.screenshot("08-run-built-finance").await;
    if b.client
        .find(Locator::Css("#blocking-problems"))
        .await
        .is_ok()
    {
        b.wait_for("#form-check #hold")
            .await
            .send_keys("账户待补录")
            .await
            .expect("hold reason");
    }
    b.click("#form-check button[type=submit]").await;
    b.wait_until("the checked run", || async {
        b.query().await.contains("done=check")
    })
    .await;
    assert_eq!(b.text("#run-status").await, RunStatus::Checked.as_zh());
    b.wait_for("#form-approve").await;
    b.sign_out().await;

    b.sign_in("finance2").await;
    b.goto(&format!("/payments/{run}")).await;
    b.click("#form-approve button[type=submit]").await;
    b.wait_until("the approved run", || async {
        b.query().await.contains("done=approve")
    })
    .await;
    b.click("#form-export button[type=submit]").await;
    b.wait_until("the exported run", || async {
        b.query().await.contains("done=export")
    })
    .await;
    let links = b
        .client
        .find_all(Locator::Css("#bank-files a[download]"))
        .await
        .expect("links");
    assert!(
        links.len() >= 3,
        "代发 XLSX, CSV and pain.001 XML: {} links",
        links.len()
    );
    for link in &links {
        let href = link.attr("href").await.expect("href").expect("a link");
        assert!(
            href.starts_with(&format!("/payments/{run}/files/")),
            "{href}"
        );
        let status = b
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(arguments[0]).then(r => done(r.status), e => done(String(e)));",
                vec![json!(href)],
            )
            .await
            .expect("fetch");
        assert_eq!(status, json!(200), "{href}");
    }
    b.scroll_to("#bank-files").await;
    b.screenshot("09-run-exported-finance2").await;
    b.sign_out().await;
}

/// `n` days before today, as date inputs take it.
fn days_ago(n: i64) -> String {
    guanai_web::pages::today()
        .checked_sub(jiff::Span::new().days(n))
        .expect("date")
        .to_string()
}

/// 8. An application (申请, issue 6) from the village check to the county approval, each step by
///    its own user in the browser's forms: the village caseworker opens `/cases`, opens the
///    pending application of A-101, passes the village check (dated nine days ago) and posts
///    the public notice from eight days ago (so it has ended); the printable notice masks the
///    names; the township caseworker passes the review; the county caseworker approves, and the
///    page says the family is enrolled.
async fn apply_notice_review_approve(b: &Browser) {
    b.sign_in("village").await;
    b.click("#nav-cases").await;
    b.wait_for("#case-list").await;
    let mut link = None;
    for row in b
        .client
        .find_all(Locator::Css("#case-list tr"))
        .await
        .expect("rows")
    {
        if row.text().await.expect("row").contains("A-101") {
            link = Some(row.find(Locator::Css("a")).await.expect("link"));
        }
    }
    b.screenshot("20-cases-village").await;
    link.expect("A-101's application is listed")
        .click()
        .await
        .expect("open the application");
    b.wait_for("#form-decide").await;
    let case = b.path().await;
    assert!(case.starts_with("/cases/A"), "{case}");
    assert_eq!(b.text("#case-status").await, "待村级初审");
    b.wait_for("#form-decide textarea[name=evidence]")
        .await
        .send_keys("入户核实：独生子女证、子女死亡证明与户籍注销记录一致")
        .await
        .expect("evidence");
    b.set_value("#check-date", &days_ago(9)).await;
    b.screenshot("21-village-check-village").await;
    b.click("#form-decide button[type=submit]").await;
    b.wait_until("the village check", || async {
        b.query().await.contains("done=1")
    })
    .await;
    assert_eq!(b.text("#case-status").await, "待公示");
    b.goto(&case).await;
    b.set_value("#notice-from", &days_ago(8)).await;
    b.screenshot("22-notice-form-village").await;
    b.click("#form-notice button[type=submit]").await;
    b.wait_until("the notice", || async {
        b.query().await.contains("done=1")
    })
    .await;
    assert_eq!(b.text("#case-status").await, "公示中");
    assert_eq!(
        b.text("#notice-period").await,
        format!("{} 至 {}", days_ago(8), days_ago(2))
    );
    b.goto(&format!("/cases/notice?date={}", days_ago(5))).await;
    let notice = b.text("#notice").await;
    assert!(
        notice.contains("A-101") && notice.contains("孙*英") && !notice.contains("孙凤英"),
        "{notice}"
    );
    b.screenshot("23-public-notice-village").await;
    b.sign_out().await;

    b.sign_in("township").await;
    b.goto(&case).await;
    assert!(
        b.text("#review-rule").await.contains(&days_ago(1)),
        "the review is open from the day after the notice"
    );
    b.wait_for("#form-decide textarea[name=evidence]")
        .await
        .send_keys("公示期满，无异议，审核通过")
        .await
        .expect("evidence");
    b.screenshot("24-township-review-township").await;
    b.click("#form-decide button[type=submit]").await;
    b.wait_until("the township review", || async {
        b.query().await.contains("done=1")
    })
    .await;
    assert_eq!(b.text("#case-status").await, "待县级审批");
    b.sign_out().await;

    b.sign_in("county").await;
    b.goto(&case).await;
    b.wait_for("#form-decide textarea[name=evidence]")
        .await
        .send_keys("材料齐全，同意纳入")
        .await
        .expect("evidence");
    b.click("#form-decide button[type=submit]").await;
    b.wait_until("the county approval", || async {
        b.query().await.contains("done=1")
    })
    .await;
    assert_eq!(b.text("#case-status").await, "已批准纳入");
    assert_eq!(b.text("#enrolled").await, "已纳入，下次发放批次按规则补发");
    b.screenshot("25-approved-county").await;
    b.sign_out().await;
}

/// 9. After the month's run (step 7), the approved family's file shows it enrolled and paid by
///    that run.
async fn the_approved_family_is_paid(b: &Browser, family_p: &str) {
    b.sign_in("county").await;
    b.goto(&format!("/families/{family_p}")).await;
    assert_eq!(b.text("#enrolment").await, "已批准纳入");
    let month = guanai_rules::Month::of(guanai_web::pages::today());
    let run = format!("{}-371321-", month.to_string().replace('-', ""));
    let payments = b.text("#payments").await;
    assert!(
        payments.contains(&run),
        "A-101 is paid by the month's run {run}…: {payments}"
    );
    b.scroll_to("#casework").await;
    b.screenshot("26-enrolled-and-paid-county").await;
    b.sign_out().await;
}

/// A signed-in browser window on the served application.
struct Browser {
    client: Client,
    base: String,
    shots: PathBuf,
}

/// 8. Reports (issue 7): the county's statistical report draws its charts and totals in the
///    browser and prints without navigation; the inspector draws a spot check, verifies the draw,
///    and records a failed finding (refused without a note); anyone reads the public summary.
async fn reports_charts_and_a_spot_check(b: &Browser) {
    b.sign_in("county").await;
    b.goto("/reports").await;
    let chart = b.wait_for("#chart-families svg").await;
    let (_, _, width, height) = chart.rectangle().await.expect("chart size");
    assert!(
        width > 200.0 && height > 100.0,
        "the chart is drawn: {width}×{height}"
    );
    assert!(b.text("#total-families").await.starts_with("合计"));
    assert_eq!(b.text("#report-area").await, "沂南县");
    b.screenshot("30-reports-county").await;
    b.click("#print-link").await;
    b.wait_for("body.print-page").await;
    assert!(
        b.client.find(Locator::Css("header.top")).await.is_err(),
        "the printable version has no navigation"
    );
    b.screenshot("31-report-print-county").await;
    b.goto("/").await;
    b.sign_out().await;

    b.sign_in("inspector").await;
    b.goto("/spot-checks").await;
    b.set_value("#county", "371321").await;
    b.set_value("#size", "2").await;
    b.set_value("#seed", "7").await;
    b.click("#draw-button").await;
    b.wait_until("the drawn spot check", || async {
        b.path().await.starts_with("/spot-checks/S")
    })
    .await;
    b.click("#verify").await;
    b.wait_until("the draw to be verified", || async {
        b.client.find(Locator::Css("#verify-result")).await.is_ok()
    })
    .await;
    assert!(b.text("#verify-result").await.contains("复核通过"));
    // The first family's payment item, failed without a note: refused, nothing recorded.
    let family = b
        .wait_for("#families details")
        .await
        .attr("id")
        .await
        .expect("details id")
        .expect("an id");
    b.click(&format!("#{family} summary")).await;
    let form = b
        .wait_for(&format!("#{family} form[id$='-payment']"))
        .await
        .attr("id")
        .await
        .expect("form id")
        .expect("an id");
    b.set_value(&format!("#{form} select[name=result]"), "failed")
        .await;
    b.click(&format!("#{form} button[type=submit]")).await;
    b.wait_for(&format!("#{form}-note-error")).await;
    b.screenshot("32-spot-check-refused-inspector").await;
    b.set_value(&format!("#{form} select[name=result]"), "failed")
        .await;
    b.set_value(&format!("#{form} input[name=note]"), "十月扶助金未到账")
        .await;
    b.click(&format!("#{form} button[type=submit]")).await;
    b.wait_until("the failed finding", || async {
        b.client
            .find(Locator::Css(&format!(
                "#{form}-row td.finding .badge.block"
            )))
            .await
            .is_ok()
    })
    .await;
    assert!(
        b.text(&format!("#{form}-row td.finding"))
            .await
            .contains("十月扶助金未到账")
    );
    b.screenshot("33-spot-check-finding-inspector").await;
    b.goto("/").await;
    b.sign_out().await;

    b.goto("/public").await;
    b.wait_for("#suppression").await;
    let page = b.client.source().await.expect("page");
    assert!(!page.contains("孙凤英"), "no names on the public page");
    b.screenshot("34-public-summary").await;
}

impl Browser {
    async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigate");
    }

    async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .path()
            .to_owned()
    }

    async fn query(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .query()
            .unwrap_or("")
            .to_owned()
    }

    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!("waiting for {css} on {}: {e}", self.path().await),
        }
    }

    /// Polls `ready` until it holds, failing after [`WAIT`].
    async fn wait_until<F, Fut>(&self, what: &str, ready: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        let until = Instant::now() + WAIT;
        while !ready().await {
            assert!(
                Instant::now() < until,
                "timed out waiting for {what} (at {})",
                self.path().await
            );
            tokio::time::sleep(POLL).await;
        }
    }

    async fn text(&self, css: &str) -> String {
        self.wait_for(css)
            .await
            .text()
            .await
            .expect("text")
            .trim()
            .to_owned()
    }

    /// Sets an input's value as a script would and tells the page it changed: typing into
    /// `<input type=date>` or `type=month` depends on the browser's locale.
    async fn set_value(&self, css: &str, value: &str) {
        let input = self.wait_for(css).await;
        let set = self
            .client
            .execute(
                "arguments[0].value = arguments[1];
                 arguments[0].dispatchEvent(new Event('input', { bubbles: true }));
                 arguments[0].dispatchEvent(new Event('change', { bubbles: true }));
                 return arguments[0].value;",
                vec![serde_json::to_value(&input).expect("element"), json!(value)],
            )
            .await
            .expect("set value");
        assert_eq!(set, json!(value), "{css} took the value");
    }

    /// Scrolls the page so that `css` is at the top of the window (for a screenshot).
    async fn scroll_to(&self, css: &str) {
        let element = self.wait_for(css).await;
        self.client
            .execute(
                "arguments[0].scrollIntoView();",
                vec![serde_json::to_value(&element).expect("element")],
            )
            .await
            .expect("scroll");
    }

    async fn click(&self, css: &str) {
        self.wait_for(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// The rows of the monthly assistance table in the entitlement section.
    async fn monthly_rows(&self) -> u64 {
        self.wait_for("#entitlements table").await;
        let n = self
            .client
            .execute("return document.querySelector('#entitlements table').querySelectorAll('tr td:first-child').length;", vec![])
            .await
            .expect("count rows");
        n.as_u64().expect("a number")
    }

    async fn sign_in(&self, login: &str) {
        self.goto("/login").await;
        self.wait_for("#login")
            .await
            .send_keys(login)
            .await
            .expect("type login");
        self.wait_for("#password")
            .await
            .send_keys(support::PASSWORD)
            .await
            .expect("type password");
        self.click("#sign-in").await;
        self.wait_until(&format!("{login} to be signed in"), || async {
            self.path().await != "/login"
        })
        .await;
        self.wait_for("header.top .who").await;
    }

    async fn sign_out(&self) {
        self.click("header.top .who form button").await;
        self.wait_until("the login page", || async { self.path().await == "/login" })
            .await;
        self.wait_for("#login").await;
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// Serves the router on 127.0.0.1 on a free port for the rest of the test; returns its base URL.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    format!("http://{addr}")
}

/// A `chromedriver` process on a free port, ended when dropped.
struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    fn start(program: &Path) -> ChromeDriver {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("address")
            .port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        let driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let until = Instant::now() + WAIT;
        while TcpStream::connect_timeout(&addr, POLL).is_err() {
            assert!(
                Instant::now() < until,
                "chromedriver did not listen on port {port}"
            );
            std::thread::sleep(POLL);
        }
        driver
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session in headless Chromium with a fresh profile in `profile`.
async fn connect(driver: &str, profile: &Path) -> Client {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        // Without these two Chromium keeps dialling out, and this machine's closed network
        // refuses the connections.
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--window-size=1366,768",
        &format!("--user-data-dir={}", profile.display()),
    ];
    let mut capabilities = Capabilities::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": CHROMIUM, "args": args }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(driver)
        .await
        .unwrap_or_else(|e| panic!("WebDriver session with {CHROMIUM} through {driver}: {e}"));
    client
        .update_timeouts(TimeoutConfiguration::new(
            Some(WAIT),
            Some(WAIT),
            Some(Duration::ZERO),
        ))
        .await
        .expect("timeouts");
    client
}

/// Where screenshots go: `$CARGO_TARGET_DIR/browser-screenshots`, else the workspace's
/// `target/browser-screenshots` (created). Each run overwrites the steps' screenshots and removes
/// an earlier run's `failed.png`.
fn screenshot_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    };
    let dir = target.join("browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let _ = std::fs::remove_file(dir.join("failed.png"));
    dir.canonicalize().unwrap_or(dir)
}

/// The first `name` on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
