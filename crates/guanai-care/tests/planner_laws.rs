//! Laws of the visit planner (module doc of `guanai_care::visits`), over arbitrary needs,
//! frequencies and visits.

use guanai_care::{
    Festival, Holidays, NeedLevel, Occasion, Period, PeriodKind, PeriodStatus, VisitDone,
    YearNeeds, match_visits, plan_year, status,
};
use guanai_rules::policy::{VISIT_EVERY_MONTHS, VisitParams};
use jiff::civil::Date;
use jiff::{SignedDuration, ToSpan};
use proptest::prelude::*;

fn holidays() -> &'static Holidays {
    Holidays::embedded().expect("embedded holidays")
}

fn level() -> impl Strategy<Value = NeedLevel> {
    prop::sample::select(NeedLevel::ALL.to_vec())
}

fn needs() -> impl Strategy<Value = YearNeeds> {
    (
        2014i16..=2040,
        prop::array::uniform12(level()),
        prop::array::uniform12(any::<bool>()),
    )
        .prop_map(|(year, need, holiday)| YearNeeds {
            year,
            need,
            holiday,
        })
}

fn params() -> impl Strategy<Value = VisitParams> {
    let every = || prop::sample::select(VISIT_EVERY_MONTHS.to_vec());
    (every(), every(), 1u16..=90).prop_map(|(a, b, window)| VisitParams {
        high_need_every_months: a.min(b),
        regular_every_months: a.max(b),
        holiday_window_days: window,
    })
}

/// A visit between 1 November of the year before and 31 January of the year after.
fn visit(year: i16) -> impl Strategy<Value = VisitDone> {
    (0i64..457, prop::sample::select(Occasion::ALL.to_vec())).prop_map(move |(offset, occasion)| {
        let start = Date::new(year - 1, 11, 1).expect("1 November");
        VisitDone {
            on: start.saturating_add(SignedDuration::from_hours(24 * offset)),
            occasion,
        }
    })
}

fn case() -> impl Strategy<Value = (YearNeeds, VisitParams, Vec<VisitDone>, VisitDone)> {
    (needs(), params()).prop_flat_map(|(needs, params)| {
        (
            Just(needs),
            Just(params),
            prop::collection::vec(visit(needs.year), 0..8),
            visit(needs.year),
        )
    })
}

fn plan(needs: &YearNeeds, params: &VisitParams) -> Vec<Period> {
    plan_year(needs, params, holidays()).expect("years 2014–2040 plan")
}

fn month_bounds(year: i16, m: usize) -> (Date, Date) {
    let first = Date::new(year, m as i8 + 1, 1).expect("first day");
    (first, first.last_of_month())
}

fn regular(periods: &[Period]) -> impl Iterator<Item = &Period> {
    periods.iter().filter(|p| p.kind == PeriodKind::Regular)
}

/// Months (0 = January) a regular period spans, given that it lies in one year.
fn months_of(p: &Period) -> std::ops::RangeInclusive<usize> {
    (p.starts_on.month() as usize - 1)..=(p.due_on.month() as usize - 1)
}

fn overlap(a: &Period, b: &Period) -> bool {
    a.starts_on <= b.due_on && b.starts_on <= a.due_on
}

proptest! {
    #[test]
    fn each_month_with_a_need_is_in_exactly_one_regular_period((needs, params) in (needs(), params())) {
        let periods = plan(&needs, &params);
        for m in 0..12 {
            let (first, last) = month_bounds(needs.year, m);
            let covering = regular(&periods)
                .filter(|p| p.starts_on <= first && last <= p.due_on)
                .count();
            let touching = regular(&periods)
                .filter(|p| p.starts_on <= last && first <= p.due_on)
                .count();
            let expected = usize::from(needs.need[m] != NeedLevel::None);
            prop_assert_eq!(covering, expected, "month {}", m + 1);
            prop_assert_eq!(touching, expected, "month {}", m + 1);
        }
    }

    #[test]
    fn periods_of_one_kind_never_overlap((needs, params) in (needs(), params())) {
        let periods = plan(&needs, &params);
        for (i, a) in periods.iter().enumerate() {
            for b in &periods[i + 1..] {
                let same = (a.kind == PeriodKind::Regular) == (b.kind == PeriodKind::Regular);
                prop_assert!(!(same && overlap(a, b)), "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn regular_periods_lie_in_the_year_and_holiday_periods_end_on_the_festival(
        (needs, params) in (needs(), params())
    ) {
        let periods = plan(&needs, &params);
        let mut holiday_count = 0;
        for p in &periods {
            prop_assert!(p.starts_on <= p.due_on);
            match p.kind {
                PeriodKind::Regular => {
                    prop_assert_eq!(p.starts_on.year(), needs.year);
                    prop_assert_eq!(p.due_on.year(), needs.year);
                    prop_assert_eq!(p.starts_on.day(), 1);
                    prop_assert_eq!(p.due_on, p.due_on.last_of_month());
                    prop_assert!(p.level != NeedLevel::None);
                }
                PeriodKind::Holiday(festival) => {
                    holiday_count += 1;
                    let day = holidays().date(needs.year, festival).expect("in the table");
                    prop_assert_eq!(p.due_on, day);
                    prop_assert_eq!(
                        p.starts_on,
                        day.checked_sub(i64::from(params.holiday_window_days).days()).expect("date")
                    );
                    let month = day.month() as usize - 1;
                    prop_assert!(needs.holiday[month]);
                    prop_assert_eq!(p.level, needs.need[month]);
                }
            }
        }
        let festivals_due = Festival::ALL
            .into_iter()
            .filter(|f| {
                let day = holidays().date(needs.year, *f).expect("in the table");
                needs.holiday[day.month() as usize - 1]
            })
            .count();
        prop_assert_eq!(holiday_count, festivals_due);
        prop_assert!(periods.len() <= 14);
    }

    #[test]
    fn a_regular_period_is_one_level_within_one_block((needs, params) in (needs(), params())) {
        let periods = plan(&needs, &params);
        for p in regular(&periods) {
            let every = usize::from(match p.level {
                NeedLevel::High => params.high_need_every_months,
                _ => params.regular_every_months,
            });
            let months = months_of(p);
            // So a High period is never longer than `high_need_every_months`.
            prop_assert!(months.clone().count() <= every, "{p:?} longer than {every} months");
            prop_assert_eq!(months.start() / every, months.end() / every);
            for m in months {
                prop_assert_eq!(needs.need[m], p.level);
            }
        }
    }

    #[test]
    fn periods_are_ordered_by_due_date_regular_first((needs, params) in (needs(), params())) {
        let periods = plan(&needs, &params);
        let key = |p: &Period| (p.due_on, p.kind != PeriodKind::Regular);
        for pair in periods.windows(2) {
            prop_assert!(key(&pair[0]) < key(&pair[1]), "{:?} before {:?}", pair[0], pair[1]);
        }
    }

    #[test]
    fn a_matched_visit_is_the_earliest_that_fits((needs, params, visits, _) in case()) {
        let periods = plan(&needs, &params);
        let matched = match_visits(&periods, &visits);
        prop_assert_eq!(matched.len(), periods.len());
        for (p, m) in periods.iter().zip(&matched) {
            // Rule 4 restated independently of `Period::accepts`.
            let fitting: Vec<&VisitDone> = visits
                .iter()
                .filter(|v| {
                    let occasion_fits = match p.kind {
                        PeriodKind::Regular => true,
                        PeriodKind::Holiday(f) => v.occasion == Occasion::from(f),
                    };
                    occasion_fits && p.starts_on <= v.on && v.on <= p.due_on
                })
                .collect();
            match m {
                None => prop_assert!(fitting.is_empty()),
                Some(i) => {
                    let v = &visits[*i];
                    prop_assert!(v.on >= p.starts_on && v.on <= p.due_on);
                    if let PeriodKind::Holiday(f) = p.kind {
                        prop_assert_eq!(v.occasion, Occasion::from(f));
                    }
                    prop_assert!(fitting.iter().all(|w| w.on >= v.on));
                }
            }
        }
    }

    #[test]
    fn adding_a_visit_never_unsatisfies_a_period((needs, params, visits, extra) in case()) {
        let periods = plan(&needs, &params);
        let before = match_visits(&periods, &visits);
        let mut more = visits.clone();
        more.push(extra);
        let after = match_visits(&periods, &more);
        for (b, a) in before.iter().zip(&after) {
            prop_assert!(b.is_none() || a.is_some());
            if let (Some(b), Some(a)) = (b, a) {
                prop_assert!(more[*a].on <= more[*b].on);
            }
        }
    }

    #[test]
    fn a_visit_outside_a_period_never_satisfies_it((needs, params, _, v) in case()) {
        let periods = plan(&needs, &params);
        let matched = match_visits(&periods, &[v]);
        for (p, m) in periods.iter().zip(matched) {
            if v.on > p.due_on || v.on < p.starts_on {
                prop_assert_eq!(m, None, "{:?} satisfied {:?}", v, p);
            }
        }
    }

    #[test]
    fn overdue_starts_the_day_after_the_due_date(
        (needs, params) in (needs(), params()),
        soon in 0i32..60,
    ) {
        for p in plan(&needs, &params) {
            prop_assert_ne!(status(&p, None, p.due_on, soon), PeriodStatus::Overdue);
            prop_assert_eq!(status(&p, None, p.due_on, soon), PeriodStatus::DueSoon);
            let next = p.due_on.tomorrow().expect("tomorrow");
            prop_assert_eq!(status(&p, None, next, soon), PeriodStatus::Overdue);
            prop_assert_eq!(status(&p, Some(p.starts_on), next, soon), PeriodStatus::Done(p.starts_on));
            let before = p.starts_on.yesterday().expect("yesterday");
            prop_assert_eq!(status(&p, None, before, soon), PeriodStatus::NotYet);
        }
    }
}
