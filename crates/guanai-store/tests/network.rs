//! The care network: volunteers with their organisation, a family's refusal of pairing, service
//! records by type, and counselling — referrals in the counsellor's scope, session notes sealed
//! and read by the counsellor alone — against SQLite and PostgreSQL (the service on
//! 127.0.0.1:5432, or `GUANAI_TEST_POSTGRES`); without PostgreSQL its half is skipped with a
//! message, except in CI (`CI` set), where it fails.

mod support;

use support::{census_family, user};

use guanai_rules::parse_date;
use guanai_store::access::Role;
use guanai_store::network::HelpKind;
use guanai_store::{Actor, Archive, FamilyId, StoreError};
use jiff::civil::Date;

fn d(s: &str) -> Date {
    parse_date(s).expect("date")
}

async fn families(a: &Archive) -> (FamilyId, FamilyId) {
    let census = Actor::new("census");
    (
        a.create_family(&census_family("N-1", "371321001003"), &census, "普查")
            .await
            .expect("family"),
        a.create_family(&census_family("N-2", "371321001010"), &census, "普查")
            .await
            .expect("family"),
    )
}

#[tokio::test]
async fn volunteers_pair_unless_refused_and_record_their_help() {
    on_both!(|b| {
        let a = &b.archive;
        let (one, two) = families(a).await;
        let county = user(a, "c", Role::County, "371321").await;
        let vol = user(a, "vol", Role::Volunteer, "371321").await;
        let c = a.scoped(&county);
        let not_volunteer = a
            .register_volunteer(&county, "红十字会", "", &Actor::new("admin"))
            .await;
        assert!(
            matches!(not_volunteer, Err(StoreError::Invalid { ref field, .. }) if field == "volunteer")
        );
        a.register_volunteer(&vol, "沂南县志愿者协会", "护理", &Actor::new("admin"))
            .await
            .expect("register");
        assert_eq!(
            a.volunteer_profile(&vol).await.expect("profile"),
            Some(("沂南县志愿者协会".into(), "护理".into()))
        );

        c.pair_volunteer(&vol, &one).await.expect("pair");
        c.refuse_pairing(&two, d("2026-11-01"), "不愿外人打扰", d("2026-11-30"))
            .await
            .expect("refuse");
        let refused = c.pair_volunteer(&vol, &two).await;
        assert!(
            matches!(refused, Err(StoreError::Invalid { ref field, .. }) if field == "family"),
            "{refused:?}"
        );
        // Refusing ends a pairing too.
        c.refuse_pairing(&one, d("2026-11-02"), "已有亲属照顾", d("2026-11-30"))
            .await
            .expect("refuse");
        assert!(
            a.volunteers_of(&one).await.expect("volunteers").is_empty(),
            "{}",
            b.label
        );
        a.withdraw_refusal(&one, &county.actor())
            .await
            .expect("withdraw");
        c.pair_volunteer(&vol, &one).await.expect("pair again");
        assert_eq!(
            a.volunteers_of(&one).await.expect("volunteers")[0]
                .2
                .as_deref(),
            Some("沂南县志愿者协会")
        );

        let v = a.scoped(&vol);
        let future = v
            .record_help(
                &one,
                d("2026-12-01"),
                HelpKind::DailyCare,
                60,
                "打扫卫生",
                d("2026-11-30"),
            )
            .await;
        assert!(matches!(future, Err(StoreError::Invalid { ref field, .. }) if field == "on_date"));
        let long = v
            .record_help(
                &one,
                d("2026-11-20"),
                HelpKind::DailyCare,
                2000,
                "打扫卫生",
                d("2026-11-30"),
            )
            .await;
        assert!(matches!(long, Err(StoreError::Invalid { ref field, .. }) if field == "minutes"));
        v.record_help(
            &one,
            d("2026-11-20"),
            HelpKind::EmotionalComfort,
            90,
            "陪同聊天，情绪好转",
            d("2026-11-30"),
        )
        .await
        .expect("help");
        let unpaired = v
            .record_help(
                &two,
                d("2026-11-20"),
                HelpKind::DailyCare,
                60,
                "打扫",
                d("2026-11-30"),
            )
            .await;
        assert!(
            matches!(unpaired, Err(StoreError::FamilyNotFound(_))),
            "{unpaired:?}"
        );
        let by_caseworker = c
            .record_help(
                &one,
                d("2026-11-20"),
                HelpKind::DailyCare,
                60,
                "打扫",
                d("2026-11-30"),
            )
            .await;
        assert!(matches!(by_caseworker, Err(StoreError::Forbidden(_))));
        let help = a.help_of(&one).await.expect("help");
        assert_eq!(
            (help.len(), help[0].kind, help[0].minutes),
            (1, HelpKind::EmotionalComfort, 90)
        );
    });
}

#[tokio::test]
async fn counselling_notes_are_for_the_counsellor_alone() {
    on_both!(|b| {
        let a = &b.archive;
        let (one, two) = families(a).await;
        let county = user(a, "c", Role::County, "371321").await;
        let counsellor = user(a, "psy", Role::Counsellor, "371321").await;
        let elsewhere = user(a, "psy2", Role::Counsellor, "371302").await;
        let other = user(a, "psy3", Role::Counsellor, "371321").await;
        let vol = user(a, "vol", Role::Volunteer, "371321").await;
        a.pair_volunteer(&vol, &one, &Actor::new("admin"))
            .await
            .expect("pair");
        let c = a.scoped(&county);
        let far = c
            .refer_to_counsellor(
                &one,
                &elsewhere,
                "丧子后失眠、抑郁倾向",
                d("2026-11-01"),
                d("2026-11-30"),
            )
            .await;
        assert!(matches!(far, Err(StoreError::Invalid { ref field, .. }) if field == "counsellor"));
        let not_counsellor = c
            .refer_to_counsellor(&one, &vol, "x", d("2026-11-01"), d("2026-11-30"))
            .await;
        assert!(
            matches!(not_counsellor, Err(StoreError::Invalid { ref field, .. }) if field == "counsellor")
        );
        let referral = c
            .refer_to_counsellor(
                &one,
                &counsellor,
                "丧子后失眠、抑郁倾向",
                d("2026-11-01"),
                d("2026-11-30"),
            )
            .await
            .expect("refer");

        // The counsellor sees the referred family, not the others.
        let p = a.scoped(&counsellor);
        assert!(
            p.visibility(&one).await.expect("vis").is_some(),
            "{}",
            b.label
        );
        assert!(p.visibility(&two).await.expect("vis").is_none());
        let early = p
            .record_session(&referral, d("2026-10-31"), 50, "首次访谈", d("2026-11-30"))
            .await;
        assert!(matches!(early, Err(StoreError::Invalid { ref field, .. }) if field == "on_date"));
        p.record_session(
            &referral,
            d("2026-11-05"),
            50,
            "首次访谈：睡眠差，建议每周一次",
            d("2026-11-30"),
        )
        .await
        .expect("session");
        let not_theirs = a
            .scoped(&other)
            .record_session(&referral, d("2026-11-06"), 50, "x", d("2026-11-30"))
            .await;
        assert!(
            matches!(not_theirs, Err(StoreError::Forbidden(_))),
            "{not_theirs:?}"
        );
        let by_caseworker = c
            .record_session(&referral, d("2026-11-06"), 50, "x", d("2026-11-30"))
            .await;
        assert!(matches!(by_caseworker, Err(StoreError::Forbidden(_))));

        let own = p.referrals(&one).await.expect("counsellor reads");
        assert_eq!(
            own[0].sessions[0].2.as_deref(),
            Some("首次访谈：睡眠差，建议每周一次")
        );
        let caseworker = c.referrals(&one).await.expect("caseworker reads");
        assert_eq!(caseworker[0].sessions.len(), 1);
        assert_eq!(
            caseworker[0].sessions[0].2, None,
            "caseworkers see that a session took place, not its notes"
        );
        assert!(
            a.scoped(&vol)
                .referrals(&one)
                .await
                .expect("volunteer")
                .is_empty()
        );

        // The notes are sealed in the database.
        let audit = a
            .audit_entries(&guanai_store::AuditQuery::default())
            .await
            .expect("audit");
        assert!(
            audit.iter().all(|e| !e.reason.contains("失眠")),
            "health details stay out of the log"
        );

        a.close_referral(&referral, d("2026-11-28"), d("2026-11-30"), &county.actor())
            .await
            .expect("close");
        assert!(
            p.visibility(&one).await.expect("vis").is_none(),
            "a closed referral ends the access"
        );
    });
}

#[tokio::test]
async fn the_helpers_covering_a_village_are_its_areas_active_volunteers_and_counsellors() {
    on_both!(|b| {
        let a = &b.archive;
        let village = "371321001003";
        for (login, role, area) in [
            ("v-county", Role::Volunteer, "371321"),
            ("v-town", Role::Volunteer, "371321001"),
            ("v-village", Role::Volunteer, village),
            ("v-other-village", Role::Volunteer, "371321001010"),
            ("v-other-county", Role::Volunteer, "371302"),
            ("k-city", Role::Counsellor, "371300"),
            ("caseworker", Role::County, "371321"),
            ("v-gone", Role::Volunteer, "371321"),
        ] {
            user(a, login, role, area).await;
        }
        let gone = a
            .user_by_login("v-gone")
            .await
            .expect("read")
            .expect("v-gone");
        a.set_user_active(&gone.user_id, false, &Actor::new("admin"))
            .await
            .expect("deactivated");
        let logins: Vec<String> = a
            .helpers_covering(village)
            .await
            .expect("helpers")
            .into_iter()
            .map(|u| u.login)
            .collect();
        assert_eq!(logins, ["k-city", "v-county", "v-town", "v-village"]);
    });
}

#[tokio::test]
async fn a_requests_remembered_visibility_agrees_with_the_database_and_forgets_not_found() {
    use guanai_store::scope::{SeenFamilies, Visibility};
    on_both!(|b| {
        let a = &b.archive;
        let (one, two) = families(a).await;
        let own = user(a, "own", Role::County, "371321").await;
        let other = user(a, "other", Role::County, "371302").await;
        let seen = SeenFamilies::default();
        let request = a.scoped_within(&own, &seen);
        for _ in 0..2 {
            for family in [&one, &two] {
                assert_eq!(
                    request.visibility(family).await.expect("visibility"),
                    Some(Visibility::Own)
                );
            }
        }
        // Another county's request: not found, then found once the glass is broken (a "not
        // found" is not remembered), and read-only.
        let seen = SeenFamilies::default();
        let request = a.scoped_within(&other, &seen);
        assert_eq!(request.visibility(&one).await.expect("visibility"), None);
        a.grant_access(
            &other,
            &one,
            "迁入家庭核实",
            std::time::Duration::from_secs(3600),
        )
        .await
        .expect("grant");
        let granted = request.visibility(&one).await.expect("visibility");
        assert!(
            matches!(granted, Some(Visibility::Granted { .. })),
            "{granted:?}"
        );
        assert_eq!(
            request.visibility(&one).await.expect("visibility"),
            a.scoped(&other).visibility(&one).await.expect("visibility")
        );
        assert_eq!(request.visibility(&two).await.expect("visibility"), None);
    });
}
