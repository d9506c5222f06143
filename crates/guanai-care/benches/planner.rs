//! Visit planner throughput. Target: the visit planner for 1,000,000 families computes a year's
//! schedule in under 10 s (12 engine evaluations, the plan and the matching of 2 visits each).
//! Run: `cargo bench -p guanai-care --bench planner`

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use guanai_care::{Holidays, Occasion, VisitDone, match_visits, plan_year, year_needs};
use guanai_rules::calendar::parse_date;
use guanai_rules::facts::{Child, Disability, DisabilityGrade, Family, Hukou, Parent, Sex};
use guanai_rules::{CountyCode, Policy};
use jiff::civil::Date;

fn main() {
    divan::main();
}

const YEAR: i16 = 2026;

fn d(s: &str) -> Date {
    parse_date(s).expect("date")
}

/// 1,000 families: bereaved (some children dying during the year), disabled (grades 1–4),
/// orphans (some turning 18 during the year) and families of no category; mothers born 1962–1970
/// so that many turn 60 around the planned year; some chronically ill, some parents dying.
fn families() -> Vec<Family> {
    let county = CountyCode::parse("371321").expect("county");
    (0..1000)
        .map(|i| {
            let year = 1962 + (i % 9) as i16;
            let birth = Date::new(year, 1 + (i % 12) as i8, 1 + (i % 28) as i8).expect("date");
            let orphan = i % 5 == 3;
            let mother = Parent {
                sex: Sex::Female,
                birth_date: birth,
                death_date: if orphan {
                    Some(d("2019-04-04"))
                } else {
                    (i % 7 == 0).then(|| d("2026-03-03"))
                },
                later_child_date: (i % 23 == 0).then(|| d("2012-02-02")),
                dibao: i % 4 == 0,
                wubao: i % 13 == 0,
                chronically_ill: i % 6 == 0,
            };
            let father = Parent {
                sex: Sex::Male,
                birth_date: Date::new(year - 2, 1 + (i % 11) as i8, 1 + (i % 27) as i8)
                    .expect("date"),
                death_date: orphan.then(|| d("2020-08-08")),
                later_child_date: None,
                chronically_ill: i % 9 == 0,
                ..mother.clone()
            };
            let parents = if i % 10 == 0 {
                vec![father]
            } else {
                vec![mother, father]
            };
            let child = match i % 5 {
                0 | 1 => Child {
                    birth_date: d("1990-03-03"),
                    death_date: Some(if i % 20 == 1 {
                        d("2026-04-10")
                    } else {
                        d("2011-06-06")
                    }),
                    disabilities: vec![],
                },
                2 => Child {
                    birth_date: d("1992-03-03"),
                    death_date: None,
                    disabilities: vec![Disability {
                        grade: DisabilityGrade::new(1 + (i % 4) as i64).expect("grade"),
                        assessed: d("2016-01-01"),
                    }],
                },
                3 => Child {
                    birth_date: Date::new(2008 + (i % 8) as i16, 1 + (i % 12) as i8, 15)
                        .expect("date"),
                    death_date: None,
                    disabilities: vec![],
                },
                _ => Child {
                    birth_date: d("1993-03-03"),
                    death_date: None,
                    disabilities: vec![],
                },
            };
            let hukou = if i % 3 == 0 {
                Hukou::Urban
            } else {
                Hukou::Rural
            };
            Family::new(county, hukou, parents, child).expect("family")
        })
        .collect()
}

/// Two visits per family: a regular one in some month and a Spring Festival one in February.
fn visits() -> Vec<[VisitDone; 2]> {
    (0..1000)
        .map(|i| {
            [
                VisitDone {
                    on: Date::new(YEAR, 1 + (i % 12) as i8, 1 + (i % 28) as i8).expect("date"),
                    occasion: Occasion::Regular,
                },
                VisitDone {
                    on: Date::new(YEAR, 2, 1 + (i % 17) as i8).expect("date"),
                    occasion: Occasion::SpringFestival,
                },
            ]
        })
        .collect()
}

/// Plans `count` families (cycling through the 1,000): returns (periods, satisfied periods).
fn plan_families(
    count: usize,
    families: &[Family],
    visits: &[[VisitDone; 2]],
    policy: &Policy,
    holidays: &Holidays,
) -> (usize, usize) {
    let mut periods = 0;
    let mut satisfied = 0;
    for i in 0..count {
        let k = i % families.len();
        let needs = year_needs(black_box(&families[k]), YEAR, policy).expect("2026");
        let plan = plan_year(&needs, &policy.visits, holidays).expect("plan");
        let matched = match_visits(&plan, &visits[k]);
        periods += plan.len();
        satisfied += matched.iter().flatten().count();
    }
    (periods, satisfied)
}

/// The target: a year's schedule for 1,000,000 families, one core.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn plan_a_year_for_1m_families(bencher: Bencher) {
    const FAMILIES: usize = 1_000_000;
    let policy = Policy::embedded("linyi-2014").expect("pack");
    let holidays = Holidays::embedded().expect("holidays");
    let families = families();
    let visits = visits();
    bencher.counter(ItemsCount::new(FAMILIES)).bench(|| {
        black_box(plan_families(
            FAMILIES, &families, &visits, &policy, holidays,
        ))
    });
}

/// One family-year at a time, over the 1,000 families.
#[divan::bench]
fn plan_a_year_per_family(bencher: Bencher) {
    let policy = Policy::embedded("linyi-2014").expect("pack");
    let holidays = Holidays::embedded().expect("holidays");
    let families = families();
    let visits = visits();
    bencher.counter(ItemsCount::new(families.len())).bench(|| {
        black_box(plan_families(
            families.len(),
            &families,
            &visits,
            &policy,
            holidays,
        ))
    });
}
