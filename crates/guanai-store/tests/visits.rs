//! Visits (二(一)): the stored plan, recording and withdrawing visits, follow-ups, dedicated
//! visitors, the area lists and the refusals — against SQLite and PostgreSQL (the service on
//! 127.0.0.1:5432, or `GUANAI_TEST_POSTGRES`); without PostgreSQL its half is skipped with a
//! message, except in CI (`CI` set), where it fails.

mod support;

use guanai_care::holidays::{Festival, Holidays};
use guanai_care::visits::{NeedLevel, Occasion, PeriodKind};
use guanai_rules::{Hukou, Policy, Sex, VillageCode, parse_date};
use guanai_store::access::{NewUser, Role, User};
use guanai_store::visits::{DueState, NewVisit};
use guanai_store::{
    Actor, Archive, AuditQuery, FactValue, FamilyId, NewFamily, NewPerson, Relation, StoreError,
};
use jiff::civil::Date;

fn d(s: &str) -> Date {
    parse_date(s).expect("date")
}

const YINAN: &str = "371321001003";
const LANSHAN: &str = "371302001001";
/// The day the tests are set on (the store takes "today" from its caller).
const TODAY: &str = "2026-11-30";

/// A bereaved family (the child died in 2012) with parents born in the given years.
fn bereaved(no: &str, village: &str, mother_born: &str, father_born: &str) -> NewFamily {
    let village = VillageCode::parse(village).expect("village");
    let identity = |name: &str, sex, birth: &str| {
        (
            FactValue::Identity {
                name: name.into(),
                sex,
                birth_date: d(birth),
            },
            None,
        )
    };
    NewFamily {
        family_no: no.to_owned(),
        county_code: village.county(),
        registration: (Hukou::Rural, village, None),
        persons: vec![
            NewPerson {
                relation: Relation::Mother,
                facts: vec![identity("王秀英", Sex::Female, mother_born)],
            },
            NewPerson {
                relation: Relation::Father,
                facts: vec![identity("李建国", Sex::Male, father_born)],
            },
            NewPerson {
                relation: Relation::Child,
                facts: vec![
                    identity("李明", Sex::Male, "1990-01-01"),
                    (
                        FactValue::Death {
                            certificate_no: None,
                        },
                        Some(d("2012-06-15")),
                    ),
                ],
            },
        ],
        import_hash: None,
    }
}

fn policy() -> Policy {
    Policy::embedded("linyi-2014").expect("pack")
}

fn holidays() -> &'static Holidays {
    Holidays::embedded().expect("holidays")
}

fn visit(on: &str, occasion: Occasion) -> NewVisit {
    NewVisit {
        visited_on: d(on),
        occasion,
        visitor: "村计生专干 张丽".into(),
        found: "身体尚可，独居，情绪平稳".into(),
        needs: String::new(),
        follow_up: String::new(),
        follow_up_due: None,
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

struct Families {
    /// Father 60+ in 2026: a dedicated visitor, monthly visits.
    elderly: FamilyId,
    /// Parents in their fifties: quarterly visits.
    younger: FamilyId,
    /// Another county.
    lanshan: FamilyId,
}

async fn families(a: &Archive) -> Families {
    let census = Actor::new("census");
    let mut ids = Vec::new();
    for (no, village, mother, father) in [
        ("V-1", YINAN, "1968-07-05", "1965-03-12"),
        ("V-2", YINAN, "1972-04-01", "1971-05-20"),
        ("V-3", LANSHAN, "1972-04-01", "1971-05-20"),
    ] {
        ids.push(
            a.create_family(&bereaved(no, village, mother, father), &census, "普查录入")
                .await
                .expect("family"),
        );
    }
    let mut ids = ids.into_iter();
    let mut next = || ids.next().expect("three families");
    Families {
        elderly: next(),
        younger: next(),
        lanshan: next(),
    }
}

#[tokio::test]
async fn a_year_is_planned_visited_and_listed_by_area() {
    on_both!(|b| {
        let a = &b.archive;
        let f = families(a).await;
        let today = d(TODAY);
        let p = policy();
        let summary = a
            .plan_visits(2026, None, &p, holidays(), &Actor::new("city"))
            .await
            .expect("plan");
        // Elderly: 12 monthly periods and two festivals; the others 4 quarters and two festivals.
        assert_eq!(
            (summary.families, summary.periods),
            (3, 14 + 6 + 6),
            "{}",
            b.label
        );
        let plan = a.visit_plan_of(&f.elderly, 2026).await.expect("plan");
        assert_eq!(plan.len(), 14);
        let regular: Vec<_> = plan
            .iter()
            .filter(|v| v.period.kind == PeriodKind::Regular)
            .collect();
        assert!(regular.iter().all(|v| v.period.level == NeedLevel::High));
        assert_eq!(
            (regular[0].period.starts_on, regular[0].period.due_on),
            (d("2026-01-01"), d("2026-01-31"))
        );
        let spring = plan
            .iter()
            .find(|v| v.period.kind == PeriodKind::Holiday(Festival::SpringFestival))
            .expect("spring festival period");
        assert_eq!(
            (spring.period.starts_on, spring.period.due_on),
            (d("2026-01-18"), d("2026-02-17")),
            "30 days before the festival, up to its day"
        );
        let younger = a.visit_plan_of(&f.younger, 2026).await.expect("plan");
        assert_eq!(
            younger
                .iter()
                .filter(|v| v.period.kind == PeriodKind::Regular)
                .map(|v| (v.period.starts_on, v.period.due_on))
                .collect::<Vec<_>>(),
            vec![
                (d("2026-01-01"), d("2026-03-31")),
                (d("2026-04-01"), d("2026-06-30")),
                (d("2026-07-01"), d("2026-09-30")),
                (d("2026-10-01"), d("2026-12-31")),
            ]
        );

        // A Spring Festival visit satisfies the festival and February; a regular one November.
        a.record_visit(
            &f.elderly,
            &visit("2026-02-10", Occasion::SpringFestival),
            &p,
            holidays(),
            today,
            &Actor::new("village"),
        )
        .await
        .expect("festival visit");
        let november = a
            .record_visit(
                &f.elderly,
                &visit("2026-11-10", Occasion::Regular),
                &p,
                holidays(),
                today,
                &Actor::new("village"),
            )
            .await
            .expect("regular visit");
        let plan = a.visit_plan_of(&f.elderly, 2026).await.expect("plan");
        let done: Vec<_> = plan
            .iter()
            .filter(|v| v.visit_id.is_some())
            .map(|v| (v.period.kind, v.period.due_on, v.visited_on))
            .collect();
        assert_eq!(
            done,
            vec![
                (
                    PeriodKind::Holiday(Festival::SpringFestival),
                    d("2026-02-17"),
                    Some(d("2026-02-10"))
                ),
                (PeriodKind::Regular, d("2026-02-28"), Some(d("2026-02-10"))),
                (PeriodKind::Regular, d("2026-11-30"), Some(d("2026-11-10"))),
            ],
            "periods in due order, each with the visit that satisfied it"
        );

        // Lists by area: the Yinan village sees its two families' overdue periods, nothing of Lanshan.
        let village = user(a, "v1", Role::Village, YINAN).await;
        let scoped = a.scoped(&village);
        let overdue = scoped
            .due_visits(DueState::Overdue, today, 0, 200)
            .await
            .expect("overdue");
        // Elderly: Jan, Mar–Oct (9 months; Feb done) and Mid-Autumn; younger: three quarters
        // and both festivals. November is due today: not overdue.
        let elderly = overdue
            .rows
            .iter()
            .filter(|r| r.family.family_id == f.elderly)
            .count();
        let younger_n = overdue
            .rows
            .iter()
            .filter(|r| r.family.family_id == f.younger)
            .count();
        assert_eq!((elderly, younger_n), (10, 5), "{}", b.label);
        assert!(overdue.rows.iter().all(|r| r.family.family_id != f.lanshan));
        assert!(!overdue.more);
        let soon = scoped
            .due_visits(DueState::DueSoon { days: 14 }, today, 0, 200)
            .await
            .expect("soon");
        // The younger family's last quarter (due 12-31 is beyond 14 days: not listed); the
        // elderly family's November is done.
        assert!(soon.rows.is_empty(), "{:?}", soon.rows);
        let page = scoped
            .due_visits(DueState::Overdue, today, 0, 4)
            .await
            .expect("page");
        assert_eq!(page.rows.len(), 4);
        assert!(page.more);
        let lanshan_user = user(a, "c2", Role::County, "371302").await;
        let other = a
            .scoped(&lanshan_user)
            .due_visits(DueState::Overdue, today, 0, 200)
            .await
            .expect("other county");
        assert!(other.rows.iter().all(|r| r.family.family_id == f.lanshan));
        assert_eq!(other.rows.len(), 5);

        // Figures per county.
        let city = user(a, "city1", Role::City, "371300").await;
        let counts = a.scoped(&city).visit_counts(today).await.expect("counts");
        let yinan = counts
            .iter()
            .find(|c| c.county_code == "371321")
            .expect("yinan");
        assert_eq!(
            (
                yinan.planned,
                yinan.done,
                yinan.overdue,
                yinan.need_dedicated,
                yinan.without_dedicated
            ),
            (20, 3, 15, 1, 1),
            "{yinan:?}"
        );

        // The dedicated visitor: the elderly family needs one and has none, until one is named.
        let missing = scoped
            .without_dedicated_visitor(today, 0, 50)
            .await
            .expect("missing");
        assert_eq!(
            missing
                .rows
                .iter()
                .map(|r| r.family_id.clone())
                .collect::<Vec<_>>(),
            vec![f.elderly.clone()]
        );
        scoped
            .assign_dedicated_visitor(&f.elderly, "张丽", "李家庄村计生专干")
            .await
            .expect("assign");
        let replaced = scoped
            .assign_dedicated_visitor(&f.elderly, "王强", "村卫生室")
            .await
            .expect("replace");
        let current = a
            .dedicated_visitor_of(&f.elderly)
            .await
            .expect("read")
            .expect("one");
        assert_eq!(
            (current.assignment_id, current.visitor.as_str()),
            (replaced, "王强")
        );
        assert!(
            scoped
                .without_dedicated_visitor(today, 0, 50)
                .await
                .expect("missing")
                .rows
                .is_empty()
        );

        // Withdrawing the November visit makes November open again.
        a.withdraw_visit(
            &f.elderly,
            &november,
            "录错了家庭",
            &p,
            holidays(),
            &Actor::new("village"),
        )
        .await
        .expect("withdraw");
        let plan = a.visit_plan_of(&f.elderly, 2026).await.expect("plan");
        assert!(
            plan.iter()
                .all(|v| v.visit_id.as_deref() != Some(november.as_str())),
            "a withdrawn visit satisfies nothing"
        );
        let visits = a.visits_of(&f.elderly).await.expect("visits");
        assert_eq!(visits.len(), 2);
        assert!(
            visits
                .iter()
                .any(|v| v.visit_id == november && v.withdrawn.is_some())
        );
        let again = a
            .withdraw_visit(
                &f.elderly,
                &november,
                "再撤一次",
                &p,
                holidays(),
                &Actor::new("village"),
            )
            .await;
        assert!(
            matches!(again, Err(StoreError::Invalid { ref field, .. }) if field == "visit"),
            "{again:?}"
        );

        // Every change is in the audit log, and the chain holds.
        let entries = a
            .audit_entries(&AuditQuery {
                action_prefix: Some("visit.".into()),
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        for action in [
            "visit.plan",
            "visit.record",
            "visit.dedicated",
            "visit.withdraw",
        ] {
            assert!(
                actions.contains(&action),
                "{action} missing from {actions:?}"
            );
        }
        assert!(
            a.verify_audit()
                .await
                .expect("verify")
                .first_break
                .is_none()
        );
    });
}

#[tokio::test]
async fn bad_visits_are_refused_and_nothing_is_written() {
    on_both!(|b| {
        let a = &b.archive;
        let f = families(a).await;
        let today = d(TODAY);
        let p = policy();
        let actor = Actor::new("village");
        let refused = |v: NewVisit| {
            let f = f.elderly.clone();
            let p = p.clone();
            let actor = actor.clone();
            async move {
                match a.record_visit(&f, &v, &p, holidays(), today, &actor).await {
                    Err(StoreError::Invalid { field, problem }) => (field, problem),
                    other => panic!("expected a refusal, got {other:?}"),
                }
            }
        };
        let (field, problem) = refused(visit("2026-12-01", Occasion::Regular)).await;
        assert_eq!(field, "visited_on");
        assert!(problem.contains("future"), "{problem}");
        let (field, _) = refused(visit("2007-12-31", Occasion::Regular)).await;
        assert_eq!(field, "visited_on");
        let (field, _) = refused(NewVisit {
            found: "  ".into(),
            ..visit("2026-11-01", Occasion::Regular)
        })
        .await;
        assert_eq!(field, "found");
        let (field, _) = refused(NewVisit {
            visitor: String::new(),
            ..visit("2026-11-01", Occasion::Regular)
        })
        .await;
        assert_eq!(field, "visitor");
        let (field, _) = refused(NewVisit {
            follow_up: "联系乡镇卫生院上门体检".into(),
            ..visit("2026-11-01", Occasion::Regular)
        })
        .await;
        assert_eq!(field, "follow_up_due");
        let (field, problem) = refused(NewVisit {
            follow_up: "联系乡镇卫生院上门体检".into(),
            follow_up_due: Some(d("2026-10-01")),
            ..visit("2026-11-01", Occasion::Regular)
        })
        .await;
        assert_eq!(field, "follow_up_due");
        assert!(problem.contains("before the visit"), "{problem}");
        let (field, _) = refused(NewVisit {
            found: "很".repeat(2001),
            ..visit("2026-11-01", Occasion::Regular)
        })
        .await;
        assert_eq!(field, "found");
        assert!(
            a.visits_of(&f.elderly).await.expect("visits").is_empty(),
            "{}",
            b.label
        );
        let unknown = FamilyId::parse("F00000000000000000000000000000000").expect("id shape");
        let missing = a
            .record_visit(
                &unknown,
                &visit("2026-11-01", Occasion::Regular),
                &p,
                holidays(),
                today,
                &actor,
            )
            .await;
        assert!(
            matches!(missing, Err(StoreError::FamilyNotFound(_))),
            "{missing:?}"
        );
        let no_year = a.plan_visits(2099, None, &p, holidays(), &actor).await;
        assert!(
            matches!(no_year, Err(StoreError::Invalid { ref field, .. }) if field == "year"),
            "{no_year:?}"
        );

        // A follow-up is closed once, with a result.
        let with_follow_up = a
            .record_visit(
                &f.elderly,
                &NewVisit {
                    needs: "需要体检".into(),
                    follow_up: "联系乡镇卫生院上门体检".into(),
                    follow_up_due: Some(d("2026-12-15")),
                    ..visit("2026-11-20", Occasion::Regular)
                },
                &p,
                holidays(),
                today,
                &actor,
            )
            .await
            .expect("visit");
        let empty = a
            .close_follow_up(&f.elderly, &with_follow_up, " ", &actor)
            .await;
        assert!(matches!(empty, Err(StoreError::Invalid { ref field, .. }) if field == "result"));
        a.close_follow_up(&f.elderly, &with_follow_up, "12月3日已上门体检", &actor)
            .await
            .expect("close");
        let twice = a
            .close_follow_up(&f.elderly, &with_follow_up, "再次", &actor)
            .await;
        assert!(matches!(twice, Err(StoreError::Invalid { ref field, .. }) if field == "visit"));
        let stored = a.visits_of(&f.elderly).await.expect("visits");
        assert_eq!(
            stored[0].follow_up_done.as_ref().map(|d| d.0.as_str()),
            Some("12月3日已上门体检")
        );
    });
}

#[tokio::test]
async fn who_may_record_a_visit() {
    on_both!(|b| {
        let a = &b.archive;
        let f = families(a).await;
        let today = d(TODAY);
        let p = policy();
        let volunteer = user(a, "vol", Role::Volunteer, "371321").await;
        a.pair_volunteer(&volunteer, &f.elderly, &Actor::new("admin"))
            .await
            .expect("pair");
        let as_volunteer = a.scoped(&volunteer);
        as_volunteer
            .record_visit(
                &f.elderly,
                &visit("2026-11-02", Occasion::Regular),
                &p,
                holidays(),
                today,
            )
            .await
            .expect("a paired volunteer records a visit");
        let unpaired = as_volunteer
            .record_visit(
                &f.younger,
                &visit("2026-11-02", Occasion::Regular),
                &p,
                holidays(),
                today,
            )
            .await;
        assert!(
            matches!(unpaired, Err(StoreError::FamilyNotFound(_))),
            "{unpaired:?}"
        );
        let assign = as_volunteer
            .assign_dedicated_visitor(&f.elderly, "我", "志愿者")
            .await;
        assert!(
            matches!(assign, Err(StoreError::Forbidden(_))),
            "{assign:?}"
        );
        // A volunteer can't be paired to a family outside their area.
        let outside = a
            .pair_volunteer(&volunteer, &f.lanshan, &Actor::new("admin"))
            .await;
        assert!(matches!(outside, Err(StoreError::Invalid { ref field, .. }) if field == "family"));
        for (login, role, area) in [
            ("fin", Role::Finance, "371321"),
            ("insp", Role::Inspector, "371300"),
        ] {
            let u = user(a, login, role, area).await;
            let r = a
                .scoped(&u)
                .record_visit(
                    &f.elderly,
                    &visit("2026-11-02", Occasion::Regular),
                    &p,
                    holidays(),
                    today,
                )
                .await;
            assert!(matches!(r, Err(StoreError::Forbidden(_))), "{login}: {r:?}");
        }
        let lanshan = user(a, "c2", Role::County, "371302").await;
        let r = a
            .scoped(&lanshan)
            .record_visit(
                &f.elderly,
                &visit("2026-11-02", Occasion::Regular),
                &p,
                holidays(),
                today,
            )
            .await;
        assert!(matches!(r, Err(StoreError::FamilyNotFound(_))), "{r:?}");
        let plan = a
            .scoped(&lanshan)
            .plan_visits(2026, &p, holidays())
            .await
            .expect("own county");
        assert_eq!(plan.families, 1, "a county plans its own families");
        let village = user(a, "v1", Role::Village, YINAN).await;
        let r = a.scoped(&village).plan_visits(2026, &p, holidays()).await;
        assert!(matches!(r, Err(StoreError::Forbidden(_))), "{r:?}");
        assert_eq!(
            a.visits_of(&f.elderly).await.expect("visits").len(),
            1,
            "{}",
            b.label
        );
    });
}
