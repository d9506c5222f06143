//! Visits (走访, 二(一)) through the real router, on SQLite and PostgreSQL: making a year's plan,
//! the overdue, due-soon and dedicated-visitor lists per scope, recording, refusing and
//! withdrawing visits on the family file, follow-ups, the dedicated visitor, who may write, the
//! re-plan after a change of facts, the dashboard's card and the JSON API. Expectations are
//! worked out from today's date, so the tests hold on any day of the year.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use guanai_store::visits::PlannedVisit;
use guanai_store::{Actor, FamilyId, Relation};
use guanai_web::pages::today;
use http_body_util::BodyExt;
use jiff::civil::Date;
use serde_json::{Value, json};
use support::{MOTHER_A, World, both};
use tower::ServiceExt;

/// The `<tr>…</tr>` of `body` holding `needle`, if any.
fn row_with<'a>(body: &'a str, needle: &str) -> Option<&'a str> {
    let at = body.find(needle)?;
    let start = body[..at].rfind("<tr")?;
    let end = at + body[at..].find("</tr>")? + "</tr>".len();
    Some(&body[start..end])
}

/// How a period's window reads on the pages.
fn window(p: &PlannedVisit) -> String {
    format!("{} – {}", p.period.starts_on, p.period.due_on)
}

fn days(n: i64) -> jiff::Span {
    jiff::Span::new().days(n)
}

/// Makes `year`'s plan through the `/visits` form as the city caseworker; the page it leads to.
async fn plan(w: &World, year: i16) -> String {
    let mut city = w.client("city").await;
    let r = city
        .post("/visits/plan", &[("year", &year.to_string())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.location.expect("redirect");
    assert!(
        to.starts_with(&format!("/visits?planned={year}&families=3&")),
        "{to}"
    );
    to
}

async fn plan_of(w: &World, family: &FamilyId, year: i16) -> Vec<PlannedVisit> {
    w.archive
        .visit_plan_of(family, year)
        .await
        .expect("visit plan")
}

/// The regular period of family A covering today (father over 60: one every month).
async fn current_period(w: &World) -> PlannedVisit {
    let today = today();
    plan_of(w, &w.family_a, today.year())
        .await
        .into_iter()
        .find(|p| {
            p.period.kind == guanai_care::visits::PeriodKind::Regular
                && p.period.starts_on <= today
                && today <= p.period.due_on
        })
        .expect("a regular period covers today")
}

/// A visit as the record form sends it.
fn visit_form<'a>(visited_on: &'a str, found: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("visited_on", visited_on),
        ("occasion", "regular"),
        ("visitor", "王芳(村计生专干)"),
        ("found", found),
        ("needs", ""),
        ("follow_up", ""),
        ("follow_up_due", ""),
    ]
}

#[tokio::test]
async fn a_plan_made_by_the_city_lists_family_a_overdue_for_the_village_and_family_b_only_for_its_county()
 {
    both(async |w: &World| {
        let today = today();
        let year = today.year();
        // Last year's plan too: every one of its periods is overdue, whatever day this runs.
        plan(w, year - 1).await;
        let shown = plan(w, year).await;
        let mut city = w.client("city").await;
        let r = city.get(&shown).await;
        let mut periods = 0;
        for family in [&w.family_a, &w.family_a2, &w.family_b] {
            periods += plan_of(w, family, year).await.len();
        }
        assert!(
            r.body.contains(&format!(
                "已生成 {year} 年走访计划:3 户,{periods} 个走访期;0 户"
            )),
            "{}",
            r.body
        );
        assert!(r.body.contains("id=\"plan\""), "the city may plan");

        let this_year = plan_of(w, &w.family_a, year).await;
        let mut overdue: Vec<PlannedVisit> = plan_of(w, &w.family_a, year - 1).await;
        overdue.extend(this_year.iter().cloned());
        overdue.retain(|p| p.period.due_on < today);
        overdue.sort_by_key(|p| p.period.due_on);
        assert!(!overdue.is_empty());

        let mut village = w.client("village").await;
        let r = village.get("/visits").await;
        assert_eq!(r.status, StatusCode::OK);
        let list = &r.body[r.body.find("id=\"due-list\"").expect("the list")..];
        assert_eq!(
            list.matches("A-001").count(),
            overdue.len().min(20),
            "one row per overdue period, 20 a page"
        );
        assert!(list.contains(&window(&overdue[0])), "the oldest first");
        assert_eq!(r.body.contains("id=\"next-page\""), overdue.len() > 20);
        assert!(!r.body.contains("B-001"), "family B is another county's");
        assert!(!r.body.contains("A-002"), "A2 is another village's");
        assert!(!r.body.contains("id=\"plan\""), "a village may not plan");
        // This year's figures of the village's scope: family A's periods.
        let due = this_year
            .iter()
            .filter(|p| p.period.due_on < today)
            .count();
        let county = row_with(&r.body, "id=\"county-371321\"").expect("the county's row");
        assert!(
            county.contains(&format!(
                "<td class=\"num\">{}</td><td class=\"num\">{due}</td><td class=\"num\">0</td><td class=\"num\">{due}</td>",
                this_year.len()
            )),
            "{county}"
        );
        let coverage = if due == 0 { "—" } else { "0%" };
        assert!(county.contains(&format!("<td class=\"num\">{coverage}</td>")), "{county}");
        assert!(!r.body.contains("id=\"county-371302\""));
        let r = village.get("/visits?list=overdue&page=2").await;
        assert_eq!(
            r.body.matches("A-001").count(),
            overdue.len().saturating_sub(20).min(20)
        );
        let r = village.post("/visits/plan", &[("year", "2026")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        let mut county_b = w.client("county_b").await;
        let r = county_b.get("/visits").await;
        assert!(r.body.contains("B-001"));
        assert!(!r.body.contains("A-001"));
        assert!(r.body.contains("id=\"plan\""), "a county may plan its own");
    })
    .await;
}

#[tokio::test]
async fn a_year_without_festival_dates_or_not_a_year_is_refused_next_to_the_year_field() {
    let w = support::sqlite().await;
    let mut city = w.client("city").await;
    let r = city.post("/visits/plan", &[("year", "2100")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("没有 2100 年的节日日期"), "{}", r.body);
    let r = city.post("/visits/plan", &[("year", "二〇二六")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("年份应为四位数字"), "{}", r.body);
    assert!(r.body.contains("value=\"二〇二六\""), "the value is kept");
    w.cleanup().await;
}

#[tokio::test]
async fn without_a_plan_the_file_says_so_and_offers_the_plan_to_counties() {
    let w = support::sqlite().await;
    let a = w.family_a.to_string();
    let mut county = w.client("county").await;
    let r = county.get(&format!("/families/{a}")).await;
    let section = &r.body[r.body.find("id=\"visits\"").expect("the section")..];
    assert!(section.contains("id=\"no-plan\""));
    assert!(section.contains("href=\"/visits#plan\""));
    let mut village = w.client("village").await;
    let r = village.get(&format!("/families/{a}")).await;
    assert!(r.body.contains("id=\"no-plan\""));
    assert!(
        !r.body.contains("href=\"/visits#plan\""),
        "a village may not plan"
    );
    w.cleanup().await;
}

#[tokio::test]
async fn a_visit_dated_today_marks_the_current_period_visited() {
    both(async |w: &World| {
        let today = today();
        plan(w, today.year()).await;
        let current = current_period(w).await;
        let a = w.family_a.to_string();
        let mut village = w.client("village").await;
        let r = village.get(&format!("/families/{a}")).await;
        let row = row_with(&r.body, &window(&current)).expect("the period");
        assert!(!row.contains("已走访"), "{row}");
        assert!(row.contains("重点（专人） · 每月"), "{row}");
        assert!(
            r.body.contains("value=\"测试village\""),
            "the visitor defaults to the user"
        );
        assert!(
            r.body
                .contains(&format!("name=\"visited_on\" value=\"{today}\""))
        );

        let today_text = today.to_string();
        let r = village
            .post(
                &format!("/families/{a}/visits"),
                &visit_form(&today_text, "身体尚可,生活能自理,情绪稳定"),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            r.location.as_deref(),
            Some(format!("/families/{a}?saved=1#visits").as_str())
        );
        let r = village.get(&format!("/families/{a}?saved=1")).await;
        let row = row_with(&r.body, &window(&current)).expect("the period");
        assert!(row.contains(&format!("已走访 {today}")), "{row}");
        let record = row_with(&r.body, "身体尚可").expect("the record");
        assert!(record.contains("王芳(村计生专干)") && record.contains("测试village"));
        let stored = current_period(w).await;
        assert!(stored.visit_id.is_some(), "the store matched the visit");
        // Due soon lists only open periods: the visited one is gone from it.
        let r = village.get("/visits?list=soon").await;
        assert!(!r.body.contains(&window(&current)), "{}", r.body);
    })
    .await;
}

#[tokio::test]
async fn a_visit_in_the_future_without_what_was_found_or_with_a_follow_up_but_no_deadline_is_refused_and_nothing_is_written()
 {
    both(async |w: &World| {
        let today = today();
        let a = w.family_a.to_string();
        let mut village = w.client("village").await;
        let tomorrow = today.checked_add(days(1)).expect("date").to_string();
        let r = village
            .post(
                &format!("/families/{a}/visits"),
                &visit_form(&tomorrow, "明天的走访"),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body.contains(&format!(
                "id=\"error-visited_on\">走访日期 {tomorrow} 在今天"
            )),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("open id=\"form-visit\""),
            "the form is open"
        );
        assert!(
            r.body
                .contains(&format!("name=\"visited_on\" value=\"{tomorrow}\""))
        );
        assert!(
            r.body.contains(">明天的走访</textarea>"),
            "the text is kept"
        );

        let today_text = today.to_string();
        let r = village
            .post(
                &format!("/families/{a}/visits"),
                &visit_form(&today_text, "  "),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body.contains("id=\"error-found\">请填写走访情况"),
            "{}",
            r.body
        );

        let mut fields = visit_form(&today_text, "老人反映腰腿疼");
        fields.retain(|(k, _)| *k != "follow_up");
        fields.push(("follow_up", "协助申请医疗救助"));
        let r = village
            .post(&format!("/families/{a}/visits"), &fields)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body
                .contains("id=\"error-follow_up_due\">后续事项需要办理期限"),
            "{}",
            r.body
        );
        assert!(r.body.contains(">协助申请医疗救助</textarea>"));

        let r = village
            .post(
                &format!("/families/{a}/visits"),
                &visit_form("2026-13-01", "x"),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body
                .contains("id=\"error-visited_on\">日期格式应为 YYYY-MM-DD")
        );

        assert!(
            w.archive
                .visits_of(&w.family_a)
                .await
                .expect("visits")
                .is_empty(),
            "nothing was written"
        );
    })
    .await;
}

#[tokio::test]
async fn the_paired_volunteer_records_visits_and_closes_follow_ups_only_for_the_paired_family() {
    both(async |w: &World| {
        let today = today();
        plan(w, today.year() - 1).await;
        let today_text = today.to_string();
        let (a, a2, b) = (
            w.family_a.to_string(),
            w.family_a2.to_string(),
            w.family_b.to_string(),
        );
        let mut volunteer = w.client("volunteer").await;
        let r = volunteer.get(&format!("/families/{a}")).await;
        assert!(r.body.contains("id=\"visits\"") && r.body.contains("id=\"form-visit\""));
        assert!(
            !r.body.contains("id=\"form-dedicated\""),
            "caseworkers name the 专人"
        );
        let due = today.checked_add(days(7)).expect("date").to_string();
        let mut fields = visit_form(&today_text, "独居,屋内较冷");
        fields.retain(|(k, _)| *k != "follow_up" && *k != "follow_up_due");
        fields.extend([("follow_up", "联系村里送取暖煤"), ("follow_up_due", &due)]);
        let r = volunteer
            .post(&format!("/families/{a}/visits"), &fields)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        for other in [&a2, &b] {
            let r = volunteer
                .post(&format!("/families/{other}/visits"), &fields)
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{other}");
        }
        let visit = w.archive.visits_of(&w.family_a).await.expect("visits");
        assert_eq!(visit.len(), 1);
        let id = &visit[0].visit_id;
        // The volunteer may close the follow-up, not withdraw the record.
        let r = volunteer
            .post(
                &format!("/families/{a}/visits/{id}/withdraw"),
                &[("text", "不该撤销")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = volunteer
            .post(
                &format!("/families/{a}/visits/{id}/follow-up"),
                &[("text", "")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("请填写办理结果"), "{}", r.body);
        let r = volunteer
            .post(
                &format!("/families/{a}/visits/{id}/follow-up"),
                &[("text", "村委会已送煤500斤")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = volunteer.get(&format!("/families/{a}")).await;
        assert!(r.body.contains("办理结果: 村委会已送煤500斤"), "{}", r.body);
        // The volunteer's lists hold the paired family only, and there is no plan form.
        let r = volunteer.get("/visits").await;
        assert!(r.body.contains("A-001"));
        assert!(!r.body.contains("A-002") && !r.body.contains("B-001"));
        assert!(!r.body.contains("id=\"plan\""));
        let r = volunteer.post("/visits/plan", &[("year", "2026")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = volunteer
            .post(
                &format!("/families/{a}/dedicated-visitor"),
                &[("visitor", "x"), ("unit", "y")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn a_break_the_glass_user_and_the_finance_and_inspector_roles_may_not_record_visits() {
    both(async |w: &World| {
        let today = today().to_string();
        let a = w.family_a.to_string();
        let fields = visit_form(&today, "只读用户不能登记");
        let mut county_b = w.client("county_b").await;
        let r = county_b
            .post("/access", &[("id", MOTHER_A), ("reason", "跨县迁移核实")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = county_b.get(&format!("/families/{a}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("id=\"visits\"") && !r.body.contains("id=\"form-visit\""));
        let r = county_b
            .post(&format!("/families/{a}/visits"), &fields)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "a grant is read-only");
        let r = county_b
            .post(
                &format!("/families/{a}/dedicated-visitor"),
                &[("visitor", "x"), ("unit", "y")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        for login in ["finance", "inspector"] {
            let mut c = w.client(login).await;
            let r = c.get(&format!("/families/{a}")).await;
            assert!(
                r.body.contains("id=\"visits\"") && !r.body.contains("id=\"form-visit\""),
                "{login} reads the section without the form"
            );
            let r = c.post(&format!("/families/{a}/visits"), &fields).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{login}");
        }
        assert!(
            w.archive
                .visits_of(&w.family_a)
                .await
                .expect("visits")
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_withdrawn_visit_leaves_its_period_overdue_again() {
    both(async |w: &World| {
        let last = today().year() - 1;
        plan(w, last).await;
        let a = w.family_a.to_string();
        // The first regular period of last year: overdue, and on the list's first page.
        let period = plan_of(w, &w.family_a, last)
            .await
            .into_iter()
            .find(|p| p.period.kind == guanai_care::visits::PeriodKind::Regular)
            .expect("a regular period");
        let mut village = w.client("village").await;
        let r = village.get("/visits?list=overdue").await;
        assert!(r.body.contains(&window(&period)));

        let on = period.period.starts_on.to_string();
        let r = village
            .post(
                &format!("/families/{a}/visits"),
                &visit_form(&on, "补录:当月已入户走访"),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let to = r.location.expect("redirect");
        assert_eq!(to, format!("/families/{a}?year={last}&saved=1#visits"));
        let r = village.get(to.trim_end_matches("#visits")).await;
        let row = row_with(&r.body, &window(&period)).expect("the period");
        assert!(row.contains(&format!("已走访 {on}")), "{row}");
        let r = village.get("/visits?list=overdue").await;
        assert!(!r.body.contains(&window(&period)), "no longer overdue");

        let visit = w.archive.visits_of(&w.family_a).await.expect("visits");
        let id = &visit[0].visit_id;
        let year = last.to_string();
        let r = village
            .post(
                &format!("/families/{a}/visits/{id}/withdraw"),
                &[("text", ""), ("year", &year)],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("请写明撤销理由"), "{}", r.body);
        let r = village
            .post(
                &format!("/families/{a}/visits/{id}/withdraw"),
                &[("text", "日期记错,重新登记"), ("year", &year)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = village.get(&format!("/families/{a}?year={last}")).await;
        let row = row_with(&r.body, &window(&period)).expect("the period");
        assert!(row.contains("逾期"), "{row}");
        let record = row_with(&r.body, "补录:当月已入户走访").expect("the record");
        assert!(record.contains("class=\"replaced\""), "{record}");
        assert!(
            record.contains("撤销: village (测试village) — 日期记错,重新登记"),
            "{record}"
        );
        let r = village.get("/visits?list=overdue").await;
        assert!(r.body.contains(&window(&period)), "overdue again");
        // A withdrawn record cannot be withdrawn twice.
        let r = village
            .post(
                &format!("/families/{a}/visits/{id}/withdraw"),
                &[("text", "再撤一次")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("id=\"visit-error\""), "{}", r.body);
    })
    .await;
}

#[tokio::test]
async fn naming_a_dedicated_visitor_shows_on_the_file_and_takes_the_family_off_the_list() {
    both(async |w: &World| {
        plan(w, today().year()).await;
        let a = w.family_a.to_string();
        let mut village = w.client("village").await;
        let r = village.get(&format!("/families/{a}")).await;
        assert!(r.body.contains("id=\"dedicated-missing\""), "{}", r.body);
        let r = village.get("/visits?list=dedicated").await;
        let list = &r.body[r.body.find("id=\"dedicated-list\"").expect("list")..];
        assert!(list.contains("A-001"));
        let r = village.get("/visits").await;
        let county = row_with(&r.body, "id=\"county-371321\"").expect("the county");
        assert!(
            county.ends_with("<td class=\"num\">1</td><td class=\"num\">1</td></tr>"),
            "one family needs a 专人 and has none: {county}"
        );

        let r = village
            .post(
                &format!("/families/{a}/dedicated-visitor"),
                &[("visitor", "刘红梅"), ("unit", "")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("请填写专人所在单位或职务"), "{}", r.body);
        assert!(r.body.contains("value=\"刘红梅\""), "the name is kept");
        let r = village
            .post(
                &format!("/families/{a}/dedicated-visitor"),
                &[("visitor", "刘红梅"), ("unit", "岸堤镇计生办")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = village.get(&format!("/families/{a}")).await;
        assert!(
            r.body.contains("id=\"dedicated\">刘红梅 · 岸堤镇计生办"),
            "{}",
            r.body
        );
        assert!(!r.body.contains("id=\"dedicated-missing\""));
        let r = village.get("/visits?list=dedicated").await;
        let list = &r.body[r.body.find("id=\"dedicated-list\"").expect("list")..];
        assert!(!list.contains("A-001"));
        let r = village.get("/visits").await;
        let county = row_with(&r.body, "id=\"county-371321\"").expect("the county");
        assert!(
            county.ends_with("<td class=\"num\">1</td><td class=\"num\">0</td></tr>"),
            "{county}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_death_recorded_or_withdrawn_on_the_file_replans_the_familys_year() {
    both(async |w: &World| {
        let today = today();
        let year = today.year();
        plan(w, year).await;
        let before = plan_of(w, &w.family_a, year).await;
        let a = w.family_a.to_string();
        let file = w.archive.family_file(&w.family_a).await.expect("file");
        let people = file.people(None);
        let person = |r: Relation| {
            people
                .iter()
                .find(|p| p.relation == r)
                .expect("parent")
                .person_id
                .to_string()
        };
        let (mother, father) = (person(Relation::Mother), person(Relation::Father));
        let january = Date::new(year, 1, 1).expect("date").to_string();
        // Deaths are recorded by the township (the level the policy names).
        let mut township = w.client("township").await;
        for parent in [&mother, &father] {
            let version = w
                .archive
                .family_file(&w.family_a)
                .await
                .expect("file")
                .version
                .to_string();
            let r = township
                .post(
                    &format!("/families/{a}/record"),
                    &[
                        ("form", "death"),
                        ("version", &version),
                        ("person", parent),
                        ("date", &january),
                        ("reason", "殡仪馆通报"),
                    ],
                )
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        }
        // Both parents died in January: nobody is visited from February.
        let after = plan_of(w, &w.family_a, year).await;
        assert!(after.len() < before.len(), "{after:?}");
        assert!(
            after.iter().all(|p| p.period.due_on.month() == 1),
            "{after:?}"
        );

        let death = w
            .archive
            .family_file(&w.family_a)
            .await
            .expect("file")
            .current(None)
            .into_iter()
            .find(|f| {
                f.kind == "death"
                    && f.person_id.as_ref().map(ToString::to_string) == Some(mother.clone())
            })
            .expect("the mother's death")
            .fact_id
            .to_string();
        let version = w
            .archive
            .family_file(&w.family_a)
            .await
            .expect("file")
            .version
            .to_string();
        let r = township
            .post(
                &format!("/families/{a}/withdraw"),
                &[
                    ("version", &version),
                    ("fact", &death),
                    ("reason", "误报,本人健在"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let restored = plan_of(w, &w.family_a, year).await;
        assert!(
            restored.iter().any(|p| p.period.starts_on.month() > 1),
            "the mother is visited again: {restored:?}"
        );
    })
    .await;
}

/// The dashboard's visit card once it is counted (in the background): the figure `id`.
async fn card(c: &mut support::Client, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    for _ in 0..200 {
        let r = c.get("/").await;
        assert!(
            r.body.contains("id=\"visits\""),
            "the card is on the dashboard"
        );
        if let Some(at) = r.body.find(&marker) {
            let rest = &r.body[at + marker.len()..];
            return rest[..rest.find('<').expect("the figure's end")].to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the dashboard's visit figures were never counted");
}

#[tokio::test]
async fn the_dashboard_card_counts_the_scopes_visits_in_the_background_and_again_after_a_plan() {
    both(async |w: &World| {
        let today = today();
        let mut village = w.client("village").await;
        assert_eq!(
            card(&mut village, "visits-overdue").await,
            "0",
            "no plan yet"
        );
        assert_eq!(card(&mut village, "visits-coverage").await, "—");
        plan(w, today.year()).await;
        let plan_a = plan_of(w, &w.family_a, today.year()).await;
        let due = plan_a.iter().filter(|p| p.period.due_on < today).count();
        let soon = plan_a
            .iter()
            .filter(|p| {
                p.period.starts_on <= today
                    && today <= p.period.due_on
                    && p.period.due_on <= today.checked_add(days(14)).expect("date")
            })
            .count();
        // Making the plan forgot the figures counted before it.
        assert_eq!(card(&mut village, "visits-overdue").await, due.to_string());
        assert_eq!(card(&mut village, "visits-soon").await, soon.to_string());
        assert_eq!(card(&mut village, "visits-dedicated").await, "1");
        let coverage = if due == 0 { "—" } else { "0%" };
        assert_eq!(card(&mut village, "visits-coverage").await, coverage);
        // The city's card counts all three families.
        let mut city = w.client("city").await;
        assert_eq!(card(&mut city, "visits-dedicated").await, "3");
    })
    .await;
}

struct ApiReply {
    status: StatusCode,
    json: Value,
}

async fn api(w: &World, method: &str, path: &str, token: &str, body: Option<Value>) -> ApiReply {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "localhost")
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let body = match body {
        Some(v) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let response = w
        .router
        .clone()
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    ApiReply {
        status,
        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn token(w: &World, login: &str) -> String {
    w.archive
        .create_api_token(&w.user(login).user_id, "test", &Actor::new("test"))
        .await
        .expect("token")
}

#[tokio::test]
async fn the_api_reads_and_records_visits_and_lists_overdue_ones_in_the_token_users_scope() {
    both(async |w: &World| {
        let today = today();
        plan(w, today.year() - 1).await;
        plan(w, today.year()).await;
        let village = token(w, "village").await;
        let a = w.family_a.to_string();
        let path = format!("/api/v1/families/{a}/visits");
        let r = api(w, "GET", &path, &village, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        let periods = r.json["periods"].as_array().expect("periods");
        assert_eq!(periods.len(), plan_of(w, &w.family_a, today.year()).await.len());
        assert_eq!(r.json["dedicated_visitor_missing"], json!(true));
        assert_eq!(r.json["visits"], json!([]));

        let tomorrow = today.checked_add(days(1)).expect("date").to_string();
        let visit = |on: &str| {
            json!({"visited_on": on, "occasion": "regular", "visitor": "王芳", "found": "身体尚可"})
        };
        let r = api(w, "POST", &path, &village, Some(visit(&tomorrow))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json["fields"][0]["field"], json!("visited_on"), "{}", r.json);
        assert!(
            r.json["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("visited_on: ")),
            "{}",
            r.json
        );
        let mut unknown = visit(&today.to_string());
        unknown["mood"] = json!("good");
        let r = api(w, "POST", &path, &village, Some(unknown)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
        assert!(w.archive.visits_of(&w.family_a).await.expect("v").is_empty());

        let r = api(w, "POST", &path, &village, Some(visit(&today.to_string()))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        let id = r.json["visit_id"].as_str().expect("id").to_owned();
        let r = api(w, "GET", &path, &village, None).await;
        assert_eq!(r.json["visits"][0]["visit_id"], json!(id));
        let done = r.json["periods"]
            .as_array()
            .expect("periods")
            .iter()
            .find(|p| p["visit_id"] == json!(id))
            .expect("the period the visit satisfied");
        assert_eq!(done["status"], json!("done"));
        assert_eq!(done["visited_on"], json!(today.to_string()));

        let r = api(w, "GET", "/api/v1/visits/overdue", &village, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        let rows = r.json["periods"].as_array().expect("periods");
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|p| p["family_id"] == json!(a)));
        let r = api(w, "GET", "/api/v1/visits/overdue?page=0", &village, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);

        let b = w.family_b.to_string();
        for (method, body) in [("GET", None), ("POST", Some(visit(&today.to_string())))] {
            let r = api(w, method, &format!("/api/v1/families/{b}/visits"), &village, body).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} B");
        }
        let county_b = token(w, "county_b").await;
        let r = api(w, "GET", "/api/v1/visits/overdue", &county_b, None).await;
        let rows = r.json["periods"].as_array().expect("periods");
        assert!(!rows.is_empty() && rows.iter().all(|p| p["family_id"] == json!(b)));
        let finance = token(w, "finance").await;
        let r = api(w, "POST", &path, &finance, Some(visit(&today.to_string()))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(w.archive.visits_of(&w.family_a).await.expect("v").len(), 1);
    })
    .await;
}
