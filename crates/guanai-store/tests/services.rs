//! The service checklist (spec §6): what the engine entitles each parent to, with its recorded
//! status and history; refusals for services a person is not entitled to, declines without a
//! reason and dates in the future — against SQLite and PostgreSQL (the service on
//! 127.0.0.1:5432, or `GUANAI_TEST_POSTGRES`); without PostgreSQL its half is skipped with a
//! message, except in CI (`CI` set), where it fails.

mod support;

use guanai_rules::engine::ServiceKind;
use guanai_rules::{Hukou, Month, Policy, Sex, VillageCode, parse_date};
use guanai_store::services::ServiceStatus;
use guanai_store::{Actor, FactValue, NewFamily, NewPerson, Relation, StoreError};
use jiff::civil::Date;

fn d(s: &str) -> Date {
    parse_date(s).expect("date")
}

/// A bereaved family: the mother (born 1970) on 低保, the father (born 1958) not.
fn family() -> NewFamily {
    let village = VillageCode::parse("371321001003").expect("village");
    let identity = |name: &str, sex, born: &str| {
        (
            FactValue::Identity {
                name: name.into(),
                sex,
                birth_date: d(born),
            },
            None,
        )
    };
    NewFamily {
        family_no: "S-1".into(),
        county_code: village.county(),
        registration: (Hukou::Rural, village, None),
        persons: vec![
            NewPerson {
                relation: Relation::Mother,
                facts: vec![
                    identity("王秀英", Sex::Female, "1970-07-05"),
                    (
                        FactValue::Welfare {
                            dibao: true,
                            wubao: false,
                        },
                        Some(d("2020-01-01")),
                    ),
                ],
            },
            NewPerson {
                relation: Relation::Father,
                facts: vec![identity("李建国", Sex::Male, "1958-03-12")],
            },
            NewPerson {
                relation: Relation::Child,
                facts: vec![
                    identity("李明", Sex::Male, "1992-01-01"),
                    (
                        FactValue::Death {
                            certificate_no: None,
                        },
                        Some(d("2015-06-15")),
                    ),
                ],
            },
        ],
        import_hash: None,
    }
}

#[tokio::test]
async fn the_checklist_follows_the_engine_and_keeps_each_status() {
    on_both!(|b| {
        let a = &b.archive;
        let policy = Policy::embedded("linyi-2014").expect("pack");
        let id = a
            .create_family(&family(), &Actor::new("census"), "普查")
            .await
            .expect("family");
        let file = a.family_file(&id).await.expect("file");
        let person = |r: Relation| {
            file.persons
                .iter()
                .find(|p| p.relation == r)
                .expect("person")
                .person_id
                .as_str()
                .to_owned()
        };
        let (mother, father) = (person(Relation::Mother), person(Relation::Father));
        let today = d("2026-11-30");
        let month = Month::of(today);
        let list = a
            .service_checklist(&id, month, &policy)
            .await
            .expect("checklist");
        let of = |p: &str| {
            let mut k: Vec<&str> = list
                .iter()
                .filter(|i| i.person_id == p)
                .map(|i| i.service.as_str())
                .collect();
            k.sort_unstable();
            k
        };
        assert_eq!(
            of(&mother),
            vec![
                "dibao_uplift",
                "housing_priority",
                "insurance_contribution_paid",
                "medical_relief",
                "nursing_home_fee_half",
                "nursing_home_priority",
            ],
            "{}",
            b.label
        );
        assert_eq!(
            of(&father),
            vec![
                "housing_priority",
                "medical_relief",
                "nursing_home_fee_half",
                "nursing_home_priority"
            ]
        );
        assert!(list.iter().all(|i| i.entitled && i.status.is_none()));

        let actor = Actor::new("村专干 张丽");
        let set = |person: &str, service, status, note: &str, on: &str| {
            let (a, id, policy, actor) = (a, id.clone(), policy.clone(), actor.clone());
            let person = person.to_owned();
            let note = note.to_owned();
            let on = d(on);
            async move {
                a.set_service_status(
                    &id, &person, service, status, &note, on, &policy, today, &actor,
                )
                .await
            }
        };
        set(
            &mother,
            ServiceKind::DibaoUplift,
            ServiceStatus::Offered,
            "已告知可申请",
            "2026-11-02",
        )
        .await
        .expect("offered");
        set(
            &mother,
            ServiceKind::DibaoUplift,
            ServiceStatus::Granted,
            "民政局已按上浮30%核定",
            "2026-11-20",
        )
        .await
        .expect("granted");
        let refused = |r: Result<(), StoreError>| match r {
            Err(StoreError::Invalid { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(
            refused(
                set(
                    &father,
                    ServiceKind::DibaoUplift,
                    ServiceStatus::Offered,
                    "",
                    "2026-11-02"
                )
                .await
            ),
            "service"
        );
        assert_eq!(
            refused(
                set(
                    &father,
                    ServiceKind::WubaoInclusion,
                    ServiceStatus::Offered,
                    "",
                    "2026-11-02"
                )
                .await
            ),
            "service"
        );
        assert_eq!(
            refused(
                set(
                    &father,
                    ServiceKind::RegularVisits,
                    ServiceStatus::Offered,
                    "",
                    "2026-11-02"
                )
                .await
            ),
            "service"
        );
        assert_eq!(
            refused(
                set(
                    &father,
                    ServiceKind::HousingPriority,
                    ServiceStatus::Declined,
                    " ",
                    "2026-11-02"
                )
                .await
            ),
            "note"
        );
        assert_eq!(
            refused(
                set(
                    &father,
                    ServiceKind::HousingPriority,
                    ServiceStatus::Offered,
                    "",
                    "2026-12-01"
                )
                .await
            ),
            "on_date"
        );
        set(
            &father,
            ServiceKind::HousingPriority,
            ServiceStatus::Declined,
            "已有住房，不需要",
            "2026-11-05",
        )
        .await
        .expect("declined");

        let list = a
            .service_checklist(&id, month, &policy)
            .await
            .expect("checklist");
        let status = |p: &str, k: ServiceKind| {
            list.iter()
                .find(|i| i.person_id == p && i.service == k)
                .and_then(|i| i.status.clone())
        };
        let uplift = status(&mother, ServiceKind::DibaoUplift).expect("status");
        assert_eq!(
            (uplift.status, uplift.on_date),
            (ServiceStatus::Granted, d("2026-11-20"))
        );
        assert_eq!(
            status(&father, ServiceKind::HousingPriority).map(|s| s.status),
            Some(ServiceStatus::Declined)
        );

        // No longer on 低保: the uplift stays on the list with its status, no longer entitled.
        let v = a.family_file(&id).await.expect("file").version;
        a.record(
            &id,
            v,
            guanai_store::NewFact {
                person_id: guanai_store::PersonId::parse(&mother),
                value: FactValue::Welfare {
                    dibao: false,
                    wubao: false,
                },
                valid_from: Some(d("2026-10-15")),
            },
            &actor,
            "退出低保",
        )
        .await
        .expect("record");
        let list = a
            .service_checklist(&id, month, &policy)
            .await
            .expect("checklist");
        let uplift = list
            .iter()
            .find(|i| i.person_id == mother && i.service == ServiceKind::DibaoUplift)
            .expect("kept");
        assert!(!uplift.entitled);
        assert_eq!(
            uplift.status.as_ref().map(|s| s.status),
            Some(ServiceStatus::Granted)
        );
    });
}
