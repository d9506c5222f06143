//! Sign-in, sessions, CSRF and area scoping through the real router, on SQLite and PostgreSQL.

mod support;

use axum::http::StatusCode;
use support::{Client, MOTHER_A, PASSWORD, World, both};

#[tokio::test]
async fn pages_need_a_session_and_sign_in_opens_one() {
    both(async |w: &World| {
        let mut anon = Client::new(w.router.clone());
        let r = anon.get("/families").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location.as_deref(), Some("/login?next=%2Ffamilies"));
        let r = anon.sign_in("county", "wrong password!").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("登录名或密码不正确"), "{}", r.body);
        assert!(anon.cookie.is_none());
        let r = anon.sign_in("county", PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let cookie = r
            .headers
            .get("set-cookie")
            .expect("cookie")
            .to_str()
            .expect("text");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let r = anon.get("/families").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("A-001") && r.body.contains("A-002"),
            "{}",
            r.body
        );
        assert!(!r.body.contains("B-001"));
    })
    .await;
}

#[tokio::test]
async fn repeated_failures_lock_the_login() {
    let w = support::sqlite().await;
    let mut c = Client::new(w.router.clone());
    for _ in 0..5 {
        let r = c.sign_in("village", "not the password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused while locked.
    let r = c.sign_in("village", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("锁定"), "{}", r.body);
    // Other logins are not affected.
    let r = c.sign_in("township", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    w.cleanup().await;
}

#[tokio::test]
async fn another_areas_family_is_not_found_for_every_family_route() {
    both(async |w: &World| {
        let b = w.family_b.to_string();
        for login in [
            "village",
            "township",
            "county",
            "finance",
            "volunteer",
            "inspector",
        ] {
            let mut c = w.client(login).await;
            let visible_b = login == "inspector";
            let r = c.get(&format!("/families/{b}")).await;
            assert_eq!(
                r.status == StatusCode::OK,
                visible_b,
                "{login} GET family B: {}",
                r.status
            );
            if !visible_b {
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{login}");
                assert!(!r.body.contains("赵玉梅"));
            }
            for path in ["record", "withdraw", "reveal"] {
                let r = c
                    .post(
                        &format!("/families/{b}/{path}"),
                        &[
                            ("form", "note"),
                            ("version", "1"),
                            ("text", "x"),
                            ("fact", "F0"),
                            ("reason", "test reason"),
                        ],
                    )
                    .await;
                assert!(
                    r.status == StatusCode::NOT_FOUND || r.status == StatusCode::FORBIDDEN,
                    "{login} POST {path} on family B: {}",
                    r.status
                );
            }
            let r = c.get("/families?name=赵").await;
            assert_eq!(r.body.contains("B-001"), visible_b, "{login} search");
        }
        // The village caseworker does not see the other village of the same township.
        let mut v = w.client("village").await;
        let r = v.get(&format!("/families/{}", w.family_a2)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let mut t = w.client("township").await;
        let r = t.get(&format!("/families/{}", w.family_a2)).await;
        assert_eq!(r.status, StatusCode::OK);
        // The volunteer sees the paired family only, and no ID number or account.
        let mut vol = w.client("volunteer").await;
        let r = vol.get(&format!("/families/{}", w.family_a)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            !r.body.contains("<th>身份证号</th>") && !r.body.contains("<th>银行账户</th>"),
            "{}",
            r.body
        );
        assert!(!r.body.contains("id=\"payments\"") && !r.body.contains("id=\"timeline\""));
        let r = vol.get(&format!("/families/{}", w.family_a2)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // The administrator sees no family at all.
        let mut admin = w.client("admin").await;
        let r = admin.get(&format!("/families/{}", w.family_a)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let w = support::sqlite().await;
    let mut c = w.client("village").await;
    let a = w.family_a.to_string();
    let path = format!("/families/{a}/record");
    let fields = [("form", "note"), ("version", "1"), ("text", "没有令牌")];
    let r = c.post_raw(&path, &fields).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut wrong = fields.to_vec();
    wrong.push(("_csrf", "forged"));
    let r = c.post_raw(&path, &wrong).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let file = w.archive.family_file(&w.family_a).await.expect("file");
    assert_eq!(file.version, 1, "nothing was written");
    let r = c.post(&path, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let file = w.archive.family_file(&w.family_a).await.expect("file");
    assert_eq!(file.version, 2);
    w.cleanup().await;
}

#[tokio::test]
async fn stored_text_is_escaped_on_every_page_that_shows_it() {
    let w = support::sqlite().await;
    let mut c = w.client("village").await;
    let a = w.family_a.to_string();
    let script = "<script>alert('x')</script>";
    let r = c
        .post(
            &format!("/families/{a}/record"),
            &[
                ("form", "note"),
                ("version", "1"),
                ("text", script),
                ("reason", "\"><img src=x onerror=alert(1)>"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = c.get(&format!("/families/{a}")).await;
    let at = r
        .body
        .find(script)
        .map(|i| &r.body[i.saturating_sub(300)..i + 40]);
    assert!(at.is_none(), "note not escaped: {at:?}");
    assert!(
        r.body.contains("&#60;script&#62;") || r.body.contains("&lt;script&gt;"),
        "the note is shown, escaped"
    );
    assert!(!r.body.contains("<img src=x"), "reason not escaped");
    let r = c.get(&format!("/families?name={}", "%3Cscript%3E")).await;
    assert!(!r.body.contains("<script>"));
    w.cleanup().await;
}

#[tokio::test]
async fn recording_a_death_changes_the_entitlement_and_bad_fields_are_named() {
    let w = support::sqlite().await;
    // A death is the township's to record (the village proposes it: tests/changes.rs).
    let mut c = w.client("township").await;
    let a = w.family_a.to_string();
    let file = w.archive.family_file(&w.family_a).await.expect("file");
    let mother = file.persons[0].person_id.to_string();
    let r = c.get(&format!("/families/{a}?month=2026-11")).await;
    assert!(r.body.contains("失独家庭"), "{}", r.body);
    assert!(r.body.contains("二("), "the explanation cites clauses");
    // A death in the future is refused next to the date field, and nothing is written.
    let r = c
        .post(
            &format!("/families/{a}/record"),
            &[
                ("form", "death"),
                ("version", "1"),
                ("person", &mother),
                ("date", "2999-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("日期不能晚于今天"), "{}", r.body);
    let r = c
        .post(
            &format!("/families/{a}/record"),
            &[
                ("form", "death"),
                ("version", "1"),
                ("person", &mother),
                ("date", "2026-01-10"),
                ("certificate_no", "D-1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = c.get(&format!("/families/{a}?month=2026-11")).await;
    let amounts: Vec<&str> = r.body.matches("class=\"num\">").collect();
    assert!(!amounts.is_empty());
    // One parent left: one monthly line.
    let section = &r.body[r.body.find("id=\"entitlements\"").expect("section")..];
    let section = &section[..section.find("</table>").expect("end")];
    assert_eq!(section.matches("<tr><td>").count(), 1, "{section}");
    // A stale version is a conflict shown on the form, not a lost write.
    let r = c
        .post(
            &format!("/families/{a}/record"),
            &[("form", "note"), ("version", "1"), ("text", "旧版本")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("changed by someone else"), "{}", r.body);
    w.cleanup().await;
}

#[tokio::test]
async fn revealing_needs_a_reason_and_is_audited_inspectors_cannot() {
    let w = support::sqlite().await;
    let a = w.family_a.to_string();
    let file = w.archive.family_file(&w.family_a).await.expect("file");
    let id_fact = file
        .facts
        .iter()
        .find(|f| f.kind == "id_number")
        .expect("id fact")
        .fact_id
        .to_string();
    let mut c = w.client("village").await;
    let r = c.get(&format!("/families/{a}")).await;
    assert!(!r.body.contains(MOTHER_A), "masked by default");
    let r = c
        .post(
            &format!("/families/{a}/reveal"),
            &[("fact", &id_fact), ("reason", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = c
        .post(
            &format!("/families/{a}/reveal"),
            &[("fact", &id_fact), ("reason", "核对银行开户信息")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(MOTHER_A));
    assert_eq!(
        r.headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let log = w.archive.audit_log().await.expect("audit");
    assert!(
        log.iter()
            .any(|e| e.2 == "reveal" && e.4 == "核对银行开户信息"),
        "{log:?}"
    );
    let mut i = w.client("inspector").await;
    let r = i
        .post(
            &format!("/families/{a}/reveal"),
            &[("fact", &id_fact), ("reason", "督查")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    w.cleanup().await;
}

#[tokio::test]
async fn break_the_glass_opens_one_family_read_only_and_shows_it_to_its_county() {
    let w = support::sqlite().await;
    let b = w.family_b.to_string();
    let mut c = w.client("county").await;
    let r = c.get(&format!("/families?id={}", w.mother_b_id)).await;
    assert!(r.body.contains("id=\"break-glass\""), "offered");
    let r = c
        .post(
            "/access",
            &[
                ("id", &w.mother_b_id),
                ("reason", "跨县迁移核实"),
                ("hours", "2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = c.get(&format!("/families/{b}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("id=\"granted\""));
    assert!(!r.body.contains("id=\"record\""), "no forms under a grant");
    let r = c
        .post(
            &format!("/families/{b}/record"),
            &[("form", "note"), ("version", "1"), ("text", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut other = w.client("county_b").await;
    let r = other.get("/").await;
    assert!(
        r.body.contains("跨县迁移核实"),
        "the family's county sees the access"
    );
    // A reason is required.
    let r = c
        .post(
            "/access",
            &[("id", &w.mother_b_id), ("reason", ""), ("hours", "2")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    w.cleanup().await;
}

#[tokio::test]
async fn password_change_and_sign_out_end_sessions() {
    let w = support::sqlite().await;
    let mut first = w.client("county").await;
    let mut second = w.client("county").await;
    let r = first
        .post(
            "/account/password",
            &[("current", PASSWORD), ("new", "short")],
        )
        .await;
    assert!(r.body.contains("至少"), "{}", r.body);
    let r = first
        .post(
            "/account/password",
            &[("current", PASSWORD), ("new", "a much longer passphrase")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = second.get("/families").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "the other session ended too"
    );
    let mut again = Client::new(w.router.clone());
    let r = again.sign_in("county", "a much longer passphrase").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = again.post("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = again.get("/families").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    w.cleanup().await;
}

#[tokio::test]
async fn a_move_to_another_county_moves_the_family_into_that_countys_scope() {
    both(async |w: &World| {
        let a = w.family_a.to_string();
        let mut county = w.client("county").await;
        let r = county
            .post(
                &format!("/families/{a}/record"),
                &[
                    ("form", "registration"),
                    ("version", "1"),
                    ("hukou", "urban"),
                    ("village", support::VILLAGE_B),
                    ("date", "2026-10-15"),
                    ("reason", "迁往兰山区"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = county.get(&format!("/families/{a}")).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "the old county no longer sees it"
        );
        let mut other = w.client("county_b").await;
        let r = other.get(&format!("/families/{a}")).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = other.get("/families?name=王秀英").await;
        assert!(r.body.contains("A-001"), "found by name in the new county");
        // A village code that does not exist is named next to the field.
        let r = other
            .post(
                &format!("/families/{a}/record"),
                &[
                    ("form", "registration"),
                    ("version", "2"),
                    ("hukou", "urban"),
                    ("village", "371302999999"),
                    ("date", "2026-10-15"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("371302999999"), "{}", r.body);
    })
    .await;
}

#[tokio::test]
async fn contacts_are_named_inside_the_area_and_shown_on_the_family_file() {
    both(async |w: &World| {
        let mut county = w.client("county").await;
        let r = county
            .post(
                "/contacts",
                &[
                    ("area", support::VILLAGE_A),
                    ("duty", "联系人"),
                    ("name", "韩梅"),
                    ("phone", "0539-1234567"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = county.get(&format!("/families/{}", w.family_a)).await;
        assert!(
            r.body.contains("韩梅") && r.body.contains("0539-1234567"),
            "{}",
            r.body
        );
        let r = county
            .post(
                "/contacts",
                &[
                    ("area", support::VILLAGE_A),
                    ("duty", "联系人"),
                    ("name", "韩梅"),
                    ("phone", "call me"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let mut other = w.client("county_b").await;
        let r = other
            .post(
                "/contacts",
                &[
                    ("area", support::VILLAGE_A),
                    ("duty", "联系人"),
                    ("name", "外人"),
                    ("phone", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("outside your area"), "{}", r.body);
        let r = other
            .get(&format!("/contacts?area={}", support::VILLAGE_A))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let mut inspector = w.client("inspector").await;
        let r = inspector
            .get(&format!("/contacts?area={}", support::VILLAGE_A))
            .await;
        assert!(r.body.contains("韩梅") && !r.body.contains("id=\"set-contact\""));
    })
    .await;
}
