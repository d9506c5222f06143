//! The payment law on random histories, against SQLite and PostgreSQL: facts are recorded and
//! corrected late (deaths reported months after, deaths withdrawn, birth dates corrected, later
//! children, a disabled child's death), a run is built and paid every month, and after every run,
//! for every person, kind and month of the ledger, what is booked equals what the engine says is
//! due (to the fen); running the month again pays nothing; the ledger reconciles.

mod support;

use std::collections::BTreeMap;

use guanai_bank::Payer;
use guanai_rules::{
    CountyCode, DisabilityGrade, Hukou, Month, Policy, ResidentId, Sex, VillageCode, evaluate,
};
use guanai_store::pay::{BuildOptions, BuildOutcome};
use guanai_store::{Actor, Archive, FactValue, FamilyId, NewFact, NewFamily, NewPerson, Relation};
use jiff::ToSpan;
use jiff::civil::Date;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// A window in which Linyi's rate is above the higher-level standard, so the county pays a part.
const START: &str = "2016-01";
const MONTHS: usize = 6;

#[derive(Debug, Clone)]
enum Event {
    /// A parent's death, dated `days` before the end of the month it is reported in.
    Death { mother: bool, days: i64 },
    /// The parent's death record withdrawn (recorded in error).
    WithdrawDeath { mother: bool },
    /// The parent's birth date corrected.
    Born { mother: bool, year: i16, day: i16 },
    /// Another child by birth or adoption, dated `days` back.
    LaterChild { mother: bool, days: i64 },
    /// The (disabled) only child died, dated `days` back.
    ChildDied { days: i64 },
}

#[derive(Debug, Clone)]
struct History {
    mother_year: i16,
    father_year: i16,
    /// The child died in 2012 (bereaved), or lives with this disability grade.
    disabled: Option<u8>,
    /// (month index the fact is reported before, event)
    events: Vec<(usize, Event)>,
}

fn history() -> impl Strategy<Value = History> {
    let event = prop_oneof![
        (any::<bool>(), 0i64..420).prop_map(|(mother, days)| Event::Death { mother, days }),
        any::<bool>().prop_map(|mother| Event::WithdrawDeath { mother }),
        (any::<bool>(), 1955i16..1981, 0i16..365).prop_map(|(mother, year, day)| Event::Born {
            mother,
            year,
            day
        }),
        (any::<bool>(), 0i64..420).prop_map(|(mother, days)| Event::LaterChild { mother, days }),
        (0i64..420).prop_map(|days| Event::ChildDied { days }),
    ];
    (
        1955i16..1981,
        1955i16..1981,
        prop_oneof![Just(None), (1u8..4).prop_map(Some)],
        proptest::collection::vec((0..MONTHS, event), 0..8),
    )
        .prop_map(|(mother_year, father_year, disabled, mut events)| {
            events.sort_by_key(|e| e.0);
            History {
                mother_year,
                father_year,
                disabled,
                events,
            }
        })
}

fn date(year: i16, day: i16) -> Date {
    Date::new(year, 1, 1)
        .expect("date")
        .checked_add(i64::from(day).days())
        .expect("date")
}

fn id_for(birth: Date, seq: u32) -> ResidentId {
    ResidentId::build("371321", birth, seq as u16).expect("id number")
}

fn parent(sex: Sex, birth: Date, seq: u32) -> NewPerson {
    NewPerson {
        relation: if sex == Sex::Female {
            Relation::Mother
        } else {
            Relation::Father
        },
        facts: vec![
            (
                FactValue::Identity {
                    name: "测试".into(),
                    sex,
                    birth_date: birth,
                },
                None,
            ),
            (
                FactValue::IdNumber {
                    number: id_for(birth, seq),
                },
                None,
            ),
            (
                FactValue::BankAccount {
                    bank: "中国农业银行沂南支行".into(),
                    account: format!("62284800{seq:011}"),
                },
                None,
            ),
        ],
    }
}

fn new_family(no: usize, h: &History) -> NewFamily {
    let village = VillageCode::parse("371321001003").expect("village");
    let mut child = vec![(
        FactValue::Identity {
            name: "子女".into(),
            sex: Sex::Male,
            birth_date: date(1990, 10),
        },
        None,
    )];
    match h.disabled {
        None => child.push((
            FactValue::Death {
                certificate_no: None,
            },
            Some(date(2012, 40)),
        )),
        Some(g) => child.push((
            FactValue::Disability {
                grade: DisabilityGrade::new(i64::from(g)).expect("grade"),
                certificate_no: None,
            },
            Some(date(2010, 5)),
        )),
    }
    let seq = (no as u32) * 2;
    NewFamily {
        family_no: format!("LAW-{no}"),
        county_code: village.county(),
        registration: (Hukou::Rural, village, None),
        persons: vec![
            parent(Sex::Female, date(h.mother_year, 100), seq * 2 + 2),
            parent(Sex::Male, date(h.father_year, 200), seq * 2 + 1),
            NewPerson {
                relation: Relation::Child,
                facts: child,
            },
        ],
        import_hash: None,
    }
}

fn month_at(i: usize) -> Month {
    let mut m = Month::parse(START).expect("month");
    for _ in 0..i {
        m = m.next();
    }
    m
}

fn policy() -> (Policy, &'static str) {
    let text = guanai_rules::policy::embedded_text("linyi-2014").expect("text");
    (Policy::from_toml(text).expect("pack"), text)
}

async fn apply(a: &Archive, family: &FamilyId, at: Month, event: &Event) {
    let file = a.family_file(family).await.expect("file");
    let who = |mother: bool| {
        let relation = if mother {
            Relation::Mother
        } else {
            Relation::Father
        };
        file.persons
            .iter()
            .find(|p| p.relation == relation)
            .map(|p| p.person_id.clone())
            .expect("parent")
    };
    let child = file
        .persons
        .iter()
        .find(|p| p.relation == Relation::Child)
        .map(|p| p.person_id.clone())
        .expect("child");
    let back = |days: i64| {
        at.next()
            .first_day()
            .checked_sub(1.day())
            .and_then(|d| d.checked_sub(days.days()))
            .expect("date")
    };
    let actor = Actor::new("caseworker");
    let current = file.current(None);
    let outcome = match event {
        Event::Death { mother, days } => {
            let fact = NewFact {
                person_id: Some(who(*mother)),
                value: FactValue::Death {
                    certificate_no: None,
                },
                valid_from: Some(back(*days)),
            };
            a.record(family, file.version, fact, &actor, "迟报死亡")
                .await
        }
        Event::WithdrawDeath { mother } => {
            let person = who(*mother);
            match current
                .iter()
                .find(|f| f.kind == "death" && f.person_id.as_ref() == Some(&person))
            {
                Some(f) => {
                    a.correct(family, file.version, &f.fact_id, None, &actor, "误报，撤销")
                        .await
                }
                None => return,
            }
        }
        Event::Born { mother, year, day } => {
            let person = who(*mother);
            let Some(f) = current
                .iter()
                .find(|f| f.kind == "identity" && f.person_id.as_ref() == Some(&person))
            else {
                return;
            };
            let sex = if *mother { Sex::Female } else { Sex::Male };
            let fact = NewFact {
                person_id: Some(person),
                value: FactValue::Identity {
                    name: "测试".into(),
                    sex,
                    birth_date: date(*year, *day),
                },
                valid_from: None,
            };
            a.correct(
                family,
                file.version,
                &f.fact_id,
                Some(fact),
                &actor,
                "出生日期更正",
            )
            .await
        }
        Event::LaterChild { mother, days } => {
            let fact = NewFact {
                person_id: Some(who(*mother)),
                value: FactValue::LaterChild,
                valid_from: Some(back(*days)),
            };
            a.record(family, file.version, fact, &actor, "再生育").await
        }
        Event::ChildDied { days } => {
            if current
                .iter()
                .any(|f| f.kind == "death" && f.person_id.as_ref() == Some(&child))
            {
                return;
            }
            let fact = NewFact {
                person_id: Some(child),
                value: FactValue::Death {
                    certificate_no: None,
                },
                valid_from: Some(back(*days)),
            };
            a.record(family, file.version, fact, &actor, "子女死亡")
                .await
        }
    };
    // An event before the person's birth is refused by the archive: then it simply did not happen.
    if let Err(e) = outcome {
        assert!(
            e.to_string().contains("before") || e.to_string().contains("birth"),
            "{e}"
        );
    }
}

type Key = (String, String, String);

/// (amount, higher-level part, county part) per person, kind and month.
async fn booked(a: &Archive, family: &FamilyId) -> BTreeMap<Key, (i64, i64, i64)> {
    let mut sums: BTreeMap<Key, (i64, i64, i64)> = BTreeMap::new();
    for (_, l) in a.family_payments(family).await.expect("payments") {
        if l.kind.ends_with("_assistance") {
            let s = sums.entry((l.person_id, l.kind, l.for_month)).or_default();
            s.0 += l.amount.get();
            s.1 += l.standard.get();
            s.2 += l.county.get();
        }
    }
    sums.retain(|_, v| *v != (0, 0, 0));
    sums
}

async fn due(
    a: &Archive,
    family: &FamilyId,
    last: Month,
    policy: &Policy,
) -> BTreeMap<Key, (i64, i64, i64)> {
    let file = a.family_file(family).await.expect("file");
    let parents: Vec<String> = file
        .persons
        .iter()
        .filter(|p| p.relation.is_parent())
        .map(|p| p.person_id.to_string())
        .collect();
    let mut sums = BTreeMap::new();
    let mut month = month_at(0);
    while month <= last {
        let eval = evaluate(
            &file.engine_family(month, None).expect("facts"),
            month,
            policy,
        );
        for (i, ma) in eval.monthly() {
            sums.insert(
                (
                    parents[i].clone(),
                    ma.kind.as_str().to_owned(),
                    month.to_string(),
                ),
                (ma.amount.get(), ma.standard.get(), ma.county.get()),
            );
        }
        month = month.next();
    }
    sums
}

async fn case(
    a: &Archive,
    dir: &std::path::Path,
    no: usize,
    h: &History,
) -> Result<(), TestCaseError> {
    let (policy, text) = policy();
    let family = a
        .create_family(&new_family(no, h), &Actor::new("census"), "普查")
        .await
        .expect("family");
    let mut events = h.events.iter().peekable();
    for i in 0..MONTHS {
        let month = month_at(i);
        while let Some((_, e)) = events.next_if(|(at, _)| *at == i) {
            apply(a, &family, month, e).await;
        }
        let options = BuildOptions {
            month,
            county: None,
            policy: &policy,
            policy_text: text,
            ledger_start: Some(month_at(0)),
            progress: None,
        };
        if let BuildOutcome::Built(s) = a
            .build_run(&options, &Actor::new("builder"))
            .await
            .expect("build")
        {
            let run = s.run_id;
            a.check_run(&run, Some("held in test"), &Actor::new("builder"))
                .await
                .expect("check");
            a.approve_run(&run, &Actor::new("approver"))
                .await
                .expect("approve");
            a.export_run(
                &run,
                &dir.join(run.as_str()),
                month.first_day(),
                &Actor::new("approver"),
            )
            .await
            .expect("export");
        }
        prop_assert_eq!(
            booked(a, &family).await,
            due(a, &family, month, &policy).await,
            "after {}",
            month
        );
        let again = a
            .build_run(&options, &Actor::new("builder"))
            .await
            .expect("rerun");
        if let BuildOutcome::Built(s) = &again {
            // Leave the archive clean for the cases that follow, then fail.
            a.discard_run(&s.run_id, "law test", &Actor::new("builder"))
                .await
                .expect("discard");
            prop_assert!(false, "rerun of {} built {:?}", month, again);
        }
    }
    let r = a.reconcile().await.expect("reconcile");
    prop_assert!(r.differences.is_empty(), "{:?}", r.differences);
    Ok(())
}

#[test]
fn paid_equals_due_after_every_run_and_rerunning_pays_nothing() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut backends = vec![rt.block_on(support::sqlite())];
    backends.extend(rt.block_on(support::postgres()));
    for b in backends {
        rt.block_on(b.archive.set_payer(
            CountyCode::parse("371321").expect("county"),
            &Payer {
                name: "沂南县财政局".into(),
                account: "37001626800050123456".into(),
                bank: "中国农业银行沂南支行".into(),
            },
            &Actor::new("finance"),
        ))
        .expect("payer");
        let cases = if b.label == "sqlite" { 24 } else { 8 };
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let no = std::cell::Cell::new(0usize);
        let result = runner.run(&history(), |h| {
            no.set(no.get() + 1);
            rt.block_on(case(&b.archive, b.dir.path(), no.get(), &h))
        });
        if let Err(e) = result {
            panic!("{}: {e}", b.label);
        }
        rt.block_on(support::cleanup(b));
    }
}
