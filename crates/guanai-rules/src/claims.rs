//! Claims: pure decisions on a parent's claim for medical relief (二(三)) or funeral fee
//! reimbursement (二(五)), with explanations in Chinese and English. Who is entitled, and when, is
//! the engine's: a claim asks [`evaluate`] for the parent's service flags in the claim's month and
//! adds only what the claim itself brings (the hospital, the amounts, the cremation) and the
//! county's parameters from the policy pack. Both services are paid by county finance: 二(五)
//! says 所需资金由县区财政承担, and the 二(三) relief ratio and cap are each county's own.

use std::fmt::{self, Write};

use jiff::civil::Date;
use thiserror::Error;

use crate::area::CountyCode;
use crate::calendar::{Month, Ymd, counts_in, has_reached_age};
use crate::engine::{Category, ServiceKind, evaluate};
use crate::explain::Lang;
use crate::facts::{Family, Parent, Sex};
use crate::money::Fen;
use crate::policy::{Policy, Ratio};

/// The level of the hospital a parent was treated at. 二(三) relieves costs at 市、县区、乡镇（街道）
/// 三级公立医院 only: public hospitals of city, county or township level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HospitalLevel {
    /// 市级公立医院.
    City,
    /// 县（区）级公立医院.
    County,
    /// 乡镇（街道）级公立医院 / 卫生院.
    Township,
    /// 省级及以上医院: outside the three levels.
    Provincial,
    /// 民营医院: not public.
    Private,
}

impl HospitalLevel {
    /// Whether 二(三) relieves costs incurred here.
    pub fn qualifies(self) -> bool {
        matches!(
            self,
            HospitalLevel::City | HospitalLevel::County | HospitalLevel::Township
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HospitalLevel::City => "city",
            HospitalLevel::County => "county",
            HospitalLevel::Township => "township",
            HospitalLevel::Provincial => "provincial",
            HospitalLevel::Private => "private",
        }
    }

    fn zh(self) -> &'static str {
        match self {
            HospitalLevel::City => "市级公立医院",
            HospitalLevel::County => "县区级公立医院",
            HospitalLevel::Township => "乡镇（街道）级公立医院",
            HospitalLevel::Provincial => "省级及以上医院",
            HospitalLevel::Private => "民营医院",
        }
    }

    fn en(self) -> &'static str {
        match self {
            HospitalLevel::City => "a city-level public hospital",
            HospitalLevel::County => "a county-level public hospital",
            HospitalLevel::Township => "a township-level public hospital",
            HospitalLevel::Provincial => "a provincial or higher hospital",
            HospitalLevel::Private => "a private hospital",
        }
    }
}

/// A claim for medical relief (二(三)) for one treatment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MedicalClaim {
    pub treated_on: Date,
    pub hospital_level: HospitalLevel,
    /// The medical costs within the insurance scope (医保范围内的医药费用).
    pub total: Fen,
    /// What the insurance paid of `total` (按规定报销).
    pub insurance_paid: Fen,
    /// Medical relief already paid to this parent in `treated_on`'s calendar year.
    pub reimbursed_this_year: Fen,
}

/// A claim for the reimbursement of a deceased parent's basic funeral service fees (二(五)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuneralClaim {
    /// The amount of the basic funeral service fee invoice (基本殡葬服务收费发票).
    pub invoice: Fen,
    pub cremated: bool,
    /// Cremated at a funeral home of the city (本市殡仪馆).
    pub city_funeral_home: bool,
    /// This parent's funeral fees were reimbursed before (once per deceased parent).
    pub already_reimbursed: bool,
}

/// The service a claim is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClaimKind {
    /// 二(三) medical relief.
    MedicalRelief,
    /// 二(五) basic funeral service fees.
    FuneralReimbursement,
}

impl ClaimKind {
    /// The engine's service flag the claim needs.
    pub fn service(self) -> ServiceKind {
        match self {
            ClaimKind::MedicalRelief => ServiceKind::MedicalRelief,
            ClaimKind::FuneralReimbursement => ServiceKind::FuneralReimbursement,
        }
    }

    /// The notice's clause: 二(三) or 二(五).
    pub fn clause(self) -> &'static str {
        self.service().clause()
    }

    fn zh(self) -> &'static str {
        match self {
            ClaimKind::MedicalRelief => "医疗救助",
            ClaimKind::FuneralReimbursement => "基本殡葬服务费报销",
        }
    }

    fn en(self) -> &'static str {
        match self {
            ClaimKind::MedicalRelief => "medical relief",
            ClaimKind::FuneralReimbursement => "funeral fee reimbursement",
        }
    }
}

/// What the engine says about a parent in the month a claim is judged for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineView {
    /// The month evaluated: the treatment's month, or the month after a death.
    pub month: Month,
    pub sex: Sex,
    pub category: Category,
    /// Completed years for `month` under the timing rule (a birthday counts from the next month).
    pub age: i16,
    /// The pack's age for medical relief (二(三): 49 inclusive).
    pub assistance_age: i16,
    /// The parent's death, if it counts in `month`.
    pub died: Option<Date>,
    /// The parent's later child (再生育或收养), if it counts in `month`.
    pub later_child: Option<Date>,
}

/// One step of a granted claim, with the facts and parameters it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimReason {
    /// The engine gives the parent the claim's service in `view.month`.
    Entitled { kind: ClaimKind, view: EngineView },
    /// 二(三): the personal burden after insurance at a qualifying hospital.
    PersonalBurden {
        hospital: HospitalLevel,
        total: Fen,
        insurance_paid: Fen,
        burden: Fen,
    },
    /// 二(三): the county's ratio applied to the burden, rounded down to the fen.
    ReliefRatio {
        county: CountyCode,
        from: Month,
        ratio: Ratio,
        burden: Fen,
        relieved: Fen,
    },
    /// 二(三): the county's annual cap per parent; `amount = min(relieved, cap − already)`.
    AnnualCap {
        year: i16,
        annual_cap: Fen,
        reimbursed_this_year: Fen,
        relieved: Fen,
        amount: Fen,
    },
    /// 二(五): the death and the invoice after cremation at a city funeral home.
    FuneralInvoice { died: Date, invoice: Fen },
    /// 二(五): the pack's cap, if any; `amount = min(invoice, cap)`.
    FuneralCap {
        invoice: Fen,
        cap: Option<Fen>,
        amount: Fen,
    },
    /// The amount granted, paid by county finance.
    Payable { kind: ClaimKind, amount: Fen },
}

/// A granted claim. The amount is always paid by county finance (二(三), 二(五)); it may be zero
/// when the relief on a tiny burden rounds down to less than a fen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimDecision {
    pub kind: ClaimKind,
    pub amount: Fen,
    /// The steps of the decision, in order; the last is [`ClaimReason::Payable`].
    pub reasons: Vec<ClaimReason>,
}

/// Why a claim is refused; each refusal cites its clause ([`ClaimRefusal::clause`]).
/// `Display` is the English explanation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ClaimRefusal {
    /// `parent` is not an index into the family's parents.
    NoSuchParent {
        kind: ClaimKind,
        index: usize,
        parents: usize,
    },
    /// The engine does not give the parent the claim's service in that month.
    NotEntitled { kind: ClaimKind, view: EngineView },
    /// 二(三): an amount of the claim is negative.
    NegativeAmount { field: &'static str, amount: Fen },
    /// 二(三): the insurance paid more than the costs.
    InsuranceExceedsTotal { total: Fen, insurance_paid: Fen },
    /// 二(三): nothing is left to the parent after insurance.
    NoPersonalBurden { total: Fen, insurance_paid: Fen },
    /// 二(三): the treatment is dated after the parent's death.
    TreatedAfterDeath { treated_on: Date, died: Date },
    /// 二(三): not a public hospital of city, county or township level.
    HospitalNotQualifying { hospital: HospitalLevel },
    /// 二(三): the county has no ratio and cap in force for the treatment's month.
    NoCountyParameters { county: CountyCode, month: Month },
    /// 二(三): the parent's relief this calendar year has reached the county's cap.
    AnnualCapReached {
        year: i16,
        annual_cap: Fen,
        reimbursed_this_year: Fen,
    },
    /// 二(五): the invoice is not a positive amount.
    InvoiceNotPositive { invoice: Fen },
    /// 二(五): the parent has no death date.
    ParentNotDead,
    /// 二(五): the body was not cremated.
    NotCremated,
    /// 二(五): not cremated at a city funeral home (本市殡仪馆).
    NotAtCityFuneralHome,
    /// 二(五): this parent's funeral fees were reimbursed before.
    AlreadyReimbursed,
}

impl ClaimRefusal {
    /// The service the refused claim was for.
    pub fn kind(&self) -> ClaimKind {
        match self {
            ClaimRefusal::NoSuchParent { kind, .. } | ClaimRefusal::NotEntitled { kind, .. } => {
                *kind
            }
            ClaimRefusal::NegativeAmount { .. }
            | ClaimRefusal::InsuranceExceedsTotal { .. }
            | ClaimRefusal::NoPersonalBurden { .. }
            | ClaimRefusal::TreatedAfterDeath { .. }
            | ClaimRefusal::HospitalNotQualifying { .. }
            | ClaimRefusal::NoCountyParameters { .. }
            | ClaimRefusal::AnnualCapReached { .. } => ClaimKind::MedicalRelief,
            ClaimRefusal::InvoiceNotPositive { .. }
            | ClaimRefusal::ParentNotDead
            | ClaimRefusal::NotCremated
            | ClaimRefusal::NotAtCityFuneralHome
            | ClaimRefusal::AlreadyReimbursed => ClaimKind::FuneralReimbursement,
        }
    }

    /// The notice's clause: 二(三) or 二(五).
    pub fn clause(&self) -> &'static str {
        self.kind().clause()
    }

    /// The refusal as one sentence.
    pub fn render(&self, lang: Lang) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = match lang {
            Lang::Zh => refusal_zh(self, &mut out),
            Lang::En => refusal_en(self, &mut out),
        };
        out
    }
}

impl fmt::Display for ClaimRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

impl ClaimReason {
    /// The step as one sentence.
    pub fn render(&self, lang: Lang) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = match lang {
            Lang::Zh => reason_zh(self, &mut out),
            Lang::En => reason_en(self, &mut out),
        };
        out
    }
}

impl ClaimDecision {
    /// One sentence per step.
    pub fn render(&self, lang: Lang) -> Vec<String> {
        self.reasons.iter().map(|r| r.render(lang)).collect()
    }
}

/// Decides a claim for medical relief (二(三)) of `family.parents()[parent]`. The parent must hold
/// [`ServiceKind::MedicalRelief`] in the treatment's month (engine, timing rule); the relief is
/// `min(floor(burden × ratio), annual_cap − reimbursed_this_year)` with `burden = total −
/// insurance_paid` and the ratio and cap the family's county has in force that month; rounded
/// down to the fen. Checks in order: parent index, amounts, death, entitlement, hospital, burden,
/// county parameters, annual cap.
pub fn decide_medical(
    family: &Family,
    parent: usize,
    claim: &MedicalClaim,
    policy: &Policy,
) -> Result<ClaimDecision, ClaimRefusal> {
    let kind = ClaimKind::MedicalRelief;
    let person = family
        .parents()
        .get(parent)
        .ok_or(ClaimRefusal::NoSuchParent {
            kind,
            index: parent,
            parents: family.parents().len(),
        })?;
    for (field, amount) in [
        ("total", claim.total),
        ("insurance_paid", claim.insurance_paid),
        ("reimbursed_this_year", claim.reimbursed_this_year),
    ] {
        if amount < Fen::ZERO {
            return Err(ClaimRefusal::NegativeAmount { field, amount });
        }
    }
    if claim.insurance_paid > claim.total {
        return Err(ClaimRefusal::InsuranceExceedsTotal {
            total: claim.total,
            insurance_paid: claim.insurance_paid,
        });
    }
    if let Some(died) = person.death_date.filter(|d| claim.treated_on > *d) {
        return Err(ClaimRefusal::TreatedAfterDeath {
            treated_on: claim.treated_on,
            died,
        });
    }
    let month = Month::of(claim.treated_on);
    let view = entitlement(family, parent, person, kind, month, policy)?;
    if !claim.hospital_level.qualifies() {
        return Err(ClaimRefusal::HospitalNotQualifying {
            hospital: claim.hospital_level,
        });
    }
    let burden = claim.total - claim.insurance_paid;
    if burden <= Fen::ZERO {
        return Err(ClaimRefusal::NoPersonalBurden {
            total: claim.total,
            insurance_paid: claim.insurance_paid,
        });
    }
    let county = family.county();
    let row = policy
        .medical_relief(county, month)
        .ok_or(ClaimRefusal::NoCountyParameters { county, month })?;
    let year = claim.treated_on.year();
    let remaining = row.annual_cap - claim.reimbursed_this_year;
    if remaining <= Fen::ZERO {
        return Err(ClaimRefusal::AnnualCapReached {
            year,
            annual_cap: row.annual_cap,
            reimbursed_this_year: claim.reimbursed_this_year,
        });
    }
    let relieved = row.ratio.apply_floor(burden);
    let amount = relieved.min(remaining);
    Ok(ClaimDecision {
        kind,
        amount,
        reasons: vec![
            ClaimReason::Entitled { kind, view },
            ClaimReason::PersonalBurden {
                hospital: claim.hospital_level,
                total: claim.total,
                insurance_paid: claim.insurance_paid,
                burden,
            },
            ClaimReason::ReliefRatio {
                county,
                from: row.from,
                ratio: row.ratio.clone(),
                burden,
                relieved,
            },
            ClaimReason::AnnualCap {
                year,
                annual_cap: row.annual_cap,
                reimbursed_this_year: claim.reimbursed_this_year,
                relieved,
                amount,
            },
            ClaimReason::Payable { kind, amount },
        ],
    })
}

/// Decides a claim for the basic funeral service fees (二(五)) of `family.parents()[parent]`.
/// The parent must have died and hold [`ServiceKind::FuneralReimbursement`] in the month after
/// the death (engine, timing rule); the body must have been cremated at a city funeral home and
/// the fees not reimbursed before. The amount is the invoice, limited by
/// `services.funeral_reimbursement_cap` when the pack sets one. Checks in order: parent index,
/// invoice, death, entitlement, cremation, funeral home, earlier reimbursement.
pub fn decide_funeral(
    family: &Family,
    parent: usize,
    claim: &FuneralClaim,
    policy: &Policy,
) -> Result<ClaimDecision, ClaimRefusal> {
    let kind = ClaimKind::FuneralReimbursement;
    let person = family
        .parents()
        .get(parent)
        .ok_or(ClaimRefusal::NoSuchParent {
            kind,
            index: parent,
            parents: family.parents().len(),
        })?;
    if claim.invoice <= Fen::ZERO {
        return Err(ClaimRefusal::InvoiceNotPositive {
            invoice: claim.invoice,
        });
    }
    let died = person.death_date.ok_or(ClaimRefusal::ParentNotDead)?;
    let view = entitlement(
        family,
        parent,
        person,
        kind,
        Month::effective_from(died),
        policy,
    )?;
    if !claim.cremated {
        return Err(ClaimRefusal::NotCremated);
    }
    if !claim.city_funeral_home {
        return Err(ClaimRefusal::NotAtCityFuneralHome);
    }
    if claim.already_reimbursed {
        return Err(ClaimRefusal::AlreadyReimbursed);
    }
    let cap = policy.services.funeral_reimbursement_cap;
    let amount = cap.map_or(claim.invoice, |cap| claim.invoice.min(cap));
    Ok(ClaimDecision {
        kind,
        amount,
        reasons: vec![
            ClaimReason::Entitled { kind, view },
            ClaimReason::FuneralInvoice {
                died,
                invoice: claim.invoice,
            },
            ClaimReason::FuneralCap {
                invoice: claim.invoice,
                cap,
                amount,
            },
            ClaimReason::Payable { kind, amount },
        ],
    })
}

/// Asks the engine whether `parent` (at `index` in the family) holds `kind`'s service in
/// `month`, and says what it saw.
fn entitlement(
    family: &Family,
    index: usize,
    parent: &Parent,
    kind: ClaimKind,
    month: Month,
    policy: &Policy,
) -> Result<EngineView, ClaimRefusal> {
    let eval = evaluate(family, month, policy);
    let entitled = eval
        .parent_services
        .get(index)
        .is_some_and(|set| set.contains(kind.service()));
    let in_force = |date: Option<Date>| date.filter(|d| counts_in(*d, month));
    let reached = (1..=150)
        .take_while(|&years| has_reached_age(parent.birth_date, years, month))
        .count();
    let view = EngineView {
        month,
        sex: parent.sex,
        category: eval.category,
        age: i16::try_from(reached).unwrap_or(i16::MAX),
        assistance_age: policy.eligibility.assistance_age,
        died: in_force(parent.death_date),
        later_child: in_force(parent.later_child_date),
    };
    if entitled {
        Ok(view)
    } else {
        Err(ClaimRefusal::NotEntitled { kind, view })
    }
}

fn role_zh(sex: Sex) -> &'static str {
    match sex {
        Sex::Female => "母亲",
        Sex::Male => "父亲",
    }
}

fn role_en(sex: Sex) -> &'static str {
    match sex {
        Sex::Female => "the mother",
        Sex::Male => "the father",
    }
}

fn category_zh(category: Category) -> &'static str {
    match category {
        Category::Bereaved => "失独家庭",
        Category::Orphan => "计划生育孤儿家庭",
        Category::Disabled => "伤残家庭",
        Category::None => "非特殊困难家庭",
    }
}

fn category_en(category: Category) -> &'static str {
    match category {
        Category::Bereaved => "bereaved family",
        Category::Orphan => "orphan family",
        Category::Disabled => "disabled-child family",
        Category::None => "not a special-difficulty family",
    }
}

/// `（引擎判定：失独家庭，本人按月计 55 周岁，已于 … 去世）`
fn view_zh(v: &EngineView, out: &mut String) -> fmt::Result {
    write!(
        out,
        "（引擎判定：{}，本人按月计{}周岁",
        category_zh(v.category),
        v.age
    )?;
    if let Some(d) = v.died {
        write!(out, "，已于{}去世", Ymd(d))?;
    }
    if let Some(d) = v.later_child {
        write!(out, "，已于{}再生育或收养子女", Ymd(d))?;
    }
    out.push('）');
    Ok(())
}

fn view_en(v: &EngineView, out: &mut String) -> fmt::Result {
    write!(
        out,
        " (engine: {}, aged {} for the month",
        category_en(v.category),
        v.age
    )?;
    if let Some(d) = v.died {
        write!(out, ", died on {}", Ymd(d))?;
    }
    if let Some(d) = v.later_child {
        write!(out, ", had or adopted another child on {}", Ymd(d))?;
    }
    out.push(')');
    Ok(())
}

fn reason_zh(r: &ClaimReason, out: &mut String) -> fmt::Result {
    match r {
        ClaimReason::Entitled { kind, view } => {
            write!(
                out,
                "[{}] {}于{}享有{}",
                kind.clause(),
                role_zh(view.sex),
                view.month,
                kind.zh()
            )?;
            view_zh(view, out)
        }
        ClaimReason::PersonalBurden {
            hospital,
            total,
            insurance_paid,
            burden,
        } => write!(
            out,
            "[二(三)] {}医保范围内医药费用{total}元，医保报销{insurance_paid}元，个人负担{burden}元",
            hospital.zh()
        ),
        ClaimReason::ReliefRatio {
            county,
            from,
            ratio,
            burden,
            relieved,
        } => write!(
            out,
            "[二(三)] 医疗救助：个人负担{burden}元 × {} = {relieved}元（不足一分舍去；{}（{county}）比例，{from}起）",
            ratio.text(),
            county.name()
        ),
        ClaimReason::AnnualCap {
            year,
            annual_cap,
            reimbursed_this_year,
            relieved,
            amount,
        } => {
            write!(
                out,
                "[二(三)] {year}年度已救助{reimbursed_this_year}元，年度上限{annual_cap}元，尚余{}元；本次救助{amount}元",
                *annual_cap - *reimbursed_this_year
            )?;
            if amount < relieved {
                out.push_str("（受年度上限限制）");
            }
            Ok(())
        }
        ClaimReason::FuneralInvoice { died, invoice } => write!(
            out,
            "[二(五)] 于{}去世，在本市殡仪馆火化，基本殡葬服务收费发票{invoice}元",
            Ymd(*died)
        ),
        ClaimReason::FuneralCap {
            invoice,
            cap,
            amount,
        } => match cap {
            None => write!(out, "[二(五)] 未设报销上限，按发票全额报销{amount}元"),
            Some(cap) if amount < invoice => write!(
                out,
                "[二(五)] 发票{invoice}元超过报销上限{cap}元，报销{amount}元"
            ),
            Some(cap) => write!(
                out,
                "[二(五)] 发票{invoice}元未超过报销上限{cap}元，全额报销{amount}元"
            ),
        },
        ClaimReason::Payable { kind, amount } => write!(
            out,
            "[{}] 核定{}{amount}元，由县级财政承担",
            kind.clause(),
            kind.zh()
        ),
    }
}

fn reason_en(r: &ClaimReason, out: &mut String) -> fmt::Result {
    match r {
        ClaimReason::Entitled { kind, view } => {
            write!(
                out,
                "[{}] {} is entitled to {} in {}",
                kind.clause(),
                role_en(view.sex),
                kind.en(),
                view.month
            )?;
            view_en(view, out)
        }
        ClaimReason::PersonalBurden {
            hospital,
            total,
            insurance_paid,
            burden,
        } => write!(
            out,
            "[二(三)] at {}: costs within insurance scope {total} yuan, insurance paid {insurance_paid} yuan, personal burden {burden} yuan",
            hospital.en()
        ),
        ClaimReason::ReliefRatio {
            county,
            from,
            ratio,
            burden,
            relieved,
        } => write!(
            out,
            "[二(三)] medical relief: personal burden {burden} yuan × {} = {relieved} yuan (rounded down to the fen; ratio of {} ({county}) from {from})",
            ratio.text(),
            county.name()
        ),
        ClaimReason::AnnualCap {
            year,
            annual_cap,
            reimbursed_this_year,
            relieved,
            amount,
        } => {
            write!(
                out,
                "[二(三)] relieved in {year} so far {reimbursed_this_year} yuan of the annual cap {annual_cap} yuan ({} yuan left); this claim {amount} yuan",
                *annual_cap - *reimbursed_this_year
            )?;
            if amount < relieved {
                out.push_str(" (limited by the annual cap)");
            }
            Ok(())
        }
        ClaimReason::FuneralInvoice { died, invoice } => write!(
            out,
            "[二(五)] died on {}, cremated at a Linyi city funeral home; basic funeral service invoice {invoice} yuan",
            Ymd(*died)
        ),
        ClaimReason::FuneralCap {
            invoice,
            cap,
            amount,
        } => match cap {
            None => write!(
                out,
                "[二(五)] no cap is set: the invoice is reimbursed in full, {amount} yuan"
            ),
            Some(cap) if amount < invoice => write!(
                out,
                "[二(五)] the invoice of {invoice} yuan exceeds the cap of {cap} yuan: {amount} yuan reimbursed"
            ),
            Some(cap) => write!(
                out,
                "[二(五)] the invoice of {invoice} yuan is within the cap of {cap} yuan: reimbursed in full, {amount} yuan"
            ),
        },
        ClaimReason::Payable { kind, amount } => write!(
            out,
            "[{}] {} granted: {amount} yuan, paid by county finance",
            kind.clause(),
            kind.en()
        ),
    }
}

fn refusal_zh(r: &ClaimRefusal, out: &mut String) -> fmt::Result {
    let kind = r.kind();
    write!(out, "[{}] 不予{}：", kind.clause(), kind.zh())?;
    match r {
        ClaimRefusal::NoSuchParent { index, parents, .. } => {
            write!(out, "家庭只列有{parents}位父母，没有序号为{index}的父母")
        }
        ClaimRefusal::NotEntitled { kind, view } => {
            write!(
                out,
                "{}于{}不享有{}",
                role_zh(view.sex),
                view.month,
                kind.zh()
            )?;
            view_zh(view, out)?;
            match kind {
                ClaimKind::MedicalRelief => write!(
                    out,
                    "；须失独或伤残家庭、本人年满{}周岁（含，次月起计）、健在且未再生育或收养子女",
                    view.assistance_age
                ),
                ClaimKind::FuneralReimbursement => write!(
                    out,
                    "；须失独家庭父母去世：独生子女先于本人死亡，且本人去世前未再生育或收养子女"
                ),
            }
        }
        ClaimRefusal::NegativeAmount { field, amount } => {
            write!(out, "申报金额{field}为负数（{amount}元）")
        }
        ClaimRefusal::InsuranceExceedsTotal {
            total,
            insurance_paid,
        } => write!(out, "医保报销{insurance_paid}元超过医药费用{total}元"),
        ClaimRefusal::NoPersonalBurden {
            total,
            insurance_paid,
        } => write!(
            out,
            "医药费用{total}元经医保报销{insurance_paid}元后无个人负担"
        ),
        ClaimRefusal::TreatedAfterDeath { treated_on, died } => write!(
            out,
            "就医日期{}在本人去世日期{}之后",
            Ymd(*treated_on),
            Ymd(*died)
        ),
        ClaimRefusal::HospitalNotQualifying { hospital } => write!(
            out,
            "{}不属市、县区、乡镇（街道）三级公立医院",
            hospital.zh()
        ),
        ClaimRefusal::NoCountyParameters { county, month } => write!(
            out,
            "{}（{county}）未设定{month}适用的医疗救助比例和年度上限",
            county.name()
        ),
        ClaimRefusal::AnnualCapReached {
            year,
            annual_cap,
            reimbursed_this_year,
        } => write!(
            out,
            "{year}年度已救助{reimbursed_this_year}元，已达年度上限{annual_cap}元"
        ),
        ClaimRefusal::InvoiceNotPositive { invoice } => {
            write!(out, "基本殡葬服务收费发票金额{invoice}元不为正数")
        }
        ClaimRefusal::ParentNotDead => write!(out, "该父母未登记死亡日期"),
        ClaimRefusal::NotCremated => write!(out, "未火化（须在本市殡仪馆火化）"),
        ClaimRefusal::NotAtCityFuneralHome => write!(out, "未在本市殡仪馆火化"),
        ClaimRefusal::AlreadyReimbursed => {
            write!(out, "该父母的基本殡葬服务费已报销（每位去世父母限一次）")
        }
    }
}

fn refusal_en(r: &ClaimRefusal, out: &mut String) -> fmt::Result {
    let kind = r.kind();
    write!(out, "[{}] no {}: ", kind.clause(), kind.en())?;
    match r {
        ClaimRefusal::NoSuchParent { index, parents, .. } => write!(
            out,
            "the family lists {parents} parent(s), none at index {index}"
        ),
        ClaimRefusal::NotEntitled { kind, view } => {
            write!(
                out,
                "{} is not entitled to {} in {}",
                role_en(view.sex),
                kind.en(),
                view.month
            )?;
            view_en(view, out)?;
            match kind {
                ClaimKind::MedicalRelief => write!(
                    out,
                    "; it needs a bereaved or disabled-child family and a parent who has reached {} (inclusive, from the month after the birthday), alive and without a later child",
                    view.assistance_age
                ),
                ClaimKind::FuneralReimbursement => write!(
                    out,
                    "; it needs a parent of a bereaved family: the only child died first, and the parent had no later child before dying"
                ),
            }
        }
        ClaimRefusal::NegativeAmount { field, amount } => {
            write!(out, "the claimed {field} is negative ({amount} yuan)")
        }
        ClaimRefusal::InsuranceExceedsTotal {
            total,
            insurance_paid,
        } => write!(
            out,
            "the insurance paid {insurance_paid} yuan, more than the costs of {total} yuan"
        ),
        ClaimRefusal::NoPersonalBurden {
            total,
            insurance_paid,
        } => write!(
            out,
            "no personal burden is left of {total} yuan after the insurance paid {insurance_paid} yuan"
        ),
        ClaimRefusal::TreatedAfterDeath { treated_on, died } => write!(
            out,
            "the treatment on {} is after the parent's death on {}",
            Ymd(*treated_on),
            Ymd(*died)
        ),
        ClaimRefusal::HospitalNotQualifying { hospital } => write!(
            out,
            "{} is not a public hospital of city, county or township level",
            hospital.en()
        ),
        ClaimRefusal::NoCountyParameters { county, month } => write!(
            out,
            "{} ({county}) has set no relief ratio and annual cap for {month}",
            county.name()
        ),
        ClaimRefusal::AnnualCapReached {
            year,
            annual_cap,
            reimbursed_this_year,
        } => write!(
            out,
            "{reimbursed_this_year} yuan relieved in {year} has reached the annual cap of {annual_cap} yuan"
        ),
        ClaimRefusal::InvoiceNotPositive { invoice } => write!(
            out,
            "the basic funeral service invoice of {invoice} yuan is not a positive amount"
        ),
        ClaimRefusal::ParentNotDead => write!(out, "the parent has no death date"),
        ClaimRefusal::NotCremated => write!(
            out,
            "the body was not cremated (required, at a Linyi city funeral home)"
        ),
        ClaimRefusal::NotAtCityFuneralHome => {
            write!(out, "the cremation was not at a Linyi city funeral home")
        }
        ClaimRefusal::AlreadyReimbursed => write!(
            out,
            "this parent's funeral fees were reimbursed before (once per deceased parent)"
        ),
    }
}
