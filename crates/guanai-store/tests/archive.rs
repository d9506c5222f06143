//! The archive's behaviour, run against SQLite and against PostgreSQL (the service on
//! 127.0.0.1:5432, or `GUANAI_TEST_POSTGRES`); without PostgreSQL the PostgreSQL half is skipped
//! with a message, except in CI (`CI` set), where it fails.

mod support;

use support::{cleanup, postgres, postgres_with, sqlite, sqlite_with};

use guanai_crypto::{Algorithm, Keyring};
use guanai_rules::{
    Category, DisabilityGrade, Hukou, Month, Policy, ResidentId, Sex, VillageCode, evaluate,
    parse_date,
};
use guanai_store::{
    Actor, Archive, FactValue, NewFact, NewFamily, NewPerson, Relation, StoreError,
};
use jiff::civil::Date;

fn d(s: &str) -> Date {
    parse_date(s).expect("date")
}

fn m(s: &str) -> Month {
    Month::parse(s).expect("month")
}

fn today() -> Date {
    d("2026-11-30")
}

const MOTHER_ID: &str = "372832196807050242";
const VILLAGE: &str = "371321001003";

/// A bereaved family: mother (with ID number, phone, bank account), father, child who died.
fn bereaved_family(no: &str) -> NewFamily {
    let village = VillageCode::parse("371321001003").expect("village");
    NewFamily {
        family_no: no.to_owned(),
        county_code: village.county(),
        registration: (Hukou::Rural, village, None),
        persons: vec![
            NewPerson {
                relation: Relation::Mother,
                facts: vec![
                    (
                        FactValue::Identity {
                            name: "王秀英".into(),
                            sex: Sex::Female,
                            birth_date: d("1968-07-05"),
                        },
                        None,
                    ),
                    (
                        FactValue::IdNumber {
                            number: ResidentId::parse(MOTHER_ID, today()).expect("id"),
                        },
                        None,
                    ),
                    (
                        FactValue::Phone {
                            number: "13812345678".into(),
                        },
                        None,
                    ),
                    (
                        FactValue::BankAccount {
                            bank: "临沂农商银行".into(),
                            account: "6222021234567890123".into(),
                        },
                        None,
                    ),
                    (
                        FactValue::Welfare {
                            dibao: true,
                            wubao: false,
                        },
                        Some(d("2015-03-01")),
                    ),
                ],
            },
            NewPerson {
                relation: Relation::Father,
                facts: vec![(
                    FactValue::Identity {
                        name: "李建国".into(),
                        sex: Sex::Male,
                        birth_date: d("1965-03-12"),
                    },
                    None,
                )],
            },
            NewPerson {
                relation: Relation::Child,
                facts: vec![
                    (
                        FactValue::Identity {
                            name: "李明".into(),
                            sex: Sex::Male,
                            birth_date: d("1990-01-01"),
                        },
                        None,
                    ),
                    (
                        FactValue::Death {
                            certificate_no: Some("D-2012-001".into()),
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

#[tokio::test]
async fn a_registered_family_is_evaluated_from_its_facts() {
    on_both!(|b| {
        let a = &b.archive;
        let id = a
            .create_family(
                &bereaved_family("YN-001"),
                &Actor::new("census"),
                "普查录入",
            )
            .await
            .expect("create");
        let file = a.family_file(&id).await.expect("file");
        assert_eq!(file.version, 1, "{}", b.label);
        assert_eq!(file.persons.len(), 3);
        let family = file
            .engine_family(m("2018-02"), None)
            .expect("engine facts");
        let e = evaluate(&family, m("2018-02"), &policy());
        assert_eq!(e.category, Category::Bereaved, "{}", b.label);
        assert_eq!(
            e.monthly_total().get(),
            2 * 50000,
            "both parents 49+ in 2018-02"
        );
        assert!(
            e.parent_services[0].contains(guanai_rules::ServiceKind::DibaoUplift),
            "dibao from 2015-03 counts"
        );
    });
}

#[tokio::test]
async fn sealed_facts_round_trip_and_lookup_by_id_number_works() {
    on_both!(|b| {
        let a = &b.archive;
        let id = a
            .create_family(
                &bereaved_family("YN-002"),
                &Actor::new("census"),
                "普查录入",
            )
            .await
            .expect("create");
        let number = ResidentId::parse(MOTHER_ID, today()).expect("id");
        let found = a.find_by_id_number(&number).await.expect("lookup");
        assert_eq!(found.len(), 1, "{}", b.label);
        assert_eq!(found[0].0, id);
        let file = a.family_file(&id).await.expect("file");
        let phone = file.current(None).into_iter().find_map(|f| match &f.value {
            Some(FactValue::Phone { number }) => Some(number.clone()),
            _ => None,
        });
        assert_eq!(phone.as_deref(), Some("13812345678"));
        let other = ResidentId::parse("372822196503120173", today()).expect("id");
        assert!(
            a.find_by_id_number(&other)
                .await
                .expect("lookup")
                .is_empty()
        );
    });
}

#[tokio::test]
async fn private_values_never_reach_the_database_file_in_clear() {
    let b = sqlite().await;
    let a = &b.archive;
    for i in 0..20 {
        a.create_family(
            &bereaved_family(&format!("YN-1{i:02}")),
            &Actor::new("census"),
            "普查录入",
        )
        .await
        .expect("create");
    }
    b.archive.db().close().await;
    let path = b.sqlite_file.clone().expect("sqlite file");
    let mut bytes = std::fs::read(&path).expect("db file");
    for suffix in ["-wal", "-shm"] {
        if let Ok(more) = std::fs::read(format!("{}{suffix}", path.display())) {
            bytes.extend(more);
        }
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(
        contains("王秀英".as_bytes()),
        "the check itself works: names are stored in clear"
    );
    for secret in [MOTHER_ID, "13812345678", "6222021234567890123"] {
        assert!(
            !contains(secret.as_bytes()),
            "{secret} found in the database file"
        );
    }
}

#[tokio::test]
async fn stale_versions_are_refused_so_no_edit_is_lost() {
    on_both!(|b| {
        let a = &b.archive;
        let id = a
            .create_family(
                &bereaved_family("YN-003"),
                &Actor::new("census"),
                "普查录入",
            )
            .await
            .expect("create");
        let file = a.family_file(&id).await.expect("file");
        let father = file
            .persons
            .iter()
            .find(|p| p.relation == Relation::Father)
            .expect("father")
            .person_id
            .clone();
        let death = NewFact {
            person_id: Some(father.clone()),
            value: FactValue::Death {
                certificate_no: None,
            },
            valid_from: Some(d("2020-03-10")),
        };
        let (_, v2) = a
            .record(
                &id,
                file.version,
                death.clone(),
                &Actor::new("县级经办人"),
                "殡仪馆通报",
            )
            .await
            .expect("first edit");
        assert_eq!(v2, 2);
        let second = a
            .record(
                &id,
                file.version,
                death,
                &Actor::new("乡镇经办人"),
                "村居报告",
            )
            .await;
        match second {
            Err(StoreError::Conflict {
                expected: 1,
                found: 2,
                ..
            }) => {}
            other => panic!("{}: expected a conflict, got {other:?}", b.label),
        }
        assert!(matches!(
            a.record(
                &id,
                2,
                NewFact {
                    person_id: None,
                    value: FactValue::Note { text: "x".into() },
                    valid_from: None
                },
                &Actor::new("x"),
                "y"
            )
            .await,
            Ok((_, 3))
        ));
    });
}

#[tokio::test]
async fn concurrent_writers_on_one_version_cannot_both_win() {
    on_both!(|b| {
        let a = &b.archive;
        let id = a
            .create_family(
                &bereaved_family("YN-004"),
                &Actor::new("census"),
                "普查录入",
            )
            .await
            .expect("create");
        let note = |t: &str| NewFact {
            person_id: None,
            value: FactValue::Note { text: t.into() },
            valid_from: None,
        };
        let (first, second) = (Actor::new("甲"), Actor::new("乙"));
        let (x, y) = tokio::join!(
            a.record(&id, 1, note("甲"), &first, "走访"),
            a.record(&id, 1, note("乙"), &second, "走访")
        );
        assert_eq!(
            usize::from(x.is_ok()) + usize::from(y.is_ok()),
            1,
            "{}: exactly one write wins",
            b.label
        );
        let file = a.family_file(&id).await.expect("file");
        assert_eq!(file.version, 2);
        assert_eq!(file.facts.iter().filter(|f| f.kind == "note").count(), 1);
    });
}

#[tokio::test]
async fn a_correction_keeps_the_old_record_and_both_times_can_be_asked() {
    on_both!(|b| {
        let a = &b.archive;
        let id = a
            .create_family(
                &bereaved_family("YN-005"),
                &Actor::new("census"),
                "普查录入",
            )
            .await
            .expect("create");
        let file = a.family_file(&id).await.expect("file");
        let child = file
            .persons
            .iter()
            .find(|p| p.relation == Relation::Child)
            .expect("child")
            .person_id
            .clone();
        let wrong = file
            .facts
            .iter()
            .find(|f| f.kind == "death")
            .expect("death")
            .fact_id
            .clone();
        let before_correction = jiff::Timestamp::now();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let fixed = NewFact {
            person_id: Some(child),
            value: FactValue::Death {
                certificate_no: Some("D-2014-777".into()),
            },
            valid_from: Some(d("2014-11-20")),
        };
        a.correct(
            &id,
            file.version,
            &wrong,
            Some(fixed),
            &Actor::new("县级经办人"),
            "死亡证明日期录错",
        )
        .await
        .expect("correct");
        let file = a.family_file(&id).await.expect("file");
        assert_eq!(
            file.facts.iter().filter(|f| f.kind == "death").count(),
            2,
            "{}: nothing is overwritten",
            b.label
        );
        let now = file.engine_family(m("2014-11"), None).expect("facts");
        assert_eq!(
            evaluate(&now, m("2014-11"), &policy()).category,
            Category::None,
            "as known now: died 2014-11-20"
        );
        let then = file
            .engine_family(m("2014-11"), Some(before_correction))
            .expect("facts");
        assert_eq!(
            evaluate(&then, m("2014-11"), &policy()).category,
            Category::Bereaved,
            "as known before the correction"
        );
        let correction = file
            .facts
            .iter()
            .find(|f| f.replaces.as_ref() == Some(&wrong))
            .expect("the correction names what it replaces");
        assert_eq!(correction.reason, "死亡证明日期录错");
        assert_eq!(correction.recorded_by, "县级经办人");
        let empty = a
            .correct(&id, file.version, &wrong, None, &Actor::new("x"), "  ")
            .await;
        assert!(
            matches!(empty, Err(StoreError::Invalid { .. })),
            "a correction must say why"
        );
    });
}

#[tokio::test]
async fn a_withdrawn_id_number_leaves_the_blind_index() {
    on_both!(|b| {
        let a = &b.archive;
        let id = a
            .create_family(
                &bereaved_family("YN-006"),
                &Actor::new("census"),
                "普查录入",
            )
            .await
            .expect("create");
        let file = a.family_file(&id).await.expect("file");
        let fact = file
            .facts
            .iter()
            .find(|f| f.kind == "id_number")
            .expect("id")
            .fact_id
            .clone();
        a.correct(
            &id,
            file.version,
            &fact,
            None,
            &Actor::new("县级经办人"),
            "号码属于他人",
        )
        .await
        .expect("withdraw");
        let number = ResidentId::parse(MOTHER_ID, today()).expect("id");
        assert!(
            a.find_by_id_number(&number)
                .await
                .expect("lookup")
                .is_empty(),
            "{}",
            b.label
        );
        let file = a.family_file(&id).await.expect("file");
        assert!(file.current(None).iter().all(|f| f.kind != "id_number"));
    });
}

#[tokio::test]
async fn moving_county_changes_the_registration_from_the_month_after() {
    on_both!(|b| {
        let a = &b.archive;
        let id = a
            .create_family(
                &bereaved_family("YN-007"),
                &Actor::new("census"),
                "普查录入",
            )
            .await
            .expect("create");
        let village = VillageCode::parse("371302001001").expect("village");
        let mv = NewFact {
            person_id: None,
            value: FactValue::Registration {
                hukou: Hukou::Urban,
                village,
            },
            valid_from: Some(d("2019-05-20")),
        };
        a.record(&id, 1, mv, &Actor::new("县级经办人"), "迁入兰山区")
            .await
            .expect("move");
        let file = a.family_file(&id).await.expect("file");
        assert_eq!(
            file.engine_family(m("2019-05"), None)
                .expect("facts")
                .county()
                .to_string(),
            "371321"
        );
        let after = file.engine_family(m("2019-06"), None).expect("facts");
        assert_eq!(after.county().to_string(), "371302", "{}", b.label);
        assert_eq!(after.hukou(), Hukou::Urban);
    });
}

#[tokio::test]
async fn facts_must_have_their_date_and_their_person() {
    on_both!(|b| {
        let a = &b.archive;
        let id = a
            .create_family(
                &bereaved_family("YN-008"),
                &Actor::new("census"),
                "普查录入",
            )
            .await
            .expect("create");
        let undated = NewFact {
            person_id: None,
            value: FactValue::Death {
                certificate_no: None,
            },
            valid_from: None,
        };
        assert!(matches!(
            a.record(&id, 1, undated, &Actor::new("x"), "y").await,
            Err(StoreError::Invalid { .. })
        ));
        let other = a
            .create_family(
                &bereaved_family("YN-009"),
                &Actor::new("census"),
                "普查录入",
            )
            .await
            .expect("create");
        let stranger = a.family_file(&other).await.expect("file").persons[0]
            .person_id
            .clone();
        let misplaced = NewFact {
            person_id: Some(stranger),
            value: FactValue::LaterChild,
            valid_from: Some(d("2015-01-01")),
        };
        let r = a.record(&id, 1, misplaced, &Actor::new("x"), "y").await;
        assert!(
            matches!(r, Err(StoreError::Invalid { .. })),
            "{}: {r:?}",
            b.label
        );
        assert_eq!(
            a.family_file(&id).await.expect("file").version,
            1,
            "a refused write changes nothing"
        );
    });
}

#[tokio::test]
async fn families_are_listed_by_area_and_audit_entries_are_kept() {
    on_both!(|b| {
        let a = &b.archive;
        a.create_family(
            &bereaved_family("YN-010"),
            &Actor::new("census"),
            "普查录入",
        )
        .await
        .expect("create");
        a.create_family(
            &bereaved_family("YN-011"),
            &Actor::new("census"),
            "普查录入",
        )
        .await
        .expect("create");
        assert_eq!(
            a.list_families("371321").await.expect("list").len(),
            2,
            "{}",
            b.label
        );
        assert_eq!(a.list_families("3713").await.expect("list").len(), 2);
        assert!(a.list_families("371302").await.expect("list").is_empty());
        assert!(a.list_families("abc").await.is_err());
        a.audit(&Actor::new("市级"), "export_unmasked", "371321", "审计抽查")
            .await
            .expect("audit");
        let log = a.audit_log().await.expect("log");
        let exports: Vec<_> = log.iter().filter(|e| e.2 == "export_unmasked").collect();
        assert_eq!(exports.len(), 1);
        assert_eq!(log.last().map(|e| e.2.as_str()), Some("export_unmasked"));
        let duplicate = a
            .create_family(
                &bereaved_family("YN-010"),
                &Actor::new("census"),
                "普查录入",
            )
            .await;
        assert!(duplicate.is_err(), "a census number is unique per county");
    });
}

#[tokio::test]
async fn disability_reassessments_are_kept_as_history() {
    on_both!(|b| {
        let a = &b.archive;
        let mut fam = bereaved_family("YN-012");
        fam.persons[2].facts = vec![
            (
                FactValue::Identity {
                    name: "李明".into(),
                    sex: Sex::Male,
                    birth_date: d("1990-01-01"),
                },
                None,
            ),
            (
                FactValue::Disability {
                    grade: DisabilityGrade::new(3).expect("grade"),
                    certificate_no: None,
                },
                Some(d("2012-05-01")),
            ),
        ];
        let id = a
            .create_family(&fam, &Actor::new("census"), "普查录入")
            .await
            .expect("create");
        let file = a.family_file(&id).await.expect("file");
        let child = file
            .persons
            .iter()
            .find(|p| p.relation == Relation::Child)
            .expect("child")
            .person_id
            .clone();
        let re = NewFact {
            person_id: Some(child),
            value: FactValue::Disability {
                grade: DisabilityGrade::new(1).expect("grade"),
                certificate_no: None,
            },
            valid_from: Some(d("2016-03-15")),
        };
        a.record(&id, 1, re, &Actor::new("县级"), "重新评定")
            .await
            .expect("reassess");
        let file = a.family_file(&id).await.expect("file");
        let family = file.engine_family(m("2017-01"), None).expect("facts");
        let e = evaluate(&family, m("2017-01"), &policy());
        assert_eq!(e.category, Category::Disabled, "{}", b.label);
        let grant = e.grants().next().expect("disabled grant");
        assert_eq!(grant.amount.get(), 300000, "the grade when first due");
    });
}

#[tokio::test]
async fn a_backup_restores_into_an_empty_archive_on_either_backend() {
    let keys = Keyring::generate(Algorithm::Aes256Gcm);
    let dir = tempfile::tempdir().expect("tempdir");
    let source = Archive::open(
        &format!("sqlite://{}", dir.path().join("a.db").display()),
        keys.clone(),
    )
    .await
    .expect("open");
    let id = source
        .create_family(
            &bereaved_family("BK-001"),
            &Actor::new("census"),
            "普查录入",
        )
        .await
        .expect("create");
    let file = source.family_file(&id).await.expect("file");
    let wrong = file
        .facts
        .iter()
        .find(|f| f.kind == "death")
        .expect("death")
        .fact_id
        .clone();
    let child = file
        .persons
        .iter()
        .find(|p| p.relation == Relation::Child)
        .expect("child")
        .person_id
        .clone();
    let fixed = NewFact {
        person_id: Some(child),
        value: FactValue::Death {
            certificate_no: None,
        },
        valid_from: Some(d("2012-07-01")),
    };
    source
        .correct(&id, 1, &wrong, Some(fixed), &Actor::new("县级"), "更正")
        .await
        .expect("correct");
    source
        .set_contact(
            "371300",
            "张联络",
            "联系人",
            Some("0539-8888888"),
            &Actor::new("市级"),
        )
        .await
        .expect("contact");
    source
        .audit(&Actor::new("市级"), "backup", "all", "例行备份")
        .await
        .expect("audit");
    let mut dump = Vec::new();
    let rows = guanai_store::backup::backup(&source, &mut dump)
        .await
        .expect("backup");
    assert!(rows >= 12, "{rows}");
    let text = String::from_utf8_lossy(&dump);
    assert!(
        !text.contains(MOTHER_ID) && !text.contains("13812345678"),
        "sealed values stay sealed in a backup"
    );

    let mut targets = vec![sqlite_with(keys.clone()).await];
    targets.extend(postgres_with(keys.clone()).await);
    for b in targets {
        let restored =
            guanai_store::backup::restore(&b.archive, &mut dump.as_slice(), &Actor::new("市级"))
                .await
                .expect("restore");
        assert_eq!(restored, rows, "{}", b.label);
        let copy = b.archive.family_file(&id).await.expect("restored file");
        assert_eq!(
            copy.facts,
            source.family_file(&id).await.expect("file").facts,
            "{}: identical history",
            b.label
        );
        let number = ResidentId::parse(MOTHER_ID, today()).expect("id");
        assert_eq!(
            b.archive
                .find_by_id_number(&number)
                .await
                .expect("lookup")
                .len(),
            1
        );
        let again =
            guanai_store::backup::restore(&b.archive, &mut dump.as_slice(), &Actor::new("市级"))
                .await;
        assert!(again.is_err(), "restore refuses a non-empty archive");
        cleanup(b).await;
    }
    // A truncated backup restores nothing.
    let b = sqlite_with(keys.clone()).await;
    let cut = &dump[..dump.len() / 2];
    let cut = &cut[..cut.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1)];
    assert!(
        guanai_store::backup::restore(&b.archive, &mut &cut[..], &Actor::new("市级"))
            .await
            .is_err()
    );
    assert!(
        b.archive
            .list_families("3713")
            .await
            .expect("list")
            .is_empty(),
        "nothing half-restored"
    );
    cleanup(b).await;
}

#[tokio::test]
async fn key_rotation_reencrypts_everything_and_lookups_keep_working() {
    let mut backends = vec![sqlite().await];
    backends.extend(postgres().await);
    for mut b in backends {
        let id = b
            .archive
            .create_family(
                &bereaved_family("KR-001"),
                &Actor::new("census"),
                "普查录入",
            )
            .await
            .expect("create");
        b.archive
            .set_contact(
                "371300",
                "张联络",
                "联系人",
                Some("0539-8888888"),
                &Actor::new("市级"),
            )
            .await
            .expect("contact");
        let mut keys = b.archive.keys().clone();
        let new_id = keys.rotate(Algorithm::Sm4Gcm);
        b.archive.set_keys(keys);
        let number = ResidentId::parse(MOTHER_ID, today()).expect("id");
        assert_eq!(
            b.archive
                .find_by_id_number(&number)
                .await
                .expect("lookup")
                .len(),
            1,
            "{}: found under the old key mid-rotation",
            b.label
        );
        let done = guanai_store::rotate::reencrypt(&b.archive, &Actor::new("市级"))
            .await
            .expect("rotate");
        assert_eq!(
            done.facts, 3,
            "{}: the sealed facts: ID number, phone, bank account",
            b.label
        );
        assert_eq!(done.contacts, 1);
        assert_eq!(
            guanai_store::rotate::reencrypt(&b.archive, &Actor::new("市级"))
                .await
                .expect("again"),
            Default::default(),
            "nothing left to do"
        );
        let file = b.archive.family_file(&id).await.expect("file");
        assert!(file.current(None).iter().any(
            |f| matches!(&f.value, Some(FactValue::Phone { number }) if number == "13812345678")
        ));
        assert_eq!(
            b.archive
                .find_by_id_number(&number)
                .await
                .expect("lookup")
                .len(),
            1
        );
        let contacts = b
            .archive
            .contacts_for(VillageCode::parse(VILLAGE).expect("village"))
            .await
            .expect("contacts");
        assert_eq!(contacts[0].phone.as_deref(), Some("0539-8888888"));
        assert!(new_id > 1);
        cleanup(b).await;
    }
}

#[tokio::test]
async fn reported_deaths_and_duplicate_registrations_are_found() {
    on_both!(|b| {
        let a = &b.archive;
        let id = a
            .create_family(
                &bereaved_family("MD-001"),
                &Actor::new("census"),
                "普查录入",
            )
            .await
            .expect("create");
        a.create_family(
            &bereaved_family("MD-002"),
            &Actor::new("census"),
            "普查录入",
        )
        .await
        .expect("create");
        let number = ResidentId::parse(MOTHER_ID, today()).expect("id");
        let unknown = ResidentId::parse("372822196503120173", today()).expect("id");
        let findings = a
            .match_deaths(&[(number, d("2024-02-29")), (unknown, d("2024-01-01"))])
            .await
            .expect("match");
        assert_eq!(
            findings.len(),
            2,
            "{}: the mother of both families",
            b.label
        );
        assert!(findings.iter().all(|f| f.stop_from == m("2024-03")
            && f.on_file.is_none()
            && f.relation == Relation::Mother));
        let file = a.family_file(&id).await.expect("file");
        let mother = file.persons[0].person_id.clone();
        a.record(
            &id,
            1,
            NewFact {
                person_id: Some(mother),
                value: FactValue::Death {
                    certificate_no: None,
                },
                valid_from: Some(d("2024-02-29")),
            },
            &Actor::new("县级"),
            "比对",
        )
        .await
        .expect("record");
        assert_eq!(
            a.match_deaths(&[(number, d("2024-02-29"))])
                .await
                .expect("match")
                .len(),
            1,
            "only the other family remains"
        );
        let dups = a.duplicates().await.expect("duplicates");
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0].number, number);
        assert_eq!(dups[0].registrations.len(), 2);
    });
}

#[tokio::test]
async fn contacts_at_every_level_are_shown_and_replaced() {
    on_both!(|b| {
        let a = &b.archive;
        let village = VillageCode::parse(VILLAGE).expect("village");
        a.set_contact(
            &village.to_string(),
            "村联络员",
            "联系人",
            Some("13900000001"),
            &Actor::new("村"),
        )
        .await
        .expect("v");
        a.set_contact(
            &village.town().to_string(),
            "镇联络员",
            "联系人",
            None,
            &Actor::new("镇"),
        )
        .await
        .expect("t");
        a.set_contact(
            &village.county().to_string(),
            "县联络员",
            "联系人",
            None,
            &Actor::new("县"),
        )
        .await
        .expect("c");
        a.set_contact("371300", "市联络员", "联系人", None, &Actor::new("市"))
            .await
            .expect("city");
        a.set_contact(
            &village.to_string(),
            "新村联络员",
            "联系人",
            None,
            &Actor::new("村"),
        )
        .await
        .expect("replace");
        let contacts = a.contacts_for(village).await.expect("contacts");
        let names: Vec<&str> = contacts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["新村联络员", "镇联络员", "县联络员", "市联络员"],
            "{}",
            b.label
        );
        assert!(
            a.set_contact("999999", "x", "联系人", None, &Actor::new("x"))
                .await
                .is_err()
        );
    });
}

/// Both backends end up with the same tables and columns after the migrations.
#[tokio::test]
async fn both_backends_migrate_to_the_same_schema() {
    let lite = sqlite().await;
    let Some(pg) = postgres().await else {
        cleanup(lite).await;
        return;
    };
    let sqlite_columns: Vec<(String, String)> = match lite.archive.db() {
        guanai_store::Db::Sqlite(pool, _) => sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' ORDER BY m.name, p.name",
        )
        .fetch_all(pool)
        .await
        .expect("sqlite schema"),
        guanai_store::Db::Pg(_) => unreachable!("sqlite backend"),
    };
    let pg_columns: Vec<(String, String)> = match pg.archive.db() {
        guanai_store::Db::Pg(pool) => sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' ORDER BY table_name, column_name",
        )
        .fetch_all(pool)
        .await
        .expect("pg schema"),
        guanai_store::Db::Sqlite(..) => unreachable!("postgres backend"),
    };
    let (mut sqlite_columns, mut pg_columns) = (sqlite_columns, pg_columns);
    sqlite_columns.sort();
    pg_columns.sort();
    assert_eq!(sqlite_columns, pg_columns);
    assert!(
        sqlite_columns
            .iter()
            .any(|(t, c)| t == "fact" && c == "sealed")
    );
    cleanup(lite).await;
    cleanup(pg).await;
}

const CENSUS_HEADER: &str = "家庭编号,成员关系,姓名,性别,公民身份号码,出生日期,户籍性质,所在村居代码,联系电话,开户银行,银行账号,低保,五保,慢性病,居住状况,独生子女父母光荣证号,死亡日期,死亡证明编号,再生育或收养日期,残疾等级,残疾评定日期,残疾证号,备注";

/// Census rows: per family a mother (census number, ID number) born on the ID number's date, and a child who died.
fn census_file(dir: &std::path::Path, name: &str, families: &[(&str, &str)]) -> std::path::PathBuf {
    let mut text = format!("{CENSUS_HEADER}\n");
    for (no, mother_id) in families {
        let birth = ResidentId::parse(mother_id, today())
            .expect("id")
            .birth_date();
        text.push_str(&format!("{no},母亲,王秀英,女,{mother_id},{birth},农村,{VILLAGE},13812345678,临沂农商银行,6222021234567890123,是,否,否,独居,GR-1,,,,,,,\n"));
        text.push_str(&format!(
            "{no},子女,李明,男,,1990-01-01,农村,{VILLAGE},,,,,,,,,2012-06-15,D-1,,,,,\n"
        ));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write census");
    path
}

async fn import_file(
    a: &Archive,
    path: &std::path::Path,
    partial: bool,
) -> guanai_store::import::ImportReport {
    let reader = guanai_census::CensusReader::open(path, today()).expect("open census");
    let options = guanai_store::import::ImportOptions {
        partial,
        actor: Actor::new("普查"),
        applications: None,
    };
    guanai_store::import::import(a, reader, || 0, &options, |_| {})
        .await
        .expect("import")
}

#[tokio::test]
async fn census_import_is_all_or_nothing_and_idempotent_on_both_backends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let other = |birth: &str, seq: u16| {
        ResidentId::build("371321", d(birth), seq)
            .expect("id")
            .as_str()
            .to_owned()
    };
    let (second, third) = (other("1966-02-02", 2), other("1962-09-09", 4));
    let good = census_file(
        dir.path(),
        "good.csv",
        &[("C-1", MOTHER_ID), ("C-2", &second)],
    );
    let clash = census_file(
        dir.path(),
        "clash.csv",
        &[("C-3", &third), ("C-4", MOTHER_ID)],
    );
    on_both!(|b| {
        let a = &b.archive;
        let first = import_file(a, &good, false).await;
        assert_eq!(
            (first.added, first.unchanged, first.errors.len()),
            (2, 0, 0),
            "{}",
            b.label
        );
        let again = import_file(a, &good, false).await;
        assert_eq!(
            (again.added, again.unchanged),
            (0, 2),
            "{}: re-import changes nothing",
            b.label
        );
        let rejected = import_file(a, &clash, false).await;
        assert_eq!(rejected.errors.len(), 1, "{}", b.label);
        assert_eq!(rejected.errors[0].column, "公民身份号码");
        assert!(!rejected.committed);
        assert_eq!(
            a.list_families("3713").await.expect("list").len(),
            2,
            "nothing of a rejected file is written"
        );
        let partial = import_file(a, &clash, true).await;
        assert_eq!(partial.added, 1);
        assert_eq!(a.list_families("3713").await.expect("list").len(), 3);
        let number = ResidentId::parse(MOTHER_ID, today()).expect("id");
        let (family, _) = a
            .find_by_id_number(&number)
            .await
            .expect("lookup")
            .into_iter()
            .next()
            .expect("found");
        let file = a.family_file(&family).await.expect("file");
        let e = evaluate(
            &file.engine_family(m("2018-02"), None).expect("facts"),
            m("2018-02"),
            &policy(),
        );
        assert_eq!(e.category, Category::Bereaved);
        assert!(
            e.parent_services[0].contains(guanai_rules::ServiceKind::DibaoUplift),
            "低保 from the census"
        );
    });
}

#[tokio::test]
async fn a_new_phone_or_id_number_replaces_the_current_one() {
    on_both!(|b| {
        let a = &b.archive;
        let id = a
            .create_family(
                &bereaved_family("PH-001"),
                &Actor::new("census"),
                "普查录入",
            )
            .await
            .expect("create");
        let file = a.family_file(&id).await.expect("file");
        let mother = file.persons[0].person_id.clone();
        let phone = |n: &str| NewFact {
            person_id: Some(mother.clone()),
            value: FactValue::Phone { number: n.into() },
            valid_from: None,
        };
        a.record(&id, 1, phone("13900001111"), &Actor::new("村"), "本人变更")
            .await
            .expect("phone");
        let file = a.family_file(&id).await.expect("file");
        let phones: Vec<String> = file
            .current(None)
            .iter()
            .filter_map(|f| match &f.value {
                Some(FactValue::Phone { number }) => Some(number.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(phones, ["13900001111"], "{}", b.label);
        assert_eq!(
            file.facts.iter().filter(|f| f.kind == "phone").count(),
            2,
            "the old number stays in the history"
        );
        let new_number = ResidentId::build("371321", d("1968-07-05"), 22).expect("id");
        let fact = NewFact {
            person_id: Some(mother.clone()),
            value: FactValue::IdNumber { number: new_number },
            valid_from: None,
        };
        a.record(&id, 2, fact, &Actor::new("县"), "号码更正")
            .await
            .expect("id");
        let old = ResidentId::parse(MOTHER_ID, today()).expect("id");
        assert!(
            a.find_by_id_number(&old).await.expect("lookup").is_empty(),
            "{}: the old number left the index",
            b.label
        );
        assert_eq!(
            a.find_by_id_number(&new_number)
                .await
                .expect("lookup")
                .len(),
            1
        );
        // Dated statuses keep their history: two welfare records both stay current.
        let welfare = NewFact {
            person_id: Some(mother),
            value: FactValue::Welfare {
                dibao: false,
                wubao: false,
            },
            valid_from: Some(d("2020-01-01")),
        };
        a.record(&id, 3, welfare, &Actor::new("县"), "退出低保")
            .await
            .expect("welfare");
        let file = a.family_file(&id).await.expect("file");
        assert_eq!(
            file.current(None)
                .iter()
                .filter(|f| f.kind == "welfare")
                .count(),
            2
        );
        let at = |m_: &str| {
            evaluate(
                &file.engine_family(m(m_), None).expect("facts"),
                m(m_),
                &policy(),
            )
        };
        assert!(at("2019-06").parent_services[0].contains(guanai_rules::ServiceKind::DibaoUplift));
        assert!(!at("2020-06").parent_services[0].contains(guanai_rules::ServiceKind::DibaoUplift));
    });
}
