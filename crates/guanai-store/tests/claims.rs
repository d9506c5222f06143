//! Claims paid through payment runs — medical relief (二(三)) and funeral reimbursement (二(五)) —
//! run against SQLite and against PostgreSQL (the service on 127.0.0.1:5432, or
//! `GUANAI_TEST_POSTGRES`); without PostgreSQL the PostgreSQL half is skipped with a message,
//! except in CI (`CI` set), where it fails.

mod support;

use guanai_rules::{Fen, HospitalLevel, Hukou, Policy, Sex, VillageCode, parse_date};
use guanai_store::pay::{ClaimView, FuneralClaimInput, MedicalClaimInput, PayError};
use guanai_store::{
    Actor, Archive, FactValue, FamilyId, NewFact, NewFamily, NewPerson, PersonId, Relation,
};
use jiff::civil::Date;

fn d(s: &str) -> Date {
    parse_date(s).expect("date")
}

/// 沂南县 (371321) sets medical relief parameters in `pack()`; 兰山区 (371302) does not.
const YINAN: &str = "371321001003";
const LANSHAN: &str = "371302001001";

/// A bereaved family: mother born 1968-07-05 (49 counts from 2017-08), father born 1965-03-12,
/// the only child died in 2012.
fn bereaved_family(no: &str, village: &str) -> NewFamily {
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
                facts: vec![identity("王秀英", Sex::Female, "1968-07-05")],
            },
            NewPerson {
                relation: Relation::Father,
                facts: vec![identity("李建国", Sex::Male, "1965-03-12")],
            },
            NewPerson {
                relation: Relation::Child,
                facts: vec![
                    identity("李明", Sex::Male, "1990-01-01"),
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

/// The shipped pack with medical relief parameters for 沂南县: 60% of the burden, 10 000 yuan a
/// year per parent.
fn pack() -> Policy {
    let text = guanai_rules::policy::embedded_text("linyi-2014").expect("pack text");
    Policy::from_toml(&format!(
        "{text}\n[[medical_relief]]\ncounty = \"371321\"\nfrom = \"2014-10\"\nratio = \"60%\"\nannual_cap_fen = 1000000\n"
    ))
    .expect("pack with medical relief")
}

fn caseworker() -> Actor {
    Actor::new("caseworker")
}

/// A new family and its (mother, father, child).
async fn family(a: &Archive, no: &str, village: &str) -> (FamilyId, PersonId, PersonId, PersonId) {
    let id = a
        .create_family(
            &bereaved_family(no, village),
            &Actor::new("census"),
            "普查录入",
        )
        .await
        .expect("create");
    let file = a.family_file(&id).await.expect("file");
    let of = |relation| {
        file.persons
            .iter()
            .find(|p| p.relation == relation)
            .map(|p| p.person_id.clone())
            .expect("person")
    };
    let (mother, father, child) = (
        of(Relation::Mother),
        of(Relation::Father),
        of(Relation::Child),
    );
    (id, mother, father, child)
}

fn medical(
    family: &FamilyId,
    person: &PersonId,
    on: &str,
    level: HospitalLevel,
    total: i64,
    insurance: i64,
) -> MedicalClaimInput {
    MedicalClaimInput {
        family: family.clone(),
        person: person.clone(),
        treated_on: d(on),
        hospital: "沂南县人民医院".into(),
        hospital_level: level,
        total: Fen(total),
        insurance_paid: Fen(insurance),
        evidence: "住院发票 No.37130012，医保结算单".into(),
    }
}

fn funeral(
    family: &FamilyId,
    person: &PersonId,
    invoice: i64,
    cremated: bool,
) -> FuneralClaimInput {
    FuneralClaimInput {
        family: family.clone(),
        person: person.clone(),
        invoice: Fen(invoice),
        invoice_no: "FP-2020-0517".into(),
        cremated,
        funeral_home: "临沂市殡仪馆".into(),
        city_funeral_home: true,
        evidence: "殡葬服务收费发票，火化证明 HZ-2020-0517".into(),
    }
}

/// Records the death of `person` on `date`.
async fn record_death(a: &Archive, family: &FamilyId, person: &PersonId, date: &str) {
    let version = a.family_file(family).await.expect("file").version;
    a.record(
        family,
        version,
        NewFact {
            person_id: Some(person.clone()),
            value: FactValue::Death {
                certificate_no: Some("D-2020-17".into()),
            },
            valid_from: Some(d(date)),
        },
        &caseworker(),
        "殡仪馆通报",
    )
    .await
    .expect("record death");
}

fn invalid(result: Result<ClaimView, PayError>) -> String {
    match result {
        Err(PayError::Invalid(message)) => message,
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[tokio::test]
async fn medical_relief_is_a_share_of_the_burden_within_the_annual_cap() {
    on_both!(|b| {
        let a = &b.archive;
        let policy = pack();
        let (f, mother, father, _) = family(a, "YN-001", YINAN).await;
        let file =
            |on, total, insurance| medical(&f, &mother, on, HospitalLevel::City, total, insurance);

        // 12 345.67 − 6 000.00 = 6 345.67 yuan; × 60% = 3 807.402 → 3 807.40 (rounded down).
        let first = a
            .file_medical_claim(
                &file("2018-03-10", 1_234_567, 600_000),
                &policy,
                &caseworker(),
            )
            .await
            .expect("first claim");
        assert_eq!(first.status, "approved", "{}", b.label);
        assert_eq!(first.kind, "medical_relief");
        assert_eq!(first.claimed, Fen(634_567));
        assert_eq!(first.amount, Fen(380_740));
        assert_eq!(first.event_date, "2018-03-10");
        assert_eq!(first.person_id, mother.as_str());
        assert_eq!(first.run_id, None);
        assert!(first.claim_id.starts_with('C') && first.claim_id.len() == 33);
        assert!(first.decision.contains("[二(三)]"), "{}", first.decision);
        assert!(first.decision.contains("3807.40元"), "{}", first.decision);
        assert!(
            first.decision.ends_with("政策包：linyi-2014"),
            "{}",
            first.decision
        );
        assert_eq!(first.evidence, "住院发票 No.37130012，医保结算单");
        let details: serde_json::Value = serde_json::from_str(&first.details).expect("json");
        assert_eq!(details["hospital_level"], "city");
        assert_eq!(details["insurance_paid"], 600_000);

        // 12 000 × 60% = 7 200 yuan, but only 10 000 − 3 807.40 = 6 192.60 are left this year.
        let second = a
            .file_medical_claim(&file("2018-09-01", 1_200_000, 0), &policy, &caseworker())
            .await
            .expect("second claim");
        assert_eq!(second.status, "approved", "{}", b.label);
        assert_eq!(second.amount, Fen(619_260));
        assert!(
            second.decision.contains("受年度上限限制"),
            "{}",
            second.decision
        );

        let third = a
            .file_medical_claim(&file("2018-11-20", 100_000, 0), &policy, &caseworker())
            .await
            .expect("third claim is recorded");
        assert_eq!(third.status, "refused", "{}", b.label);
        assert_eq!(third.amount, Fen::ZERO);
        assert!(
            third.decision.contains("已达年度上限"),
            "{}",
            third.decision
        );

        // A new year, a new cap; and the cap is per parent.
        let next_year = a
            .file_medical_claim(&file("2019-01-05", 100_000, 0), &policy, &caseworker())
            .await
            .expect("next year");
        assert_eq!(
            (next_year.status.as_str(), next_year.amount),
            ("approved", Fen(60_000))
        );
        let husband = a
            .file_medical_claim(
                &medical(
                    &f,
                    &father,
                    "2018-12-01",
                    HospitalLevel::Township,
                    100_000,
                    0,
                ),
                &policy,
                &caseworker(),
            )
            .await
            .expect("father");
        assert_eq!(
            (husband.status.as_str(), husband.amount),
            ("approved", Fen(60_000))
        );

        let all = a.claims_of(&f).await.expect("claims");
        let ids: Vec<&str> = all.iter().map(|c| c.claim_id.as_str()).collect();
        assert_eq!(
            ids,
            [&first, &second, &third, &next_year, &husband].map(|c| c.claim_id.as_str()),
            "{}",
            b.label
        );
        assert_eq!(a.claim(&second.claim_id).await.expect("claim"), second);
        assert!(
            matches!(a.claim("C0").await, Err(PayError::Invalid(m)) if m.starts_with("--claim:"))
        );
        let audited = a
            .audit_log()
            .await
            .expect("audit")
            .into_iter()
            .filter(|(_, actor, action, _, _)| action == "claim.file" && actor == "caseworker")
            .count();
        assert_eq!(audited, 5, "{}", b.label);
    });
}

#[tokio::test]
async fn refused_medical_claims_are_recorded_with_the_reason() {
    on_both!(|b| {
        let a = &b.archive;
        let policy = pack();
        let (f, mother, _, _) = family(a, "YN-002", YINAN).await;

        // Born 1968-07-05: 49 counts from 2017-08, not in 2017-07.
        let young = a
            .file_medical_claim(
                &medical(
                    &f,
                    &mother,
                    "2017-07-20",
                    HospitalLevel::County,
                    100_000,
                    20_000,
                ),
                &policy,
                &caseworker(),
            )
            .await
            .expect("recorded");
        assert_eq!(
            (young.status.as_str(), young.amount),
            ("refused", Fen::ZERO),
            "{}",
            b.label
        );
        assert_eq!(young.claimed, Fen(80_000));
        assert!(
            young.decision.starts_with("[二(三)] 不予医疗救助"),
            "{}",
            young.decision
        );
        assert!(young.decision.contains("48周岁"), "{}", young.decision);
        let of_age = a
            .file_medical_claim(
                &medical(
                    &f,
                    &mother,
                    "2017-08-01",
                    HospitalLevel::County,
                    100_000,
                    20_000,
                ),
                &policy,
                &caseworker(),
            )
            .await
            .expect("recorded");
        assert_eq!(
            (of_age.status.as_str(), of_age.amount),
            ("approved", Fen(48_000))
        );

        let provincial = a
            .file_medical_claim(
                &medical(
                    &f,
                    &mother,
                    "2018-03-10",
                    HospitalLevel::Provincial,
                    100_000,
                    20_000,
                ),
                &policy,
                &caseworker(),
            )
            .await
            .expect("recorded");
        assert_eq!(provincial.status, "refused", "{}", b.label);
        assert!(
            provincial.decision.contains("省级及以上医院"),
            "{}",
            provincial.decision
        );

        let (lanshan, lanshan_mother, _, _) = family(a, "LS-001", LANSHAN).await;
        let no_parameters = a
            .file_medical_claim(
                &medical(
                    &lanshan,
                    &lanshan_mother,
                    "2018-03-10",
                    HospitalLevel::City,
                    100_000,
                    20_000,
                ),
                &policy,
                &caseworker(),
            )
            .await
            .expect("recorded");
        assert_eq!(no_parameters.status, "refused", "{}", b.label);
        assert!(
            no_parameters
                .decision
                .contains("兰山区（371302）未设定2018-03适用"),
            "{}",
            no_parameters.decision
        );

        let statuses: Vec<String> = a
            .claims_of(&f)
            .await
            .expect("claims")
            .into_iter()
            .map(|c| c.status)
            .collect();
        assert_eq!(statuses, ["refused", "approved", "refused"]);
        assert_eq!(a.claims_of(&lanshan).await.expect("claims").len(), 1);
    });
}

#[tokio::test]
async fn funeral_fees_are_reimbursed_once_per_deceased_parent() {
    on_both!(|b| {
        let a = &b.archive;
        let policy = pack();
        let (f, mother, father, _) = family(a, "YN-003", YINAN).await;

        let living = a
            .file_funeral_claim(&funeral(&f, &mother, 285_050, true), &policy, &caseworker())
            .await
            .expect("recorded");
        assert_eq!(
            (living.status.as_str(), living.amount),
            ("refused", Fen::ZERO),
            "{}",
            b.label
        );
        assert!(
            living
                .decision
                .starts_with("[二(五)] 不予基本殡葬服务费报销"),
            "{}",
            living.decision
        );
        assert!(
            living.decision.contains("未登记死亡日期"),
            "{}",
            living.decision
        );

        record_death(a, &f, &father, "2020-05-10").await;
        let buried = a
            .file_funeral_claim(
                &funeral(&f, &father, 285_050, false),
                &policy,
                &caseworker(),
            )
            .await
            .expect("recorded");
        assert_eq!(buried.status, "refused", "{}", b.label);
        assert!(buried.decision.contains("未火化"), "{}", buried.decision);

        let granted = a
            .file_funeral_claim(&funeral(&f, &father, 285_050, true), &policy, &caseworker())
            .await
            .expect("granted");
        assert_eq!(granted.status, "approved", "{}", b.label);
        assert_eq!(granted.kind, "funeral_reimbursement");
        assert_eq!(
            (granted.amount, granted.claimed),
            (Fen(285_050), Fen(285_050))
        );
        assert_eq!(granted.event_date, "2020-05-10");
        assert!(
            granted.decision.contains("[二(五)]"),
            "{}",
            granted.decision
        );
        assert!(
            granted.decision.contains("2850.50元"),
            "{}",
            granted.decision
        );
        let details: serde_json::Value = serde_json::from_str(&granted.details).expect("json");
        assert_eq!(details["invoice_no"], "FP-2020-0517");
        assert_eq!(details["died"], "2020-05-10");

        let again = invalid(
            a.file_funeral_claim(&funeral(&f, &father, 100_000, true), &policy, &caseworker())
                .await,
        );
        assert!(again.starts_with("--person:"), "{again}");
        assert!(again.contains(&granted.claim_id), "{again}");
        assert_eq!(
            a.claims_of(&f).await.expect("claims").len(),
            3,
            "{}",
            b.label
        );
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_filed_at_once_respect_the_cap_and_the_once_rule() {
    on_both!(|b| {
        let a = &b.archive;
        let policy = pack();
        let (f, mother, father, _) = family(a, "YN-004", YINAN).await;
        let actor = caseworker();
        // Each alone: 10 000 × 60% = 6 000 yuan; together no more than the 10 000 yuan cap.
        let claim = medical(&f, &mother, "2018-03-10", HospitalLevel::City, 1_000_000, 0);
        let (x, y) = tokio::join!(
            a.file_medical_claim(&claim, &policy, &actor),
            a.file_medical_claim(&claim, &policy, &actor),
        );
        let mut amounts = [x.expect("x").amount, y.expect("y").amount];
        amounts.sort();
        assert_eq!(amounts, [Fen(400_000), Fen(600_000)], "{}", b.label);

        record_death(a, &f, &father, "2020-05-10").await;
        let claim = funeral(&f, &father, 285_050, true);
        let (x, y) = tokio::join!(
            a.file_funeral_claim(&claim, &policy, &actor),
            a.file_funeral_claim(&claim, &policy, &actor),
        );
        let (granted, refused) = match (x, y) {
            (Ok(v), Err(e)) | (Err(e), Ok(v)) => (v, e.to_string()),
            other => panic!("exactly one funeral claim must pass: {other:?}"),
        };
        assert_eq!(granted.status, "approved", "{}", b.label);
        assert!(refused.contains(&granted.claim_id), "{refused}");
    });
}

#[tokio::test]
async fn payable_claims_are_the_approved_ones_no_run_has_taken() {
    on_both!(|b| {
        let a = &b.archive;
        let policy = pack();
        let (f, mother, father, _) = family(a, "YN-005", YINAN).await;
        let (g, other_mother, _, _) = family(a, "YN-006", YINAN).await;
        let file = |family: &FamilyId, person: &PersonId, on, total| {
            medical(family, person, on, HospitalLevel::City, total, 0)
        };
        let paid = a
            .file_medical_claim(
                &file(&f, &mother, "2018-03-10", 100_000),
                &policy,
                &caseworker(),
            )
            .await
            .expect("claim");
        let refused = a
            .file_medical_claim(
                &file(&f, &mother, "2016-03-10", 100_000),
                &policy,
                &caseworker(),
            )
            .await
            .expect("claim");
        assert_eq!(refused.status, "refused");
        // 1 fen × 60% rounds down to nothing: approved, but there is nothing to pay.
        let nothing = a
            .file_medical_claim(&file(&f, &father, "2018-03-10", 1), &policy, &caseworker())
            .await
            .expect("claim");
        assert_eq!(
            (nothing.status.as_str(), nothing.amount),
            ("approved", Fen::ZERO)
        );
        record_death(a, &f, &father, "2020-05-10").await;
        let funeral_claim = a
            .file_funeral_claim(&funeral(&f, &father, 285_050, true), &policy, &caseworker())
            .await
            .expect("claim");
        let other = a
            .file_medical_claim(
                &file(&g, &other_mother, "2018-04-01", 50_000),
                &policy,
                &caseworker(),
            )
            .await
            .expect("claim");

        let ids =
            |claims: Vec<ClaimView>| claims.into_iter().map(|c| c.claim_id).collect::<Vec<_>>();
        let both = [f.clone(), g.clone()];
        // By family, then oldest first.
        let mut expected = vec![
            (f.to_string(), paid.claim_id.clone()),
            (f.to_string(), funeral_claim.claim_id.clone()),
            (g.to_string(), other.claim_id.clone()),
        ];
        expected.sort();
        let mut expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
        let mut found = ids(a.payable_claims(&both).await.expect("payable"));
        assert_eq!(found, expected, "{}", b.label);

        // The run builder takes a claim: its line first, then the claim, in the run's transaction.
        let line_sql = "INSERT INTO pay_line (run_id, line_no, family_id, person_id, county_code, kind, nature, for_month, amount, \
                        standard_fen, county_fen, booked_before, due, family_version, claim_id) \
                        VALUES ('202606-371321-1', 1, $1, $2, '371321', 'medical_relief', 'claim', '2026-06', $3, 0, $3, 0, $3, 1, $4)";
        let attach = "UPDATE claim SET run_id = $1, line_no = $2 WHERE claim_id = $3 AND status = 'approved' AND run_id IS NULL";
        let (taken, again, dangling) = guanai_store::on_db!(a.db(), pool => {
            sqlx::query("INSERT INTO pay_policy (digest, name, text, stored_at) VALUES ('d', 'linyi-2014', '', 0)")
                .execute(pool).await.expect("policy");
            sqlx::query(
                "INSERT INTO pay_run (run_id, month, scope, seq, status, known_at, ledger_first, arrears_from, policy_digest, \
                 beyond_limit, created_at, created_by) VALUES ('202606-371321-1', '2026-06', '371321', 1, 'draft', 0, '2026-06', \
                 '2024-06', 'd', 0, 0, 'finance')",
            )
            .execute(pool).await.expect("run");
            let mut tx = pool.begin().await.expect("begin");
            sqlx::query(line_sql).bind(f.as_str()).bind(mother.as_str()).bind(paid.amount.get()).bind(&paid.claim_id)
                .execute(&mut *tx).await.expect("line");
            let taken = sqlx::query(attach).bind("202606-371321-1").bind(1i64).bind(&paid.claim_id)
                .execute(&mut *tx).await.expect("attach").rows_affected();
            tx.commit().await.expect("commit");
            let again = sqlx::query(attach).bind("202606-371321-1").bind(1i64).bind(&paid.claim_id)
                .execute(pool).await.expect("attach again").rows_affected();
            // A claim can only point at a line that exists.
            let dangling = sqlx::query(attach).bind("202606-371321-1").bind(99i64).bind(&other.claim_id)
                .execute(pool).await.is_err();
            (taken, again, dangling)
        });
        assert_eq!((taken, again, dangling), (1, 0, true), "{}", b.label);
        assert_eq!(
            a.claim(&paid.claim_id)
                .await
                .expect("claim")
                .run_id
                .as_deref(),
            Some("202606-371321-1")
        );

        expected.retain(|id| *id != paid.claim_id);
        found = ids(a.payable_claims(&both).await.expect("payable"));
        assert_eq!(found, expected, "{}", b.label);
        assert_eq!(
            ids(a
                .payable_claims(std::slice::from_ref(&g))
                .await
                .expect("payable")),
            std::slice::from_ref(&other.claim_id)
        );
        assert!(a.payable_claims(&[]).await.expect("payable").is_empty());
    });
}

#[tokio::test]
async fn input_errors_name_the_field_and_record_nothing() {
    on_both!(|b| {
        let a = &b.archive;
        let policy = pack();
        let (f, mother, father, child) = family(a, "YN-007", YINAN).await;
        let (g, other_mother, _, _) = family(a, "YN-008", YINAN).await;
        let ok = medical(
            &f,
            &mother,
            "2018-03-10",
            HospitalLevel::City,
            100_000,
            20_000,
        );
        let cases = [
            (
                MedicalClaimInput {
                    evidence: "  ".into(),
                    ..ok.clone()
                },
                "--evidence: ",
            ),
            (
                MedicalClaimInput {
                    hospital: String::new(),
                    ..ok.clone()
                },
                "--hospital: ",
            ),
            (
                MedicalClaimInput {
                    total: Fen(-1),
                    ..ok.clone()
                },
                "--total: ",
            ),
            (
                MedicalClaimInput {
                    insurance_paid: Fen(-1),
                    ..ok.clone()
                },
                "--insurance-paid: ",
            ),
            (
                MedicalClaimInput {
                    insurance_paid: Fen(100_001),
                    ..ok.clone()
                },
                "--insurance-paid: ",
            ),
            (
                MedicalClaimInput {
                    treated_on: d("2999-01-01"),
                    ..ok.clone()
                },
                "--treated-on: ",
            ),
            (
                MedicalClaimInput {
                    person: child.clone(),
                    ..ok.clone()
                },
                "--person: ",
            ),
            (
                MedicalClaimInput {
                    person: other_mother.clone(),
                    ..ok.clone()
                },
                "--person: ",
            ),
        ];
        for (input, field) in cases {
            let message = invalid(a.file_medical_claim(&input, &policy, &caseworker()).await);
            assert!(message.starts_with(field), "{}: {message}", b.label);
        }
        let message = invalid(
            a.file_medical_claim(
                &MedicalClaimInput {
                    person: child.clone(),
                    ..ok.clone()
                },
                &policy,
                &caseworker(),
            )
            .await,
        );
        assert_eq!(
            message,
            format!("--person: {child} is not a parent of family {f}")
        );

        record_death(a, &f, &father, "2020-05-10").await;
        let ok = funeral(&f, &father, 285_050, true);
        let cases = [
            (
                FuneralClaimInput {
                    evidence: String::new(),
                    ..ok.clone()
                },
                "--evidence: ",
            ),
            (
                FuneralClaimInput {
                    invoice: Fen::ZERO,
                    ..ok.clone()
                },
                "--invoice: must be more than 0",
            ),
            (
                FuneralClaimInput {
                    invoice_no: " ".into(),
                    ..ok.clone()
                },
                "--invoice-no: ",
            ),
            (
                FuneralClaimInput {
                    funeral_home: String::new(),
                    ..ok.clone()
                },
                "--funeral-home: ",
            ),
            (
                FuneralClaimInput {
                    person: child.clone(),
                    ..ok.clone()
                },
                "--person: ",
            ),
            (
                FuneralClaimInput {
                    family: g.clone(),
                    ..ok.clone()
                },
                "--person: ",
            ),
        ];
        for (input, field) in cases {
            let message = invalid(a.file_funeral_claim(&input, &policy, &caseworker()).await);
            assert!(message.starts_with(field), "{}: {message}", b.label);
        }
        assert!(
            a.claims_of(&f).await.expect("claims").is_empty(),
            "{}",
            b.label
        );
        assert!(a.claims_of(&g).await.expect("claims").is_empty());
    });
}
