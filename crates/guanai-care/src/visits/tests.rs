//! One test per rule of the module doc, with concrete families evaluated by the engine.

use guanai_rules::area::CountyCode;
use guanai_rules::calendar::parse_date;
use guanai_rules::facts::{Child, Disability, DisabilityGrade, Hukou, Parent, Sex};

use super::*;

use NeedLevel::{High, None as No, Regular as Reg};

fn d(s: &str) -> Date {
    parse_date(s).expect("test date")
}

fn policy() -> Policy {
    Policy::embedded("linyi-2014").expect("embedded pack")
}

fn holidays() -> &'static Holidays {
    Holidays::embedded().expect("embedded holidays")
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

fn child(birth: &str) -> Child {
    Child {
        birth_date: d(birth),
        death_date: None,
        disabilities: vec![],
    }
}

fn family(parents: Vec<Parent>, child: Child) -> Family {
    Family::new(
        CountyCode::parse("371321").expect("county"),
        Hukou::Rural,
        parents,
        child,
    )
    .expect("consistent family")
}

fn regular(level: NeedLevel, from: &str, to: &str) -> Period {
    Period {
        kind: PeriodKind::Regular,
        level,
        starts_on: d(from),
        due_on: d(to),
    }
}

fn holiday(festival: Festival, level: NeedLevel, from: &str, to: &str) -> Period {
    Period {
        kind: PeriodKind::Holiday(festival),
        level,
        starts_on: d(from),
        due_on: d(to),
    }
}

fn plan(needs: &YearNeeds) -> Vec<Period> {
    plan_year(needs, &VisitParams::default(), holidays()).expect("plan")
}

fn plan_for(family: &Family, year: i16) -> Vec<Period> {
    plan(&year_needs(family, year, &policy()).expect("year in range"))
}

fn quarters_2026(level: NeedLevel) -> Vec<Period> {
    vec![
        regular(level, "2026-01-01", "2026-03-31"),
        regular(level, "2026-04-01", "2026-06-30"),
        regular(level, "2026-07-01", "2026-09-30"),
        regular(level, "2026-10-01", "2026-12-31"),
    ]
}

/// The quarters of 2026 with both festival windows (30 days by default) in due-date order.
fn quarterly_2026_with_festivals() -> Vec<Period> {
    let mut expected = quarters_2026(Reg);
    expected.insert(
        0,
        holiday(Festival::SpringFestival, Reg, "2026-01-18", "2026-02-17"),
    );
    expected.insert(
        3,
        holiday(Festival::MidAutumn, Reg, "2026-08-26", "2026-09-25"),
    );
    expected
}

fn visit(on: &str, occasion: Occasion) -> VisitDone {
    VisitDone {
        on: d(on),
        occasion,
    }
}

#[test]
fn a_bereaved_mother_turning_60_in_may_needs_a_dedicated_visitor_from_june() {
    let mut mother = parent(Sex::Female, "1966-05-10");
    mother.dibao = true;
    let mut child = child("1990-01-01");
    child.death_date = Some(d("2012-03-03"));
    let f = family(vec![mother], child);
    let needs = year_needs(&f, 2026, &policy()).expect("2026");
    // The birthday is an event (timing rule): it counts from the month after May.
    assert_eq!(
        needs.need,
        [
            Reg, Reg, Reg, Reg, Reg, High, High, High, High, High, High, High
        ]
    );
    assert_eq!(needs.holiday, [true; 12]);
    let mut expected = vec![
        holiday(Festival::SpringFestival, Reg, "2026-01-18", "2026-02-17"),
        regular(Reg, "2026-01-01", "2026-03-31"),
        regular(Reg, "2026-04-01", "2026-05-31"),
    ];
    for month in 6..=12 {
        let first = Date::new(2026, month, 1).expect("first day");
        expected.push(Period {
            kind: PeriodKind::Regular,
            level: High,
            starts_on: first,
            due_on: first.last_of_month(),
        });
    }
    expected.insert(
        6,
        holiday(Festival::MidAutumn, High, "2026-08-26", "2026-09-25"),
    );
    assert_eq!(plan(&needs), expected);
    // The year before, she is 58 turning 59: quarterly all year.
    assert_eq!(
        year_needs(&f, 2025, &policy()).map(|n| n.need),
        Some([Reg; 12])
    );
}

#[test]
fn a_chronically_ill_bereaved_father_is_visited_monthly_at_any_age() {
    let mut father = parent(Sex::Male, "1980-07-07");
    father.chronically_ill = true;
    let mut child = child("2005-01-01");
    child.death_date = Some(d("2020-03-03"));
    let periods = plan_for(&family(vec![father], child), 2026);
    let regular: Vec<&Period> = periods
        .iter()
        .filter(|p| p.kind == PeriodKind::Regular)
        .collect();
    assert_eq!(regular.len(), 12);
    assert!(regular.iter().all(|p| p.level == High));
    assert_eq!(periods.len(), 14);
}

#[test]
fn a_disabled_child_family_is_visited_quarterly_even_with_a_parent_over_60() {
    let mut child = child("1990-01-01");
    child.disabilities.push(Disability {
        grade: DisabilityGrade::new(2).expect("grade"),
        assessed: d("2015-06-01"),
    });
    // The dedicated visitor of 二(一) is for bereaved parents only.
    let f = family(vec![parent(Sex::Female, "1950-02-02")], child);
    assert_eq!(plan_for(&f, 2026), quarterly_2026_with_festivals());
}

#[test]
fn an_orphan_family_is_visited_quarterly_when_the_pack_says_so() {
    let mut mother = parent(Sex::Female, "1985-04-04");
    mother.death_date = Some(d("2020-01-01"));
    let mut father = parent(Sex::Male, "1983-04-04");
    father.death_date = Some(d("2021-01-01"));
    let f = family(vec![mother, father], child("2015-05-05"));
    let p = policy();
    assert!(p.services.orphan_visits);
    assert_eq!(plan_for(&f, 2026), quarterly_2026_with_festivals());

    let mut strict = p.clone();
    strict.services.orphan_visits = false;
    let needs = year_needs(&f, 2026, &strict).expect("2026");
    assert_eq!(needs.need, [No; 12]);
    assert_eq!(plan(&needs), vec![]);
}

#[test]
fn an_orphan_turning_18_stops_being_visited_the_month_after_the_birthday() {
    let mut mother = parent(Sex::Female, "1985-04-04");
    mother.death_date = Some(d("2020-01-01"));
    let f = family(vec![mother], child("2008-05-05"));
    let needs = year_needs(&f, 2026, &policy()).expect("2026");
    assert_eq!(
        needs.need,
        [Reg, Reg, Reg, Reg, Reg, No, No, No, No, No, No, No]
    );
    assert_eq!(
        plan(&needs),
        vec![
            holiday(Festival::SpringFestival, Reg, "2026-01-18", "2026-02-17"),
            regular(Reg, "2026-01-01", "2026-03-31"),
            regular(Reg, "2026-04-01", "2026-05-31"),
        ]
    );
}

#[test]
fn a_family_of_no_category_has_no_periods_in_any_year() {
    let f = family(vec![parent(Sex::Female, "1960-01-01")], child("1990-01-01"));
    let needs = year_needs(&f, 2026, &policy()).expect("2026");
    assert_eq!(needs.need, [No; 12]);
    assert_eq!(needs.holiday, [false; 12]);
    assert_eq!(plan(&needs), vec![]);
    // No holiday is due, so a year beyond the holidays table plans too.
    let later = year_needs(&f, 2050, &policy()).expect("2050");
    assert_eq!(plan(&later), vec![]);
}

#[test]
fn year_needs_is_none_outside_the_month_range() {
    let f = family(vec![], child("1990-01-01"));
    assert_eq!(year_needs(&f, 0, &policy()), None);
    assert_eq!(year_needs(&f, 10000, &policy()), None);
}

#[test]
fn months_of_one_level_form_calendar_blocks() {
    let mut needs = YearNeeds {
        year: 2026,
        need: [Reg; 12],
        holiday: [false; 12],
    };
    needs.need[7] = No; // August
    assert_eq!(
        plan(&needs),
        vec![
            regular(Reg, "2026-01-01", "2026-03-31"),
            regular(Reg, "2026-04-01", "2026-06-30"),
            regular(Reg, "2026-07-01", "2026-07-31"),
            regular(Reg, "2026-09-01", "2026-09-30"),
            regular(Reg, "2026-10-01", "2026-12-31"),
        ]
    );
}

#[test]
fn a_high_need_ending_mid_quarter_returns_to_the_quarter_s_rest() {
    let needs = YearNeeds {
        year: 2026,
        need: [
            High, High, High, High, High, High, High, Reg, Reg, Reg, Reg, Reg,
        ],
        holiday: [false; 12],
    };
    let periods = plan(&needs);
    assert_eq!(periods.len(), 9);
    assert_eq!(periods[6], regular(High, "2026-07-01", "2026-07-31"));
    assert_eq!(periods[7], regular(Reg, "2026-08-01", "2026-09-30"));
    assert_eq!(periods[8], regular(Reg, "2026-10-01", "2026-12-31"));
}

#[test]
fn other_frequencies_follow_the_pack() {
    let params = VisitParams {
        high_need_every_months: 2,
        regular_every_months: 6,
        holiday_window_days: 10,
    };
    let needs = YearNeeds {
        year: 2026,
        need: [
            Reg, Reg, Reg, High, High, High, High, High, Reg, Reg, Reg, Reg,
        ],
        holiday: [true; 12],
    };
    assert_eq!(
        plan_year(&needs, &params, holidays()),
        Ok(vec![
            holiday(Festival::SpringFestival, Reg, "2026-02-07", "2026-02-17"),
            regular(Reg, "2026-01-01", "2026-03-31"),
            regular(High, "2026-04-01", "2026-04-30"),
            regular(High, "2026-05-01", "2026-06-30"),
            regular(High, "2026-07-01", "2026-08-31"),
            holiday(Festival::MidAutumn, Reg, "2026-09-15", "2026-09-25"),
            regular(Reg, "2026-09-01", "2026-12-31"),
        ])
    );
}

#[test]
fn a_spring_festival_window_may_start_in_the_year_before() {
    // 春节 2025 is 29 January: 30 days before is 30 December 2024.
    let needs = YearNeeds {
        year: 2025,
        need: [Reg; 12],
        holiday: [true; 12],
    };
    let periods = plan(&needs);
    assert_eq!(
        periods[0],
        holiday(Festival::SpringFestival, Reg, "2024-12-30", "2025-01-29")
    );
}

#[test]
fn only_a_festival_whose_month_has_the_entitlement_gets_a_period() {
    let mut needs = YearNeeds {
        year: 2026,
        need: [Reg; 12],
        holiday: [false; 12],
    };
    needs.holiday[8] = true; // September: 中秋 2026-09-25 only
    let holidays: Vec<PeriodKind> = plan(&needs)
        .into_iter()
        .map(|p| p.kind)
        .filter(|k| *k != PeriodKind::Regular)
        .collect();
    assert_eq!(holidays, vec![PeriodKind::Holiday(Festival::MidAutumn)]);
    needs.holiday = [false; 12];
    needs.holiday[0] = true; // January: 春节 2026 is in February
    assert_eq!(plan(&needs), quarters_2026(Reg));
}

#[test]
fn planning_needs_the_festival_dates_and_valid_parameters() {
    let needs = YearNeeds {
        year: 2041,
        need: [Reg; 12],
        holiday: [true; 12],
    };
    let err = plan_year(&needs, &VisitParams::default(), holidays()).expect_err("2041");
    assert_eq!(err, PlanError::NoHolidayDates(2041));
    assert_eq!(
        err.to_string(),
        "the holidays table has no Spring Festival and Mid-Autumn dates for 2041 (add the year to data/holidays.csv)"
    );
    let zero = YearNeeds { year: 0, ..needs };
    assert_eq!(
        plan_year(&zero, &VisitParams::default(), holidays()),
        Err(PlanError::YearOutOfRange(0))
    );
    let bad = VisitParams {
        regular_every_months: 0,
        ..VisitParams::default()
    };
    let err = plan_year(
        &YearNeeds {
            year: 2026,
            ..needs
        },
        &bad,
        holidays(),
    )
    .expect_err("0");
    assert!(
        err.to_string()
            .starts_with("policy key `visits.regular_every_months`: 0 months"),
        "{err}"
    );
}

#[test]
fn a_regular_period_takes_any_visit_within_it_and_the_earliest() {
    let periods = quarterly_2026_with_festivals();
    let visits = [
        visit("2026-03-20", Occasion::Regular),
        visit("2026-02-10", Occasion::SpringFestival),
        visit("2026-05-05", Occasion::Regular),
        visit("2026-05-05", Occasion::Regular),
        visit("2026-09-20", Occasion::SpringFestival),
    ];
    assert_eq!(
        match_visits(&periods, &visits),
        vec![
            Some(1), // 春节 window: the 春节 visit
            Some(1), // Q1: the same 春节 visit, earlier than 20 March
            Some(2), // Q2: the first of two visits on 5 May
            None,    // 中秋 window: a visit recorded for 春节 does not count
            Some(4), // Q3: any occasion counts for a regular period
            None,    // Q4
        ]
    );
}

#[test]
fn a_holiday_period_takes_only_its_festival_within_the_window() {
    let sf = holiday(Festival::SpringFestival, Reg, "2026-01-18", "2026-02-17");
    let at = |on: &str, occasion| match_visits(&[sf], &[visit(on, occasion)]);
    assert_eq!(at("2026-01-18", Occasion::SpringFestival), vec![Some(0)]);
    assert_eq!(at("2026-02-17", Occasion::SpringFestival), vec![Some(0)]);
    assert_eq!(at("2026-01-17", Occasion::SpringFestival), vec![None]);
    assert_eq!(at("2026-02-18", Occasion::SpringFestival), vec![None]);
    assert_eq!(at("2026-02-01", Occasion::Regular), vec![None]);
    assert_eq!(at("2026-02-01", Occasion::MidAutumn), vec![None]);
}

#[test]
fn status_boundaries() {
    let q1 = regular(Reg, "2026-01-01", "2026-03-31");
    let on = |today: &str| status(&q1, None, d(today), 14);
    assert_eq!(on("2025-12-31"), PeriodStatus::NotYet);
    assert_eq!(on("2026-01-01"), PeriodStatus::Open);
    assert_eq!(on("2026-03-16"), PeriodStatus::Open);
    assert_eq!(on("2026-03-17"), PeriodStatus::DueSoon);
    assert_eq!(on("2026-03-31"), PeriodStatus::DueSoon);
    assert_eq!(on("2026-04-01"), PeriodStatus::Overdue);
    assert_eq!(
        status(&q1, Some(d("2026-02-02")), d("2026-06-01"), 14),
        PeriodStatus::Done(d("2026-02-02"))
    );
    // A window shorter than the due-soon days is due soon from its first day.
    let short = holiday(Festival::SpringFestival, Reg, "2026-02-07", "2026-02-17");
    assert_eq!(
        status(&short, None, d("2026-02-07"), 14),
        PeriodStatus::DueSoon
    );
    assert_eq!(
        status(&short, None, d("2026-02-06"), 14),
        PeriodStatus::NotYet
    );
}

#[test]
fn names_round_trip() {
    for o in Occasion::ALL {
        assert_eq!(Occasion::parse(o.as_str()), Some(o));
    }
    assert_eq!(
        Occasion::ALL.map(Occasion::as_zh),
        ["定期巡访", "春节慰问", "中秋慰问"]
    );
    assert_eq!(Occasion::parse("Regular"), None);
    for l in NeedLevel::ALL {
        assert_eq!(NeedLevel::parse(l.as_str()), Some(l));
    }
    assert_eq!(
        NeedLevel::ALL.map(NeedLevel::as_zh),
        ["无", "一般", "重点（专人）"]
    );
    assert!(No < Reg && Reg < High);
    for k in [
        PeriodKind::Regular,
        PeriodKind::Holiday(Festival::SpringFestival),
        PeriodKind::Holiday(Festival::MidAutumn),
    ] {
        assert_eq!(PeriodKind::parse(k.as_str()), Some(k));
    }
    let all = [
        PeriodStatus::Done(d("2026-01-01")),
        PeriodStatus::Overdue,
        PeriodStatus::DueSoon,
        PeriodStatus::Open,
        PeriodStatus::NotYet,
    ];
    assert_eq!(
        all.map(PeriodStatus::as_str),
        ["done", "overdue", "due_soon", "open", "not_yet"]
    );
    assert_eq!(
        all.map(PeriodStatus::as_zh),
        ["已走访", "逾期", "即将到期", "进行中", "未开始"]
    );
}
