//! Policy packs: every parameter of the rules as data with start months (rates, grant amounts,
//! ages, cut-off dates, service parameters, adjustment weights), loaded from TOML and checked for
//! consistency. Formulas live in [`crate::engine`]; nothing here computes an entitlement.

use std::fmt;

use jiff::civil::Date;
use serde::Deserialize;
use thiserror::Error;

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

/// Parameters of the service entitlements (spec §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceParams {
    pub dibao_uplift: Ratio,
    pub medical_relief_ratio: Option<Ratio>,
    pub medical_relief_annual_cap: Option<Fen>,
    pub orphan_visits: bool,
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
}

/// The TOML shape, before checking.
mod raw {
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
        medical_relief_ratio: Option<String>,
        medical_relief_annual_cap_fen: Option<i64>,
        #[serde(default = "yes")]
        orphan_visits: bool,
    }

    fn yes() -> bool {
        true
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
            let services = ServiceParams {
                dibao_uplift: ratio("services.dibao_uplift", &s.dibao_uplift)?,
                medical_relief_ratio: s
                    .medical_relief_ratio
                    .map(|r| ratio("services.medical_relief_ratio", &r))
                    .transpose()?,
                medical_relief_annual_cap: s
                    .medical_relief_annual_cap_fen
                    .map(|v| fen("services.medical_relief_annual_cap_fen", v))
                    .transpose()?,
                orphan_visits: s.orphan_visits,
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
}
