//! Guanai's visit planner for 二(一) of 临政办发〔2014〕42号 (regular patrol visits 定期巡访, a
//! dedicated visitor 专人 for elderly or ill bereaved parents, visits at Spring Festival and
//! Mid-Autumn): a pure library — no I/O, no clock, no database, no async. Who needs which visits
//! in a month comes from the rules engine ([`guanai_rules::engine`]); how often is the policy
//! pack's [`guanai_rules::policy::VisitParams`]; this crate turns a year of needs into dated
//! periods ([`visits`]), with the festival dates from the verified table ([`holidays`]).

pub mod holidays;
pub mod visits;

pub use holidays::{Festival, HolidayError, Holidays};
pub use visits::{
    NeedLevel, Occasion, Period, PeriodKind, PeriodStatus, PlanError, VisitDone, YearNeeds,
    holiday_for_month, match_visits, need_for_month, plan_year, status, year_needs,
};
