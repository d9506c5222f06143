//! Casework (申请审批 and 年度资格确认, issue 6) through the real router and its forms, on SQLite
//! and PostgreSQL: an application from the village check through the public notice, an objection
//! and its handling, the township review and the county approval, each by its own user, with
//! every step out of order refused next to its form; the printable notice (masked names, no ID
//! number); four eyes; a rejection's one appeal; another county's application never found;
//! payment runs built through the web paying the family only after approval; applying from the
//! family file; the census import as applications; and the annual re-confirmation. Dates are
//! worked out from today, so the tests hold on any day.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use guanai_rules::{ResidentId, parse_date};
use guanai_store::FamilyId;
use guanai_store::access::{NewUser, Role};
use guanai_store::casework::Status;
use guanai_web::pages::today;
use support::{Client, PASSWORD, Reply, VILLAGE_A, World, applicant, both};

/// `n` days before today, as the forms take dates.
fn ago(n: i64) -> String {
    today()
        .checked_sub(jiff::Span::new().days(n))
        .expect("date")
        .to_string()
}

/// The application's version now.
async fn version(w: &World, id: &str) -> String {
    w.archive
        .application(id)
        .await
        .expect("application")
        .version
        .to_string()
}

async fn status(w: &World, id: &str) -> Status {
    w.archive.application(id).await.expect("application").status
}

/// The text of the element with `id` up to its closing `</tag>`.
fn element<'a>(body: &'a str, id: &str, tag: &str) -> &'a str {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {body}"));
    let end = body[start..]
        .find(&format!("</{tag}>"))
        .map_or(body.len(), |e| start + e);
    &body[start..end]
}

/// A decision through the form: step, version, pass or reject, and [evidence, reason, the village
/// check's date].
async fn decide(
    c: &mut Client,
    id: &str,
    step: &str,
    version: &str,
    decision: &str,
    [evidence, reason, on_date]: [&str; 3],
) -> Reply {
    c.post(
        &format!("/cases/{id}/decide"),
        &[
            ("step", step),
            ("version", version),
            ("decision", decision),
            ("evidence", evidence),
            ("reason", reason),
            ("on_date", on_date),
        ],
    )
    .await
}

fn saved(r: &Reply, id: &str) {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/cases/{id}?done=1").as_str())
    );
}

/// The village passes the check (dated 9 days ago) and posts the notice from 8 days ago: the
/// notice is over today.
async fn checked_and_posted(w: &World, id: &str) {
    let mut v = w.client("village").await;
    let r = decide(
        &mut v,
        id,
        "village_check",
        &version(w, id).await,
        "pass",
        ["入户核实，材料齐全，情况属实", "", &ago(9)],
    )
    .await;
    saved(&r, id);
    let r = v
        .post(
            &format!("/cases/{id}/notice"),
            &[("version", &version(w, id).await), ("from", &ago(8))],
        )
        .await;
    saved(&r, id);
}

/// Builds this month's run for 沂南县 as `finance`; the run's id.
async fn build_run(w: &World) -> String {
    let mut f = w.client("finance").await;
    let month = guanai_rules::Month::of(today()).to_string();
    let r = f
        .post("/payments", &[("month", &month), ("county", "371321")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.location.expect("the run");
    to.trim_start_matches("/payments/")
        .trim_end_matches("?done=built")
        .to_owned()
}

/// The `#lines` section of a run's page.
async fn run_lines(w: &World, run: &str) -> String {
    let mut f = w.client("finance").await;
    let r = f.get(&format!("/payments/{run}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let at = r.body.find("id=\"lines\"").expect("lines");
    r.body[at..].to_owned()
}

async fn problems_of(w: &World, run: &str) -> String {
    let mut f = w.client("finance").await;
    let r = f.get(&format!("/payments/{run}")).await;
    element(&r.body, "problems", "section").to_owned()
}

#[tokio::test]
async fn an_application_passes_every_step_in_order_through_the_forms_and_is_paid_only_after_approval()
 {
    both(async |w: &World| {
        let (family, id) = applicant(w, "A-101", "孙凤英", 101).await;
        let p = family.to_string();

        // Before approval a run pays the family nothing, and says why.
        let run = build_run(w).await;
        let lines = run_lines(w, &run).await;
        assert!(lines.contains(&w.family_a.to_string()), "{lines}");
        assert!(
            !lines.contains(&p),
            "the pending family is not paid: {lines}"
        );
        let problems = problems_of(w, &run).await;
        assert!(
            problems.contains(&p) && problems.contains("enrolment_pending"),
            "{problems}"
        );
        let mut f = w.client("finance").await;
        let r = f
            .post(
                &format!("/payments/{run}/discard"),
                &[("reason", "等待审批后重做")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        // The village's list holds the open application; its page offers the village check only.
        let mut v = w.client("village").await;
        let r = v.get("/cases").await;
        assert_eq!(r.status, StatusCode::OK);
        let row = element(&r.body, &format!("case-{id}"), "tr");
        assert!(
            row.contains("A-101") && row.contains("待村级初审") && row.contains("孙凤英（母亲）"),
            "{row}"
        );
        let r = v.get(&format!("/cases/{id}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("class=\"decide-village_check\"")
                && !r.body.contains("id=\"form-notice\""),
            "{}",
            r.body
        );
        assert!(r.body.contains(&format!("href=\"/families/{p}#casework\"")));

        // Out of order: the county cannot approve first, the township cannot review yet.
        let mut c = w.client("county").await;
        let r = c.get(&format!("/cases/{id}")).await;
        assert!(
            !r.body.contains("id=\"form-decide\""),
            "nothing for the county yet"
        );
        let r = decide(
            &mut c,
            &id,
            "county_approval",
            "1",
            "pass",
            ["同意", "", ""],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let error = element(&r.body, "case-error", "p");
        assert!(
            error.contains("待村级初审") && error.contains("不能进行县级审批"),
            "{error}"
        );
        let mut t = w.client("township").await;
        let r = decide(
            &mut t,
            &id,
            "township_review",
            "1",
            "pass",
            ["审核", "", ""],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&r.body, "case-error", "p").contains("不能进行乡镇审核"),
            "{}",
            r.body
        );
        // The township may take the village check, so its form stays; nothing changed.
        assert!(r.body.contains("class=\"decide-village_check\""));
        assert_eq!(status(w, &id).await, Status::Applied);

        // The village check: a rejection needs its reason, shown next to the field; the date
        // cannot precede the application.
        let r = decide(
            &mut v,
            &id,
            "village_check",
            "1",
            "reject",
            ["", " ", &ago(9)],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&r.body, "error-reason", "span").contains("必填"),
            "{}",
            r.body
        );
        let r = decide(
            &mut v,
            &id,
            "village_check",
            "1",
            "pass",
            ["入户核实", "", &ago(31)],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&r.body, "error-on_date", "span").contains("初审不能早于申请日期"),
            "{}",
            r.body
        );
        let r = decide(
            &mut v,
            &id,
            "village_check",
            "1",
            "pass",
            ["入户核实，材料齐全，情况属实", "", &ago(9)],
        )
        .await;
        saved(&r, &id);

        // The notice: a stale version is refused with the store's message next to the form.
        let r = v
            .post(
                &format!("/cases/{id}/notice"),
                &[("version", "1"), ("from", &ago(8))],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&r.body, "error-notice", "p").contains("申请已被他人处理"),
            "{}",
            r.body
        );
        let r = v
            .post(
                &format!("/cases/{id}/notice"),
                &[("version", "2"), ("from", &ago(8))],
            )
            .await;
        saved(&r, &id);
        let r = v.get(&format!("/cases/{id}?done=1")).await;
        assert!(
            element(&r.body, "notice-period", "td").contains(&format!("{} 至 {}", ago(8), ago(2))),
            "{}",
            r.body
        );

        // The printable notice of a day in the period: masked names, the census number, no ID
        // number, no full name.
        let r = v.get(&format!("/cases/notice?date={}", ago(5))).await;
        assert_eq!(r.status, StatusCode::OK);
        let notice = element(&r.body, "notice", "article");
        assert!(
            notice.contains("A-101")
                && notice.contains("孙*英、李*国、李*")
                && notice.contains(&format!("{} 至 {}", ago(8), ago(2))),
            "{notice}"
        );
        let mother_id = ResidentId::build(
            &VILLAGE_A[..6],
            parse_date("1966-04-20").expect("date"),
            101,
        )
        .expect("id");
        for secret in [
            "孙凤英",
            "李建国",
            mother_id.as_str(),
            &mother_id.as_str()[..6],
        ] {
            assert!(!r.body.contains(secret), "{secret} is on the notice");
        }
        let r = v.get("/cases/notice").await;
        assert!(
            r.body.contains("id=\"no-notice\""),
            "the notice ended two days ago"
        );

        // An objection during the notice; the review waits for its handling.
        let r = v
            .post(
                &format!("/cases/{id}/objection"),
                &[
                    ("raised_on", &ago(5)),
                    ("raised_by", "邻居"),
                    ("content", "该户子女是否为独生子女有疑问"),
                ],
            )
            .await;
        saved(&r, &id);
        let r = t.get(&format!("/cases/{id}")).await;
        assert!(
            element(&r.body, "review-rule", "p").contains(&ago(1))
                && r.body.contains("id=\"open-objections\">1<"),
            "{}",
            r.body
        );
        let r = decide(
            &mut t,
            &id,
            "township_review",
            "3",
            "pass",
            ["审核通过", "", ""],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&r.body, "error-decide", "p").contains("还有未处理的公示异议"),
            "{}",
            r.body
        );
        let objection = w.archive.application(&id).await.expect("app").objections[0]
            .objection_id
            .clone();
        let r = t
            .post(
                &format!("/cases/{id}/objections/{objection}/resolve"),
                &[
                    ("upheld", "0"),
                    ("resolution", "查独生子女证及户籍档案，属实"),
                ],
            )
            .await;
        saved(&r, &id);
        let r = t.get(&format!("/cases/{id}")).await;
        let row = element(&r.body, &format!("objection-{objection}"), "tr");
        assert!(
            row.contains("异议不成立：查独生子女证及户籍档案，属实"),
            "{row}"
        );
        // A stale version is refused; the current one passes.
        let r = decide(
            &mut t,
            &id,
            "township_review",
            "2",
            "pass",
            ["审核通过", "", ""],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&r.body, "error-decide", "p").contains("申请已被他人处理"),
            "{}",
            r.body
        );
        let r = decide(
            &mut t,
            &id,
            "township_review",
            "3",
            "pass",
            ["审核通过，公示无有效异议", "", ""],
        )
        .await;
        saved(&r, &id);
        // The township may not approve: that is the county's.
        let r = decide(
            &mut t,
            &id,
            "county_approval",
            "4",
            "pass",
            ["同意", "", ""],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(status(w, &id).await, Status::Reviewed);

        let r = c.get(&format!("/cases/{id}")).await;
        assert!(
            r.body.contains("class=\"decide-county_approval\""),
            "{}",
            r.body
        );
        let r = decide(
            &mut c,
            &id,
            "county_approval",
            "4",
            "pass",
            ["同意纳入", "", ""],
        )
        .await;
        saved(&r, &id);
        let r = c.get(&format!("/cases/{id}?done=1")).await;
        assert!(
            element(&r.body, "enrolled", "p").contains("已纳入，下次发放批次按规则补发"),
            "{}",
            r.body
        );
        assert!(!r.body.contains("id=\"form-decide\""));
        let steps = element(&r.body, "step-list", "table");
        for (step, who) in [
            ("村级初审", "village (测试village)"),
            ("张榜公示", "village (测试village)"),
            ("公示异议", "邻居：该户子女是否为独生子女有疑问"),
            ("异议处理", "township (测试township)"),
            ("乡镇审核", "township (测试township)"),
            ("县级审批", "county (测试county)"),
        ] {
            assert!(
                steps.contains(step) && steps.contains(who),
                "{step} {who}: {steps}"
            );
        }
        let r = v.get(&format!("/families/{p}")).await;
        assert!(
            element(&r.body, "enrolment", "span").contains("已批准纳入"),
            "{}",
            r.body
        );

        // Approved: the next run pays it.
        let run = build_run(w).await;
        let lines = run_lines(w, &run).await;
        assert!(lines.contains(&p), "the approved family is paid: {lines}");
        assert!(!problems_of(w, &run).await.contains("enrolment_pending"));
    })
    .await;
}

#[tokio::test]
async fn the_township_review_waits_until_the_notice_has_ended() {
    both(async |w: &World| {
        let (_, id) = applicant(w, "A-102", "钱桂芝", 102).await;
        let mut v = w.client("village").await;
        let r = decide(
            &mut v,
            &id,
            "village_check",
            "1",
            "pass",
            ["入户核实", "", ""],
        )
        .await;
        saved(&r, &id);
        let r = v.get(&format!("/cases/{id}")).await;
        let until = ago(-6);
        assert!(
            element(&r.body, "notice-until-today", "span").contains(&until),
            "{}",
            r.body
        );
        let r = v
            .post(
                &format!("/cases/{id}/notice"),
                &[("version", "2"), ("from", &today().to_string())],
            )
            .await;
        saved(&r, &id);
        // On today's notice, masked.
        let r = v.get("/cases/notice").await;
        assert!(
            r.body.contains("钱*芝") && !r.body.contains("钱桂芝"),
            "{}",
            r.body
        );
        let mut t = w.client("township").await;
        let r = t.get(&format!("/cases/{id}")).await;
        assert!(
            element(&r.body, "review-from", "strong").contains(&ago(-7)),
            "{}",
            r.body
        );
        let r = decide(
            &mut t,
            &id,
            "township_review",
            "3",
            "pass",
            ["审核通过", "", ""],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&r.body, "error-decide", "p").contains(&format!("公示期至 {until} 才结束")),
            "{}",
            r.body
        );
        assert_eq!(status(w, &id).await, Status::Notice);
        // An objection dated before the notice is refused next to its field.
        let r = v
            .post(
                &format!("/cases/{id}/objection"),
                &[
                    ("raised_on", &ago(1)),
                    ("raised_by", "村民"),
                    ("content", "不同意"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&r.body, "error-raised_on", "span").contains("公示期"),
            "{}",
            r.body
        );
    })
    .await;
}

#[tokio::test]
async fn one_person_decides_one_step_of_an_application() {
    both(async |w: &World| {
        let (_, id) = applicant(w, "A-103", "周玉兰", 103).await;
        checked_and_posted(w, &id).await;
        // The county may review (for the township) …
        let mut c = w.client("county").await;
        let r = decide(
            &mut c,
            &id,
            "township_review",
            "3",
            "pass",
            ["代乡镇审核", "", ""],
        )
        .await;
        saved(&r, &id);
        // … but then not also approve.
        let r = c.get(&format!("/cases/{id}")).await;
        assert!(
            element(&r.body, "four-eyes", "p").contains("乡镇审核"),
            "{}",
            r.body
        );
        let r = decide(
            &mut c,
            &id,
            "county_approval",
            "4",
            "pass",
            ["同意", "", ""],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&r.body, "error-decide", "p").contains("同一人不能审核同一申请的两个环节"),
            "{}",
            r.body
        );
        // The township has no say in the approval at all.
        let mut t = w.client("township").await;
        let r = decide(
            &mut t,
            &id,
            "county_approval",
            "4",
            "pass",
            ["同意", "", ""],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let mut city = w.client("city").await;
        let r = decide(
            &mut city,
            &id,
            "county_approval",
            "4",
            "pass",
            ["同意", "", ""],
        )
        .await;
        saved(&r, &id);
        assert_eq!(status(w, &id).await, Status::Approved);
    })
    .await;
}

#[tokio::test]
async fn a_rejection_is_appealed_once() {
    both(async |w: &World| {
        let (_, id) = applicant(w, "A-104", "吴淑珍", 104).await;
        let mut v = w.client("village").await;
        let r = decide(
            &mut v,
            &id,
            "village_check",
            "1",
            "reject",
            ["", "子女另有兄妹，不符合独生子女条件", ""],
        )
        .await;
        saved(&r, &id);
        let r = v.get(&format!("/cases/{id}")).await;
        assert!(
            r.body.contains("id=\"form-appeal\"") && r.body.contains("可申诉一次"),
            "{}",
            r.body
        );
        let r = v
            .post(
                &format!("/cases/{id}/appeal"),
                &[
                    ("version", "2"),
                    ("reason", "已补交户籍证明，另一子女为抱养后送回"),
                ],
            )
            .await;
        saved(&r, &id);
        assert_eq!(status(w, &id).await, Status::Applied);
        let mut t = w.client("township").await;
        let r = decide(
            &mut t,
            &id,
            "village_check",
            "3",
            "reject",
            ["", "复核仍不符合", ""],
        )
        .await;
        saved(&r, &id);
        let r = v.get(&format!("/cases/{id}")).await;
        assert!(!r.body.contains("id=\"form-appeal\""), "{}", r.body);
        let r = v
            .post(
                &format!("/cases/{id}/appeal"),
                &[("version", "4"), ("reason", "再次申诉")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&r.body, "case-error", "p").contains("申诉只能提出一次"),
            "{}",
            r.body
        );
        // The family may apply anew.
        let r = v.get("/cases?status=rejected").await;
        assert!(r.body.contains(&format!("case-{id}")), "{}", r.body);
    })
    .await;
}

#[tokio::test]
async fn another_countys_application_is_never_found() {
    both(async |w: &World| {
        let id = w
            .archive
            .apply(
                &w.family_b,
                today(),
                "赵玉梅（母亲）",
                "申请表",
                today(),
                &guanai_store::Actor::new("test"),
            )
            .await
            .expect("apply B");
        for login in ["village", "township", "county"] {
            let mut c = w.client(login).await;
            let r = c.get(&format!("/cases/{id}")).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{login}");
            assert!(!r.body.contains("赵玉梅") && !r.body.contains("B-001"));
            let r = decide(&mut c, &id, "village_check", "1", "pass", ["x", "", ""]).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{login}");
            let r = c.get("/cases").await;
            assert!(
                !r.body.contains(&id) && !r.body.contains("B-001"),
                "{login}"
            );
        }
        for login in ["finance", "volunteer", "admin"] {
            let mut c = w.client(login).await;
            assert_eq!(
                c.get("/cases").await.status,
                StatusCode::FORBIDDEN,
                "{login}"
            );
            let r = c.get(&format!("/cases/{id}")).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{login}");
        }
        let mut b = w.client("county_b").await;
        let r = b.get(&format!("/cases/{id}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("B-001") && r.body.contains("赵玉梅（母亲）"));
        // The inspector reads it, with no form.
        let mut i = w.client("inspector").await;
        let r = i.get(&format!("/cases/{id}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains("id=\"form-decide\""), "{}", r.body);
        assert_eq!(status(w, &id).await, Status::Applied);
    })
    .await;
}

#[tokio::test]
async fn the_family_file_records_an_application_but_not_for_a_family_already_paid() {
    both(async |w: &World| {
        let a2 = w.family_a2.to_string();
        let mut t = w.client("township").await;
        let r = t.get(&format!("/families/{a2}")).await;
        assert!(
            element(&r.body, "enrolment", "span").contains("普查在册")
                && r.body.contains("id=\"form-apply\""),
            "{}",
            r.body
        );
        let r = t
            .post(
                &format!("/families/{a2}/apply"),
                &[
                    ("applied_on", &ago(3)),
                    ("applicant", "张桂兰"),
                    ("evidence", " "),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&r.body, "error-evidence", "span").contains("必填"),
            "{}",
            r.body
        );
        assert!(r.body.contains("value=\"张桂兰\""), "the typed values stay");
        let r = t
            .post(
                &format!("/families/{a2}/apply"),
                &[
                    ("applied_on", &ago(3)),
                    ("applicant", "张桂兰（母亲）"),
                    ("evidence", "申请表、户口簿"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let to = r.location.expect("the application");
        assert!(to.starts_with("/cases/A"), "{to}");
        let r = t.get(&format!("/families/{a2}")).await;
        assert!(
            element(&r.body, "enrolment", "span").contains("未纳入：待村级初审")
                && r.body.contains("id=\"family-applications\"")
                && !r.body.contains("id=\"form-apply\""),
            "{}",
            r.body
        );

        // Family A is paid by the census: once a run is approved, it cannot apply.
        let run = build_run(w).await;
        let mut f = w.client("finance").await;
        let r = f
            .post(
                &format!("/payments/{run}/check"),
                &[("hold", "父亲账户待补录")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let mut f2 = w.client("finance2").await;
        let r = f2.post(&format!("/payments/{run}/approve"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let a = w.family_a.to_string();
        let r = t
            .post(
                &format!("/families/{a}/apply"),
                &[
                    ("applied_on", &ago(1)),
                    ("applicant", "王秀英"),
                    ("evidence", "申请表"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&r.body, "error-apply", "p").contains("已按普查在册列入发放批次"),
            "{}",
            r.body
        );
        // Volunteers see no casework; finance may not apply.
        let mut vol = w.client("volunteer").await;
        let r = vol.get(&format!("/families/{a}")).await;
        assert!(!r.body.contains("id=\"casework\""));
        let r = f
            .post(
                &format!("/families/{a2}/apply"),
                &[
                    ("applied_on", &ago(1)),
                    ("applicant", "x"),
                    ("evidence", "x"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    })
    .await;
}

const HEADER: &str = "家庭编号,成员关系,姓名,性别,公民身份号码,出生日期,户籍性质,所在村居代码,联系电话,开户银行,银行账号,低保,五保,慢性病,居住状况,独生子女父母光荣证号,死亡日期,死亡证明编号,再生育或收养日期,残疾等级,残疾评定日期,残疾证号,备注";

/// A census file with one bereaved couple in village A.
fn census_file() -> Vec<u8> {
    let id = |birth: &str, seq: u16| {
        ResidentId::build("371321", parse_date(birth).expect("date"), seq)
            .expect("id")
            .as_str()
            .to_owned()
    };
    format!(
        "{HEADER}\n\
         N-9,母亲,郑秀云,女,{},1962-02-03,农村,{VILLAGE_A},,中国农业银行沂南支行,6228480001234567891,,,,,,,,,,,,\n\
         N-9,父亲,冯志刚,男,{},1960-05-06,农村,{VILLAGE_A},,,,,,,,,,,,,,,\n\
         N-9,子女,冯亮,男,,1986-06-01,农村,{VILLAGE_A},,,,,,,,,2010-08-17,,,,,,\n",
        id("1962-02-03", 12),
        id("1960-05-06", 13),
    )
    .into_bytes()
}

/// Uploads a census file with extra form fields, the token first.
async fn upload(c: &mut Client, fields: &[(&str, &str)], bytes: &[u8]) -> Reply {
    if c.csrf.is_none() {
        c.get("/import").await;
    }
    let token = c.csrf.clone().expect("token");
    let boundary = "guanai-casework-51f0";
    let mut body: Vec<u8> = Vec::new();
    let mut part = |name: &str, value: &str| {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    part("_csrf", &token);
    for (name, value) in fields {
        part(name, value);
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"普查.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut request = Request::builder()
        .method("POST")
        .uri("/import")
        .header(header::HOST, "localhost")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        );
    if let Some(cookie) = &c.cookie {
        request = request.header(header::COOKIE, format!("guanai_session={cookie}"));
    }
    c.send(request.body(Body::from(body)).expect("request"))
        .await
}

#[tokio::test]
async fn a_census_import_as_new_applications_enrols_nobody_before_approval() {
    both(async |w: &World| {
        let mut c = w.client("county").await;
        let r = c.get("/import").await;
        assert!(
            r.body.contains("作为新申请导入") && r.body.contains("县级批准前不发放"),
            "{}",
            r.body
        );
        // The choice without its evidence is refused next to the field, before any import.
        let r = upload(
            &mut c,
            &[
                ("as_application", "1"),
                ("applied_on", &ago(2)),
                ("evidence", ""),
            ],
            &census_file(),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&r.body, "error-evidence", "span").contains("请填写收到的申请材料"),
            "{}",
            r.body
        );
        assert_eq!(
            w.archive
                .list_families("3713")
                .await
                .expect("families")
                .len(),
            3
        );
        let r = upload(
            &mut c,
            &[
                ("as_application", "1"),
                ("applied_on", &ago(2)),
                ("evidence", "申请表、户口簿、独生子女证"),
            ],
            &census_file(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body.contains("id=\"added\">1<") && r.body.contains("id=\"as-applications-done\""),
            "{}",
            r.body
        );
        let family: FamilyId = w
            .archive
            .list_families("371321001003")
            .await
            .expect("families")
            .into_iter()
            .find(|f| f.family_no == "N-9")
            .expect("imported")
            .family_id;
        let applications = w.archive.applications_of(&family).await.expect("apps");
        assert_eq!(applications.len(), 1);
        assert_eq!(applications[0].status, Status::Applied);
        assert_eq!(applications[0].applied_on.to_string(), ago(2));
        let mut v = w.client("village").await;
        let r = v.get("/cases").await;
        assert!(r.body.contains("N-9"), "{}", r.body);
        let r = v.get(&format!("/families/{family}")).await;
        assert!(
            element(&r.body, "enrolment", "span").contains("未纳入"),
            "{}",
            r.body
        );
    })
    .await;
}

#[tokio::test]
async fn the_city_opens_next_year_and_caseworkers_of_the_area_confirm_its_parents() {
    both(async |w: &World| {
        let next = today().year() + 1;
        let a = w.family_a.to_string();
        let mut v = w.client("village").await;
        let r = v.get("/confirm").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("id=\"not-opened\"")
                && !r.body.contains("id=\"open-year\"")
                && r.body
                    .contains("逾期未确认者自截止日次月起暂停发放，确认后补发"),
            "{}",
            r.body
        );
        let r = v
            .post("/confirm/open", &[("year", &next.to_string())])
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "only the city opens a year"
        );

        let mut city = w.client("city").await;
        let r = city.get("/confirm").await;
        assert!(
            element(&r.body, &format!("deadline-{next}"), "span")
                .contains(&format!("{next}-03-31")),
            "{}",
            r.body
        );
        let r = city.post("/confirm/open", &[("year", "20x")]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(element(&r.body, "error-year", "span").contains("四位数字"));
        let r = city
            .post("/confirm/open", &[("year", &next.to_string())])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            r.location.as_deref(),
            Some(format!("/confirm?year={next}&done=open").as_str())
        );
        let r = city
            .post("/confirm/open", &[("year", &next.to_string())])
            .await;
        assert!(
            element(&r.body, "error-year", "span").contains("已经开始"),
            "{}",
            r.body
        );
        let r = city.get(&format!("/confirm?year={next}")).await;
        let figures = element(&r.body, "figures-city", "tr");
        assert!(
            figures.contains(">6<") && figures.contains(">0<"),
            "{figures}"
        );

        // The village's list: family A's two parents, unconfirmed, next year by default.
        let r = v.get("/confirm").await;
        assert!(
            r.body.contains(&format!("{next} 年度资格确认")),
            "{}",
            r.body
        );
        let area = element(&r.body, "figures-area", "tr");
        assert!(area.contains(">2<") && area.contains(">0%<"), "{area}");
        let roster = w
            .archive
            .scoped(w.user("village"))
            .roster(next, false, 0, 50)
            .await
            .expect("roster");
        assert_eq!(roster.rows.len(), 2);
        let person = |name: &str| {
            roster
                .rows
                .iter()
                .find(|l| l.name == name)
                .expect("parent")
                .person_id
                .clone()
        };
        let (mother, father) = (person("王秀英"), person("李建国"));
        assert!(r.body.contains(&format!("id=\"parent-{mother}\"")));

        // Refusals stay next to the form: a date in the future.
        let year = next.to_string();
        let tomorrow = ago(-1);
        let r = v
            .post(
                &format!("/families/{a}/confirm"),
                &[
                    ("year", &year),
                    ("person", &mother),
                    ("confirmed_on", &tomorrow),
                    ("note", "入户"),
                    ("from", "list"),
                    ("open", "1"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let row = element(&r.body, &format!("parent-{mother}"), "tr");
        assert!(
            row.contains("日期不能晚于今天") && row.contains("value=\"入户\""),
            "{row}"
        );
        let r = v
            .post(
                &format!("/families/{a}/confirm"),
                &[
                    ("year", &year),
                    ("person", &mother),
                    ("confirmed_on", &today().to_string()),
                    ("note", "入户见面确认"),
                    ("from", "list"),
                    ("open", "1"),
                    ("page", "1"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let to = r.location.expect("back to the list");
        assert_eq!(to, format!("/confirm?year={next}&open=1&page=1&done=1"));
        let r = v.get(&to).await;
        assert!(
            !r.body.contains(&format!("id=\"parent-{mother}\"")),
            "confirmed: off the open list"
        );
        assert!(r.body.contains(&format!("id=\"parent-{father}\"")));
        assert!(element(&r.body, "figures-area", "tr").contains(">50%<"));

        // Not a caseworker of the area: 404; not a caseworker: 403.
        let login = "village_a2";
        w.archive
            .create_user(
                &NewUser {
                    login: login.into(),
                    display_name: "另一村专干".into(),
                    role: Role::Village,
                    area_code: support::VILLAGE_A2.into(),
                    password: PASSWORD.into(),
                },
                &guanai_store::Actor::new("test"),
            )
            .await
            .expect("user");
        let form = [
            ("year", year.as_str()),
            ("person", father.as_str()),
            ("confirmed_on", &today().to_string()),
            ("note", ""),
        ];
        let mut other = w.client(login).await;
        let r = other.post(&format!("/families/{a}/confirm"), &form).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let mut f = w.client("finance").await;
        let r = f.post(&format!("/families/{a}/confirm"), &form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(f.get("/confirm").await.status == StatusCode::FORBIDDEN);

        // The family file lists the parents; the father is confirmed from there.
        let r = v.get(&format!("/families/{a}")).await;
        let mother_row = element(&r.body, &format!("roster-{next}-{mother}"), "tr");
        assert!(mother_row.contains(&today().to_string()), "{mother_row}");
        assert!(r.body.contains(&format!("roster-{next}-{father}")));
        let r = v.post(&format!("/families/{a}/confirm"), &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            r.location.as_deref(),
            Some(format!("/families/{a}?saved=1#casework").as_str())
        );
        let campaign = w
            .archive
            .reconfirmation(next)
            .await
            .expect("campaign")
            .expect("opened");
        assert_eq!((campaign.persons, campaign.confirmed), (6, 2));
    })
    .await;
}

#[tokio::test]
async fn an_exit_is_proposed_by_the_village_and_approved_by_the_county() {
    both(async |w: &World| {
        let a = w.family_a.to_string();
        let mut v = w.client("village").await;
        let future = v
            .post(
                &format!("/families/{a}/exit"),
                &[
                    ("reason", "moved_out"),
                    ("exit_on", &today().tomorrow().expect("date").to_string()),
                    ("detail", "迁往江苏省徐州市"),
                ],
            )
            .await;
        assert_eq!(future.status, StatusCode::BAD_REQUEST);
        assert!(
            element(&future.body, "error-exit_on", "span").contains("今天"),
            "{}",
            future.body
        );
        let r = v
            .post(
                &format!("/families/{a}/exit"),
                &[
                    ("reason", "moved_out"),
                    ("exit_on", &ago(10)),
                    ("detail", "迁往江苏省徐州市"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let exit = w
            .archive
            .exit_of(&w.family_a)
            .await
            .expect("exit")
            .expect("proposed");
        // The village may not decide; the township neither; the county does.
        let own = v
            .post(
                &format!("/families/{a}/exit/{}", exit.exit_id),
                &[("decision", "approve")],
            )
            .await;
        assert_eq!(own.status, StatusCode::FORBIDDEN);
        let mut t = w.client("township").await;
        let r = t
            .post(
                &format!("/families/{a}/exit/{}", exit.exit_id),
                &[("decision", "approve")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let mut b = w.client("county_b").await;
        let r = b
            .post(
                &format!("/families/{a}/exit/{}", exit.exit_id),
                &[("decision", "approve")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let mut c = w.client("county").await;
        let page = c.get(&format!("/families/{a}")).await;
        assert!(
            page.body.contains("form-exit-decide"),
            "the county sees the decision form"
        );
        let r = c
            .post(
                &format!("/families/{a}/exit/{}", exit.exit_id),
                &[("decision", "approve"), ("note", "户籍迁出证明已核")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = c.get(&format!("/families/{a}")).await;
        assert!(
            element(&page.body, "exit-state", "p").contains("已批准退出"),
            "{}",
            page.body
        );
        let again = v
            .post(
                &format!("/families/{a}/exit"),
                &[("reason", "other"), ("exit_on", &ago(3)), ("detail", "x")],
            )
            .await;
        assert_eq!(again.status, StatusCode::BAD_REQUEST, "one exit per family");
    })
    .await;
}
