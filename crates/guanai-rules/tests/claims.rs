//! Claims for medical relief (二(三)) and funeral fee reimbursement (二(五)): one test per boundary.

use guanai_rules::explain::Lang;
use guanai_rules::policy::embedded_text;
use guanai_rules::{
    Category, ClaimDecision, ClaimKind, ClaimReason, ClaimRefusal, CountyCode, Fen, FuneralClaim,
    HospitalLevel, MedicalClaim, Month, Policy, decide_funeral, decide_medical, parse_date,
};
use guanai_rules::{Child, Disability, DisabilityGrade, Family, Hukou, Parent, Sex};
use jiff::civil::Date;

/// 沂南县 has set two rows; 罗庄区 none.
const YINAN: &str = "371321";
const LUOZHUANG: &str = "371311";

fn d(s: &str) -> Date {
    parse_date(s).expect("test date")
}

fn m(s: &str) -> Month {
    Month::parse(s).expect("test month")
}

fn pack(extra: &str) -> Policy {
    let text = embedded_text("linyi-2014").expect("embedded pack");
    Policy::from_toml(&format!("{text}\n{extra}")).expect("pack")
}

/// 沂南县: 50% up to 10000 yuan a year from 2014-10, then 1/3 up to 5000 yuan from 2020-01.
fn policy() -> Policy {
    pack(
        r#"
[[medical_relief]]
county = "371321"
from = "2014-10"
ratio = "50%"
annual_cap_fen = 1000000

[[medical_relief]]
county = "371321"
from = "2020-01"
ratio = "1/3"
annual_cap_fen = 500000
"#,
    )
}

fn parent(sex: Sex, birth: &str) -> Parent {
    Parent {
        sex,
        birth_date: d(birth),
        death_date: None,
        later_child_date: None,
        dibao: false,
        wubao: false,
        chronically_ill: false,
    }
}

fn mother(birth: &str) -> Parent {
    parent(Sex::Female, birth)
}

fn father(birth: &str) -> Parent {
    parent(Sex::Male, birth)
}

fn died(mut p: Parent, on: &str) -> Parent {
    p.death_date = Some(d(on));
    p
}

fn later_child(mut p: Parent, on: &str) -> Parent {
    p.later_child_date = Some(d(on));
    p
}

fn family_in(county: &str, parents: Vec<Parent>, child: Child) -> Family {
    Family::new(
        CountyCode::parse(county).expect("county"),
        Hukou::Rural,
        parents,
        child,
    )
    .expect("consistent family")
}

fn dead_child(on: &str) -> Child {
    Child {
        birth_date: d("1988-04-01"),
        death_date: Some(d(on)),
        disabilities: vec![],
    }
}

fn disabled_child(birth: &str) -> Child {
    Child {
        birth_date: d(birth),
        death_date: None,
        disabilities: vec![Disability {
            grade: DisabilityGrade::new(2).expect("grade"),
            assessed: d("2012-05-05"),
        }],
    }
}

/// A bereaved family in 沂南县 (the child died in 2010); parent 0 is the mother.
fn bereaved(parents: Vec<Parent>) -> Family {
    family_in(YINAN, parents, dead_child("2010-08-08"))
}

fn claim(treated_on: &str, level: HospitalLevel, total: i64, insurance: i64) -> MedicalClaim {
    MedicalClaim {
        treated_on: d(treated_on),
        hospital_level: level,
        total: Fen(total),
        insurance_paid: Fen(insurance),
        reimbursed_this_year: Fen::ZERO,
    }
}

fn county_claim(treated_on: &str, total: i64, insurance: i64) -> MedicalClaim {
    claim(treated_on, HospitalLevel::County, total, insurance)
}

fn granted(result: Result<ClaimDecision, ClaimRefusal>) -> ClaimDecision {
    match result {
        Ok(decision) => decision,
        Err(refusal) => panic!("expected a grant, got {refusal:?}: {refusal}"),
    }
}

fn refused(result: Result<ClaimDecision, ClaimRefusal>) -> ClaimRefusal {
    match result {
        Ok(decision) => panic!("expected a refusal, got {decision:?}"),
        Err(refusal) => refusal,
    }
}

// --- 二(三) medical relief ---

#[test]
fn relief_is_refused_in_the_month_of_the_49th_birthday_and_granted_from_the_next() {
    let f = bereaved(vec![mother("1966-06-15")]);
    let p = policy();
    let in_birthday_month = refused(decide_medical(
        &f,
        0,
        &county_claim("2015-06-20", 200000, 100000),
        &p,
    ));
    match in_birthday_month {
        ClaimRefusal::NotEntitled { kind, view } => {
            assert_eq!(kind, ClaimKind::MedicalRelief);
            assert_eq!(view.month, m("2015-06"));
            assert_eq!(view.category, Category::Bereaved);
            assert_eq!(view.age, 48);
            assert_eq!(view.assistance_age, 49);
        }
        other => panic!("expected NotEntitled, got {other:?}"),
    }
    let next_month = granted(decide_medical(
        &f,
        0,
        &county_claim("2015-07-01", 200000, 100000),
        &p,
    ));
    assert_eq!(next_month.amount, Fen(50000));
}

#[test]
fn the_father_needs_his_own_49th_birthday() {
    let f = bereaved(vec![mother("1960-01-01"), father("1970-03-03")]);
    let p = policy();
    let c = county_claim("2016-05-05", 100000, 0);
    assert_eq!(granted(decide_medical(&f, 0, &c, &p)).amount, Fen(50000));
    assert!(matches!(
        refused(decide_medical(&f, 1, &c, &p)),
        ClaimRefusal::NotEntitled { view, .. } if view.age == 46 && view.sex == Sex::Male
    ));
}

#[test]
fn a_parent_with_a_later_child_gets_no_relief() {
    let f = bereaved(vec![later_child(mother("1960-01-01"), "2012-02-02")]);
    let refusal = refused(decide_medical(
        &f,
        0,
        &county_claim("2016-05-05", 100000, 0),
        &policy(),
    ));
    assert!(matches!(
        refusal,
        ClaimRefusal::NotEntitled { view, .. } if view.later_child == Some(d("2012-02-02"))
    ));
    assert!(
        refusal
            .render(Lang::Zh)
            .contains("已于2012-02-02再生育或收养子女"),
        "{}",
        refusal.render(Lang::Zh)
    );
}

#[test]
fn a_disabled_child_family_gets_relief_too() {
    let f = family_in(
        YINAN,
        vec![mother("1960-01-01")],
        disabled_child("1990-01-01"),
    );
    let decision = granted(decide_medical(
        &f,
        0,
        &county_claim("2016-05-05", 100000, 40000),
        &policy(),
    ));
    assert_eq!(decision.amount, Fen(30000));
}

#[test]
fn treatment_after_the_parent_s_death_is_refused() {
    let f = bereaved(vec![died(mother("1960-01-01"), "2016-03-10")]);
    let p = policy();
    for treated in ["2016-03-11", "2016-06-01"] {
        assert_eq!(
            refused(decide_medical(&f, 0, &county_claim(treated, 100000, 0), &p)),
            ClaimRefusal::TreatedAfterDeath {
                treated_on: d(treated),
                died: d("2016-03-10"),
            }
        );
    }
    // Treated on the day of the death, or before: the death only counts from April.
    for treated in ["2016-03-10", "2016-02-01"] {
        assert_eq!(
            granted(decide_medical(&f, 0, &county_claim(treated, 100000, 0), &p)).amount,
            Fen(50000)
        );
    }
}

#[test]
fn only_public_city_county_and_township_hospitals_qualify() {
    let f = bereaved(vec![mother("1960-01-01")]);
    let p = policy();
    for level in [
        HospitalLevel::City,
        HospitalLevel::County,
        HospitalLevel::Township,
    ] {
        let c = claim("2016-05-05", level, 100000, 0);
        assert_eq!(granted(decide_medical(&f, 0, &c, &p)).amount, Fen(50000));
    }
    for level in [HospitalLevel::Provincial, HospitalLevel::Private] {
        let c = claim("2016-05-05", level, 100000, 0);
        let refusal = refused(decide_medical(&f, 0, &c, &p));
        assert_eq!(
            refusal,
            ClaimRefusal::HospitalNotQualifying { hospital: level }
        );
        assert_eq!(refusal.clause(), "二(三)");
        assert!(
            refusal
                .to_string()
                .starts_with("[二(三)] no medical relief: ")
        );
    }
}

#[test]
fn the_relief_is_rounded_down_to_the_fen() {
    let f = bereaved(vec![mother("1960-01-01")]);
    let p = policy();
    // 2020: 1/3 of the burden.
    let amount = |total: i64, insurance: i64| {
        granted(decide_medical(
            &f,
            0,
            &county_claim("2020-03-03", total, insurance),
            &p,
        ))
        .amount
    };
    assert_eq!(amount(43333, 10000), Fen(11111)); // 333.33 / 3 = 111.11
    assert_eq!(amount(43334, 10000), Fen(11111)); // 333.34 / 3 = 111.113…
    assert_eq!(amount(43335, 10000), Fen(11111)); // 333.35 / 3 = 111.116…, not 111.12
    assert_eq!(amount(43336, 10000), Fen(11112));
    assert_eq!(amount(2, 0), Fen(0));
}

#[test]
fn no_burden_after_insurance_is_refused() {
    let f = bereaved(vec![mother("1960-01-01")]);
    let p = policy();
    assert_eq!(
        refused(decide_medical(
            &f,
            0,
            &county_claim("2016-05-05", 100000, 100000),
            &p
        )),
        ClaimRefusal::NoPersonalBurden {
            total: Fen(100000),
            insurance_paid: Fen(100000)
        }
    );
    assert_eq!(
        refused(decide_medical(&f, 0, &county_claim("2016-05-05", 0, 0), &p)),
        ClaimRefusal::NoPersonalBurden {
            total: Fen(0),
            insurance_paid: Fen(0)
        }
    );
    assert_eq!(
        refused(decide_medical(
            &f,
            0,
            &county_claim("2016-05-05", 100000, 100001),
            &p
        )),
        ClaimRefusal::InsuranceExceedsTotal {
            total: Fen(100000),
            insurance_paid: Fen(100001)
        }
    );
    assert_eq!(
        refused(decide_medical(
            &f,
            0,
            &county_claim("2016-05-05", -5, 0),
            &p
        )),
        ClaimRefusal::NegativeAmount {
            field: "total",
            amount: Fen(-5)
        }
    );
    let mut c = county_claim("2016-05-05", 100000, 0);
    c.reimbursed_this_year = Fen(-1);
    assert!(matches!(
        refused(decide_medical(&f, 0, &c, &p)),
        ClaimRefusal::NegativeAmount {
            field: "reimbursed_this_year",
            ..
        }
    ));
}

#[test]
fn a_partly_used_cap_limits_the_relief() {
    let f = bereaved(vec![mother("1960-01-01")]);
    let mut c = county_claim("2016-05-05", 200000, 100000);
    c.reimbursed_this_year = Fen(990000);
    let decision = granted(decide_medical(&f, 0, &c, &policy()));
    assert_eq!(decision.amount, Fen(10000));
    assert!(decision.reasons.contains(&ClaimReason::AnnualCap {
        year: 2016,
        annual_cap: Fen(1000000),
        reimbursed_this_year: Fen(990000),
        relieved: Fen(50000),
        amount: Fen(10000),
    }));
    let zh = decision.render(Lang::Zh).join("\n");
    assert!(
        zh.contains("2016年度已救助9900.00元，年度上限10000.00元，尚余100.00元；本次救助100.00元（受年度上限限制）"),
        "{zh}"
    );
    // Exactly the remainder: not limited.
    c.reimbursed_this_year = Fen(950000);
    let exact = granted(decide_medical(&f, 0, &c, &policy()));
    assert_eq!(exact.amount, Fen(50000));
    assert!(!exact.render(Lang::En).join("\n").contains("limited"));
}

#[test]
fn a_fully_used_cap_refuses_the_claim() {
    let f = bereaved(vec![mother("1960-01-01")]);
    let p = policy();
    for already in [1000000, 1000001] {
        let mut c = county_claim("2016-05-05", 200000, 100000);
        c.reimbursed_this_year = Fen(already);
        assert_eq!(
            refused(decide_medical(&f, 0, &c, &p)),
            ClaimRefusal::AnnualCapReached {
                year: 2016,
                annual_cap: Fen(1000000),
                reimbursed_this_year: Fen(already),
            }
        );
    }
    // The cap of the row in force in 2020 is lower: 5000 yuan already relieved reaches it.
    let mut c = county_claim("2020-05-05", 200000, 100000);
    c.reimbursed_this_year = Fen(500000);
    assert!(matches!(
        refused(decide_medical(&f, 0, &c, &p)),
        ClaimRefusal::AnnualCapReached { annual_cap, .. } if annual_cap == Fen(500000)
    ));
}

#[test]
fn a_county_without_parameters_gives_no_relief() {
    let f = family_in(
        LUOZHUANG,
        vec![mother("1960-01-01")],
        dead_child("2010-08-08"),
    );
    let refusal = refused(decide_medical(
        &f,
        0,
        &county_claim("2016-05-05", 100000, 0),
        &policy(),
    ));
    assert_eq!(
        refusal,
        ClaimRefusal::NoCountyParameters {
            county: CountyCode::parse(LUOZHUANG).expect("county"),
            month: m("2016-05"),
        }
    );
    assert_eq!(
        refusal.render(Lang::Zh),
        "[二(三)] 不予医疗救助：罗庄区（371311）未设定2016-05适用的医疗救助比例和年度上限"
    );
    // The shipped pack sets no county's parameters.
    let shipped = Policy::embedded("linyi-2014").expect("pack");
    let yinan = bereaved(vec![mother("1960-01-01")]);
    assert!(matches!(
        refused(decide_medical(
            &yinan,
            0,
            &county_claim("2016-05-05", 100000, 0),
            &shipped
        )),
        ClaimRefusal::NoCountyParameters { .. }
    ));
}

#[test]
fn the_county_row_in_force_in_the_treatment_month_applies() {
    let f = bereaved(vec![mother("1960-01-01")]);
    let p = policy();
    let amount = |treated: &str| {
        granted(decide_medical(
            &f,
            0,
            &county_claim(treated, 130000, 100000),
            &p,
        ))
        .amount
    };
    assert_eq!(amount("2019-12-31"), Fen(15000)); // 50%
    assert_eq!(amount("2020-01-01"), Fen(10000)); // 1/3
    // Before the county's first row: nothing set.
    let early = pack(
        r#"
[[medical_relief]]
county = "371321"
from = "2016-01"
ratio = "50%"
annual_cap_fen = 1000000
"#,
    );
    assert_eq!(
        refused(decide_medical(
            &f,
            0,
            &county_claim("2015-12-31", 130000, 100000),
            &early
        )),
        ClaimRefusal::NoCountyParameters {
            county: CountyCode::parse(YINAN).expect("county"),
            month: m("2015-12"),
        }
    );
}

#[test]
fn a_granted_relief_is_explained_in_both_languages() {
    let f = bereaved(vec![mother("1960-01-01")]);
    let decision = granted(decide_medical(
        &f,
        0,
        &county_claim("2016-05-05", 200000, 76544),
        &policy(),
    ));
    assert_eq!(decision.kind, ClaimKind::MedicalRelief);
    assert_eq!(decision.amount, Fen(61728));
    assert_eq!(
        decision.render(Lang::Zh),
        vec![
            "[二(三)] 母亲于2016-05享有医疗救助（引擎判定：失独家庭，本人按月计56周岁）",
            "[二(三)] 县区级公立医院医保范围内医药费用2000.00元，医保报销765.44元，个人负担1234.56元",
            "[二(三)] 医疗救助：个人负担1234.56元 × 50% = 617.28元（不足一分舍去；沂南县（371321）比例，2014-10起）",
            "[二(三)] 2016年度已救助0.00元，年度上限10000.00元，尚余10000.00元；本次救助617.28元",
            "[二(三)] 核定医疗救助617.28元，由县级财政承担",
        ]
    );
    let en = decision.render(Lang::En);
    assert_eq!(en.len(), 5);
    assert_eq!(
        en[2],
        "[二(三)] medical relief: personal burden 1234.56 yuan × 50% = 617.28 yuan (rounded down to the fen; ratio of 沂南县 (371321) from 2014-10)"
    );
    assert_eq!(
        en[4],
        "[二(三)] medical relief granted: 617.28 yuan, paid by county finance"
    );
}

#[test]
fn a_parent_index_out_of_range_is_refused() {
    let f = bereaved(vec![mother("1960-01-01")]);
    let p = policy();
    assert_eq!(
        refused(decide_medical(
            &f,
            1,
            &county_claim("2016-05-05", 100000, 0),
            &p
        )),
        ClaimRefusal::NoSuchParent {
            kind: ClaimKind::MedicalRelief,
            index: 1,
            parents: 1,
        }
    );
    let funeral = refused(decide_funeral(&f, 7, &full_funeral(300000), &p));
    assert_eq!(funeral.clause(), "二(五)");
    assert!(matches!(
        funeral,
        ClaimRefusal::NoSuchParent { index: 7, .. }
    ));
}

// --- 二(五) funeral reimbursement ---

fn full_funeral(invoice: i64) -> FuneralClaim {
    FuneralClaim {
        invoice: Fen(invoice),
        cremated: true,
        city_funeral_home: true,
        already_reimbursed: false,
    }
}

#[test]
fn a_bereaved_parent_s_funeral_fees_are_reimbursed_in_full() {
    let f = bereaved(vec![
        died(mother("1960-01-01"), "2018-03-02"),
        father("1958-01-01"),
    ]);
    let decision = granted(decide_funeral(&f, 0, &full_funeral(345678), &policy()));
    assert_eq!(decision.kind, ClaimKind::FuneralReimbursement);
    assert_eq!(decision.amount, Fen(345678));
    assert_eq!(
        decision.render(Lang::Zh),
        vec![
            "[二(五)] 母亲于2018-04享有基本殡葬服务费报销（引擎判定：失独家庭，本人按月计58周岁，已于2018-03-02去世）",
            "[二(五)] 于2018-03-02去世，在本市殡仪馆火化，基本殡葬服务收费发票3456.78元",
            "[二(五)] 未设报销上限，按发票全额报销3456.78元",
            "[二(五)] 核定基本殡葬服务费报销3456.78元，由县级财政承担",
        ]
    );
    assert_eq!(
        decision.render(Lang::En)[3],
        "[二(五)] funeral fee reimbursement granted: 3456.78 yuan, paid by county finance"
    );
}

#[test]
fn the_funeral_cap_limits_the_reimbursement() {
    let p = pack("");
    let capped = {
        let text = embedded_text("linyi-2014").expect("pack");
        Policy::from_toml(&text.replacen(
            "# funeral_reimbursement_cap_fen = 300000",
            "funeral_reimbursement_cap_fen = 200000",
            1,
        ))
        .expect("capped pack")
    };
    assert_eq!(p.services.funeral_reimbursement_cap, None);
    let f = bereaved(vec![died(mother("1960-01-01"), "2018-03-02")]);
    let over = granted(decide_funeral(&f, 0, &full_funeral(350000), &capped));
    assert_eq!(over.amount, Fen(200000));
    assert_eq!(
        over.render(Lang::Zh)[2],
        "[二(五)] 发票3500.00元超过报销上限2000.00元，报销2000.00元"
    );
    let under = granted(decide_funeral(&f, 0, &full_funeral(150000), &capped));
    assert_eq!(under.amount, Fen(150000));
    let exact = granted(decide_funeral(&f, 0, &full_funeral(200000), &capped));
    assert_eq!(exact.amount, Fen(200000));
}

#[test]
fn a_disabled_child_family_gets_no_funeral_reimbursement() {
    let f = family_in(
        YINAN,
        vec![
            died(mother("1960-01-01"), "2018-03-02"),
            father("1958-01-01"),
        ],
        disabled_child("1990-01-01"),
    );
    let refusal = refused(decide_funeral(&f, 0, &full_funeral(300000), &policy()));
    assert!(matches!(
        refusal,
        ClaimRefusal::NotEntitled { kind: ClaimKind::FuneralReimbursement, view }
            if view.category == Category::Disabled && view.month == m("2018-04")
    ));
    assert!(refusal.render(Lang::En).contains("disabled-child family"));
}

#[test]
fn a_parent_who_died_before_the_child_gets_no_funeral_reimbursement() {
    let f = family_in(
        YINAN,
        vec![
            died(mother("1960-01-01"), "2009-01-01"),
            father("1958-01-01"),
        ],
        dead_child("2010-08-08"),
    );
    assert!(matches!(
        refused(decide_funeral(&f, 0, &full_funeral(300000), &policy())),
        ClaimRefusal::NotEntitled { .. }
    ));
}

#[test]
fn a_parent_with_a_later_child_gets_no_funeral_reimbursement() {
    let f = bereaved(vec![died(
        later_child(mother("1970-01-01"), "2012-06-06"),
        "2018-03-02",
    )]);
    let refusal = refused(decide_funeral(&f, 0, &full_funeral(300000), &policy()));
    assert!(matches!(
        refusal,
        ClaimRefusal::NotEntitled { view, .. } if view.later_child == Some(d("2012-06-06"))
    ));
    assert!(
        refusal
            .render(Lang::Zh)
            .starts_with("[二(五)] 不予基本殡葬服务费报销：")
    );
}

#[test]
fn cremation_at_a_city_funeral_home_once_is_required() {
    let f = bereaved(vec![died(mother("1960-01-01"), "2018-03-02")]);
    let p = policy();
    let not_cremated = FuneralClaim {
        cremated: false,
        city_funeral_home: false,
        ..full_funeral(300000)
    };
    assert_eq!(
        refused(decide_funeral(&f, 0, &not_cremated, &p)),
        ClaimRefusal::NotCremated
    );
    let elsewhere = FuneralClaim {
        city_funeral_home: false,
        ..full_funeral(300000)
    };
    assert_eq!(
        refused(decide_funeral(&f, 0, &elsewhere, &p)),
        ClaimRefusal::NotAtCityFuneralHome
    );
    let again = FuneralClaim {
        already_reimbursed: true,
        ..full_funeral(300000)
    };
    let refusal = refused(decide_funeral(&f, 0, &again, &p));
    assert_eq!(refusal, ClaimRefusal::AlreadyReimbursed);
    assert_eq!(
        refusal.to_string(),
        "[二(五)] no funeral fee reimbursement: this parent's funeral fees were reimbursed before (once per deceased parent)"
    );
}

#[test]
fn a_living_parent_or_an_empty_invoice_is_refused() {
    let f = bereaved(vec![mother("1960-01-01")]);
    let p = policy();
    assert_eq!(
        refused(decide_funeral(&f, 0, &full_funeral(300000), &p)),
        ClaimRefusal::ParentNotDead
    );
    let dead = bereaved(vec![died(mother("1960-01-01"), "2018-03-02")]);
    for invoice in [0, -1] {
        assert_eq!(
            refused(decide_funeral(&dead, 0, &full_funeral(invoice), &p)),
            ClaimRefusal::InvoiceNotPositive {
                invoice: Fen(invoice)
            }
        );
    }
}
