//! Complaints (投诉/异议, issue 6) through the real router, on SQLite and PostgreSQL: recorded by
//! the county and listed for it, unseen by another county; escalated one level per late period
//! (shown on the list, the complaint and the dashboard); answered once; the complainant shown
//! only for a reason, with an audit entry; a volunteer's complaint about the paired family, and
//! only theirs in the volunteer's list. Expectations are worked out from today's date.

mod support;

use axum::http::StatusCode;
use guanai_store::AuditQuery;
use guanai_web::pages::today;
use support::{VILLAGE_A, World, both};

fn days_ago(n: i64) -> String {
    today()
        .checked_sub(jiff::Span::new().days(n))
        .expect("date")
        .to_string()
}

/// The element of `body` starting at `id="…"` up to the end of its section.
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let Some(at) = body.find(&format!("id=\"{id}\"")) else {
        return "";
    };
    let end = body[at..].find("</section>").map_or(body.len(), |e| at + e);
    &body[at..end]
}

/// The text of the element with `id`, up to its closing tag.
fn element<'a>(body: &'a str, id: &str) -> &'a str {
    let Some(at) = body.find(&format!("id=\"{id}\"")) else {
        return "";
    };
    let start = at + body[at..].find('>').map_or(0, |e| e + 1);
    let end = start + body[start..].find('<').unwrap_or(0);
    &body[start..end]
}

/// Records a complaint through the form as `login`; the complaint's id.
async fn file(w: &World, login: &str, fields: &[(&str, &str)]) -> String {
    let mut c = w.client(login).await;
    let r = c.post("/complaints", fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.location.expect("redirect");
    let id = to
        .trim_start_matches("/complaints/")
        .trim_end_matches("?saved=1")
        .to_owned();
    assert!(id.starts_with('Q'), "{to}");
    id
}

fn complaint<'a>(
    area: &'a str,
    family: &'a str,
    summary: &'a str,
    received_on: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("area", area),
        ("family", family),
        ("source", "family"),
        ("complainant", "王大妈 13900001111"),
        ("summary", summary),
        ("detail", "十月份扶助金至今未到账，多次询问无答复。"),
        ("received_on", received_on),
    ]
}

#[tokio::test]
async fn a_complaint_recorded_by_the_county_is_listed_for_it_and_unseen_by_county_b() {
    both(async |w: &World| {
        let today = today().to_string();
        let summary = "十月扶助金未到账";
        let id = file(w, "county", &complaint("371321", "A-001", summary, &today)).await;
        let mut county = w.client("county").await;
        let r = county.get("/complaints").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("id=\"nav-complaints\""));
        let list = section(&r.body, "lists");
        assert!(list.contains(summary) && list.contains("待答复"), "{list}");
        let r = county.get(&format!("/complaints/{id}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("A-001"), "the family concerned");
        assert!(
            !r.body.contains("王大妈") && !r.body.contains("13900001111"),
            "the complainant is sealed"
        );
        assert!(
            r.body.contains("id=\"answer-complaint\"")
                && r.body.contains("id=\"reveal-complainant\"")
        );
        // On the family file, for caseworkers.
        let r = county.get(&format!("/families/{}", w.family_a)).await;
        assert!(section(&r.body, "services").contains(summary));

        // County B: not in its lists, and the complaint is "not found" however it is reached.
        let mut b = w.client("county_b").await;
        for list in ["open", "late", "all"] {
            let r = b.get(&format!("/complaints?list={list}")).await;
            assert_eq!(r.status, StatusCode::OK);
            assert!(!r.body.contains(summary), "county B lists it ({list})");
        }
        assert_eq!(
            b.get(&format!("/complaints/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        let r = b
            .post(&format!("/complaints/{id}/answer"), &[("answer", "已处理")])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = b
            .post(&format!("/complaints/{id}/reveal"), &[("reason", "核实")])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // Nor may county B record one about county A's family or in county A's area.
        let r = b
            .post(
                "/complaints",
                &complaint("371302", &w.family_a.to_string(), "x", &today),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(element(&r.body, "error-family").contains("没有这户家庭"));
        let r = b
            .post("/complaints", &complaint("371321", "", "x", &today))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(element(&r.body, "error-area").contains("本辖区"));
        let mut volunteer = w.client("volunteer").await;
        assert_eq!(
            volunteer.get(&format!("/complaints/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        // Errors next to their fields, the typed values kept.
        let tomorrow = today
            .parse::<jiff::civil::Date>()
            .expect("date")
            .checked_add(jiff::Span::new().days(1))
            .expect("date")
            .to_string();
        let r = county
            .post("/complaints", &complaint("371321", "A-999", "摘要", &today))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(element(&r.body, "error-family").contains("A-999"));
        assert!(r.body.contains("value=\"摘要\""), "the summary is kept");
        let r = county
            .post("/complaints", &complaint("371321", "", "摘要", &tomorrow))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(element(&r.body, "error-received_on").contains("cannot be in the future"));
        let r = county
            .post("/complaints", &complaint("371321", "", "", &today))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(element(&r.body, "error-summary").contains("必填"));
    })
    .await;
}

#[tokio::test]
async fn an_unanswered_complaint_past_its_due_day_is_escalated_on_the_lists_and_the_dashboard() {
    both(async |w: &World| {
        // 15 days to answer: received 40 days ago at the village, it is 25 days late — two
        // periods — and has climbed to the county; received 20 days ago at the county, one
        // period, to the city. One received today is open, not late.
        let village_late = file(
            w,
            "village",
            &complaint(VILLAGE_A, "A-001", "村里慰问金发放不公", &days_ago(40)),
        )
        .await;
        let county_late = file(
            w,
            "county",
            &complaint("371321", "", "县里电话无人接听", &days_ago(20)),
        )
        .await;
        file(
            w,
            "county",
            &complaint("371321", "", "今天收到的投诉", &today().to_string()),
        )
        .await;

        let mut county = w.client("county").await;
        let r = county.get("/complaints?list=late").await;
        let list = section(&r.body, "lists");
        assert!(list.contains("逾期，已升级至县区：沂南县"), "{list}");
        assert!(list.contains("逾期，已升级至市：临沂市"), "{list}");
        assert!(!list.contains("今天收到的投诉"), "not late");
        let r = county.get("/complaints?list=open").await;
        assert!(section(&r.body, "lists").contains("今天收到的投诉"));
        let r = county.get(&format!("/complaints/{village_late}")).await;
        assert!(element(&r.body, "escalated").contains("逾期，已升级至县区：沂南县"));
        let r = county.get(&format!("/complaints/{county_late}")).await;
        assert!(element(&r.body, "complaint-state").contains("已升级至市"));
        // The dashboard's card counts the late ones in scope.
        let r = county.get("/").await;
        let card = section(&r.body, "late-complaints");
        assert_eq!(element(card, "late-complaints-count"), "2", "{card}");
        assert!(card.contains("村里慰问金发放不公"));
        // The village sees its own complaint; county B sees none; the city sees both.
        let mut village = w.client("village").await;
        let r = village.get("/").await;
        assert_eq!(
            element(section(&r.body, "late-complaints"), "late-complaints-count"),
            "1"
        );
        let mut b = w.client("county_b").await;
        let r = b.get("/").await;
        assert_eq!(
            element(section(&r.body, "late-complaints"), "late-complaints-count"),
            "0"
        );
        let mut city = w.client("city").await;
        let r = city.get("/").await;
        assert_eq!(
            element(section(&r.body, "late-complaints"), "late-complaints-count"),
            "2"
        );
        // Finance and the administrator do not handle complaints.
        let mut finance = w.client("finance").await;
        let r = finance.get("/").await;
        assert!(!r.body.contains("late-complaints") && !r.body.contains("nav-complaints"));
        assert_eq!(
            finance.get("/complaints").await.status,
            StatusCode::FORBIDDEN
        );
    })
    .await;
}

#[tokio::test]
async fn a_complaint_is_answered_once_and_its_complainant_shown_only_for_a_reason_with_an_audit_entry()
 {
    both(async |w: &World| {
        let id = file(
            w,
            "county",
            &complaint("371321", "", "补贴标准有疑问", &days_ago(2)),
        )
        .await;
        let path = format!("/complaints/{id}");
        let mut county = w.client("county").await;
        let r = county
            .post(&format!("{path}/answer"), &[("answer", "  ")])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(element(&r.body, "error-answer").contains("必填"));
        let answer = "已电话说明二(二)规定的标准";
        let r = county
            .post(&format!("{path}/answer"), &[("answer", answer)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = county.get(&path).await;
        assert_eq!(element(&r.body, "answer-text"), answer);
        assert!(element(&r.body, "complaint-state").starts_with("已答复"));
        let r = county
            .post(&format!("{path}/answer"), &[("answer", "再答一次")])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(element(&r.body, "error-answer").contains("已答复"));
        let r = county.get("/complaints?list=open").await;
        assert!(
            !r.body.contains("补贴标准有疑问"),
            "answered: no longer open"
        );
        let r = county.get("/complaints?list=all").await;
        assert!(r.body.contains("补贴标准有疑问"));

        let reveals = async || {
            w.archive
                .audit_entries(&AuditQuery {
                    action_prefix: Some("complaint.reveal".into()),
                    ..AuditQuery::default()
                })
                .await
                .expect("audit")
        };
        let r = county
            .post(&format!("{path}/reveal"), &[("reason", " ")])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(element(&r.body, "error-reason").contains("请写明查看理由"));
        assert!(!r.body.contains("王大妈"));
        assert!(
            reveals().await.is_empty(),
            "nothing revealed, nothing logged"
        );
        let reason = "回访投诉人核实答复是否满意";
        let r = county
            .post(&format!("{path}/reveal"), &[("reason", reason)])
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(element(&r.body, "complainant"), "王大妈 13900001111");
        let logged = reveals().await;
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].target, id);
        assert_eq!(logged[0].reason, reason);
        assert!(logged[0].actor.starts_with("county "));
        // Shown in that response only.
        let r = county.get(&path).await;
        assert!(!r.body.contains("王大妈"));

        // The inspector reads it, answers nothing and sees nobody.
        let mut inspector = w.client("inspector").await;
        let r = inspector.get(&path).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains("id=\"reveal-complainant\""));
        let r = inspector
            .post(&format!("{path}/reveal"), &[("reason", reason)])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(reveals().await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_volunteer_records_complaints_about_the_paired_family_and_sees_only_theirs() {
    both(async |w: &World| {
        let today = today().to_string();
        file(
            w,
            "county",
            &complaint("371321", "A-001", "县里登记的投诉", &today),
        )
        .await;
        let mut volunteer = w.client("volunteer").await;
        let r = volunteer.get("/complaints").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("value=\"371321\""),
            "the area defaults to the volunteer's"
        );
        let mine = vec![
            ("area", "371321"),
            ("family", "A-001"),
            ("source", "volunteer"),
            ("complainant", "志愿者本人"),
            ("summary", "老人反映村里走访走过场"),
            ("detail", "近三个月无人入户。"),
            ("received_on", today.as_str()),
        ];
        let id = file(w, "volunteer", &mine).await;
        for list in ["open", "all"] {
            let r = volunteer.get(&format!("/complaints?list={list}")).await;
            let shown = section(&r.body, "lists");
            assert!(shown.contains("老人反映村里走访走过场"), "{list}");
            assert!(
                !shown.contains("县里登记的投诉"),
                "the county's is not the volunteer's ({list})"
            );
        }
        let r = volunteer.get(&format!("/complaints/{id}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            !r.body.contains("id=\"answer-complaint\"")
                && !r.body.contains("id=\"reveal-complainant\"")
        );
        let r = volunteer
            .post(&format!("/complaints/{id}/answer"), &[("answer", "x")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Not about a family that is not theirs, nor about no family.
        let mut other = mine.clone();
        other[1] = ("family", "A-002");
        let r = volunteer.post("/complaints", &other).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(element(&r.body, "error-family").contains("A-002"));
        other[1] = ("family", "");
        let r = volunteer.post("/complaints", &other).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(element(&r.body, "error-family").contains("结对家庭"));
        // The county sees the volunteer's complaint (its area) on the list and the family file.
        let mut county = w.client("county").await;
        let r = county.get("/complaints").await;
        assert!(section(&r.body, "lists").contains("老人反映村里走访走过场"));
        let r = volunteer.get(&format!("/families/{}", w.family_a)).await;
        assert!(
            !r.body.contains("县里登记的投诉"),
            "no complaints on the volunteer's file"
        );
    })
    .await;
}
