//! The family file's care sections through the real router, on SQLite and PostgreSQL: the
//! service checklist (spec §6) set and refused with the message next to the field; the care
//! network (二(一)): a volunteer's organisation registered by the administrator, pairing refused
//! after the family declined and allowed once the refusal is withdrawn, the paired volunteer
//! recording help (and "not found" for other families), and the counselling team — a counsellor
//! who sees nothing until a family is referred, then only the limited file and the counselling
//! section, and alone reads the referral's reason and the session notes.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use guanai_rules::engine::ServiceKind;
use guanai_store::services::on_checklist;
use guanai_store::{Actor, AuditQuery};
use guanai_web::pages::{this_month, today};
use http_body_util::BodyExt;
use support::{MOTHER_A, World, both};
use tower::ServiceExt;

/// A JSON API GET with a bearer token: the status and the body.
async fn api_get(w: &World, path: &str, token: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .uri(path)
        .header(header::HOST, "localhost")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let response = w.router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// The `<tr>…</tr>` of `body` whose opening tag holds `needle`, if any.
fn row<'a>(body: &'a str, needle: &str) -> Option<&'a str> {
    let at = body.find(needle)?;
    let start = body[..at].rfind("<tr")?;
    let end = at + body[at..].find("</tr>")? + "</tr>".len();
    Some(&body[start..end])
}

/// The element of `body` starting at `id="…"` up to the end of its section.
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let Some(at) = body.find(&format!("id=\"{id}\"")) else {
        return "";
    };
    let end = body[at..].find("</section>").map_or(body.len(), |e| at + e);
    &body[at..end]
}

fn days_ago(n: i64) -> String {
    today()
        .checked_sub(jiff::Span::new().days(n))
        .expect("date")
        .to_string()
}

fn tomorrow() -> String {
    today()
        .checked_add(jiff::Span::new().days(1))
        .expect("date")
        .to_string()
}

/// An entitled (person, service) of family A this month and a service the mother is not
/// entitled to, from the store's checklist.
async fn services_of_a(w: &World) -> ((String, ServiceKind), (String, ServiceKind)) {
    let policy = guanai_rules::Policy::embedded("linyi-2014").expect("policy");
    let items = w
        .archive
        .service_checklist(&w.family_a, this_month(), &policy)
        .await
        .expect("checklist");
    let entitled = items
        .iter()
        .find(|i| i.entitled)
        .map(|i| (i.person_id.clone(), i.service))
        .expect("family A is entitled to a service this month");
    let file = w.archive.family_file(&w.family_a).await.expect("file");
    let mother = file
        .persons
        .iter()
        .find(|p| p.relation == guanai_store::Relation::Mother)
        .expect("mother")
        .person_id
        .to_string();
    let missing = ServiceKind::ALL
        .into_iter()
        .filter(|k| on_checklist(*k))
        .find(|k| {
            !items
                .iter()
                .any(|i| i.person_id == mother && i.service == *k && i.entitled)
        })
        .expect("a service the mother (58) is not entitled to");
    (entitled, (mother, missing))
}

#[tokio::test]
async fn a_service_status_is_set_by_the_village_and_refused_next_to_the_field() {
    both(async |w: &World| {
        let ((person, service), (mother, missing)) = services_of_a(w).await;
        let a = w.family_a.to_string();
        let path = format!("/families/{a}");
        let line = format!("id=\"service-{person}-{}\"", service.as_str());
        let mut village = w.client("village").await;
        let r = village.get(&path).await;
        assert_eq!(r.status, StatusCode::OK);
        let services = section(&r.body, "services");
        let before = row(services, &line).expect("the service is listed");
        assert!(before.contains("未办理"), "{before}");
        assert!(before.contains("(二("), "the clause is cited: {before}");

        let send = |status: &'static str, on: String, note: &'static str| {
            let (person, service) = (person.clone(), service.as_str());
            async move {
                let mut c = w.client("village").await;
                c.post(
                    &format!("/families/{a}/services", a = w.family_a),
                    &[
                        ("person", &person),
                        ("service", service),
                        ("status", status),
                        ("on_date", &on),
                        ("note", note),
                    ],
                )
                .await
            }
        };
        // Declined without the family's reason: refused, the message in that service's form.
        let r = send("declined", today().to_string(), "").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let form = row(section(&r.body, "services"), &line).expect("the row");
        assert!(form.contains("<details open"), "the form is open: {form}");
        assert!(form.contains("放弃须注明原因"), "{form}");
        // A date in the future.
        let r = send("granted", tomorrow(), "").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let form = row(section(&r.body, "services"), &line).expect("the row");
        assert!(form.contains("cannot be in the future"), "{form}");
        assert!(
            form.contains(&format!("value=\"{}\"", tomorrow())),
            "kept: {form}"
        );
        // A service the mother is not entitled to this month (a form sent by hand).
        let r = village
            .post(
                &format!("/families/{a}/services"),
                &[
                    ("person", &mother),
                    ("service", missing.as_str()),
                    ("status", "offered"),
                    ("on_date", &today().to_string()),
                    ("note", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let services = section(&r.body, "services");
        assert!(
            services.contains("class=\"error services-error\">按政策此人本月不享有该项服务"),
            "{services}"
        );
        // Granted.
        let r = send("granted", days_ago(3), "已纳入医疗救助").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = village.get(&path).await;
        let after = row(section(&r.body, "services"), &line).expect("the row");
        assert!(
            after.contains("已落实")
                && after.contains(&days_ago(3))
                && after.contains("已纳入医疗救助"),
            "{after}"
        );
        assert!(after.contains("village (测试village)"), "who: {after}");
        let audit = w
            .archive
            .audit_entries(&AuditQuery {
                action_prefix: Some("service.status".into()),
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        assert_eq!(audit.len(), 1, "only the accepted change is audited");

        // The inspector reads the list without forms; the volunteer does not see it at all.
        let mut inspector = w.client("inspector").await;
        let r = inspector.get(&path).await;
        let services = section(&r.body, "services");
        assert!(
            services.contains("已落实") && !services.contains("<form"),
            "{services}"
        );
        let r = inspector
            .post(
                &format!("/families/{a}/services"),
                &[
                    ("person", &person),
                    ("service", service.as_str()),
                    ("status", "offered"),
                    ("on_date", &today().to_string()),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let mut volunteer = w.client("volunteer").await;
        let r = volunteer.get(&path).await;
        assert!(
            !r.body.contains("id=\"services\""),
            "no checklist for volunteers"
        );
    })
    .await;
}

#[tokio::test]
async fn pairing_is_refused_after_the_family_declined_and_allowed_once_it_is_withdrawn() {
    both(async |w: &World| {
        // The administrator registers the volunteer's organisation.
        let mut admin = w.client("admin").await;
        let r = admin
            .post(
                "/admin/users/volunteer",
                &[
                    ("action", "volunteer"),
                    ("organisation", ""),
                    ("skills", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("必填"), "the error is shown");
        let r = admin
            .post(
                "/admin/users/volunteer",
                &[
                    ("action", "volunteer"),
                    ("organisation", "沂南县青年志愿者协会"),
                    ("skills", "护理"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = admin.get("/admin/users").await;
        assert!(r.body.contains("沂南县青年志愿者协会 · 护理"));
        let r = admin
            .post(
                "/admin/users/county",
                &[("action", "volunteer"), ("organisation", "x")],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "only volunteers have one"
        );

        w.archive
            .create_user(
                &guanai_store::access::NewUser {
                    login: "volunteer2".into(),
                    display_name: "测试volunteer2".into(),
                    role: guanai_store::access::Role::Volunteer,
                    area_code: "371321001".into(),
                    password: support::PASSWORD.into(),
                },
                &guanai_store::Actor::new("test"),
            )
            .await
            .expect("volunteer2");

        let mut county = w.client("county").await;
        let r = county.get(&format!("/families/{}", w.family_a)).await;
        let network = section(&r.body, "network");
        assert!(
            network.contains("测试volunteer") && network.contains("沂南县青年志愿者协会"),
            "the paired volunteer with the organisation: {network}"
        );
        let a2 = w.family_a2.to_string();
        let path = format!("/families/{a2}");
        let r = county.get(&path).await;
        let pair = section(&r.body, "form-pair");
        assert!(
            pair.contains("value=\"volunteer2\"") && pair.contains("value=\"volunteer\""),
            "active volunteers whose area holds A2: {pair}"
        );

        // The family declines: a future date is refused next to the field.
        let r = county
            .post(
                &format!("{path}/volunteers/refusal"),
                &[("refused_on", &tomorrow()), ("reason", "子女亲属照顾")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body.contains("<details open id=\"form-refuse\""),
            "the form is open"
        );
        let form = section(&r.body, "form-refuse");
        assert!(form.contains("cannot be in the future"), "{form}");
        let r = county
            .post(
                &format!("{path}/volunteers/refusal"),
                &[("refused_on", &days_ago(1)), ("reason", "子女亲属照顾")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = county.get(&path).await;
        assert!(r.body.contains("id=\"refusal\""), "the refusal is shown");
        assert!(!r.body.contains("id=\"form-pair\""), "no pairing offered");

        // Pairing sent anyway is refused, and nothing is paired.
        let r = county
            .post(
                &format!("{path}/volunteers"),
                &[("volunteer", "volunteer2")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            section(&r.body, "network").contains("表示不需要志愿者结对"),
            "{}",
            section(&r.body, "network")
        );
        assert!(
            w.archive
                .volunteers_of(&w.family_a2)
                .await
                .expect("pairs")
                .is_empty()
        );

        // Withdrawn: the pairing goes through.
        let r = county
            .post(&format!("{path}/volunteers/refusal/withdraw"), &[])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = county
            .post(
                &format!("{path}/volunteers"),
                &[("volunteer", "volunteer2")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = county.get(&path).await;
        assert!(section(&r.body, "volunteers").contains("测试volunteer2"));
        // A caseworker of another village of the township's county cannot pair A2.
        let mut village = w.client("village").await;
        let r = village
            .post(&format!("{path}/volunteers"), &[("volunteer", "volunteer")])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = county
            .post(&format!("{path}/volunteers"), &[("volunteer", "county")])
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "a caseworker is no volunteer"
        );
    })
    .await;
}

#[tokio::test]
async fn the_paired_volunteer_records_help_for_a_and_gets_not_found_for_others() {
    both(async |w: &World| {
        let a = w.family_a.to_string();
        let mut volunteer = w.client("volunteer").await;
        let r = volunteer.get(&format!("/families/{a}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("id=\"form-help\""));
        let help = |minutes: &'static str, note: &'static str, on: String| {
            vec![
                ("on_date", on),
                ("kind", "emotional_comfort".to_owned()),
                ("minutes", minutes.to_owned()),
                ("note", note.to_owned()),
            ]
        };
        let send = |fields: Vec<(&'static str, String)>, path: String| async move {
            let mut c = w.client("volunteer").await;
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.post(&path, &pairs).await
        };
        let path = format!("/families/{a}/help");
        let r = send(help("0", "陪老人聊天", today().to_string()), path.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let form = section(&r.body, "form-help");
        assert!(form.contains("1–1440"), "{form}");
        assert!(form.contains("陪老人聊天"), "the note is kept: {form}");
        let r = send(help("60", "", today().to_string()), path.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(section(&r.body, "form-help").contains("必填"));
        let r = send(
            help("90", "陪老人聊天，帮忙打扫院子", days_ago(2)),
            path.clone(),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = volunteer.get(&format!("/families/{a}")).await;
        let records = section(&r.body, "help-records");
        assert!(
            records.contains("精神慰藉")
                && records.contains("90")
                && records.contains(&days_ago(2)),
            "{records}"
        );
        // Families not paired with the volunteer: not found, and nothing recorded.
        for other in [&w.family_b, &w.family_a2] {
            let r = send(
                help("30", "x", today().to_string()),
                format!("/families/{other}/help"),
            )
            .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{other}");
            assert!(w.archive.help_of(other).await.expect("help").is_empty());
        }
        // Caseworkers read the records but do not record help themselves.
        let mut county = w.client("county").await;
        let r = county.get(&format!("/families/{a}")).await;
        assert!(section(&r.body, "help-records").contains("陪老人聊天，帮忙打扫院子"));
        assert!(!r.body.contains("id=\"form-help\""));
        let r = county
            .post(
                &path,
                &[
                    ("on_date", &today().to_string()),
                    ("kind", "daily_care"),
                    ("minutes", "30"),
                    ("note", "x"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(w.archive.help_of(&w.family_a).await.expect("help").len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_counsellor_sees_a_family_only_once_referred_and_alone_reads_the_reason_and_notes() {
    both(async |w: &World| {
        let a = w.family_a.to_string();
        let path = format!("/families/{a}");
        let mut counsellor = w.client("counsellor").await;
        let r = counsellor.get("/families").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains("A-001"), "nothing before a referral");
        assert_eq!(counsellor.get(&path).await.status, StatusCode::NOT_FOUND);
        assert_eq!(counsellor.get("/").await.status, StatusCode::OK);
        assert_eq!(
            counsellor.get("/complaints").await.status,
            StatusCode::FORBIDDEN
        );

        // The county refers family A; the reason is required.
        let mut county = w.client("county").await;
        let r = county.get(&path).await;
        assert!(section(&r.body, "form-refer").contains("value=\"counsellor\""));
        let r = county
            .post(
                &format!("{path}/referrals"),
                &[
                    ("counsellor", "counsellor"),
                    ("referred_on", &today().to_string()),
                    ("reason", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(section(&r.body, "form-refer").contains("必填"));
        let reason = "丧子后长期失眠，情绪低落";
        let r = county
            .post(
                &format!("{path}/referrals"),
                &[
                    ("counsellor", "counsellor"),
                    ("referred_on", &days_ago(7)),
                    ("reason", reason),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        // The counsellor now finds family A (only A), with the limited file.
        let r = counsellor.get("/families").await;
        assert!(r.body.contains("A-001") && !r.body.contains("A-002") && !r.body.contains("B-001"));
        let r = counsellor.get(&path).await;
        assert_eq!(r.status, StatusCode::OK);
        let body = &r.body;
        for secret in [MOTHER_A, &MOTHER_A[..6], "6222", "临沂农商银行"] {
            assert!(!body.contains(secret), "the counsellor sees {secret}");
        }
        for hidden in [
            "timeline",
            "payments",
            "entitlements",
            "services",
            "record",
            "volunteers",
            "form-help",
        ] {
            assert!(
                !body.contains(&format!("id=\"{hidden}\"")),
                "the counsellor sees #{hidden}"
            );
        }
        assert!(
            !body.contains("测试volunteer"),
            "no volunteers for the counsellor"
        );
        let counselling = section(body, "counselling");
        assert!(
            counselling.contains(reason),
            "the counsellor reads the reason"
        );
        // The same through the API: no ID numbers, no bank account, no evaluation.
        let token = w
            .archive
            .create_api_token(&w.user("counsellor").user_id, "test", &Actor::new("test"))
            .await
            .expect("token");
        let (status, json) = api_get(w, &format!("/api/v1/families/{a}"), &token).await;
        assert_eq!(status, StatusCode::OK, "{json}");
        assert!(
            json.contains("\"id_number\":null") && json.contains("\"evaluation\":null"),
            "{json}"
        );
        assert!(
            !json.contains(&MOTHER_A[..6]) && !json.contains("6222"),
            "{json}"
        );

        // A session: the length is checked, then the notes are saved and shown to them.
        let referral = w
            .archive
            .referrals_of(&w.family_a, w.user("county"))
            .await
            .expect("referrals")[0]
            .referral_id
            .clone();
        let session = format!("{path}/referrals/{referral}/sessions");
        let r = counsellor
            .post(
                &session,
                &[
                    ("on_date", &today().to_string()),
                    ("minutes", "一小时"),
                    ("note", "x"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(section(&r.body, "counselling").contains("分钟数"));
        let r = counsellor
            .post(
                &session,
                &[("on_date", &days_ago(10)), ("minutes", "50"), ("note", "x")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "before the referral");
        assert!(section(&r.body, "counselling").contains("咨询日期早于转介日期"));
        let notes = "首次面谈：睡眠差，约定两周后复谈";
        let r = counsellor
            .post(
                &session,
                &[
                    ("on_date", &today().to_string()),
                    ("minutes", "50"),
                    ("note", notes),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = counsellor.get(&path).await;
        assert!(section(&r.body, "counselling").contains(notes));
        // The counsellor does nothing else on the file.
        for (route, fields) in [
            (
                "help",
                vec![
                    ("on_date", today().to_string()),
                    ("kind", "legal_aid".to_owned()),
                    ("minutes", "10".to_owned()),
                    ("note", "x".to_owned()),
                ],
            ),
            (
                "referrals",
                vec![
                    ("counsellor", "counsellor".to_owned()),
                    ("referred_on", today().to_string()),
                    ("reason", "x".to_owned()),
                ],
            ),
            ("volunteers", vec![("volunteer", "volunteer".to_owned())]),
            (
                "services",
                vec![
                    ("person", "x".to_owned()),
                    ("service", "medical_relief".to_owned()),
                    ("status", "offered".to_owned()),
                    ("on_date", today().to_string()),
                ],
            ),
        ] {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = counsellor.post(&format!("{path}/{route}"), &pairs).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{route}");
        }
        let audit = w
            .archive
            .audit_entries(&AuditQuery {
                action_prefix: Some("counselling.".into()),
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        assert_eq!(audit.len(), 2, "the referral and the session");
        assert!(
            audit
                .iter()
                .all(|e| !e.reason.contains(reason) && !e.reason.contains(notes))
        );

        // The county sees that a session was held, not what was said or why.
        let r = county.get(&path).await;
        let counselling = section(&r.body, "counselling");
        let line = row(counselling, &format!("id=\"referral-{referral}\"")).expect("the referral");
        assert!(
            line.contains("测试counsellor") && line.contains("<td class=\"num sessions\">1</td>"),
            "{line}"
        );
        assert!(
            !r.body.contains(notes) && !r.body.contains(reason),
            "the county reads no notes"
        );
        // The volunteer sees no counselling at all.
        let mut volunteer = w.client("volunteer").await;
        let r = volunteer.get(&path).await;
        assert_eq!(r.status, StatusCode::OK);
        for hidden in [
            "id=\"counselling\"",
            "心理咨询",
            "测试counsellor",
            notes,
            reason,
        ] {
            assert!(!r.body.contains(hidden), "the volunteer sees {hidden}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_administrator_creates_counsellors_for_a_county_or_the_city_only() {
    both(async |w: &World| {
        let mut admin = w.client("admin").await;
        let add = |login: &'static str, area: &'static str| {
            vec![
                ("login", login),
                ("display_name", "心理咨询师"),
                ("role", "counsellor"),
                ("area_code", area),
                ("password", support::PASSWORD),
            ]
        };
        let r = admin
            .post("/admin/users", &add("c_village", support::VILLAGE_A))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body.contains("心理咨询师只能设在县区或市一级"),
            "next to the area"
        );
        for (login, area) in [("c_county", "371302"), ("c_city", "371300")] {
            let r = admin.post("/admin/users", &add(login, area)).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{login}: {}", r.body);
        }
        let created = w
            .archive
            .user_by_login("c_city")
            .await
            .expect("user")
            .expect("created");
        assert_eq!(created.role, guanai_store::access::Role::Counsellor);
    })
    .await;
}
