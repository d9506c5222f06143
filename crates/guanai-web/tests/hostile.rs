//! Hostile requests against every route: another area's family and payment run through every
//! page route and every role (never shown, never changed), SQL injection in every parameter
//! (harmless), and malformed, oversized or fuzzed requests (a 4xx, never a 5xx or a crash).

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use support::{Client, World};
use tower::ServiceExt;

/// County B's run for October, built by its own finance officer.
async fn run_of_county_b(w: &World) -> String {
    let mut b = w.client("finance_b").await;
    let r = b
        .post("/payments", &[("month", "2026-10"), ("county", "371302")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    "202610-371302-1".to_owned()
}

/// A visit to family B recorded by its own county, with an open follow-up.
async fn visit_of_county_b(w: &World) -> String {
    let today = guanai_web::pages::today();
    let policy = guanai_rules::Policy::embedded("linyi-2014").expect("policy");
    let holidays = guanai_care::holidays::Holidays::embedded().expect("holidays");
    let visit = guanai_store::visits::NewVisit {
        visited_on: today,
        occasion: guanai_care::visits::Occasion::Regular,
        visitor: "兰山区专干".into(),
        found: "身体尚可".into(),
        needs: String::new(),
        follow_up: "协助办理医保".into(),
        follow_up_due: Some(today),
    };
    w.archive
        .scoped(w.user("county_b"))
        .record_visit(&w.family_b, &visit, &policy, holidays, today)
        .await
        .expect("visit B")
}

/// County B's complaint about family B, and family B referred to county B's counsellor.
async fn care_of_county_b(w: &World) -> (String, String) {
    let today = guanai_web::pages::today();
    let policy = guanai_rules::Policy::embedded("linyi-2014").expect("policy");
    let scoped = w.archive.scoped(w.user("county_b"));
    let complaint = scoped
        .file_complaint(
            &guanai_store::complaints::NewComplaint {
                area_code: "371302".into(),
                family: Some(w.family_b.clone()),
                source: guanai_store::complaints::Source::Family,
                complainant: "兰山区投诉人".into(),
                summary: "兰山区的投诉".into(),
                detail: "兰山区的投诉内容".into(),
                received_on: today,
            },
            &policy,
            today,
        )
        .await
        .expect("complaint B");
    let counsellor_b = w
        .archive
        .create_user(
            &guanai_store::access::NewUser {
                login: "counsellor_b".into(),
                display_name: "兰山区咨询师".into(),
                role: guanai_store::access::Role::Counsellor,
                area_code: "371302".into(),
                password: support::PASSWORD.into(),
            },
            &guanai_store::Actor::new("test"),
        )
        .await
        .expect("counsellor B");
    let referral = scoped
        .refer_to_counsellor(&w.family_b, &counsellor_b, "兰山区转介原因", today, today)
        .await
        .expect("referral B");
    (complaint, referral)
}

/// What another area's user tries on the service checklist, complaints and the care network
/// (family B, its complaint and its referral).
fn care_attempts(family_b: &str, complaint_b: &str, referral_b: &str) -> Vec<Attempt> {
    let today = guanai_web::pages::today().to_string();
    let fields = |pairs: &[(&'static str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect::<Vec<_>>()
    };
    vec![
        (
            "POST",
            format!("/families/{family_b}/services"),
            fields(&[
                ("person", "P00000000000000000000000000000000"),
                ("service", "medical_relief"),
                ("status", "granted"),
                ("on_date", &today),
                ("note", "x"),
            ]),
        ),
        (
            "POST",
            format!("/families/{family_b}/volunteers"),
            fields(&[("volunteer", "volunteer")]),
        ),
        (
            "POST",
            format!("/families/{family_b}/volunteers/refusal"),
            fields(&[("refused_on", &today), ("reason", "x")]),
        ),
        (
            "POST",
            format!("/families/{family_b}/volunteers/refusal/withdraw"),
            vec![],
        ),
        (
            "POST",
            format!("/families/{family_b}/help"),
            fields(&[
                ("on_date", &today),
                ("kind", "daily_care"),
                ("minutes", "30"),
                ("note", "x"),
            ]),
        ),
        (
            "POST",
            format!("/families/{family_b}/referrals"),
            fields(&[
                ("counsellor", "counsellor"),
                ("referred_on", &today),
                ("reason", "x"),
            ]),
        ),
        (
            "POST",
            format!("/families/{family_b}/referrals/{referral_b}/sessions"),
            fields(&[("on_date", &today), ("minutes", "30"), ("note", "x")]),
        ),
        ("GET", format!("/complaints/{complaint_b}"), vec![]),
        (
            "POST",
            format!("/complaints/{complaint_b}/answer"),
            fields(&[("answer", "替别县答复")]),
        ),
        (
            "POST",
            format!("/complaints/{complaint_b}/reveal"),
            fields(&[("reason", "想看看是谁")]),
        ),
    ]
}

/// An applying family of county B (B-002, 孙兰芳; 申请, issue 6) and its application, recorded by
/// its own county (family B itself is paid by run B, so it cannot apply).
async fn application_of_county_b(w: &World) -> (String, String) {
    let today = guanai_web::pages::today();
    let mother = guanai_rules::ResidentId::build(
        "371302",
        guanai_rules::parse_date("1964-09-09").expect("date"),
        7,
    )
    .expect("id");
    let family = w
        .archive
        .create_family(
            &support::bereaved("B-002", support::VILLAGE_B, "孙兰芳", mother.as_str()),
            &guanai_store::Actor::new("test"),
            "test",
        )
        .await
        .expect("family B-002");
    let application = w
        .archive
        .scoped(w.user("county_b"))
        .apply(&family, today, "孙兰芳（母亲）", "申请表", today)
        .await
        .expect("application B");
    (family.to_string(), application)
}

/// A death of family B proposed by its county (变更审批, issue 6), awaiting approval.
async fn change_of_county_b(w: &World) -> String {
    let file = w.archive.family_file(&w.family_b).await.expect("file B");
    w.archive
        .scoped(w.user("county_b"))
        .propose_change(
            &w.family_b,
            Some(guanai_store::NewFact {
                person_id: Some(file.persons[0].person_id.clone()),
                value: guanai_store::FactValue::Death {
                    certificate_no: None,
                },
                valid_from: Some(guanai_web::pages::today()),
            }),
            None,
            "兰山区的变更",
            guanai_web::pages::today(),
        )
        .await
        .expect("change B")
}

/// What another area's user tries on applications and the re-confirmation (county B's applying
/// family and its application; opening a year is the city's alone).
fn casework_attempts(family_b: &str, application_b: &str) -> Vec<Attempt> {
    let today = guanai_web::pages::today().to_string();
    let fields = |pairs: &[(&'static str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect::<Vec<_>>()
    };
    let objection = "O00000000000000000000000000000000";
    vec![
        ("GET", format!("/cases/{application_b}"), vec![]),
        (
            "POST",
            format!("/cases/{application_b}/decide"),
            fields(&[
                ("step", "village_check"),
                ("version", "1"),
                ("decision", "pass"),
                ("evidence", "x"),
                ("reason", ""),
                ("on_date", &today),
            ]),
        ),
        (
            "POST",
            format!("/cases/{application_b}/notice"),
            fields(&[("version", "1"), ("from", &today)]),
        ),
        (
            "POST",
            format!("/cases/{application_b}/objection"),
            fields(&[("raised_on", &today), ("raised_by", "x"), ("content", "x")]),
        ),
        (
            "POST",
            format!("/cases/{application_b}/objections/{objection}/resolve"),
            fields(&[("upheld", "0"), ("resolution", "x")]),
        ),
        (
            "POST",
            format!("/cases/{application_b}/appeal"),
            fields(&[("version", "1"), ("reason", "x")]),
        ),
        (
            "POST",
            format!("/families/{family_b}/exit"),
            fields(&[
                ("reason", "moved_out"),
                ("exit_on", &today),
                ("detail", "x"),
            ]),
        ),
        (
            "POST",
            format!("/families/{family_b}/exit/E00000000000000000000000000000000"),
            fields(&[("decision", "approve"), ("note", "x")]),
        ),
        (
            "POST",
            format!("/families/{family_b}/apply"),
            fields(&[
                ("applied_on", &today),
                ("applicant", "x"),
                ("evidence", "x"),
            ]),
        ),
        (
            "POST",
            format!("/families/{family_b}/confirm"),
            fields(&[
                ("year", "2027"),
                ("person", "P00000000000000000000000000000000"),
                ("confirmed_on", &today),
                ("note", "x"),
            ]),
        ),
        (
            "POST",
            "/confirm/open".to_owned(),
            fields(&[("year", "2099")]),
        ),
    ]
}

/// A request to try: method, path and form fields.
type Attempt = (&'static str, String, Vec<(&'static str, String)>);

/// A spot check of county B (三(三)), drawn by the city from a fresh register.
async fn spot_check_of_county_b(w: &World) -> String {
    let policy = guanai_rules::Policy::embedded("linyi-2014").expect("policy");
    w.archive.refresh_register(&policy).await.expect("register");
    w.archive
        .scoped(w.user("city"))
        .draw_spot_check(
            "371302",
            guanai_web::pages::this_month(),
            5,
            Some(7),
            "兰山区抽查",
        )
        .await
        .expect("spot check B")
        .check_id
}

/// What another area's user tries on reports (issue 7): county B's statistics, downloads and
/// printable page, and county B's spot check (read, verified, a finding recorded, one drawn).
fn report_attempts(family_b: &str, check_b: &str) -> Vec<Attempt> {
    let today = guanai_web::pages::today().to_string();
    let month = guanai_web::pages::this_month().to_string();
    let mut out: Vec<Attempt> = [
        "/reports",
        "/reports/print",
        "/reports/download.csv",
        "/reports/download.xlsx",
    ]
    .into_iter()
    .map(|path| ("GET", format!("{path}?area=371302"), vec![]))
    .collect();
    out.extend([
        ("GET", format!("/spot-checks/{check_b}"), vec![]),
        ("POST", format!("/spot-checks/{check_b}/verify"), vec![]),
        (
            "POST",
            format!("/spot-checks/{check_b}/findings"),
            vec![
                ("family", family_b.to_owned()),
                ("item", "identity".to_owned()),
                ("result", "failed".to_owned()),
                ("note", "替别县记录".to_owned()),
                ("checked_on", today),
            ],
        ),
        (
            "POST",
            "/spot-checks".to_owned(),
            vec![
                ("county", "371302".to_owned()),
                ("month", month),
                ("size", "1".to_owned()),
            ],
        ),
    ]);
    out
}

/// What another area's user tries: every page route with family B's, its visit's or run B's id.
fn attempts(family_b: &str, visit_b: &str, run_b: &str) -> Vec<Attempt> {
    let fields = |pairs: &[(&'static str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect::<Vec<_>>()
    };
    vec![
        ("GET", format!("/families/{family_b}"), vec![]),
        ("GET", format!("/families/{family_b}?month=2026-10"), vec![]),
        (
            "POST",
            format!("/families/{family_b}/record"),
            fields(&[("form", "note"), ("version", "1"), ("text", "x")]),
        ),
        (
            "POST",
            format!("/families/{family_b}/withdraw"),
            fields(&[
                ("version", "1"),
                ("fact", "X00000000000000000000000000000000"),
                ("reason", "x"),
            ]),
        ),
        (
            "POST",
            format!("/families/{family_b}/reveal"),
            fields(&[
                ("fact", "X00000000000000000000000000000000"),
                ("reason", "test"),
            ]),
        ),
        (
            "POST",
            format!("/families/{family_b}/visits"),
            fields(&[
                ("visited_on", "2026-11-01"),
                ("occasion", "regular"),
                ("visitor", "x"),
                ("found", "x"),
            ]),
        ),
        (
            "POST",
            format!("/families/{family_b}/visits/{visit_b}/withdraw"),
            fields(&[("text", "撤销别县的走访")]),
        ),
        (
            "POST",
            format!("/families/{family_b}/visits/{visit_b}/follow-up"),
            fields(&[("text", "替别县办结")]),
        ),
        (
            "POST",
            format!("/families/{family_b}/dedicated-visitor"),
            fields(&[("visitor", "x"), ("unit", "y")]),
        ),
        ("GET", format!("/payments/{run_b}"), vec![]),
        (
            "POST",
            format!("/payments/{run_b}/check"),
            fields(&[("hold", "x")]),
        ),
        ("POST", format!("/payments/{run_b}/approve"), vec![]),
        (
            "POST",
            format!("/payments/{run_b}/discard"),
            fields(&[("reason", "x")]),
        ),
        (
            "POST",
            format!("/payments/{run_b}/export"),
            fields(&[("execution_date", "")]),
        ),
        ("POST", format!("/payments/{run_b}/close"), vec![]),
        ("GET", format!("/payments/{run_b}/files/x.csv"), vec![]),
    ]
}

#[tokio::test]
async fn another_areas_data_is_never_returned_or_changed_by_any_route_for_any_role() {
    let w = support::sqlite().await;
    let run_b = run_of_county_b(&w).await;
    let visit_b = visit_of_county_b(&w).await;
    let family_b = w.family_b.to_string();
    let before = w
        .archive
        .family_file(&w.family_b)
        .await
        .expect("file")
        .version;
    let visits_before = w.archive.visits_of(&w.family_b).await.expect("visits");
    let (complaint_b, referral_b) = care_of_county_b(&w).await;
    let (family_b2, application_b) = application_of_county_b(&w).await;
    let application_before = w.archive.application(&application_b).await.expect("app B");
    let change_b = change_of_county_b(&w).await;
    let check_b = spot_check_of_county_b(&w).await;
    for login in [
        "village",
        "township",
        "county",
        "finance",
        "finance2",
        "volunteer",
        "counsellor",
        "admin",
    ] {
        let mut c = w.client(login).await;
        for (method, path, fields) in attempts(&family_b, &visit_b, &run_b)
            .into_iter()
            .chain(care_attempts(&family_b, &complaint_b, &referral_b))
            .chain(casework_attempts(&family_b2, &application_b))
            .chain(report_attempts(&family_b, &check_b))
            .chain([(
                "POST",
                format!("/families/{family_b}/changes/{change_b}"),
                vec![("decision", "approve".to_owned()), ("note", "x".to_owned())],
            )])
        {
            let r = if method == "GET" {
                c.get(&path).await
            } else {
                let pairs: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                c.post(&path, &pairs).await
            };
            assert!(
                r.status == StatusCode::NOT_FOUND || r.status == StatusCode::FORBIDDEN,
                "{login} {method} {path}: {}",
                r.status
            );
            assert!(
                !r.body.contains("赵玉梅") && !r.body.contains("B-001"),
                "{login} {method} {path} leaked"
            );
            assert!(
                !r.body.contains("兰山区的投诉") && !r.body.contains("兰山区投诉人"),
                "{login} {method} {path} leaked the complaint"
            );
            assert!(
                !r.body.contains("孙兰芳") && !r.body.contains("B-002"),
                "{login} {method} {path} leaked the application"
            );
        }
        for list in ["open", "late", "all"] {
            let r = c.get(&format!("/complaints?list={list}")).await;
            assert!(
                !r.body.contains("兰山区的投诉"),
                "{login} sees county B's complaint ({list})"
            );
        }
        // A complaint about family B by its archive id is refused (no such family in scope).
        let r = c
            .post(
                "/complaints",
                &[
                    ("area", "371302"),
                    ("family", &family_b),
                    ("source", "family"),
                    ("complainant", "x"),
                    ("summary", "关于别县家庭"),
                    ("detail", "x"),
                    ("received_on", &guanai_web::pages::today().to_string()),
                ],
            )
            .await;
        assert!(
            r.status.is_client_error() && !r.body.contains("B-001"),
            "{login} filed a complaint about B: {}",
            r.status
        );
        let r = c.get("/payments").await;
        assert!(!r.body.contains(&run_b), "{login} sees run B in the list");
        for path in [
            "/reports",
            "/reports/assessment",
            "/spot-checks",
            "/reports/download.csv",
        ] {
            let r = c.get(path).await;
            assert!(
                !r.body.contains("兰山区") && !r.body.contains(&check_b),
                "{login} {path} shows county B"
            );
        }
        let r = c.get("/families?area=371302").await;
        assert!(!r.body.contains("B-001"), "{login} widened the area");
        let r = c.get(&format!("/families?id={}", w.mother_b_id)).await;
        assert!(!r.body.contains("B-001"), "{login} found B by ID number");
        let r = c.get("/").await;
        assert!(
            !r.body.contains("兰山区</a>"),
            "{login} dashboard counts county B"
        );
        for list in ["overdue", "soon", "dedicated"] {
            let r = c.get(&format!("/visits?list={list}")).await;
            assert!(
                !r.body.contains("B-001") && !r.body.contains("county-371302"),
                "{login} sees county B's visits ({list})"
            );
        }
    }
    assert_eq!(
        w.archive.visits_of(&w.family_b).await.expect("visits"),
        visits_before,
        "family B's visits unchanged"
    );
    assert!(
        w.archive
            .dedicated_visitor_of(&w.family_b)
            .await
            .expect("dedicated")
            .is_none(),
        "no dedicated visitor named for family B"
    );
    assert!(
        w.archive
            .exit_of(&w.family_b)
            .await
            .expect("exit")
            .is_none(),
        "no exit proposed for family B"
    );
    assert_eq!(
        w.archive.application(&application_b).await.expect("app B"),
        application_before,
        "family B's application unchanged"
    );
    assert_eq!(
        w.archive
            .applications_of(&guanai_store::FamilyId::parse(&family_b2).expect("id"))
            .await
            .expect("apps")
            .len(),
        1,
        "no application added for county B's family"
    );
    assert!(
        w.archive
            .reconfirmation(2099)
            .await
            .expect("campaign")
            .is_none(),
        "no year opened"
    );
    let policy = guanai_rules::Policy::embedded("linyi-2014").expect("policy");
    let today = guanai_web::pages::today();
    let complaint = w
        .archive
        .complaint(&complaint_b, &policy, today)
        .await
        .expect("complaint B");
    assert!(complaint.answer.is_none(), "complaint B unanswered");
    let about_b = w
        .archive
        .scoped(w.user("county_b"))
        .complaints_about(&w.family_b, &policy, today, 10)
        .await
        .expect("complaints about B");
    assert_eq!(about_b.len(), 1, "no complaint filed about family B");
    let counsellor_b = w
        .archive
        .user_by_login("counsellor_b")
        .await
        .expect("user")
        .expect("counsellor B");
    let referrals = w
        .archive
        .referrals_of(&w.family_b, &counsellor_b)
        .await
        .expect("referrals");
    assert_eq!(referrals.len(), 1, "no referral of family B added");
    assert!(
        referrals[0].sessions.is_empty(),
        "no session recorded for B"
    );
    assert!(
        w.archive
            .volunteers_of(&w.family_b)
            .await
            .expect("pairs")
            .is_empty(),
        "nobody paired with family B"
    );
    assert!(
        w.archive
            .pairing_refusal(&w.family_b)
            .await
            .expect("refusal")
            .is_none(),
        "no refusal recorded for family B"
    );
    assert!(
        w.archive
            .help_of(&w.family_b)
            .await
            .expect("help")
            .is_empty(),
        "no help recorded for family B"
    );
    assert!(
        w.archive
            .service_checklist(&w.family_b, guanai_web::pages::this_month(), &policy)
            .await
            .expect("checklist")
            .iter()
            .all(|i| i.status.is_none()),
        "no service status for family B"
    );
    assert_eq!(
        w.archive
            .family_file(&w.family_b)
            .await
            .expect("file")
            .version,
        before,
        "family B unchanged"
    );
    let change = w
        .archive
        .change(&change_b)
        .await
        .expect("change")
        .expect("B");
    assert_eq!(change.status, "proposed", "county B's change undecided");
    let check = w.archive.spot_check(&check_b).await.expect("check B");
    assert!(
        check.findings.is_empty(),
        "no finding recorded for county B"
    );
    assert_eq!(
        w.archive.spot_checks("371302").await.expect("checks").len(),
        1,
        "no spot check drawn of county B"
    );
    let summary = w
        .archive
        .run_summary(&guanai_store::pay::RunId::parse(&run_b).expect("id"))
        .await
        .expect("run");
    assert_eq!(summary.status.as_str(), "draft", "run B unchanged");
    w.cleanup().await;
}

const INJECTIONS: [&str; 6] = [
    "' OR '1'='1",
    "'; DROP TABLE family; --",
    "\" OR 1=1 --",
    "3713' UNION SELECT login, password_hash, role, area_code FROM app_user --",
    "%' OR family_no LIKE '%",
    "1) OR (1=1",
];

#[tokio::test]
async fn sql_injection_in_every_parameter_is_harmless() {
    let w = support::sqlite().await;
    let mut c = w.client("village").await;
    let mut inspector = w.client("inspector").await;
    let a = w.family_a.to_string();
    for bad in INJECTIONS {
        let q: String = form_urlencoded::byte_serialize(bad.as_bytes()).collect();
        for path in [
            format!("/families?name={q}"),
            format!("/families?area={q}"),
            format!("/families?no={q}"),
            format!("/families?id={q}"),
            format!("/families?sort={q}&desc={q}"),
            format!("/families/{q}"),
            format!("/families/{a}?month={q}"),
            format!("/families/{a}?year={q}"),
            format!("/visits?list={q}&page={q}"),
            format!("/complaints?list={q}&page={q}"),
            format!("/complaints/{q}"),
            format!("/cases?status={q}&page={q}"),
            format!("/cases/{q}"),
            format!("/cases/notice?date={q}"),
            format!("/confirm?year={q}&open={q}&page={q}"),
            format!("/confirm?open={q}"),
            format!("/payments/{q}"),
            format!("/lang/{q}?back={q}"),
            format!("/reports?area={q}&from={q}&to={q}&as_of={q}"),
            format!("/reports?from=2026-01&to={q}"),
            format!("/reports/print?area={q}"),
            format!("/reports/download.csv?area={q}&from={q}"),
            format!("/reports/download.xlsx?as_of={q}"),
            format!("/reports/assessment?as_of={q}"),
            format!("/spot-checks/{q}"),
            format!("/public?from={q}&to={q}"),
            format!("/public/download.csv?from={q}"),
        ] {
            let r = c.get(&path).await;
            assert!(r.status.as_u16() < 500, "GET {path}: {}", r.status);
            assert!(
                !r.body.contains("B-001") && !r.body.contains("argon2"),
                "GET {path} leaked"
            );
        }
        let version = w
            .archive
            .family_file(&w.family_a)
            .await
            .expect("file")
            .version
            .to_string();
        for (path, fields) in [
            (
                format!("/families/{a}/record"),
                vec![
                    ("form", "note"),
                    ("version", version.as_str()),
                    ("text", bad),
                    ("reason", bad),
                ],
            ),
            (
                format!("/families/{a}/record"),
                vec![("form", bad), ("version", "1")],
            ),
            (
                format!("/families/{a}/record"),
                vec![
                    ("form", "phone"),
                    ("version", "2"),
                    ("person", bad),
                    ("number", bad),
                ],
            ),
            (
                format!("/families/{a}/reveal"),
                vec![("fact", bad), ("reason", bad)],
            ),
            ("/access".to_owned(), vec![("id", bad), ("reason", bad)]),
            (
                format!("/families/{a}/visits"),
                vec![
                    ("visited_on", bad),
                    ("occasion", bad),
                    ("visitor", bad),
                    ("found", bad),
                    ("follow_up_due", bad),
                ],
            ),
            (
                format!("/families/{a}/visits/{q}/withdraw"),
                vec![("text", bad)],
            ),
            (
                format!("/families/{a}/visits/{q}/follow-up"),
                vec![("text", bad)],
            ),
            (
                format!("/families/{a}/dedicated-visitor"),
                vec![("visitor", bad), ("unit", bad)],
            ),
            ("/visits/plan".to_owned(), vec![("year", bad)]),
            (
                format!("/families/{a}/apply"),
                vec![("applied_on", bad), ("applicant", bad), ("evidence", bad)],
            ),
            (
                format!("/families/{a}/exit"),
                vec![("reason", bad), ("exit_on", bad), ("detail", bad)],
            ),
            (
                format!("/families/{a}/confirm"),
                vec![
                    ("year", "2027"),
                    ("person", bad),
                    ("confirmed_on", bad),
                    ("note", bad),
                ],
            ),
            (
                format!("/cases/{q}/decide"),
                vec![("step", bad), ("version", "1"), ("decision", bad)],
            ),
            (
                format!("/cases/{q}/objections/{q}/resolve"),
                vec![("upheld", bad), ("resolution", bad)],
            ),
            ("/confirm/open".to_owned(), vec![("year", bad)]),
            (
                format!("/families/{a}/services"),
                vec![
                    ("person", bad),
                    ("service", bad),
                    ("status", bad),
                    ("on_date", bad),
                    ("note", bad),
                ],
            ),
            (
                format!("/families/{a}/volunteers"),
                vec![("volunteer", bad)],
            ),
            (
                format!("/families/{a}/volunteers/refusal"),
                vec![("refused_on", bad), ("reason", bad)],
            ),
            (
                format!("/families/{a}/referrals"),
                vec![("counsellor", bad), ("referred_on", bad), ("reason", bad)],
            ),
            (
                format!("/families/{a}/referrals/{q}/sessions"),
                vec![("on_date", bad), ("minutes", bad), ("note", bad)],
            ),
            (
                "/complaints".to_owned(),
                vec![
                    ("area", bad),
                    ("family", bad),
                    ("source", bad),
                    ("complainant", bad),
                    ("summary", bad),
                    ("detail", bad),
                    ("received_on", bad),
                ],
            ),
            (format!("/complaints/{q}/answer"), vec![("answer", bad)]),
            (format!("/complaints/{q}/reveal"), vec![("reason", bad)]),
        ] {
            let r = c.post(&path, &fields).await;
            assert!(r.status.as_u16() < 500, "POST {path}: {}", r.status);
        }
        // Reports as the city's inspector, who may read and draw: every field refused harmlessly.
        for path in [
            format!("/reports?area={q}&from={q}"),
            format!("/reports/assessment?as_of={q}"),
            format!("/reports/assessment/download.csv?as_of={q}"),
            format!("/spot-checks/{q}"),
        ] {
            let r = inspector.get(&path).await;
            assert!(
                r.status.is_client_error(),
                "inspector GET {path}: {}",
                r.status
            );
        }
        for (path, fields) in [
            (
                "/spot-checks".to_owned(),
                vec![
                    ("county", bad),
                    ("month", bad),
                    ("size", bad),
                    ("seed", bad),
                    ("note", bad),
                ],
            ),
            (
                "/spot-checks".to_owned(),
                vec![
                    ("county", bad),
                    ("month", "2026-10"),
                    ("size", "3"),
                    ("seed", ""),
                    ("note", bad),
                ],
            ),
            (format!("/spot-checks/{q}/verify"), vec![]),
            (
                format!("/spot-checks/{q}/findings"),
                vec![
                    ("family", bad),
                    ("item", bad),
                    ("result", bad),
                    ("note", bad),
                    ("checked_on", bad),
                ],
            ),
        ] {
            let r = inspector.post(&path, &fields).await;
            assert!(
                r.status.is_client_error(),
                "inspector POST {path}: {}",
                r.status
            );
        }
        let mut anon = Client::new(w.router.clone());
        let r = anon.sign_in(bad, bad).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let r = anon.get(&format!("/public?from={q}&to={q}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "public {bad}");
    }
    // Everything is still there, and the notes were stored as the text they are.
    assert_eq!(
        w.archive
            .list_families("3713")
            .await
            .expect("families")
            .len(),
        3
    );
    let file = w.archive.family_file(&w.family_a).await.expect("file");
    assert!(file.facts.iter().any(|f| matches!(&f.value, Some(guanai_store::FactValue::Note { text }) if text == INJECTIONS[1])));
    assert_eq!(
        w.archive.users().await.expect("users").len(),
        support::USERS.len()
    );
    w.cleanup().await;
}

async fn raw(w: &World, request: Request<Body>) -> StatusCode {
    w.router
        .clone()
        .oneshot(request)
        .await
        .expect("response")
        .status()
}

#[tokio::test]
async fn malformed_oversized_and_fuzzed_requests_get_a_4xx() {
    let w = support::sqlite().await;
    let c = w.client("village").await;
    let cookie = format!("guanai_session={}", c.cookie.clone().expect("cookie"));
    let a = w.family_a.to_string();
    let post = |path: String, content_type: &'static str, body: Vec<u8>| {
        Request::builder()
            .method("POST")
            .uri(path)
            .header(header::HOST, "localhost")
            .header(header::COOKIE, cookie.clone())
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .expect("request")
    };
    // A form far over the limit.
    let huge = vec![b'a'; 2 * 1024 * 1024];
    let s = raw(
        &w,
        post(
            format!("/families/{a}/record"),
            "application/x-www-form-urlencoded",
            huge.clone(),
        ),
    )
    .await;
    assert!(s.is_client_error(), "oversized form: {s}");
    let s = raw(
        &w,
        post("/login".into(), "application/x-www-form-urlencoded", huge),
    )
    .await;
    assert!(s.is_client_error(), "oversized sign-in: {s}");
    // Seeded random bytes as forms, as multipart and as JSON.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..40 {
        let len = (next() % 4096) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        for (path, ct) in [
            (
                format!("/families/{a}/record"),
                "application/x-www-form-urlencoded",
            ),
            ("/login".to_owned(), "application/x-www-form-urlencoded"),
            ("/import".to_owned(), "multipart/form-data; boundary=x"),
            ("/api/v1/eval?month=2026-10".to_owned(), "application/json"),
        ] {
            let s = raw(&w, post(path.clone(), ct, bytes.clone())).await;
            assert!(
                s.is_client_error() || s.is_redirection(),
                "round {round} {path}: {s}"
            );
        }
    }
    // Odd paths, methods and headers.
    for path in [
        "/families/%FF%FE",
        "/families/%00",
        "/payments/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/static/../Cargo.toml",
    ] {
        let request = Request::builder()
            .uri(path)
            .header(header::HOST, "localhost")
            .header(header::COOKIE, cookie.clone())
            .body(Body::empty())
            .expect("request");
        let s = raw(&w, request).await;
        assert!(s.is_client_error(), "{path}: {s}");
    }
    let long = format!("/families?name={}", "王".repeat(20_000));
    let request = Request::builder()
        .uri(long)
        .header(header::HOST, "localhost")
        .header(header::COOKIE, cookie.clone())
        .body(Body::empty())
        .expect("request");
    assert!(raw(&w, request).await.as_u16() < 500);
    let request = Request::builder()
        .method("DELETE")
        .uri(format!("/families/{a}"))
        .header(header::HOST, "localhost")
        .header(header::COOKIE, cookie.clone())
        .body(Body::empty())
        .expect("request");
    assert_eq!(raw(&w, request).await, StatusCode::METHOD_NOT_ALLOWED);
    let request = Request::builder()
        .uri("/families")
        .header(header::HOST, "localhost")
        .header(header::COOKIE, "guanai_session=zz; guanai_session=%%%")
        .body(Body::empty())
        .expect("request");
    assert_eq!(
        raw(&w, request).await,
        StatusCode::SEE_OTHER,
        "a garbage cookie is no session"
    );
    // A cross-site form post is refused even with the right token.
    let mut c = w.client("village").await;
    c.get("/account").await;
    let token = c.csrf.clone().expect("csrf");
    let body = format!("form=note&version=1&text=x&_csrf={token}");
    let mut request = post(
        format!("/families/{a}/record"),
        "application/x-www-form-urlencoded",
        body.into_bytes(),
    );
    request.headers_mut().insert(
        header::COOKIE,
        format!("guanai_session={}", c.cookie.clone().expect("cookie"))
            .parse()
            .expect("cookie"),
    );
    request.headers_mut().insert(
        header::ORIGIN,
        "http://evil.example".parse().expect("origin"),
    );
    assert_eq!(raw(&w, request).await, StatusCode::FORBIDDEN);
    w.cleanup().await;
}
