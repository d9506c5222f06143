//! Casework (issue 6): an application through village check, public notice with an objection,
//! township review and county approval — each step in order or refused — and what enrolment does
//! to payment runs; the annual re-confirmation suspending and resuming payment. Against SQLite
//! and PostgreSQL (the service on 127.0.0.1:5432, or `GUANAI_TEST_POSTGRES`); without PostgreSQL
//! its half is skipped with a message, except in CI (`CI` set), where it fails.

mod support;

use guanai_rules::{Fen, Hukou, Month, Policy, Sex, VillageCode, parse_date};
use guanai_store::access::{NewUser, Role, User};
use guanai_store::casework::{Decision, Enrolment, Status, Step, mask_for_notice};
use guanai_store::pay::{BuildOptions, BuildOutcome, RunSummary};
use guanai_store::{
    Actor, Archive, FactValue, FamilyId, NewFamily, NewPerson, Relation, StoreError,
};
use jiff::civil::Date;

fn d(s: &str) -> Date {
    parse_date(s).expect("date")
}

fn m(s: &str) -> Month {
    Month::parse(s).expect("month")
}

const YINAN: &str = "371321001003";

fn policy() -> (Policy, &'static str) {
    let text = guanai_rules::policy::embedded_text("linyi-2014").expect("pack");
    (Policy::from_toml(text).expect("pack"), text)
}

/// A bereaved family (the child died in August 2026: bereaved from September, the one-time
/// grant due then), both parents past 49, with bank accounts: 590 yuan a
/// month each (the national standard from 2022-07 is above Linyi's 500).
fn bereaved(no: &str) -> NewFamily {
    let village = VillageCode::parse(YINAN).expect("village");
    let parent = |name: &str, sex, born: &str, account: &str| NewPerson {
        relation: if sex == Sex::Female {
            Relation::Mother
        } else {
            Relation::Father
        },
        facts: vec![
            (
                FactValue::Identity {
                    name: name.into(),
                    sex,
                    birth_date: d(born),
                },
                None,
            ),
            (
                FactValue::BankAccount {
                    bank: "临沂农商银行".into(),
                    account: account.into(),
                },
                None,
            ),
        ],
    };
    NewFamily {
        family_no: no.to_owned(),
        county_code: village.county(),
        registration: (Hukou::Rural, village, None),
        persons: vec![
            parent("王秀英", Sex::Female, "1960-07-05", "6230180000000000011"),
            parent("李建国", Sex::Male, "1958-03-12", "6230180000000000029"),
            NewPerson {
                relation: Relation::Child,
                facts: vec![
                    (
                        FactValue::Identity {
                            name: "李明".into(),
                            sex: Sex::Male,
                            birth_date: d("1985-01-01"),
                        },
                        None,
                    ),
                    (
                        FactValue::Death {
                            certificate_no: None,
                        },
                        Some(d("2026-08-15")),
                    ),
                ],
            },
        ],
        import_hash: None,
    }
}

async fn user(a: &Archive, login: &str, role: Role, area: &str) -> User {
    a.create_user(
        &NewUser {
            login: login.into(),
            display_name: login.into(),
            role,
            area_code: area.into(),
            password: "correct horse battery".into(),
        },
        &Actor::new("admin"),
    )
    .await
    .expect("user")
}

async fn build(a: &Archive, month: &str, start: &str) -> BuildOutcome {
    let (policy, text) = policy();
    a.build_run(
        &BuildOptions {
            month: m(month),
            county: None,
            policy: &policy,
            policy_text: text,
            ledger_start: Some(m(start)),
            progress: None,
        },
        &Actor::new("clerk"),
    )
    .await
    .expect("build")
}

fn summary(outcome: BuildOutcome) -> RunSummary {
    match outcome {
        BuildOutcome::Built(s) => *s,
        other => panic!("expected a run, got {other:?}"),
    }
}

fn invalid<T: std::fmt::Debug>(r: Result<T, StoreError>) -> (String, String) {
    match r {
        Err(StoreError::Invalid { field, problem }) => (field, problem),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_application_is_enrolled_in_order_and_only_then_paid() {
    on_both!(|b| {
        let a = &b.archive;
        let (policy, _) = policy();
        let family = a
            .create_family(&bereaved("N-1"), &Actor::new("census"), "新申请")
            .await
            .expect("family");
        let village = user(a, "village", Role::Village, YINAN).await;
        let township = user(a, "township", Role::Township, "371321001").await;
        let county = user(a, "county", Role::County, "371321").await;
        let (v, t, c) = (a.scoped(&village), a.scoped(&township), a.scoped(&county));

        let future = v
            .apply(
                &family,
                d("2026-10-06"),
                "王秀英（母亲）",
                "户口簿、死亡证明",
                d("2026-10-05"),
            )
            .await;
        assert_eq!(invalid(future).0, "applied_on");
        let id = v
            .apply(
                &family,
                d("2026-10-05"),
                "王秀英（母亲）",
                "户口簿、独生子女证、死亡证明",
                d("2026-10-05"),
            )
            .await
            .expect("apply");
        let again = v
            .apply(
                &family,
                d("2026-10-05"),
                "李建国",
                "户口簿",
                d("2026-10-05"),
            )
            .await;
        assert_eq!(
            invalid(again).0,
            "family",
            "one open application per family"
        );
        assert_eq!(
            a.enrolment(&family).await.expect("enrolment"),
            Enrolment::Pending(Status::Applied)
        );

        // Not enrolled: a run pays nothing for it.
        assert!(
            matches!(
                build(a, "2026-10", "2026-09").await,
                BuildOutcome::NothingNew { .. }
            ),
            "{}",
            b.label
        );

        // Out of order: the county cannot approve, the township cannot review yet.
        let early = c
            .decide(
                &id,
                1,
                Step::CountyApproval,
                Decision::Pass,
                "材料齐全",
                "",
                d("2026-10-06"),
            )
            .await;
        assert!(invalid(early).1.contains("not its next step"));
        let wrong_role = v
            .decide(
                &id,
                1,
                Step::CountyApproval,
                Decision::Pass,
                "材料齐全",
                "",
                d("2026-10-06"),
            )
            .await;
        assert!(
            matches!(wrong_role, Err(StoreError::Forbidden(_))),
            "{wrong_role:?}"
        );
        let no_reason = v
            .decide(
                &id,
                1,
                Step::VillageCheck,
                Decision::Reject,
                "",
                " ",
                d("2026-10-06"),
            )
            .await;
        assert_eq!(invalid(no_reason).0, "reason");
        assert_eq!(
            v.decide(
                &id,
                1,
                Step::VillageCheck,
                Decision::Pass,
                "入户核实，情况属实",
                "",
                d("2026-10-06")
            )
            .await
            .expect("check"),
            Status::Checked
        );
        let stale = v
            .post_notice(&id, 1, d("2026-10-07"), &policy, d("2026-10-07"))
            .await;
        assert_eq!(
            invalid(stale).0,
            "version",
            "a step on a stale version is refused"
        );
        let until = v
            .post_notice(&id, 2, d("2026-10-07"), &policy, d("2026-10-07"))
            .await
            .expect("notice");
        assert_eq!(until, d("2026-10-13"), "seven days, the first included");
        let notice = v.notice_list(d("2026-10-08")).await.expect("notice list");
        assert_eq!(notice.len(), 1);
        assert_eq!(notice[0].masked_names, vec!["王*英", "李*国", "李*"]);
        assert!(
            v.notice_list(d("2026-10-14"))
                .await
                .expect("after")
                .is_empty()
        );

        let late = v
            .record_objection(&id, d("2026-10-20"), "邻居", "不同意", d("2026-10-20"))
            .await;
        assert_eq!(invalid(late).0, "raised_on");
        let objection = v
            .record_objection(
                &id,
                d("2026-10-08"),
                "邻居",
                "该户子女是否为独生子女有疑问",
                d("2026-10-08"),
            )
            .await
            .expect("objection");
        let during = t
            .decide(
                &id,
                3,
                Step::TownshipReview,
                Decision::Pass,
                "审核通过",
                "",
                d("2026-10-10"),
            )
            .await;
        assert!(invalid(during).1.contains("until 2026-10-13"));
        let unresolved = t
            .decide(
                &id,
                3,
                Step::TownshipReview,
                Decision::Pass,
                "审核通过",
                "",
                d("2026-10-14"),
            )
            .await;
        assert!(invalid(unresolved).1.contains("objection"));
        t.resolve_objection(
            &id,
            &objection,
            false,
            "查独生子女证及户籍档案，属实",
            d("2026-10-12"),
        )
        .await
        .expect("resolve");
        let app = a.application(&id).await.expect("application");
        assert_eq!(
            t.decide(
                &id,
                app.version,
                Step::TownshipReview,
                Decision::Pass,
                "审核通过，公示无有效异议",
                "",
                d("2026-10-14")
            )
            .await
            .expect("review"),
            Status::Reviewed
        );
        // Four eyes: the township reviewer, acting at county level, may not also approve.
        let app = a.application(&id).await.expect("application");
        let same = a
            .decide(
                &id,
                app.version,
                Step::CountyApproval,
                Decision::Pass,
                "同意",
                "",
                d("2026-10-15"),
                &township.actor(),
            )
            .await;
        assert!(invalid(same).1.contains("four eyes"));
        let rejected = c
            .decide(
                &id,
                app.version,
                Step::CountyApproval,
                Decision::Reject,
                "",
                "子女死亡证明与户籍注销日期不一致",
                d("2026-10-15"),
            )
            .await
            .expect("reject");
        assert_eq!(rejected, Status::Rejected);
        let app = a.application(&id).await.expect("application");
        assert_eq!(app.rejected_at, Some(Step::CountyApproval));
        assert_eq!(app.next_step(), Some(Step::Appeal));
        assert_eq!(
            v.appeal(&id, app.version, "已补交派出所出具的证明", d("2026-10-20"))
                .await
                .expect("appeal"),
            Status::Reviewed
        );
        let app = a.application(&id).await.expect("application");
        let approved = c
            .decide(
                &id,
                app.version,
                Step::CountyApproval,
                Decision::Pass,
                "补充材料核实无误",
                "",
                d("2026-10-21"),
            )
            .await
            .expect("approve");
        assert_eq!(approved, Status::Approved);
        let app = a.application(&id).await.expect("application");
        let second = v.appeal(&id, app.version, "再申诉", d("2026-10-22")).await;
        assert!(invalid(second).1.contains("rejected application"));
        assert_eq!(
            app.steps.iter().map(|s| s.step).collect::<Vec<_>>(),
            vec![
                Step::Apply,
                Step::VillageCheck,
                Step::Notice,
                Step::Objection,
                Step::ObjectionResolved,
                Step::TownshipReview,
                Step::CountyApproval,
                Step::Appeal,
                Step::CountyApproval,
            ]
        );
        assert!(matches!(
            a.enrolment(&family).await.expect("enrolment"),
            Enrolment::Approved(_)
        ));

        // Enrolled: the next run pays September and October as arrears, November, and the
        // one-time grant (due from September, the month after the child's death).
        let run = summary(build(a, "2026-11", "2026-09").await);
        let natures: Vec<(&str, i64)> = run
            .by_nature
            .iter()
            .map(|(n, c, _)| (n.as_str(), *c))
            .collect();
        assert!(natures.contains(&("arrears", 4)), "{natures:?}");
        assert!(natures.contains(&("regular", 2)), "{natures:?}");
        assert!(natures.contains(&("grant", 1)), "{natures:?}");
        assert_eq!(run.total, Fen(6 * 59000 + 1_000_000), "{}", b.label);
        assert!(a.verify_audit().await.expect("audit").first_break.is_none());
    });
}

#[tokio::test]
async fn a_parent_not_reconfirmed_by_the_deadline_is_suspended_then_paid_arrears() {
    on_both!(|b| {
        let a = &b.archive;
        let (policy, _) = policy();
        let census = Actor::new("census");
        let first = a
            .create_family(&bereaved("R-1"), &census, "普查")
            .await
            .expect("family");
        let city = user(a, "city", Role::City, "371300").await;
        let village = user(a, "village", Role::Village, YINAN).await;
        let past = a
            .scoped(&city)
            .open_reconfirmation(2026, &policy, d("2026-12-01"))
            .await;
        assert_eq!(invalid(past).0, "year", "a deadline already passed");
        let not_city = a
            .scoped(&village)
            .open_reconfirmation(2027, &policy, d("2026-12-01"))
            .await;
        assert!(matches!(not_city, Err(StoreError::Forbidden(_))));
        let campaign = a
            .scoped(&city)
            .open_reconfirmation(2027, &policy, d("2026-12-01"))
            .await
            .expect("open");
        assert_eq!((campaign.persons, campaign.deadline), (2, d("2027-03-31")));
        let twice = a
            .scoped(&city)
            .open_reconfirmation(2027, &policy, d("2026-12-01"))
            .await;
        assert_eq!(invalid(twice).0, "year");

        let roster = a
            .scoped(&village)
            .roster(2027, true, 0, 50)
            .await
            .expect("roster");
        assert_eq!(roster.rows.len(), 2);
        let mother = roster
            .rows
            .iter()
            .find(|r| r.name == "王秀英")
            .expect("mother")
            .person_id
            .clone();
        let father = roster
            .rows
            .iter()
            .find(|r| r.name == "李建国")
            .expect("father")
            .person_id
            .clone();
        let v = a.scoped(&village);
        let future = v
            .confirm_parent(2027, &first, &mother, d("2027-03-02"), "", d("2027-03-01"))
            .await;
        assert_eq!(invalid(future).0, "confirmed_on");
        v.confirm_parent(
            2027,
            &first,
            &mother,
            d("2027-03-01"),
            "入户见面确认",
            d("2027-03-01"),
        )
        .await
        .expect("confirm");
        let twice = v
            .confirm_parent(2027, &first, &mother, d("2027-03-01"), "", d("2027-03-01"))
            .await;
        assert_eq!(invalid(twice).0, "person");

        // April, after the deadline: the father is not paid; the mother is.
        let april = summary(build(a, "2027-04", "2027-04").await);
        assert_eq!(april.total, Fen(59000), "{}", b.label);
        let problems = a.problems(&april.run_id, false).await.expect("problems");
        assert!(
            problems.iter().any(|p| p.code == "reconfirm_missing"
                && p.person_id.as_deref() == Some(father.as_str())
                && !p.blocking),
            "{problems:?}"
        );
        a.discard_run(&april.run_id, "重做", &Actor::new("finance"))
            .await
            .expect("discard");

        // Confirmed in April: May's run pays April as arrears and May.
        v.confirm_parent(
            2027,
            &first,
            &father,
            d("2027-04-20"),
            "补确认",
            d("2027-04-20"),
        )
        .await
        .expect("late confirm");
        let may = summary(build(a, "2027-05", "2027-04").await);
        assert_eq!(may.total, Fen(4 * 59000), "{}", b.label);
        let campaign = a
            .reconfirmation(2027)
            .await
            .expect("read")
            .expect("campaign");
        assert_eq!((campaign.persons, campaign.confirmed), (2, 2));
    });
}

#[test]
fn names_on_the_notice_are_masked() {
    assert_eq!(mask_for_notice("王秀英"), "王*英");
    assert_eq!(mask_for_notice("李明"), "李*");
    assert_eq!(mask_for_notice("欧阳娜娜"), "欧**娜");
    assert_eq!(mask_for_notice("张"), "*");
    assert_eq!(mask_for_notice(""), "");
}

#[tokio::test]
async fn a_family_of_another_area_is_not_found() {
    on_both!(|b| {
        let a = &b.archive;
        let family = a
            .create_family(&bereaved("X-1"), &Actor::new("census"), "普查")
            .await
            .expect("family");
        let lanshan = user(a, "lanshan", Role::County, "371302").await;
        let r = a
            .scoped(&lanshan)
            .apply(
                &family,
                d("2026-10-05"),
                "王秀英",
                "户口簿",
                d("2026-10-05"),
            )
            .await;
        assert!(matches!(r, Err(StoreError::FamilyNotFound(_))), "{r:?}");
        let _: FamilyId = family;
    });
}
