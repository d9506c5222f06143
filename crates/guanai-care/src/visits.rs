//! The visit plan of 二(一) (定期巡访、专人巡访、春节和中秋节走访慰问): which visits a family is due
//! in a calendar year ([`plan_year`]), which recorded visits satisfied them ([`match_visits`]),
//! and each period's standing on a given day ([`status`]). The engine decides who is entitled in a
//! month; this module only lays the entitlements out in time.
//!
//! # Rules (normative)
//!
//! **Needs.** For each month of the year, from the engine's evaluation of that month (so the
//! timing rule of spec §1 applies: a parent's 60th birthday in May gives a dedicated-visitor need
//! from June): the [`NeedLevel`] is `High` when any parent has `dedicated_visitor`, `Regular`
//! when any parent or the child (an orphan family) has `regular_visits`, `None` otherwise
//! ([`need_for_month`]); the holiday entitlement holds when anyone has `holiday_visits`
//! ([`holiday_for_month`]).
//!
//! **1. Regular periods.** Let every(`High`) = `visits.high_need_every_months` and
//! every(`Regular`) = `visits.regular_every_months`. Month *m* (0 = January) with need *L* ≠
//! `None` lies in block ⌊*m* / every(*L*)⌋. A maximal run of consecutive months with the same
//! level and the same block is one period, from the first day of its first month to the last day
//! of its last month, inclusive. Months with need `None` lie in no period. With the defaults
//! (3 and 1), a quarterly family that needs a dedicated visitor from May has the periods
//! January–March, April–May, June, July, …, December.
//!
//! **2. Holiday periods.** For each festival of the year (Spring Festival, Mid-Autumn; dates from
//! the [`Holidays`] table) whose month has the holiday entitlement: from
//! `visits.holiday_window_days` days before the festival up to and including the festival day.
//! A Spring Festival window may start in December of the year before; the period still belongs to
//! the year. Its level is the need of the festival's month. The table is consulted only when some
//! month has the holiday entitlement; if it then lacks the year, planning fails
//! ([`PlanError::NoHolidayDates`]) rather than guess a lunar date.
//!
//! **3. Order.** Periods are listed by due date; a regular period before a holiday period due the
//! same day.
//!
//! **4. Matching** ([`match_visits`]). A regular period is satisfied by any visit dated within it,
//! whatever its occasion; a holiday period only by a visit of that festival's occasion dated
//! within its window. Of several, the earliest is chosen (of visits on the same day, the first
//! listed). One visit may satisfy one regular and one holiday period at once; it never satisfies
//! two regular periods, since they do not overlap.
//!
//! **5. Status** ([`status`]) on a day: done if satisfied; otherwise overdue once the due date has
//! passed (on the due date itself it is not overdue), not yet started before its first day, due
//! soon when at most `due_soon_days` days remain, open otherwise.

use guanai_rules::calendar::Month;
use guanai_rules::engine::{Evaluation, ServiceKind, evaluate};
use guanai_rules::facts::Family;
use guanai_rules::policy::{Policy, PolicyError, VisitParams};
use jiff::SignedDuration;
use jiff::civil::Date;
use thiserror::Error;

use crate::holidays::{Festival, Holidays};

/// What a visit was made for (recorded with the visit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Occasion {
    /// 定期巡访 (a dedicated visitor's visit is also recorded as regular).
    Regular,
    /// 春节慰问.
    SpringFestival,
    /// 中秋慰问.
    MidAutumn,
}

impl Occasion {
    pub const ALL: [Occasion; 3] = [
        Occasion::Regular,
        Occasion::SpringFestival,
        Occasion::MidAutumn,
    ];

    /// The stored form: `regular`, `spring_festival`, `mid_autumn`.
    pub fn as_str(self) -> &'static str {
        match self {
            Occasion::Regular => "regular",
            Occasion::SpringFestival => "spring_festival",
            Occasion::MidAutumn => "mid_autumn",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Occasion> {
        Occasion::ALL.into_iter().find(|o| o.as_str() == text)
    }

    /// The word on screen: 定期巡访, 春节慰问, 中秋慰问.
    pub fn as_zh(self) -> &'static str {
        match self {
            Occasion::Regular => "定期巡访",
            Occasion::SpringFestival => "春节慰问",
            Occasion::MidAutumn => "中秋慰问",
        }
    }
}

impl From<Festival> for Occasion {
    fn from(festival: Festival) -> Occasion {
        match festival {
            Festival::SpringFestival => Occasion::SpringFestival,
            Festival::MidAutumn => Occasion::MidAutumn,
        }
    }
}

/// How much visiting a family needs in a month (二(一)); ordered `None < Regular < High`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NeedLevel {
    /// Not a special-difficulty family this month, or nobody in it is entitled to visits.
    None,
    /// 定期巡访: every `visits.regular_every_months` months.
    Regular,
    /// 专人巡访: a bereaved parent of 60 or over or chronically ill; every
    /// `visits.high_need_every_months` months.
    High,
}

impl NeedLevel {
    pub const ALL: [NeedLevel; 3] = [NeedLevel::None, NeedLevel::Regular, NeedLevel::High];

    /// The stored form: `none`, `regular`, `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            NeedLevel::None => "none",
            NeedLevel::Regular => "regular",
            NeedLevel::High => "high",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<NeedLevel> {
        NeedLevel::ALL.into_iter().find(|l| l.as_str() == text)
    }

    /// The word on screen: 无, 一般, 重点（专人） (distinct from the occasion 定期巡访).
    pub fn as_zh(self) -> &'static str {
        match self {
            NeedLevel::None => "无",
            NeedLevel::Regular => "一般",
            NeedLevel::High => "重点（专人）",
        }
    }
}

/// The need for one month from the engine's evaluation (二(一)): `High` when any parent has
/// [`ServiceKind::DedicatedVisitor`]; `Regular` when any parent or the child has
/// [`ServiceKind::RegularVisits`]; `None` otherwise.
pub fn need_for_month(eval: &Evaluation) -> NeedLevel {
    let [a, b] = eval.parent_services;
    if a.contains(ServiceKind::DedicatedVisitor) || b.contains(ServiceKind::DedicatedVisitor) {
        NeedLevel::High
    } else if [a, b, eval.child_services]
        .iter()
        .any(|s| s.contains(ServiceKind::RegularVisits))
    {
        NeedLevel::Regular
    } else {
        NeedLevel::None
    }
}

/// The holiday-visit entitlement for a month (二(一)): any person has
/// [`ServiceKind::HolidayVisits`].
pub fn holiday_for_month(eval: &Evaluation) -> bool {
    let [a, b] = eval.parent_services;
    [a, b, eval.child_services]
        .iter()
        .any(|s| s.contains(ServiceKind::HolidayVisits))
}

/// What a period is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodKind {
    /// A regular (or, at level `High`, dedicated-visitor) visit period.
    Regular,
    /// The window before a festival.
    Holiday(Festival),
}

impl PeriodKind {
    /// The occasion a visit records when it is made for this kind of period.
    pub fn occasion(self) -> Occasion {
        match self {
            PeriodKind::Regular => Occasion::Regular,
            PeriodKind::Holiday(festival) => Occasion::from(festival),
        }
    }

    /// The stored form, the same as the occasion's: `regular`, `spring_festival`, `mid_autumn`.
    pub fn as_str(self) -> &'static str {
        self.occasion().as_str()
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<PeriodKind> {
        Occasion::parse(text).map(|occasion| match occasion {
            Occasion::Regular => PeriodKind::Regular,
            Occasion::SpringFestival => PeriodKind::Holiday(Festival::SpringFestival),
            Occasion::MidAutumn => PeriodKind::Holiday(Festival::MidAutumn),
        })
    }

    /// Regular before holiday, for ordering periods due the same day.
    fn rank(self) -> u8 {
        match self {
            PeriodKind::Regular => 0,
            PeriodKind::Holiday(_) => 1,
        }
    }
}

/// A span of days within which one visit is due (rules 1 and 2 of the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub kind: PeriodKind,
    /// `Regular` or `High` for regular periods; the festival month's level for holiday periods.
    pub level: NeedLevel,
    pub starts_on: Date,
    /// The last day on which the visit is in time (inclusive).
    pub due_on: Date,
}

impl Period {
    /// Whether `visit` satisfies this period (rule 4): dated within it and, for a holiday period,
    /// made for that festival.
    pub fn accepts(&self, visit: &VisitDone) -> bool {
        let occasion_fits = match self.kind {
            PeriodKind::Regular => true,
            PeriodKind::Holiday(festival) => visit.occasion == Occasion::from(festival),
        };
        occasion_fits && self.starts_on <= visit.on && visit.on <= self.due_on
    }
}

/// A family's needs for each month of a year, index 0 = January.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct YearNeeds {
    pub year: i16,
    pub need: [NeedLevel; 12],
    pub holiday: [bool; 12],
}

/// Why a year cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    #[error(
        "the holidays table has no Spring Festival and Mid-Autumn dates for {0} (add the year to data/holidays.csv)"
    )]
    NoHolidayDates(i16),
    #[error("year {0} is outside 0001–9999")]
    YearOutOfRange(i16),
    #[error(transparent)]
    Params(#[from] PolicyError),
}

/// Most periods a year can have: 12 monthly ones and 2 festivals.
const MAX_PERIODS: usize = 14;

/// The periods of `needs.year` (rules 1–3 of the module doc), at most 14.
pub fn plan_year(
    needs: &YearNeeds,
    params: &VisitParams,
    holidays: &Holidays,
) -> Result<Vec<Period>, PlanError> {
    params.check()?;
    let year = needs.year;
    if !(1..=9999).contains(&year) {
        return Err(PlanError::YearOutOfRange(year));
    }
    let first_day = |month: usize| {
        // `month` < 12 and the year is checked above, so this is always `Ok`.
        Date::new(year, month as i8 + 1, 1).map_err(|_| PlanError::YearOutOfRange(year))
    };
    let every = |level: NeedLevel| match level {
        NeedLevel::High => usize::from(params.high_need_every_months),
        _ => usize::from(params.regular_every_months),
    };
    let mut periods = Vec::with_capacity(MAX_PERIODS);
    let mut m = 0;
    while m < 12 {
        let level = needs.need[m];
        if level == NeedLevel::None {
            m += 1;
            continue;
        }
        // `check` guarantees every(level) ≥ 1.
        let block = m / every(level);
        let start = m;
        while m + 1 < 12 && needs.need[m + 1] == level && (m + 1) / every(level) == block {
            m += 1;
        }
        periods.push(Period {
            kind: PeriodKind::Regular,
            level,
            starts_on: first_day(start)?,
            due_on: first_day(m)?.last_of_month(),
        });
        m += 1;
    }
    if needs.holiday.contains(&true) {
        let window = SignedDuration::from_hours(24 * i64::from(params.holiday_window_days));
        for festival in Festival::ALL {
            let day = holidays
                .date(year, festival)
                .ok_or(PlanError::NoHolidayDates(year))?;
            let month = usize::from(day.month().unsigned_abs()) - 1;
            if needs.holiday[month] {
                periods.push(Period {
                    kind: PeriodKind::Holiday(festival),
                    level: needs.need[month],
                    starts_on: day.saturating_sub(window),
                    due_on: day,
                });
            }
        }
        periods.sort_unstable_by_key(|p| (p.due_on, p.kind.rank()));
    }
    Ok(periods)
}

/// A visit made, as the planner needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VisitDone {
    pub on: Date,
    pub occasion: Occasion,
}

/// Which visit (index into `visits`) satisfies each period (rule 4): a regular period by any visit
/// dated within [starts_on, due_on]; a holiday period only by a visit of that festival's occasion
/// within its window. The earliest such visit is chosen (the first listed of the same day). A
/// visit may satisfy one regular and one holiday period at once.
pub fn match_visits(periods: &[Period], visits: &[VisitDone]) -> Vec<Option<usize>> {
    periods
        .iter()
        .map(|period| {
            visits
                .iter()
                .enumerate()
                .filter(|(_, visit)| period.accepts(visit))
                .min_by_key(|(i, visit)| (visit.on, *i))
                .map(|(i, _)| i)
        })
        .collect()
}

/// A period's standing on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodStatus {
    /// Satisfied by a visit on this day.
    Done(Date),
    /// Unsatisfied and its due date has passed.
    Overdue,
    /// Unsatisfied, started, and at most `due_soon_days` days remain.
    DueSoon,
    /// Unsatisfied, started, with time left.
    Open,
    /// Not started yet.
    NotYet,
}

impl PeriodStatus {
    /// The stored form: `done`, `overdue`, `due_soon`, `open`, `not_yet`.
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodStatus::Done(_) => "done",
            PeriodStatus::Overdue => "overdue",
            PeriodStatus::DueSoon => "due_soon",
            PeriodStatus::Open => "open",
            PeriodStatus::NotYet => "not_yet",
        }
    }

    /// The word on screen: 已走访, 逾期, 即将到期, 进行中, 未开始.
    pub fn as_zh(self) -> &'static str {
        match self {
            PeriodStatus::Done(_) => "已走访",
            PeriodStatus::Overdue => "逾期",
            PeriodStatus::DueSoon => "即将到期",
            PeriodStatus::Open => "进行中",
            PeriodStatus::NotYet => "未开始",
        }
    }
}

/// Status on `today` (rule 5): `Done` if matched; `Overdue` if `due_on < today`; `NotYet` if
/// `starts_on > today`; `DueSoon` if `due_on − today ≤ due_soon_days` days; `Open` otherwise.
pub fn status(
    period: &Period,
    matched: Option<Date>,
    today: Date,
    due_soon_days: i32,
) -> PeriodStatus {
    if let Some(on) = matched {
        PeriodStatus::Done(on)
    } else if period.due_on < today {
        PeriodStatus::Overdue
    } else if period.starts_on > today {
        PeriodStatus::NotYet
    } else if today.duration_until(period.due_on).as_hours() / 24 <= i64::from(due_soon_days) {
        PeriodStatus::DueSoon
    } else {
        PeriodStatus::Open
    }
}

/// Convenience for callers that have a [`Family`]: evaluates each month of `year` with
/// [`evaluate`] and reads the needs with [`need_for_month`] and [`holiday_for_month`]. `None` if
/// the year is outside [`Month`]'s range (0001–9999).
pub fn year_needs(family: &Family, year: i16, policy: &Policy) -> Option<YearNeeds> {
    let mut needs = YearNeeds {
        year,
        need: [NeedLevel::None; 12],
        holiday: [false; 12],
    };
    for (month, (need, holiday)) in (1..=12).zip(needs.need.iter_mut().zip(&mut needs.holiday)) {
        let eval = evaluate(family, Month::new(year, month)?, policy);
        *need = need_for_month(&eval);
        *holiday = holiday_for_month(&eval);
    }
    Some(needs)
}

#[cfg(test)]
mod tests;
