//! Payment runs end to end on SQLite and PostgreSQL: what a run pays, arrears and recoveries,
//! four eyes, idempotency, two builds at once, bank files and return files, the ledger.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use guanai_bank::Payer;
use guanai_rules::{
    CountyCode, Fen, Hukou, Month, Policy, ResidentId, Sex, VillageCode, evaluate, parse_date,
};
use guanai_store::pay::{BuildOptions, BuildOutcome, PayError, RunId, RunStatus};
use guanai_store::{
    Actor, Archive, FactValue, FamilyId, NewFact, NewFamily, NewPerson, PersonId, Relation,
};
use jiff::civil::Date;

fn d(s: &str) -> Date {
    parse_date(s).expect("date")
}

fn m(s: &str) -> Month {
    Month::parse(s).expect("month")
}

const VILLAGE: &str = "371321001003";

fn policy() -> (Policy, &'static str) {
    let text = guanai_rules::policy::embedded_text("linyi-2014").expect("pack text");
    (Policy::from_toml(text).expect("pack"), text)
}

struct Parent<'a> {
    sex: Sex,
    name: &'a str,
    born: &'a str,
    id: &'a str,
    account: Option<&'a str>,
}

/// A rural family of Yinan county whose only child died on `child_died`.
fn bereaved(no: &str, parents: &[Parent<'_>], child_died: &str) -> NewFamily {
    let village = VillageCode::parse(VILLAGE).expect("village");
    let mut persons: Vec<NewPerson> = parents
        .iter()
        .map(|p| {
            let mut facts = vec![
                (
                    FactValue::Identity {
                        name: p.name.into(),
                        sex: p.sex,
                        birth_date: d(p.born),
                    },
                    None,
                ),
                (
                    FactValue::IdNumber {
                        number: ResidentId::parse(p.id, d("2026-11-30")).expect("id"),
                    },
                    None,
                ),
            ];
            if let Some(account) = p.account {
                facts.push((
                    FactValue::BankAccount {
                        bank: "中国农业银行沂南支行".into(),
                        account: account.into(),
                    },
                    None,
                ));
            }
            NewPerson {
                relation: if p.sex == Sex::Female {
                    Relation::Mother
                } else {
                    Relation::Father
                },
                facts,
            }
        })
        .collect();
    persons.push(NewPerson {
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
                    certificate_no: None,
                },
                Some(d(child_died)),
            ),
        ],
    });
    NewFamily {
        family_no: no.to_owned(),
        county_code: village.county(),
        registration: (Hukou::Rural, village, None),
        persons,
        import_hash: None,
    }
}

const MOTHER: Parent<'static> = Parent {
    sex: Sex::Female,
    name: "王秀英",
    born: "1968-07-05",
    id: "372832196807050242",
    account: Some("6228480012345678901"),
};

fn father(account: Option<&'static str>) -> Parent<'static> {
    Parent {
        sex: Sex::Male,
        name: "李建国",
        born: "1965-03-12",
        id: "371321196503120013",
        account,
    }
}

fn builder() -> Actor {
    Actor::new("县计生办 张三")
}

fn approver() -> Actor {
    Actor::new("县财政局 李四")
}

async fn build(a: &Archive, month: &str, start: Option<&str>) -> Result<BuildOutcome, PayError> {
    let (policy, text) = policy();
    a.build_run(
        &BuildOptions {
            month: m(month),
            county: None,
            policy: &policy,
            policy_text: text,
            ledger_start: start.map(m),
            progress: None,
        },
        &builder(),
    )
    .await
}

fn built(outcome: Result<BuildOutcome, PayError>) -> RunId {
    match outcome {
        Ok(BuildOutcome::Built(s)) => s.run_id,
        Ok(other) => panic!("expected a run, got {other:?}"),
        Err(e) => panic!("build failed: {e}"),
    }
}

async fn set_payer(a: &Archive) {
    a.set_payer(
        CountyCode::parse("371321").expect("county"),
        &Payer {
            name: "沂南县财政局".into(),
            account: "37001626800050123456".into(),
            bank: "中国农业银行沂南支行".into(),
        },
        &approver(),
    )
    .await
    .expect("payer");
}

/// The bank's return file for every transfer exported into `dir`, all paid except `fail`.
fn return_file(dir: &Path, fail: &[&str]) -> Vec<u8> {
    let mut out = String::from("\u{feff}业务参考号,户名,账号,金额(元),状态,失败原因\r\n");
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("csv") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("csv");
        for line in text.trim_start_matches('\u{feff}').lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            if cells[0] == "合计" {
                continue;
            }
            let failed = fail.contains(&cells[1]);
            out.push_str(&format!(
                "{},{},{},{},{},{}\r\n",
                cells[1],
                cells[2],
                cells[3],
                cells[5],
                if failed { "失败" } else { "成功" },
                if failed { "账户已销户" } else { "" }
            ));
        }
    }
    out.into_bytes()
}

/// Check (holding blocked transfers), approve, export, all paid, close.
async fn settle(a: &Archive, run: &RunId, dir: &Path) {
    a.check_run(run, Some("测试：账户待补"), &builder())
        .await
        .expect("check");
    a.approve_run(run, &approver()).await.expect("approve");
    let out = dir.join(run.as_str());
    a.export_run(run, &out, d("2026-12-05"), &approver())
        .await
        .expect("export");
    let file = return_file(&out, &[]);
    let report = a
        .import_results(run, &file, "return.csv", &approver())
        .await
        .expect("return");
    assert!(report.settled);
    a.close_run(run, &approver()).await.expect("close");
}

/// Sums the lines of a family per (person, kind, month).
async fn booked(a: &Archive, family: &FamilyId) -> BTreeMap<(String, String, String), i64> {
    let mut sums = BTreeMap::new();
    for (_, l) in a.family_payments(family).await.expect("payments") {
        *sums.entry((l.person_id, l.kind, l.for_month)).or_insert(0) += l.amount.get();
    }
    sums.retain(|_, v| *v != 0);
    sums
}

/// What the engine says is due per (person, kind, month) for `[first, last]`, facts as known now.
async fn due(
    a: &Archive,
    family: &FamilyId,
    first: &str,
    last: &str,
) -> BTreeMap<(String, String, String), i64> {
    let (policy, _) = policy();
    let file = a.family_file(family).await.expect("file");
    let parents: Vec<String> = file
        .persons
        .iter()
        .filter(|p| p.relation.is_parent())
        .map(|p| p.person_id.to_string())
        .collect();
    let mut sums = BTreeMap::new();
    let mut month = m(first);
    while month <= m(last) {
        let eval = evaluate(
            &file.engine_family(month, None).expect("facts"),
            month,
            &policy,
        );
        for (i, ma) in eval.monthly() {
            sums.insert(
                (
                    parents[i].clone(),
                    ma.kind.as_str().to_owned(),
                    month.to_string(),
                ),
                ma.amount.get(),
            );
        }
        month = month.next();
    }
    sums
}

fn person(file: &guanai_store::FamilyFile, relation: Relation) -> PersonId {
    file.persons
        .iter()
        .find(|p| p.relation == relation)
        .map(|p| p.person_id.clone())
        .expect("person")
}

#[tokio::test]
async fn a_month_is_paid_once_with_four_eyes_and_rerunning_pays_nothing() {
    on_both!(|b| {
        let a = &b.archive;
        let family = a
            .create_family(
                &bereaved("YN-1", &[MOTHER, father(None)], "2012-06-15"),
                &builder(),
                "普查",
            )
            .await
            .expect("family");
        let Ok(BuildOutcome::Built(summary)) = build(a, "2026-10", Some("2026-10")).await else {
            panic!("no run built");
        };
        let run = summary.run_id.clone();
        assert_eq!(run.as_str(), "202610-all-1");
        let s = a.run_summary(&run).await.expect("summary");
        // The summary the build reports is the one read back.
        assert_eq!(*summary, s, "{}", b.label);
        assert_eq!(s.status, RunStatus::Draft);
        // Both parents over 49: 590 yuan each from higher-level funds since 2022-07 (二(二)).
        assert_eq!(s.lines, 2, "{}", b.label);
        assert_eq!(s.total, Fen(118000));
        assert_eq!(s.standard, Fen(118000));
        // The 2014 grant was first due before the ledger: settled before Guanai.
        assert!(s.by_nature.iter().all(|(n, _, _)| n == "regular"));
        // The father has no bank account: a blocking problem.
        assert_eq!(s.blocking, 1);
        let err = a
            .check_run(&run, None, &builder())
            .await
            .expect_err("blocked");
        assert!(matches!(err, PayError::Blocked { count: 1, .. }), "{err}");
        assert!(err.to_string().contains("没有银行账户"), "{err}");
        // Approving an unchecked run is refused; so is approving one's own run.
        let err = a
            .approve_run(&run, &approver())
            .await
            .expect_err("unchecked");
        assert!(err.to_string().contains("needs it to be checked"), "{err}");
        a.check_run(&run, Some("父亲账户待补录"), &builder())
            .await
            .expect("check");
        let err = a
            .approve_run(&run, &builder())
            .await
            .expect_err("four eyes");
        assert!(matches!(err, PayError::SameApprover { .. }), "{err}");
        a.approve_run(&run, &approver()).await.expect("approve");
        // Running the month again creates nothing new.
        match build(a, "2026-10", None).await.expect("rerun") {
            BuildOutcome::NothingNew { families: 1, .. } => {}
            other => panic!("{other:?}"),
        }
        let transfers = a.run_transfers(&run).await.expect("transfers");
        let statuses: Vec<(&str, Fen)> = transfers
            .iter()
            .map(|t| (t.status.as_str(), t.amount))
            .collect();
        assert_eq!(
            statuses,
            vec![("pending", Fen(59000)), ("held", Fen(59000))]
        );
        let r = a.reconcile().await.expect("reconcile");
        assert!(r.differences.is_empty(), "{:?}", r.differences);
        assert_eq!(
            booked(a, &family).await,
            due(a, &family, "2026-10", "2026-10").await
        );
        // What is held stays owed to the family.
        let (owed, debt) = a.family_balance(&family).await.expect("balance");
        assert_eq!((owed, debt), (Fen(118000), Fen::ZERO));
    });
}

#[tokio::test]
async fn a_late_death_is_recovered_from_the_surviving_parent_and_a_late_correction_pays_arrears() {
    on_both!(|b| {
        let a = &b.archive;
        set_payer(a).await;
        let family = a
            .create_family(
                &bereaved(
                    "YN-2",
                    &[MOTHER, father(Some("6228480012345670000"))],
                    "2012-06-15",
                ),
                &builder(),
                "普查",
            )
            .await
            .expect("family");
        let run = built(build(a, "2026-10", Some("2026-10")).await);
        settle(a, &run, b.dir.path()).await;
        let run = built(build(a, "2026-11", None).await);
        settle(a, &run, b.dir.path()).await;
        // December: the mother's death on 2026-10-05 is reported late. October was due (timing
        // rule), November was not: 590 yuan to recover, netted against the father's December.
        let file = a.family_file(&family).await.expect("file");
        let mother = person(&file, Relation::Mother);
        a.record(
            &family,
            file.version,
            NewFact {
                person_id: Some(mother.clone()),
                value: FactValue::Death {
                    certificate_no: Some("D-2026-1".into()),
                },
                valid_from: Some(d("2026-10-05")),
            },
            &builder(),
            "民政比对：死亡",
        )
        .await
        .expect("death");
        let run = built(build(a, "2026-12", None).await);
        let lines = a.run_lines(&run, None).await.expect("lines");
        let shape: Vec<(&str, &str, Fen)> = lines
            .iter()
            .map(|l| (l.nature.as_str(), l.for_month.as_str(), l.amount))
            .collect();
        assert_eq!(
            shape,
            vec![
                ("recovery", "2026-11", Fen(-59000)),
                ("regular", "2026-12", Fen(59000))
            ],
            "{}",
            b.label
        );
        assert_eq!(lines[0].person_id, mother.to_string());
        assert_eq!(
            (lines[0].booked_before, lines[0].due),
            (Fen(59000), Fen::ZERO)
        );
        // Netted: nothing goes to the bank this month, nothing is left to collect.
        let transfers = a.run_transfers(&run).await.expect("transfers");
        assert!(transfers.is_empty(), "{transfers:?}");
        a.check_run(&run, None, &builder()).await.expect("check");
        a.approve_run(&run, &approver()).await.expect("approve");
        assert_eq!(
            a.family_balance(&family).await.expect("balance"),
            (Fen::ZERO, Fen::ZERO)
        );
        assert_eq!(
            booked(a, &family).await,
            due(a, &family, "2026-10", "2026-12").await
        );
        let r = a.reconcile().await.expect("reconcile");
        assert!(r.differences.is_empty(), "{:?}", r.differences);
        // The family's statement shows the recovery set off within the family.
        let statement = a.statement(&family).await.expect("statement");
        assert!(
            statement
                .iter()
                .any(|l| l.amount == Fen(59000) && l.account == format!("payable:{mother}"))
        );
    });
}

#[tokio::test]
async fn a_correction_back_in_time_pays_arrears_within_the_limit() {
    on_both!(|b| {
        let a = &b.archive;
        // The mother was recorded as born in 1979: not 49 until 2028, so nothing is due.
        let young = Parent {
            born: "1979-02-10",
            id: "371321197902100022",
            ..MOTHER
        };
        let family = a
            .create_family(
                &bereaved("YN-3", &[young], "2012-06-15"),
                &builder(),
                "普查",
            )
            .await
            .expect("family");
        match build(a, "2026-10", Some("2026-10")).await.expect("build") {
            BuildOutcome::NothingNew { .. } => {}
            other => panic!("{other:?}"),
        }
        // In December the birth date is corrected: she turned 49 on 1976-02-10 + 49 = 2025-02-10.
        let file = a.family_file(&family).await.expect("file");
        let identity = file
            .facts
            .iter()
            .find(|f| f.kind == "identity")
            .expect("identity");
        let mother = person(&file, Relation::Mother);
        a.correct(
            &family,
            file.version,
            &identity.fact_id,
            Some(NewFact {
                person_id: Some(mother.clone()),
                value: FactValue::Identity {
                    name: "王秀英".into(),
                    sex: Sex::Female,
                    birth_date: d("1976-02-10"),
                },
                valid_from: None,
            }),
            &builder(),
            "户籍核实：出生日期更正",
        )
        .await
        .expect("correct");
        let run = built(build(a, "2026-12", None).await);
        let lines = a.run_lines(&run, None).await.expect("lines");
        let shape: Vec<(&str, &str)> = lines
            .iter()
            .map(|l| (l.nature.as_str(), l.for_month.as_str()))
            .collect();
        // Arrears back to the ledger's first month (the 24-month limit reaches further).
        assert_eq!(
            shape,
            vec![
                ("arrears", "2026-10"),
                ("arrears", "2026-11"),
                ("regular", "2026-12")
            ],
            "{}",
            b.label
        );
        assert!(
            lines
                .iter()
                .all(|l| l.amount == Fen(59000) && l.standard == Fen(59000))
        );
        assert_eq!(
            booked(a, &family).await,
            due(a, &family, "2026-10", "2026-12").await
        );
    });
}

#[tokio::test]
async fn two_builds_at_once_cannot_both_pay() {
    on_both!(|b| {
        let a = &b.archive;
        for i in 0..20 {
            a.create_family(
                &bereaved(&format!("YN-C{i}"), &[MOTHER], "2012-06-15"),
                &builder(),
                "普查",
            )
            .await
            .expect("family");
        }
        let (x, y) = tokio::join!(
            build(a, "2026-10", Some("2026-10")),
            build(a, "2026-10", Some("2026-10"))
        );
        let ok = [&x, &y]
            .iter()
            .filter(|r| matches!(r, Ok(BuildOutcome::Built(_))))
            .count();
        assert_eq!(ok, 1, "{}: {x:?} {y:?}", b.label);
        for r in [&x, &y] {
            if let Err(e) = r {
                assert!(
                    matches!(e, PayError::Concurrent(_) | PayError::RunOpen { .. }),
                    "{e}"
                );
            }
        }
        let runs = a.list_runs().await.expect("runs");
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].lines, 20);
        let r = a.reconcile().await.expect("reconcile");
        assert!(r.differences.is_empty(), "{:?}", r.differences);
    });
}

#[tokio::test]
async fn bank_returns_that_do_not_match_change_nothing_and_failures_are_paid_once_fixed() {
    on_both!(|b| {
        let a = &b.archive;
        set_payer(a).await;
        let family = a
            .create_family(
                &bereaved("YN-4", &[MOTHER], "2012-06-15"),
                &builder(),
                "普查",
            )
            .await
            .expect("family");
        let run = built(build(a, "2026-10", Some("2026-10")).await);
        a.check_run(&run, None, &builder()).await.expect("check");
        a.approve_run(&run, &approver()).await.expect("approve");
        // Exporting twice is refused; the files name county and bank.
        let out = b.dir.path().join("bank");
        let files = a
            .export_run(&run, &out, d("2026-10-20"), &approver())
            .await
            .expect("export");
        assert_eq!(files.files.len(), 1);
        assert_eq!(files.files[0].bank, "中国农业银行");
        assert_eq!((files.count, files.total), (1, Fen(59000)));
        assert!(files.files[0].paths.iter().all(|p| p.exists()));
        let err = a
            .export_run(&run, &out, d("2026-10-20"), &approver())
            .await
            .expect_err("twice");
        assert!(err.to_string().contains("is exported"), "{err}");
        let reference = format!("{}-000001", run.as_str());
        // Unknown line, changed amount: refused, nothing changes.
        let bad = "业务参考号,户名,账号,金额(元),状态,失败原因\r\n202610-all-1-000009,王秀英,6228480012345678901,590.00,成功,\r\n";
        let err = a
            .import_results(&run, bad.as_bytes(), "bad.csv", &approver())
            .await
            .expect_err("unknown");
        assert!(
            err.to_string()
                .contains("202610-all-1-000009 is not a transfer of this run"),
            "{err}"
        );
        let changed = format!(
            "业务参考号,户名,账号,金额(元),状态,失败原因\r\n{reference},王秀英,6228480012345678901,600.00,成功,\r\n"
        );
        let err = a
            .import_results(&run, changed.as_bytes(), "bad.csv", &approver())
            .await
            .expect_err("amount");
        assert!(
            err.to_string()
                .contains("金额 600.00 differs from the 590.00 yuan sent"),
            "{err}"
        );
        let renamed = format!(
            "业务参考号,户名,账号,金额(元),状态,失败原因\r\n{reference},王秀华,6228480012345678901,590.00,成功,\r\n"
        );
        let err = a
            .import_results(&run, renamed.as_bytes(), "bad.csv", &approver())
            .await
            .expect_err("name");
        assert!(err.to_string().contains("户名 differs"), "{err}");
        assert_eq!(a.run_transfers(&run).await.expect("t")[0].status, "sent");
        // The bank returns it: closed account.
        let failed = return_file(&out, &[reference.as_str()]);
        let report = a
            .import_results(&run, &failed, "return.csv", &approver())
            .await
            .expect("return");
        assert_eq!(report.failed.len(), 1);
        assert!(report.settled);
        let err = a
            .import_results(&run, &failed, "return.csv", &approver())
            .await
            .expect_err("again");
        assert!(matches!(err, PayError::ReturnAgain { .. }), "{err}");
        let paid_now = return_file(&out, &[]);
        let err = a
            .import_results(&run, &paid_now, "late.csv", &approver())
            .await
            .expect_err("settled");
        assert!(
            err.to_string()
                .contains("is failed (already settled or never sent)"),
            "{err}"
        );
        a.close_run(&run, &approver()).await.expect("close");
        assert_eq!(
            a.family_balance(&family).await.expect("balance").0,
            Fen(59000)
        );
        // Every step of the run is in the audit log, written with the step, and the chain holds.
        let steps: Vec<String> = a
            .audit_log()
            .await
            .expect("audit")
            .into_iter()
            .filter(|e| e.3 == run.as_str())
            .map(|e| e.2)
            .collect();
        for step in [
            "pay.check",
            "pay.approve",
            "pay.export",
            "pay.bank_return",
            "pay.close",
        ] {
            assert!(steps.iter().any(|s| s == step), "{step} missing: {steps:?}");
        }
        assert!(a.verify_audit().await.expect("verify").is_intact());
        // November: the account has not been fixed — blocking.
        let run = built(build(a, "2026-11", None).await);
        let problems = a.problems(&run, true).await.expect("problems");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "account_failed");
        assert!(problems[0].detail.contains("账户已销户"));
        a.discard_run(&run, "账户更正后重做", &builder())
            .await
            .expect("discard");
        // Fixed: the next run pays November and the returned October together.
        let file = a.family_file(&family).await.expect("file");
        a.record(
            &family,
            file.version,
            NewFact {
                person_id: Some(person(&file, Relation::Mother)),
                value: FactValue::BankAccount {
                    bank: "中国农业银行沂南支行".into(),
                    account: "6228480099999999999".into(),
                },
                valid_from: None,
            },
            &builder(),
            "更正银行账户",
        )
        .await
        .expect("account");
        let run = built(build(a, "2026-11", None).await);
        assert_eq!(run.as_str(), "202611-all-2");
        assert!(a.problems(&run, true).await.expect("problems").is_empty());
        let transfers = a.run_transfers(&run).await.expect("transfers");
        assert_eq!(transfers.len(), 1);
        assert_eq!(transfers[0].amount, Fen(118000));
        let r = a.reconcile().await.expect("reconcile");
        assert!(r.differences.is_empty(), "{:?}", r.differences);
    });
}

#[tokio::test]
async fn a_grant_falling_due_is_paid_once_and_the_database_refuses_a_second() {
    on_both!(|b| {
        let a = &b.archive;
        // The child died on 2026-10-10: bereaved from November, the grant due from November.
        let family = a
            .create_family(
                &bereaved("YN-5", &[MOTHER], "2026-10-10"),
                &builder(),
                "普查",
            )
            .await
            .expect("family");
        match build(a, "2026-10", Some("2026-10")).await.expect("october") {
            BuildOutcome::NothingNew { .. } => {}
            other => panic!("{other:?}"),
        }
        let run = built(build(a, "2026-11", None).await);
        let lines = a.run_lines(&run, None).await.expect("lines");
        let grant = lines
            .iter()
            .find(|l| l.kind == "bereaved_grant")
            .expect("grant");
        assert_eq!(
            (
                grant.nature.as_str(),
                grant.amount,
                grant.county,
                grant.standard
            ),
            ("grant", Fen(1000000), Fen(1000000), Fen::ZERO)
        );
        assert_eq!(grant.county_code, "371321");
        a.check_run(&run, None, &builder()).await.expect("check");
        a.approve_run(&run, &approver()).await.expect("approve");
        set_payer(a).await;
        a.export_run(&run, &b.dir.path().join("g"), d("2026-11-20"), &approver())
            .await
            .expect("export");
        let run = built(build(a, "2026-12", None).await);
        let lines = a.run_lines(&run, None).await.expect("lines");
        assert!(
            lines.iter().all(|l| l.kind != "bereaved_grant"),
            "{lines:?}"
        );
        // The constraint itself: never twice per family and kind.
        let twice = guanai_store::on_db!(a.db(), pool => {
            sqlx::query("INSERT INTO grant_award (family_id, kind, run_id, line_no) VALUES ($1, 'bereaved_grant', $2, 99)")
                .bind(family.as_str())
                .bind(run.as_str())
                .execute(pool)
                .await
                .map(|_| ())
        });
        assert!(twice.is_err(), "{}", b.label);
    });
}

#[tokio::test]
async fn discarding_a_draft_undoes_its_bookings() {
    on_both!(|b| {
        let a = &b.archive;
        let family = a
            .create_family(
                &bereaved("YN-6", &[MOTHER], "2026-10-10"),
                &builder(),
                "普查",
            )
            .await
            .expect("family");
        let first = built(build(a, "2026-11", Some("2026-11")).await);
        let before = a.run_lines(&first, None).await.expect("lines");
        a.discard_run(&first, "批次有误", &builder())
            .await
            .expect("discard");
        let err = a
            .discard_run(&first, "again", &builder())
            .await
            .expect_err("discarded");
        assert!(err.to_string().contains("is discarded"), "{err}");
        assert!(booked(a, &family).await.is_empty());
        let second = built(build(a, "2026-11", None).await);
        assert_eq!(second.as_str(), "202611-all-2");
        let after = a.run_lines(&second, None).await.expect("lines");
        assert_eq!(before.len(), after.len());
        assert_eq!(
            before
                .iter()
                .map(|l| (&l.kind, l.amount))
                .collect::<Vec<_>>(),
            after
                .iter()
                .map(|l| (&l.kind, l.amount))
                .collect::<Vec<_>>()
        );
        // A backup that would lack the payment side is refused, not written.
        let mut out = Vec::new();
        let err = guanai_store::backup::backup(a, &mut out)
            .await
            .expect_err("payments present");
        assert!(err.to_string().contains("payment run(s)"), "{err}");
        let err = a
            .approve_run(&first, &approver())
            .await
            .expect_err("discarded run");
        assert!(err.to_string().contains("is discarded"), "{err}");
        let r = a.reconcile().await.expect("reconcile");
        assert!(r.differences.is_empty(), "{:?}", r.differences);
    });
}

#[tokio::test]
async fn an_approved_funeral_claim_is_paid_once_through_a_run_to_the_surviving_parent() {
    use guanai_store::pay::FuneralClaimInput;
    on_both!(|b| {
        let a = &b.archive;
        let family = a
            .create_family(
                &bereaved(
                    "YN-7",
                    &[MOTHER, father(Some("6228480012345670000"))],
                    "2012-06-15",
                ),
                &builder(),
                "普查",
            )
            .await
            .expect("family");
        let file = a.family_file(&family).await.expect("file");
        let mother = person(&file, Relation::Mother);
        let father_id = person(&file, Relation::Father);
        a.record(
            &family,
            file.version,
            NewFact {
                person_id: Some(mother.clone()),
                value: FactValue::Death {
                    certificate_no: Some("D-2026-9".into()),
                },
                valid_from: Some(d("2026-09-03")),
            },
            &builder(),
            "死亡",
        )
        .await
        .expect("death");
        let (policy, _) = policy();
        let claim = a
            .file_funeral_claim(
                &FuneralClaimInput {
                    family: family.clone(),
                    person: mother.clone(),
                    invoice: Fen(236000),
                    invoice_no: "FP-2026-0912".into(),
                    cremated: true,
                    funeral_home: "临沂市殡仪馆".into(),
                    city_funeral_home: true,
                    evidence: "火化证明、殡仪馆发票".into(),
                },
                &policy,
                &builder(),
            )
            .await
            .expect("claim");
        assert_eq!(
            (claim.status.as_str(), claim.amount),
            ("approved", Fen(236000)),
            "{}",
            claim.decision
        );
        let run = built(build(a, "2026-10", Some("2026-10")).await);
        let lines = a.run_lines(&run, None).await.expect("lines");
        let paid = lines
            .iter()
            .find(|l| l.kind == "funeral_reimbursement")
            .expect("claim line");
        assert_eq!(
            (
                paid.nature.as_str(),
                paid.amount,
                paid.county,
                paid.standard
            ),
            ("claim", Fen(236000), Fen(236000), Fen::ZERO)
        );
        assert_eq!(paid.person_id, mother.to_string());
        assert_eq!(
            a.claim(&claim.claim_id)
                .await
                .expect("claim")
                .run_id
                .as_deref(),
            Some(run.as_str())
        );
        // The deceased mother cannot receive it: it goes to the father with his October.
        let transfers = a.run_transfers(&run).await.expect("transfers");
        assert_eq!(transfers.len(), 1, "{transfers:?}");
        assert_eq!(
            (transfers[0].person_id.as_str(), transfers[0].amount),
            (father_id.as_str(), Fen(236000 + 59000))
        );
        // Discarded: the claim is free again, and the next run pays it (once).
        a.discard_run(&run, "重做", &builder())
            .await
            .expect("discard");
        assert_eq!(a.claim(&claim.claim_id).await.expect("claim").run_id, None);
        let run = built(build(a, "2026-10", None).await);
        a.check_run(&run, None, &builder()).await.expect("check");
        a.approve_run(&run, &approver()).await.expect("approve");
        set_payer(a).await;
        a.export_run(&run, &b.dir.path().join("f"), d("2026-10-20"), &approver())
            .await
            .expect("export");
        let next = built(build(a, "2026-11", None).await);
        let lines = a.run_lines(&next, None).await.expect("lines");
        assert!(
            lines.iter().all(|l| l.kind != "funeral_reimbursement"),
            "{lines:?}"
        );
        let r = a.reconcile().await.expect("reconcile");
        assert!(r.differences.is_empty(), "{:?}", r.differences);
        // The county paid the reimbursement: visible in the ledger's trial balance.
        let tb = a.trial_balance().await.expect("trial balance");
        let county = tb
            .iter()
            .find(|r| r.account == "funding:county:371321")
            .expect("county account");
        assert_eq!(county.debit, Fen(236000));
    });
}

#[tokio::test]
async fn one_id_number_paid_in_two_counties_in_a_month_is_blocked() {
    on_both!(|b| {
        let a = &b.archive;
        set_payer(a).await;
        // The same mother registered in Yinan and, by mistake, in Lanshan.
        a.create_family(
            &bereaved("YN-8", &[MOTHER], "2012-06-15"),
            &builder(),
            "普查",
        )
        .await
        .expect("family");
        let mut lanshan = bereaved("LS-8", &[MOTHER], "2012-06-15");
        let county = CountyCode::parse("371302").expect("county");
        let village = VillageCode::in_county(county)[0];
        lanshan.county_code = county;
        lanshan.registration = (Hukou::Rural, village, None);
        a.create_family(&lanshan, &builder(), "普查")
            .await
            .expect("family");
        let (policy, text) = policy();
        let yinan = a
            .build_run(
                &BuildOptions {
                    month: m("2026-10"),
                    county: Some(CountyCode::parse("371321").expect("county")),
                    policy: &policy,
                    policy_text: text,
                    ledger_start: Some(m("2026-10")),
                    progress: None,
                },
                &builder(),
            )
            .await;
        let yinan = built(yinan);
        assert!(a.problems(&yinan, true).await.expect("problems").is_empty());
        a.check_run(&yinan, None, &builder()).await.expect("check");
        a.approve_run(&yinan, &approver()).await.expect("approve");
        a.export_run(
            &yinan,
            &b.dir.path().join("d"),
            d("2026-10-20"),
            &approver(),
        )
        .await
        .expect("export");
        let lanshan = built(
            a.build_run(
                &BuildOptions {
                    month: m("2026-10"),
                    county: Some(county),
                    policy: &policy,
                    policy_text: text,
                    ledger_start: None,
                    progress: None,
                },
                &builder(),
            )
            .await,
        );
        let problems = a.problems(&lanshan, true).await.expect("problems");
        assert_eq!(problems.len(), 1, "{}: {problems:?}", b.label);
        assert_eq!(problems[0].code, "duplicate_id");
        assert!(
            problems[0].detail.contains(yinan.as_str()),
            "{}",
            problems[0].detail
        );
    });
}

#[tokio::test]
async fn one_id_number_twice_in_one_citywide_run_is_blocked_naming_the_other_family() {
    on_both!(|b| {
        let a = &b.archive;
        set_payer(a).await;
        // The same mother registered in Yinan and, by mistake, in Lanshan; one run for the city.
        let yinan = a
            .create_family(
                &bereaved("YN-9", &[MOTHER], "2012-06-15"),
                &builder(),
                "普查",
            )
            .await
            .expect("family");
        let mut lanshan = bereaved("LS-9", &[MOTHER], "2012-06-15");
        let county = CountyCode::parse("371302").expect("county");
        lanshan.county_code = county;
        lanshan.registration = (Hukou::Rural, VillageCode::in_county(county)[0], None);
        let lanshan = a
            .create_family(&lanshan, &builder(), "普查")
            .await
            .expect("family");
        let (policy, text) = policy();
        let run = built(
            a.build_run(
                &BuildOptions {
                    month: m("2026-10"),
                    county: None,
                    policy: &policy,
                    policy_text: text,
                    ledger_start: Some(m("2026-10")),
                    progress: None,
                },
                &builder(),
            )
            .await,
        );
        let problems = a.problems(&run, true).await.expect("problems");
        assert_eq!(problems.len(), 1, "{}: {problems:?}", b.label);
        let problem = &problems[0];
        assert_eq!(problem.code, "duplicate_id");
        // The later transfer (family order) is blocked and names the first one's family.
        let (first, later) = if yinan.as_str() < lanshan.as_str() {
            (&yinan, &lanshan)
        } else {
            (&lanshan, &yinan)
        };
        assert_eq!(problem.family_id, later.as_str());
        assert!(
            problem.detail.contains("本批次") && problem.detail.contains(first.as_str()),
            "{}",
            problem.detail
        );
    });
}
