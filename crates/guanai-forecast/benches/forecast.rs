//! Forecast throughput: 100,000 synthetic families × 12 months, all cores.
//! Run: `cargo bench -p guanai-forecast --bench forecast`

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use guanai_forecast::{Mortality, Subject, forecast};
use guanai_rules::facts::{Child, Disability, DisabilityGrade, Family, Hukou, Parent, Sex};
use guanai_rules::{CountyCode, Month, Policy};
use jiff::civil::Date;

fn main() {
    divan::main();
}

const SUBJECTS: usize = 100_000;
const MONTHS: u16 = 12;

/// Deterministic families drawn with a 64-bit LCG: bereaved, disabled and other children,
/// one or two parents, some deaths and later children, every county.
fn subjects(n: usize) -> Vec<Subject> {
    let counties = CountyCode::all();
    let mut state: u64 = 42;
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
            let year = 1950 + next(35);
            let mother = Parent {
                sex: Sex::Female,
                birth_date: day(year, next(12), next(28)),
                death_date: (next(10) == 0).then(|| day(2015 + next(12), next(12), next(28))),
                later_child_date: (next(20) == 0).then(|| day(2015 + next(12), next(12), next(28))),
                dibao: next(5) == 0,
                wubao: next(13) == 0,
                chronically_ill: next(6) == 0,
            };
            let father = Parent {
                sex: Sex::Male,
                birth_date: day(year - next(4), next(12), next(28)),
                death_date: (next(10) == 0).then(|| day(2015 + next(12), next(12), next(28))),
                later_child_date: None,
                ..mother.clone()
            };
            let parents = match next(10) {
                0 => vec![father],
                1 => vec![mother],
                _ => vec![mother, father],
            };
            let birth = day(year + 22 + next(8), next(12), next(28));
            let event = day(2015 + next(13), next(12), next(28));
            let child = match next(4) {
                0 | 1 => Child {
                    birth_date: birth,
                    death_date: Some(event),
                    disabilities: vec![],
                },
                2 => Child {
                    birth_date: birth,
                    death_date: None,
                    disabilities: vec![Disability {
                        grade: DisabilityGrade::new(1 + next(4) as i64).expect("grade"),
                        assessed: event,
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
            let county = counties[next(counties.len() as u64) as usize];
            Subject {
                family: Family::new(county, hukou, parents, child).expect("family"),
                paid_grants: [next(2) == 0, next(2) == 0, next(2) == 0],
            }
        })
        .collect()
}

/// 100,000 families × 12 months with a mortality of 0.1% a month.
#[divan::bench(sample_count = 20)]
fn forecast_100k_families_12_months(bencher: Bencher) {
    let policy = Policy::embedded("linyi-2014").expect("pack");
    let subjects = subjects(SUBJECTS);
    let from = Month::parse("2027-01").expect("month");
    let mortality = Mortality::from_ppb(1_000_000).expect("rate");
    bencher
        .counter(ItemsCount::new(SUBJECTS * usize::from(MONTHS)))
        .bench(|| forecast(black_box(&subjects), &policy, from, MONTHS, &mortality).total());
}
