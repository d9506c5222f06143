//! The forecast against independent sums of the engine's amounts, the semantics of mortality,
//! grants and rate rows, and the comparison of two packs.

use std::collections::BTreeMap;

use guanai_forecast::{Mortality, Source, Subject, compare, forecast};
use guanai_rules::facts::{Child, Disability, DisabilityGrade, Family, Hukou, Parent, Sex};
use guanai_rules::policy::embedded_text;
use guanai_rules::{Category, CountyCode, Fen, GrantKind, Month, Policy, evaluate, parse_date};
use jiff::civil::Date;
use proptest::prelude::*;

fn m(s: &str) -> Month {
    Month::parse(s).expect("month")
}

fn d(s: &str) -> Date {
    parse_date(s).expect("date")
}

fn county(code: &str) -> CountyCode {
    CountyCode::parse(code).expect("county")
}

fn linyi() -> Policy {
    Policy::embedded("linyi-2014").expect("pack")
}

/// The embedded pack with one more local rate row.
fn with_local_rate(from: &str, bereaved: i64, disabled: i64) -> Policy {
    let text = format!(
        "{}\n[[local_rate]]\nfrom = \"{from}\"\nsource = \"proposal\"\nbereaved = {{ urban = {bereaved}, rural = {bereaved} }}\ndisabled = {{ urban = {disabled}, rural = {disabled} }}\n",
        embedded_text("linyi-2014").expect("embedded pack")
    );
    Policy::from_toml(&text).expect("pack with a new local rate row")
}

fn parent(sex: Sex, birth: &str, death: Option<&str>) -> Parent {
    Parent {
        sex,
        birth_date: d(birth),
        death_date: death.map(d),
        later_child_date: None,
        dibao: false,
        wubao: false,
        chronically_ill: false,
    }
}

fn bereaved_child(died: &str) -> Child {
    Child {
        birth_date: d("1995-05-05"),
        death_date: Some(d(died)),
        disabilities: vec![],
    }
}

fn disabled_child(grade: i64, assessed: &str) -> Child {
    Child {
        birth_date: d("1995-05-05"),
        death_date: None,
        disabilities: vec![Disability {
            grade: DisabilityGrade::new(grade).expect("grade"),
            assessed: d(assessed),
        }],
    }
}

fn subject(code: &str, hukou: Hukou, parents: Vec<Parent>, child: Child) -> Subject {
    Subject {
        family: Family::new(county(code), hukou, parents, child).expect("family"),
        paid_grants: [false; 3],
    }
}

fn months(from: Month, n: u16) -> Vec<Month> {
    let mut out = vec![from];
    while out.len() < usize::from(n) {
        let next = out[out.len() - 1].next();
        out.push(next);
    }
    out
}

/// A deterministic, varied set of families (a small LCG drives the choices).
fn varied(n: usize) -> Vec<Subject> {
    let counties = CountyCode::all();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |bound: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % bound
    };
    let day = |year: u64, month: u64, day: u64| {
        Date::new(year as i16, month as i8 + 1, day as i8 + 1).expect("date")
    };
    (0..n)
        .map(|_| {
            let year = 1955 + next(30);
            let mother = Parent {
                sex: Sex::Female,
                birth_date: day(year, next(12), next(28)),
                death_date: (next(8) == 0).then(|| day(2015 + next(14), next(12), next(28))),
                later_child_date: (next(15) == 0).then(|| day(2016 + next(12), next(12), next(28))),
                dibao: next(5) == 0,
                wubao: false,
                chronically_ill: false,
            };
            let father = Parent {
                sex: Sex::Male,
                birth_date: day(year - next(5), next(12), next(28)),
                death_date: (next(8) == 0).then(|| day(2015 + next(14), next(12), next(28))),
                later_child_date: None,
                ..mother.clone()
            };
            let parents = match next(5) {
                0 => vec![father],
                1 => vec![mother],
                2 => vec![father, mother],
                _ => vec![mother, father],
            };
            let birth = day(year + 22 + next(8), next(12), next(28));
            let child = match next(4) {
                0 | 1 => Child {
                    birth_date: birth,
                    death_date: Some(day(2014 + next(16), next(12), next(28))),
                    disabilities: vec![],
                },
                2 => Child {
                    birth_date: birth,
                    death_date: None,
                    disabilities: vec![Disability {
                        grade: DisabilityGrade::new(1 + next(4) as i64).expect("grade"),
                        assessed: day(2014 + next(16), next(12), next(28)),
                    }],
                },
                _ => Child {
                    birth_date: birth,
                    death_date: None,
                    disabilities: vec![],
                },
            };
            let hukou = if next(3) == 0 {
                Hukou::Urban
            } else {
                Hukou::Rural
            };
            let paid = [next(3) == 0, next(3) == 0, next(3) == 0];
            Subject {
                family: Family::new(
                    counties[next(counties.len() as u64) as usize],
                    hukou,
                    parents,
                    child,
                )
                .expect("family"),
                paid_grants: paid,
            }
        })
        .collect()
}

type Sums = BTreeMap<(CountyCode, Month, Source), (i64, i64, u64)>;

/// The engine's amounts summed directly: (monthly, grants, parents) per cell, without mortality.
fn engine_sums(subjects: &[Subject], policy: &Policy, from: Month, n: u16) -> Sums {
    let mut sums = Sums::new();
    for s in subjects {
        let c = s.family.county();
        let mut paid = s.paid_grants;
        for month in months(from, n) {
            let eval = evaluate(&s.family, month, policy);
            for (_, a) in eval.monthly() {
                for (source, part) in [(Source::Higher, a.standard), (Source::County, a.county)] {
                    if part != Fen::ZERO {
                        let e = sums.entry((c, month, source)).or_default();
                        e.0 += part.get();
                        e.2 += 1;
                    }
                }
            }
            for (i, kind) in GrantKind::ALL.into_iter().enumerate() {
                if let Some(g) = eval.one_time[i]
                    && !paid[i]
                {
                    assert_eq!(g.kind, kind);
                    paid[i] = true;
                    sums.entry((c, month, Source::County)).or_default().1 += g.amount.get();
                }
            }
        }
    }
    sums
}

fn cells_as_sums(f: &guanai_forecast::Forecast) -> Sums {
    f.cells
        .iter()
        .map(|c| {
            (
                (c.county, c.month, c.source),
                (c.monthly.get(), c.grants.get(), c.parents),
            )
        })
        .collect()
}

#[test]
fn with_no_mortality_the_forecast_is_the_sum_of_engine_amounts() {
    let policy = linyi();
    // More subjects than one thread takes, across the 2017-01 provincial row.
    let subjects = varied(12_000);
    let from = m("2016-07");
    let f = forecast(&subjects, &policy, from, 12, &Mortality::ZERO);
    assert_eq!((f.from, f.months), (from, 12));
    let expected = engine_sums(&subjects, &policy, from, 12);
    assert_eq!(cells_as_sums(&f), expected);
    let keys: Vec<_> = f
        .cells
        .iter()
        .map(|c| (c.county, c.month, c.source))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "cells sorted, unique");
    let total: i64 = expected.values().map(|(m, g, _)| m + g).sum();
    assert_eq!(f.total(), Fen(total));
    assert!(
        f.cells
            .iter()
            .all(|c| c.source == Source::County || c.grants == Fen::ZERO)
    );
    // by_county adds up to the total, per (county, source) in order.
    let by_county = f.by_county();
    assert!(
        by_county
            .windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1))
    );
    assert_eq!(by_county.iter().fold(Fen::ZERO, |s, r| s + r.2), f.total());
    // The county part shrinks to nothing once Shandong's standard reaches the local rates.
    let county_monthly = |month: &str| -> i64 {
        f.cells
            .iter()
            .filter(|c| c.month == m(month) && c.source == Source::County)
            .map(|c| c.monthly.get())
            .sum()
    };
    assert!(county_monthly("2016-12") > 0);
    assert_eq!(county_monthly("2017-01"), 0);
}

#[test]
fn a_mother_turning_49_is_paid_from_the_month_after_her_birthday() {
    let policy = linyi();
    let mut s = subject(
        "371321",
        Hukou::Rural,
        vec![parent(Sex::Female, "1978-08-15", None)],
        bereaved_child("2020-02-02"),
    );
    s.paid_grants = [true, false, false];
    let f = forecast(&[s], &policy, m("2027-06"), 6, &Mortality::ZERO);
    let c = county("371321");
    for month in ["2027-06", "2027-07", "2027-08"] {
        assert!(f.cell(c, m(month), Source::Higher).is_none(), "{month}");
        assert!(f.cell(c, m(month), Source::County).is_none(), "{month}");
    }
    for month in ["2027-09", "2027-10", "2027-11"] {
        let higher = f.cell(c, m(month), Source::Higher).expect("paid");
        assert_eq!(
            (higher.monthly, higher.parents, higher.grants),
            (Fen(59000), 1, Fen::ZERO)
        );
        assert!(f.cell(c, m(month), Source::County).is_none(), "{month}");
    }
    assert_eq!(f.total(), Fen(3 * 59000));
}

#[test]
fn a_rate_row_starting_mid_window_changes_amounts_from_its_month() {
    let policy = with_local_rate("2027-03", 65000, 30000);
    let mut subjects = vec![
        subject(
            "371302",
            Hukou::Urban,
            vec![
                parent(Sex::Female, "1965-01-01", None),
                parent(Sex::Male, "1963-01-01", None),
            ],
            bereaved_child("2019-01-01"),
        ),
        subject(
            "371302",
            Hukou::Rural,
            vec![parent(Sex::Female, "1966-01-01", None)],
            disabled_child(2, "2018-01-01"),
        ),
    ];
    for s in &mut subjects {
        s.paid_grants = [true; 3];
    }
    let f = forecast(&subjects, &policy, m("2027-01"), 4, &Mortality::ZERO);
    let c = county("371302");
    for month in ["2027-01", "2027-02"] {
        let higher = f.cell(c, m(month), Source::Higher).expect("higher");
        assert_eq!(
            (higher.monthly, higher.parents),
            (Fen(2 * 59000 + 46000), 3)
        );
        assert!(f.cell(c, m(month), Source::County).is_none());
    }
    for month in ["2027-03", "2027-04"] {
        let higher = f.cell(c, m(month), Source::Higher).expect("higher");
        assert_eq!(
            (higher.monthly, higher.parents),
            (Fen(2 * 59000 + 46000), 3)
        );
        let county_part = f.cell(c, m(month), Source::County).expect("county");
        assert_eq!(
            (county_part.monthly, county_part.parents),
            (Fen(2 * 6000), 2)
        );
    }
}

#[test]
fn raising_the_bereaved_local_rate_costs_the_difference_per_eligible_parent() {
    let base = linyi();
    let proposal = with_local_rate("2027-07", 60000, 30000);
    let subjects = varied(3000);
    let from = m("2027-01");
    let cmp = compare(&subjects, &base, &proposal, from, 12, &Mortality::ZERO);
    let diffs = cmp.differences();
    assert!(!diffs.is_empty());
    // Eligible bereaved parents per county and month, counted with the engine.
    let mut bereaved: BTreeMap<(CountyCode, Month), i64> = BTreeMap::new();
    for s in &subjects {
        for month in months(from, 12) {
            let eval = evaluate(&s.family, month, &base);
            if eval.category == Category::Bereaved {
                *bereaved.entry((s.family.county(), month)).or_default() +=
                    eval.monthly().count() as i64;
            }
        }
    }
    for &(c, month, source, b, p, diff) in &diffs {
        assert_eq!(diff, p - b);
        assert!(b != Fen::ZERO || p != Fen::ZERO);
        let expected = if source == Source::County && month >= m("2027-07") {
            // 600 yuan against the national 590: 1000 fen more per parent, all county finance.
            1000 * bereaved.get(&(c, month)).copied().unwrap_or(0)
        } else {
            0
        };
        assert_eq!(diff, Fen(expected), "{c:?} {month} {source:?}");
    }
    let all_bereaved: i64 = bereaved
        .iter()
        .filter(|((_, month), _)| *month >= m("2027-07"))
        .map(|(_, n)| n)
        .sum();
    assert!(all_bereaved > 0);
    assert_eq!(cmp.total_difference(), Fen(1000 * all_bereaved));
    // Disabled families cost the same under both packs.
    let disabled: Vec<Subject> = subjects
        .into_iter()
        .filter(|s| evaluate(&s.family, from, &base).category == Category::Disabled)
        .collect();
    assert!(!disabled.is_empty());
    let cmp = compare(&disabled, &base, &proposal, from, 12, &Mortality::ZERO);
    assert!(cmp.differences().iter().all(|d| d.5 == Fen::ZERO));
    assert_eq!(cmp.base.cells, cmp.proposal.cells);
}

#[test]
fn survival_never_increases_and_the_extremes_behave() {
    let q = Mortality::from_ppb(2_000_000).expect("rate");
    let s: Vec<u64> = (0..600).map(|k| q.survival(k)).collect();
    assert_eq!(s[0], Mortality::SURVIVAL_SCALE);
    assert!(s.windows(2).all(|w| w[1] < w[0]), "strictly decreasing");
    // (1 − 0.002)^12 = 0.976262... .
    assert_eq!(s[12] / 1_000_000_000_000, 976_262);
    let none = Mortality::from_ppb(0).expect("rate");
    assert_eq!(none, Mortality::ZERO);
    assert!((0..1000).all(|k| none.survival(k) == Mortality::SURVIVAL_SCALE));
    let certain = Mortality::from_ppb(1_000_000_000).expect("rate");
    assert_eq!(certain.survival(0), Mortality::SURVIVAL_SCALE);
    assert!((1..100).all(|k| certain.survival(k) == 0));
    assert!(Mortality::from_ppb(1_000_000_001).is_err());
}

#[test]
fn mortality_weighs_monthly_assistance_but_not_grants() {
    let policy = linyi();
    let subjects = vec![subject(
        "371321",
        Hukou::Rural,
        vec![
            parent(Sex::Female, "1960-01-01", None),
            parent(Sex::Male, "1958-01-01", None),
        ],
        bereaved_child("2026-12-12"),
    )];
    let from = m("2027-01");
    let c = county("371321");
    let zero = forecast(&subjects, &policy, from, 4, &Mortality::ZERO);
    let same = forecast(
        &subjects,
        &policy,
        from,
        4,
        &Mortality::from_ppb(0).expect("rate"),
    );
    assert_eq!(zero.cells, same.cells);
    let certain = Mortality::from_ppb(1_000_000_000).expect("rate");
    let f = forecast(&subjects, &policy, from, 4, &certain);
    let first = f.cell(c, from, Source::Higher).expect("k = 0 pays");
    assert_eq!((first.monthly, first.parents), (Fen(2 * 59000), 2));
    for month in months(from, 4).into_iter().skip(1) {
        let cell = f.cell(c, month, Source::Higher).expect("listed");
        assert_eq!((cell.monthly, cell.parents), (Fen::ZERO, 2), "{month}");
    }
    assert_eq!(
        f.cell(c, from, Source::County).map(|c| c.grants),
        Some(Fen(1_000_000))
    );
    // 1% a month: 2 × 59000 × 0.99^k, rounded half up per cell.
    let one_percent = Mortality::from_ppb(10_000_000).expect("rate");
    let f = forecast(&subjects, &policy, from, 4, &one_percent);
    let got: Vec<i64> = months(from, 4)
        .into_iter()
        .map(|month| {
            f.cell(c, month, Source::Higher)
                .expect("cell")
                .monthly
                .get()
        })
        .collect();
    // 118000 × 0.99 = 116820; × 0.9801 = 115651.8; × 0.970299 = 114495.282.
    assert_eq!(got, vec![118000, 116820, 115652, 114495]);
}

#[test]
fn observed_mortality_is_deaths_over_parent_months_at_risk() {
    let alive = |code| {
        subject(
            code,
            Hukou::Rural,
            vec![
                parent(Sex::Female, "1960-01-01", None),
                parent(Sex::Male, "1960-01-01", None),
            ],
            bereaved_child("2010-01-01"),
        )
    };
    let subjects = vec![
        alive("371302"),
        alive("371302"),
        alive("371321"),
        // 10 + 10 parent-months, one death in the last month.
        subject(
            "371321",
            Hukou::Rural,
            vec![
                parent(Sex::Female, "1960-01-01", Some("2020-10-15")),
                parent(Sex::Male, "1960-01-01", None),
            ],
            bereaved_child("2010-01-01"),
        ),
        // 10 + 10, one death; the father dies after the window.
        subject(
            "371321",
            Hukou::Urban,
            vec![
                parent(Sex::Female, "1960-01-01", Some("2020-10-02")),
                parent(Sex::Male, "1960-01-01", Some("2021-03-01")),
            ],
            bereaved_child("2010-01-01"),
        ),
        // Died before the window: not at risk.
        subject(
            "371321",
            Hukou::Urban,
            vec![parent(Sex::Female, "1960-01-01", Some("2019-06-01"))],
            bereaved_child("2010-01-01"),
        ),
    ];
    let rate = Mortality::observed(&subjects, m("2020-01"), m("2020-10"));
    assert_eq!(rate.ppb(), 20_000_000, "2 deaths over 100 parent-months");
    assert_eq!(
        Mortality::observed(&subjects, m("2020-10"), m("2020-01")),
        Mortality::ZERO
    );
    assert_eq!(
        Mortality::observed(&[], m("2020-01"), m("2020-10")),
        Mortality::ZERO
    );
    // A death mid-window: at risk 2020-01 to 2020-03, 1 death in 3 months.
    let one = subject(
        "371321",
        Hukou::Urban,
        vec![parent(Sex::Female, "1960-01-01", Some("2020-03-10"))],
        bereaved_child("2010-01-01"),
    );
    let rate = Mortality::observed(&[one], m("2020-01"), m("2020-10"));
    assert_eq!(rate.ppb(), 333_333_333);
}

#[test]
fn an_unpaid_grant_is_forecast_once_and_a_paid_one_never() {
    let policy = linyi();
    let c = county("371311");
    let make = |paid: bool| {
        let mut s = subject(
            "371311",
            Hukou::Rural,
            vec![parent(Sex::Female, "1990-01-01", None)],
            bereaved_child("2025-05-05"),
        );
        s.paid_grants[0] = paid;
        s
    };
    let from = m("2027-01");
    let f = forecast(&[make(false)], &policy, from, 12, &Mortality::ZERO);
    // The mother is under 49: no monthly assistance, only the grant.
    assert_eq!(f.cells.len(), 1);
    let cell = f.cells[0];
    assert_eq!(
        (
            cell.county,
            cell.month,
            cell.source,
            cell.grants,
            cell.monthly,
            cell.parents
        ),
        (c, from, Source::County, Fen(1_000_000), Fen::ZERO, 0)
    );
    let f = forecast(&[make(true)], &policy, from, 12, &Mortality::ZERO);
    assert!(f.cells.is_empty());
    assert_eq!(f.total(), Fen::ZERO);
    // A grant first due inside the window falls in its month.
    let s = subject(
        "371311",
        Hukou::Rural,
        vec![parent(Sex::Female, "1990-01-01", None)],
        bereaved_child("2027-03-20"),
    );
    let f = forecast(&[s], &policy, from, 12, &Mortality::ZERO);
    let grants: Vec<_> = f
        .cells
        .iter()
        .filter(|c| c.grants != Fen::ZERO)
        .map(|c| (c.month, c.grants))
        .collect();
    assert_eq!(grants, vec![(m("2027-04"), Fen(1_000_000))]);
}

/// A date from 1940 to 2035 as a day offset.
fn date() -> impl Strategy<Value = Date> {
    (0i64..(95 * 365)).prop_map(|days| {
        Date::new(1940, 1, 1)
            .expect("date")
            .checked_add(jiff::Span::new().days(days))
            .expect("in range")
    })
}

fn after(base: Date) -> impl Strategy<Value = Option<Date>> {
    proptest::option::of((0i64..(70 * 365)).prop_map(move |days| {
        base.checked_add(jiff::Span::new().days(days))
            .unwrap_or(base)
            .min(Date::new(2040, 12, 31).expect("date"))
    }))
}

fn arb_parent(sex: Sex) -> impl Strategy<Value = Parent> {
    date().prop_flat_map(move |birth| {
        (after(birth), after(birth), any::<bool>()).prop_map(move |(death, later, dibao)| Parent {
            sex,
            birth_date: birth,
            death_date: death,
            later_child_date: later.filter(|_| dibao),
            dibao,
            wubao: false,
            chronically_ill: false,
        })
    })
}

fn arb_subject() -> impl Strategy<Value = Subject> {
    let counties = CountyCode::all();
    (
        0usize..counties.len(),
        0u8..4,
        arb_parent(Sex::Female),
        arb_parent(Sex::Male),
        date().prop_flat_map(|birth| (Just(birth), after(birth), after(birth), 1i64..=4)),
        any::<(bool, [bool; 3])>(),
    )
        .prop_map(
            move |(c, shape, mother, father, (birth, death, assessed, grade), (urban, paid))| {
                let parents = match shape {
                    0 => vec![mother, father],
                    1 => vec![father, mother],
                    2 => vec![mother],
                    _ => vec![father],
                };
                let child = Child {
                    birth_date: birth,
                    death_date: death,
                    disabilities: assessed
                        .map(|assessed| Disability {
                            grade: DisabilityGrade::new(grade).expect("grade"),
                            assessed,
                        })
                        .into_iter()
                        .collect(),
                };
                let hukou = if urban { Hukou::Urban } else { Hukou::Rural };
                Subject {
                    family: Family::new(counties[c], hukou, parents, child).expect("family"),
                    paid_grants: paid,
                }
            },
        )
}

fn arb_month() -> impl Strategy<Value = Month> {
    (2012i16..2032, 1i8..=12).prop_map(|(y, mo)| Month::new(y, mo).expect("month"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_mortality_forecasts_exactly_the_engine_amounts(
        subjects in proptest::collection::vec(arb_subject(), 0..8),
        from in arb_month(),
        n in 1u16..30,
    ) {
        let policy = linyi();
        let f = forecast(&subjects, &policy, from, n, &Mortality::ZERO);
        let expected = engine_sums(&subjects, &policy, from, n);
        let total: i64 = expected.values().map(|(m, g, _)| m + g).sum();
        prop_assert_eq!(f.total(), Fen(total));
        prop_assert_eq!(cells_as_sums(&f), expected);
    }

    #[test]
    fn mortality_never_raises_a_cell(
        subjects in proptest::collection::vec(arb_subject(), 0..8),
        from in arb_month(),
        n in 1u16..30,
        ppb in prop_oneof![0u64..=1_000_000_000, 0u64..50_000_000],
    ) {
        let policy = linyi();
        let rate = Mortality::from_ppb(ppb).expect("rate");
        let weighed = forecast(&subjects, &policy, from, n, &rate);
        let zero = forecast(&subjects, &policy, from, n, &Mortality::ZERO);
        prop_assert_eq!(weighed.cells.len(), zero.cells.len());
        for (w, z) in weighed.cells.iter().zip(&zero.cells) {
            prop_assert_eq!((w.county, w.month, w.source), (z.county, z.month, z.source));
            prop_assert!(w.monthly <= z.monthly);
            prop_assert_eq!(w.grants, z.grants);
            prop_assert_eq!(w.parents, z.parents);
            if w.month == from {
                prop_assert_eq!(w.monthly, z.monthly);
            }
        }
        prop_assert!(weighed.total() <= zero.total());
    }
}
