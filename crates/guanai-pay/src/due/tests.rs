use guanai_rules::facts::{Child, Family, Hukou, Parent, Sex};
use guanai_rules::{CountyCode, Fen, Month, Policy, parse_date};

use super::*;
use crate::kinds::{GrantKindKey, MonthlyKindKey};

fn m(t: &str) -> Month {
    Month::parse(t).expect("test value")
}

fn parent(sex: Sex, born: &str, died: Option<&str>) -> Parent {
    Parent {
        sex,
        birth_date: parse_date(born).expect("test value"),
        death_date: died.map(|d| parse_date(d).expect("test value")),
        later_child_date: None,
        dibao: false,
        wubao: false,
        chronically_ill: false,
    }
}

/// A rural bereaved couple, both over 49; the father dies on `father_died`.
fn bereaved(father_died: Option<&str>) -> Family {
    Family::new(
        CountyCode::parse("371302").expect("test value"),
        Hukou::Rural,
        vec![
            parent(Sex::Female, "1960-03-15", None),
            parent(Sex::Male, "1958-07-01", father_died),
        ],
        Child {
            birth_date: parse_date("1985-01-01").expect("test value"),
            death_date: Some(parse_date("2010-05-05").expect("test value")),
            disabilities: vec![],
        },
    )
    .expect("test value")
}

fn window(first: &str, month: &str) -> Window {
    Window {
        first: m(first),
        month: m(month),
        arrears_from: m("2000-01"),
    }
}

fn book(booked: &mut Booked, lines: &[DueLine]) {
    for l in lines {
        booked.add(&l.person, l.kind, l.for_month, l.amounts);
    }
}

const BEREAVED: LineKind = LineKind::Monthly(MonthlyKindKey::Bereaved);

#[test]
fn the_first_run_pays_the_month_and_the_grant_due_inside_the_ledger() {
    let policy = Policy::embedded("linyi-2014").expect("test value");
    let f = bereaved(None);
    let due = family_lines(
        &|_| &f,
        &["PM", "PF"],
        Some("PM"),
        &Booked::default(),
        &window("2026-12", "2026-12"),
        &policy,
    );
    // The bereaved grant was first due in 2014-10, before the ledger: settled before Guanai.
    assert_eq!(due.lines.len(), 2);
    for l in &due.lines {
        assert_eq!(l.nature, Nature::Regular);
        assert_eq!(l.kind, BEREAVED);
        // 2026: national 590 yuan overtakes Linyi's 500; the county pays nothing extra.
        assert_eq!(l.amounts.amount, Fen(59000));
        assert_eq!(l.amounts.standard, Fen(59000));
        assert_eq!(l.amounts.county, Fen(0));
    }
    let due = family_lines(
        &|_| &f,
        &["PM", "PF"],
        Some("PM"),
        &Booked::default(),
        &window("2014-10", "2014-10"),
        &policy,
    );
    let grant = due
        .lines
        .iter()
        .find(|l| l.kind == LineKind::Grant(GrantKindKey::Bereaved))
        .expect("test value");
    assert_eq!(grant.nature, Nature::Grant);
    assert_eq!(grant.person, "PM");
    assert_eq!(grant.amounts.county, Fen(1000000));
}

#[test]
fn rerunning_after_booking_pays_nothing() {
    let policy = Policy::embedded("linyi-2014").expect("test value");
    let f = bereaved(None);
    let w = window("2014-10", "2015-03");
    let mut booked = Booked::default();
    let first = family_lines(&|_| &f, &["PM", "PF"], Some("PM"), &booked, &w, &policy);
    assert_eq!(first.lines.len(), 2 * 6 + 1);
    book(&mut booked, &first.lines);
    let again = family_lines(&|_| &f, &["PM", "PF"], Some("PM"), &booked, &w, &policy);
    assert!(again.lines.is_empty(), "{:?}", again.lines);
}

#[test]
fn a_late_death_is_recovered_month_by_month() {
    let policy = Policy::embedded("linyi-2014").expect("test value");
    let alive = bereaved(None);
    let mut booked = Booked::default();
    let w = window("2026-01", "2026-06");
    let paid = family_lines(&|_| &alive, &["PM", "PF"], None, &booked, &w, &policy);
    book(&mut booked, &paid.lines);
    // Reported in July: the father died on 2026-03-31, so April to June were not due.
    let dead = bereaved(Some("2026-03-31"));
    let w = window("2026-01", "2026-07");
    let due = family_lines(&|_| &dead, &["PM", "PF"], None, &booked, &w, &policy);
    let recoveries: Vec<&DueLine> = due
        .lines
        .iter()
        .filter(|l| l.nature == Nature::Recovery)
        .collect();
    assert_eq!(
        recoveries.iter().map(|l| l.for_month).collect::<Vec<_>>(),
        vec![m("2026-04"), m("2026-05"), m("2026-06")]
    );
    assert!(recoveries.iter().all(|l| l.person == "PF"
        && l.amounts.amount == Fen(-59000)
        && l.booked == Fen(59000)
        && l.due == Fen::ZERO));
    let regular: Vec<&DueLine> = due
        .lines
        .iter()
        .filter(|l| l.nature == Nature::Regular)
        .collect();
    assert_eq!(regular.len(), 1);
    assert_eq!(regular[0].person, "PM");
}

#[test]
fn arrears_stop_at_the_limit_and_the_rest_is_reported() {
    let policy = Policy::embedded("linyi-2014").expect("test value");
    let f = bereaved(None);
    let w = Window {
        first: m("2026-01"),
        month: m("2026-06"),
        arrears_from: m("2026-04"),
    };
    let due = family_lines(&|_| &f, &["PM"], None, &Booked::default(), &w, &policy);
    let months: Vec<(Month, Nature)> = due.lines.iter().map(|l| (l.for_month, l.nature)).collect();
    assert_eq!(
        months,
        vec![
            (m("2026-04"), Nature::Arrears),
            (m("2026-05"), Nature::Arrears),
            (m("2026-06"), Nature::Regular)
        ]
    );
    assert_eq!(due.beyond_limit, Fen(3 * 59000));
}

#[test]
fn a_category_change_recovers_one_kind_and_pays_the_other() {
    let policy = Policy::embedded("linyi-2014").expect("test value");
    // Booked as disabled for 2015-01; a correction says the child died in 2014.
    let mut booked = Booked::default();
    booked.add(
        "PM",
        LineKind::Monthly(MonthlyKindKey::Disabled),
        m("2015-01"),
        Amounts {
            amount: Fen(30000),
            standard: Fen(15000),
            county: Fen(15000),
        },
    );
    let f = bereaved(None);
    let due = family_lines(
        &|_| &f,
        &["PM"],
        None,
        &booked,
        &window("2015-01", "2015-01"),
        &policy,
    );
    let total: i64 = due.lines.iter().map(|l| l.amounts.amount.get()).sum();
    assert_eq!(total, 50000 - 30000);
    assert!(
        due.lines.iter().any(|l| l.nature == Nature::Recovery
            && l.kind == LineKind::Monthly(MonthlyKindKey::Disabled))
    );
    for l in &due.lines {
        assert_eq!(l.amounts.amount, l.amounts.standard + l.amounts.county);
    }
}

#[test]
fn a_grant_is_booked_once_and_recovered_if_the_facts_no_longer_give_it() {
    let policy = Policy::embedded("linyi-2014").expect("test value");
    let f = bereaved(None);
    let w = window("2014-10", "2014-10");
    let mut booked = Booked::default();
    let first = family_lines(&|_| &f, &["PM"], Some("PM"), &booked, &w, &policy);
    book(&mut booked, &first.lines);
    // The child turns out to be alive (a wrong death record, corrected).
    let alive = Family::new(
        f.county(),
        f.hukou(),
        f.parents().to_vec(),
        Child {
            birth_date: parse_date("1985-01-01").expect("test value"),
            death_date: None,
            disabilities: vec![],
        },
    )
    .expect("test value");
    let due = family_lines(&|_| &alive, &["PM"], Some("PM"), &booked, &w, &policy);
    let grant = due
        .lines
        .iter()
        .find(|l| l.kind == LineKind::Grant(GrantKindKey::Bereaved))
        .expect("test value");
    assert_eq!(grant.nature, Nature::Recovery);
    assert_eq!(grant.amounts.amount, Fen(-1000000));
}

#[test]
fn a_grant_without_anyone_to_receive_it_is_reported() {
    let policy = Policy::embedded("linyi-2014").expect("test value");
    let f = bereaved(None);
    let due = family_lines(
        &|_| &f,
        &["PM", "PF"],
        None,
        &Booked::default(),
        &window("2014-10", "2014-10"),
        &policy,
    );
    assert_eq!(
        due.grant_without_payee,
        Some(LineKind::Grant(GrantKindKey::Bereaved))
    );
}

#[test]
fn a_family_that_moved_away_is_paid_nothing_after_and_repays_what_it_got() {
    let policy = Policy::embedded("linyi-2014").expect("test value");
    let f = bereaved(None);
    let mut booked = Booked::default();
    let paid = family_lines(
        &|_| &f,
        &["PM", "PF"],
        None,
        &booked,
        &window("2026-01", "2026-06"),
        &policy,
    );
    book(&mut booked, &paid.lines);
    // Moved out of Linyi on 2026-04-10 (approved in July): nothing is due from May.
    let w = window("2026-01", "2026-07");
    let due = family_lines_until(
        &|_| &f,
        &["PM", "PF"],
        None,
        &booked,
        &w,
        &policy,
        Some(m("2026-05")),
    );
    let mut months: Vec<(String, Nature, i64)> = due
        .lines
        .iter()
        .map(|l| (l.for_month.to_string(), l.nature, l.amounts.amount.get()))
        .collect();
    months.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        months,
        vec![
            ("2026-05".into(), Nature::Recovery, -59000),
            ("2026-05".into(), Nature::Recovery, -59000),
            ("2026-06".into(), Nature::Recovery, -59000),
            ("2026-06".into(), Nature::Recovery, -59000),
        ],
        "May and June recovered for both parents, July not paid"
    );
}
