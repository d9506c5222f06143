//! Laws the rules must obey for any family and month (property tests).

use guanai_rules::calendar::birthday;
use guanai_rules::engine::{evaluate, evaluate_traced};
use guanai_rules::explain::Reason;
use guanai_rules::facts::{Child, Disability, DisabilityGrade, Family, Hukou, Parent, Sex};
use guanai_rules::{CountyCode, Fen, Month, Policy};
use jiff::civil::Date;
use proptest::prelude::*;

fn policy() -> Policy {
    Policy::embedded("linyi-2014").expect("pack")
}

/// A date from 1925 to 2035 as a day offset (always a real date).
fn date() -> impl Strategy<Value = Date> {
    (0i32..(111 * 365)).prop_map(|days| {
        Date::new(1925, 1, 1)
            .expect("date")
            .checked_add(jiff::Span::new().days(i64::from(days)))
            .expect("in range")
    })
}

fn later(base: Date) -> impl Strategy<Value = Date> {
    (0i64..(60 * 365)).prop_map(move |days| after(base, days))
}

fn parent(sex: Sex) -> impl Strategy<Value = Parent> {
    (
        date(),
        any::<bool>(),
        any::<bool>(),
        any::<(bool, bool, bool)>(),
        0u32..4,
    )
        .prop_flat_map(move |(birth, dies, later_child, (dibao, wubao, ill), _)| {
            (Just(birth), later(birth), later(birth)).prop_map(move |(birth, death, child_date)| {
                Parent {
                    sex,
                    birth_date: birth,
                    death_date: dies.then_some(death),
                    later_child_date: later_child.then_some(child_date),
                    dibao,
                    wubao,
                    chronically_ill: ill,
                }
            })
        })
}

fn child() -> impl Strategy<Value = Child> {
    (date(), any::<bool>(), proptest::option::of(1i64..=4)).prop_flat_map(|(birth, dies, grade)| {
        (Just(birth), later(birth), later(birth)).prop_map(move |(birth, death, assessed)| Child {
            birth_date: birth,
            death_date: dies.then_some(death),
            disabilities: grade
                .and_then(DisabilityGrade::new)
                .map(|grade| Disability { grade, assessed })
                .into_iter()
                .collect(),
        })
    })
}

fn family() -> impl Strategy<Value = Family> {
    (
        0u8..4,
        parent(Sex::Female),
        parent(Sex::Male),
        child(),
        any::<bool>(),
    )
        .prop_map(|(shape, m, f, c, urban)| {
            let parents = match shape {
                0 => vec![m, f],
                1 => vec![f, m],
                2 => vec![m],
                _ => vec![f],
            };
            let hukou = if urban { Hukou::Urban } else { Hukou::Rural };
            Family::new(
                CountyCode::parse("371302").expect("county"),
                hukou,
                parents,
                c,
            )
            .expect("consistent by construction")
        })
}

fn month() -> impl Strategy<Value = Month> {
    (2005i16..2032, 1i8..=12).prop_map(|(y, m)| Month::new(y, m).expect("month"))
}

fn after(d: Date, days: i64) -> Date {
    d.checked_add(jiff::Span::new().days(days)).unwrap_or(d)
}

fn paid_to(f: &Family, i: usize, m: Month, p: &Policy) -> Fen {
    evaluate(f, m, p).monthly[i].map_or(Fen::ZERO, |a| a.amount)
}

fn with_parent(f: &Family, i: usize, change: impl FnOnce(&mut Parent)) -> Family {
    let mut parents = f.parents().to_vec();
    change(&mut parents[i]);
    Family::new(f.county(), f.hukou(), parents, f.child().clone()).expect("still consistent")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    /// amount = standard + county, the county part is never negative, and only bereaved or
    /// disabled families are paid monthly.
    #[test]
    fn amount_is_standard_plus_county(f in family(), m in month()) {
        let p = policy();
        let e = evaluate(&f, m, &p);
        for (_, a) in e.monthly() {
            prop_assert_eq!(a.amount, a.standard + a.county);
            prop_assert!(a.county >= Fen::ZERO);
            prop_assert!(a.standard > Fen::ZERO);
        }
        if e.monthly().next().is_some() {
            prop_assert!(matches!(e.category, guanai_rules::Category::Bereaved | guanai_rules::Category::Disabled));
        }
    }

    /// A later child never increases what is paid, to anyone, in any month.
    #[test]
    fn a_later_child_never_increases_payment(f in family(), m in month(), which in 0usize..2, days in 0i64..(60 * 365)) {
        let p = policy();
        let i = which % f.parents().len();
        let f = with_parent(&f, i, |p| p.later_child_date = None);
        let on = after(f.parents()[i].birth_date, days);
        let g = with_parent(&f, i, |p| p.later_child_date = Some(on));
        prop_assert!(evaluate(&g, m, &p).monthly_total() <= evaluate(&f, m, &p).monthly_total());
    }

    /// A parent's death never increases what that parent is paid; nor the family's total,
    /// except where spec §4 hands the age condition to the father because the mother died
    /// before her 49th birthday.
    #[test]
    fn a_death_never_increases_payment(f in family(), m in month(), which in 0usize..2, days in 0i64..(90 * 365)) {
        let p = policy();
        let i = which % f.parents().len();
        let f = with_parent(&f, i, |p| p.death_date = None);
        let dying = &f.parents()[i];
        let on = after(dying.birth_date, days);
        let g = with_parent(&f, i, |p| p.death_date = Some(on));
        prop_assert!(paid_to(&g, i, m, &p) <= paid_to(&f, i, m, &p));
        let mother_died_young = dying.sex == Sex::Female && birthday(dying.birth_date, 49).is_none_or(|b| on < b);
        if !mother_died_young {
            prop_assert!(evaluate(&g, m, &p).monthly_total() <= evaluate(&f, m, &p).monthly_total());
        }
    }

    /// Once a one-time grant is listed it stays listed, with the same amount and first month.
    #[test]
    fn a_listed_grant_stays_listed(f in family(), m in month(), ahead in 1i32..120) {
        let p = policy();
        let mut later_month = m;
        for _ in 0..ahead { later_month = later_month.next(); }
        let now = evaluate(&f, m, &p);
        let then = evaluate(&f, later_month, &p);
        for g in now.grants() {
            prop_assert!(then.grants().any(|h| h == g), "{:?} lost by {}", g, later_month);
        }
    }

    /// Nothing is due before the Linyi start for grants or before the programme for assistance.
    #[test]
    fn nothing_before_the_start_months(f in family(), m in month()) {
        let p = policy();
        let e = evaluate(&f, m, &p);
        if m < p.start { prop_assert!(e.grants().next().is_none()); }
        if m < p.programme_start { prop_assert_eq!(e.monthly_total(), Fen::ZERO); }
        for g in e.grants() { prop_assert!(g.due_from >= p.start && g.due_from <= m); }
    }

    /// Recording the reasons never changes the result, and the first reason is the category.
    #[test]
    fn tracing_does_not_change_the_result(f in family(), m in month()) {
        let p = policy();
        let mut trace: Vec<Reason> = Vec::new();
        let traced = evaluate_traced(&f, m, &p, &mut trace);
        prop_assert_eq!(&traced, &evaluate(&f, m, &p));
        prop_assert!(matches!(trace.first(), Some(Reason::Category(c, _)) if *c == traced.category));
        let paid = trace.iter().filter(|r| matches!(r, Reason::Paid { .. })).count();
        prop_assert_eq!(paid, traced.monthly().count());
    }

    /// Events count from the month after: moving an event within its month changes nothing —
    /// except the one date-level comparison of the rules: whether the child died on or before a
    /// parent's death (funeral reimbursement, spec §6), which is left out here.
    #[test]
    fn only_the_month_of_an_event_matters(f in family(), m in month()) {
        let p = policy();
        let c = f.child();
        let same_month = |a: Option<Date>, b: Option<Date>| matches!((a, b), (Some(a), Some(b)) if Month::of(a) == Month::of(b));
        prop_assume!(!f.parents().iter().any(|parent| same_month(parent.death_date, c.death_date)));
        let first_of = |d: Date| d.first_of_month().max(c.birth_date);
        let moved = Child {
            birth_date: c.birth_date,
            death_date: c.death_date.map(first_of),
            disabilities: c.disabilities.iter().map(|d| Disability { assessed: first_of(d.assessed), ..*d }).collect(),
        };
        let g = Family::new(f.county(), f.hukou(), f.parents().to_vec(), moved).expect("consistent");
        prop_assert_eq!(evaluate(&g, m, &p), evaluate(&f, m, &p));
    }
}
