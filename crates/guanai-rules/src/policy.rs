//! Policy packs: every parameter of the rules as data with start months (rates, grant amounts,
//! ages, cut-off dates, service parameters incl. the counties' medical relief tables (二(三)) and
//! the funeral cap (二(五)), the visit frequencies (二(一)), the arrears limit of payment runs,
//! adjustment weights), loaded from
//! TOML and checked for consistency. Formulas live in [`crate::engine`] and [`crate::claims`];
//! nothing here computes an entitlement.

use std::fmt;

use jiff::civil::Date;
use serde::Deserialize;
use thiserror::Error;

use crate::area::CountyCode;
use crate::calendar::{Month, parse_date};
use crate::facts::{DisabilityGrade, Hukou};
use crate::money::Fen;

/// Packs embedded in the binary, by name.
const EMBEDDED: &[(&str, &str)] = &[(
    "linyi-2014",
    include_str!("../../../policies/linyi-2014.toml"),
)];

/// The largest amount a pack may state (1,000,000 yuan), so that sums can never overflow.
const MAX_FEN: i64 = 100_000_000;

/// The most months a payment run may reach back for arrears (20 years).
const MAX_ARREARS_MONTHS: u16 = 240;

/// Why a policy pack cannot be used. `key` is the TOML key path.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    #[error("unknown policy pack `{name}` (known: {known})")]
    Unknown { name: String, known: String },
    #[error("policy file is not valid: {0}")]
    Syntax(String),
    #[error("policy key `{key}`: {problem}")]
    Invalid { key: String, problem: String },
}

fn invalid(key: impl Into<String>, problem: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        key: key.into(),
        problem: problem.into(),
    }
}

/// An amount per household registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByHukou {
    pub urban: i64,
    pub rural: i64,
}

impl ByHukou {
    pub fn get(&self, hukou: Hukou) -> Fen {
        Fen(match hukou {
            Hukou::Urban => self.urban,
            Hukou::Rural => self.rural,
        })
    }
}

/// One row of a rate table: monthly amounts per person from `from` until the next row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateRow {
    pub from: Month,
    pub source: String,
    pub bereaved: ByHukou,
    pub disabled: ByHukou,
}

/// Which table a rate row came from (for explanations and funding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateTable {
    National,
    Provincial,
    Local,
}

impl RateTable {
    pub fn key(self) -> &'static str {
        match self {
            RateTable::National => "national_standard",
            RateTable::Provincial => "provincial_standard",
            RateTable::Local => "local_rate",
        }
    }
}

/// An exact non-negative ratio, written as `30%`, `1/3` or a decimal like `0.3`.
#[derive(Clone, PartialEq, Eq)]
pub struct Ratio {
    pub numerator: i64,
    pub denominator: i64,
    text: String,
}

impl Ratio {
    pub fn parse(text: &str) -> Option<Ratio> {
        let t = text.trim();
        let (numerator, denominator) = if let Some(pct) = t.strip_suffix('%') {
            let d = Decimal::parse(pct)?;
            (d.nanos, 100 * Decimal::SCALE)
        } else if let Some((n, d)) = t.split_once('/') {
            (n.trim().parse().ok()?, d.trim().parse().ok()?)
        } else {
            (Decimal::parse(t)?.nanos, Decimal::SCALE)
        };
        let (numerator, denominator) = (
            i64::try_from(numerator).ok()?,
            i64::try_from(denominator).ok()?,
        );
        (numerator >= 0 && denominator > 0).then(|| Ratio {
            numerator,
            denominator,
            text: t.to_owned(),
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// `amount × ratio`, rounded DOWN to the fen (toward −∞), so that a payer applying a
    /// ratio never pays more than the ratio gives; saturates at the bounds of `i64`.
    pub fn apply_floor(&self, amount: Fen) -> Fen {
        let product = i128::from(amount.get()) * i128::from(self.numerator);
        // `denominator > 0` is guaranteed by `parse`, the only constructor.
        let quotient = product.div_euclid(i128::from(self.denominator));
        Fen(i64::try_from(quotient).unwrap_or(if quotient < 0 { i64::MIN } else { i64::MAX }))
    }

    /// Whether `0 < ratio ≤ 1`.
    fn is_proper_share(&self) -> bool {
        self.numerator > 0 && self.numerator <= self.denominator
    }
}

impl fmt::Debug for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ratio({})", self.text)
    }
}

/// An exact decimal with up to 9 fractional digits (stored as billionths), for indices and weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Decimal {
    pub nanos: i128,
}

impl Decimal {
    pub const SCALE: i128 = 1_000_000_000;

    /// Parses `-0.081`, `0.25`, `1`, `.5`; at most 9 fractional digits, no exponent.
    pub fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim();
        let (negative, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        if (int.is_empty() && frac.is_empty())
            || frac.len() > 9
            || int.len() > 18
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut frac_nanos: i128 = if frac.is_empty() {
            0
        } else {
            frac.parse().ok()?
        };
        for _ in frac.len()..9 {
            frac_nanos *= 10;
        }
        let nanos = int * Decimal::SCALE + frac_nanos;
        Some(Decimal {
            nanos: if negative { -nanos } else { nanos },
        })
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.nanos < 0 { "-" } else { "" };
        let abs = self.nanos.unsigned_abs();
        let int = abs / Decimal::SCALE as u128;
        let frac = format!("{:09}", abs % Decimal::SCALE as u128);
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            write!(f, "{sign}{int}")
        } else {
            write!(f, "{sign}{int}.{frac}")
        }
    }
}

/// Age thresholds and the birth cut-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eligibility {
    /// 49: the age for special assistance and medical relief (二(二), 二(三)).
    pub assistance_age: i16,
    /// 18: an orphan is a child under this age.
    pub orphan_age_limit: i16,
    /// 60: 五保 inclusion and dedicated visitors.
    pub elderly_age: i16,
    /// Parents born before this date are outside the national scheme.
    pub earliest_birth_date: Date,
}

/// One-time grant amounts (二(二)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeAmounts {
    pub bereaved_grant: Fen,
    pub orphan_grant: Fen,
    /// Indexed by grade 1, 2, 3.
    pub disabled_grant: [Fen; 3],
}

impl OneTimeAmounts {
    /// The disabled grant for a grade; `None` for grade 4.
    pub fn disabled_grant(&self, grade: DisabilityGrade) -> Option<Fen> {
        self.disabled_grant
            .get(usize::from(grade.get()) - 1)
            .copied()
    }
}

/// One county's medical relief parameters (二(三)), in force from `from` until the county's next
/// row. The notice leaves ratio and cap to each county (spec §6: no default amount).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedicalReliefRow {
    pub county: CountyCode,
    pub from: Month,
    /// The share of the personal burden after insurance that is relieved, `0 < ratio ≤ 1`.
    pub ratio: Ratio,
    /// The most relief per parent and calendar year (> 0).
    pub annual_cap: Fen,
}

/// Parameters of the service entitlements (spec §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceParams {
    pub dibao_uplift: Ratio,
    /// 二(三) medical relief, per county; each county's rows in increasing `from` order.
    /// Look rows up with [`Policy::medical_relief`].
    pub medical_relief: Vec<MedicalReliefRow>,
    /// 二(五) funeral reimbursement cap per deceased parent; `None`: the invoice of the basic
    /// funeral service fees is reimbursed in full.
    pub funeral_reimbursement_cap: Option<Fen>,
    pub orphan_visits: bool,
}

/// The visit frequencies a pack may choose from: the divisors of 12, so that every period is a
/// calendar block of the year (January–March, April–June, … for 3).
pub const VISIT_EVERY_MONTHS: [u8; 6] = [1, 2, 3, 4, 6, 12];

/// The longest holiday-visit window a pack may set, in days.
const MAX_HOLIDAY_WINDOW_DAYS: u16 = 90;

/// 二(一) visit frequencies (the notice gives none; stated defaults of the pack).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitParams {
    /// Months per regular visit for a family with a dedicated-visitor need (a bereaved parent 60+
    /// or chronically ill): default 1.
    pub high_need_every_months: u8,
    /// Months per regular visit for every other special-difficulty family: default 3.
    pub regular_every_months: u8,
    /// A holiday visit counts when made this many days before the festival, up to and including
    /// its day: default 30.
    pub holiday_window_days: u16,
}

/// Casework parameters (issue 6). The notice sets none of them: they follow the national
/// procedure (申请、村级初审并公示、乡镇审核、县级审批) and are stated defaults of the pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseworkParams {
    /// Days an application's public notice (公示) stays posted: default 7.
    pub notice_days: u16,
    /// The day of each year by which every enrolled parent must be re-confirmed (年度资格确认),
    /// as (month, day): default 31 March. Payment is suspended from the next month for anyone
    /// on the year's list not confirmed by then.
    pub reconfirm_deadline: (i8, i8),
    /// Days to answer a complaint or objection (异议/投诉) before it is escalated: default 15.
    pub complaint_answer_days: u16,
    /// Who approves a change of the archive's facts (变更审批, issue 6).
    pub change_approval: ChangeApproval,
}

impl Default for CaseworkParams {
    fn default() -> CaseworkParams {
        CaseworkParams {
            notice_days: 7,
            reconfirm_deadline: (3, 31),
            complaint_answer_days: 15,
            change_approval: ChangeApproval::default(),
        }
    }
}

impl CaseworkParams {
    /// The level that approves recording (or correcting, or withdrawing) a fact of `kind`
    /// (`FactValue::kind` of the archive). Kinds the pack does not list need no approval
    /// ([`ApprovalLevel::Village`]).
    pub fn approval_for(&self, kind: &str) -> ApprovalLevel {
        let a = &self.change_approval;
        match kind {
            "death" => a.death,
            "later_child" => a.later_child,
            "registration" => a.registration,
            "disability" => a.disability,
            _ => ApprovalLevel::Village,
        }
    }
}

/// The indicators of the county assessment (三(三)), as `[assessment.weights]` names them.
pub const ASSESSMENT_INDICATORS: [&str; 9] = [
    "payments_on_time",
    "arrears_outstanding",
    "recoveries_outstanding",
    "reconfirmation",
    "visit_coverage",
    "holiday_visits",
    "data_completeness",
    "dedicated_visitor",
    "spot_checks",
];

/// Assessment and publicity parameters (issue 7; 三(三), 三(四)). The notice names the assessment
/// but not its indicators, weights or thresholds: these are stated defaults of the pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentParams {
    /// Points per indicator (names from [`ASSESSMENT_INDICATORS`]), in that order; 0 leaves an
    /// indicator out. Default: 20, 10, 10, 10, 15, 10, 10, 10, 5 (100 in all).
    pub weights: Vec<(&'static str, u32)>,
    /// A month's run sent to the bank by this day of the month counts as on time: default 25.
    pub on_time_day: i8,
    /// Public figures: a count of families or persons under this is withheld (三(四)): default 5.
    pub min_public_cell: i64,
    /// Families drawn per county for a spot check unless the inspector says otherwise: default 20.
    pub spot_check_size: i64,
}

impl Default for AssessmentParams {
    fn default() -> AssessmentParams {
        AssessmentParams {
            weights: ASSESSMENT_INDICATORS
                .iter()
                .copied()
                .zip([20, 10, 10, 10, 15, 10, 10, 10, 5])
                .collect(),
            on_time_day: 25,
            min_public_cell: 5,
            spot_check_size: 20,
        }
    }
}

/// A level of the administration that approves casework, lowest first (ordered by level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApprovalLevel {
    /// 村级: the village records directly (no approval).
    Village,
    /// 乡镇审核.
    Township,
    /// 县级审批.
    County,
    /// 市级.
    City,
}

impl ApprovalLevel {
    pub const ALL: [ApprovalLevel; 4] = [
        ApprovalLevel::Village,
        ApprovalLevel::Township,
        ApprovalLevel::County,
        ApprovalLevel::City,
    ];

    /// The pack's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalLevel::Village => "village",
            ApprovalLevel::Township => "township",
            ApprovalLevel::County => "county",
            ApprovalLevel::City => "city",
        }
    }

    pub fn parse(text: &str) -> Option<ApprovalLevel> {
        ApprovalLevel::ALL.into_iter().find(|l| l.as_str() == text)
    }

    /// 村/乡镇/县区/市.
    pub fn as_zh(self) -> &'static str {
        match self {
            ApprovalLevel::Village => "村",
            ApprovalLevel::Township => "乡镇",
            ApprovalLevel::County => "县区",
            ApprovalLevel::City => "市",
        }
    }
}

impl fmt::Display for ApprovalLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The approving level per kind of change (`[casework] change_approval`). The notice names no
/// level; the defaults follow the national procedure's (乡镇审核、县级审批).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeApproval {
    /// A death: default the township.
    pub death: ApprovalLevel,
    /// A later child by birth or adoption: default the county.
    pub later_child: ApprovalLevel,
    /// A move between counties or villages (a new registration): default the county.
    pub registration: ApprovalLevel,
    /// A disability re-assessment or recovery: default the county.
    pub disability: ApprovalLevel,
}

impl Default for ChangeApproval {
    fn default() -> ChangeApproval {
        ChangeApproval {
            death: ApprovalLevel::Township,
            later_child: ApprovalLevel::County,
            registration: ApprovalLevel::County,
            disability: ApprovalLevel::County,
        }
    }
}

impl Default for VisitParams {
    /// The pack's stated defaults: monthly for a high need, quarterly otherwise, 30 days' window.
    fn default() -> VisitParams {
        VisitParams {
            high_need_every_months: 1,
            regular_every_months: 3,
            holiday_window_days: 30,
        }
    }
}

impl VisitParams {
    /// Checks the values as a pack must state them (errors name the `visits.*` key): each
    /// frequency one of [`VISIT_EVERY_MONTHS`], the high-need one not less frequent than the
    /// regular one, the window 1–90 days. The fields are public, so a planner given hand-built
    /// parameters checks them here too.
    pub fn check(&self) -> Result<(), PolicyError> {
        for (key, every) in [
            ("visits.high_need_every_months", self.high_need_every_months),
            ("visits.regular_every_months", self.regular_every_months),
        ] {
            if !VISIT_EVERY_MONTHS.contains(&every) {
                return Err(invalid(key, every_months_problem(every)));
            }
        }
        if self.high_need_every_months > self.regular_every_months {
            return Err(invalid(
                "visits.high_need_every_months",
                format!(
                    "a family needing a dedicated visitor must be visited at least as often as any other, but {} months is longer than visits.regular_every_months = {}",
                    self.high_need_every_months, self.regular_every_months
                ),
            ));
        }
        if !(1..=MAX_HOLIDAY_WINDOW_DAYS).contains(&self.holiday_window_days) {
            return Err(invalid(
                "visits.holiday_window_days",
                window_days_problem(self.holiday_window_days),
            ));
        }
        Ok(())
    }
}

fn every_months_problem(value: impl fmt::Display) -> String {
    format!(
        "{value} months is not one of 1, 2, 3, 4, 6, 12 (a period must be a calendar block of the year)"
    )
}

fn window_days_problem(value: impl fmt::Display) -> String {
    format!("{value} days is outside 1..={MAX_HOLIDAY_WINDOW_DAYS}")
}

/// Parameters of payment runs (the notice is silent; stated defaults of the pack).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentParams {
    /// How many months before its own month a payment run still pays arrears (补发), 0–240;
    /// 0 means no arrears. See [`Policy::earliest_arrears_month`].
    pub arrears_limit_months: u16,
}

/// Weights of the dynamic adjustment (spec §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdjustmentWeights {
    pub urban_income: Decimal,
    pub rural_income: Decimal,
    pub cpi: Decimal,
    pub round_up_to: Fen,
}

/// A checked policy pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    pub title: String,
    /// The Linyi start month: local rates and one-time grants apply from here.
    pub start: Month,
    /// National special assistance exists from this month.
    pub programme_start: Month,
    pub eligibility: Eligibility,
    pub national_standard: Vec<RateRow>,
    pub provincial_standard: Vec<RateRow>,
    pub local_rate: Vec<RateRow>,
    pub one_time: OneTimeAmounts,
    pub services: ServiceParams,
    /// 二(一) visit frequencies; the pack's `[visits]` table, defaults when it is absent.
    pub visits: VisitParams,
    /// Casework deadlines; the pack's `[casework]` table, defaults when it is absent.
    pub casework: CaseworkParams,
    /// Assessment weights and publicity threshold; the pack's `[assessment]` table, defaults
    /// when it is absent.
    pub assessment: AssessmentParams,
    pub payments: PaymentParams,
    pub adjustment: AdjustmentWeights,
}

/// The TOML text of an embedded pack, as shipped (with its comments).
pub fn embedded_text(name: &str) -> Option<&'static str> {
    EMBEDDED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

impl Policy {
    /// The names of the packs embedded in the binary.
    pub fn embedded_names() -> Vec<&'static str> {
        EMBEDDED.iter().map(|(name, _)| *name).collect()
    }

    /// An embedded pack by name (e.g. `linyi-2014`).
    pub fn embedded(name: &str) -> Result<Policy, PolicyError> {
        let (_, text) =
            EMBEDDED
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| PolicyError::Unknown {
                    name: name.to_owned(),
                    known: Policy::embedded_names().join(", "),
                })?;
        Policy::from_toml(text)
    }

    /// Parses and checks a pack from TOML text.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let raw: raw::Pack =
            toml::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        raw.check()
    }

    /// The row of `table` in force in `month`, if any.
    pub fn row_in_force(&self, table: RateTable, month: Month) -> Option<&RateRow> {
        let rows = match table {
            RateTable::National => &self.national_standard,
            RateTable::Provincial => &self.provincial_standard,
            RateTable::Local => &self.local_rate,
        };
        rows.iter().rev().find(|r| r.from <= month)
    }

    /// The medical relief parameters (二(三)) `county` has in force in `month`: its row with the
    /// latest `from` not after `month`. `None` when the county has set none for that month.
    pub fn medical_relief(&self, county: CountyCode, month: Month) -> Option<&MedicalReliefRow> {
        self.services
            .medical_relief
            .iter()
            .rev()
            .find(|r| r.county == county && r.from <= month)
    }

    /// The earliest month for which a payment run for `run_month` still pays arrears (补发):
    /// `run_month` minus `payments.arrears_limit_months` months (saturating at 0001-01).
    /// A run for month R pays arrears for exactly the months M with
    /// `earliest_arrears_month(R) <= M < R`, i.e. `1 <= M.months_until(R) <= arrears_limit_months`:
    /// with the default 24, a run for 2026-12 pays arrears for 2024-12 through 2026-11, and not
    /// for 2024-11. With a limit of 0 this is `run_month` itself: no arrears.
    pub fn earliest_arrears_month(&self, run_month: Month) -> Month {
        (0..self.payments.arrears_limit_months).fold(run_month, |m, _| m.prev())
    }
}

/// The TOML shape, before checking.
mod raw {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Pack {
        pack: Header,
        eligibility: Eligibility,
        national_standard: Vec<Row>,
        #[serde(default)]
        provincial_standard: Vec<Row>,
        #[serde(default)]
        local_rate: Vec<Row>,
        one_time: OneTime,
        services: Services,
        #[serde(default)]
        medical_relief: Vec<MedicalRelief>,
        /// Absent in packs written before visits were planned: the stated defaults apply.
        #[serde(default)]
        visits: Visits,
        /// Absent in packs written before casework: the stated defaults apply.
        #[serde(default)]
        casework: Casework,
        /// Absent in packs written before the assessment: the stated defaults apply.
        #[serde(default)]
        assessment: Assessment,
        payments: Payments,
        adjustment: Adjustment,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Header {
        name: String,
        title: String,
        start: String,
        programme_start: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Eligibility {
        assistance_age: i64,
        orphan_age_limit: i64,
        elderly_age: i64,
        earliest_birth_date: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Row {
        from: String,
        #[serde(default)]
        source: String,
        bereaved: ByHukou,
        disabled: ByHukou,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct OneTime {
        bereaved_grant: i64,
        orphan_grant: i64,
        disabled_grant: DisabledGrant,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct DisabledGrant {
        grade_1: i64,
        grade_2: i64,
        grade_3: i64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Services {
        dibao_uplift: String,
        funeral_reimbursement_cap_fen: Option<i64>,
        #[serde(default = "yes")]
        orphan_visits: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct MedicalRelief {
        county: String,
        from: String,
        ratio: String,
        annual_cap_fen: i64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Payments {
        arrears_limit_months: i64,
    }

    fn yes() -> bool {
        true
    }

    /// `[visits]`; each key defaults on its own, so a pack may state only the one it changes.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Visits {
        high_need_every_months: i64,
        regular_every_months: i64,
        holiday_window_days: i64,
    }

    impl Default for Visits {
        fn default() -> Visits {
            let d = VisitParams::default();
            Visits {
                high_need_every_months: i64::from(d.high_need_every_months),
                regular_every_months: i64::from(d.regular_every_months),
                holiday_window_days: i64::from(d.holiday_window_days),
            }
        }
    }

    /// `[casework]`; each key defaults on its own.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Casework {
        notice_days: i64,
        reconfirm_deadline: String,
        complaint_answer_days: i64,
        /// Fact kind → level; checked key by key so an error names it.
        change_approval: BTreeMap<String, String>,
    }

    impl Default for Casework {
        fn default() -> Casework {
            let d = CaseworkParams::default();
            Casework {
                notice_days: i64::from(d.notice_days),
                reconfirm_deadline: format!(
                    "{:02}-{:02}",
                    d.reconfirm_deadline.0, d.reconfirm_deadline.1
                ),
                complaint_answer_days: i64::from(d.complaint_answer_days),
                change_approval: BTreeMap::new(),
            }
        }
    }

    /// `change_approval`: known kinds only, each a known level; absent kinds keep the default.
    fn change_approval(table: &BTreeMap<String, String>) -> Result<ChangeApproval, PolicyError> {
        let mut a = ChangeApproval::default();
        for (kind, level) in table {
            let key = format!("casework.change_approval.{kind}");
            let slot = match kind.as_str() {
                "death" => &mut a.death,
                "later_child" => &mut a.later_child,
                "registration" => &mut a.registration,
                "disability" => &mut a.disability,
                _ => {
                    return Err(invalid(
                        key,
                        "unknown kind (known: death, later_child, registration, disability)",
                    ));
                }
            };
            *slot = ApprovalLevel::parse(level).ok_or_else(|| {
                invalid(
                    &key,
                    format!("{level:?} is not a level (village, township, county, city)"),
                )
            })?;
        }
        Ok(a)
    }

    /// `[assessment]`; each key defaults on its own, and `weights` key by key.
    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields, default)]
    struct Assessment {
        weights: BTreeMap<String, i64>,
        on_time_day: Option<i64>,
        min_public_cell: Option<i64>,
        spot_check_size: Option<i64>,
    }

    /// Assessment parameters: known indicators with weights 0–100 and some weight in all, a day
    /// 1–28 (in every month), a threshold 1–100 and a sample 1–10,000.
    fn assessment(a: Assessment) -> Result<AssessmentParams, PolicyError> {
        let mut p = AssessmentParams::default();
        for (name, weight) in &a.weights {
            let key = format!("assessment.weights.{name}");
            let slot = p
                .weights
                .iter_mut()
                .find(|(n, _)| n == name)
                .ok_or_else(|| {
                    invalid(
                        &key,
                        format!(
                            "unknown indicator (known: {})",
                            ASSESSMENT_INDICATORS.join(", ")
                        ),
                    )
                })?;
            slot.1 = u32::try_from(*weight)
                .ok()
                .filter(|w| *w <= 100)
                .ok_or_else(|| invalid(&key, format!("{weight} is outside 0..=100")))?;
        }
        if p.weights.iter().all(|(_, w)| *w == 0) {
            return Err(invalid(
                "assessment.weights",
                "every weight is 0: nothing would be scored",
            ));
        }
        let within = |key: &str, value: Option<i64>, default: i64, max: i64| {
            let v = value.unwrap_or(default);
            if (1..=max).contains(&v) {
                Ok(v)
            } else {
                Err(invalid(key, format!("{v} is outside 1..={max}")))
            }
        };
        let day = within(
            "assessment.on_time_day",
            a.on_time_day,
            i64::from(p.on_time_day),
            28,
        )?;
        p.on_time_day = i8::try_from(day).unwrap_or(28);
        p.min_public_cell = within(
            "assessment.min_public_cell",
            a.min_public_cell,
            p.min_public_cell,
            100,
        )?;
        p.spot_check_size = within(
            "assessment.spot_check_size",
            a.spot_check_size,
            p.spot_check_size,
            10_000,
        )?;
        Ok(p)
    }

    /// Casework parameters: days in 1–90 (notice) and 1–180 (complaints), the deadline a day of
    /// the year written MM-DD (29 February is refused: it is not in every year).
    fn casework(c: Casework) -> Result<CaseworkParams, PolicyError> {
        let days = |key: &str, value: i64, max: i64| {
            u16::try_from(value)
                .ok()
                .filter(|v| (1..=max).contains(&i64::from(*v)))
                .ok_or_else(|| invalid(key, format!("{value} days is outside 1..={max}")))
        };
        let deadline = {
            let text = c.reconfirm_deadline.as_str();
            let bad = || {
                invalid(
                    "casework.reconfirm_deadline",
                    format!("{text:?} is not a day of every year written MM-DD, e.g. \"03-31\""),
                )
            };
            let (m, d) = text.split_once('-').ok_or_else(bad)?;
            let (m, d): (i8, i8) = (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
            if text.len() != 5 || (m, d) == (2, 29) || Date::new(2001, m, d).is_err() {
                return Err(bad());
            }
            (m, d)
        };
        Ok(CaseworkParams {
            notice_days: days("casework.notice_days", c.notice_days, 90)?,
            reconfirm_deadline: deadline,
            complaint_answer_days: days(
                "casework.complaint_answer_days",
                c.complaint_answer_days,
                180,
            )?,
            change_approval: change_approval(&c.change_approval)?,
        })
    }

    /// 二(一): the TOML integers narrowed (out of range is refused by name), then
    /// [`VisitParams::check`].
    fn visits(v: Visits) -> Result<VisitParams, PolicyError> {
        let every = |key: &str, value: i64| {
            u8::try_from(value).map_err(|_| invalid(key, every_months_problem(value)))
        };
        let window = v.holiday_window_days;
        let params = VisitParams {
            high_need_every_months: every(
                "visits.high_need_every_months",
                v.high_need_every_months,
            )?,
            regular_every_months: every("visits.regular_every_months", v.regular_every_months)?,
            holiday_window_days: u16::try_from(window)
                .map_err(|_| invalid("visits.holiday_window_days", window_days_problem(window)))?,
        };
        params.check()?;
        Ok(params)
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Adjustment {
        weight_urban_income: String,
        weight_rural_income: String,
        weight_cpi: String,
        round_up_to_fen: i64,
    }

    fn month(key: &str, text: &str) -> Result<Month, PolicyError> {
        Month::parse(text).map_err(|e| invalid(key, e.to_string()))
    }

    fn fen(key: &str, value: i64) -> Result<Fen, PolicyError> {
        if (0..=MAX_FEN).contains(&value) {
            Ok(Fen(value))
        } else {
            Err(invalid(
                key,
                format!("{value} fen is outside 0..={MAX_FEN}"),
            ))
        }
    }

    fn age(key: &str, value: i64) -> Result<i16, PolicyError> {
        match i16::try_from(value) {
            Ok(v) if (1..=150).contains(&v) => Ok(v),
            _ => Err(invalid(key, format!("age {value} is outside 1..=150"))),
        }
    }

    fn decimal(key: &str, text: &str) -> Result<Decimal, PolicyError> {
        Decimal::parse(text).ok_or_else(|| {
            invalid(
                key,
                format!("not a decimal number with at most 9 decimals: {text:?}"),
            )
        })
    }

    fn ratio(key: &str, text: &str) -> Result<Ratio, PolicyError> {
        Ratio::parse(text).ok_or_else(|| {
            invalid(
                key,
                format!("not a ratio like \"30%\", \"1/3\" or \"0.3\": {text:?}"),
            )
        })
    }

    fn rows(table: &str, rows: Vec<Row>) -> Result<Vec<RateRow>, PolicyError> {
        let mut out: Vec<RateRow> = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let key = format!("{table}[{i}]");
            let from = month(&format!("{key}.from"), &row.from)?;
            if let Some(prev) = out.last()
                && from <= prev.from
            {
                return Err(invalid(
                    format!("{key}.from"),
                    format!(
                        "rows must be in increasing month order, but {from} is not after {}",
                        prev.from
                    ),
                ));
            }
            for (kind, by) in [("bereaved", row.bereaved), ("disabled", row.disabled)] {
                fen(&format!("{key}.{kind}.urban"), by.urban)?;
                fen(&format!("{key}.{kind}.rural"), by.rural)?;
            }
            out.push(RateRow {
                from,
                source: row.source,
                bereaved: row.bereaved,
                disabled: row.disabled,
            });
        }
        Ok(out)
    }

    /// 二(三) rows: a Linyi county, a month not before the Linyi start, a ratio in (0, 1], a
    /// positive cap; each county's rows in increasing month order.
    fn medical_relief(
        rows: Vec<MedicalRelief>,
        start: Month,
    ) -> Result<Vec<MedicalReliefRow>, PolicyError> {
        let mut out: Vec<MedicalReliefRow> = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let key = format!("medical_relief[{i}]");
            let county = CountyCode::parse(&row.county)
                .map_err(|e| invalid(format!("{key}.county"), e.to_string()))?;
            let from = month(&format!("{key}.from"), &row.from)?;
            if from < start {
                return Err(invalid(
                    format!("{key}.from"),
                    format!("{from} is before the notice's relief starts (pack.start = {start})"),
                ));
            }
            if let Some(prev) = out.iter().rev().find(|r| r.county == county)
                && from <= prev.from
            {
                return Err(invalid(
                    format!("{key}.from"),
                    format!(
                        "rows of county {county} must be in increasing month order, but {from} is not after {}",
                        prev.from
                    ),
                ));
            }
            let ratio_key = format!("{key}.ratio");
            let ratio = ratio(&ratio_key, &row.ratio)?;
            if !ratio.is_proper_share() {
                return Err(invalid(
                    ratio_key,
                    format!("a relief ratio must lie in (0, 1], not {:?}", ratio.text()),
                ));
            }
            let cap_key = format!("{key}.annual_cap_fen");
            let annual_cap = fen(&cap_key, row.annual_cap_fen)?;
            if annual_cap.get() < 1 {
                return Err(invalid(cap_key, "must be at least 1 fen"));
            }
            out.push(MedicalReliefRow {
                county,
                from,
                ratio,
                annual_cap,
            });
        }
        Ok(out)
    }

    impl Pack {
        pub fn check(self) -> Result<Policy, PolicyError> {
            let h = self.pack;
            if h.name.trim().is_empty() {
                return Err(invalid("pack.name", "must not be empty"));
            }
            let start = month("pack.start", &h.start)?;
            let programme_start = month("pack.programme_start", &h.programme_start)?;
            let e = self.eligibility;
            let eligibility = super::Eligibility {
                assistance_age: age("eligibility.assistance_age", e.assistance_age)?,
                orphan_age_limit: age("eligibility.orphan_age_limit", e.orphan_age_limit)?,
                elderly_age: age("eligibility.elderly_age", e.elderly_age)?,
                earliest_birth_date: parse_date(&e.earliest_birth_date)
                    .map_err(|err| invalid("eligibility.earliest_birth_date", err.to_string()))?,
            };
            let national_standard = rows("national_standard", self.national_standard)?;
            let provincial_standard = rows("provincial_standard", self.provincial_standard)?;
            let local_rate = rows("local_rate", self.local_rate)?;
            match national_standard.first() {
                None => return Err(invalid("national_standard", "at least one row is needed")),
                Some(first) if first.from > programme_start => {
                    return Err(invalid(
                        "pack.programme_start",
                        format!(
                            "the programme starts in {programme_start} but no national_standard row is in force before {}",
                            first.from
                        ),
                    ));
                }
                Some(_) => {}
            }
            if let Some(first) = local_rate.first()
                && first.from != start
            {
                return Err(invalid(
                    "local_rate[0].from",
                    format!(
                        "the first local rate must start in the Linyi start month pack.start = {start}, not {}",
                        first.from
                    ),
                ));
            }
            if start < programme_start {
                return Err(invalid(
                    "pack.start",
                    format!("{start} is before pack.programme_start {programme_start}"),
                ));
            }
            let o = self.one_time;
            let one_time = OneTimeAmounts {
                bereaved_grant: fen("one_time.bereaved_grant", o.bereaved_grant)?,
                orphan_grant: fen("one_time.orphan_grant", o.orphan_grant)?,
                disabled_grant: [
                    fen("one_time.disabled_grant.grade_1", o.disabled_grant.grade_1)?,
                    fen("one_time.disabled_grant.grade_2", o.disabled_grant.grade_2)?,
                    fen("one_time.disabled_grant.grade_3", o.disabled_grant.grade_3)?,
                ],
            };
            let s = self.services;
            let funeral_key = "services.funeral_reimbursement_cap_fen";
            let funeral_reimbursement_cap = s
                .funeral_reimbursement_cap_fen
                .map(|v| fen(funeral_key, v))
                .transpose()?;
            if funeral_reimbursement_cap.is_some_and(|cap| cap.get() < 1) {
                return Err(invalid(
                    funeral_key,
                    "must be at least 1 fen (leave it out to reimburse the invoice in full)",
                ));
            }
            let services = ServiceParams {
                dibao_uplift: ratio("services.dibao_uplift", &s.dibao_uplift)?,
                medical_relief: medical_relief(self.medical_relief, start)?,
                funeral_reimbursement_cap,
                orphan_visits: s.orphan_visits,
            };
            let visits = visits(self.visits)?;
            let casework = casework(self.casework)?;
            let assessment = assessment(self.assessment)?;
            let limit = self.payments.arrears_limit_months;
            let payments = PaymentParams {
                arrears_limit_months: u16::try_from(limit)
                    .ok()
                    .filter(|v| *v <= MAX_ARREARS_MONTHS)
                    .ok_or_else(|| {
                        invalid(
                            "payments.arrears_limit_months",
                            format!("{limit} months is outside 0..={MAX_ARREARS_MONTHS}"),
                        )
                    })?,
            };
            let a = self.adjustment;
            let adjustment = AdjustmentWeights {
                urban_income: decimal("adjustment.weight_urban_income", &a.weight_urban_income)?,
                rural_income: decimal("adjustment.weight_rural_income", &a.weight_rural_income)?,
                cpi: decimal("adjustment.weight_cpi", &a.weight_cpi)?,
                round_up_to: fen("adjustment.round_up_to_fen", a.round_up_to_fen)?,
            };
            if adjustment.round_up_to.get() < 1 {
                return Err(invalid(
                    "adjustment.round_up_to_fen",
                    "must be at least 1 fen",
                ));
            }
            for (key, w) in [
                ("adjustment.weight_urban_income", adjustment.urban_income),
                ("adjustment.weight_rural_income", adjustment.rural_income),
                ("adjustment.weight_cpi", adjustment.cpi),
            ] {
                if w.nanos < 0 || w.nanos > Decimal::SCALE {
                    return Err(invalid(key, format!("a weight must lie in 0..=1, not {w}")));
                }
            }
            Ok(Policy {
                name: h.name,
                title: h.title,
                start,
                programme_start,
                eligibility,
                national_standard,
                provincial_standard,
                local_rate,
                one_time,
                services,
                visits,
                casework,
                assessment,
                payments,
                adjustment,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINYI: &str = include_str!("../../../policies/linyi-2014.toml");

    fn m(s: &str) -> Month {
        Month::parse(s).expect("test month")
    }

    fn with(replace: &str, by: &str) -> Result<Policy, PolicyError> {
        assert!(
            LINYI.contains(replace),
            "fixture text {replace:?} not in the pack"
        );
        Policy::from_toml(&LINYI.replacen(replace, by, 1))
    }

    fn key_of(result: Result<Policy, PolicyError>) -> String {
        match result {
            Err(PolicyError::Invalid { key, .. }) => key,
            other => panic!("expected an Invalid error, got {other:?}"),
        }
    }

    #[test]
    fn the_embedded_linyi_pack_loads_with_the_spec_values() {
        let p = Policy::embedded("linyi-2014").expect("embedded pack");
        assert_eq!(p.start, m("2014-10"));
        assert_eq!(p.programme_start, m("2008-01"));
        assert_eq!(p.eligibility.assistance_age, 49);
        assert_eq!(p.eligibility.orphan_age_limit, 18);
        assert_eq!(p.eligibility.elderly_age, 60);
        assert_eq!(p.national_standard.len(), 4);
        assert_eq!(
            p.one_time.disabled_grant,
            [Fen(500000), Fen(400000), Fen(300000)]
        );
        assert_eq!(
            p.services.dibao_uplift.numerator * 100 / p.services.dibao_uplift.denominator,
            30
        );
        let row = p
            .row_in_force(RateTable::National, m("2016-05"))
            .expect("row");
        assert_eq!(row.bereaved.get(Hukou::Rural), Fen(17000));
        assert!(
            p.row_in_force(RateTable::Provincial, m("2016-12"))
                .is_none()
        );
        assert!(p.row_in_force(RateTable::Local, m("2014-09")).is_none());
    }

    #[test]
    fn unknown_pack_names_the_known_ones() {
        let err = Policy::embedded("linyi-2099").expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown policy pack `linyi-2099` (known: linyi-2014)"
        );
    }

    #[test]
    fn malformed_files_name_the_key() {
        assert_eq!(
            key_of(with("start = \"2014-10\"", "start = \"2014-13\"")),
            "pack.start"
        );
        assert_eq!(
            key_of(with("from = \"2012-01\"", "from = \"2007-01\"")),
            "national_standard[1].from"
        );
        assert_eq!(
            key_of(with("grade_2 = 400000", "grade_2 = -1")),
            "one_time.disabled_grant.grade_2"
        );
        assert_eq!(
            key_of(with("dibao_uplift = \"30%\"", "dibao_uplift = \"lots\"")),
            "services.dibao_uplift"
        );
        assert_eq!(
            key_of(with("weight_cpi = \"0.5\"", "weight_cpi = \"1.5\"")),
            "adjustment.weight_cpi"
        );
        assert_eq!(
            key_of(with("assistance_age = 49", "assistance_age = 0")),
            "eligibility.assistance_age"
        );
        assert_eq!(
            key_of(with(
                "earliest_birth_date = \"1933-01-01\"",
                "earliest_birth_date = \"1933-02-30\""
            )),
            "eligibility.earliest_birth_date"
        );
    }

    #[test]
    fn local_rate_must_start_with_the_linyi_start_month() {
        assert_eq!(
            key_of(with("start = \"2014-10\"", "start = \"2014-11\"")),
            "local_rate[0].from"
        );
    }

    #[test]
    fn moving_the_start_month_is_a_data_change() {
        let text = LINYI
            .replacen("start = \"2014-10\"", "start = \"2014-11\"", 1)
            .replacen("from = \"2014-10\"", "from = \"2014-11\"", 1);
        let p = Policy::from_toml(&text).expect("consistent pack");
        assert_eq!(p.start, m("2014-11"));
    }

    #[test]
    fn unknown_and_mistyped_keys_are_rejected_by_name() {
        let err = with(
            "orphan_grant = 500000",
            "orphan_grant = 500000\norphan_grnat = 1",
        )
        .expect_err("typo");
        assert!(err.to_string().contains("orphan_grnat"), "{err}");
        let err =
            with("bereaved_grant = 1000000", "bereaved_grant = \"1000000\"").expect_err("type");
        assert!(err.to_string().contains("bereaved_grant"), "{err}");
    }

    fn with_rows(rows: &str) -> Result<Policy, PolicyError> {
        Policy::from_toml(&format!("{LINYI}\n{rows}"))
    }

    fn relief_row(county: &str, from: &str, ratio: &str, cap: i64) -> String {
        format!(
            "[[medical_relief]]\ncounty = \"{county}\"\nfrom = \"{from}\"\nratio = \"{ratio}\"\nannual_cap_fen = {cap}\n"
        )
    }

    fn county(code: &str) -> CountyCode {
        CountyCode::parse(code).expect("test county")
    }

    #[test]
    fn the_embedded_pack_sets_no_county_relief_and_24_months_of_arrears() {
        let p = Policy::embedded("linyi-2014").expect("embedded pack");
        assert!(p.services.medical_relief.is_empty());
        assert_eq!(p.services.funeral_reimbursement_cap, None);
        assert_eq!(p.payments.arrears_limit_months, 24);
        assert!(p.medical_relief(county("371302"), m("2020-01")).is_none());
    }

    #[test]
    fn the_commented_medical_relief_example_loads_when_uncommented() {
        let example = [
            "# [[medical_relief]]",
            "# county = \"371302\"          # 兰山区",
            "# from = \"2014-10\"",
            "# ratio = \"50%\"              # of the personal burden after insurance; 0 < ratio <= 1",
            "# annual_cap_fen = 1000000   # per parent and calendar year",
        ]
        .join("\n");
        let uncommented = example.replace("\n# ", "\n").replacen("# ", "", 1);
        let p = with(&example, &uncommented).expect("the example is a valid row");
        let row = p
            .medical_relief(county("371302"), m("2014-10"))
            .expect("row");
        assert_eq!(row.ratio.text(), "50%");
        assert_eq!(row.ratio.apply_floor(Fen(12345)), Fen(6172));
        assert_eq!(row.annual_cap, Fen(1000000));
        let cap = with(
            "# funeral_reimbursement_cap_fen = 300000",
            "funeral_reimbursement_cap_fen = 300000",
        )
        .expect("cap");
        assert_eq!(cap.services.funeral_reimbursement_cap, Some(Fen(300000)));
    }

    #[test]
    fn the_medical_relief_row_in_force_is_the_county_s_latest_started_one() {
        let p = with_rows(
            &[
                relief_row("371302", "2015-01", "50%", 1000000),
                relief_row("371321", "2014-10", "1/3", 500000),
                relief_row("371302", "2018-07", "60%", 1500000),
            ]
            .concat(),
        )
        .expect("pack with rows");
        let lanshan = county("371302");
        assert!(p.medical_relief(lanshan, m("2014-12")).is_none());
        assert_eq!(
            p.medical_relief(lanshan, m("2015-01"))
                .map(|r| r.annual_cap),
            Some(Fen(1000000))
        );
        assert_eq!(
            p.medical_relief(lanshan, m("2018-06"))
                .map(|r| r.annual_cap),
            Some(Fen(1000000))
        );
        assert_eq!(
            p.medical_relief(lanshan, m("2018-07"))
                .map(|r| r.annual_cap),
            Some(Fen(1500000))
        );
        assert_eq!(
            p.medical_relief(county("371321"), m("2030-01"))
                .map(|r| r.ratio.text().to_owned()),
            Some("1/3".to_owned())
        );
        assert!(p.medical_relief(county("371311"), m("2030-01")).is_none());
    }

    #[test]
    fn medical_relief_rows_name_the_bad_key() {
        let one = |county: &str, from: &str, ratio: &str, cap: i64| {
            key_of(with_rows(&relief_row(county, from, ratio, cap)))
        };
        let err = with_rows(&relief_row("371302", "2014-10", "150%", 1000000)).expect_err("150%");
        assert_eq!(
            err.to_string(),
            "policy key `medical_relief[0].ratio`: a relief ratio must lie in (0, 1], not \"150%\""
        );
        assert_eq!(one("371302", "2014-10", "0%", 1), "medical_relief[0].ratio");
        assert_eq!(
            one("371302", "2014-10", "0/3", 1),
            "medical_relief[0].ratio"
        );
        assert_eq!(
            one("371302", "2014-10", "half", 1),
            "medical_relief[0].ratio"
        );
        assert_eq!(
            one("371399", "2014-10", "50%", 1),
            "medical_relief[0].county"
        );
        assert_eq!(one("3713", "2014-10", "50%", 1), "medical_relief[0].county");
        assert_eq!(one("371302", "2014-13", "50%", 1), "medical_relief[0].from");
        assert_eq!(one("371302", "2014-09", "50%", 1), "medical_relief[0].from");
        assert_eq!(
            one("371302", "2014-10", "50%", 0),
            "medical_relief[0].annual_cap_fen"
        );
        assert_eq!(
            one("371302", "2014-10", "50%", -1),
            "medical_relief[0].annual_cap_fen"
        );
        let err = with_rows(&relief_row("371399", "2014-10", "50%", 1)).expect_err("county");
        assert!(
            err.to_string()
                .contains("371399 is not a Linyi county-level code"),
            "{err}"
        );
        let unordered = [
            relief_row("371302", "2016-01", "50%", 1),
            relief_row("371321", "2015-01", "50%", 1),
            relief_row("371302", "2016-01", "60%", 1),
        ]
        .concat();
        assert_eq!(key_of(with_rows(&unordered)), "medical_relief[2].from");
        let err = with_rows(
            &relief_row("371302", "2014-10", "50%", 1).replace("annual_cap_fen", "anual_cap_fen"),
        )
        .expect_err("typo");
        assert!(err.to_string().contains("anual_cap_fen"), "{err}");
    }

    #[test]
    fn a_relief_ratio_of_one_and_the_smallest_cap_are_accepted() {
        let p = with_rows(&relief_row("371302", "2014-10", "100%", 1)).expect("100%, 1 fen");
        assert_eq!(p.services.medical_relief.len(), 1);
    }

    #[test]
    fn the_old_single_medical_relief_keys_are_rejected_by_name() {
        let err = with(
            "dibao_uplift = \"30%\"",
            "dibao_uplift = \"30%\"\nmedical_relief_ratio = \"50%\"",
        )
        .expect_err("removed key");
        assert!(err.to_string().contains("medical_relief_ratio"), "{err}");
    }

    #[test]
    fn the_funeral_cap_must_be_positive_when_set() {
        let set = |v: &str| {
            with(
                "# funeral_reimbursement_cap_fen = 300000",
                &format!("funeral_reimbursement_cap_fen = {v}"),
            )
        };
        assert_eq!(key_of(set("0")), "services.funeral_reimbursement_cap_fen");
        assert_eq!(
            key_of(set("-100")),
            "services.funeral_reimbursement_cap_fen"
        );
        assert_eq!(
            key_of(set("100000001")),
            "services.funeral_reimbursement_cap_fen"
        );
        assert_eq!(
            set("1").map(|p| p.services.funeral_reimbursement_cap),
            Ok(Some(Fen(1)))
        );
    }

    #[test]
    fn the_arrears_limit_is_checked_by_name() {
        let set = |v: &str| {
            with(
                "arrears_limit_months = 24",
                &format!("arrears_limit_months = {v}"),
            )
        };
        assert_eq!(key_of(set("-1")), "payments.arrears_limit_months");
        let err = set("241").expect_err("too far");
        assert_eq!(
            err.to_string(),
            "policy key `payments.arrears_limit_months`: 241 months is outside 0..=240"
        );
        assert_eq!(set("240").map(|p| p.payments.arrears_limit_months), Ok(240));
        assert_eq!(set("0").map(|p| p.payments.arrears_limit_months), Ok(0));
        let missing =
            LINYI
                .replacen("[payments]", "", 1)
                .replacen("arrears_limit_months = 24", "", 1);
        let err = Policy::from_toml(&missing).expect_err("missing");
        assert!(err.to_string().contains("payments"), "{err}");
    }

    /// The pack's `[visits]` table with its three keys (and comments) removed.
    fn without_visits() -> String {
        let start = LINYI.find("\n# 二(一) visits:").expect("visits comment");
        let end = LINYI
            .find("holiday_window_days = 30\n")
            .expect("last visits key")
            + "holiday_window_days = 30\n".len();
        format!("{}{}", &LINYI[..start], &LINYI[end..])
    }

    fn set_visit(key: &str, default: &str, value: &str) -> Result<Policy, PolicyError> {
        with(&format!("{key} = {default}"), &format!("{key} = {value}"))
    }

    #[test]
    fn the_embedded_pack_states_the_default_visit_frequencies() {
        let p = Policy::embedded("linyi-2014").expect("pack");
        assert_eq!(p.visits, VisitParams::default());
        assert_eq!(
            p.visits,
            VisitParams {
                high_need_every_months: 1,
                regular_every_months: 3,
                holiday_window_days: 30,
            }
        );
    }

    #[test]
    fn a_pack_without_visits_gets_the_defaults() {
        let text = without_visits();
        assert!(!text.contains("[visits]"), "the table was not removed");
        let p = Policy::from_toml(&text).expect("an older pack still loads");
        assert_eq!(p.visits, VisitParams::default());
    }

    #[test]
    fn a_visits_table_may_state_only_the_key_it_changes() {
        let text = format!("{}\n[visits]\nregular_every_months = 6\n", without_visits());
        let p = Policy::from_toml(&text).expect("partial table");
        assert_eq!(
            p.visits,
            VisitParams {
                high_need_every_months: 1,
                regular_every_months: 6,
                holiday_window_days: 30,
            }
        );
    }

    #[test]
    fn visit_frequencies_can_be_overridden() {
        let text = LINYI
            .replacen(
                "high_need_every_months = 1",
                "high_need_every_months = 2",
                1,
            )
            .replacen("regular_every_months = 3", "regular_every_months = 12", 1)
            .replacen("holiday_window_days = 30", "holiday_window_days = 90", 1);
        let p = Policy::from_toml(&text).expect("override");
        assert_eq!(
            p.visits,
            VisitParams {
                high_need_every_months: 2,
                regular_every_months: 12,
                holiday_window_days: 90,
            }
        );
        let equal = set_visit("regular_every_months", "3", "1").expect("high = regular");
        assert_eq!(equal.visits.regular_every_months, 1);
        let shortest = set_visit("holiday_window_days", "30", "1").expect("1 day");
        assert_eq!(shortest.visits.holiday_window_days, 1);
    }

    #[test]
    fn visit_frequencies_must_divide_the_year() {
        let err = set_visit("regular_every_months", "3", "5").expect_err("5");
        assert_eq!(
            err.to_string(),
            "policy key `visits.regular_every_months`: 5 months is not one of 1, 2, 3, 4, 6, 12 (a period must be a calendar block of the year)"
        );
        for bad in ["0", "-1", "24", "256"] {
            assert_eq!(
                key_of(set_visit("regular_every_months", "3", bad)),
                "visits.regular_every_months",
                "{bad}"
            );
            assert_eq!(
                key_of(set_visit("high_need_every_months", "1", bad)),
                "visits.high_need_every_months",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_high_need_may_not_be_visited_less_often_than_a_regular_one() {
        let err = set_visit("high_need_every_months", "1", "4").expect_err("4 > 3");
        assert_eq!(
            err.to_string(),
            "policy key `visits.high_need_every_months`: a family needing a dedicated visitor must be visited at least as often as any other, but 4 months is longer than visits.regular_every_months = 3"
        );
    }

    #[test]
    fn the_holiday_window_is_1_to_90_days() {
        let err = set_visit("holiday_window_days", "30", "91").expect_err("91");
        assert_eq!(
            err.to_string(),
            "policy key `visits.holiday_window_days`: 91 days is outside 1..=90"
        );
        for bad in ["0", "-5", "70000"] {
            assert_eq!(
                key_of(set_visit("holiday_window_days", "30", bad)),
                "visits.holiday_window_days",
                "{bad}"
            );
        }
    }

    #[test]
    fn unknown_visit_keys_are_rejected_by_name() {
        let err = with(
            "holiday_window_days = 30",
            "holiday_window_days = 30\nholiday_window_dyas = 30",
        )
        .expect_err("typo");
        assert!(err.to_string().contains("holiday_window_dyas"), "{err}");
    }

    #[test]
    fn hand_built_visit_params_are_checked_the_same_way() {
        assert_eq!(VisitParams::default().check(), Ok(()));
        let zero = VisitParams {
            high_need_every_months: 0,
            ..VisitParams::default()
        };
        assert_eq!(
            zero.check().map_err(|e| e.to_string()),
            Err("policy key `visits.high_need_every_months`: 0 months is not one of 1, 2, 3, 4, 6, 12 (a period must be a calendar block of the year)".to_owned())
        );
    }

    #[test]
    fn arrears_reach_back_exactly_the_limit() {
        let p = Policy::embedded("linyi-2014").expect("pack");
        let run = m("2026-12");
        let earliest = p.earliest_arrears_month(run);
        assert_eq!(earliest, m("2024-12"));
        assert_eq!(earliest.months_until(run), 24);
        assert!(m("2024-11") < earliest);
        assert_eq!(p.earliest_arrears_month(m("2026-01")), m("2024-01"));
        let none = with("arrears_limit_months = 24", "arrears_limit_months = 0").expect("0");
        assert_eq!(none.earliest_arrears_month(run), run);
        let max = with("arrears_limit_months = 24", "arrears_limit_months = 240").expect("240");
        assert_eq!(max.earliest_arrears_month(run), m("2006-12"));
        assert_eq!(p.earliest_arrears_month(m("0002-06")), m("0001-01"));
    }

    #[test]
    fn ratios_round_down_to_the_fen() {
        let third = Ratio::parse("1/3").expect("1/3");
        assert_eq!(third.apply_floor(Fen(33333)), Fen(11111));
        assert_eq!(third.apply_floor(Fen(33334)), Fen(11111));
        assert_eq!(third.apply_floor(Fen(33335)), Fen(11111));
        assert_eq!(third.apply_floor(Fen(33336)), Fen(11112));
        let half = Ratio::parse("50%").expect("50%");
        assert_eq!(half.apply_floor(Fen(1)), Fen(0));
        assert_eq!(half.apply_floor(Fen(-1)), Fen(-1));
        let whole = Ratio::parse("100%").expect("100%");
        assert_eq!(whole.apply_floor(Fen(i64::MAX)), Fen(i64::MAX));
        let odd = Ratio::parse("33.3%").expect("33.3%");
        assert_eq!(odd.apply_floor(Fen(1000)), Fen(333));
        assert_eq!(odd.apply_floor(Fen(1001)), Fen(333));
    }

    #[test]
    fn ratios_and_decimals_are_exact() {
        let third = Ratio::parse("1/3").expect("1/3");
        assert_eq!((third.numerator, third.denominator), (1, 3));
        let pct = Ratio::parse("30%").expect("30%");
        assert_eq!(pct.numerator * 10 / pct.denominator, 3);
        assert_eq!(Decimal::parse("0.081").map(|d| d.nanos), Some(81_000_000));
        assert_eq!(Decimal::parse("-0.5").map(|d| d.nanos), Some(-500_000_000));
        assert_eq!(Decimal::parse("0.0000000001"), None);
        assert_eq!(Decimal::parse("1e-3"), None);
        assert_eq!(
            Decimal::parse("0.081").map(|d| d.to_string()),
            Some("0.081".into())
        );
    }

    /// The pack with its `[casework]` keys replaced by `table`.
    fn with_casework(table: &str) -> Result<Policy, PolicyError> {
        let start = LINYI.find("[casework]").expect("casework table");
        let end = LINYI[start..]
            .find("disability = \"county\" }\n")
            .map(|i| start + i + "disability = \"county\" }\n".len())
            .expect("last casework key");
        Policy::from_toml(&format!("{}{table}{}", &LINYI[..start], &LINYI[end..]))
    }

    /// The pack with `table` added before `[payments]`.
    fn with_assessment(table: &str) -> Result<Policy, PolicyError> {
        let at = LINYI
            .find("[assessment]")
            .unwrap_or_else(|| LINYI.find("[payments]").expect("payments"));
        let end = LINYI[at..]
            .find("[payments]")
            .map(|i| at + i)
            .expect("payments after");
        Policy::from_toml(&format!("{}{table}{}", &LINYI[..at], &LINYI[end..]))
    }

    #[test]
    fn assessment_parameters_default_and_are_checked_by_name() {
        let p = Policy::from_toml(LINYI).expect("pack");
        assert_eq!(p.assessment, AssessmentParams::default());
        assert_eq!(p.assessment.weights.iter().map(|w| w.1).sum::<u32>(), 100);
        let absent = with_assessment("").expect("no table");
        assert_eq!(absent.assessment, AssessmentParams::default());
        let set = with_assessment(
            "[assessment]\non_time_day = 10\nmin_public_cell = 10\n[assessment.weights]\nspot_checks = 0\npayments_on_time = 30\n",
        )
        .expect("override");
        assert_eq!(set.assessment.on_time_day, 10);
        assert_eq!(set.assessment.min_public_cell, 10);
        assert_eq!(set.assessment.weights[0], ("payments_on_time", 30));
        assert_eq!(set.assessment.weights[8], ("spot_checks", 0));
        for (table, key) in [
            ("[assessment]\non_time_day = 31\n", "assessment.on_time_day"),
            (
                "[assessment]\nmin_public_cell = 0\n",
                "assessment.min_public_cell",
            ),
            (
                "[assessment]\nspot_check_size = 0\n",
                "assessment.spot_check_size",
            ),
            (
                "[assessment.weights]\nspeed = 5\n",
                "assessment.weights.speed",
            ),
            (
                "[assessment.weights]\nvisit_coverage = 101\n",
                "assessment.weights.visit_coverage",
            ),
            (
                "[assessment.weights]\npayments_on_time = 0\narrears_outstanding = 0\nrecoveries_outstanding = 0\nreconfirmation = 0\nvisit_coverage = 0\nholiday_visits = 0\ndata_completeness = 0\ndedicated_visitor = 0\nspot_checks = 0\n",
                "assessment.weights",
            ),
        ] {
            assert_eq!(key_of(with_assessment(table)), key, "{table}");
        }
    }

    #[test]
    fn casework_parameters_default_and_are_checked_by_name() {
        let p = Policy::from_toml(LINYI).expect("pack");
        assert_eq!(p.casework, CaseworkParams::default());
        assert_eq!(p.casework.reconfirm_deadline, (3, 31));
        let absent = with_casework("").expect("no table");
        assert_eq!(absent.casework, CaseworkParams::default());
        let set = with_casework("[casework]\nnotice_days = 5\nreconfirm_deadline = \"06-30\"\n")
            .expect("override");
        assert_eq!(
            (
                set.casework.notice_days,
                set.casework.reconfirm_deadline,
                set.casework.complaint_answer_days
            ),
            (5, (6, 30), 15)
        );
        for (table, key) in [
            ("[casework]\nnotice_days = 0\n", "casework.notice_days"),
            ("[casework]\nnotice_days = 91\n", "casework.notice_days"),
            (
                "[casework]\ncomplaint_answer_days = -1\n",
                "casework.complaint_answer_days",
            ),
            (
                "[casework]\nreconfirm_deadline = \"02-29\"\n",
                "casework.reconfirm_deadline",
            ),
            (
                "[casework]\nreconfirm_deadline = \"3-31\"\n",
                "casework.reconfirm_deadline",
            ),
            (
                "[casework]\nreconfirm_deadline = \"04-31\"\n",
                "casework.reconfirm_deadline",
            ),
        ] {
            assert_eq!(key_of(with_casework(table)), key, "{table}");
        }
    }

    #[test]
    fn changes_are_approved_by_the_township_or_county_unless_the_pack_says_otherwise() {
        let p = Policy::from_toml(LINYI).expect("pack");
        let c = &p.casework;
        assert_eq!(c.change_approval, ChangeApproval::default());
        assert_eq!(c.approval_for("death"), ApprovalLevel::Township);
        for kind in ["later_child", "registration", "disability"] {
            assert_eq!(c.approval_for(kind), ApprovalLevel::County, "{kind}");
        }
        for kind in ["phone", "note", "bank_account", "welfare"] {
            assert_eq!(c.approval_for(kind), ApprovalLevel::Village, "{kind}");
        }
        assert_eq!(
            with_casework("").expect("absent").casework.change_approval,
            ChangeApproval::default()
        );
        assert!(ApprovalLevel::Village < ApprovalLevel::Township);
        assert!(ApprovalLevel::County < ApprovalLevel::City);
    }

    #[test]
    fn a_county_may_set_each_change_level_on_its_own() {
        let set = with_casework(
            "[casework]\nchange_approval = { death = \"village\", registration = \"city\" }\n",
        )
        .expect("override");
        let c = &set.casework;
        assert_eq!(c.approval_for("death"), ApprovalLevel::Village);
        assert_eq!(c.approval_for("registration"), ApprovalLevel::City);
        // Unlisted keys keep their defaults.
        assert_eq!(c.approval_for("later_child"), ApprovalLevel::County);
        assert_eq!(c.approval_for("disability"), ApprovalLevel::County);
        assert_eq!(c.notice_days, 7);
    }

    #[test]
    fn unknown_change_kinds_and_levels_are_refused_by_name() {
        for (table, key) in [
            (
                "[casework]\nchange_approval = { death = \"province\" }\n",
                "casework.change_approval.death",
            ),
            (
                "[casework]\nchange_approval = { phone = \"county\" }\n",
                "casework.change_approval.phone",
            ),
            (
                "[casework]\nchange_approval = { later_child = \"County\" }\n",
                "casework.change_approval.later_child",
            ),
        ] {
            assert_eq!(key_of(with_casework(table)), key, "{table}");
        }
    }
}
