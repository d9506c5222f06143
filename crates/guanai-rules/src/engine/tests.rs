//! One test per rule boundary of the spec, named after the rule.

use super::*;
use crate::area::CountyCode;
use crate::calendar::parse_date;
use crate::facts::{Child, Disability, DisabilityGrade, Family, Hukou, Parent, Sex};

fn d(s: &str) -> Date {
    parse_date(s).expect("test date")
}

fn m(s: &str) -> Month {
    Month::parse(s).expect("test month")
}

fn policy() -> Policy {
    Policy::embedded("linyi-2014").expect("embedded pack")
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

fn child(birth: &str) -> Child {
    Child {
        birth_date: d(birth),
        death_date: None,
        disabilities: vec![],
    }
}

fn dead_child(birth: &str, on: &str) -> Child {
    Child {
        death_date: Some(d(on)),
        ..child(birth)
    }
}

fn disabled_child(birth: &str, grade: i64, assessed: &str) -> Child {
    Child {
        disabilities: vec![Disability {
            grade: DisabilityGrade::new(grade).expect("grade"),
            assessed: d(assessed),
        }],
        ..child(birth)
    }
}

fn family(hukou: Hukou, parents: Vec<Parent>, child: Child) -> Family {
    Family::new(
        CountyCode::parse("371321").expect("county"),
        hukou,
        parents,
        child,
    )
    .expect("consistent family")
}

fn bereaved(parents: Vec<Parent>) -> Family {
    family(
        Hukou::Rural,
        parents,
        dead_child("1984-06-01", "2009-08-17"),
    )
}

fn paid(f: &Family, month: &str) -> Vec<(usize, i64, i64, i64)> {
    evaluate(f, m(month), &policy())
        .monthly()
        .map(|(i, a)| (i, a.amount.get(), a.standard.get(), a.county.get()))
        .collect()
}

fn grants(f: &Family, month: &str) -> Vec<(GrantKind, i64)> {
    evaluate(f, m(month), &policy())
        .grants()
        .map(|g| (g.kind, g.amount.get()))
        .collect()
}

fn services(f: &Family, month: &str, parent: usize) -> ServiceSet {
    evaluate(f, m(month), &policy()).parent_services[parent]
}

#[test]
fn rural_bereaved_in_2014_12_is_500_split_170_standard_330_county() {
    let f = bereaved(vec![mother("1960-04-12"), father("1958-01-30")]);
    assert_eq!(
        paid(&f, "2014-12"),
        vec![(0, 50000, 17000, 33000), (1, 50000, 17000, 33000)]
    );
}

#[test]
fn urban_disabled_is_300_split_270_standard_30_county() {
    let f = family(
        Hukou::Urban,
        vec![mother("1960-04-12")],
        disabled_child("1985-01-01", 2, "2005-03-01"),
    );
    assert_eq!(paid(&f, "2015-06"), vec![(0, 30000, 27000, 3000)]);
}

#[test]
fn shandong_standard_overtakes_linyi_disabled_rate_from_2017_01() {
    let f = family(
        Hukou::Rural,
        vec![mother("1960-04-12")],
        disabled_child("1985-01-01", 1, "2005-03-01"),
    );
    assert_eq!(paid(&f, "2016-12"), vec![(0, 30000, 15000, 15000)]);
    assert_eq!(paid(&f, "2017-01"), vec![(0, 40000, 40000, 0)]);
    assert_eq!(paid(&f, "2017-03"), vec![(0, 40000, 40000, 0)]);
}

#[test]
fn national_standard_overtakes_both_linyi_rates_from_2022_07() {
    let b = bereaved(vec![mother("1960-04-12")]);
    assert_eq!(paid(&b, "2022-06"), vec![(0, 50000, 50000, 0)]);
    assert_eq!(paid(&b, "2022-07"), vec![(0, 59000, 59000, 0)]);
    let dis = family(
        Hukou::Urban,
        vec![mother("1960-04-12")],
        disabled_child("1985-01-01", 3, "2005-03-01"),
    );
    assert_eq!(paid(&dis, "2022-07"), vec![(0, 46000, 46000, 0)]);
}

#[test]
fn before_linyi_start_the_amount_is_the_higher_level_standard() {
    let f = bereaved(vec![mother("1960-04-12")]);
    assert_eq!(paid(&f, "2014-09"), vec![(0, 17000, 17000, 0)]);
    assert_eq!(paid(&f, "2013-12"), vec![(0, 13500, 13500, 0)]);
    assert_eq!(paid(&f, "2011-12"), vec![(0, 10000, 10000, 0)]);
    assert_eq!(paid(&f, "2007-12"), vec![]);
}

#[test]
fn mother_reaching_49_in_november_qualifies_from_december() {
    let f = bereaved(vec![mother("1965-11-30"), father("1960-01-01")]);
    assert_eq!(paid(&f, "2014-11"), vec![]);
    assert_eq!(
        paid(&f, "2014-12"),
        vec![(0, 50000, 17000, 33000), (1, 50000, 17000, 33000)]
    );
}

#[test]
fn mother_born_on_29_february_reaches_49_on_28_february() {
    let f = family(
        Hukou::Rural,
        vec![mother("1960-02-29")],
        dead_child("1984-06-01", "2005-08-17"),
    );
    assert_eq!(paid(&f, "2009-02"), vec![]);
    assert_eq!(paid(&f, "2009-03"), vec![(0, 10000, 10000, 0)]);
}

#[test]
fn father_must_reach_49_himself_when_no_mother_is_listed() {
    let f = bereaved(vec![father("1966-05-10")]);
    assert_eq!(paid(&f, "2015-05"), vec![]);
    assert_eq!(paid(&f, "2015-06"), vec![(0, 50000, 17000, 33000)]);
}

#[test]
fn father_must_reach_49_himself_when_the_mother_died_before_her_49th_birthday() {
    let f = bereaved(vec![
        died(mother("1970-01-01"), "2015-03-10"),
        father("1966-05-10"),
    ]);
    // Mother counted alive in 2015-03 and under 49: nobody paid.
    assert_eq!(paid(&f, "2015-03"), vec![]);
    // From 2015-04 the father's own age decides: 49 on 2015-05-10, so from 2015-06.
    assert_eq!(paid(&f, "2015-05"), vec![]);
    assert_eq!(paid(&f, "2015-06"), vec![(1, 50000, 17000, 33000)]);
}

#[test]
fn a_living_mother_under_49_keeps_an_older_father_waiting() {
    let f = bereaved(vec![mother("1975-01-01"), father("1950-01-01")]);
    assert_eq!(paid(&f, "2020-01"), vec![]);
    assert_eq!(
        paid(&f, "2024-02"),
        vec![(0, 59000, 59000, 0), (1, 59000, 59000, 0)]
    );
}

#[test]
fn mother_who_died_after_49_still_qualifies_the_father() {
    let f = bereaved(vec![
        died(mother("1955-01-01"), "2010-01-01"),
        father("1970-01-01"),
    ]);
    assert_eq!(paid(&f, "2015-01"), vec![(1, 50000, 17000, 33000)]);
}

#[test]
fn parent_who_dies_in_march_is_paid_for_march_not_april() {
    let f = bereaved(vec![
        died(mother("1950-01-01"), "2016-03-31"),
        father("1950-01-01"),
    ]);
    assert_eq!(
        paid(&f, "2016-03"),
        vec![(0, 50000, 17000, 33000), (1, 50000, 17000, 33000)]
    );
    assert_eq!(paid(&f, "2016-04"), vec![(1, 50000, 17000, 33000)]);
}

#[test]
fn parents_born_before_1933_are_outside_the_scheme() {
    let f = bereaved(vec![mother("1932-12-31"), father("1933-01-01")]);
    assert_eq!(paid(&f, "2015-01"), vec![(1, 50000, 17000, 33000)]);
}

#[test]
fn a_later_child_by_one_parent_stops_only_that_parent() {
    let mut dad = father("1955-01-01");
    dad.later_child_date = Some(d("2012-07-15"));
    let f = bereaved(vec![mother("1955-01-01"), dad]);
    assert_eq!(
        paid(&f, "2012-07"),
        vec![(0, 13500, 13500, 0), (1, 13500, 13500, 0)]
    );
    assert_eq!(paid(&f, "2012-08"), vec![(0, 13500, 13500, 0)]);
}

#[test]
fn child_dying_on_1_december_changes_the_family_from_january() {
    let f = family(
        Hukou::Rural,
        vec![mother("1950-01-01")],
        dead_child("1980-01-01", "2014-12-01"),
    );
    assert_eq!(
        evaluate(&f, m("2014-12"), &policy()).category,
        Category::None
    );
    assert_eq!(
        evaluate(&f, m("2015-01"), &policy()).category,
        Category::Bereaved
    );
}

#[test]
fn grade_4_is_not_a_disabled_family() {
    let f = family(
        Hukou::Rural,
        vec![mother("1950-01-01")],
        disabled_child("1980-01-01", 4, "2000-01-01"),
    );
    let e = evaluate(&f, m("2015-01"), &policy());
    assert_eq!(e.category, Category::None);
    assert!(e.grants().next().is_none());
    assert!(e.parent_services[0].is_empty());
}

#[test]
fn orphan_until_the_month_after_the_18th_birthday() {
    let f = family(
        Hukou::Urban,
        vec![
            died(mother("1975-01-01"), "2010-01-01"),
            died(father("1973-01-01"), "2012-05-05"),
        ],
        child("2000-06-15"),
    );
    assert_eq!(
        evaluate(&f, m("2012-05"), &policy()).category,
        Category::None
    );
    assert_eq!(
        evaluate(&f, m("2012-06"), &policy()).category,
        Category::Orphan
    );
    assert_eq!(
        evaluate(&f, m("2018-06"), &policy()).category,
        Category::Orphan
    );
    assert_eq!(
        evaluate(&f, m("2018-07"), &policy()).category,
        Category::None
    );
}

#[test]
fn orphans_are_due_the_orphan_grant_and_no_monthly_assistance() {
    let f = family(
        Hukou::Urban,
        vec![died(mother("1975-01-01"), "2010-01-01")],
        child("2005-06-15"),
    );
    let e = evaluate(&f, m("2015-01"), &policy());
    assert_eq!(e.category, Category::Orphan);
    assert_eq!(e.monthly().count(), 0);
    assert_eq!(
        grants(&f, "2015-01"),
        vec![(GrantKind::OrphanGrant, 500000)]
    );
}

#[test]
fn grants_met_before_the_start_are_due_from_the_start() {
    let f = bereaved(vec![mother("1960-04-12")]);
    assert_eq!(grants(&f, "2014-09"), vec![]);
    let e = evaluate(&f, m("2014-10"), &policy());
    let g: Vec<_> = e.grants().collect();
    assert_eq!(g.len(), 1);
    assert_eq!(
        (g[0].kind, g[0].amount, g[0].due_from),
        (GrantKind::BereavedGrant, Fen(1000000), m("2014-10"))
    );
}

#[test]
fn a_condition_lost_before_the_start_is_not_due_from_the_start() {
    // Every parent had a later child before 2014-10: no bereaved grant.
    let mut mum = mother("1960-01-01");
    mum.later_child_date = Some(d("2012-01-01"));
    let f = bereaved(vec![mum]);
    assert_eq!(grants(&f, "2020-01"), vec![]);
}

#[test]
fn a_grant_once_due_stays_listed() {
    // Due from 2014-10, then the only parent dies: still listed later.
    let f = bereaved(vec![died(mother("1960-01-01"), "2015-02-10")]);
    assert_eq!(
        grants(&f, "2016-01"),
        vec![(GrantKind::BereavedGrant, 1000000)]
    );
}

#[test]
fn disabled_family_whose_child_dies_gets_both_grants_and_the_first_grade() {
    let mut c = disabled_child("1985-01-01", 2, "2013-01-01");
    c.death_date = Some(d("2016-05-05"));
    let f = family(Hukou::Rural, vec![mother("1960-01-01")], c);
    assert_eq!(
        grants(&f, "2016-05"),
        vec![(GrantKind::DisabledGrant, 400000)]
    );
    assert_eq!(
        grants(&f, "2016-06"),
        vec![
            (GrantKind::BereavedGrant, 1000000),
            (GrantKind::DisabledGrant, 400000)
        ]
    );
}

#[test]
fn bereaved_grant_needs_one_parent_alive_and_without_later_child() {
    // Mother alive but with a later child; father without a later child but dead: nobody.
    let mut mum = mother("1960-01-01");
    mum.later_child_date = Some(d("2011-01-01"));
    let f = bereaved(vec![mum, died(father("1958-01-01"), "2013-01-01")]);
    assert_eq!(grants(&f, "2015-01"), vec![]);
}

#[test]
fn services_follow_the_category_and_the_parents_own_age() {
    let mut mum = mother("1950-01-01");
    mum.dibao = true;
    mum.wubao = true;
    let f = bereaved(vec![mum, father("1970-01-01")]);
    let s = services(&f, "2015-01", 0);
    for k in [
        ServiceKind::MedicalRelief,
        ServiceKind::InsuranceContributionPaid,
        ServiceKind::DibaoUplift,
        ServiceKind::NursingHomePriority,
        ServiceKind::NursingHomeFeeHalf,
        ServiceKind::WubaoInclusion,
        ServiceKind::HousingPriority,
        ServiceKind::HolidayVisits,
        ServiceKind::RegularVisits,
        ServiceKind::DedicatedVisitor,
    ] {
        assert!(s.contains(k), "{k:?}");
    }
    let dad = services(&f, "2015-01", 1);
    assert!(
        !dad.contains(ServiceKind::MedicalRelief),
        "father is 45: medical relief goes by his own age"
    );
    assert!(!dad.contains(ServiceKind::DedicatedVisitor));
}

#[test]
fn funeral_reimbursement_for_a_deceased_bereaved_parent() {
    let f = bereaved(vec![died(mother("1950-01-01"), "2016-03-10")]);
    assert!(!services(&f, "2016-03", 0).contains(ServiceKind::FuneralReimbursement));
    assert_eq!(
        services(&f, "2016-04", 0).iter().collect::<Vec<_>>(),
        vec![ServiceKind::FuneralReimbursement]
    );
    // A parent who died before the child is not a bereaved parent.
    let g = family(
        Hukou::Rural,
        vec![died(mother("1950-01-01"), "2005-01-01")],
        dead_child("1980-01-01", "2009-01-01"),
    );
    assert!(services(&g, "2015-01", 0).is_empty());
}

#[test]
fn disabled_families_get_no_bereaved_only_services() {
    let mut mum = mother("1950-01-01");
    mum.dibao = true;
    let f = family(
        Hukou::Rural,
        vec![mum],
        disabled_child("1985-01-01", 1, "2005-01-01"),
    );
    let s = services(&f, "2015-01", 0);
    assert!(s.contains(ServiceKind::InsuranceContributionPaid));
    assert!(!s.contains(ServiceKind::DibaoUplift));
    assert!(!s.contains(ServiceKind::NursingHomePriority));
    assert!(!s.contains(ServiceKind::DedicatedVisitor));
}

#[test]
fn the_trace_names_every_rule_applied() {
    let f = bereaved(vec![mother("1960-04-12"), father("1958-01-30")]);
    let mut trace: Vec<crate::explain::Reason> = Vec::new();
    let traced = evaluate_traced(&f, m("2014-12"), &policy(), &mut trace);
    assert_eq!(
        traced,
        evaluate(&f, m("2014-12"), &policy()),
        "tracing does not change the result"
    );
    assert!(matches!(
        trace[0],
        crate::explain::Reason::Category(Category::Bereaved, _)
    ));
    assert_eq!(
        trace
            .iter()
            .filter(|r| matches!(r, crate::explain::Reason::Paid { .. }))
            .count(),
        2
    );
    assert!(
        trace
            .iter()
            .any(|r| matches!(r, crate::explain::Reason::GrantDue(_)))
    );
    let labels = crate::explain::Labels {
        parents: ["M", "F"],
        child: "C",
    };
    let zh = crate::explain::render_all(&trace, crate::explain::Lang::Zh, &f, &labels, &policy());
    assert!(
        zh.iter()
            .any(|s| s.contains("二(二)") && s.contains("500.00") && s.contains("330.00")),
        "{zh:?}"
    );
    let en = crate::explain::render_all(&trace, crate::explain::Lang::En, &f, &labels, &policy());
    assert!(
        en.iter().any(|s| s.contains("county finance 330.00 yuan")),
        "{en:?}"
    );
}

fn reassessed_child(birth: &str, assessments: &[(i64, &str)]) -> Child {
    Child {
        disabilities: assessments
            .iter()
            .map(|(g, on)| Disability {
                grade: DisabilityGrade::new(*g).expect("grade"),
                assessed: d(on),
            })
            .collect(),
        ..child(birth)
    }
}

#[test]
fn a_reassessment_changes_the_category_from_the_month_after() {
    let c = reassessed_child("1985-01-01", &[(2, "2010-01-01"), (4, "2016-03-15")]);
    let f = family(Hukou::Rural, vec![mother("1955-01-01")], c);
    assert_eq!(
        evaluate(&f, m("2016-03"), &policy()).category,
        Category::Disabled
    );
    assert_eq!(
        evaluate(&f, m("2016-04"), &policy()).category,
        Category::None
    );
}

#[test]
fn the_disabled_grant_keeps_the_grade_in_force_when_it_first_became_due() {
    // Grade 3 from 2012 (due from 2014-10 at 3,000 yuan); reassessed grade 1 in 2016: no new amount.
    let c = reassessed_child("1985-01-01", &[(3, "2012-05-01"), (1, "2016-03-15")]);
    let f = family(Hukou::Rural, vec![mother("1955-01-01")], c);
    assert_eq!(
        grants(&f, "2015-01"),
        vec![(GrantKind::DisabledGrant, 300000)]
    );
    assert_eq!(
        grants(&f, "2017-01"),
        vec![(GrantKind::DisabledGrant, 300000)]
    );
    // First assessed grade 4 (not due), then grade 2 from 2016-04: due at 4,000 yuan from then.
    let c = reassessed_child("1985-01-01", &[(4, "2012-05-01"), (2, "2016-03-15")]);
    let f = family(Hukou::Rural, vec![mother("1955-01-01")], c);
    assert_eq!(grants(&f, "2016-03"), vec![]);
    let e = evaluate(&f, m("2016-04"), &policy());
    let g: Vec<_> = e
        .grants()
        .map(|g| (g.kind, g.amount.get(), g.due_from))
        .collect();
    assert_eq!(g, vec![(GrantKind::DisabledGrant, 400000, m("2016-04"))]);
}

#[test]
fn assessments_are_kept_in_date_order_whatever_the_input_order() {
    let c = reassessed_child("1985-01-01", &[(4, "2016-03-15"), (2, "2010-01-01")]);
    let f = family(Hukou::Rural, vec![mother("1955-01-01")], c);
    assert_eq!(
        evaluate(&f, m("2012-01"), &policy()).category,
        Category::Disabled
    );
    assert_eq!(
        evaluate(&f, m("2017-01"), &policy()).category,
        Category::None
    );
}
