//! Engine throughput: family-months per second over a varied set of families.
//! Run: `cargo bench -p guanai-rules --bench engine`

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use guanai_rules::calendar::parse_date;
use guanai_rules::engine::{evaluate, evaluate_traced};
use guanai_rules::explain::Reason;
use guanai_rules::facts::{Child, Disability, DisabilityGrade, Family, Hukou, Parent, Sex};
use guanai_rules::{CountyCode, Month, Policy};

fn main() {
    divan::main();
}

fn d(s: &str) -> jiff::civil::Date {
    parse_date(s).expect("date")
}

/// 1,000 families cycling through the kinds the engine distinguishes.
fn families() -> Vec<Family> {
    let county = CountyCode::parse("371321").expect("county");
    (0..1000)
        .map(|i| {
            let year = 1940 + (i % 40) as i16;
            let mother = Parent {
                sex: Sex::Female,
                birth_date: jiff::civil::Date::new(year, 1 + (i % 12) as i8, 1 + (i % 28) as i8)
                    .expect("date"),
                death_date: (i % 7 == 0).then(|| d("2018-05-05")),
                later_child_date: (i % 11 == 0).then(|| d("2012-02-02")),
                dibao: i % 5 == 0,
                wubao: i % 13 == 0,
                chronically_ill: i % 6 == 0,
            };
            let father = Parent {
                sex: Sex::Male,
                death_date: None,
                later_child_date: None,
                ..mother.clone()
            };
            let parents = if i % 10 == 0 {
                vec![father]
            } else {
                vec![mother, father]
            };
            let child = match i % 4 {
                0 | 1 => Child {
                    birth_date: d("1985-03-03"),
                    death_date: Some(d("2010-06-06")),
                    disabilities: vec![],
                },
                2 => Child {
                    birth_date: d("1986-03-03"),
                    death_date: None,
                    disabilities: vec![Disability {
                        grade: DisabilityGrade::new(1 + (i % 4) as i64).expect("grade"),
                        assessed: d("2009-01-01"),
                    }],
                },
                _ => Child {
                    birth_date: d("2008-03-03"),
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

fn months() -> Vec<Month> {
    let mut m = Month::parse("2014-01").expect("month");
    (0..144)
        .map(|_| {
            let this = m;
            m = m.next();
            this
        })
        .collect()
}

/// Plain evaluation, as a payment run uses it: 1,000 families × 144 months.
#[divan::bench]
fn evaluate_family_months(bencher: Bencher) {
    let policy = Policy::embedded("linyi-2014").expect("pack");
    let families = families();
    let months = months();
    bencher
        .counter(ItemsCount::new(families.len() * months.len()))
        .bench(|| {
            let mut total = 0i64;
            for f in &families {
                for &m in &months {
                    total += evaluate(black_box(f), m, &policy).monthly_total().get();
                }
            }
            total
        });
}

/// Evaluation with the reasons recorded, as `guanai eval` uses it.
#[divan::bench]
fn evaluate_traced_family_months(bencher: Bencher) {
    let policy = Policy::embedded("linyi-2014").expect("pack");
    let families = families();
    let months = months();
    bencher
        .counter(ItemsCount::new(families.len() * months.len()))
        .bench(|| {
            let mut trace: Vec<Reason> = Vec::with_capacity(16);
            let mut total = 0usize;
            for f in &families {
                for &m in &months {
                    trace.clear();
                    evaluate_traced(black_box(f), m, &policy, &mut trace);
                    total += trace.len();
                }
            }
            total
        });
}
